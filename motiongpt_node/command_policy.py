"""What the node lets a command do (ROS-free): known requests only, allowed motions only, chosen joints only.

- **Out of vocabulary.** Each step of a command gets its meaning from the model
  (`MotionGPT.meanings`: the known action it asks for, how close the request is to anything the model was
  taught, and whether it is nearer to a request of something the model cannot do than to anything it can). A
  step below the similarity threshold, or read as unknown ("look to the left" is near the caption "please turn
  to the left.", nearer still to "look to your left"), is refused instead of executing the nearest motion: the
  model's thresholds, chosen together on its val split (`motiongpt export meaning-index`);
  `min_meaning_similarity` replaces the similarity one, `unknown_margin` the margin.
- **Allow-list.** A step whose meaning is not in `allowed_motions` is refused. The default allows locomotion
  and gestures; flips, cartwheels, rolls, spins, kicks, jumps, crawling, getting up and dancing need a
  controller that balances the robot and must be added by name (or `*`).
- **Joint mask.** Joints that match none of the `moving_joints` patterns (fnmatch, e.g. `*_shoulder_*`,
  `*_elbow_joint`) hold their current position for the whole trajectory (arms only, legs only ...).
"""
from __future__ import annotations

import fnmatch
from typing import Sequence

import numpy as np

# Locomotion and gestures of the embedded model's actions (data/embedded/actions.json).
DEFAULT_ALLOWED_MOTIONS = (
    "walk", "walk_back", "walk_left", "walk_right", "turn_left", "turn_right", "run", "dash",
    "wave_left_hand", "wave_right_hand", "wave_both_hands", "raise_up_left_hand", "raise_up_right_hand",
    "raise_up_both_hands", "bow", "bye", "byebye", "call", "guide", "respond",
)
ALL = "*"


class MotionNotAllowed(ValueError):
    """A step of a command is out of the model's vocabulary or its meaning is not allowed."""


def check_meanings(meanings: Sequence, allowed_motions: Sequence[str], refuse_unknown: bool,
                   min_similarity: float = 0.0, default_threshold: float | None = None,
                   unknown_margin: float = 0.0) -> None:
    """Raise MotionNotAllowed naming the first step that is unknown or not allowed.

    ``meanings``: `motiongpt.lm.command_meaning.Meaning` per step. ``min_similarity`` > 0 replaces the
    model's threshold (``default_threshold``); ``unknown_margin`` other than 0 replaces the model's margin (a step
    whose `Meaning.unknown_margin` is at least it is unknown; else its `Meaning.read_as_unknown`)."""
    threshold = min_similarity if min_similarity > 0 else default_threshold
    allowed = set(allowed_motions)
    for meaning in meanings:
        if refuse_unknown and threshold is not None and meaning.similarity < threshold:
            raise MotionNotAllowed(
                f"'{meaning.text}' is not something the model knows (nearest: {meaning.action}, meaning "
                f"similarity {meaning.similarity:.2f} < {threshold:.2f}); nothing was generated")
        unknown = meaning.read_as_unknown if unknown_margin == 0 else meaning.unknown_margin >= unknown_margin
        if refuse_unknown and unknown:
            limit = "" if unknown_margin == 0 else f" >= {unknown_margin:+.2f}"
            raise MotionNotAllowed(
                f"'{meaning.text}' is not something the model knows: it resembles '{meaning.nearest_unknown}', "
                f"which the model cannot do, about as much as anything it can, or more (unknown margin "
                f"{meaning.unknown_margin:+.2f}{limit}; nearest: {meaning.action}, meaning similarity "
                f"{meaning.similarity:.2f}); nothing was generated")
        if ALL not in allowed and meaning.action not in allowed:
            raise MotionNotAllowed(
                f"'{meaning.text}' means {meaning.action}, which is not in allowed_motions "
                f"({', '.join(sorted(allowed)) or 'none'}); add it (or '*') to allow it")


def describe_meanings(meanings: Sequence | None, rephrased: Sequence[str] | None = None,
                      played_speeds: Sequence[float] | None = None) -> str:
    """`walk 0.83, wave_right_hand 0.91` for the command's log line; with the captions the steps are generated
    from (``rephrased``): `walk 0.83 as 'walk forward', ...`; with the speeds they are played at (``played_speeds``),
    those not as generated: `walk 0.83 as 'walk backwards' played x1.4`."""
    if not meanings:
        return "unknown (no meaning index)"
    texts = [f"{m.action} {m.similarity:.2f}" for m in meanings]
    if rephrased is not None:
        texts = [f"{text} as {caption!r}" for text, caption in zip(texts, rephrased)]
    if played_speeds is not None:
        texts = [text if speed == 1 else f"{text} played x{speed:g}" for text, speed in zip(texts, played_speeds)]
    return ", ".join(texts)


def moving_mask(joint_names: Sequence[str], patterns: Sequence[str]) -> np.ndarray:
    """(J,) bool: the joints that match at least one fnmatch pattern."""
    return np.array([any(fnmatch.fnmatchcase(name, p) for p in patterns) for name in joint_names], dtype=bool)


def hold_masked_joints(positions: np.ndarray, state: np.ndarray, moving: np.ndarray) -> np.ndarray:
    """``positions`` (T, J) with every joint outside ``moving`` held at its current ``state``."""
    held = np.array(positions, dtype=np.float64, copy=True)
    held[:, ~moving] = state[~moving]
    return held
