"""`spin_until_shutdown`: a SIGINT is a clean stop (exit 0) even when it lands inside a pybind11 call and surfaces
as that call's RuntimeError (seen in CI: a subscription's take_message, "Unable to convert call argument '0'");
the same RuntimeError without a SIGINT is a real failure and propagates."""
from __future__ import annotations

import os
import signal

import pytest

pytest.importorskip("rclpy")


def _node_raising_from_a_timer(interrupt_first: bool):
    from rclpy.node import Node

    def make():
        node = Node("spinning_probe")

        def tick():
            if interrupt_first:
                try:
                    os.kill(os.getpid(), signal.SIGINT)  # the handler runs here and raises KeyboardInterrupt ...
                except KeyboardInterrupt:  # ... which a pybind11 call reports as its own RuntimeError
                    pass
            raise RuntimeError("Unable to convert call argument '0' to Python object")

        node.create_timer(0.05, tick)
        return node

    return make


def test_a_sigint_inside_a_native_call_is_a_clean_stop():
    from motiongpt_node.spinning import spin_until_shutdown

    node, code = spin_until_shutdown(_node_raising_from_a_timer(True), "probe", (ValueError,), ["probe"])
    assert code == 0 and node is not None


def test_the_same_error_without_a_sigint_propagates():
    from motiongpt_node.spinning import spin_until_shutdown

    with pytest.raises(RuntimeError, match="Unable to convert"):
        spin_until_shutdown(_node_raising_from_a_timer(False), "probe", (ValueError,), ["probe"])
