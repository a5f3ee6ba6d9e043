"""`unknown_margin` on a real DDS wire: the node's margin replaces the model's, so a request it would refuse as
nearer to something the model cannot do is executed when the margin allows it.

The same node, model and meaning index (conftest.py's `model_with_meanings`) as test_node_policy_wire.py (whose index reads "look to the left" as
unknown at the model's margin, 0), started with `unknown_margin: 0.5`. Run inside `bash scripts/run_isolated.sh`.
"""
from __future__ import annotations

import numpy as np
import pytest

from tests.motiongpt_node import dds_types as t
from tests.motiongpt_node.test_node_policy_wire import TIMEOUT
from tests.motiongpt_node.trajectory_checks import assert_valid_trajectory
from tests.motiongpt_node.wire import CommandWire, serve


@pytest.fixture(scope="module")
def loose_wire(model_with_meanings, g1_limits):
    start = np.clip(np.zeros(len(g1_limits.joint_names)), g1_limits.lower, g1_limits.upper)
    yield from serve(CommandWire(model_with_meanings, timeout=TIMEOUT, start=start, unknown_margin=0.5))


def test_a_looser_unknown_margin_lets_a_near_miss_through(loose_wire):
    c = loose_wire.client
    mark, statuses = c.mark(loose_wire.trajectory), c.mark(loose_wire.status)
    loose_wire.command.write(t.String(data="look to the left"))
    message = c.wait_for(loose_wire.trajectory, lambda m: True, TIMEOUT, mark)
    loose_wire.status_after(statuses, "published command 'look to the left'")
    assert_valid_trajectory(message, loose_wire.start, loose_wire.limits, 5.0, 9.42)
    assert "meaning walk" in loose_wire.node.log()
    assert "not something the model knows" not in loose_wire.node.log()
