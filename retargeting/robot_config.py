"""A robot described by data: the YAML schema of ``retargeting/robots/<name>.yaml``, as dataclasses.

Everything robot-specific lives in the YAML file (see docs/adding_a_robot.md): the URDF, which frames
stand for which SMPL joints, scale multipliers, task weights, fixed offsets, the sole of each foot,
a rest posture, velocity limits where the URDF has none, and the joints to lock.
"""
from __future__ import annotations

import dataclasses
import importlib.metadata
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from retargeting.errors import RetargetError
from motiongpt.skeleton import JOINT_INDEX

ROBOTS_DIR = Path(__file__).resolve().parent / "robots"
SCALE_GROUPS = ("root", "legs", "spine", "arms")
DEFAULT_RIGID_KEYPOINTS = ("left_hip", "right_hip", "left_shoulder", "right_shoulder")
MAX_LEAD = 2.0  # s: the longest look-ahead of a target change (hands_above_head, raise_arms_forward)
ORIENTED_SEGMENTS = ("pelvis", "torso", "left_foot", "right_foot", "left_upper_arm", "right_upper_arm",
                     "left_thigh", "right_thigh")


@dataclasses.dataclass(frozen=True)
class KeypointSpec:
    """An SMPL joint matched by a point fixed on a robot frame."""

    smpl: str
    frame: str
    offset: tuple[float, float, float] = (0.0, 0.0, 0.0)
    weight: float = 1.0


@dataclasses.dataclass(frozen=True)
class OrientationSpec:
    """A body segment whose orientation (derived from the SMPL joints) a robot frame follows."""

    segment: str  # one of ORIENTED_SEGMENTS (upper arms need shoulder, elbow and wrist keypoints)
    frame: str
    weight: float = 1.0
    # The share of the weight that the turn about the vertical carries (the tilt carries all of it): below 1, a
    # foot planted on the ground may pivot rather than tip the body over (see the robot YAML files).
    yaw_share: float = 1.0


@dataclasses.dataclass(frozen=True)
class FootSpec:
    """The sole of a foot: a rectangle on a robot frame, the part that touches the ground."""

    side: str  # left or right
    frame: str
    sole_center: tuple[float, float, float]
    half_length: float
    half_width: float


@dataclasses.dataclass(frozen=True)
class CapsuleSpec:
    """A capsule fixed on the robot: the segment from a point on one frame to a point on another (the same
    frame for a rigid part), swept by a sphere of ``radius`` (m)."""

    name: str
    start_frame: str
    end_frame: str
    radius: float
    start_offset: tuple[float, float, float] = (0.0, 0.0, 0.0)
    end_offset: tuple[float, float, float] = (0.0, 0.0, 0.0)


@dataclasses.dataclass(frozen=True)
class HandsAboveHead:
    """A hand the human holds above the head stays above the robot's head (targets.keep_hands_above_head): the
    wrist target is lifted to at least ``margin`` (m) above the robot's head target once the human's wrist is
    ``margin`` above the human's head (its height above the head scaled, below it), faded in over the last
    ``band`` (m) of the human's wrist below the head; the elbow target is lifted by ``elbow_share`` of the
    wrist's lift, and the elbow's position weight and the upper arm's orientation weight drop by ``release``
    times the lift over ``band`` (at most ``release``), so a wrist lifted far leads the arm."""

    margin: float = 0.03
    band: float = 0.10
    elbow_share: float = 0.5
    release: float = 0.8
    # s: the elbow and upper arm give way this long before the wrist is lifted (the clip is known ahead): released
    # only as the lift starts, an arm already on its way up the wrong way stays there
    lead: float = 0.5


@dataclasses.dataclass(frozen=True)
class RaiseArmsForward:
    """A robot whose shoulders abduct little (Romeo: 65 degrees) raises its arms forward instead of sideways: an
    arm raised sideways more than ``from_deg`` (from hanging down, in the torso frame) is turned about the
    torso's vertical axis towards the front, fully once raised ``to_deg`` and with the hand at the head's height
    (targets.raise_arms_forward); heights are kept, so a hand above the head stays above it. The turn starts
    ``lead`` seconds before the arm is raised that far (the clip is known ahead): turned only as the hand comes
    up, the arm is already abducted to its limit with the elbow bent, a posture the IK does not leave."""

    from_deg: float
    to_deg: float
    lead: float = 0.0


@dataclasses.dataclass(frozen=True)
class SelfCollisionSpec:
    """Capsule pairs the IK keeps apart (retargeting/self_collision.py): a pair closer than ``margin`` (m,
    surface to surface) adds ``weight`` * (margin - distance)^2 to the frame's cost. Empty: no avoidance."""

    capsules: tuple[CapsuleSpec, ...] = ()
    pairs: tuple[tuple[str, str], ...] = ()
    margin: float = 0.01
    weight: float = 100.0


@dataclasses.dataclass(frozen=True)
class SolverSettings:
    """Weights and bounds of the per-frame inverse kinematics (see retargeting/solver.py)."""

    max_iterations: int = 12
    warm_iterations: int = 4
    # A frame's iterations stop when a step lowers the cost by less than tolerance x (1 + cost). 1e-4: the same
    # keypoint error, sliding and stretch as 1e-6 on 253 clips x G1/Talos/Romeo, about 1.3x faster.
    tolerance: float = 1e-4
    damping: float = 1e-3  # initial Levenberg-Marquardt damping of each frame
    min_damping: float = 1e-6  # floor after accepted steps (small: fast final convergence)
    posture_weight: float = 1e-5
    smoothness_weight: float = 1e-3
    contact_weight: float = 100.0
    max_step_halvings: int = 3
    extrapolate: bool = False  # warm start and prior: constant-velocity prediction (else the previous frame)
    max_step: float = 0.25  # rad: largest joint change of one iteration (a trust region against flips)
    restart_cost: float = 0.5  # task cost above which a frame is also solved from other seeds (stuck limb)
    # A frame whose task cost jumps above this many times the previous frame's (and above restart_cost / 4)
    # is also treated as stuck.
    stuck_jump: float = 3.0
    recover_iterations: int = 24  # iteration budget of each recovery seed
    # A recovery from another seed (another basin: a jump away from the previous frame) is kept only when
    # it multiplies the frame's cost by at most this.
    reseed_gain: float = 1.0
    # After a recovery that gained nothing (the target out of reach, not a trapped limb), the following
    # frames are recovered again only when their cost rises stuck_jump times, or after this many frames.
    retry_frames: int = 5
    # Each joint moves at most this fraction of its effective velocity limit per input frame (a hard box in
    # the IK): the raw motion then needs no retiming. 0 disables (the retime then stretches fast motion).
    velocity_box: float = 0.999
    stuck_box: float = 3.0  # a frame still stuck may move this fraction of the limits per frame ...
    stuck_box_gain: float = 0.5  # ... when that multiplies its cost by at most this
    # The widened box while a foot is planted (None: stuck_box). A planted leg's jump cannot be spread over the
    # frames around it (that would slide its sole), so it is retimed: a robot with slow legs keeps its time with
    # a smaller box there, and keeps stuck_box for frames with no foot down (crawling, rolling, in flight).
    stuck_box_planted: float | None = None
    # A foot coming down further than this (m) from its planted sole target pulls with the contact weight times
    # contact_reach / distance: the same pull at any distance, instead of one growing with it (None: the full
    # weight). For robots too slow to land their feet on time (Talos, Romeo: see their YAML files).
    contact_reach: float | None = None


@dataclasses.dataclass(frozen=True)
class RobotConfig:
    """One robot, as read from its YAML file."""

    name: str
    urdf: str
    source: str  # the YAML file (or "<dict>") this came from, for error messages
    root_frame: str
    root_rotation_rpy: tuple[float, float, float]
    keypoints: tuple[KeypointSpec, ...]
    orientations: tuple[OrientationSpec, ...]
    feet: tuple[FootSpec, ...]
    scales: dict[str, float]
    rest_posture: dict[str, float]
    locked_joints: dict[str, float]
    velocity_limits: dict[str, float]
    default_velocity_limit: float
    max_joint_velocity: float | None
    solver: SolverSettings
    # rad/s^2 on every joint of a published trajectory (the ROS node's time scaling: faster changes of speed
    # are slowed down, since position servos lag in proportion to the acceleration asked of them); None: no cap
    max_joint_acceleration: float | None = None
    collision_exclude: tuple[tuple[str, str], ...] = ()
    posture_weights: dict[str, float] = dataclasses.field(default_factory=dict)  # regex on joint names -> weight
    rigid_keypoints: tuple[str, ...] = DEFAULT_RIGID_KEYPOINTS
    # Keypoint -> least lateral distance (m) from the body's mid-plane. Arm keypoints: in the torso frame,
    # while beside the body (below spine3, within clearance_depth front/back), keeping hands and elbows
    # out of the hips and torso. Leg keypoints: in the pelvis frame, always (knees and feet apart, so
    # the thighs do not cut into each other). Empty: no clearance.
    clearance: dict[str, float] = dataclasses.field(default_factory=dict)
    clearance_depth: float = 0.12
    # Joint values of the calibration posture (default all 0): the robot standing straight, arms down
    # with the forearms pointing forward if the arms have orientation targets.
    calibration_posture: dict[str, float] = dataclasses.field(default_factory=dict)
    self_collision: SelfCollisionSpec = SelfCollisionSpec()
    # None, or how a robot whose shoulders abduct little raises its arms forward (RaiseArmsForward)
    raise_arms_forward: RaiseArmsForward | None = None
    # None (YAML: hands_above_head: null) leaves the arm targets as scaled bone by bone.
    hands_above_head: HandsAboveHead | None = HandsAboveHead()

    def urdf_path(self) -> Path:
        return resolve_urdf(self.urdf, self.source)


def example_robot_data_dir() -> Path:
    """The `share` folder of example-robot-data (holds example-robot-data/robots/...)."""
    try:
        dist = importlib.metadata.distribution("example-robot-data")
    except importlib.metadata.PackageNotFoundError as error:  # pragma: no cover - install problem
        raise RetargetError("example-robot-data is not installed; robot URDFs cannot be found") from error
    return Path(str(dist.locate_file("cmeel.prefix/share")))


def resolve_urdf(spec: str, source: str) -> Path:
    """``package://example-robot-data/robots/...``, ``example-robot-data:robots/...``, or a path."""
    if spec.startswith("package://"):
        path = example_robot_data_dir() / spec[len("package://"):]
    elif spec.startswith("example-robot-data:"):
        path = example_robot_data_dir() / "example-robot-data" / spec.split(":", 1)[1]
    else:
        path = Path(spec).expanduser()
        if not path.is_absolute() and source not in ("<dict>", ""):
            path = Path(source).resolve().parent / path
    if not path.is_file():
        raise RetargetError(f"{source}: URDF file not found: {path}")
    return path


def _vec3(value: Any, what: str, source: str) -> tuple[float, float, float]:
    try:
        out = tuple(float(v) for v in value)
    except (TypeError, ValueError) as error:
        raise RetargetError(f"{source}: {what} must be three numbers, got {value!r}") from error
    if len(out) != 3:
        raise RetargetError(f"{source}: {what} must be three numbers, got {value!r}")
    return out  # type: ignore[return-value]


def _float_map(value: Any, what: str, source: str) -> dict[str, float]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RetargetError(f"{source}: {what} must be a mapping of joint name to number")
    try:
        return {str(k): float(v) for k, v in value.items()}
    except (TypeError, ValueError) as error:
        raise RetargetError(f"{source}: {what} must map names to numbers: {error}") from error


# Every top-level key of a robot description (see retargeting/robots/*.yaml).
ROBOT_KEYS = frozenset({
    "name", "urdf", "root_frame", "root_rotation_rpy", "keypoints", "orientations", "feet", "scales", "rest_posture",
    "locked_joints", "posture_weights", "velocity_limits", "default_velocity_limit", "max_joint_velocity",
    "max_joint_acceleration", "calibration_posture", "solver", "rigid_keypoints", "hands_above_head",
    "raise_arms_forward", "self_collision", "collision_exclude", "clearance", "clearance_depth",
})


def config_from_dict(data: dict[str, Any], source: str = "<dict>") -> RobotConfig:
    """Validate a parsed YAML document and build the :class:`RobotConfig`."""
    if not isinstance(data, dict):
        raise RetargetError(f"{source}: a robot description must be a YAML mapping")
    for key in ("name", "urdf", "root_frame", "keypoints", "feet"):
        if key not in data:
            raise RetargetError(f"{source}: missing required key '{key}'")
    unknown = sorted(set(data) - ROBOT_KEYS)
    if unknown:  # a misspelt key would otherwise be ignored without a word (its default taken)
        raise RetargetError(f"{source}: unknown keys {unknown} (a robot description has {sorted(ROBOT_KEYS)})")
    keypoints = []
    for item in data["keypoints"]:
        _known_keys(item, ("smpl", "frame", "offset", "weight"), "a keypoint", source)
        if item.get("smpl") not in JOINT_INDEX:
            raise RetargetError(f"{source}: keypoint {item!r} names no SMPL joint (see motiongpt/skeleton.py)")
        keypoints.append(KeypointSpec(
            smpl=item["smpl"], frame=str(item["frame"]),
            offset=_vec3(item.get("offset", (0, 0, 0)), f"offset of keypoint {item['smpl']}", source),
            weight=float(item.get("weight", 1.0)),
        ))
    mapped = [k.smpl for k in keypoints]
    for needed in ("pelvis", "left_hip", "right_hip", "left_ankle", "right_ankle"):
        if needed not in mapped:
            raise RetargetError(f"{source}: the keypoints must include the SMPL {needed}")
    if len(set(mapped)) != len(mapped):
        raise RetargetError(f"{source}: an SMPL joint is mapped twice in keypoints")
    orientations = []
    for item in data.get("orientations", []):
        _known_keys(item, ("segment", "frame", "weight", "yaw_share"), "an orientation", source)
        if item.get("segment") not in ORIENTED_SEGMENTS:
            raise RetargetError(f"{source}: orientation segment must be one of {ORIENTED_SEGMENTS}: {item!r}")
        yaw_share = item.get("yaw_share", 1.0)
        if isinstance(yaw_share, bool) or not isinstance(yaw_share, (int, float)) or not 0.0 <= yaw_share <= 1.0:
            raise RetargetError(f"{source}: yaw_share of orientation {item['segment']} must be a number from 0 to 1, "
                                f"got {yaw_share!r}")
        orientations.append(OrientationSpec(segment=item["segment"], frame=str(item["frame"]),
                                            weight=float(item.get("weight", 1.0)), yaw_share=float(yaw_share)))
    segments = {o.segment for o in orientations}
    if not {"left_foot", "right_foot"} <= segments:
        raise RetargetError(f"{source}: orientations must include left_foot and right_foot (flat feet in contact)")
    feet = []
    for item in data["feet"]:
        _known_keys(item, ("side", "frame", "sole_center", "half_length", "half_width"), "a foot", source)
        if item.get("side") not in ("left", "right"):
            raise RetargetError(f"{source}: foot side must be left or right: {item!r}")
        feet.append(FootSpec(
            side=item["side"], frame=str(item["frame"]),
            sole_center=_vec3(item.get("sole_center", (0, 0, 0)), f"sole_center of the {item['side']} foot", source),
            half_length=float(item.get("half_length", 0.1)), half_width=float(item.get("half_width", 0.05)),
        ))
    if sorted(f.side for f in feet) != ["left", "right"]:
        raise RetargetError(f"{source}: feet must describe exactly one left and one right foot")
    scales = {group: 1.0 for group in SCALE_GROUPS}
    for group, value in (data.get("scales") or {}).items():
        if group not in SCALE_GROUPS:
            raise RetargetError(f"{source}: unknown scale group '{group}' (use {', '.join(SCALE_GROUPS)})")
        scales[group] = float(value)
        if not scales[group] > 0:
            raise RetargetError(f"{source}: scale '{group}' must be positive")
    solver_fields = {f.name for f in dataclasses.fields(SolverSettings)}
    solver_data = data.get("solver") or {}
    unknown = set(solver_data) - solver_fields
    if unknown:
        raise RetargetError(f"{source}: unknown solver settings {sorted(unknown)}")
    max_velocity = data.get("max_joint_velocity")
    max_acceleration = data.get("max_joint_acceleration")
    if max_acceleration is not None:
        try:
            max_acceleration = float(max_acceleration)
        except (TypeError, ValueError) as error:
            raise RetargetError(f"{source}: max_joint_acceleration must be a number (rad/s^2), "
                                f"got {max_acceleration!r}") from error
        if not max_acceleration > 0:  # also NaN
            raise RetargetError(f"{source}: max_joint_acceleration must be positive (or absent: no cap), "
                                f"got {max_acceleration}")
    rigid = tuple(data.get("rigid_keypoints", DEFAULT_RIGID_KEYPOINTS))
    for name in rigid:
        if name not in ("left_hip", "right_hip", "left_shoulder", "right_shoulder", "neck", "head"):
            raise RetargetError(f"{source}: rigid_keypoints may name hips, shoulders, neck or head, not {name!r}")
    return RobotConfig(
        name=str(data["name"]),
        urdf=str(data["urdf"]),
        source=source,
        root_frame=str(data["root_frame"]),
        root_rotation_rpy=_vec3(data.get("root_rotation_rpy", (0, 0, 0)), "root_rotation_rpy", source),
        keypoints=tuple(keypoints),
        orientations=tuple(orientations),
        feet=tuple(sorted(feet, key=lambda f: f.side)),  # left, right
        scales=scales,
        rest_posture=_float_map(data.get("rest_posture"), "rest_posture", source),
        locked_joints=_float_map(data.get("locked_joints"), "locked_joints", source),
        velocity_limits=_float_map(data.get("velocity_limits"), "velocity_limits", source),
        default_velocity_limit=float(data.get("default_velocity_limit", 3.0)),
        max_joint_velocity=None if max_velocity is None else float(max_velocity),
        solver=SolverSettings(**solver_data),
        max_joint_acceleration=max_acceleration,
        collision_exclude=tuple(tuple(pair) for pair in data.get("collision_exclude", [])),
        posture_weights=_float_map(data.get("posture_weights"), "posture_weights", source),
        rigid_keypoints=rigid,
        clearance=_float_map(data.get("clearance"), "clearance", source),
        clearance_depth=float(data.get("clearance_depth", 0.12)),
        calibration_posture=_float_map(data.get("calibration_posture"), "calibration_posture", source),
        self_collision=_self_collision(data.get("self_collision"), source),
        raise_arms_forward=_raise_arms_forward(data.get("raise_arms_forward"), source),
        hands_above_head=_hands_above_head(data.get("hands_above_head", {}), source),
    )


def _known_keys(item: Any, keys: tuple[str, ...], what: str, source: str) -> None:
    if not isinstance(item, dict):
        raise RetargetError(f"{source}: {what} must be a mapping, got {item!r}")
    unknown = sorted(set(item) - set(keys))
    if unknown:
        raise RetargetError(f"{source}: unknown keys {unknown} in {what} {item!r} (it may have {', '.join(keys)})")


def _number_spec(cls, value: Any, key: str, source: str):
    """``cls`` (a dataclass of numbers) from the YAML mapping ``value`` of its fields, the ones without a default
    required; None for null. Ranges are the caller's to check."""
    if value is None:
        return None
    required = [f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING]
    optional = [f.name for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING]
    if not isinstance(value, dict) or not set(required) <= set(value) <= set(required + optional):
        fields = ", ".join(required) + (" and optionally " if required else "optionally ") + ", ".join(optional)
        raise RetargetError(f"{source}: {key} must be null or a mapping with {fields}, got {value!r}")
    try:
        return cls(**{name: float(number) for name, number in value.items()})
    except (TypeError, ValueError) as error:
        raise RetargetError(f"{source}: {key} values must be numbers, got {value!r}") from error


def _hands_above_head(value: Any, source: str) -> HandsAboveHead | None:
    spec = _number_spec(HandsAboveHead, value, "hands_above_head", source)
    if spec is not None and not (spec.margin >= 0.0 and spec.band > 0.0 and 0.0 <= spec.elbow_share <= 1.0
                                 and 0.0 <= spec.release <= 1.0 and 0.0 <= spec.lead <= MAX_LEAD):
        raise RetargetError(f"{source}: hands_above_head needs margin >= 0, band > 0, elbow_share and release in "
                            f"[0, 1], lead in [0, {MAX_LEAD}] s, got {value!r}")
    return spec


def _raise_arms_forward(value: Any, source: str) -> RaiseArmsForward | None:
    spec = _number_spec(RaiseArmsForward, value, "raise_arms_forward", source)
    if spec is None:
        return None
    if not 0.0 <= spec.from_deg < spec.to_deg <= 180.0:
        raise RetargetError(f"{source}: raise_arms_forward needs 0 <= from_deg < to_deg <= 180, got "
                            f"{spec.from_deg}, {spec.to_deg}")
    if not 0.0 <= spec.lead <= MAX_LEAD:
        raise RetargetError(f"{source}: raise_arms_forward lead must be in [0, {MAX_LEAD}] s, got {spec.lead}")
    return spec


def _self_collision(value: Any, source: str) -> SelfCollisionSpec:
    if value is None:
        return SelfCollisionSpec()
    if not isinstance(value, dict):
        raise RetargetError(f"{source}: self_collision must be a mapping (capsules, pairs, margin, weight)")
    unknown = set(value) - {"capsules", "pairs", "margin", "weight"}
    if unknown:
        raise RetargetError(f"{source}: unknown self_collision keys {sorted(unknown)}")
    capsules = []
    for item in value.get("capsules") or []:
        try:
            frames = item.get("frames") or [item["frame"], item["frame"]]
            capsule = CapsuleSpec(
                name=str(item["name"]), start_frame=str(frames[0]), end_frame=str(frames[1]),
                radius=float(item["radius"]),
                start_offset=_vec3(item.get("start", (0, 0, 0)), f"start of capsule {item['name']}", source),
                end_offset=_vec3(item.get("end", (0, 0, 0)), f"end of capsule {item['name']}", source))
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as error:
            raise RetargetError(f"{source}: self_collision capsule needs name, frame (or frames: [a, b]) and "
                                f"radius: {item!r} ({error})") from error
        if not capsule.radius > 0:
            raise RetargetError(f"{source}: capsule {capsule.name} needs a positive radius")
        capsules.append(capsule)
    names = [c.name for c in capsules]
    if len(set(names)) != len(names):
        raise RetargetError(f"{source}: self_collision capsule names must be unique")
    pairs = []
    for pair in value.get("pairs") or []:
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2 and all(p in names for p in pair) and pair[0] != pair[1]):
            raise RetargetError(f"{source}: self_collision pair {pair!r} must name two different capsules of {names}")
        pairs.append((str(pair[0]), str(pair[1])))
    margin, weight = float(value.get("margin", 0.01)), float(value.get("weight", 100.0))
    if margin < 0 or not weight > 0:
        raise RetargetError(f"{source}: self_collision needs margin >= 0 and weight > 0")
    return SelfCollisionSpec(tuple(capsules), tuple(pairs), margin, weight)


def velocity_limits(config: RobotConfig, joint_names: list[str] | tuple[str, ...], urdf_limits: np.ndarray
                    ) -> np.ndarray:
    """The robot's velocity limit per joint (rad/s), the one rule the retargeter and the ROS node both use: the
    URDF's limit (``default_velocity_limit`` where it is 0 or missing), lowered by the YAML's per-joint
    ``velocity_limits`` (which replace a missing URDF limit) and capped at ``max_joint_velocity``."""
    urdf_limits = np.asarray(urdf_limits, dtype=np.float64)
    limits = np.where(np.isfinite(urdf_limits) & (urdf_limits > 0), urdf_limits, config.default_velocity_limit)
    names = list(joint_names)
    for name, value in config.velocity_limits.items():
        if name in names:
            i = names.index(name)
            limits[i] = value if not (urdf_limits[i] > 0) else min(value, urdf_limits[i])
    if config.max_joint_velocity is not None:
        limits = np.minimum(limits, config.max_joint_velocity)
    if not (limits > 0).all():
        raise RetargetError(f"{config.source}: every joint needs a positive velocity limit")
    return limits


def available_robots() -> list[str]:
    return sorted(p.stem for p in ROBOTS_DIR.glob("*.yaml"))


def load_robot_config(name_or_yaml: str | Path) -> RobotConfig:
    """A shipped robot by name (``g1``, ``talos``, ``romeo``) or any robot YAML file by path."""
    text_name = str(name_or_yaml)
    path = Path(text_name)
    if not (text_name.endswith((".yaml", ".yml")) or path.is_file()):
        path = ROBOTS_DIR / f"{text_name}.yaml"
        if not path.is_file():
            raise RetargetError(f"unknown robot '{text_name}': ship one of {available_robots()} or pass a YAML path")
    if not path.is_file():
        raise RetargetError(f"robot description not found: {path}")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise RetargetError(f"{path}: not valid YAML: {error}") from error
    return config_from_dict(data, source=str(path))
