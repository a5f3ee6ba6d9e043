"""The motion part of the shared text+motion vocabulary (MotionGPT, Jiang et al., NeurIPS 2023: one token per motion code plus start, end and mask).

A codebook of K codes adds K + 3 tokens to the text vocabulary: ``<motion_id_0>`` ... ``<motion_id_{K-1}>``
for the codes, then ``<motion_id_K>`` (start of motion), ``<motion_id_{K+1}>`` (end of motion) and
``<motion_id_{K+2}>`` (mask, for the in-between task). A motion is written as start + codes + end with no
separators, and parsed back from the first start..end span of a generated string.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

LOGGER = logging.getLogger(__name__)

MOTION_TOKEN_PATTERN = re.compile(r"<motion_id_(\d+)>")
MOTION_PLACEHOLDER = "<Motion_Placeholder>"


class NoMotionError(ValueError):
    """A generated response holds no usable motion (no motion tokens, or none inside the codebook)."""


@dataclass(frozen=True)
class MotionVocabulary:
    """Token strings and ids of the motion vocabulary for a codebook of ``code_num`` codes."""

    code_num: int = 512

    def __post_init__(self) -> None:
        if int(self.code_num) < 1:
            raise ValueError(f"motion vocabulary: code_num must be >= 1, got {self.code_num}")

    @property
    def start_index(self) -> int:
        return self.code_num

    @property
    def end_index(self) -> int:
        return self.code_num + 1

    @property
    def mask_index(self) -> int:
        return self.code_num + 2

    @property
    def size(self) -> int:
        """Number of tokens added to the text vocabulary (codes + start + end + mask)."""
        return self.code_num + 3

    @staticmethod
    def token(index: int) -> str:
        return f"<motion_id_{int(index)}>"

    @property
    def start_token(self) -> str:
        return self.token(self.start_index)

    @property
    def end_token(self) -> str:
        return self.token(self.end_index)

    @property
    def mask_token(self) -> str:
        return self.token(self.mask_index)

    def tokens(self) -> list[str]:
        """All added token strings in id order (codes, start, end, mask)."""
        return [self.token(i) for i in range(self.size)]

    def check_codes(self, codes: Sequence[int] | np.ndarray, source: str = "motion codes") -> np.ndarray:
        array = np.asarray(codes)
        if array.ndim != 1:
            raise ValueError(f"{source}: expected a 1-D sequence of codes, got shape {array.shape}")
        if array.size and not np.issubdtype(array.dtype, np.integer):
            if not np.all(np.isfinite(array)) or not np.all(array == np.round(array)):
                raise ValueError(f"{source}: codes must be integers")
        array = array.astype(np.int64)
        if array.size and (array.min() < 0 or array.max() >= self.code_num):
            raise ValueError(
                f"{source}: codes must lie in [0, {self.code_num - 1}], got range [{array.min()}, {array.max()}]"
            )
        return array

    def codes_to_string(self, codes: Sequence[int] | np.ndarray) -> str:
        """``<motion_id_K><motion_id_c0>...<motion_id_K+1>``: start, codes, end."""
        array = self.check_codes(codes)
        return self.start_token + "".join(self.token(c) for c in array) + self.end_token

    def masked_string(self, before: Sequence[int], num_masked: int, after: Sequence[int]) -> str:
        """Start + ``before`` codes + ``num_masked`` mask tokens + ``after`` codes + end (the in-between input)."""
        before_array = self.check_codes(before, "codes before the gap")
        after_array = self.check_codes(after, "codes after the gap")
        if num_masked < 0:
            raise ValueError(f"in-between: the number of masked tokens must be >= 0, got {num_masked}")
        return (
            self.start_token
            + "".join(self.token(c) for c in before_array)
            + self.mask_token * int(num_masked)
            + "".join(self.token(c) for c in after_array)
            + self.end_token
        )

    def parse(self, text: str, source: str = "model output") -> "ParsedMotion":
        return parse_motion(text, self, source)


def codes_from_ids(ids: Sequence[int] | np.ndarray, first_motion_id: int, vocabulary: MotionVocabulary,
                   source: str = "model output") -> np.ndarray:
    """The codes of a generated answer read straight from its token ids (no detour through text): the ids
    between the first start-of-motion token and the end-of-motion token after it that fall in the codebook.
    Under `MotionConstraintProcessor` that span is exactly start, codes, end; anything else raises
    `NoMotionError` (use `parse_motion` on the decoded text to read unconstrained answers robustly)."""
    relative = np.asarray(ids, dtype=np.int64) - int(first_motion_id)
    starts = np.flatnonzero(relative == vocabulary.start_index)
    if not starts.size:
        raise NoMotionError(f"{source}: no start-of-motion token among the generated ids")
    body = relative[starts[0] + 1:]
    ends = np.flatnonzero(body == vocabulary.end_index)
    if not ends.size:
        raise NoMotionError(f"{source}: no end-of-motion token after the start (generation cut short?)")
    body = body[:ends[0]]
    if not body.size or ((body < 0) | (body >= vocabulary.code_num)).any():
        raise NoMotionError(f"{source}: the motion span holds ids outside the codebook or none at all: "
                            f"{(body + int(first_motion_id)).tolist()[:20]}")
    return body.copy()


@dataclass
class ParsedMotion:
    """Codes found in a generated string, the text around them, and what was dropped on the way."""

    codes: np.ndarray
    text: str
    warnings: list[str] = field(default_factory=list)


def parse_motion(text: str, vocabulary: MotionVocabulary, source: str = "model output") -> ParsedMotion:
    """Parse the first start..end motion span of ``text`` into codes, robustly.

    - The span runs from the first start token to the first end token after it. A missing end token
      (generation cut at the length limit) takes the span to the end of the string; a missing start
      token takes it from the first motion token. Both cases are reported as warnings.
    - Inside the span, ids outside the codebook (start, mask, out-of-range ids) and stray text are
      dropped with a warning.
    - No usable code raises :class:`NoMotionError` (the reference silently returns one code, a 4-frame motion).

    The returned ``text`` is ``text`` with the span replaced by ``<Motion_Placeholder>``.
    """
    if not isinstance(text, str):
        raise NoMotionError(f"{source}: expected a string, got {type(text).__name__}")
    warnings: list[str] = []
    matches = list(MOTION_TOKEN_PATTERN.finditer(text))
    if not matches:
        raise NoMotionError(f"{source}: no motion tokens in the response {text[:120]!r}")
    start_match = next((m for m in matches if int(m.group(1)) == vocabulary.start_index), None)
    if start_match is None:
        warnings.append("no start-of-motion token; the span starts at the first motion token")
        span_start, body_start = matches[0].start(), matches[0].start()
    else:
        span_start, body_start = start_match.start(), start_match.end()
    end_match = next(
        (m for m in matches if m.start() >= body_start and int(m.group(1)) == vocabulary.end_index), None
    )
    if end_match is None:
        warnings.append("no end-of-motion token after the start; the span runs to the end of the response")
        body_end, span_end = len(text), len(text)
    else:
        body_end, span_end = end_match.start(), end_match.end()
    body = text[body_start:body_end]
    codes: list[int] = []
    dropped_ids: list[int] = []
    position = 0
    stray_text: list[str] = []
    for match in MOTION_TOKEN_PATTERN.finditer(body):
        between = body[position:match.start()].strip()
        if between:
            stray_text.append(between)
        position = match.end()
        index = int(match.group(1))
        if index < vocabulary.code_num:
            codes.append(index)
        else:
            dropped_ids.append(index)
    tail = body[position:].strip()
    if tail:
        stray_text.append(tail)
    if dropped_ids:
        warnings.append(f"dropped {len(dropped_ids)} token(s) outside the codebook: ids {sorted(set(dropped_ids))}")
    if stray_text:
        warnings.append(f"dropped stray text inside the motion span: {' | '.join(stray_text)[:120]!r}")
    for message in warnings:
        LOGGER.warning("%s: %s", source, message)
    if not codes:
        raise NoMotionError(f"{source}: the motion span holds no code inside the codebook: {text[:120]!r}")
    cleaned = (text[:span_start] + MOTION_PLACEHOLDER + text[span_end:]).strip()
    return ParsedMotion(codes=np.asarray(codes, dtype=np.int64), text=cleaned, warnings=warnings)
