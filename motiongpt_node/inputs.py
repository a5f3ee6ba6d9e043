"""Validation of everything that reaches the node from the wire (ROS-free: plain Python values in).

Each function either returns clean numpy/str values or raises InputError (a ValueError) whose
message names the topic and the problem, which the node reports on ~/status.
"""
from __future__ import annotations

import math
import unicodedata

import numpy as np

from motiongpt.skeleton import NUM_JOINTS

ALLOWED_CONTROL_CHARACTERS = {"\n", "\t", "\r"}


class InputError(ValueError):
    """A message the node refuses: the text says which topic and what is wrong."""


def validate_command(text: str, max_chars: int, source: str = "~/command") -> str:
    """The command text, stripped; refuses empty, oversized, non-UTF-8 or control-character input."""
    if not isinstance(text, str):
        raise InputError(f"{source}: command must be text, got {type(text).__name__}")
    if len(text) > max_chars:
        raise InputError(f"{source}: command is {len(text)} characters, more than max_command_chars={max_chars}")
    if "\ufffd" in text:
        raise InputError(f"{source}: command is not valid UTF-8 text")
    bad = sorted({f"U+{ord(c):04X}" for c in text if unicodedata.category(c) == "Cc" and c not in ALLOWED_CONTROL_CHARACTERS})
    if bad:
        raise InputError(f"{source}: command contains control characters {bad[:5]}")
    command = " ".join(text.split())
    if not command:
        raise InputError(f"{source}: command is empty")
    return command


def joint_state_positions(
    names: list[str], positions: list[float], robot_joints: tuple[str, ...], source: str = "/joint_states"
) -> tuple[np.ndarray, list[str]]:
    """Positions in `robot_joints` order, plus the names the robot does not have (ignored, reported).

    Refuses messages whose name and position lists differ in length, repeat a name, miss one of the
    robot's joints or carry a non-finite position for one of them.
    """
    names = list(names)
    values = list(positions)
    if len(names) != len(values):
        raise InputError(f"{source}: {len(names)} joint names but {len(values)} positions")
    if len(set(names)) != len(names):
        raise InputError(f"{source}: repeated joint names {sorted({n for n in names if names.count(n) > 1})}")
    index = {name: i for i, name in enumerate(names)}
    missing = [name for name in robot_joints if name not in index]
    if missing:
        raise InputError(f"{source}: missing robot joints {missing[:6]}{' ...' if len(missing) > 6 else ''}")
    result = np.array([float(values[index[name]]) for name in robot_joints], dtype=np.float64)
    if not np.all(np.isfinite(result)):
        bad = [name for name, value in zip(robot_joints, result) if not math.isfinite(value)]
        raise InputError(f"{source}: non-finite positions for {bad}")
    unknown = [name for name in names if name not in set(robot_joints)]
    return result, unknown


def pose_array_joints(points: list[tuple[float, float, float]], source: str = "~/human_pose") -> np.ndarray:
    """The 22 SMPL joints of one PoseArray (ROS frame, Z up) as a (22,3) array in the Y-up human frame.

    The inverse of the robot-frame convention x' = x, y' = -z, z' = y: x = x', y = z', z = -y'.
    """
    if len(points) != NUM_JOINTS:
        raise InputError(f"{source}: expected {NUM_JOINTS} poses (SMPL joints in order), got {len(points)}")
    zup = np.asarray(points, dtype=np.float64).reshape(NUM_JOINTS, 3)
    if not np.all(np.isfinite(zup)):
        raise InputError(f"{source}: pose positions contain NaN or infinity")
    return np.stack([zup[:, 0], zup[:, 2], -zup[:, 1]], axis=1)


def yup_to_zup(points: np.ndarray) -> np.ndarray:
    """Human Y-up frame to the ROS Z-up frame: x' = x, y' = -z, z' = y (works on (...,3) arrays)."""
    points = np.asarray(points, dtype=np.float64)
    return np.stack([points[..., 0], -points[..., 2], points[..., 1]], axis=-1)
