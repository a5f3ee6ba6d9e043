"""Augmentations of (T,22,3) SMPL motions and their captions that keep the caption true.

- :func:`mirror_joints` / :func:`mirror_text` / :func:`mirror_action`: left and right swapped (joints via
  ``skeleton.MIRROR_PERMUTATION`` with x negated; the words left/right, clockwise/counterclockwise and
  action labels such as turn_left/turn_right swapped).
- :func:`rotate_yaw`: the whole motion turned about the vertical axis. The 263-dim features are invariant
  to it (process_joints turns frame 0 to face +Z), so it only matters for raw joint positions.
- :func:`change_speed`: linear resampling of joint positions in time (factor 2 = twice as fast, half the
  frames). Captions that name a speed (:data:`SPEED_WORDS`) must not be paired with a changed speed;
  :func:`mentions_speed` finds them.
- :func:`named_speed`, :func:`named_side`, :func:`action_side`: the speed or side a request or caption names, the
  side an action label has.
- :func:`crop`, :func:`hold_pad`: a time window; holding the first/last pose still for some frames.
(Repeating a looping clip needs the clip's root transform per cycle: see ``deepmimic.repeat_cycles``.)
"""
from __future__ import annotations

import re

import numpy as np

from motiongpt.skeleton import FACE_JOINTS, MIRROR_PERMUTATION, NUM_JOINTS

SLOW_WORDS: frozenset[str] = frozenset({"slow", "slowly", "slower", "leisurely", "sluggishly", "unhurriedly"})
FAST_WORDS: frozenset[str] = frozenset({
    "quick", "quickly", "quicker", "fast", "faster", "rapid", "rapidly", "brisk", "briskly", "hurried", "hurriedly",
    "swift", "swiftly", "speedily",
})
SPEED_WORDS: frozenset[str] = SLOW_WORDS | FAST_WORDS

_SWAPS = {
    "left": "right", "right": "left",
    "clockwise": "counterclockwise", "counterclockwise": "clockwise", "anticlockwise": "clockwise",
    "leftward": "rightward", "rightward": "leftward", "leftwards": "rightwards", "rightwards": "leftwards",
}
SIDE_WORDS: dict[str, frozenset[str]] = {
    "left": frozenset({"left", "leftward", "leftwards"}),
    "right": frozenset({"right", "rightward", "rightwards"}),
}
# "right" that names no side: "right now", "right away", "all right", "that's right", ...
_NOT_A_SIDE = re.compile(r"\b(?:all right|that's right|right (?:now|away|here|there|after|before|then|back))\b")
_SWAP_PATTERN = re.compile(r"(?<![A-Za-z])(" + "|".join(sorted(_SWAPS, key=len, reverse=True)) + r")(?![A-Za-z])",
                           re.IGNORECASE)


def _check(joints: np.ndarray, what: str) -> np.ndarray:
    joints = np.asarray(joints, dtype=np.float64)
    if joints.ndim != 3 or joints.shape[1:] != (NUM_JOINTS, 3):
        raise ValueError(f"{what}: expected joints of shape (T, {NUM_JOINTS}, 3), got {joints.shape}")
    return joints


def mirror_joints(joints: np.ndarray) -> np.ndarray:
    """Left-right mirror image: x negated and left/right joints swapped."""
    joints = _check(joints, "mirror_joints")
    mirrored = joints[:, list(MIRROR_PERMUTATION)].copy()
    mirrored[..., 0] *= -1.0
    return mirrored


def _swap_word(match: re.Match) -> str:
    word = match.group(0)
    swapped = _SWAPS[word.lower()]
    if word.isupper():
        return swapped.upper()
    if word[0].isupper():
        return swapped.capitalize()
    return swapped


def mirror_text(text: str) -> str:
    """The caption of the mirrored motion: left <-> right, clockwise <-> counterclockwise (case kept)."""
    return _SWAP_PATTERN.sub(_swap_word, text)


def mirror_action(action: str) -> str:
    """Action label of the mirrored motion (turn_left <-> turn_right; symmetric labels unchanged)."""
    parts = action.split("_")
    return "_".join(_SWAPS.get(p, p) if p in ("left", "right") else p for p in parts)


def mentions_speed(text: str) -> bool:
    return any(word in SPEED_WORDS for word in re.findall(r"[a-z]+", text.lower()))


def named_speed(text: str) -> str | None:
    """"slow" or "fast" when the text names that speed (:data:`SLOW_WORDS`, :data:`FAST_WORDS`) and not the
    other; None otherwise."""
    words = set(re.findall(r"[a-z]+", text.lower()))
    slow, fast = bool(words & SLOW_WORDS), bool(words & FAST_WORDS)
    return "slow" if slow and not fast else "fast" if fast and not slow else None


def named_side(text: str) -> str | None:
    """"left" or "right" when the text names that side (:data:`SIDE_WORDS`; "right now", "all right" and the like
    are not a side) and not the other; None otherwise."""
    words = set(re.findall(r"[a-z]+", _NOT_A_SIDE.sub(" ", text.lower())))
    named = [side for side, side_words in SIDE_WORDS.items() if words & side_words]
    return named[0] if len(named) == 1 else None


def action_side(action: str) -> str | None:
    """"left" or "right" for an action label with a side (turn_left, raise_up_right_hand); None otherwise."""
    parts = set(action.split("_"))
    named = [side for side in SIDE_WORDS if side in parts]
    return named[0] if len(named) == 1 else None


def rotate_yaw(joints: np.ndarray, angle_rad: float) -> np.ndarray:
    """Turn the motion by ``angle_rad`` about the vertical (+Y) axis through the frame-0 root."""
    joints = _check(joints, "rotate_yaw")
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    rotation = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    pivot = np.array([joints[0, 0, 0], 0.0, joints[0, 0, 2]])
    return (joints - pivot) @ rotation.T + pivot


def face_forward(joints: np.ndarray) -> np.ndarray:
    """The motion turned about +Y so that frame 0 faces +Z (hips and shoulders, ``skeleton.FACE_JOINTS``) and
    moved so that the frame-0 root is at x = z = 0; heights kept. Every source's conversion ends with this."""
    joints = _check(joints, "face_forward")
    r_hip, l_hip, r_shoulder, l_shoulder = FACE_JOINTS
    across = (joints[0, r_hip] - joints[0, l_hip]) + (joints[0, r_shoulder] - joints[0, l_shoulder])
    forward = np.cross([0.0, 1.0, 0.0], across)
    turned = rotate_yaw(joints, -float(np.arctan2(forward[0], forward[2])))  # forward's angle from +z towards +x
    turned[..., 0] -= turned[0, 0, 0]
    turned[..., 2] -= turned[0, 0, 2]
    return turned


def change_speed(joints: np.ndarray, factor: float) -> np.ndarray:
    """Play the motion ``factor`` times as fast (positions linearly interpolated at the same frame rate)."""
    joints = _check(joints, "change_speed")
    if not np.isfinite(factor) or factor <= 0:
        raise ValueError(f"change_speed: factor must be a positive number, got {factor}")
    duration = len(joints) - 1
    new_count = int(np.floor(duration / factor + 1e-9)) + 1
    source_times = np.arange(new_count) * factor
    lower = np.minimum(np.floor(source_times).astype(int), len(joints) - 1)
    upper = np.minimum(lower + 1, len(joints) - 1)
    weight = (source_times - lower)[:, None, None]
    return (1.0 - weight) * joints[lower] + weight * joints[upper]


def crop(joints: np.ndarray, start: int, length: int) -> np.ndarray:
    """Frames [start, start + length)."""
    joints = _check(joints, "crop")
    if start < 0 or length < 1 or start + length > len(joints):
        raise ValueError(f"crop: window [{start}, {start + length}) is outside the motion's {len(joints)} frames")
    return joints[start:start + length].copy()


def hold_pad(joints: np.ndarray, before: int, after: int) -> np.ndarray:
    """Hold the first pose still for ``before`` frames and the last pose for ``after`` frames."""
    joints = _check(joints, "hold_pad")
    if before < 0 or after < 0:
        raise ValueError(f"hold_pad: frame counts must be >= 0, got {before}, {after}")
    return np.concatenate([np.repeat(joints[:1], before, axis=0), joints, np.repeat(joints[-1:], after, axis=0)])
