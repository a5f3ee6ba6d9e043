"""The node's parameters as data: name, default, description and allowed range or choices.

`PARAMETERS` is the single source: the node declares each one with a ParameterDescriptor, the YAML
file in config/ sets them, and `NodeConfig` is the typed, validated result. Parameters marked `dynamic`
can be changed while the node runs (`ros2 param set`), validated by the same `NodeConfig.from_values`;
the others are read-only (they shape publishers, timers, the model or the worker at startup).

Topic names are relative (`command`, `joint_states`, `human_pose`, `joint_trajectory`,
`follow_joint_trajectory`), so a namespace applies and remapping works; the node's own outputs
(`~/status`, `~/description`, `~/base_path`, `~/skeleton`) are private names.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from motiongpt_node.command_policy import DEFAULT_ALLOWED_MOTIONS

if TYPE_CHECKING:
    from motiongpt_node.joint_limits import JointLimits
    from motiongpt_node.trajectory_shaping import ShapingConfig


class ConfigError(ValueError):
    """A parameter value outside its range or choices."""


@dataclass(frozen=True)
class ParameterSpec:
    name: str
    default: Any
    description: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    dynamic: bool = False  # changeable at run time


DYNAMIC = {"dynamic": True}


PARAMETERS: tuple[ParameterSpec, ...] = (
    ParameterSpec("model_path", "", "folder of the MotionGPT model (MotionGPT.from_pretrained); empty: the shipped models/motiongpt-small"),
    ParameterSpec("device", "auto", "where the model runs: auto (cuda when available), cpu or cuda", choices=("auto", "cpu", "cuda")),
    ParameterSpec("backend", "auto", "inference backend: auto (onnxruntime when the model folder has an onnx/ export and onnxruntime is installed: several times faster on CPU, see models/motiongpt-small/MODEL_CARD.md; else torch), torch or onnxruntime", choices=("auto", "torch", "onnxruntime")),
    ParameterSpec("cpu_threads", 1, "torch threads when the model runs on the CPU; 0: one per core, which slows generation sharply when the node's other threads share the cores", low=0, high=256),
    ParameterSpec("robot", "g1", "robot name or YAML file for retargeting.Retargeter.from_robot"),
    ParameterSpec("urdf_path", "", "URDF that gives joint position and velocity limits; empty: the retargeter's URDF"),
    ParameterSpec("seed", -1, "random seed for motion sampling; -1: not seeded", low=-1, high=2**31 - 1, **DYNAMIC),
    ParameterSpec("candidates", 0, "motions sampled per prompt of a command step, the best fit kept (fewer: faster, less faithful); 0: the model folder's text_to_motion.candidates", low=0, high=64, **DYNAMIC),
    ParameterSpec("temperature", 0.0, "sampling temperature of a command's steps (lower: the likeliest motion for the words, less varied; higher: more varied); 0: the model folder's text_to_motion.temperature (0.9 for the shipped model, chosen on its val split)", low=0.0, high=5.0, **DYNAMIC),
    ParameterSpec("guidance", 0.0, "classifier-free guidance scale of a command's steps (1: none; higher: the motion follows the words' action and style more closely, less varied); 0: the model folder's text_to_motion.guidance (1.5 for the shipped model, chosen on its val split); values between 0 and 1 are refused", low=0.0, high=10.0, **DYNAMIC),
    ParameterSpec("command_topic", "command", "std_msgs/String text commands in"),
    ParameterSpec("joint_states_topic", "joint_states", "sensor_msgs/JointState of the robot in"),
    ParameterSpec("human_pose_topic", "human_pose", "geometry_msgs/PoseArray in: the 22 SMPL joints in SMPL order, positions in metres, frame Z up (x forward, y left)"),
    ParameterSpec("trajectory_topic", "joint_trajectory", "trajectory_msgs/JointTrajectory out (URDF joint names); the launch file remaps it to joint_trajectory_controller/joint_trajectory"),
    ParameterSpec("base_path_topic", "~/base_path", "nav_msgs/Path out: the pelvis trajectory of the motion"),
    ParameterSpec("description_topic", "~/description", "std_msgs/String out: caption of the motion just generated or of the pose stream"),
    ParameterSpec("skeleton_topic", "~/skeleton", "visualization_msgs/MarkerArray out: stick-figure preview of the human motion"),
    ParameterSpec("status_topic", "~/status", "diagnostic_msgs/DiagnosticArray out: state, last error, drops, timings"),
    ParameterSpec("preview_topic", "~/preview", "trajectory_msgs/JointTrajectory out: in preview mode, the trajectory a command would run, before ~/execute"),
    ParameterSpec("diagnostics_topic", "/diagnostics", "diagnostic_msgs/DiagnosticArray out: the same status, named after the node's full name, on the topic diagnostic_aggregator and rqt_runtime_monitor read (absolute by ROS convention); empty: not published"),
    ParameterSpec("use_action", True, "send FollowJointTrajectory goals when control_msgs is importable and the server is up; else the topic"),
    ParameterSpec("action_name", "follow_joint_trajectory", "the controller's FollowJointTrajectory action; the launch file remaps it to joint_trajectory_controller/follow_joint_trajectory"),
    ParameterSpec("goal_tolerance", 0.0, "FollowJointTrajectory goal tolerance on every joint's final position (rad): the controller aborts the goal (GOAL_TOLERANCE_VIOLATED) when a joint is further off goal_time_tolerance after the end; 0: the controller's own constraints", low=0.0, high=3.2, **DYNAMIC),
    ParameterSpec("goal_time_tolerance", 0.0, "FollowJointTrajectory goal_time_tolerance (s): how long after the trajectory's end the joints may take to come within goal_tolerance; 0: the controller's own", low=0.0, high=60.0, **DYNAMIC),
    ParameterSpec("world_frame", "world", "frame_id of the base path and the skeleton preview", **DYNAMIC),
    ParameterSpec("max_duration", 10.0, "longest trajectory ever published (s)", low=0.5, high=60.0, **DYNAMIC),
    ParameterSpec("max_points", 120, "most points of one published trajectory; longer motions are resampled evenly in time (120 x 29 G1 joints = about 57 KB: Cyclone DDS readers may miss JointTrajectory samples above 64 KB, see README)", low=3, high=100000, **DYNAMIC),
    ParameterSpec("seconds_per_step", 0.0, "length of each step of a command (s); 0: the model decides; a step that says its length ('wave for 2 seconds') is that long", low=0.0, high=30.0, **DYNAMIC),
    ParameterSpec("max_command_chars", 1000, "longest accepted command (characters)", low=1, high=100000, **DYNAMIC),
    ParameterSpec("max_joint_state_names", 512, "most names one joint state may carry; a longer message is refused (bounds the work per message)", low=1, high=100000, **DYNAMIC),
    ParameterSpec("max_command_steps", 8, "most steps one command may have (\"walk, then wave, then ...\"); more is refused before anything is generated (the model allows at most motiongpt.lm.api.MAX_COMMAND_STEPS)", low=1, high=8, **DYNAMIC),
    ParameterSpec("allowed_motions", list(DEFAULT_ALLOWED_MOTIONS), "actions a command may mean (the model's action names, see motiongpt_node/command_policy.py); a step that means anything else is refused. Default: locomotion and gestures; flips, cartwheels, rolls, spins, kicks, jumps, crawling, getting up and dancing need a balancing controller. '*' allows every action", **DYNAMIC),
    ParameterSpec("refuse_unknown", True, "refuse a command step that is far from anything the model was taught (meaning similarity below the threshold, or nearer to a request the model cannot do than to any it can) instead of executing the nearest motion", **DYNAMIC),
    ParameterSpec("min_meaning_similarity", 0.0, "threshold of refuse_unknown (cosine similarity of the request to the nearest training caption); 0: the model's own, chosen on its val split", low=0.0, high=1.0, **DYNAMIC),
    ParameterSpec("unknown_margin", 0.0, "the other rule of refuse_unknown: a step whose similarity to the nearest request the model cannot do (motiongpt/lm/out_of_vocabulary_phrasings.yaml) minus that to the nearest caption or request of its actions is at least this is refused (higher: fewer refused; 2: none by this rule); 0: the model's own (-0.075 for the shipped model), chosen with its similarity threshold on its val split", low=-1.0, high=2.0, **DYNAMIC),
    ParameterSpec("preview", False, "preview mode: a command's trajectory goes to the preview topic (with its base path and skeleton) and is sent to the controller only on ~/execute, shaped again from the robot's state at that time; recommended on real hardware", **DYNAMIC),
    ParameterSpec("moving_joints", ["*"], "fnmatch patterns of the joints a trajectory may move (e.g. ['*_shoulder_*', '*_elbow_joint', '*_wrist_*'] for arms only); the other joints hold their current position", **DYNAMIC),
    ParameterSpec("max_pending", 1, "commands waiting behind the running one; older ones are dropped (latest wins)", low=1, high=16),
    ParameterSpec("max_joint_velocity", 0.0, "extra cap on every joint speed (rad/s) on top of the robot's limits (the URDF's, with the robot config's per-joint limits and cap: retargeting/robots/<robot>.yaml, 9.42 rad/s for the G1); 0: none", low=0.0, high=50.0, **DYNAMIC),
    ParameterSpec("velocity_scale", 0.9, "fraction of each velocity limit a trajectory may use", low=0.1, high=1.0, **DYNAMIC),
    ParameterSpec("max_joint_acceleration", 0.0, "extra cap on every joint's acceleration (rad/s^2) on top of the robot's (the robot config's max_joint_acceleration: retargeting/robots/<robot>.yaml, 120 rad/s^2 for the G1, 80 for Talos and Romeo; servos lag in proportion to acceleration); 0: none", low=0.0, high=1000.0, **DYNAMIC),
    ParameterSpec("keep_time", True, "true: motions are retargeted within the velocity and acceleration limits above, so a motion keeps its time (a run or a dash faster than they allow is tracked less closely instead); false: retargeted within the robot's own velocity limits, and the parts faster than the limits above are slowed down in time (closer tracking, longer motions)", **DYNAMIC),
    ParameterSpec("transition_velocity", 1.0, "joint speed of the move from the current state to the motion's first pose (rad/s)", low=0.05, high=10.0, **DYNAMIC),
    ParameterSpec("min_transition", 0.1, "shortest move from the current state to the motion's first pose (s)", low=0.0, high=5.0, **DYNAMIC),
    ParameterSpec("joint_state_timeout", 1.0, "a joint state older than this (s) is stale: nothing is published", low=0.05, high=60.0, **DYNAMIC),
    ParameterSpec("start_state_tolerance", 0.05, "how far (rad) the measured state may be outside the URDF limits", low=0.0, high=0.5, **DYNAMIC),
    ParameterSpec("caption_generated", True, "publish a caption of each generated motion on the description topic", **DYNAMIC),
    ParameterSpec("pose_history", 10.0, "seconds of ~/human_pose kept", low=1.0, high=60.0),
    ParameterSpec("describe_seconds", 4.0, "seconds of pose stream captioned by ~/describe", low=1.0, high=60.0, **DYNAMIC),
    ParameterSpec("prediction_enabled", False, "every prediction_period, publish the robot trajectory for the predicted continuation of the pose stream"),
    ParameterSpec("prediction_period", 2.0, "seconds between predictions", low=0.2, high=60.0),
    ParameterSpec("prediction_context", 2.0, "seconds of pose stream the prediction starts from", low=0.5, high=10.0, **DYNAMIC),
    ParameterSpec("prediction_seconds", 2.0, "seconds of motion predicted", low=0.5, high=10.0, **DYNAMIC),
    ParameterSpec("service_queue_depth", 100, "request and reply queue depth of ~/cancel and ~/describe: requests sent back to back beyond it may be lost by the middleware", low=1, high=10000),
    ParameterSpec("stay_up_on_error", False, "false: a model or retargeter that cannot be loaded (missing, truncated or corrupt model, device=cuda without a GPU) ends the node with exit code 1 and one line; true: the node stays up in state=error and refuses commands"),
    ParameterSpec("error_log_interval", 10.0, "a failing job (e.g. prediction on a bad pose stream) is logged once, then at most every this many seconds while it keeps failing the same way; ~/status and the error counter see every failure", low=0.1, high=3600.0, **DYNAMIC),
    ParameterSpec("status_period", 1.0, "seconds between periodic status messages", low=0.1, high=60.0),
    ParameterSpec("record_bag", "", "folder of a rosbag2 (mcap) to record the node's inputs and outputs into; empty: no recording"),
)
SPECS: dict[str, ParameterSpec] = {spec.name: spec for spec in PARAMETERS}


@dataclass(frozen=True)
class NodeConfig:
    model_path: str
    device: str
    backend: str
    cpu_threads: int
    robot: str
    urdf_path: str
    seed: int
    candidates: int
    temperature: float
    guidance: float
    command_topic: str
    joint_states_topic: str
    human_pose_topic: str
    trajectory_topic: str
    base_path_topic: str
    description_topic: str
    skeleton_topic: str
    status_topic: str
    preview_topic: str
    diagnostics_topic: str
    use_action: bool
    action_name: str
    goal_tolerance: float
    goal_time_tolerance: float
    world_frame: str
    max_duration: float
    max_points: int
    seconds_per_step: float
    max_command_chars: int
    max_joint_state_names: int
    max_command_steps: int
    allowed_motions: list
    refuse_unknown: bool
    min_meaning_similarity: float
    unknown_margin: float
    preview: bool
    moving_joints: list
    max_pending: int
    max_joint_velocity: float
    velocity_scale: float
    max_joint_acceleration: float
    keep_time: bool
    transition_velocity: float
    min_transition: float
    joint_state_timeout: float
    start_state_tolerance: float
    caption_generated: bool
    pose_history: float
    describe_seconds: float
    prediction_enabled: bool
    prediction_period: float
    prediction_context: float
    prediction_seconds: float
    service_queue_depth: int
    stay_up_on_error: bool
    error_log_interval: float
    status_period: float
    record_bag: str

    @classmethod
    def from_values(cls, values: dict[str, Any]) -> "NodeConfig":
        """Validated config from {name: value}; missing names take their defaults."""
        unknown = sorted(set(values) - set(SPECS))
        if unknown:
            raise ConfigError(f"unknown parameters {unknown}")
        resolved: dict[str, Any] = {}
        for spec in PARAMETERS:
            value = values.get(spec.name, spec.default)
            kind = type(spec.default)
            if kind is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if type(value) is not kind:
                raise ConfigError(f"parameter {spec.name} must be {kind.__name__}, got {value!r}")
            if kind is list and not (value and all(isinstance(v, str) and v.strip() for v in value)):
                raise ConfigError(f"parameter {spec.name} must be a non-empty list of non-empty strings, got {value!r}")
            if spec.choices and value not in spec.choices:
                raise ConfigError(f"parameter {spec.name} must be one of {list(spec.choices)}, got {value!r}")
            if spec.low is not None and (not math.isfinite(value) or not spec.low <= value <= spec.high):
                raise ConfigError(f"parameter {spec.name}={value} is outside [{spec.low}, {spec.high}]")
            resolved[spec.name] = value
        if 0 < resolved["guidance"] < 1:
            raise ConfigError(f"parameter guidance must be 0 (the model folder's) or in [1, 10], got "
                              f"{resolved['guidance']}")
        return cls(**resolved)

    def shaping(self) -> "ShapingConfig":
        """How a motion becomes a published trajectory under these parameters (motiongpt_node/trajectory_shaping.py)."""
        from motiongpt_node.trajectory_shaping import ShapingConfig

        return ShapingConfig(self.max_duration, self.min_transition, self.transition_velocity, self.velocity_scale,
                             self.max_points)

    def published_limits(self, robot_limits: "JointLimits") -> "JointLimits":
        """The limits this config's trajectories keep (`trajectory_shaping.published_limits` of the capped robot
        limits): the node retargets within them when keep_time is on."""
        from motiongpt_node.trajectory_shaping import published_limits

        return published_limits(self.capped(robot_limits), self.shaping())

    def capped(self, limits: "JointLimits") -> "JointLimits":
        """The robot's limits with this config's extra velocity and acceleration caps (max_joint_velocity,
        max_joint_acceleration; 0: none)."""
        if self.max_joint_velocity > 0:
            limits = limits.with_velocity_cap(self.max_joint_velocity)
        if self.max_joint_acceleration > 0:
            limits = limits.with_acceleration_cap(self.max_joint_acceleration)
        return limits

    @classmethod
    def from_yaml(cls, path: str | Path, node_name: str = "motiongpt_node") -> "NodeConfig":
        """Config from a ROS 2 parameter file (`/**:`, `<node>:` or `/<node>:` then `ros__parameters: {...}`)."""
        import yaml

        path = Path(path)
        try:
            document = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError) as error:
            raise ConfigError(f"cannot read parameter file {path}: {error}") from error
        values = None
        for key in ("/**", node_name, "/" + node_name):
            try:
                values = document[key]["ros__parameters"]
                break
            except (TypeError, KeyError):
                continue
        if values is None:
            raise ConfigError(f"parameter file {path} has no /**: (or {node_name}:) ros__parameters: section")
        return cls.from_values(values)


assert [f.name for f in fields(NodeConfig)] == [spec.name for spec in PARAMETERS], "NodeConfig and PARAMETERS disagree"
