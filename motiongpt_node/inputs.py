"""Validation of everything that reaches the node from the wire (ROS-free: plain Python values in).

Each function either returns clean numpy/str values or raises InputError (a ValueError) whose
message names the topic and the problem, which the node reports on ~/status.
"""
from __future__ import annotations

import math
import unicodedata

import numpy as np

from motiongpt.skeleton import NUM_JOINTS, zup_to_yup

ALLOWED_CONTROL_CHARACTERS = {"\n", "\t", "\r"}
DEFAULT_MAX_JOINT_STATE_NAMES = 512  # the node parameter max_joint_state_names


class InputError(ValueError):
    """A message the node refuses: the text says which topic and what is wrong."""


def command_from_cdr(data: bytes, source: str = "~/command") -> str:
    """The text of a serialized std_msgs/String (CDR as it came off the wire), decoded strictly.

    rclpy's own conversion stops at the first NUL byte and replaces invalid UTF-8 by U+FFFD, so a command
    "walk\\0rm -rf /" would arrive as "walk" and a literal U+FFFD could not be told from a broken byte. Reading
    the bytes here refuses both cases by name; the result still goes through `validate_command`.
    """
    data = bytes(data)
    if len(data) < 8 or data[0] != 0 or data[1] not in (0, 1, 6, 7):  # CDR / XCDR2 (plain), big or little endian
        raise InputError(f"{source}: not a serialized std_msgs/String ({len(data)} bytes)")
    length = int.from_bytes(data[4:8], "little" if data[1] & 1 else "big")
    body = data[8:8 + length]
    if length == 0 or len(body) != length or body[-1] != 0:
        raise InputError(f"{source}: malformed std_msgs/String (string length {length}, {len(data) - 8} bytes follow)")
    content = body[:-1]
    if b"\0" in content:
        raise InputError(f"{source}: command contains a NUL character (byte {content.index(0)}); refused rather "
                         f"than cut short")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"{source}: command is not valid UTF-8 (byte {error.start}: {error.reason})") from None


def validate_command(text: str, max_chars: int, source: str = "~/command") -> str:
    """The command text, normalised; refuses empty, oversized, NUL or control-character input.

    Normalisation: Unicode NFKC, format characters (category Cf: zero-width spaces and joiners, U+FEFF,
    U+2060, bidirectional marks) removed, whitespace runs collapsed to one space. A command that is empty
    after that (only invisible characters) is refused. U+FFFD is ordinary text here: the bytes were
    checked for valid UTF-8 where they were decoded (`command_from_cdr`).
    """
    if not isinstance(text, str):
        raise InputError(f"{source}: command must be text, got {type(text).__name__}")
    if len(text) > max_chars:
        raise InputError(f"{source}: command is {len(text)} characters, more than max_command_chars={max_chars}")
    if "\0" in text:
        raise InputError(f"{source}: command contains a NUL character (index {text.index(chr(0))}); refused rather "
                         f"than cut short")
    bad = sorted({f"U+{ord(c):04X}" for c in text if unicodedata.category(c) == "Cc" and c not in ALLOWED_CONTROL_CHARACTERS})
    if bad:
        raise InputError(f"{source}: command contains control characters {bad[:5]}")
    normalised = unicodedata.normalize("NFKC", text)
    visible = "".join(c for c in normalised if unicodedata.category(c) != "Cf")
    command = " ".join(visible.split())
    if not command:
        what = "empty" if not text.strip() else "empty after removing invisible (format) characters and whitespace"
        raise InputError(f"{source}: command is {what}")
    if len(command) > max_chars:  # NFKC can expand a character (up to 18 for U+FDFA)
        raise InputError(f"{source}: command is {len(command)} characters after Unicode normalisation, more than "
                         f"max_command_chars={max_chars}")
    return command


def joint_state_positions(
    names: list[str], positions: list[float], robot_joints: tuple[str, ...], source: str = "/joint_states",
    max_names: int = DEFAULT_MAX_JOINT_STATE_NAMES,
) -> tuple[np.ndarray, list[str]]:
    """Positions in `robot_joints` order, plus the names the robot does not have (ignored, reported).

    Refuses messages with more than `max_names` names, whose name and position lists differ in length, that
    repeat a name, miss one of the robot's joints or carry a non-finite position for one of them. Linear in
    the number of names (one dict and one set), so a huge message costs little before it is refused.
    """
    if len(names) > max_names:
        raise InputError(f"{source}: {len(names)} joint names, more than max_joint_state_names={max_names}")
    names = list(names)
    values = list(positions)
    if len(names) != len(values):
        raise InputError(f"{source}: {len(names)} joint names but {len(values)} positions")
    index: dict[str, int] = {}
    repeated: set[str] = set()
    for i, name in enumerate(names):
        if name in index:
            repeated.add(name)
        else:
            index[name] = i
    if repeated:
        shown = sorted(repeated)
        raise InputError(f"{source}: repeated joint names {shown[:6]}{' ...' if len(shown) > 6 else ''}")
    missing = [name for name in robot_joints if name not in index]
    if missing:
        raise InputError(f"{source}: missing robot joints {missing[:6]}{' ...' if len(missing) > 6 else ''}")
    result = np.array([float(values[index[name]]) for name in robot_joints], dtype=np.float64)
    if not np.all(np.isfinite(result)):
        bad = [name for name, value in zip(robot_joints, result) if not math.isfinite(value)]
        raise InputError(f"{source}: non-finite positions for {bad}")
    robot = set(robot_joints)
    unknown = [name for name in names if name not in robot]
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
    return zup_to_yup(zup)
