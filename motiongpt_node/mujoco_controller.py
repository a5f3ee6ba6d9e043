"""A stand-in for ros2_control's joint_trajectory_controller that executes trajectories in MuJoCo physics.

For wire tests of the node's FollowJointTrajectory client, and for users without Gazebo:
`python -m motiongpt_node.mujoco_controller --ros-args -p robot:=g1`. The robot (a retargeting robot config,
as the node's `robot` parameter) hangs on a fixed pelvis, feet clear of the (drawn, untouchable) ground, with a
position servo on every joint (retargeting.mujoco_servo.ServoSimulation). Interface (relative names, remappable):

- out: joint_states (sensor_msgs/JointState: every joint's position, velocity and servo torque)
- in:  joint_trajectory (trajectory_msgs/JointTrajectory): replaces the current trajectory like the
       controller's topic interface; a message without points holds the current position
- action: follow_joint_trajectory (control_msgs/FollowJointTrajectory). Goals naming unknown joints, with
       no points or with times that do not increase are rejected (the log says why); an accepted goal
       preempts the active one (ABORTED, "preempted"). The trajectory starts at its header stamp (zero: on
       receipt); feedback every FEEDBACK_PERIOD; the goal's path tolerances are checked while it runs
       (PATH_TOLERANCE_VIOLATED, then hold); from its end the goal SUCCEEDS as soon as every joint is
       within its goal tolerance and ABORTS with GOAL_TOLERANCE_VIOLATED when one still is not
       goal_time_tolerance later. A cancel holds the measured position (CANCELED).

Tolerances follow control_msgs/JointTolerance: a positive value is the tolerance, 0 the default
(default_goal_tolerance for goal positions, none otherwise), negative none. Simulated time is
realtime_factor x the node's clock time since start; a timer at rate_hz steps the physics up to it, and
every other callback runs between two ticks on the same executor thread (no locks, no busy loop: the
execute callbacks await a future that the physics tick completes).
"""
from __future__ import annotations

import dataclasses
import sys
import time
from typing import Any

import numpy as np
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.node import Node
from rclpy.task import Future
from sensor_msgs.msg import JointState
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

from motiongpt_node.spinning import executor_future
from motiongpt_node.ros_messages import duration_msg, duration_seconds, trajectory_from_msg
from motiongpt_node.trajectory_contract import JointTrajectoryData

NODE_NAME = "mujoco_controller"
FEEDBACK_PERIOD = 0.05  # s of clock time between two feedback messages of the active goal
MAX_LAG = 0.25  # s of clock time the physics may fall behind before it skips ahead (overload)


@dataclasses.dataclass(frozen=True)
class ControllerSettings:
    """The controller's parameters."""

    robot: str = "g1"  # retargeting robot config: a shipped name or a YAML path
    rate_hz: float = 100.0  # physics ticks per second of clock time
    state_publish_hz: float = 50.0
    default_goal_tolerance: float = 0.05  # rad
    default_goal_time_tolerance: float = 0.5  # s after the trajectory's end
    realtime_factor: float = 1.0  # simulated seconds per second of clock time

    def __post_init__(self) -> None:
        for name in ("rate_hz", "state_publish_hz", "realtime_factor"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        for name in ("default_goal_tolerance", "default_goal_time_tolerance"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be zero or positive, got {getattr(self, name)}")


@dataclasses.dataclass(frozen=True)
class TrajectoryGoal:
    """A checked FollowJointTrajectory goal: the trajectory and per-joint tolerances (inf: not checked)."""

    trajectory: JointTrajectoryData
    stamp_ns: int  # header stamp; 0: start on receipt
    path_tolerance: np.ndarray  # (J,) rad
    goal_tolerance: np.ndarray  # (J,) rad
    goal_velocity_tolerance: np.ndarray  # (J,) rad/s
    goal_time_tolerance: float  # s


def trajectory_data(message: Any, robot_joints: list[str]) -> JointTrajectoryData:
    """The trajectory of a JointTrajectory message; ValueError saying what is wrong with it."""
    names = list(message.joint_names)
    if not names:
        raise ValueError("the trajectory names no joints")
    unknown = [name for name in names if name not in robot_joints]
    if unknown:
        raise ValueError(f"unknown joints {unknown}")
    if len(set(names)) != len(names):
        raise ValueError(f"joint names repeated: {sorted({n for n in names if names.count(n) > 1})}")
    if not message.points:
        raise ValueError("the trajectory has no points")
    for index, point in enumerate(message.points):
        if len(point.positions) != len(names):
            raise ValueError(f"point {index} has {len(point.positions)} positions for {len(names)} joints")
        if len(point.velocities) not in (0, len(names)):
            raise ValueError(f"point {index} has {len(point.velocities)} velocities for {len(names)} joints")
    trajectory = trajectory_from_msg(message)
    if not (np.isfinite(trajectory.positions).all() and np.isfinite(trajectory.times).all()
            and (trajectory.velocities is None or np.isfinite(trajectory.velocities).all())):
        raise ValueError("the trajectory has values that are not finite")
    times = trajectory.times
    if times[0] < 0:
        raise ValueError(f"time_from_start must be non-negative, point 0 is at {times[0]:.3f} s")
    if (np.diff(times) <= 0).any():
        k = int(np.argmax(np.diff(times) <= 0)) + 1
        raise ValueError(f"time_from_start must be strictly increasing: point {k} is at {times[k]:.3f} s, "
                         f"point {k - 1} at {times[k - 1]:.3f} s")
    return trajectory


def tolerances(entries: Any, joint_names: tuple[str, ...], robot_joints: list[str], field: str,
               default: float) -> np.ndarray:
    """Per-joint tolerances from control_msgs/JointTolerance entries (``field``: position or velocity):
    positive: that value, 0 or missing: ``default``, negative: inf (not checked)."""
    values = np.full(len(joint_names), default, dtype=np.float64)
    for entry in entries:
        if entry.name not in robot_joints:
            raise ValueError(f"tolerance for unknown joint {entry.name!r}")
        if entry.name in joint_names:
            value = getattr(entry, field)
            if value != 0:
                values[joint_names.index(entry.name)] = value if value > 0 else np.inf
    return values


def trajectory_goal(goal: Any, robot_joints: list[str], settings: ControllerSettings) -> TrajectoryGoal:
    """The checked goal of a FollowJointTrajectory request; ValueError saying why it cannot be executed."""
    if goal.multi_dof_trajectory.joint_names or goal.multi_dof_trajectory.points:
        raise ValueError("multi_dof_trajectory is not supported")
    trajectory = trajectory_data(goal.trajectory, robot_joints)
    names = trajectory.joint_names
    time_tolerance = duration_seconds(goal.goal_time_tolerance)
    if time_tolerance < 0:
        raise ValueError(f"goal_time_tolerance is negative ({time_tolerance} s)")
    stamp = goal.trajectory.header.stamp
    return TrajectoryGoal(
        trajectory, stamp.sec * 1_000_000_000 + stamp.nanosec,
        tolerances(goal.path_tolerance, names, robot_joints, "position", np.inf),
        tolerances(goal.goal_tolerance, names, robot_joints, "position", settings.default_goal_tolerance),
        tolerances(goal.goal_tolerance, names, robot_joints, "velocity", np.inf),
        time_tolerance or settings.default_goal_time_tolerance)


def worst_violation(errors: np.ndarray, limits: np.ndarray) -> int | None:
    """Index of the largest |error| among those beyond their limit; None when every one is within."""
    magnitude = np.abs(errors)
    beyond = magnitude > limits
    return int(np.argmax(np.where(beyond, magnitude, -np.inf))) if beyond.any() else None


@dataclasses.dataclass
class _ActiveGoal:
    """An accepted goal being executed: where it runs in simulated time, and the future its outcome goes to."""

    handle: Any  # rclpy.action.server.ServerGoalHandle
    goal: TrajectoryGoal
    columns: np.ndarray  # the goal's joints in the robot's joint order
    start: float  # simulated s
    end: float
    outcome: Future  # ("succeed" | "abort" | "canceled", error_code, error_string)
    last_feedback: float = -np.inf  # time.monotonic()
    feedback_count: int = 0


class MujocoController(Node):
    """The MuJoCo joint trajectory controller node (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__(NODE_NAME)
        try:
            from control_msgs.action import FollowJointTrajectory
        except ImportError as error:
            raise ValueError(f"control_msgs is not importable ({error}): source a ROS 2 install, or "
                             "build/ros_interfaces/install/setup.bash (scripts/build_interfaces.sh)") from error
        from retargeting.mujoco_servo import ServoSimulation
        from retargeting.robot_config import load_robot_config
        from retargeting.robot_model import RobotModel

        self.action_type = FollowJointTrajectory
        self.settings = self._declare_parameters()
        self.sim = ServoSimulation(RobotModel(load_robot_config(self.settings.robot)))
        self._clock_start_ns = self.get_clock().now().nanoseconds
        self._skipped = 0.0  # simulated s skipped after overloads
        self._overloads = 0
        self._stepping_s = 0.0  # wall time spent in the physics
        self._active: _ActiveGoal | None = None
        self._outcomes: dict[bytes, Future] = {}

        self.state_pub = self.create_publisher(JointState, "joint_states", 10)
        self.trajectory_sub = self.create_subscription(JointTrajectory, "joint_trajectory", self._on_trajectory, 10)
        self.action_server = ActionServer(
            self, FollowJointTrajectory, "follow_joint_trajectory", execute_callback=self._execute,
            goal_callback=self._on_goal, handle_accepted_callback=self._on_accepted,
            cancel_callback=lambda _: CancelResponse.ACCEPT)
        self.create_timer(1.0 / self.settings.rate_hz, self._on_physics_tick)
        self.create_timer(1.0 / self.settings.state_publish_hz, self._publish_state)
        self.get_logger().info(
            f"{self.settings.robot}: {len(self.sim.joint_names)} joints on MuJoCo position servos, physics at "
            f"{self.settings.rate_hz:g} Hz x {self.settings.realtime_factor:g} real time")

    def _declare_parameters(self) -> ControllerSettings:
        """The parameters, read once at startup; doubles also take integers (`-p rate_hz:=200`)."""
        values = {}
        for field in dataclasses.fields(ControllerSettings):
            default = field.default
            descriptor = ParameterDescriptor(read_only=True, dynamic_typing=isinstance(default, float))
            value = self.declare_parameter(field.name, default, descriptor).value
            if isinstance(default, float):
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise ValueError(f"parameter {field.name} must be a number, got {value!r}")
                value = float(value)
            values[field.name] = value
        return ControllerSettings(**values)

    # ------------------------------------------------------------------ time
    def sim_time(self, clock_ns: int | None = None) -> float:
        """Simulated time that corresponds to a time of the node's clock (default: now)."""
        clock_ns = self.get_clock().now().nanoseconds if clock_ns is None else clock_ns
        return (clock_ns - self._clock_start_ns) * 1e-9 * self.settings.realtime_factor - self._skipped

    def _start_time(self, stamp_ns: int) -> float:
        return self.sim_time() if stamp_ns == 0 else self.sim_time(stamp_ns)

    def _on_physics_tick(self) -> None:
        target = self.sim_time()
        lag = target - self.sim.time
        # The physics cannot keep up: drop the backlog rather than fall further behind.
        if lag > MAX_LAG * self.settings.realtime_factor:
            self._skipped += lag - self.settings.realtime_factor / self.settings.rate_hz
            self._overloads += 1
            self.get_logger().warning(f"physics {lag:.2f} s behind the clock: skipping ahead",
                                      throttle_duration_sec=5.0)
            target = self.sim_time()
        started = time.perf_counter()
        self.sim.step_to(target)
        self._stepping_s += time.perf_counter() - started
        if self._active is not None:
            self._supervise(self._active)

    def physics_load(self) -> str:
        """One line: simulated seconds, the wall time the physics took for them, the overloads."""
        simulated = self.sim.time
        return (f"physics: {simulated:.1f} s simulated in {self._stepping_s:.2f} s "
                f"({self._stepping_s / max(simulated, 1e-9):.3f} s per simulated s), {self._overloads} overloads")

    # ------------------------------------------------------------------ outputs
    def _publish_state(self) -> None:
        message = JointState(name=self.sim.joint_names, position=self.sim.positions().tolist(),
                             velocity=self.sim.velocities().tolist(), effort=self.sim.efforts().tolist())
        message.header.stamp = self.get_clock().now().to_msg()
        self.state_pub.publish(message)

    def _publish_feedback(self, active: _ActiveGoal, desired: np.ndarray, desired_velocity: np.ndarray) -> None:
        columns = active.columns
        since_start = duration_msg(max(0.0, self.sim.time - active.start))
        actual, actual_velocity = self.sim.positions()[columns], self.sim.velocities()[columns]

        def point(positions: np.ndarray, velocities: np.ndarray) -> JointTrajectoryPoint:
            return JointTrajectoryPoint(positions=positions.tolist(), velocities=velocities.tolist(),
                                        time_from_start=since_start)

        feedback = self.action_type.Feedback(joint_names=list(active.goal.trajectory.joint_names),
                                             desired=point(desired, desired_velocity),
                                             actual=point(actual, actual_velocity),
                                             error=point(desired - actual, desired_velocity - actual_velocity))
        feedback.header.stamp = self.get_clock().now().to_msg()
        active.handle.publish_feedback(feedback)
        active.feedback_count += 1

    # ------------------------------------------------------------------ topic interface
    def _on_trajectory(self, message: JointTrajectory) -> None:
        if not message.points and set(message.joint_names) <= set(self.sim.joint_names):
            self._preempt(f"preempted by an empty trajectory on {self.trajectory_sub.topic_name}: holding")
            self.sim.hold()
            return
        try:
            trajectory = trajectory_data(message, self.sim.joint_names)
        except ValueError as error:
            self.get_logger().warning(f"trajectory on {self.trajectory_sub.topic_name} ignored: {error}")
            return
        self._preempt(f"preempted by a trajectory on {self.trajectory_sub.topic_name}")
        stamp = message.header.stamp
        self.sim.follow(trajectory.joint_names, trajectory.times, trajectory.positions, trajectory.velocities,
                        self._start_time(stamp.sec * 1_000_000_000 + stamp.nanosec))

    # ------------------------------------------------------------------ action interface
    def _on_goal(self, request: Any) -> GoalResponse:
        try:
            trajectory_goal(request, self.sim.joint_names, self.settings)
        except ValueError as error:
            self.get_logger().warning(f"goal rejected: {error}")
            return GoalResponse.REJECT
        return GoalResponse.ACCEPT

    def _on_accepted(self, handle: Any) -> None:
        goal = trajectory_goal(handle.request, self.sim.joint_names, self.settings)
        self._preempt("preempted by a newer goal")
        trajectory = goal.trajectory
        start = self._start_time(goal.stamp_ns)
        self.sim.follow(trajectory.joint_names, trajectory.times, trajectory.positions, trajectory.velocities, start)
        outcome = executor_future(self)  # completed from the physics timer; resumes _execute
        self._outcomes[bytes(handle.goal_id.uuid)] = outcome
        self._active = _ActiveGoal(handle, goal, self.sim.joint_indices(trajectory.joint_names), start,
                                   start + float(trajectory.times[-1]), outcome)
        handle.execute()

    async def _execute(self, handle: Any) -> Any:
        status, code, text = await self._outcomes.pop(bytes(handle.goal_id.uuid))
        getattr(handle, status)()
        return self.action_type.Result(error_code=code, error_string=text)

    def _preempt(self, reason: str) -> None:
        if self._active is not None:
            self._finish(self._active, "abort", self.action_type.Result.INVALID_GOAL, reason)

    def _finish(self, active: _ActiveGoal, status: str, code: int, text: str) -> None:
        if self._active is active:
            self._active = None
        outcome = {"succeed": "succeeded", "abort": "aborted", "canceled": "canceled"}[status]
        self.get_logger().info(f"goal {bytes(active.handle.goal_id.uuid).hex()[:8]} {outcome} after "
                               f"{self.sim.time - active.start:.2f} s, {active.feedback_count} feedback"
                               + (f": {text}" if text else ""))
        active.outcome.set_result((status, code, text))

    def _supervise(self, active: _ActiveGoal) -> None:
        """Feedback, tolerances and the end of the active goal, after a physics tick."""
        Result = self.action_type.Result
        if active.handle.is_cancel_requested:
            self.sim.hold()
            self._finish(active, "canceled", Result.SUCCESSFUL, "canceled: holding the measured position")
            return
        sim, goal, columns = self.sim, active.goal, active.columns
        names = goal.trajectory.joint_names
        desired, desired_velocity = (values[columns] for values in sim.reference())
        actual = sim.positions()[columns]
        now = time.monotonic()
        if now - active.last_feedback >= FEEDBACK_PERIOD - 0.5 / self.settings.rate_hz:
            active.last_feedback = now
            self._publish_feedback(active, desired, desired_velocity)
        elapsed = sim.time - active.start
        if active.start <= sim.time <= active.end:
            worst = worst_violation(desired - actual, goal.path_tolerance)
            if worst is not None:
                sim.hold()
                self._finish(active, "abort", Result.PATH_TOLERANCE_VIOLATED,
                             f"path tolerance violated at {elapsed:.2f} s: {names[worst]} is "
                             f"{abs(desired[worst] - actual[worst]):.3f} rad off the trajectory "
                             f"(tolerance {goal.path_tolerance[worst]:.3g} rad)")
                return
        if sim.time < active.end:
            return
        final = goal.trajectory.positions[-1]
        worst = worst_violation(final - actual, goal.goal_tolerance)
        worst_velocity = worst_violation(sim.velocities()[columns], goal.goal_velocity_tolerance)
        if worst is None and worst_velocity is None:
            self._finish(active, "succeed", Result.SUCCESSFUL, "")
        elif sim.time >= active.end + goal.goal_time_tolerance:
            if worst is not None:
                problem = (f"{names[worst]} is {abs(final[worst] - actual[worst]):.3f} rad from its goal "
                           f"(tolerance {goal.goal_tolerance[worst]:.3g} rad)")
            else:
                speed = abs(sim.velocities()[columns][worst_velocity])
                problem = (f"{names[worst_velocity]} still moves at {speed:.3f} rad/s "
                           f"(tolerance {goal.goal_velocity_tolerance[worst_velocity]:.3g} rad/s)")
            self._finish(active, "abort", Result.GOAL_TOLERANCE_VIOLATED,
                         f"goal tolerance violated {goal.goal_time_tolerance:.2f} s after the end: {problem}")


def main(argv: list[str] | None = None) -> int:
    """Run the controller until SIGINT; exit code 2 with one line on bad parameters or robot."""
    import rclpy

    from motiongpt_node.spinning import spin_until_shutdown
    from retargeting.errors import RetargetError

    def report_load(node: MujocoController) -> None:
        if rclpy.ok():
            node.get_logger().info(node.physics_load())
        else:  # after SIGINT the log can no longer reach /rosout
            print(f"{NODE_NAME}: {node.physics_load()}", file=sys.stderr)

    return spin_until_shutdown(MujocoController, NODE_NAME, (ValueError, RetargetError), argv, close=report_load)[1]


if __name__ == "__main__":
    sys.exit(main())
