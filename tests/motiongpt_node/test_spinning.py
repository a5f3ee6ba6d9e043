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


def test_action_requests_are_sent_from_the_executors_thread_and_answered():
    """`request_on_executor` hands an action client's request to the executor's own thread (rclpy's ActionClient
    registers a request's sequence number after sending it, so from another thread the server's answer could be
    taken first and dropped, and the request would never be answered). Twenty goals and their results, asked for
    from this thread of a real action server on a real DDS participant: each sent by the executor's thread and
    answered."""
    import threading
    from functools import partial

    import rclpy
    from action_msgs.msg import GoalStatus
    from rclpy.action import ActionClient, ActionServer
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node

    from motiongpt_node.spinning import request_on_executor

    try:
        from control_msgs.action import FollowJointTrajectory
    except ImportError as error:  # a failure, not a skip: `make test` builds and sources the interfaces
        raise ImportError(f"{error}: source build/ros_interfaces/install/setup.bash (`make test` does)") from None

    context = rclpy.Context()
    rclpy.init(context=context)
    node = Node("action_request_probe", context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)

    def execute(goal_handle):
        goal_handle.succeed()
        return FollowJointTrajectory.Result()

    server = ActionServer(node, FollowJointTrajectory, "probe_trajectory", execute)
    client = ActionClient(node, FollowJointTrajectory, "probe_trajectory")
    senders = []
    send = client.send_goal_async

    def recorded(*args, **kwargs):
        senders.append(threading.get_ident())
        return send(*args, **kwargs)

    client.send_goal_async = recorded

    def answer(future):
        answered = threading.Event()
        future.add_done_callback(lambda _: answered.set())
        assert answered.wait(30.0), "no answer"
        return future.result()

    spinner = threading.Thread(target=executor.spin, daemon=True)
    spinner.start()
    try:
        assert client.wait_for_server(timeout_sec=30.0)
        for _ in range(20):
            handle = answer(request_on_executor(executor, partial(client.send_goal_async,
                                                                  FollowJointTrajectory.Goal())))
            assert handle.accepted
            assert answer(request_on_executor(executor, handle.get_result_async)).status == GoalStatus.STATUS_SUCCEEDED
        assert senders == [spinner.ident] * 20
    finally:
        executor.shutdown()
        server.destroy()
        client.destroy()
        node.destroy_node()
        context.try_shutdown()
        spinner.join(timeout=5)
