"""Instruction templates as data, and filling their placeholders (the MotionGPT paper's instruction templates, Jiang et al., NeurIPS 2023).

A template file is JSON ``{group: {subtask: {"class": str, "input": [str, ...], "output": [str, ...]}}}``,
the structure of the reference ``template_pretrain.json`` / ``template_instructions.json``, so those files
can be dropped in. Placeholders: ``<Caption_Placeholder>``, ``<Motion_Placeholder>``,
``<Frame_Placeholder>``, ``<Second_Placeholder>``, ``<Motion_Placeholder_s1>`` (prediction input),
``<Motion_Placeholder_s2>`` (prediction target) and ``<Motion_Placeholder_Masked>`` (in-between input).

Deliberate choices (the reference implementation mixes units): lengths are always the frame count of the
motion the codes decode to (4 frames per code), seconds are that count / 20 with one decimal, and the
prediction / in-between splits are fractions of the code count.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Sequence

import numpy as np

from motiongpt.lm.vocabulary import MotionVocabulary
from motiongpt.skeleton import FPS

CAPTION = "<Caption_Placeholder>"
MOTION = "<Motion_Placeholder>"
FRAMES = "<Frame_Placeholder>"
SECONDS = "<Second_Placeholder>"
MOTION_HEAD = "<Motion_Placeholder_s1>"
MOTION_TAIL = "<Motion_Placeholder_s2>"
MOTION_MASKED = "<Motion_Placeholder_Masked>"

FRAMES_PER_CODE = 4  # motion codes: one per 4 frames (the tokenizer's temporal downsampling, 2**down_t)

# Inference prompts.
T2M_PROMPT = f"Generate motion: {CAPTION}"
T2M_PROMPT_FRAMES = f"Generate motion with {FRAMES} frames: {CAPTION}"
M2T_PROMPT = f"Generate text: {MOTION}"
PREDICT_PROMPT = f"Predict motion: {MOTION_HEAD}"
INBETWEEN_PROMPT = f"Complete the masked motion: {MOTION_MASKED}"


class TemplateError(ValueError):
    """A template file is missing, is not valid JSON, or does not have the expected structure."""


@dataclass(frozen=True)
class TemplateTask:
    """One subtask of a template file: its class (t2m, m2t, predict, ...) and its input/output templates."""

    group: str
    name: str
    task_class: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]

    @property
    def key(self) -> str:
        return f"{self.group}/{self.name}"


def builtin_template_path(name: str) -> Path:
    """Path of a template file that ships with the package ("pretrain" or "instructions")."""
    path = Path(str(resources.files("motiongpt.lm").joinpath("templates", f"{name}.json")))
    if not path.is_file():
        raise TemplateError(f"no built-in template set named {name!r} ({path} does not exist)")
    return path


def load_templates(path: str | Path) -> list[TemplateTask]:
    """Read and validate a template file; returns its subtasks in file order."""
    path = Path(path)
    if not path.is_file() and not Path(str(path) + ".json").is_file():
        try:
            path = builtin_template_path(str(path))
        except TemplateError:
            raise TemplateError(f"template file not found: {path}") from None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise TemplateError(f"{path}: cannot read templates as JSON: {error}") from error
    if not isinstance(data, dict) or not data:
        raise TemplateError(f"{path}: expected a non-empty JSON object {{group: {{subtask: {{...}}}}}}")
    tasks: list[TemplateTask] = []
    for group, subtasks in data.items():
        if not isinstance(subtasks, dict):
            raise TemplateError(f"{path}: group {group!r} must map subtask names to objects")
        for name, spec in subtasks.items():
            where = f"{path}: {group}/{name}"
            if not isinstance(spec, dict) or not {"class", "input", "output"} <= set(spec):
                raise TemplateError(f"{where}: needs the keys 'class', 'input' and 'output'")
            inputs, outputs = spec["input"], spec["output"]
            if not (isinstance(inputs, list) and inputs and all(isinstance(s, str) for s in inputs)):
                raise TemplateError(f"{where}: 'input' must be a non-empty list of strings")
            if not (isinstance(outputs, list) and outputs and all(isinstance(s, str) for s in outputs)):
                raise TemplateError(f"{where}: 'output' must be a non-empty list of strings")
            tasks.append(TemplateTask(group, name, str(spec["class"]), tuple(inputs), tuple(outputs)))
    return tasks


def format_seconds(frames: int) -> str:
    return f"{frames / FPS:.1f}"


def split_for_prediction(n_codes: int, ratio: float = 0.2) -> int:
    """Number of leading codes given to the prediction task (at least 1, leaving at least 1 to predict)."""
    if n_codes < 2:
        raise ValueError(f"prediction needs a motion of at least 2 codes, got {n_codes}")
    return int(min(max(1, int(n_codes * ratio)), n_codes - 1))


def split_for_inbetween(n_codes: int, ratio: float = 0.25) -> tuple[int, int]:
    """(h, t): codes [0, h) and [t, n) are given, [h, t) is masked; each part non-empty."""
    if n_codes < 3:
        raise ValueError(f"in-between needs a motion of at least 3 codes, got {n_codes}")
    head = min(max(1, int(n_codes * ratio)), n_codes - 2)
    tail = max(head + 1, min(n_codes - 1, n_codes - int(n_codes * ratio)))
    return head, tail


@dataclass
class PromptFiller:
    """Fills placeholders for one sample (caption, codes) following the template rules above."""

    vocabulary: MotionVocabulary
    quote_probability: float = 0.5
    predict_ratio: float = 0.2
    inbetween_ratio: float = 0.25

    def fill(
        self,
        template: str,
        caption: str = "",
        codes: Sequence[int] | np.ndarray | None = None,
        frames: int | None = None,
        rng: random.Random | None = None,
    ) -> str:
        rng = rng or random.Random(0)
        text = template
        code_array = None if codes is None else self.vocabulary.check_codes(codes)
        if frames is None and code_array is not None:
            frames = FRAMES_PER_CODE * len(code_array)
        if CAPTION in text:
            shown = f'"{caption}"' if rng.random() < self.quote_probability else caption
            text = text.replace(CAPTION, shown)
        if FRAMES in text or SECONDS in text:
            if frames is None:
                raise ValueError(f"template {template!r} needs a length but the sample has none")
            text = text.replace(FRAMES, str(int(frames))).replace(SECONDS, format_seconds(int(frames)))
        needs_motion = any(p in text for p in (MOTION_HEAD, MOTION_TAIL, MOTION_MASKED, MOTION))
        if needs_motion and code_array is None:
            raise ValueError(f"template {template!r} needs a motion but the sample has none")
        if MOTION_HEAD in text or MOTION_TAIL in text:
            head = split_for_prediction(len(code_array), self.predict_ratio)
            text = text.replace(MOTION_HEAD, self.vocabulary.codes_to_string(code_array[:head]))
            text = text.replace(MOTION_TAIL, self.vocabulary.codes_to_string(code_array[head:]))
        if MOTION_MASKED in text:
            head, tail = split_for_inbetween(len(code_array), self.inbetween_ratio)
            masked = self.vocabulary.masked_string(code_array[:head], tail - head, code_array[tail:])
            text = text.replace(MOTION_MASKED, masked)
        if MOTION in text:
            text = text.replace(MOTION, self.vocabulary.codes_to_string(code_array))
        return text
