"""Training examples for the language model: motion clips as codes, captions, and tasks from templates.

Each motion record (features + captions) is encoded once by the frozen motion tokenizer, at the four
possible frame offsets of the 4-frame code grid (cheap augmentation). A batch draws, per example, a clip,
one of its captions, a subtask of the template set (uniformly), one input and one output template, and
fills them; with probability 1/3 one code is dropped from the head or the tail (as MotionGPT's training does).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch

from motiongpt.lm.templates import CAPTION, FRAMES_PER_CODE, PromptFiller, TemplateTask

MIN_CODES = 4  # prediction and in-between need a few codes to split


@dataclass
class EncodedClip:
    name: str
    captions: tuple[str, ...]
    variants: tuple[np.ndarray, ...]  # codes at each frame offset


def encode_records(records: Sequence[Any], motion_tokenizer, offsets: Sequence[int] = (0, 1, 2, 3)
                   ) -> list[EncodedClip]:
    """Encode ``MotionRecord``-like objects (``name``, ``features`` (T, 263), ``captions`` with ``.text``)."""
    normalizer = motion_tokenizer.normalizer
    clips = []
    for record in records:
        captions = tuple(str(getattr(c, "text", c)).strip() for c in record.captions)
        captions = tuple(c for c in captions if c)
        if not captions:
            continue
        normalized = np.asarray(normalizer.normalize(np.asarray(record.features, dtype=np.float32)), dtype=np.float32)
        variants = []
        for offset in offsets:
            window = normalized[offset:]
            if window.shape[0] >= MIN_CODES * FRAMES_PER_CODE:
                codes = motion_tokenizer.encode(torch.from_numpy(np.ascontiguousarray(window))[None])
                variants.append(codes[0].cpu().numpy().astype(np.int64))
        if variants:
            clips.append(EncodedClip(record.name, captions, tuple(variants)))
    if not clips:
        raise ValueError("language-model data: no usable clip (each needs captions and at least 16 frames)")
    return clips


@dataclass
class Example:
    task: str
    input: str
    output: str
    request: str | None = None  # the caption the input carries (text conditioning), None when it has none


class ExampleSampler:
    """Draws filled (input, output) pairs; its random state is saved with checkpoints."""

    def __init__(self, clips: Sequence[EncodedClip], tasks: Sequence[TemplateTask], filler: PromptFiller,
                 seed: int = 0, drop_code_probability: float = 1.0 / 3.0, vary_ratios: bool = True,
                 clip_weights: Sequence[float] | None = None, caption_dropout: float = 0.0,
                 task_weights: Sequence[float] | None = None):
        if not clips or not tasks:
            raise ValueError("language-model data: need at least one clip and one template task")
        if clip_weights is not None and (len(clip_weights) != len(clips) or min(clip_weights) < 0
                                         or sum(clip_weights) <= 0):
            raise ValueError("language-model data: need one non-negative weight per clip, not all zero")
        self.clips = list(clips)
        if task_weights is not None and (len(task_weights) != len(tasks) or min(task_weights) < 0
                                         or sum(task_weights) <= 0):
            raise ValueError("language-model data: need one non-negative weight per task, not all zero")
        self.cumulative_weights = None if clip_weights is None else list(np.cumsum(clip_weights))
        # None: every task equally (the draw of the runs before task weights, kept for their resumption)
        self.cumulative_task_weights = None if task_weights is None else list(np.cumsum(task_weights))
        self.caption_dropout = float(caption_dropout)
        self.tasks = list(tasks)
        self.filler = filler
        self.drop_code_probability = drop_code_probability
        self.vary_ratios = vary_ratios
        self.rng = random.Random(seed)

    def sample(self) -> Example:
        rng = self.rng
        if self.cumulative_weights is None:
            clip = rng.choice(self.clips)
        else:
            clip = rng.choices(self.clips, cum_weights=self.cumulative_weights)[0]
        codes = rng.choice(clip.variants)
        if len(codes) > MIN_CODES and rng.random() < self.drop_code_probability:
            codes = codes[1:] if rng.random() < 0.5 else codes[:-1]
        if self.cumulative_task_weights is None:
            task = rng.choice(self.tasks)
        else:
            task = rng.choices(self.tasks, cum_weights=self.cumulative_task_weights)[0]
        caption = rng.choice(clip.captions)
        if self.vary_ratios:  # users give prefixes and gaps of any size, not only 20% / 50%
            self.filler.predict_ratio = rng.uniform(0.15, 0.6)
            self.filler.inbetween_ratio = rng.uniform(0.15, 0.4)
        source = rng.choice(task.inputs)
        target = rng.choice(task.outputs)
        seed = rng.random()
        # the same caption quoting decision for input and output of one example
        request = caption if CAPTION in source else None
        # with text conditioning, some inputs lose their caption words: the sentence vector must carry them
        shown = "" if request is not None and rng.random() < self.caption_dropout else caption
        text_in = self.filler.fill(source, shown, codes, rng=random.Random(seed))
        text_out = self.filler.fill(target, caption, codes, rng=random.Random(seed))
        return Example(task.key, text_in, text_out, request)

    def state_dict(self) -> dict[str, Any]:
        return {"rng": self.rng.getstate()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        version, internal, gauss = state["rng"]
        self.rng.setstate((version, tuple(internal), gauss))


class LanguageModelBatches:
    """Batch source for `motiongpt.training.Trainer`: tokenised inputs and labels (pads -> -100)."""

    def __init__(self, sampler: ExampleSampler, tokenizer, batch_size: int, max_length: int = 256,
                 device: torch.device | str = "cpu", sentence_vectors=None):
        self.sampler = sampler
        self.sentence_vectors = sentence_vectors  # text conditioning: request texts -> (B, E) vectors
        self.tokenizer = tokenizer
        self.batch_size = int(batch_size)
        self.max_length = int(max_length)
        self.device = torch.device(device)

    def collate(self, examples: Sequence[Example]) -> dict[str, torch.Tensor]:
        inputs = self.tokenizer([e.input for e in examples], padding=True, truncation=True,
                                max_length=self.max_length, return_tensors="pt")
        outputs = self.tokenizer([e.output for e in examples], padding=True, truncation=True,
                                 max_length=self.max_length, return_tensors="pt")
        labels = outputs["input_ids"].masked_fill(outputs["attention_mask"] == 0, -100)
        batch = {"input_ids": inputs["input_ids"], "attention_mask": inputs["attention_mask"],
                 "labels": labels, "decoder_attention_mask": outputs["attention_mask"]}
        if self.sentence_vectors is not None:
            batch["text_vectors"] = self.sentence_vectors([e.request for e in examples])
        return {k: v.to(self.device) for k, v in batch.items()}

    def next_batch(self) -> dict[str, torch.Tensor]:
        return self.collate([self.sampler.sample() for _ in range(self.batch_size)])

    def state_dict(self) -> dict[str, Any]:
        return self.sampler.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.sampler.load_state_dict(state)


def seq2seq_loss(model: torch.nn.Module, batch: dict[str, torch.Tensor]):
    """Loss function for the Trainer: T5's token cross-entropy."""
    output = model(**batch)
    return output.loss, {}
