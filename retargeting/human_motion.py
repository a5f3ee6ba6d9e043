"""Human motion in, checked and repaired: shape checks, bad-frame detection, Y-up to ROS Z-up.

A frame is bad when a coordinate is not finite, is absurdly large, when a bone length is far from the
clip's median, or when the pelvis jumps away from both neighbours. Bad frames are reported and
replaced by interpolation between the nearest good frames (never propagated into the solver).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from motiongpt.skeleton import NUM_JOINTS, PARENTS, yup_to_zup
from retargeting.errors import RetargetError


@dataclasses.dataclass(frozen=True)
class FrameChecks:
    max_abs_coordinate: float = 1000.0  # metres
    bone_length_tolerance: float = 0.5  # relative deviation from the clip median
    max_pelvis_jump: float = 1.0  # metres between consecutive frames (20 m/s at 20 fps)


@dataclasses.dataclass
class CleanMotion:
    joints: np.ndarray  # (T,22,3) Z-up, repaired
    bad_frames: list[int]
    reasons: dict[int, str]


def check_shape(joints, source: str) -> np.ndarray:
    try:
        array = np.asarray(joints, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise RetargetError(f"{source}: human motion is not a numeric array: {error}") from error
    if array.ndim != 3 or array.shape[1:] != (NUM_JOINTS, 3):
        raise RetargetError(f"{source}: human motion must have shape (T, {NUM_JOINTS}, 3), got {array.shape}")
    if array.shape[0] < 2:
        raise RetargetError(f"{source}: human motion needs at least 2 frames, got {array.shape[0]}")
    return array


def find_bad_frames(joints: np.ndarray, checks: FrameChecks = FrameChecks()) -> dict[int, str]:
    """Frame index -> reason, for every frame that must not reach the solver."""
    reasons: dict[int, str] = {}
    finite = np.isfinite(joints).all(axis=(1, 2))
    for t in np.flatnonzero(~finite):
        reasons[int(t)] = "non-finite coordinate"
    with np.errstate(invalid="ignore"):
        huge = finite & (np.abs(np.where(np.isfinite(joints), joints, 0.0)).max(axis=(1, 2)) > checks.max_abs_coordinate)
    for t in np.flatnonzero(huge):
        reasons[int(t)] = f"coordinate beyond {checks.max_abs_coordinate} m"
    usable = finite & ~huge
    if usable.sum() == 0:
        return reasons
    parents = np.array(PARENTS[1:])
    bones = np.linalg.norm(joints[:, 1:] - joints[:, parents], axis=-1)  # (T,21)
    median = np.median(bones[usable], axis=0)
    deviation = np.abs(bones - median) / np.maximum(median, 0.02)
    for t in np.flatnonzero(usable & (deviation > checks.bone_length_tolerance).any(axis=1)):
        reasons[int(t)] = "bone lengths far from the clip's median"
    usable = np.array([t not in reasons for t in range(len(joints))])
    good = np.flatnonzero(usable)
    if len(good) >= 3:
        pelvis = joints[good, 0]
        step = np.linalg.norm(np.diff(pelvis, axis=0), axis=-1)
        before = np.concatenate([[np.inf], step])
        after = np.concatenate([step, [np.inf]])
        jump = (before > checks.max_pelvis_jump) & (after > checks.max_pelvis_jump)
        for t in good[jump]:
            reasons[int(t)] = f"pelvis jumps more than {checks.max_pelvis_jump} m from both neighbours"
    return reasons


def clean_motion(joints_yup, source: str = "motion", checks: FrameChecks = FrameChecks()) -> CleanMotion:
    """Check, repair bad frames by interpolation, and rotate into the robot's Z-up world."""
    joints = check_shape(joints_yup, source)
    reasons = find_bad_frames(joints, checks)
    bad = sorted(reasons)
    if len(bad) == len(joints):
        raise RetargetError(f"{source}: no usable frame (first problem: frame 0 has {reasons[0]})")
    repaired = joints.copy()
    if bad:
        good = np.array([t for t in range(len(joints)) if t not in reasons])
        flat = joints[good].reshape(len(good), -1)
        frames = np.arange(len(joints))
        filled = np.stack([np.interp(frames, good, flat[:, c]) for c in range(flat.shape[1])], axis=1)
        repaired = filled.reshape(joints.shape)
    zup = yup_to_zup(repaired)
    return CleanMotion(joints=zup, bad_frames=bad, reasons=reasons)


def frames_from_axes(lateral: np.ndarray, up_hint: np.ndarray) -> np.ndarray:
    """(T,3,3) rotations with y along ``lateral`` (to the left), z close to ``up_hint``, x forward."""
    y = lateral / np.maximum(np.linalg.norm(lateral, axis=-1, keepdims=True), 1e-9)
    x = np.cross(y, up_hint)
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    fallback = np.cross(y, np.array([0.0, 0.0, 1.0]))  # lateral parallel to the hint: use world up
    x = np.where(norm > 1e-6, x, fallback)
    x /= np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-9)
    z = np.cross(x, y)
    return np.stack([x, y, z], axis=-1)
