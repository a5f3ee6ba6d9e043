"""DeepMimic motion-capture clips (shipped in ``pybullet_data``) as 22-joint SMPL positions at 20 fps.

The clips (CMU / SFU mocap, re-targeted by the DeepMimic authors to their humanoid) are JSON files
``{"Loop": "wrap"|"none", "Frames": [[44 floats], ...]}``. Per keyframe: [0] its duration in seconds,
[1:4] root position (Y up, metres, the character walks along +x), [4:8] root quaternion (w, x, y, z),
then local joint rotations: chest [8:12], neck [12:16], right hip [16:20], right knee angle [20]
(radians about local z), right ankle [21:25], right shoulder [25:29], right elbow angle [29],
left hip [30:34], left knee [34], left ankle [35:39], left shoulder [39:43], left elbow [43].

Forward kinematics uses the joint offsets of ``pybullet_data/humanoid/humanoid.urdf`` at the scale
DeepMimic loads it with (0.25); every joint frame has identity orientation in its parent, so a
joint's world rotation is the product of the rotations along its chain.

How the 22 SMPL joints are obtained (16 direct, 6 synthesised, see :data:`SYNTHESIS`):

- direct: pelvis = DeepMimic root; hips, knees, ankles, shoulders, elbows, wrists = the joints of the
  same name; SMPL neck = DeepMimic neck joint (base of the neck).
- spine1 = the midpoint of root -> chest; spine2 = the chest joint;
  spine3 = chest + 0.25 (neck - chest) (all on the root -> chest -> neck polyline).
- collars = spine3 + 0.5 (shoulder - spine3) (rigid with the chest).
- head = neck + 0.6 * 0.175 m along the neck link's local +y (the head sphere centre is 0.175 m up).
- feet (SMPL "foot" = ball of the foot) = ankle + R_ankle (0.12, -0.045, 0): 0.12 m forward along the
  foot box and 0.045 m down, i.e. near the front of the sole (the box spans 0.177 m, its centre
  0.045 m forward and its sole 0.05 m below the ankle).

Resampling to 20 fps: keyframe k starts at the sum of the durations before it; root positions and
joint angles are interpolated linearly, rotations by spherical linear interpolation (slerp).
Looping ("wrap") clips can be repeated: cycle k+1 starts where cycle k ended, moved by the rigid
heading-and-ground-translation transform that maps the first keyframe's root onto the last one's
(so walking keeps going forward and turning keeps turning).

Output frame: SMPL convention, Y up, the character's frame-0 facing turned to +Z and frame-0 root at
x = z = 0 (DeepMimic faces +x with its right side at +z, SMPL faces +z with its left side at +x).
Heights are kept: y = 0 is DeepMimic's ground plane.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from motiongpt.data.augment import face_forward
from motiongpt.skeleton import FPS, JOINT_INDEX, NUM_JOINTS

# DeepMimic humanoid joints that carry a rotation, in file order; (name, first column, kind).
ROTATION_COLUMNS: tuple[tuple[str, int, str], ...] = (
    ("chest", 8, "quat"), ("neck", 12, "quat"),
    ("right_hip", 16, "quat"), ("right_knee", 20, "angle"), ("right_ankle", 21, "quat"),
    ("right_shoulder", 25, "quat"), ("right_elbow", 29, "angle"),
    ("left_hip", 30, "quat"), ("left_knee", 34, "angle"), ("left_ankle", 35, "quat"),
    ("left_shoulder", 39, "quat"), ("left_elbow", 43, "angle"),
)
FRAME_WIDTH = 44
URDF_SCALE = 0.25

# Humanoid skeleton: joint -> (parent, offset of the joint in the parent frame, metres, scaled).
# From humanoid.urdf (unscaled values times URDF_SCALE).
SKELETON: dict[str, tuple[str | None, tuple[float, float, float]]] = {
    "root": (None, (0.0, 0.0, 0.0)),
    "chest": ("root", (0.0, 0.236151, 0.0)),
    "neck": ("chest", (0.0, 0.223894, 0.0)),
    "right_hip": ("root", (0.0, 0.0, 0.084887)),
    "right_knee": ("right_hip", (0.0, -0.421546, 0.0)),
    "right_ankle": ("right_knee", (0.0, -0.40987, 0.0)),
    "right_shoulder": ("chest", (-0.02405, 0.2435, 0.18311)),
    "right_elbow": ("right_shoulder", (0.0, -0.274788, 0.0)),
    "right_wrist": ("right_elbow", (0.0, -0.258947, 0.0)),
    "left_hip": ("root", (0.0, 0.0, -0.084887)),
    "left_knee": ("left_hip", (0.0, -0.421546, 0.0)),
    "left_ankle": ("left_knee", (0.0, -0.40987, 0.0)),
    "left_shoulder": ("chest", (-0.02405, 0.2435, -0.18311)),
    "left_elbow": ("left_shoulder", (0.0, -0.274788, 0.0)),
    "left_wrist": ("left_elbow", (0.0, -0.258947, 0.0)),
}

# How each synthesised SMPL joint is made (documentation, and the constants used below).
SPINE1_FRACTION_ROOT_TO_CHEST = 0.5
SPINE3_FRACTION_CHEST_TO_NECK = 0.25
COLLAR_FRACTION_SPINE3_TO_SHOULDER = 0.5
HEAD_OFFSET_IN_NECK_FRAME = (0.0, 0.6 * 0.175, 0.0)
FOOT_OFFSET_IN_ANKLE_FRAME = (0.12, -0.045, 0.0)
SYNTHESIS: dict[str, str] = {
    "spine1": "midpoint of root -> chest",
    "spine2": "the chest joint",
    "spine3": "chest + 0.25 * (neck - chest)",
    "left_collar": "spine3 + 0.5 * (left_shoulder - spine3)",
    "right_collar": "spine3 + 0.5 * (right_shoulder - spine3)",
    "head": "neck + R_neck (0, 0.105, 0): along the neck link, 60% of the way to the head sphere centre",
    "left_foot": "left_ankle + R_left_ankle (0.12, -0.045, 0): front of the sole",
    "right_foot": "right_ankle + R_right_ankle (0.12, -0.045, 0): front of the sole",
}

# The 20 human clips: clip name -> path relative to pybullet_data/data/motions (laikago is a quadruped).
CLIP_FILES: dict[str, str] = {
    **{name: f"humanoid3d_{name}.txt" for name in (
        "backflip", "cartwheel", "crawl", "dance_a", "dance_b", "getup_facedown", "getup_faceup",
        "jump", "kick", "punch", "roll", "run", "spin", "spinkick", "walk")},
    **{name: f"walker/{name}.txt" for name in (
        "0walk_forward", "turn_left0", "turn_left1", "turn_right0", "turn_right1")},
}

# DeepMimic (x forward, y up, z right) -> SMPL (z forward, y up, x left): a -90 degree turn about y.
_DEEPMIMIC_TO_SMPL = Rotation.from_euler("y", -90.0, degrees=True)


class DeepMimicError(ValueError):
    """A DeepMimic clip file is missing or malformed."""


@dataclass(frozen=True)
class DeepMimicClip:
    """Keyframes of one clip: times (K,), root positions (K,3), rotations (K, 13) as scipy Rotations.

    ``rotations[:, 0]`` is the root's world rotation, ``rotations[:, 1 + j]`` the local rotation of
    ROTATION_COLUMNS[j] (knee and elbow angles as rotations about local z).
    """

    name: str
    source: str
    loop: bool
    times: np.ndarray
    root_positions: np.ndarray
    quaternions: np.ndarray  # (K, 13, 4), scipy order x, y, z, w

    @property
    def duration(self) -> float:
        return float(self.times[-1])


def motions_dir() -> Path:
    """The folder with the DeepMimic clips in the installed pybullet package."""
    try:
        import pybullet_data
    except ImportError as error:  # pragma: no cover - pybullet is a hard dependency
        raise DeepMimicError("pybullet is not installed: it ships the DeepMimic clips (pip install pybullet)") from error
    return Path(pybullet_data.getDataPath()) / "data" / "motions"


def clip_path(name: str) -> Path:
    if name not in CLIP_FILES:
        raise DeepMimicError(f"unknown DeepMimic clip {name!r}; known: {', '.join(sorted(CLIP_FILES))}")
    return motions_dir() / CLIP_FILES[name]


def load_clip(path_or_name: str | Path) -> DeepMimicClip:
    """Read a DeepMimic humanoid clip (a name from CLIP_FILES or a file path)."""
    if isinstance(path_or_name, str) and ("/" not in path_or_name and not path_or_name.endswith(".txt")):
        name, path = path_or_name, clip_path(path_or_name)
    else:
        path = Path(path_or_name)
        name = path.stem.removeprefix("humanoid3d_")
    if not path.is_file():
        raise DeepMimicError(f"{path}: DeepMimic clip file not found")
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise DeepMimicError(f"{path}: not a DeepMimic JSON clip ({error})") from error
    return parse_clip(text, name, path)


def parse_clip(text: str, name: str, path: str | Path) -> DeepMimicClip:
    """A DeepMimic humanoid clip from the JSON text of its file (``path``: where it came from, for messages)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise DeepMimicError(f"{path}: not a DeepMimic JSON clip ({error})") from error
    if not isinstance(data, dict) or "Frames" not in data:
        raise DeepMimicError(f"{path}: no 'Frames' list in the clip")
    try:
        frames = np.asarray(data["Frames"], dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise DeepMimicError(f"{path}: 'Frames' is not a rectangular list of numbers ({error})") from error
    if frames.ndim != 2 or frames.shape[1] != FRAME_WIDTH or len(frames) < 2:
        raise DeepMimicError(
            f"{path}: expected at least 2 frames of {FRAME_WIDTH} numbers (humanoid clip), got shape {frames.shape}")
    if not np.all(np.isfinite(frames)):
        raise DeepMimicError(f"{path}: frames contain NaN or infinite values")
    durations = frames[:-1, 0]
    if np.any(durations <= 0):
        raise DeepMimicError(f"{path}: keyframe durations must be positive")
    times = np.concatenate([[0.0], np.cumsum(durations)])
    quats = np.empty((len(frames), 1 + len(ROTATION_COLUMNS), 4))
    quats[:, 0] = _wxyz_to_xyzw(frames[:, 4:8], path)
    for j, (_, column, kind) in enumerate(ROTATION_COLUMNS):
        if kind == "quat":
            quats[:, 1 + j] = _wxyz_to_xyzw(frames[:, column:column + 4], path)
        else:
            half = 0.5 * frames[:, column]
            quats[:, 1 + j] = np.stack([np.zeros_like(half), np.zeros_like(half), np.sin(half), np.cos(half)], -1)
    return DeepMimicClip(
        name=name, source=str(path), loop=data.get("Loop", "none") == "wrap", times=times,
        root_positions=frames[:, 1:4].copy(), quaternions=_continuous(quats))


def _wxyz_to_xyzw(q: np.ndarray, path: Path) -> np.ndarray:
    norms = np.linalg.norm(q, axis=-1, keepdims=True)
    if np.any(norms < 1e-6):
        raise DeepMimicError(f"{path}: a quaternion has zero length")
    q = q / norms
    return np.concatenate([q[:, 1:], q[:, :1]], axis=-1)


def _continuous(quats: np.ndarray) -> np.ndarray:
    """Flip quaternion signs so consecutive keyframes lie in the same hemisphere (for interpolation)."""
    signs = np.ones(quats.shape[:2])
    signs[1:] = np.where(np.sum(quats[1:] * quats[:-1], axis=-1) < 0, -1.0, 1.0)
    return quats * np.cumprod(signs, axis=0)[..., None]


def _slerp(q0: np.ndarray, q1: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Spherical linear interpolation of unit quaternions (..., 4) with weights alpha (...)."""
    dot = np.clip(np.sum(q0 * q1, axis=-1), -1.0, 1.0)
    q1 = np.where((dot < 0)[..., None], -q1, q1)
    dot = np.abs(dot)
    angle = np.arccos(dot)
    sin = np.sin(angle)
    small = sin < 1e-8
    safe = np.where(small, 1.0, sin)
    w0 = np.where(small, 1.0 - alpha, np.sin((1.0 - alpha) * angle) / safe)
    w1 = np.where(small, alpha, np.sin(alpha * angle) / safe)
    q = w0[..., None] * q0 + w1[..., None] * q1
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def _heading(quat_xyzw: np.ndarray) -> float:
    """Yaw (about +y) of the direction the DeepMimic root faces (+x in its local frame)."""
    forward = Rotation.from_quat(quat_xyzw).apply([1.0, 0.0, 0.0])
    return math.atan2(-forward[2], forward[0])


def repeat_cycles(clip: DeepMimicClip, cycles: int) -> DeepMimicClip:
    """Play a looping clip ``cycles`` times, each cycle continuing from where the previous one ended."""
    if cycles < 1:
        raise ValueError(f"cycles must be >= 1, got {cycles}")
    if cycles == 1:
        return clip
    if not clip.loop:
        raise DeepMimicError(f"{clip.source}: clip {clip.name!r} does not loop (\"Loop\": \"none\"), it cannot be repeated")
    delta_yaw = _heading(clip.quaternions[-1, 0]) - _heading(clip.quaternions[0, 0])
    turn = Rotation.from_euler("y", delta_yaw)
    start, end = clip.root_positions[0], clip.root_positions[-1]
    times, positions, quats = [], [], []
    cycle_rotation = Rotation.identity()
    cycle_origin = np.zeros(3)
    for k in range(cycles):
        keep = slice(None) if k == cycles - 1 else slice(0, -1)
        # Cycle k = H^k applied to the clip; H turns by delta_yaw about the start root and moves it to the end root.
        local = clip.root_positions - start
        moved = cycle_rotation.apply(local) + start + cycle_origin
        moved[:, 1] = clip.root_positions[:, 1]
        root = (cycle_rotation * Rotation.from_quat(clip.quaternions[:, 0])).as_quat()
        q = clip.quaternions.copy()
        q[:, 0] = root
        times.append(clip.times[keep] + k * clip.duration)
        positions.append(moved[keep])
        quats.append(q[keep])
        step = cycle_rotation.apply(end - start)
        cycle_origin = cycle_origin + np.array([step[0], 0.0, step[2]])
        cycle_rotation = turn * cycle_rotation
    return DeepMimicClip(
        name=clip.name, source=clip.source, loop=clip.loop, times=np.concatenate(times),
        root_positions=np.concatenate(positions), quaternions=_continuous(np.concatenate(quats)))


def sample(clip: DeepMimicClip, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Root positions (T,3) and rotations (T,13,4) at the given times (seconds, within the clip)."""
    times = np.asarray(times, dtype=np.float64)
    if times.ndim != 1 or len(times) == 0 or times.min() < -1e-9 or times.max() > clip.duration + 1e-9:
        raise ValueError(f"{clip.source}: sample times must lie in [0, {clip.duration:.3f}] s")
    times = np.clip(times, 0.0, clip.duration)
    positions = np.stack([np.interp(times, clip.times, clip.root_positions[:, a]) for a in range(3)], axis=-1)
    segment = np.clip(np.searchsorted(clip.times, times, side="right") - 1, 0, len(clip.times) - 2)
    alpha = (times - clip.times[segment]) / (clip.times[segment + 1] - clip.times[segment])
    joints = clip.quaternions.shape[1]
    quats = _slerp(clip.quaternions[segment], clip.quaternions[segment + 1],
                   np.repeat(np.clip(alpha, 0.0, 1.0)[:, None], joints, axis=1))
    return positions, quats


def frame_times(duration: float, fps: float = FPS, speed: float = 1.0, start_time: float = 0.0,
                frames: int | None = None) -> np.ndarray:
    """Source times of output frames at ``fps`` played ``speed`` times as fast, from ``start_time``.

    Without ``frames``: as many frames as fit in the clip (the end included when it falls on the grid).
    """
    if speed <= 0 or fps <= 0:
        raise ValueError(f"speed and fps must be positive, got speed={speed}, fps={fps}")
    step = speed / fps
    if frames is None:
        frames = int(math.floor((duration - start_time) / step + 1e-9)) + 1
    return start_time + np.arange(frames) * step


def forward_kinematics(root_positions: np.ndarray, quats: np.ndarray) -> dict[str, tuple[np.ndarray, Rotation]]:
    """World position (T,3) and rotation of every DeepMimic joint (DeepMimic frame: x forward, y up, z right)."""
    names = ["root"] + [name for name, _, _ in ROTATION_COLUMNS]
    local = {name: Rotation.from_quat(quats[:, i]) for i, name in enumerate(names)}
    world: dict[str, tuple[np.ndarray, Rotation]] = {}
    for joint, (parent, offset) in SKELETON.items():
        if parent is None:
            world[joint] = (root_positions.copy(), local["root"])
            continue
        parent_position, parent_rotation = world[parent]
        position = parent_position + parent_rotation.apply(np.asarray(offset))
        rotation = parent_rotation * local[joint] if joint in local else parent_rotation
        world[joint] = (position, rotation)
    return world


def smpl_joints_from_fk(world: dict[str, tuple[np.ndarray, Rotation]]) -> np.ndarray:
    """The 22 SMPL joints (T,22,3) in the DeepMimic frame, synthesising the six that DeepMimic lacks."""
    p = {name: value[0] for name, value in world.items()}
    t = len(p["root"])
    joints = np.empty((t, NUM_JOINTS, 3))
    for name in ("left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "neck",
                 "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist"):
        joints[:, JOINT_INDEX[name]] = p[name]
    joints[:, JOINT_INDEX["pelvis"]] = p["root"]
    spine3 = p["chest"] + SPINE3_FRACTION_CHEST_TO_NECK * (p["neck"] - p["chest"])
    joints[:, JOINT_INDEX["spine1"]] = p["root"] + SPINE1_FRACTION_ROOT_TO_CHEST * (p["chest"] - p["root"])
    joints[:, JOINT_INDEX["spine2"]] = p["chest"]
    joints[:, JOINT_INDEX["spine3"]] = spine3
    for side in ("left", "right"):
        joints[:, JOINT_INDEX[f"{side}_collar"]] = spine3 + COLLAR_FRACTION_SPINE3_TO_SHOULDER * (p[f"{side}_shoulder"] - spine3)
        ankle_position, ankle_rotation = world[f"{side}_ankle"]
        joints[:, JOINT_INDEX[f"{side}_foot"]] = ankle_position + ankle_rotation.apply(np.asarray(FOOT_OFFSET_IN_ANKLE_FRAME))
    neck_position, neck_rotation = world["neck"]
    joints[:, JOINT_INDEX["head"]] = neck_position + neck_rotation.apply(np.asarray(HEAD_OFFSET_IN_NECK_FRAME))
    return joints


def to_smpl_frame(joints_deepmimic: np.ndarray) -> np.ndarray:
    """Turn DeepMimic-frame joints (x forward) to SMPL (z forward), frame-0 facing +Z, frame-0 root at x=z=0."""
    return face_forward(_DEEPMIMIC_TO_SMPL.apply(joints_deepmimic.reshape(-1, 3)).reshape(joints_deepmimic.shape))


def clip_to_joints(clip: DeepMimicClip, fps: float = FPS, speed: float = 1.0, start_time: float = 0.0,
                   frames: int | None = None) -> np.ndarray:
    """SMPL joints (T,22,3) of a clip (after any repeat_cycles) at ``fps``, played ``speed`` times as fast
    from ``start_time`` (seconds of the clip); ``frames`` output frames, or all that fit."""
    root_positions, quats = sample(clip, frame_times(clip.duration, fps, speed, start_time, frames))
    return to_smpl_frame(smpl_joints_from_fk(forward_kinematics(root_positions, quats)))


def load_joints(name: str, cycles: int = 1, fps: float = FPS) -> np.ndarray:
    """Convenience: the named clip, repeated ``cycles`` times (looping clips only), as SMPL joints at ``fps``."""
    return clip_to_joints(repeat_cycles(load_clip(name), cycles), fps)
