"""Splitting a multi-step command ("walk forward, then turn left, then wave") into its steps."""
from __future__ import annotations

import re

# Separators between steps, tried as whole words; "and" alone is not one ("turn left and right" is one step).
STEP_SEPARATORS = (
    r",?\s*and then\s+",
    r",?\s*then\s+",
    r",?\s*after that,?\s+",
    r",?\s*afterwards,?\s+",
    r",?\s*followed by\s+",
    r",?\s*finally,?\s+",
    r",?\s*next,?\s+",
    r"\s*;\s*",
    r"\s*\.\s+",
)
_SPLIT = re.compile("|".join(f"(?:{s})" for s in STEP_SEPARATORS), flags=re.IGNORECASE)
_LEADING = re.compile(r"^(?:first(?:ly)?|to start|start by|and)[,\s]+", flags=re.IGNORECASE)


def split_command(text: str) -> list[str]:
    """Steps of a command, in order, without the connecting words. A single-step command gives one step.

    >>> split_command("First walk forward, then turn left and then wave.")
    ['walk forward', 'turn left', 'wave']
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("command: expected a non-empty text")
    steps = []
    for part in _SPLIT.split(text.strip()):
        part = _LEADING.sub("", part.strip()).strip(" ,.;")
        if part:
            steps.append(part)
    if not steps:
        raise ValueError(f"command: no step found in {text!r}")
    return steps


SUBJECT_WORDS = frozenset({"a", "an", "the", "someone", "somebody", "he", "she", "they", "person", "man", "woman",
                           "human", "robot", "it", "i", "we", "you", "people"})


def _third_person(verb: str) -> str:
    if verb.endswith("s") and not verb.endswith("ss"):
        return verb
    if verb.endswith(("ch", "sh", "x", "o", "ss", "z")):
        return verb + "es"
    if len(verb) > 1 and verb.endswith("y") and verb[-2] not in "aeiou":
        return verb[:-1] + "ies"
    return verb + "s"


def as_caption(step: str) -> str:
    """A step in the captions' own form: "turn left" / "turns left" -> "a person turns left".

    Training captions always have a subject ("a person walks forward."); bare fragments from a split command
    ("turn left") are out of distribution and were observed to flip left and right."""
    words = step.strip().split()
    if not words or words[0].lower() in SUBJECT_WORDS:
        return step.strip()
    return " ".join(["a", "person", _third_person(words[0].lower())] + words[1:])
