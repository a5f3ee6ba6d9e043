"""The MotionGPT ROS 2 node: language commands and live pose streams in, joint trajectories out.

The node only converts messages, runs the worker and enforces the trajectory contract; the motion
comes from `motiongpt.lm.MotionGPT` and the robot side from `retargeting.Retargeter` (through
`MotionPipeline`). Interface (relative names: a namespace applies and each can be remapped; every name is
also a read-only parameter, see node_config.py):

- in:  command (std_msgs/String), joint_states (sensor_msgs/JointState),
       human_pose (geometry_msgs/PoseArray: the 22 SMPL joints in SMPL order, Z-up frame, metres)
- out: joint_trajectory (trajectory_msgs/JointTrajectory) or the follow_joint_trajectory action when
       control_msgs is importable (the launch file remaps both to joint_trajectory_controller/...), ~/base_path (nav_msgs/Path),
       ~/description (std_msgs/String), ~/skeleton (visualization_msgs/MarkerArray),
       ~/preview (trajectory_msgs/JointTrajectory, preview mode only),
       ~/status (diagnostic_msgs/DiagnosticArray), and the same status on /diagnostics (ROS convention)
- services: ~/cancel, ~/describe and ~/execute (std_srvs/Trigger; ~/execute sends the previewed command in
  preview mode), request queues `service_queue_depth` deep
- action: ~/execute_command (motiongpt_interfaces/action/ExecuteCommand, when that package is built): a
  command with feedback per stage and a result (outcome, trajectory, steps, meanings, caption, timings, the
  controller's result); cancelling it stops the command and holds the robot (command_action.py)

Failures: a model or retargeter that cannot be loaded ends the process with exit code 1 and one line
(`motiongpt_node: error: ...`) unless `stay_up_on_error` is true (then state=error, commands refused).
Work per message is bounded: a command is planned (steps, total length) before anything is generated and
refused when it cannot fit `max_duration`; a newer command or ~/cancel stops the generation in progress
at the next cancel point (every decoding step with the torch backend, else between model calls).
"""
from __future__ import annotations

import threading
import time
from functools import partial
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import numpy as np
from geometry_msgs.msg import PoseArray
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, SetParametersResult
from rclpy.node import Node
from rclpy.qos import QoSProfile
from sensor_msgs.msg import JointState
from std_msgs.msg import String
from std_srvs.srv import Trigger
from diagnostic_msgs.msg import DiagnosticArray
from nav_msgs.msg import Path
from trajectory_msgs.msg import JointTrajectory
from visualization_msgs.msg import MarkerArray

from motiongpt_node import ros_messages
from motiongpt_node.command_action import (CANCELLED, EXECUTING, FAILED, GENERATING, PREVIEWED, PUBLISHED, REFUSED,
                                           RETARGETING, STAGE_PROGRESS, SUCCESSFUL_OUTCOMES, UNDERSTANDING, CommandGoal,
                                           ControllerResult, controller_outcome, import_action_type)
from motiongpt_node.inputs import (
    InputError,
    command_from_cdr,
    joint_state_positions,
    pose_array_joints,
    validate_command,
)
from motiongpt_node.joint_limits import JointLimits
from motiongpt_node.motion_pipeline import CommandRefused, GenerationCancelled, shorter_plan
from motiongpt_node.command_policy import (MotionNotAllowed, check_meanings, describe_meanings, hold_masked_joints,
                                           moving_mask)
from motiongpt_node.node_config import PARAMETERS, SPECS, NodeConfig
from motiongpt_node.pose_history import PoseHistory, PoseHistoryError
from motiongpt_node.spinning import executor_future, request_on_executor
from motiongpt_node.trajectory_contract import JointTrajectoryData, check_start_state, check_trajectory
from motiongpt_node.trajectory_shaping import expand_to_robot_joints, hold_trajectory, shape_trajectory
from motiongpt_node.worker import Job, LatestWinsWorker

NODE_NAME = "motiongpt_node"
STATUS_NAME = "motiongpt_node"
INPUT_REPORT_INTERVAL = 1.0  # s: the same bad input is reported on ~/status at most this often
ERROR_LOG_KEYS = 64  # distinct (job kind, error type) pairs whose last log time is kept
LIVE_STREAM_AGE = 0.5  # s: prediction runs only while ~/human_pose samples are at most this old


class StaleJointStateError(ValueError):
    """No joint state yet, or the last one is too old to start a trajectory from."""


class MotionGPTNode(Node):
    def __init__(self) -> None:
        super().__init__(NODE_NAME)
        self.config = self._declare_parameters()
        cfg = self.config
        self._robot_limits = JointLimits.for_robot(cfg.robot, cfg.urdf_path or None)
        self.limits = cfg.capped(self._robot_limits)
        self.shaping = cfg.shaping()
        self.pipeline: Any = None
        self._load_error = ""

        self._lock = threading.Lock()  # status fields and the joint state
        self._publish_lock = threading.Lock()  # a cancel and a publish never interleave
        self._joint_state: tuple[np.ndarray, float] | None = None
        self._last_input_report: dict[str, tuple[str, float]] = {}
        self._unknown_joints: tuple[str, ...] = ()
        self._state = "loading"
        self._counters = {"commands": 0, "published": 0, "previewed": 0, "dropped": 0, "rejected_inputs": 0,
                          "errors": 0, "interrupted": 0, "idle_prediction_ticks": 0}
        self._last = {"error": "", "dropped": "", "command": "", "timings": ""}
        self._timings: dict[str, float] = {}
        self._error_log: dict[tuple[str, str], tuple[float, int]] = {}  # (job kind, error type) -> (logged at, suppressed)
        self.fatal_error = ""  # set when loading failed and stay_up_on_error is false: main() exits with 1
        self.poses = PoseHistory(cfg.pose_history)
        self._pose_received: float | None = None

        self.recorder = None
        if cfg.record_bag:
            from motiongpt_node.bag_recorder import BagRecorder

            self.recorder = BagRecorder(cfg.record_bag)

        # One executor thread (main.py) runs every callback below; they only convert, check and queue. Model
        # work runs off it: commands and predictions in the worker thread, ~/describe in its own thread.
        self.trajectory_pub = self.create_publisher(JointTrajectory, cfg.trajectory_topic, 10)
        self.path_pub = self.create_publisher(Path, cfg.base_path_topic, 10)
        self.description_pub = self.create_publisher(String, cfg.description_topic, 10)
        self.skeleton_pub = self.create_publisher(MarkerArray, cfg.skeleton_topic, 10)
        self.status_pub = self.create_publisher(DiagnosticArray, cfg.status_topic, 10)
        self.preview_pub = self.create_publisher(JointTrajectory, cfg.preview_topic, 10)
        self._preview: dict[str, Any] | None = None  # preview mode: the command waiting for ~/execute
        self.diagnostics_pub = (self.create_publisher(DiagnosticArray, cfg.diagnostics_topic, 10)
                                if cfg.diagnostics_topic else None)
        subscriptions = {
            # Raw bytes: rclpy's String conversion cuts at a NUL and hides invalid UTF-8 behind U+FFFD.
            "command": self.create_subscription(String, cfg.command_topic, self._on_command, 10, raw=True),
            "joint_states": self.create_subscription(JointState, cfg.joint_states_topic, self._on_joint_state, 10),
            "human_pose": self.create_subscription(PoseArray, cfg.human_pose_topic, self._on_human_pose, 10),
        }
        # Fully qualified names (command -> /<namespace>/command, ~/status -> /<namespace>/motiongpt_node/status), for the bag, the status and the messages.
        self.topic = {key: subscription.topic_name for key, subscription in subscriptions.items()}
        self.topic.update({name: pub.topic_name for name, pub in (
            ("trajectory", self.trajectory_pub), ("base_path", self.path_pub), ("description", self.description_pub),
            ("skeleton", self.skeleton_pub), ("status", self.status_pub))})
        # Deep request queues: a burst of requests written back to back is served, not silently cut at rclpy's
        # default depth of 10 (issue 15, item 7). Requests beyond the depth may still be lost by the middleware.
        services_qos = QoSProfile(depth=cfg.service_queue_depth)
        self.create_service(Trigger, "~/cancel", self._on_cancel, qos_profile=services_qos)
        self.create_service(Trigger, "~/describe", self._on_describe, qos_profile=services_qos)
        self.create_service(Trigger, "~/execute", self._on_execute, qos_profile=services_qos)
        self.create_timer(cfg.status_period, self._publish_status)
        if cfg.prediction_enabled:
            self.create_timer(cfg.prediction_period, self._on_prediction_tick)

        self.action_client = None
        self._goal_handle = None  # the controller's goal for the trajectory executing now
        self._executing_goal: CommandGoal | None = None  # the command goal whose trajectory that is
        if cfg.use_action:
            self.action_client = self._make_action_client(cfg.action_name)
        self._command_goals: dict[bytes, CommandGoal] = {}  # ~/execute_command goals not yet ended, by goal id
        self.command_action = self._make_command_action()

        self._describe_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="describe")
        self.worker = LatestWinsWorker(self._run_job, self._on_dropped, self._on_job_error, cfg.max_pending)
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self.worker.start(setup=self._load_pipeline)
        self._publish_status()

    # ------------------------------------------------------------------ setup
    def _declare_parameters(self) -> NodeConfig:
        values = {}
        for spec in PARAMETERS:
            # Doubles also take integers (`-p max_duration:=5`): their type is not enforced by rclpy, and
            # NodeConfig.from_values converts an int to float and refuses every other type.
            is_double = isinstance(spec.default, float)
            descriptor = ParameterDescriptor(description=spec.description, read_only=not spec.dynamic,
                                             dynamic_typing=is_double)
            if spec.dynamic:
                descriptor.additional_constraints = "changeable at run time (ros2 param set), validated"
            if spec.choices:
                descriptor.additional_constraints = "one of: " + ", ".join(spec.choices)
            if isinstance(spec.default, float):
                descriptor.floating_point_range = [FloatingPointRange(from_value=float(spec.low), to_value=float(spec.high), step=0.0)]
            elif isinstance(spec.default, int) and not isinstance(spec.default, bool):
                descriptor.integer_range = [IntegerRange(from_value=int(spec.low), to_value=int(spec.high), step=1)]
            values[spec.name] = self.declare_parameter(spec.name, spec.default, descriptor).value
        return NodeConfig.from_values(values)

    def _on_set_parameters(self, parameters) -> SetParametersResult:
        """Run-time changes (`ros2 param set`): validated together with the current values; a bad value is
        refused with the reason and nothing changes. Read-only parameters never reach here (rclpy refuses them)."""
        from dataclasses import asdict

        values = asdict(self.config)
        for parameter in parameters:
            if parameter.name not in SPECS:
                continue  # use_sim_time and other parameters of rclpy itself
            if not SPECS[parameter.name].dynamic:
                return SetParametersResult(successful=False, reason=f"{parameter.name} is only read at startup")
            values[parameter.name] = parameter.value
        try:
            config = NodeConfig.from_values(values)
        except ValueError as error:
            return SetParametersResult(successful=False, reason=str(error))
        self._apply_config(config)
        return SetParametersResult(successful=True)

    def _apply_config(self, config: NodeConfig) -> None:
        changed = sorted(name for name in SPECS if getattr(config, name) != getattr(self.config, name))
        if (config.max_joint_velocity, config.max_joint_acceleration) != (self.config.max_joint_velocity,
                                                                          self.config.max_joint_acceleration):
            self.limits = config.capped(self._robot_limits)
        self.shaping = config.shaping()
        self.config = config
        pipeline = self.pipeline
        if pipeline is not None:
            pipeline.set_sampling(config.seed, config.candidates, config.temperature, config.guidance)
        if changed:
            self.get_logger().info("parameters changed: " + ", ".join(f"{n}={getattr(config, n)!r}" for n in changed))

    def _make_action_client(self, action_name: str):
        try:
            from control_msgs.action import FollowJointTrajectory
            from rclpy.action import ActionClient
        except ImportError:
            self.get_logger().info("control_msgs is not importable: trajectories go out on the topic")
            return None
        self._follow_joint_trajectory = FollowJointTrajectory
        return ActionClient(self, FollowJointTrajectory, action_name)

    def _make_command_action(self):
        """The ~/execute_command action server, or None (logged) when motiongpt_interfaces is not built."""
        action_type, why = import_action_type()
        if action_type is None:
            self.get_logger().info(f"{why}: ~/execute_command is not served; build ros2_ws/motiongpt_interfaces "
                                   "in the workspace (the command topic works without it)")
            return None
        from rclpy.action import ActionServer

        self._command_action_type = action_type
        return ActionServer(self, action_type, "~/execute_command", execute_callback=self._execute_command_goal,
                            cancel_callback=self._on_cancel_command_goal)

    def _load_pipeline(self) -> None:
        from motiongpt_node.motion_pipeline import MotionPipeline, shipped_model_path

        cfg = self.config
        started = time.perf_counter()
        model_path = cfg.model_path
        try:
            model_path = model_path or str(shipped_model_path())
            self.get_logger().info(f"loading model {model_path} (robot {cfg.robot})")
            pipeline = MotionPipeline.load(model_path, cfg.robot, cfg.device, cfg.seed, cfg.cpu_threads,
                                           cfg.candidates, cfg.backend)
            unknown = sorted(set(pipeline.robot_joint_names) - set(self.limits.joint_names))
            if unknown:
                raise ValueError(f"retargeter joints {unknown} are not movable joints of the URDF")
            try:
                warm_up_s = pipeline.warm_up()
            except Exception as error:  # noqa: BLE001 - the first command pays the initialisation instead
                warm_up_s = float("nan")
                self.get_logger().warning(f"warm-up command failed ({error}); the node is ready anyway")
        except Exception as error:  # noqa: BLE001 - fatal unless stay_up_on_error
            with self._lock:
                self._state = "error"
                self._load_error = f"{type(error).__name__}: {error}"
            message = "model or retargeter unavailable: " + " ".join(str(error).split())  # one line
            if not cfg.stay_up_on_error:
                # One line, printed by main() when the executor has stopped; exit code 1.
                self.fatal_error = f"{message} (set stay_up_on_error:=true to keep the node up in state=error)"
                self._report("error", message, log=False)
                self.context.try_shutdown()
                return
            self._report("error", message + " (stay_up_on_error: the node stays up and refuses commands)")
            return
        pipeline.set_sampling(self.config.seed, self.config.candidates, self.config.temperature,
                              self.config.guidance)  # set while loading
        self.pipeline = pipeline
        if getattr(pipeline.model, "meaning_index", None) is None:
            self.get_logger().warning(
                f"{model_path} has no meaning index (motiongpt export meaning-index): allowed_motions and "
                "refuse_unknown cannot be checked, every command is generated")
        self.get_logger().info(f"ready: model {model_path}")
        with self._lock:
            self._model_path = model_path
            self._state = "ready"
            self._timings["load_s"] = round(time.perf_counter() - started, 3)
            self._timings["warm_up_s"] = round(warm_up_s, 3)
        self._report("ok", "ready")

    # ------------------------------------------------------------------ inputs
    def _record(self, topic: str, message: Any) -> None:
        if self.recorder is not None:
            self.recorder.write(topic, message, self.get_clock().now().nanoseconds)

    def _on_joint_state(self, message: JointState) -> None:
        self._record(self.topic["joint_states"], message)
        try:
            positions, unknown = joint_state_positions(message.name, message.position, self.limits.joint_names,
                                                       source=self.topic["joint_states"],
                                                       max_names=self.config.max_joint_state_names)
        except InputError as error:
            self._input_rejected("joint_states", str(error))
            return
        with self._lock:
            self._joint_state = (positions, time.monotonic())
            new_unknown = tuple(unknown) != self._unknown_joints
            self._unknown_joints = tuple(unknown)
        if unknown and new_unknown:
            self._report("warn", f"{self.topic['joint_states']}: ignored joints the robot does not have: {unknown[:8]}")

    def _on_command(self, serialized: bytes) -> None:
        if self.recorder is not None:
            self.recorder.write_serialized(self.topic["command"], "std_msgs/msg/String", serialized,
                                           self.get_clock().now().nanoseconds)
        try:
            text = command_from_cdr(serialized, source=self.topic["command"])
            text = validate_command(text, self.config.max_command_chars, source=self.topic["command"])
        except InputError as error:
            self._input_rejected("command", str(error), always=True)
            return
        self._start_command(text)

    def _start_command(self, text: str, goal: CommandGoal | None = None) -> None:
        """Queue a valid command (from the topic or an ~/execute_command goal), or refuse it with the reason."""
        with self._lock:
            self._counters["commands"] += 1
            has_state = self._joint_state is not None
        refusal = ""
        if not has_state:
            refusal = f"no joint state received on {self.topic['joint_states']} yet"
        elif self.pipeline is None and self._state == "error":
            refusal = self._load_error
        elif self.pipeline is not None:  # while loading, the job plans it (and refuses it) before generating
            try:
                self._plan(self.pipeline, text, goal)
            except CommandRefused as error:  # a refused command does not preempt the running one
                self._input_rejected("command", f"{error} ('{_short(text)}')", always=True)
                self._end_command(text, goal, REFUSED, str(error))
                return
        if refusal:
            self._input_rejected("command", f"command dropped: {refusal}", always=True)
            self._end_command(text, goal, REFUSED, refusal)
            return
        job = Job("command", text, goal=goal)
        if goal is not None:
            goal.job = job
        self.worker.submit(job)
        self._report("ok", f"busy: command '{_short(text)}'", command=text)

    async def _execute_command_goal(self, handle: Any) -> Any:
        """~/execute_command: run the goal's command like one from the topic and answer when it has ended."""
        goal = CommandGoal(self._command_action_type, handle, executor_future(self))
        self._command_goals[bytes(handle.goal_id.uuid)] = goal
        try:
            text = validate_command(goal.text, self.config.max_command_chars, source="~/execute_command goal")
        except InputError as error:
            self._input_rejected("command", str(error), always=True)
            goal.finish(REFUSED, str(error))
        else:
            self._start_command(text, goal)
        result = await goal.done
        self._command_goals.pop(bytes(handle.goal_id.uuid), None)
        if result.outcome in SUCCESSFUL_OUTCOMES:
            handle.succeed()
        elif result.outcome == CANCELLED and handle.is_cancel_requested:
            handle.canceled()
        else:
            handle.abort()
        return result

    def _on_cancel_command_goal(self, handle: Any) -> Any:
        """A client cancels its ~/execute_command goal: stop its command wherever it is, and hold the robot."""
        from rclpy.action import CancelResponse

        goal = self._command_goals.get(bytes(handle.goal_id.uuid))
        if goal is None or goal.finished:
            return CancelResponse.REJECT
        reason = "cancelled by the ~/execute_command client"
        job = goal.job
        if job is not None and not job.delivered and self.worker.cancel(job, reason):
            return CancelResponse.ACCEPT  # _on_dropped ends the goal
        goal.stopped_reason = reason
        with self._publish_lock:
            if self._executing_goal is goal:  # its trajectory is the one the controller runs
                hold_error = self._hold_current_position()
                message = reason + ("; holding the current position" if not hold_error else f"; cannot hold: {hold_error}")
            else:
                message = reason + " (its trajectory was not executing)"
        self._end_command(goal.text, goal, CANCELLED, message)
        return CancelResponse.ACCEPT

    def _on_human_pose(self, message: PoseArray) -> None:
        self._record(self.topic["human_pose"], message)
        try:
            joints = pose_array_joints([(p.position.x, p.position.y, p.position.z) for p in message.poses],
                                       source=self.topic["human_pose"])
        except InputError as error:
            self._input_rejected("human_pose", str(error))
            return
        stamp = message.header.stamp.sec + message.header.stamp.nanosec * 1e-9
        self._pose_received = time.monotonic()
        self.poses.add(stamp if stamp > 0 else self.get_clock().now().nanoseconds * 1e-9, joints)

    def _input_rejected(self, source: str, text: str, always: bool = False) -> None:
        now = time.monotonic()
        with self._lock:
            self._counters["rejected_inputs"] += 1
            self._last["error"] = text
            previous = self._last_input_report.get(source)
            due = always or previous is None or previous[0] != text or now - previous[1] > INPUT_REPORT_INTERVAL
            if due:
                self._last_input_report[source] = (text, now)
        if due:
            self.get_logger().warning(text)
            self._report("warn", text)

    # ------------------------------------------------------------------ services and timers
    def _on_cancel(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        with self._publish_lock:
            dropped = self.worker.cancel_all("cancelled by ~/cancel")
            self._preview = None  # a previewed command is dropped too
            if self._executing_goal is not None:
                self._executing_goal.stopped_reason = "cancelled by ~/cancel"
            hold_error = self._hold_current_position()
            if hold_error:
                response.success = False
                response.message = f"cancelled {len(dropped)} job(s) but cannot hold: {hold_error}"
                self._report("warn", response.message)
                return response
        response.success = True
        response.message = f"cancelled {len(dropped)} job(s); holding the current position"
        self._report("ok", response.message)
        return response

    async def _on_describe(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        """Caption the recent pose stream. The model runs in the describe thread; this coroutine waits for it
        without holding the executor, which keeps serving joint states, commands and the other services."""
        try:
            if self.pipeline is None:
                raise ValueError(f"model not ready ({self._state}) {self._load_error}".strip())
            joints = self.poses.recent(self.config.describe_seconds)
            caption = await self._off_executor(self.pipeline.describe, joints)  # PipelineError for an empty caption
        except Exception as error:  # noqa: BLE001 - every failure is an answer with success=False and the reason
            response.success = False
            reason = str(error) if isinstance(error, ValueError) else f"{type(error).__name__}: {error}"
            response.message = f"~/describe: {reason}"
            self._report("warn", response.message)
            return response
        self._publish(self.description_pub, String(data=caption))
        response.success, response.message = True, caption
        return response

    def _hold_current_position(self) -> str:
        """Cancel the controller's goal and send a trajectory holding the current joint state (caller holds
        the publish lock); returns why it could not hold, or ''."""
        if self._goal_handle is not None:
            self._goal_handle.cancel_goal_async()
            self._goal_handle = None
        try:
            state = self._current_state()
            hold = hold_trajectory(state, self.limits)
            check_trajectory(hold, state, self.limits, self.config.max_duration)
            self._send_trajectory(hold)
        except ValueError as error:
            return str(error)
        return ""

    async def _off_executor(self, function: Callable[..., Any], *args: Any) -> Any:
        """Await ``function(*args)`` run in the describe thread (see spinning.executor_future)."""
        future = executor_future(self)

        def run() -> None:
            try:
                future.set_result(function(*args))
            except BaseException as error:  # noqa: BLE001 - handed to the awaiting coroutine
                future.set_exception(error)

        self._describe_thread.submit(run)
        return await future

    def _on_prediction_tick(self) -> None:
        if self.pipeline is None or self.worker.busy:
            return
        if self._pose_received is None or time.monotonic() - self._pose_received > LIVE_STREAM_AGE:
            with self._lock:
                self._counters["idle_prediction_ticks"] += 1  # no live pose stream: nothing to anticipate
            return
        try:
            joints = self.poses.recent(self.config.prediction_context, min_seconds=min(1.0, self.config.prediction_context))
        except PoseHistoryError:
            return  # not enough stream yet; nothing to predict from
        self.worker.submit(Job("predict", joints, preempts=False))

    # ------------------------------------------------------------------ worker
    def _plan(self, pipeline: Any, text: str, goal: CommandGoal | None = None):
        cfg = self.config
        seconds = goal.seconds_per_step if goal is not None and goal.seconds_per_step > 0 else cfg.seconds_per_step
        return pipeline.plan(text, seconds or None, cfg.max_duration, cfg.max_command_steps)

    def _run_job(self, job: Job) -> None:
        if self.pipeline is None:
            raise ValueError(f"model not available: {self._load_error or self._state}")
        warm_start = self._current_state()
        waited = time.monotonic() - job.received
        try:
            if job.kind == "command":
                goal = job.goal
                if goal is not None:
                    goal.feedback(UNDERSTANDING, "splitting into steps and matching their meanings")
                try:
                    command_plan = self._plan(self.pipeline, job.payload, goal)
                except CommandRefused as error:  # the log line first, then the status that reports it
                    self._end_command(job.payload, goal, REFUSED, str(error))
                    self._input_rejected("command", f"{error} ('{_short(job.payload)}')", always=True)
                    return
                meanings, threshold = self.pipeline.meanings(command_plan.steps)
                job.meaning = describe_meanings(meanings, self.pipeline.rephrased(command_plan.steps)
                                                if meanings is not None else None,
                                                self.pipeline.played_speeds(command_plan.steps))
                if goal is not None:
                    goal.understood(command_plan.steps, [f"{m.action} {m.similarity:.2f}" for m in meanings or ()])
                if meanings is not None:
                    try:
                        check_meanings(meanings, self.config.allowed_motions, self.config.refuse_unknown,
                                       self.config.min_meaning_similarity, threshold, self.config.unknown_margin)
                    except MotionNotAllowed as error:
                        self._end_command(job.payload, goal, REFUSED, str(error))
                        self._input_rejected("command", f"command refused: {error}", always=True)
                        return
                if goal is not None:
                    goal.feedback(GENERATING, f"{command_plan.summary()}, meaning {job.meaning}")
                human = self.pipeline.command_to_motion(job.payload, cancelled=job.cancelled,
                                                        **command_plan.lengths())
            else:
                seconds = min(self.config.prediction_seconds, self.config.max_duration)
                human = self.pipeline.predict(job.payload, seconds=seconds, cancelled=job.cancelled)
        except GenerationCancelled:
            self._count_interrupted()
            return  # the worker already reported it as dropped, with the reason
        if job.cancelled.is_set():
            return
        if job.goal is not None:
            job.goal.feedback(RETARGETING, f"{human.joints.shape[0]} frames to {self.config.robot}")
        names = self.pipeline.robot_joint_names
        order = [self.limits.joint_names.index(n) for n in names]
        start = np.clip(warm_start, self.limits.lower, self.limits.upper)[order]
        # solved within the published limits, the shaping keeps the motion's time (keep_time)
        limits = self.config.published_limits(self._robot_limits) if self.config.keep_time else None
        plan = self.pipeline.retarget(human.joints, start_positions=start, limits=limits)
        if job.cancelled.is_set():
            return
        timings = {"queue_wait_s": waited, "generation_s": human.seconds, "retargeting_s": plan.seconds}
        if job.kind == "command":
            try:
                human, plan = self._refit_to_max_duration(job, command_plan, human, plan, start, limits, timings)
            except GenerationCancelled:
                self._count_interrupted()
                return
        if not self._publish_plan(job, human.joints, plan, timings):
            return
        if job.kind == "command" and self.config.caption_generated:
            try:
                caption = self.pipeline.describe_motion(human)
            except ValueError as error:  # an empty caption: the trajectory is out, only the caption is missing
                self._report("warn", f"no caption for command '{_short(job.payload)}': {error}")
                caption = ""
            if caption and not job.cancelled.is_set():
                self._publish(self.description_pub, String(data=caption))
                if job.goal is not None:
                    job.goal.result.caption = caption
        if job.goal is not None and job.goal.outcome_when_done:  # topic or preview: nothing more will come
            job.goal.finish(job.goal.outcome_when_done, job.goal.result.message)

    def _count_interrupted(self) -> None:
        with self._lock:
            self._counters["interrupted"] += 1

    def _refit_to_max_duration(self, job: Job, command_plan: Any, human: Any, plan: Any, start: np.ndarray,
                               limits: JointLimits | None, timings: dict[str, float]) -> tuple[Any, Any]:
        """(human motion, robot plan) to publish for a command. The plan fits the generated steps into
        max_duration, but shaping for the robot (the move from its posture, velocity and acceleration limits)
        makes the motion longer, and the end of the last step would be cut: then the command is generated once
        more with steps shorter by the ratio the shaping stretched them (`motion_pipeline.shorter_plan`;
        model-chosen and fitted lengths only, never the user's), its time added to ``timings``. Raises
        GenerationCancelled as generation does."""
        try:
            _, shaping = self._shaped(plan)
        except ValueError:
            return human, plan  # the publish step reports it
        shorter = shorter_plan(command_plan, human.duration_s, float(shaping.sample_times[-1]),
                               self.config.max_duration)
        if shorter is None:
            return human, plan
        if job.goal is not None:  # generating again; the progress stays where retargeting left it
            job.goal.feedback(GENERATING, f"{shorter.summary()}: shaped for {self.config.robot}, the motion was "
                                          f"{shaping.sample_times[-1]:.1f} s, longer than max_duration",
                              progress=STAGE_PROGRESS[RETARGETING])
        shorter_human = self.pipeline.command_to_motion(job.payload, cancelled=job.cancelled, **shorter.lengths())
        shorter_robot = self.pipeline.retarget(shorter_human.joints, start_positions=start, limits=limits)
        timings["generation_s"] += shorter_human.seconds
        timings["retargeting_s"] += shorter_robot.seconds
        self.get_logger().info(f"command '{_short(job.payload)}': steps bounded at {shorter.seconds_per_step:g} s "
                               f"so that the motion fits max_duration={self.config.max_duration:g} s once shaped "
                               f"(it was {shaping.sample_times[-1]:.1f} s)")
        return shorter_human, shorter_robot

    def _publish_plan(self, job: Job, human_joints: np.ndarray, plan: Any, timings: dict[str, float]) -> bool:
        started = time.perf_counter()
        with self._publish_lock:
            if job.cancelled.is_set():
                return False
            trajectory, shaping = self._shaped(plan)
            timings["shaping_s"] = time.perf_counter() - started
            goal = job.goal
            previewed = job.kind == "command" and (self.config.preview or (goal is not None and goal.preview_only))
            message = ros_messages.trajectory_msg(trajectory)
            if previewed:  # held for ~/execute, which shapes it again from the state of that moment
                sent_at = self._publish(self.preview_pub, message)
                self._preview = {"command": job.payload, "plan": plan, "meaning": job.meaning}
            else:
                sent_at = self._send_trajectory(trajectory, goal, message)
            job.delivered = True
            timings["total_s"] = sent_at - job.received  # command callback -> trajectory handed to DDS
            if goal is not None:
                goal.delivered(message, timings, trajectory.duration)
                if previewed:
                    goal.outcome_when_done = PREVIEWED
                    goal.result.message = f"on {self.preview_pub.topic_name}; ~/execute sends it"
                elif goal.via_controller:
                    goal.feedback(EXECUTING, f"sent to {self.config.action_name}")
                else:
                    goal.outcome_when_done = PUBLISHED
                    goal.result.message = (f"published on {self.trajectory_pub.topic_name} (no controller action "
                                           "server: no execution result)")
        stamp = self.get_clock().now().to_msg()
        # The base path on the joint trajectory's time grid: each motion sample at its shaped time.
        keep = shaping.sample_times <= trajectory.duration + 1e-9
        self._publish(self.path_pub, ros_messages.base_path_msg(
            shaping.sample_times[keep], plan.base_positions[keep],
            plan.base_orientations[keep], self.config.world_frame, stamp))
        self._publish(self.skeleton_pub,
                      ros_messages.skeleton_markers(human_joints, self.config.world_frame, stamp))
        with self._lock:
            self._counters["previewed" if previewed else "published"] += 1
            self._timings.update({k: round(v, 4) for k, v in timings.items()})
            self._timings["trajectory_s"] = round(trajectory.duration, 3)
            # how much the shaping slowed the motion down (1.0: it kept its time; with keep_time the retargeter
            # solves within the published limits, so only what it could not keep is slowed down)
            self._timings["motion_stretch"] = round(shaping.stretch, 3)
        if previewed:
            self._log_command(job.payload, f"meaning {job.meaning}; previewed in {timings['total_s']:.2f} s, "
                                           f"waiting for ~/execute", trajectory.duration)
            self._report("ok", f"preview of command '{_short(job.payload)}': {len(trajectory.times)} points, "
                               f"{trajectory.duration:.2f} s on {self.preview_pub.topic_name}; ~/execute sends it")
            return True
        if job.kind == "command":
            self._log_command(job.payload, f"meaning {job.meaning}; published in {timings['total_s']:.2f} s",
                              trajectory.duration)
        what = f"command '{_short(job.payload)}'" if job.kind == "command" else "prediction"
        self._report("ok", f"published {what}: {len(trajectory.times)} points, {trajectory.duration:.2f} s"
                     + (f", {shaping.dropped_s:.1f} s cut at max_duration" if shaping.dropped_s else ""))
        return True

    def _shaped(self, plan: Any) -> tuple[JointTrajectoryData, Any]:
        """The robot trajectory of ``plan`` from the current joint state: all robot joints, masked joints held,
        timed and limited by the one shaper, then gated by the contract check (raises ValueError)."""
        state = self._current_state()
        check_start_state(state, self.limits, self.config.start_state_tolerance)
        names, positions = expand_to_robot_joints(plan.joint_names, plan.positions, self.limits.joint_names, state)
        if self.config.moving_joints != ["*"]:
            positions = hold_masked_joints(positions, state, moving_mask(names, self.config.moving_joints))
        trajectory, shaping = shape_trajectory(names, plan.times, positions, state, self.limits, self.shaping)
        check_trajectory(trajectory, state, self.limits, self.config.max_duration)  # the gate
        return trajectory, shaping

    def _on_execute(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        """Preview mode: send the previewed command's trajectory, shaped from the robot's state now."""
        with self._publish_lock:
            pending = self._preview
            try:
                if pending is None:
                    raise ValueError("nothing to execute: no previewed command waiting"
                                     + ("" if self.config.preview else " (preview mode is off)"))
                trajectory, _ = self._shaped(pending["plan"])
                self._send_trajectory(trajectory)
            except ValueError as error:
                response.success, response.message = False, f"~/execute: {error}"
                self._report("warn", response.message)
                return response
            self._preview = None
        with self._lock:
            self._counters["published"] += 1
        self._log_command(pending["command"], f"meaning {pending['meaning']}; executed after preview",
                          trajectory.duration)
        response.success = True
        response.message = (f"executing command '{_short(pending['command'])}': {len(trajectory.times)} points, "
                            f"{trajectory.duration:.2f} s")
        self._report("ok", response.message)
        return response

    def _on_dropped(self, job: Job, reason: str) -> None:
        if job.delivered:  # its trajectory is out; only its caption is skipped
            goal = job.goal
            if goal is not None and goal.outcome_when_done:
                goal.finish(goal.outcome_when_done, goal.result.message)
            return
        with self._lock:
            self._counters["dropped"] += 1
            text = f"dropped {job.kind} #{job.id}"
            if job.kind == "command":
                text += f" '{_short(job.payload)}'"
            self._last["dropped"] = f"{text}: {reason}"
        if job.kind == "command":
            self._end_command(job.payload, job.goal, CANCELLED, reason)
        self._report("ok" if job.kind == "predict" else "warn", self._last["dropped"])

    def _on_job_error(self, job: Job, error: BaseException) -> None:
        """Every failure counts and reaches ~/status; the log gets it once, then, while jobs of that kind keep
        failing the same way (prediction on a bad pose stream fails every tick), at most every error_log_interval."""
        text = f"{job.kind} #{job.id}: {type(error).__name__}: {error}"
        key = (job.kind, type(error).__name__)
        now = time.monotonic()
        with self._lock:
            self._counters["errors"] += 1
            self._last["error"] = text
            logged_at, suppressed = self._error_log.get(key, (None, 0))
            log = logged_at is None or now - logged_at >= self.config.error_log_interval
            if len(self._error_log) >= ERROR_LOG_KEYS and key not in self._error_log:
                self._error_log.clear()  # bounded: a few kinds x error types in practice
            self._error_log[key] = (now, 0) if log else (logged_at, suppressed + 1)
        if log:
            self.get_logger().error(text + (f" ({suppressed} more like it not logged since the last one)"
                                            if suppressed else ""))
        if job.kind == "command" and not job.delivered:
            self._end_command(job.payload, job.goal, FAILED, f"{type(error).__name__}: {error}")
        elif job.goal is not None and job.goal.outcome_when_done:  # only the caption failed
            job.goal.finish(job.goal.outcome_when_done, f"{job.goal.result.message}; no caption: {error}")
        self._report("error", text, log=False)

    def _end_command(self, text: str, goal: CommandGoal | None, outcome: str, reason: str) -> None:
        """A command that ends without a trajectory (refused, cancelled, failed): its log line and its goal."""
        self._log_command(text, f"{outcome}: {reason}")
        if goal is not None:
            goal.finish(outcome, reason)

    def _log_command(self, text: str, outcome: str, duration_s: float | None = None) -> None:
        """The one INFO line a command gets when it is finished (published, refused, cancelled or failed)."""
        self.get_logger().info(command_log_line(text, command_steps(text), duration_s, outcome))

    # ------------------------------------------------------------------ outputs
    def _current_state(self) -> np.ndarray:
        with self._lock:
            if self._joint_state is None:
                raise StaleJointStateError(f"no joint state received on {self.topic['joint_states']}")
            positions, received = self._joint_state
        age = time.monotonic() - received
        if age > self.config.joint_state_timeout:
            raise StaleJointStateError(
                f"last joint state is {age:.2f} s old (joint_state_timeout {self.config.joint_state_timeout} s)")
        return positions.copy()

    def _send_trajectory(self, trajectory: JointTrajectoryData, goal: CommandGoal | None = None,
                         message: JointTrajectory | None = None) -> float:
        """Send on the controller's action (when its server is up) or the topic; returns time.monotonic()
        right after sending. The command goal whose trajectory was executing is told it was superseded."""
        message = message if message is not None else ros_messages.trajectory_msg(trajectory)
        previous, self._executing_goal = self._executing_goal, goal
        if previous is not None and previous is not goal and not previous.stopped_reason:
            previous.stopped_reason = "superseded by a newer trajectory"
        if self.action_client is not None and self.action_client.server_is_ready():
            request = self._follow_joint_trajectory.Goal(trajectory=message)
            self._set_goal_tolerances(request)
            feedback = partial(self._on_controller_feedback, goal) if goal is not None else None
            # from the executor's thread: sent from this one (a job's worker), rclpy could drop the answer
            future = request_on_executor(self.executor, partial(self.action_client.send_goal_async, request,
                                                                feedback_callback=feedback))
            sent_at = time.monotonic()
            if goal is not None:
                goal.via_controller = True
            future.add_done_callback(partial(self._on_goal_response, goal))
            self._record(self.config.action_name + "/goal", message)
            return sent_at
        return self._publish(self.trajectory_pub, message)

    def _set_goal_tolerances(self, request: Any) -> None:
        """goal_tolerance on every joint and goal_time_tolerance, when set (0: the controller's own)."""
        from control_msgs.msg import JointTolerance

        if self.config.goal_tolerance > 0:
            request.goal_tolerance = [JointTolerance(name=name, position=self.config.goal_tolerance)
                                      for name in request.trajectory.joint_names]
        if self.config.goal_time_tolerance > 0:
            request.goal_time_tolerance = ros_messages.duration_msg(self.config.goal_time_tolerance)

    def _on_goal_response(self, goal: CommandGoal | None, future) -> None:
        handle = future.result()
        if handle is None or not handle.accepted:
            text = f"{self.config.action_name} rejected the trajectory goal"
            self._report("error", text)
            if goal is not None:
                goal.finish(FAILED, text)
            return
        self._goal_handle = handle
        handle.get_result_async().add_done_callback(partial(self._on_controller_result, goal, handle))

    def _on_controller_feedback(self, goal: CommandGoal, message: Any) -> None:
        desired = message.feedback.desired.time_from_start
        goal.controller_progress(desired.sec + desired.nanosec * 1e-9)

    def _on_controller_result(self, goal: CommandGoal | None, handle: Any, future) -> None:
        """The controller has ended a trajectory goal: say so when it failed, and end its command goal."""
        from action_msgs.msg import GoalStatus

        response = future.result()
        names = {GoalStatus.STATUS_SUCCEEDED: "SUCCEEDED", GoalStatus.STATUS_ABORTED: "ABORTED",
                 GoalStatus.STATUS_CANCELED: "CANCELED"}
        status = names.get(response.status, f"status {response.status}")
        result = ControllerResult(status, int(response.result.error_code), str(response.result.error_string))
        if self._goal_handle is handle:
            self._goal_handle = None
        stopped = goal.stopped_reason if goal is not None else ""
        if not result.executed and not stopped:
            self._report("warn", f"{self.config.action_name}: trajectory {status}, error_code {result.error_code}"
                                 + (f": {result.error_string}" if result.error_string else ""))
        if goal is not None:
            outcome, message = controller_outcome(result, bool(stopped))
            goal.finish(outcome, f"{stopped}; {message}" if stopped else message, result)

    def _publish(self, publisher, message: Any) -> float:
        if not self.context.ok():
            return time.monotonic()  # shutting down (SIGINT): the worker may still finish a job
        publisher.publish(message)
        sent_at = time.monotonic()
        self._record(publisher.topic_name, message)
        return sent_at

    def _report(self, level: str, message: str, log: bool = True, **extra: Any) -> None:
        with self._lock:
            if extra.get("command"):
                self._last["command"] = _short(extra["command"], 200)
            self._last_status = (level, message)
        if level == "error" and log:
            self.get_logger().error(message)
        self._publish_status()

    def _publish_status(self) -> None:
        with self._lock:
            level, message = getattr(self, "_last_status", ("ok", self._state))
            state = self._state if self._state != "ready" else ("busy" if self.worker_busy() else "ready")
            values: dict[str, Any] = {"state": state, **self._counters}
            values.update({f"last_{k}": v for k, v in self._last.items()})
            values.update(self._timings)
            values["robot_joints"] = len(self.limits.joint_names)
            values["joint_state_age_s"] = ("none" if self._joint_state is None
                                           else round(time.monotonic() - self._joint_state[1], 3))
            values["model_path"] = getattr(self, "_model_path", "")
        stamp = self.get_clock().now().to_msg()
        self._publish(self.status_pub, ros_messages.status_msg(stamp, STATUS_NAME, level, message, values))
        if self.diagnostics_pub is not None:  # one topic for every node: the name says which node it is
            name = f"{self.get_fully_qualified_name().lstrip('/')}: motion pipeline"
            self._publish(self.diagnostics_pub, ros_messages.status_msg(stamp, name, level, message, values))

    def worker_busy(self) -> bool:
        worker = getattr(self, "worker", None)
        return bool(worker is not None and worker.busy)

    def close(self) -> None:
        self.worker.stop()
        self._describe_thread.shutdown(wait=True, cancel_futures=True)
        if self.recorder is not None:
            self.recorder.close()


def command_steps(text: str) -> tuple[str, ...] | None:
    """The steps MotionGPT splits `text` into (motiongpt.lm.commands.split_command); None when it cannot."""
    try:
        from motiongpt.lm.commands import split_command

        return tuple(split_command(text))
    except Exception:  # noqa: BLE001 - only for the log line; the planner reports the real error
        return None


def command_log_line(text: str, steps: tuple[str, ...] | list[str] | None, duration_s: float | None,
                     outcome: str) -> str:
    """`command 'walk forward, then wave' -> 2 steps ['walk forward', 'wave'], 6.4 s, published in 0.21 s`:
    the steps and the motion duration are left out when unknown (a refused, cancelled or failed command)."""
    parts = []
    if steps is not None:
        steps = [str(step) for step in steps]
        parts.append(f"{len(steps)} step{'' if len(steps) == 1 else 's'} {steps!r}")
    if duration_s is not None:
        parts.append(f"{duration_s:.1f} s")
    parts.append(outcome)
    return f"command '{_short(text, 200)}' -> " + ", ".join(parts)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
