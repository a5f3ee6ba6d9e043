"""Checks for motion arrays that come from outside (files, users, other programs).

Every check raises :class:`MotionError` (a ``ValueError``) whose message starts with the
source (usually a file name) and names the problem, e.g.
``walk.npy: expected shape (T, 22, 3), got (10, 21, 3)``. The checks return the array as a
float numpy array so callers can use the result directly.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from motiongpt.skeleton import FEATURE_DIM, NUM_JOINTS


class MotionError(ValueError):
    """A motion (joint positions or features) is malformed: wrong shape, NaN, too short, unreadable."""


def _as_float_array(data: Any, source: str) -> np.ndarray:
    if hasattr(data, "detach") and hasattr(data, "cpu"):  # a torch tensor, without importing torch
        data = data.detach().cpu().numpy()
    try:
        array = np.asarray(data)
    except (TypeError, ValueError) as error:  # ragged nested lists and the like
        raise MotionError(f"{source}: not a numeric array ({error})") from error
    if array.dtype.kind in "iub":
        return array.astype(np.float64)
    if array.dtype.kind != "f":
        raise MotionError(f"{source}: expected a numeric array, got dtype {array.dtype}")
    return array


def _check_finite(array: np.ndarray, source: str) -> None:
    """Frames are indexed along axis -3 for joints (T,22,3) and -2 for features (T,263)."""
    per_frame_axes = tuple(range(1, array.ndim))
    for bad_values, what in ((np.isnan(array), "NaN"), (np.isinf(array), "infinite values")):
        if bad_values.any():
            bad_frames = np.flatnonzero(bad_values.any(axis=per_frame_axes))
            plural = "frame contains" if len(bad_frames) == 1 else "frames contain"
            raise MotionError(f"{source}: {len(bad_frames)} {plural} {what} (first: frame {bad_frames[0]})")


def _check_frames(array: np.ndarray, source: str, min_frames: int) -> None:
    if array.shape[0] < min_frames:
        plural = "frame" if min_frames == 1 else "frames"
        raise MotionError(f"{source}: a motion needs at least {min_frames} {plural}, got {array.shape[0]}")


def check_joints(joints: Any, source: str = "motion", min_frames: int = 2) -> np.ndarray:
    """Check SMPL joint positions: shape (T, 22, 3), T >= ``min_frames``, all finite."""
    array = _as_float_array(joints, source)
    if array.ndim != 3 or array.shape[1:] != (NUM_JOINTS, 3):
        raise MotionError(f"{source}: expected shape (T, {NUM_JOINTS}, 3), got {tuple(array.shape)}")
    _check_frames(array, source, min_frames)
    _check_finite(array, source)
    return array


def check_features(features: Any, source: str = "features", min_frames: int = 1) -> np.ndarray:
    """Check HumanML3D feature vectors: shape (T, 263), T >= ``min_frames``, all finite."""
    array = _as_float_array(features, source)
    if array.ndim != 2 or array.shape[1] != FEATURE_DIM:
        raise MotionError(f"{source}: expected shape (T, {FEATURE_DIM}), got {tuple(array.shape)}")
    _check_frames(array, source, min_frames)
    _check_finite(array, source)
    return array


def check_feature_batch(features: Any, source: str = "features") -> np.ndarray:
    """Check features with any leading batch dimensions: shape (..., T, 263), T >= 1, all finite."""
    array = _as_float_array(features, source)
    if array.ndim < 2 or array.shape[-1] != FEATURE_DIM:
        raise MotionError(f"{source}: expected shape (..., T, {FEATURE_DIM}), got {tuple(array.shape)}")
    _check_frames(np.moveaxis(array, -2, 0), source, 1)
    _check_finite(np.moveaxis(array, -2, 0).reshape(array.shape[-2], -1), source)
    return array


def load_npy(path: str | Path) -> np.ndarray:
    """Read one ``.npy`` array; a missing or unreadable file raises MotionError naming it."""
    path = Path(path)
    if not path.is_file():
        raise MotionError(f"{path}: file not found")
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        raise MotionError(f"{path}: not a readable .npy array ({error})") from error


def load_joints(path: str | Path, min_frames: int = 2) -> np.ndarray:
    """Load and check a (T, 22, 3) joint-position ``.npy`` file."""
    return check_joints(load_npy(path), source=str(path), min_frames=min_frames)


def load_features(path: str | Path, min_frames: int = 1) -> np.ndarray:
    """Load and check a (T, 263) feature ``.npy`` file."""
    return check_features(load_npy(path), source=str(path), min_frames=min_frames)
