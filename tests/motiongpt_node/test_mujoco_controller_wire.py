"""The MuJoCo joint trajectory controller on a real DDS wire: FollowJointTrajectory goals from an rclpy client.

The controller runs as a subprocess (`python -m motiongpt_node.mujoco_controller`), the client in this
process on its own rclpy Context. control_msgs is not on PyPI: build the test-only subset with
scripts/build_interfaces.sh and source build/ros_interfaces/install/setup.bash, else the module is skipped.
Run inside scripts/run_isolated.sh.
"""
from __future__ import annotations

import subprocess
import sys
import time
from typing import Any, Callable

import pytest

pytest.importorskip("control_msgs")

import rclpy  # noqa: E402
from action_msgs.msg import GoalStatus  # noqa: E402
from control_msgs.action import FollowJointTrajectory  # noqa: E402
from control_msgs.msg import JointTolerance  # noqa: E402
from rclpy.action import ActionClient  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from sensor_msgs.msg import JointState  # noqa: E402
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint  # noqa: E402

from motiongpt_node.ros_messages import duration_msg  # noqa: E402
from tests.motiongpt_node.wire import REPO, isolate_environment, stop_process, temp_workdir  # noqa: E402

JOINTS = ["left_elbow_joint", "right_shoulder_pitch_joint"]
TIMEOUT = 60.0
Result = FollowJointTrajectory.Result


class ControllerWire:
    """The controller subprocess, and a client node with the action client and the joint states it received."""

    def __init__(self) -> None:
        isolate_environment()
        workdir = temp_workdir()
        self.log_file = workdir / "controller.log"
        self._log = open(self.log_file, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "motiongpt_node.mujoco_controller", "--ros-args", "-p", "robot:=g1",
             "-p", "default_goal_tolerance:=0.05", "-p", "default_goal_time_tolerance:=0.5"],
            stdout=self._log, stderr=subprocess.STDOUT, cwd=REPO)
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node("mujoco_controller_wire_client", context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.client = ActionClient(self.node, FollowJointTrajectory, "follow_joint_trajectory")
        self.states: list[tuple[float, dict[str, float]]] = []  # (receipt time.monotonic(), name -> position)
        self.node.create_subscription(JointState, "joint_states", self._on_state, 10)
        assert self.client.wait_for_server(timeout_sec=TIMEOUT), f"no action server:\n{self.log()}"
        self.spin_until(lambda: self.states, "a joint state")

    def _on_state(self, message: JointState) -> None:
        self.states.append((time.monotonic(), dict(zip(message.name, message.position))))

    def log(self) -> str:
        self._log.flush()
        return self.log_file.read_text(errors="replace")[-3000:]

    def spin_until(self, condition: Callable[[], Any], what: str, timeout: float = TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} within {timeout} s; controller log:\n{self.log()}")
            self.executor.spin_once(timeout_sec=0.05)

    def wait(self, future: Any, what: str) -> Any:
        self.spin_until(future.done, what)
        return future.result()

    def position(self) -> dict[str, float]:
        return self.states[-1][1]

    def send(self, goal: Any) -> tuple[Any, list[Any]]:
        """(goal handle, the feedback list it fills)."""
        feedback: list[Any] = []
        future = self.client.send_goal_async(goal, feedback_callback=lambda message: feedback.append(message.feedback))
        return self.wait(future, "goal response"), feedback

    def close(self) -> int:
        self.client.destroy()
        self.node.destroy_node()
        self.executor.shutdown()
        rclpy.try_shutdown(context=self.context)
        code = stop_process(self.process)
        self._log.close()
        return code


@pytest.fixture(scope="module")
def wire():
    harness = ControllerWire()
    yield harness
    code = harness.close()
    assert code == 0, f"controller exited with {code}:\n{harness.log_file.read_text()[-3000:]}"


def ramp_goal(start: dict[str, float], change: float, duration: float = 2.0, joints: list[str] = JOINTS,
              points: int = 20) -> FollowJointTrajectory.Goal:
    """A goal moving ``joints`` linearly by ``change`` rad from ``start`` in ``duration`` s."""
    goal = FollowJointTrajectory.Goal()
    goal.trajectory.joint_names = list(joints)
    for k in range(1, points + 1):
        fraction = k / points
        goal.trajectory.points.append(JointTrajectoryPoint(
            positions=[start.get(name, 0.0) + change * fraction for name in joints],
            time_from_start=duration_msg(duration * fraction)))
    return goal


def test_trajectory_is_executed_with_feedback(wire):
    start = dict(wire.position())
    handle, feedback = wire.send(ramp_goal(start, 0.3))
    assert handle.accepted
    sent = time.monotonic()
    response = wire.wait(handle.get_result_async(), "result")
    took = time.monotonic() - sent
    assert response.status == GoalStatus.STATUS_SUCCEEDED, response.result.error_string
    assert response.result.error_code == Result.SUCCESSFUL
    assert 1.9 < took < 2.0 + 0.5 + 1.0  # the trajectory's time, within the goal time tolerance (+ transport)
    assert 25 <= len(feedback) <= 50  # ~20 Hz over 2 s
    last = feedback[-1]
    assert list(last.joint_names) == JOINTS
    assert max(abs(e) for e in last.error.positions) < 0.05
    wire.spin_until(lambda: wire.states[-1][0] > time.monotonic() - 0.05, "a fresh joint state")
    final = wire.position()
    for name in JOINTS:
        assert abs(final[name] - (start[name] + 0.3)) < 0.05, name
    assert abs(final["left_knee_joint"] - start["left_knee_joint"]) < 0.01  # joints it does not name stay


def test_invalid_goals_are_rejected(wire):
    handle, _ = wire.send(ramp_goal(wire.position(), 0.3, joints=["left_elbow_joint", "no_such_joint"]))
    assert not handle.accepted
    goal = ramp_goal(wire.position(), 0.3)
    goal.trajectory.points[3].time_from_start = duration_msg(0.01)  # times go back
    handle, _ = wire.send(goal)
    assert not handle.accepted
    empty = FollowJointTrajectory.Goal()
    empty.trajectory.joint_names = JOINTS
    handle, _ = wire.send(empty)
    assert not handle.accepted
    wire.spin_until(lambda: "unknown joints ['no_such_joint']" in wire.log() and "strictly increasing" in wire.log()
                    and "no points" in wire.log(), "log lines saying why the goals were rejected")


def test_cancel_holds_the_position(wire):
    start = dict(wire.position())
    handle, feedback = wire.send(ramp_goal(start, -0.4))
    assert handle.accepted
    wire.spin_until(lambda: len(feedback) >= 15, "feedback for 0.75 s")  # about a third of the way
    wire.wait(handle.cancel_goal_async(), "cancel response")
    response = wire.wait(handle.get_result_async(), "result")
    assert response.status == GoalStatus.STATUS_CANCELED
    assert "canceled" in response.result.error_string
    canceled_at = time.monotonic()
    wire.spin_until(lambda: wire.states[-1][0] > canceled_at + 0.1, "a joint state after the cancel")
    held = dict(wire.position())
    wire.spin_until(lambda: wire.states[-1][0] > canceled_at + 2.0, "joint states past the trajectory's end")
    for name in JOINTS:
        assert 0.05 < abs(held[name] - start[name]) < 0.35, name  # stopped part of the way
        assert abs(wire.position()[name] - held[name]) < 0.02, name  # and stays there


def test_a_newer_goal_preempts_the_active_one(wire):
    start = dict(wire.position())
    first, feedback = wire.send(ramp_goal(start, 0.2, duration=3.0))
    wire.spin_until(lambda: len(feedback) >= 5, "feedback of the first goal")
    second, _ = wire.send(ramp_goal(wire.position(), -0.2, duration=1.0))
    assert first.accepted and second.accepted
    response = wire.wait(first.get_result_async(), "result of the first goal")
    assert response.status == GoalStatus.STATUS_ABORTED
    assert "preempted" in response.result.error_string
    response = wire.wait(second.get_result_async(), "result of the second goal")
    assert response.status == GoalStatus.STATUS_SUCCEEDED, response.result.error_string


def test_topic_trajectory_is_followed(wire):
    publisher = wire.node.create_publisher(JointTrajectory, "joint_trajectory", 10)
    wire.spin_until(lambda: publisher.get_subscription_count() > 0, "controller subscription")
    start = dict(wire.position())
    publisher.publish(ramp_goal(start, 0.2, duration=1.0).trajectory)
    target = {name: start[name] + 0.2 for name in JOINTS}
    wire.spin_until(lambda: all(abs(wire.position()[name] - target[name]) < 0.02 for name in JOINTS),
                    "joint states at the topic trajectory's end", timeout=10.0)


def test_tolerance_violations_abort(wire):
    # beyond the joint limit: the servo stops at the limit, goal_time_tolerance later the goal is aborted
    start = dict(wire.position())
    handle, _ = wire.send(ramp_goal(start, 3.5, duration=1.0, joints=["left_elbow_joint"]))
    response = wire.wait(handle.get_result_async(), "result")
    assert response.status == GoalStatus.STATUS_ABORTED
    assert response.result.error_code == Result.GOAL_TOLERANCE_VIOLATED
    assert "left_elbow_joint" in response.result.error_string and "rad from its goal" in response.result.error_string
    # a path tolerance no servo meets
    goal = ramp_goal(wire.position(), -0.3, duration=1.0)
    goal.path_tolerance = [JointTolerance(name="right_shoulder_pitch_joint", position=1e-6)]
    handle, _ = wire.send(goal)
    response = wire.wait(handle.get_result_async(), "result")
    assert response.status == GoalStatus.STATUS_ABORTED
    assert response.result.error_code == Result.PATH_TOLERANCE_VIOLATED
    assert "right_shoulder_pitch_joint" in response.result.error_string
