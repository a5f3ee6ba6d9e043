"""``motiongpt eval lm``: the language model measured on the held-out split, as JSON.

- text-to-motion action accuracy: every distinct held-out caption of the test split (phrasings never seen
  in training) is turned into a motion of its test motion's duration; the motion counts as right when a
  nearest-neighbour classifier over the real *training* motions (`MotionActionClassifier`, no weights
  shared with the generator) gives the caption's action. The classifier's own accuracy on the real held-out
  motions of the split, per action, is reported beside it: that is the ceiling the generated motions are
  measured against. The earlier classifier (nearest neighbour among the split's own real motions, which has a
  single other take for the rarest actions) is reported too, with its leave-one-out accuracy.
- style accuracy: for captions that name a style, the nearest real training motion of the same action gives
  the style; its accuracy on the real held-out motions is reported beside it.
- motion-to-text action accuracy: every test motion is captioned (greedy); the caption counts as right
  when it names the motion's action (`CaptionActionClassifier`: nearest training caption by word overlap).
- prediction: the first 20% of a test motion's codes are given (as real joints), the rest (same number of
  frames as the real motion) is predicted; in-between: the first and last 25% are given (real joints), the
  middle 50% is generated. ADE / FDE (as in MotionGPT's evaluation: per-frame L2 norm of the 66-dim joint difference, mean over the
  window / at its last frame, metres) over the generated window against the real joints, next to
  baselines on the same windows: zero velocity and constant velocity (prediction) and linear interpolation
  (in-between), computed from the real frames.
- time per command (seconds, this machine): text-to-motion calls, and multi-step commands.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import platform
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from motiongpt.lm.templates import FRAMES_PER_CODE
from motiongpt.skeleton import FPS

LOGGER = logging.getLogger(__name__)

MULTI_STEP_COMMANDS = (
    "a person walks forward, then turns left, then jumps",
    "someone runs forward and then kicks",
    "a person crawls on the ground, then gets up",
)


@dataclass
class EvaluationSettings:
    seed: int = 0
    samples_per_caption: int = 1
    max_items: int | None = None
    split: str = "test"
    predict_ratio: float = 0.2
    inbetween_ratio: float = 0.25
    temperature: float | None = None  # text-to-motion sampling temperature (None: the model folder's)
    greedy: bool = False              # text-to-motion greedy decoding instead of sampling
    inbetween_candidates: int = 8   # gaps sampled per window; the one fitting the given motions best is kept
    text_to_motion_candidates: int | None = None  # motions sampled per prompt (None: the model folder's)
    text_to_motion_neighbours: int | None = None  # nearest training captions as extra prompts (None: the folder's)
    text_to_motion_rerank: str | None = None       # "likelihood", "similarity" or "meaning" (None: the folder's)
    text_to_motion_guidance: float | None = None   # classifier-free guidance scale, 1: none (None: the folder's)
    text_to_motion_rephrase: str | None = None     # "none" or "meaning" (None: the folder's)
    grounding: bool = True             # use the model folder's caption grounding, if it has one
    text_to_motion_only: bool = False  # skip motion-to-text, prediction, in-between and commands
    held_out_commands: bool = True     # spoken multi-step commands of held_out_phrasings.yaml, step by step
    backend: str = "torch"             # "torch" or "onnxruntime" (the model folder's onnx/ export)
    device: str = "cpu"
    threads: int | None = None         # ONNX Runtime intra-op threads


def ade_fde(predicted: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """Section 6.1: per-frame L2 norm of the flattened (22*3) difference; mean over frames, and last frame."""
    if predicted.shape != target.shape or predicted.shape[0] == 0:
        raise ValueError(f"ADE/FDE: shapes differ or are empty: {predicted.shape} vs {target.shape}")
    per_frame = np.linalg.norm((predicted - target).reshape(len(target), -1), axis=1)
    return float(per_frame.mean()), float(per_frame[-1])


def zero_velocity(history: np.ndarray, frames: int) -> np.ndarray:
    return np.repeat(history[-1:], frames, axis=0)


def constant_velocity(history: np.ndarray, frames: int) -> np.ndarray:
    velocity = history[-1] - history[-2]
    return history[-1][None] + velocity[None] * np.arange(1, frames + 1)[:, None, None]


def linear_interpolation(before: np.ndarray, after: np.ndarray, frames: int) -> np.ndarray:
    weights = (np.arange(1, frames + 1) / (frames + 1))[:, None, None]
    return (1 - weights) * before[None] + weights * after[None]


def _summary(values: list[float]) -> dict[str, float]:
    array = np.asarray(values, dtype=np.float64)
    return {"mean": round(float(array.mean()), 4), "p50": round(float(np.median(array)), 4),
            "p95": round(float(np.percentile(array, 95)), 4), "n": int(array.size)}


def _mean(hits: list[bool]) -> float | None:
    return round(float(np.mean(hits)), 4) if hits else None


def text_to_motion_items(records, action_of) -> list[tuple[tuple[str, str], int]]:
    """What text-to-motion is measured on: each distinct (caption, action) of the split's motions, sorted, with
    the frame count of the first motion it captions."""
    pairs: dict[tuple[str, str], int] = {}
    for record in records:
        for caption in record.captions:
            pairs.setdefault((caption.text, action_of(record)), record.features.shape[0])
    return sorted(pairs.items())


def text_to_motion_seconds(frames: int, max_codes: int) -> float:
    """How long the motion of a caption is generated: its real motion's length, at most what the model makes."""
    return min(frames, max_codes * FRAMES_PER_CODE) / FPS


def text_to_motion_seed(base: int, sample: int, index: int) -> int:
    """The seed of sample ``sample`` of the ``index``-th caption (distinct for every caption and sample)."""
    return base + 1000 * sample + index


def style_phrases() -> dict[str, set[str]]:
    """Every phrase (training and held-out) that names each style label, lower case."""
    from motiongpt.data.bandai_dataset import bandai_caption_table, held_out_phrasings, style_label

    phrases: dict[str, set[str]] = {}
    for style, texts in bandai_caption_table().styles.items():
        phrases.setdefault(style_label(style), set()).update(t.lower() for t in texts)
    for style, texts in held_out_phrasings().styles.items():
        phrases.setdefault(style_label(style), set()).update(t.lower() for t in texts)
    return phrases


def named_style(text: str, style: str | None, phrases: dict[str, set[str]]) -> str | None:
    """The motion's style when its caption names it (a phrase of that style in the text), else None."""
    if not style or style == "normal":
        return None
    lowered = text.lower()
    return style if any(p in lowered for p in phrases.get(style, ())) else None


class StyleClassifier:
    """Nearest neighbour among the real held-out motions *of the same action* (descriptor of
    `motion_descriptor`): which style a motion of a known action is performed in."""

    def __init__(self, features, actions, styles, normalizer):
        from motiongpt.lm.action_classifier import motion_descriptor

        self._descriptor = lambda f: motion_descriptor(f, normalizer)
        self.rows = [(a, s, self._descriptor(f)) for f, a, s in zip(features, actions, styles) if s]

    def predict(self, features, action: str, exclude: int | None = None) -> str | None:
        query = self._descriptor(features)
        best, best_distance = None, np.inf
        for index, (row_action, style, descriptor) in enumerate(self.rows):
            if row_action != action or index == exclude:
                continue
            distance = float(np.linalg.norm(descriptor - query))
            if distance < best_distance:
                best, best_distance = style, distance
        return best

    def leave_one_out_accuracy(self) -> float | None:
        hits = []
        for index, (action, style, descriptor) in enumerate(self.rows):
            others = [(s, float(np.linalg.norm(d - descriptor))) for i, (a, s, d) in enumerate(self.rows)
                      if a == action and i != index]
            if others:
                hits.append(min(others, key=lambda item: item[1])[0] == style)
        return _mean(hits)


def evaluate_model(model_folder: str | Path, data_root: str | Path, settings: EvaluationSettings | None = None
                   ) -> dict:
    from motiongpt.data.humanml3d import load_actions, load_normalizer, load_split, load_styles
    from motiongpt.features import recover_from_ric
    from motiongpt.lm.action_classifier import CaptionActionClassifier, MotionActionClassifier
    from motiongpt.lm.api import MotionGPT
    from motiongpt.lm.vocabulary import NoMotionError

    settings = settings or EvaluationSettings()
    model = MotionGPT.from_pretrained(model_folder, device=settings.device, backend=settings.backend,
                                      threads=settings.threads)
    overrides = {name: value for name, value in (("candidates", settings.text_to_motion_candidates),
                                                  ("neighbours", settings.text_to_motion_neighbours),
                                                  ("rerank", settings.text_to_motion_rerank),
                                                  ("guidance", settings.text_to_motion_guidance),
                                                  ("rephrase", settings.text_to_motion_rephrase)) if value is not None}
    if not settings.grounding:
        overrides.update(neighbours=0, sentence_encoder=None, captions=None, rerank="likelihood")
    model.set_text_to_motion(dataclasses.replace(model.text_to_motion_settings, **overrides))
    t2m_settings = model.text_to_motion_settings
    actions = load_actions(data_root)
    styles = load_styles(data_root)
    phrases = style_phrases() if styles else {}
    normalizer = load_normalizer(data_root)
    test = load_split(data_root, settings.split)
    train = load_split(data_root, "train")

    def action_of(record) -> str:
        name = record.clip
        if name not in actions:
            raise ValueError(f"{data_root}/actions.json: no action for motion {name!r}")
        return actions[name]

    def style_of(record) -> str | None:
        return styles.get(record.clip)

    limit = settings.max_items
    # the references are the real training motions (many per action and style); the split's own motions are
    # what the classifiers are checked on, and the earlier split-referenced classifier is kept for comparison
    motion_classifier = MotionActionClassifier([r.features for r in train], [action_of(r) for r in train],
                                               normalizer)
    split_classifier = MotionActionClassifier([r.features for r in test], [action_of(r) for r in test], normalizer)
    style_classifier = StyleClassifier([r.features for r in train], [action_of(r) for r in train],
                                       [style_of(r) for r in train], normalizer)
    split_style_classifier = StyleClassifier([r.features for r in test], [action_of(r) for r in test],
                                             [style_of(r) for r in test], normalizer)
    real_per_action: dict[str, list[bool]] = {}
    real_style_hits: list[bool] = []
    # The style classifier answers with a style the training motions of the same action are performed in: an
    # (action, style) pair no training motion has (a style held out with the only take of its action) can never be
    # recognised, in real or generated motion. Those are counted apart, and the comparable pair of accuracies
    # (generated against real) is over the styled pairs that exist in training.
    trained_pairs = {(action_of(r), style_of(r)) for r in train if style_of(r)}
    real_known_style_hits: list[bool] = []
    for record in test:
        real_per_action.setdefault(action_of(record), []).append(
            motion_classifier.predict(record.features) == action_of(record))
        if style_of(record):
            hit = style_classifier.predict(record.features, action_of(record)) == style_of(record)
            real_style_hits.append(hit)
            if style_of(record) != "normal" and (action_of(record), style_of(record)) in trained_pairs:
                real_known_style_hits.append(hit)
    caption_classifier = CaptionActionClassifier([c.text for r in train for c in r.captions],
                                                 [action_of(r) for r in train for c in r.captions])
    train_captions = {c.text.strip().lower() for r in train for c in r.captions}

    # ---------------------------------------------------------------- text to motion
    caption_styles: dict[tuple[str, str], set] = {}
    for record in test:
        for caption in record.captions:
            caption_styles.setdefault((caption.text, action_of(record)), set()).add(
                named_style(caption.text, style_of(record), phrases))
    items = text_to_motion_items(test, action_of)[:limit]
    unseen = sum(text.strip().lower() not in train_captions for (text, _), _ in items)
    t2m_hits, t2m_times, t2m_failures, per_action, t2m_misses = [], [], 0, {}, []
    split_classifier_hits = []
    style_hits, per_style, known_style_hits = [], {}, []
    others = [] if settings.text_to_motion_only else test[:limit]
    for index, ((text, action), frames) in enumerate(items):
        for sample in range(settings.samples_per_caption):
            started = time.perf_counter()
            try:
                result = model.text_to_motion(text, seconds=text_to_motion_seconds(frames, model.max_codes),
                                              temperature=settings.temperature, greedy=settings.greedy,
                                              seed=text_to_motion_seed(settings.seed, sample, index))
            except NoMotionError:
                t2m_failures += 1
                t2m_hits.append(False)
                continue
            t2m_times.append(time.perf_counter() - started)
            recognised = motion_classifier.predict(result.features)
            hit = recognised == action
            if not hit:
                t2m_misses.append({"caption": text, "action": action, "recognised_as": recognised})
            t2m_hits.append(hit)
            split_classifier_hits.append(split_classifier.predict(result.features) == action)
            per_action.setdefault(action, []).append(hit)
            named = caption_styles[(text, action)]
            style = next(iter(named)) if len(named) == 1 else None
            if style is not None:
                style_hit = style_classifier.predict(result.features, action) == style
                style_hits.append(style_hit)
                per_style.setdefault(style, []).append(style_hit)
                if (action, style) in trained_pairs:
                    known_style_hits.append(style_hit)

    # ---------------------------------------------------------------- motion to text
    m2t_hits, m2t_examples, m2t_misses = [], [], []
    for record in others:
        caption = model.motion_to_text(record.features)
        predicted = caption_classifier.predict(caption)
        m2t_hits.append(predicted == action_of(record))
        row = {"motion": record.name, "action": action_of(record), "caption": caption, "named_action": predicted}
        if len(m2t_examples) < 8:
            m2t_examples.append(row)
        if not m2t_hits[-1]:
            m2t_misses.append(row)

    # ---------------------------------------------------------------- prediction and in-between
    pred = {"model": [], "zero_velocity": [], "constant_velocity": [], "tokenizer_reconstruction": []}
    inbetween = {"model": [], "linear_interpolation": [], "tokenizer_reconstruction": []}
    for index, record in enumerate(others):
        n_codes = record.features.shape[0] // FRAMES_PER_CODE
        if n_codes < 4:
            continue
        features = record.features[: n_codes * FRAMES_PER_CODE]
        truth = np.asarray(recover_from_ric(features), dtype=np.float64)
        reconstruction = model.decode(model.encode(features)).joints.astype(np.float64)
        # prediction: first 20% of the codes given
        given = max(1, int(n_codes * settings.predict_ratio))
        start = given * FRAMES_PER_CODE
        # the given part as joints (start + 1 joint frames = start feature frames = `given` codes), so the
        # continuation is placed where the real motion is
        result = model.predict(truth[:start + 1], seconds=(n_codes - given) * FRAMES_PER_CODE / FPS,
                               seed=settings.seed + index)
        window = slice(start, n_codes * FRAMES_PER_CODE)
        frames = window.stop - window.start
        pred["model"].append(ade_fde(result.joints[window].astype(np.float64), truth[window]))
        pred["zero_velocity"].append(ade_fde(zero_velocity(truth[:start], frames), truth[window]))
        pred["constant_velocity"].append(ade_fde(constant_velocity(truth[:start], frames), truth[window]))
        pred["tokenizer_reconstruction"].append(ade_fde(reconstruction[window], truth[window]))
        # in-between: first and last 25% given, middle generated
        head = max(1, int(n_codes * settings.inbetween_ratio))
        tail = n_codes - head
        gap = slice(head * FRAMES_PER_CODE, tail * FRAMES_PER_CODE)
        result = model.inbetween(truth[:gap.start + 1], truth[gap.stop:],
                                 seconds=(tail - head) * FRAMES_PER_CODE / FPS, seed=settings.seed + index,
                                 candidates=settings.inbetween_candidates)
        inbetween["model"].append(ade_fde(result.joints[gap].astype(np.float64), truth[gap]))
        inbetween["linear_interpolation"].append(ade_fde(
            linear_interpolation(truth[gap.start - 1], truth[gap.stop], gap.stop - gap.start), truth[gap]))
        inbetween["tokenizer_reconstruction"].append(ade_fde(reconstruction[gap], truth[gap]))

    def ade_table(table):
        return {name: {"ADE": round(float(np.mean([a for a, _ in rows])), 4),
                       "FDE": round(float(np.mean([f for _, f in rows])), 4), "n": len(rows)}
                for name, rows in table.items() if rows}

    # ---------------------------------------------------------------- held-out spoken multi-step commands
    command_rows = []
    # held_out_phrasings.yaml's commands are test material: a run on another split (val, for choices) leaves them
    if settings.held_out_commands and not settings.text_to_motion_only and settings.split == "test":
        from motiongpt.data.bandai_dataset import ACTION_ALIASES, held_out_phrasings

        known = set(motion_classifier.labels)
        for index, (text, expected) in enumerate(held_out_phrasings().commands):
            expected = [ACTION_ALIASES.get(a, a) for a in expected]
            result = model.command(text, seed=settings.seed + index)
            recognised = [motion_classifier.predict(result.features[first:max(end, first + 2)])
                          for _, first, end in result.steps]
            steps_ok = len(recognised) == len(expected)
            hits = [r == e for r, e in zip(recognised, expected)] if steps_ok else []
            command_rows.append({"command": text, "steps": [s for s, _, _ in result.steps], "expected": expected,
                                 "recognised": recognised, "split_right": steps_ok,
                                 "step_hits": sum(hits), "steps_scored": len(hits),
                                 "unknown_to_classifier": [e for e in expected if e not in known]})

    # ---------------------------------------------------------------- multi-step commands
    command_times = []
    for index, command in enumerate(() if settings.text_to_motion_only else MULTI_STEP_COMMANDS):
        started = time.perf_counter()
        model.command(command, seed=settings.seed + index)
        command_times.append(time.perf_counter() - started)

    import torch
    report = {
        "model": str(model_folder),
        "data": str(data_root),
        "split": settings.split,
        "text_to_motion": {
            "action_accuracy": _mean(t2m_hits),
            "captions": len(items), "captions_unseen_in_training": unseen,
            "samples_per_caption": settings.samples_per_caption, "no_motion_failures": t2m_failures,
            "decoding": "greedy" if settings.greedy else (
                f"top-k sampling, temperature {model.text_to_motion_temperature(settings.temperature):g}")
            + (f", classifier-free guidance {t2m_settings.guidance:g}" if t2m_settings.guidance != 1 else ""),
            "settings": {**t2m_settings.to_dict(),
                         "motions_per_caption": t2m_settings.motions_per_request(settings.greedy)},
            "per_action": {k: round(float(np.mean(v)), 3) for k, v in sorted(per_action.items())},
            "style_accuracy": _mean(style_hits),
            "style_captions": len(style_hits),
            "per_style": {k: round(float(np.mean(v)), 3) for k, v in sorted(per_style.items())},
            "style_classifier": "nearest neighbour among the real training motions of the same action",
            "style_classifier_accuracy_on_real_held_out_motions": _mean(real_style_hits),
            # the comparable pair: captions naming a style / real motions in a style other than "normal", both
            # only where the training motions have that action in that style (else no classifier can say it)
            "style_accuracy_trained_pairs": _mean(known_style_hits),
            "style_captions_trained_pairs": len(known_style_hits),
            "style_classifier_accuracy_on_real_held_out_motions_trained_pairs": _mean(real_known_style_hits),
            "style_real_motions_trained_pairs": len(real_known_style_hits),
            "misses": t2m_misses,
            "classifier": "nearest neighbour over descriptors of the real training motions",
            "classifier_accuracy_on_real_held_out_motions": _mean(
                [hit for hits in real_per_action.values() for hit in hits]),
            "classifier_accuracy_on_real_held_out_motions_per_action": {
                action: _mean(hits) for action, hits in sorted(real_per_action.items())},
            "split_referenced_classifier": {
                "classifier": "nearest neighbour over descriptors of the real held-out motions of the split",
                "action_accuracy": _mean(split_classifier_hits),
                "leave_one_out_accuracy_on_real_held_out_motions": round(
                    split_classifier.leave_one_out_accuracy(), 4),
                "style_leave_one_out_accuracy_on_real_held_out_motions":
                    split_style_classifier.leave_one_out_accuracy(),
            },
            "chance": round(1.0 / len(set(actions.values())), 4),
        },
        "motion_to_text": {
            "action_accuracy": _mean(m2t_hits),
            "motions": len(m2t_hits),
            "examples": m2t_examples,
            "misses": m2t_misses,
        },
        "held_out_commands": {
            "commands": len(command_rows),
            "split_right": sum(r["split_right"] for r in command_rows),
            "step_accuracy": (round(sum(r["step_hits"] for r in command_rows)
                                    / max(1, sum(r["steps_scored"] for r in command_rows)), 4)
                              if command_rows else None),
            "rows": command_rows,
        },
        "prediction": ade_table(pred),
        "inbetween": {**ade_table(inbetween), "candidates_per_window": settings.inbetween_candidates},
        "seconds_per_command": {
            "text_to_motion": _summary(t2m_times) if t2m_times else None,
            "multi_step_command": _summary(command_times) if command_times else None,
        },
        "backend": settings.backend, "device": settings.device,
        "machine": {"cpu": platform.processor() or platform.machine(), "torch_threads": torch.get_num_threads()},
    }
    LOGGER.info("%s", json.dumps(report))
    return report
