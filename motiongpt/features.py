"""The HumanML3D motion representation: (T, 22, 3) joint positions <-> (T-1, 263) feature vectors.

Implements the representation of HumanML3D (Guo et al., "Generating Diverse and Natural 3D Human Motions
from Text", CVPR 2022), which MotionGPT uses unchanged:

* :func:`process_joints` canonicalises a motion: uniform skeleton (swing IK from the raw offsets,
  FK with the target bone lengths, root scaled by the leg-length ratio), floor at y = 0, frame-0
  root XZ at the origin, whole clip turned so that frame 0 faces +Z.
* :func:`joints_to_features` turns the canonical motion into 263-dim vectors (layout in
  ``FEATURE_SLICES``); a clip of T frames gives T-1 rows because row t needs frames t and t+1.
* :func:`recover_from_ric` / :func:`recover_from_ric_torch` rebuild joint positions from the
  root and "ric" dims, exactly as MotionGPT's ``recover_from_ric``.

Conventions: Y up, metres, 20 fps. The root "facing" rotation r_rot[t] is a yaw that turns the
body's forward direction onto +Z; with heading psi = atan2(forward_x, forward_z) it is a rotation
about +Y by -psi, i.e. the quaternion (cos h, 0, sin h, 0) with half angle h = -psi / 2.
Yaw rotations are applied in closed form (:func:`rotate_about_y`); the per-joint swing rotations of
the IK use ``scipy.spatial.transform.Rotation``.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.spatial.transform import Rotation

from motiongpt.skeleton import (
    FACE_JOINTS,
    FEATURE_DIM,
    FEATURE_FACE_JOINTS,
    JOINT_NAMES,
    KINEMATIC_CHAINS,
    LEFT_FOOT_JOINTS,
    NUM_JOINTS,
    PARENTS,
    RAW_OFFSETS,
    RIGHT_FOOT_JOINTS,
    TARGET_BONE_LENGTHS,
)
from motiongpt.validation import MotionError, check_feature_batch, check_features, check_joints

# Feature layout (HumanML3D, Guo et al. CVPR 2022: 4 root + 63 ric + 126 rot6d + 66 velocity + 4 contact).
ROOT_ROT_VEL = slice(0, 1)      # half yaw angle per frame (rad)
ROOT_LIN_VEL = slice(1, 3)      # root (x, z) velocity in the body-facing frame of frame t+1 (m/frame)
ROOT_HEIGHT = slice(3, 4)       # root y (m)
RIC = slice(4, 67)              # joints 1..21, root XZ removed, facing +Z; 21 x (x, y, z)
ROT6D = slice(67, 193)          # joints 1..21, first two columns of the local rotation matrix; 21 x 6
LOCAL_VEL = slice(193, 259)     # all 22 joints, (p[t+1] - p[t]) in the facing frame of t; 22 x (x, y, z)
FOOT_CONTACT = slice(259, 263)  # left ankle, left foot, right ankle, right foot: 1 = in contact
FEATURE_SLICES: dict[str, slice] = {
    "root_rot_vel": ROOT_ROT_VEL,
    "root_lin_vel": ROOT_LIN_VEL,
    "root_height": ROOT_HEIGHT,
    "ric": RIC,
    "rot6d": ROT6D,
    "local_vel": LOCAL_VEL,
    "foot_contact": FOOT_CONTACT,
}

FEET_THRESHOLD = 0.002      # squared per-frame displacement (m^2) below which a foot joint is in contact
FORWARD_SMOOTH_SIGMA = 20.0  # Gaussian smoothing (frames) of the facing direction for the features
CONTACT_JOINTS: tuple[int, ...] = LEFT_FOOT_JOINTS + RIGHT_FOOT_JOINTS
_UP = np.array([0.0, 1.0, 0.0])
_LEG_BONES = (5, 8)  # right knee, right ankle: the bones whose lengths give the root scale


def rotate_about_y(vectors: np.ndarray, angles: np.ndarray | float) -> np.ndarray:
    """Rotate (..., 3) vectors about +Y (right-handed) by ``angles`` (radians, broadcast to vectors[..., 0])."""
    cos, sin = np.cos(angles), np.sin(angles)
    x, y, z = vectors[..., 0], vectors[..., 1], vectors[..., 2]
    new_x, new_z = x * cos + z * sin, z * cos - x * sin
    return np.stack([new_x, np.broadcast_to(y, new_x.shape), new_z], axis=-1)


def _wrap_angle(angles: np.ndarray) -> np.ndarray:
    """Map angles to [-pi, pi)."""
    return (angles + np.pi) % (2.0 * np.pi) - np.pi


def facing_directions(joints: np.ndarray, smooth_sigma: float | None = None, source: str = "motion",
                      face_joints: tuple[int, int, int, int] = FACE_JOINTS) -> np.ndarray:
    """Unit forward directions (T, 3), horizontal, of a (T, 22, 3) motion.

    With face_joints = (a, b, c, d): across = (p[a] - p[b]) + (p[c] - p[d]), normalised;
    forward = cross(up, across), optionally smoothed over time with a Gaussian (mode 'nearest')
    before normalising. The default (r_hip, l_hip, r_shoulder, l_shoulder) is the true facing.
    """
    across = _across(joints, face_joints)
    across = across / _norms(across, source, "the across vector (hips + shoulders)")
    forward = np.cross(_UP, across)
    if smooth_sigma:
        forward = gaussian_filter1d(forward, smooth_sigma, axis=0, mode="nearest")
    return forward / _norms(forward, source, "the facing direction (body lying flat or hips/shoulders vertical)")


def facing_yaw(pose: np.ndarray) -> float:
    """Heading (rad about +Y, 0 = facing +Z) of one (22, 3) pose from its hips and shoulders, unsmoothed (the
    facing of `facing_directions` for a single frame; a degenerate pose gives 0 instead of raising)."""
    return float(headings(np.cross(_UP, _across(np.asarray(pose, dtype=np.float64), FACE_JOINTS))))


def _across(joints: np.ndarray, face_joints: tuple[int, int, int, int]) -> np.ndarray:
    a, b, c, d = face_joints
    return (joints[..., a, :] - joints[..., b, :]) + (joints[..., c, :] - joints[..., d, :])


def headings(forward: np.ndarray) -> np.ndarray:
    """Heading angle psi (rad) of forward directions: 0 facing +Z, pi/2 facing +X."""
    return np.arctan2(forward[..., 0], forward[..., 2])


def _norms(vectors: np.ndarray, source: str, what: str) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    degenerate = np.flatnonzero(norms[..., 0] < 1e-9)
    if len(degenerate):
        raise MotionError(f"{source}: {what} has zero length in {len(degenerate)} frames "
                          f"(first: frame {degenerate[0]})")
    return norms


def _swing(rest_direction: np.ndarray, directions: np.ndarray) -> Rotation:
    """Shortest-arc rotations taking the unit ``rest_direction`` (3,) onto unit ``directions`` (T, 3)."""
    cross = np.cross(rest_direction, directions)
    quat = np.concatenate([cross, 1.0 + directions @ rest_direction[:, None]], axis=-1)  # x, y, z, w
    opposite = quat[:, 3] < 1e-9
    if opposite.any():  # half turn about any axis perpendicular to the rest direction
        helper = np.eye(3)[np.argmin(np.abs(rest_direction))]
        axis = np.cross(rest_direction, helper)
        quat[opposite] = np.append(axis / np.linalg.norm(axis), 0.0)
    return Rotation.from_quat(quat)


def inverse_kinematics(joints: np.ndarray, root_rotations: Rotation, source: str = "motion") -> list[Rotation]:
    """Swing-only local rotations (one ``Rotation`` of length T per joint) of a (T, 22, 3) motion.

    Index 0 holds ``root_rotations``. For each kinematic chain the accumulated rotation starts at
    the root rotation; joint c gets the local rotation that, composed with its chain's accumulated
    rotation, turns the raw offset of c onto its bone direction parent(c) -> c.
    """
    rotations: list[Rotation | None] = [None] * NUM_JOINTS
    rotations[0] = root_rotations
    for chain in KINEMATIC_CHAINS:
        accumulated = root_rotations
        for parent, child in zip(chain[:-1], chain[1:]):
            bone = joints[:, child] - joints[:, parent]
            lengths = np.linalg.norm(bone, axis=-1, keepdims=True)
            degenerate = np.flatnonzero(lengths[:, 0] < 1e-9)
            if len(degenerate):
                raise MotionError(f"{source}: bone {JOINT_NAMES[parent]}->{JOINT_NAMES[child]} has zero length "
                                  f"in {len(degenerate)} frames (first: frame {degenerate[0]})")
            world_swing = _swing(RAW_OFFSETS[child], bone / lengths)
            rotations[child] = accumulated.inv() * world_swing
            accumulated = world_swing  # == accumulated * rotations[child]
    return rotations  # type: ignore[return-value]


def forward_kinematics(rotations: list[Rotation], root_positions: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Joint positions (T, 22, 3) from local rotations, root positions (T, 3) and rest offsets (22, 3)."""
    joints = np.zeros((len(root_positions), NUM_JOINTS, 3))
    joints[:, 0] = root_positions
    for chain in KINEMATIC_CHAINS:
        accumulated = rotations[0]
        for parent, child in zip(chain[:-1], chain[1:]):
            accumulated = accumulated * rotations[child]
            joints[:, child] = joints[:, parent] + accumulated.apply(offsets[child])
    return joints


def bone_lengths(joints: np.ndarray) -> np.ndarray:
    """Bone lengths (..., 22) indexed by child joint (0 for the root) of (..., 22, 3) positions."""
    parents = np.array(PARENTS[1:])
    lengths = np.zeros(joints.shape[:-1])
    lengths[..., 1:] = np.linalg.norm(joints[..., 1:, :] - joints[..., parents, :], axis=-1)
    return lengths


def uniform_skeleton(joints: np.ndarray, target_lengths: np.ndarray = TARGET_BONE_LENGTHS,
                     source: str = "motion") -> np.ndarray:
    """Re-target a motion to the target bone lengths, keeping every bone's direction.

    Swing IK from the raw offsets, then FK with offsets = raw direction x target length. The root
    trajectory is scaled by target leg length / source leg length (bones 5 and 8, frame 0). The
    reference starts the IK chains at the facing rotation; that rotation cancels in IK followed by FK,
    so identity is used here (same result, and no facing needed for this step).
    """
    source_lengths = bone_lengths(joints[0])
    source_leg = sum(source_lengths[b] for b in _LEG_BONES)
    if source_leg < 1e-9:
        raise MotionError(f"{source}: leg bones have zero length in frame 0")
    scale = sum(target_lengths[b] for b in _LEG_BONES) / source_leg
    identity = Rotation.identity(len(joints))
    rotations = inverse_kinematics(joints, identity, source)
    return forward_kinematics(rotations, joints[:, 0] * scale, RAW_OFFSETS * target_lengths[:, None])


def process_joints(joints: Any, source: str = "motion") -> np.ndarray:
    """Canonical motion (T, 22, 3), float64: uniform skeleton, floor at y = 0, frame-0 root at the origin facing +Z."""
    positions = uniform_skeleton(check_joints(joints, source).astype(np.float64), source=source)
    positions[..., 1] -= positions[..., 1].min()
    positions -= positions[0, 0] * np.array([1.0, 0.0, 1.0])
    heading = headings(facing_directions(positions[:1], source=source))[0]
    return rotate_about_y(positions, -heading)


def joints_to_features(joints: Any, feet_threshold: float = FEET_THRESHOLD, source: str = "motion") -> np.ndarray:
    """HumanML3D features (T-1, 263), float64, of a (T, 22, 3) motion (runs :func:`process_joints` first).

    The root facing r_rot uses the Gaussian-smoothed forward direction, with r_rot[0] forced to the
    identity (as the reference), and the across vector of ``FEATURE_FACE_JOINTS`` (see skeleton.py:
    the reference's IK takes the hip difference left minus right; only this reproduces the real
    HumanML3D features). Dim 0 is the half angle of r_rot[t+1] r_rot[t]^-1. The reference takes
    arcsin of that quaternion's y component, which has the wrong sign on the rare frames where the
    facing crosses -Z (a quaternion sign flip); here the wrapped angle difference is used, equal
    everywhere else.
    """
    if not (np.isfinite(feet_threshold) and feet_threshold > 0):
        raise ValueError(f"feet_threshold must be a positive number, got {feet_threshold}")
    positions = process_joints(joints, source)
    frames = len(positions)

    heading = headings(facing_directions(positions, FORWARD_SMOOTH_SIGMA, source, FEATURE_FACE_JOINTS))
    heading[0] = 0.0  # r_rot[0] is the identity
    to_body = -heading  # r_rot[t] as a yaw angle

    root_rot_vel = -_wrap_angle(np.diff(heading)) / 2.0
    root_lin_vel = rotate_about_y(positions[1:, 0] - positions[:-1, 0], to_body[1:])[:, [0, 2]]
    root_height = positions[:-1, 0, 1]

    relative = positions - positions[:, :1] * np.array([1.0, 0.0, 1.0])
    ric = rotate_about_y(relative, to_body[:, None])[:-1, 1:].reshape(frames - 1, -1)

    root_rotations = Rotation.from_rotvec(to_body[:, None] * _UP)
    rotations = inverse_kinematics(positions, root_rotations, source)
    matrices = np.stack([rotations[j].as_matrix() for j in range(1, NUM_JOINTS)], axis=1)  # (T, 21, 3, 3)
    rot6d = np.concatenate([matrices[..., 0], matrices[..., 1]], axis=-1)[:-1].reshape(frames - 1, -1)

    displacement = positions[1:] - positions[:-1]
    local_vel = rotate_about_y(displacement, to_body[:-1, None]).reshape(frames - 1, -1)
    contacts = ((displacement[:, list(CONTACT_JOINTS)] ** 2).sum(axis=-1) < feet_threshold).astype(np.float64)

    features = np.concatenate(
        [root_rot_vel[:, None], root_lin_vel, root_height[:, None], ric, rot6d, local_vel, contacts], axis=-1)
    assert features.shape == (frames - 1, FEATURE_DIM)
    return features


def retime_features(features: Any, frames: int, source: str = "features") -> np.ndarray:
    """The motion of ``features`` (T, 263) played in ``frames`` rows instead of T, at the same frame rate: as
    many times as fast as (T - 1) / (frames - 1) (< 1: slower); first and last poses kept. The root's path and
    heading (as :func:`recover_from_ric` integrates them) and the poses (root height, ric, rot6d) are interpolated
    linearly in time, and the per-frame changes are taken from them (root yaw and velocity) or interpolated and
    scaled by the speed (joint velocities); foot contacts come from the nearer row. The joints recovered from the
    result are those of the original motion resampled in time (`motiongpt.data.augment.change_speed`, how the
    training data's speed words were made), to within the interpolation of each pose."""
    features = np.asarray(check_features(features, source, min_frames=2), dtype=np.float64)
    if isinstance(frames, bool) or not isinstance(frames, (int, np.integer)) or frames < 2:
        raise ValueError(f"retime_features: frames must be an integer >= 2, got {frames!r}")
    count = features.shape[0]
    times = np.linspace(0.0, count - 1.0, int(frames))
    lower = np.minimum(np.floor(times).astype(int), count - 2)
    weight = (times - lower)[:, None]

    def at_times(values: np.ndarray) -> np.ndarray:
        return (1.0 - weight) * values[lower] + weight * values[lower + 1]

    speed = (count - 1.0) / (frames - 1.0)
    played = at_times(features)
    played[:, LOCAL_VEL] *= speed
    played[-1, ROOT_ROT_VEL] *= speed  # the last row's changes lead past the motion's end: scaled as they are
    played[-1, ROOT_LIN_VEL] *= speed
    nearer = np.where(weight[:, 0] < 0.5, lower, lower + 1)
    played[:, FOOT_CONTACT] = features[nearer, FOOT_CONTACT]
    half_yaw, path = root_trajectory(features)  # as recover_from_ric integrates them
    half_yaw, path = at_times(half_yaw[:, None])[:, 0], at_times(path)
    played[:-1, 0] = np.diff(half_yaw)
    played[:-1, 1:3] = rotate_about_y(np.diff(path, axis=0), 2.0 * half_yaw[1:])[:, [0, 2]]
    return played


def root_trajectory(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The root's half yaw angle (..., T) and ground position (..., T, 3), y = 0, of every frame of (checked,
    un-normalised) features (..., T, 263), integrated from the per-frame root yaw and velocity."""
    half_yaw = np.zeros(features.shape[:-1], dtype=features.dtype)
    half_yaw[..., 1:] = np.cumsum(features[..., :-1, 0], axis=-1)
    # Rotating by q[t]^-1 with q[t] = (cos a, 0, sin a, 0) is a rotation about +Y by -2a.
    steps = np.zeros(features.shape[:-1] + (3,), dtype=features.dtype)
    steps[..., 1:, 0] = features[..., :-1, 1]
    steps[..., 1:, 2] = features[..., :-1, 2]
    return half_yaw, np.cumsum(rotate_about_y(steps, -2.0 * half_yaw), axis=-2)


def recover_from_ric(features: Any, source: str = "features") -> np.ndarray:
    """Joint positions (..., T, 22, 3) from un-normalised features (..., T, 263) (HumanML3D's `recover_from_ric`)."""
    features = check_feature_batch(features, source)
    half_yaw, root = root_trajectory(features)
    root[..., 1] = features[..., 3]
    local = features[..., RIC].reshape(features.shape[:-1] + (NUM_JOINTS - 1, 3))
    local = rotate_about_y(local, -2.0 * half_yaw[..., None])
    local[..., 0] += root[..., None, 0]
    local[..., 2] += root[..., None, 2]
    return np.concatenate([root[..., None, :], local], axis=-2)


def recover_from_ric_torch(features: "torch.Tensor") -> "torch.Tensor":  # noqa: F821
    """Torch version of :func:`recover_from_ric` for (..., T, 263) tensors (differentiable, any device)."""
    import torch

    if features.dim() < 2 or features.shape[-1] != FEATURE_DIM or features.shape[-2] < 1:
        raise MotionError(f"features: expected shape (..., T, {FEATURE_DIM}), got {tuple(features.shape)}")
    if not bool(torch.isfinite(features).all()):
        raise MotionError("features: contain NaN or infinite values")
    zeros = torch.zeros_like(features[..., :1, 0])
    half_yaw = torch.cat([zeros, torch.cumsum(features[..., :-1, 0], dim=-1)], dim=-1)
    angle = -2.0 * half_yaw
    cos, sin = torch.cos(angle), torch.sin(angle)
    step_x = torch.cat([zeros, features[..., :-1, 1]], dim=-1)
    step_z = torch.cat([zeros, features[..., :-1, 2]], dim=-1)
    root_x = torch.cumsum(step_x * cos + step_z * sin, dim=-1)
    root_z = torch.cumsum(step_z * cos - step_x * sin, dim=-1)
    root = torch.stack([root_x, features[..., 3], root_z], dim=-1)
    local = features[..., RIC].reshape(features.shape[:-1] + (NUM_JOINTS - 1, 3))
    x, y, z = local[..., 0], local[..., 1], local[..., 2]
    cos, sin = cos[..., None], sin[..., None]
    local = torch.stack([x * cos + z * sin + root_x[..., None], y, z * cos - x * sin + root_z[..., None]], dim=-1)
    return torch.cat([root[..., None, :], local], dim=-2)
