"""`spin_until_shutdown`: a SIGINT is a clean stop (exit 0) even when it lands inside a pybind11 call and surfaces
as that call's RuntimeError (seen in CI: a subscription's take_message, "Unable to convert call argument '0'");
the same RuntimeError without a SIGINT is a real failure and propagates. `request_on_executor`: an action client's
requests go out from the executor's thread, and are answered."""
from __future__ import annotations

import contextlib
import os
import signal
import threading
from functools import partial

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


@contextlib.contextmanager
def _action_probe(name: str, prepare=None):
    """A real FollowJointTrajectory server (it succeeds at once) and client on one DDS participant, spun by an
    executor in its own thread; ``prepare(client)`` runs before it spins. Yields (executor, client, spinner)."""
    import rclpy
    from rclpy.action import ActionClient, ActionServer
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node

    try:
        from control_msgs.action import FollowJointTrajectory
    except ImportError as error:  # a failure, not a skip: `make test` builds and sources the interfaces
        raise ImportError(f"{error}: source build/ros_interfaces/install/setup.bash (`make test` does)") from None

    context = rclpy.Context()
    rclpy.init(context=context)
    node = Node(name, context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)

    def execute(goal_handle):
        goal_handle.succeed()
        return FollowJointTrajectory.Result()

    server = ActionServer(node, FollowJointTrajectory, name + "_trajectory", execute)
    client = ActionClient(node, FollowJointTrajectory, name + "_trajectory")
    if prepare is not None:
        prepare(client)
    spinner = threading.Thread(target=executor.spin, daemon=True)
    spinner.start()
    try:
        assert client.wait_for_server(timeout_sec=30.0)
        yield executor, client, spinner
    finally:
        executor.shutdown()
        spinner.join(timeout=5)
        server.destroy()
        client.destroy()
        node.destroy_node()
        context.try_shutdown()


def _answer(future, timeout: float = 30.0):
    """The result of an rclpy future that the executor's thread completes."""
    answered = threading.Event()
    future.add_done_callback(lambda _: answered.set())
    assert answered.wait(timeout), "no answer"
    return future.result()


def test_action_requests_are_sent_from_the_executors_thread_and_answered():
    """`request_on_executor` hands an action client's request to the executor's own thread (rclpy's ActionClient
    registers a request's sequence number after sending it, so from another thread the server's answer could be
    taken first and dropped, and the request would never be answered). Twenty goals and their results, asked for
    from this thread of a real action server on a real DDS participant: each sent by the executor's thread and
    answered."""
    from action_msgs.msg import GoalStatus
    from control_msgs.action import FollowJointTrajectory

    from motiongpt_node.spinning import request_on_executor

    senders = []

    def record_senders(client):
        send = client.send_goal_async

        def recorded(*args, **kwargs):
            senders.append(threading.get_ident())
            return send(*args, **kwargs)

        client.send_goal_async = recorded

    with _action_probe("action_request_probe", record_senders) as (executor, client, spinner):
        for _ in range(20):
            handle = _answer(request_on_executor(executor, partial(client.send_goal_async,
                                                                   FollowJointTrajectory.Goal())))
            assert handle.accepted
            assert _answer(request_on_executor(executor, handle.get_result_async)).status == GoalStatus.STATUS_SUCCEEDED
        assert senders == [spinner.ident] * 20


class _AnswerFirst:
    """An rclpy ActionClient's handle whose goal requests wait, after going out, until the executor has taken the
    server's answer (at most a second): the interleaving in which rclpy drops the answer, made certain."""

    def __init__(self, handle):
        self._handle = handle
        self.taken = threading.Event()

    def __getattr__(self, name):
        return getattr(self._handle, name)

    def __enter__(self):
        return self._handle.__enter__()

    def __exit__(self, *exc):
        return self._handle.__exit__(*exc)

    def send_goal_request(self, request):
        self.taken.clear()
        sequence_number = self._handle.send_goal_request(request)
        self.taken.wait(1.0)  # from the executor's own thread nothing can be taken meanwhile: the second passes
        return sequence_number

    def take_goal_response(self, *args):
        answer = self._handle.take_goal_response(*args)
        self.taken.set()
        return answer


def test_an_answer_taken_before_its_request_is_registered_is_lost_unless_sent_from_the_executor():
    """The race `request_on_executor` closes, made certain: the executor takes the server's answer between the
    goal request going out and rclpy registering its sequence number. Sent from this thread, rclpy drops the answer
    ("Ignoring unexpected goal response") and the goal is never answered; sent from the executor's thread, the
    answer waits for the registration and the goal is accepted."""
    from control_msgs.action import FollowJointTrajectory

    from motiongpt_node.spinning import request_on_executor

    def answer_first(client):
        client._client_handle = _AnswerFirst(client._client_handle)

    with _action_probe("answer_first_probe", answer_first) as (executor, client, _):
        lost = threading.Event()
        client.send_goal_async(FollowJointTrajectory.Goal()).add_done_callback(lambda _: lost.set())
        assert client._client_handle.taken.wait(30.0)  # the executor took the answer before the registration ...
        assert not lost.wait(2.0)  # ... and dropped it: no answer will come
        future = request_on_executor(executor, partial(client.send_goal_async, FollowJointTrajectory.Goal()))
        assert _answer(future).accepted
