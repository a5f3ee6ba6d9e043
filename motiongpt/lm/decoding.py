"""Token-by-token decoding outside Hugging Face ``generate``: one loop for the ONNX Runtime backend and for
classifier-free guidance on either backend.

`decode_tokens` takes a ``step`` function (the next decoder step's logits for a batch of last tokens; the
backend keeps its key/value cache in the closure) and does what ``generate`` does around it for ``num_beams=1``:
the motion answer's constraint (`motiongpt.lm.model.allowed_motion_tokens`), greedy choice or temperature, top-k
and one draw per row, padding of finished rows, and the interrupt check of each step.

With `Guidance` (Ho & Salimans 2022, classifier-free guidance, as T2M-GPT and MoMask use it for motion), the
step runs on 2B rows: the B prompts, then each prompt's unconditional row (the same prompt without its request),
fed the token its prompt's row chose. Each step's next-token log-probabilities are ``u + scale * (c - u)``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np


@dataclass(frozen=True)
class Guidance:
    """Classifier-free guidance of one batch: per prompt, its ``unconditional_prompts`` row (the same prompt
    without the request) and the ``scale`` (1: the prompt alone; above 1 the request's own contribution is
    amplified). The unconditional rows get no request text, so with text conditioning their sentence vector is
    the projection's bias, the input every prompt without a request gets."""

    unconditional_prompts: Sequence[str]
    scale: float

    def check(self, batch: int) -> None:
        if len(self.unconditional_prompts) != batch:
            raise ValueError(f"guidance: {len(self.unconditional_prompts)} unconditional prompts for a batch of "
                             f"{batch}")
        if isinstance(self.scale, bool) or not isinstance(self.scale, (int, float)) or not self.scale >= 1:
            raise ValueError(f"guidance scale must be a number >= 1, got {self.scale!r}")

    def rows(self, prompts: Sequence[str], request_texts: Sequence[str | None] | None
             ) -> tuple[list[str], list[str | None]]:
        """The 2B prompts and request texts a guided step runs on: the prompts, then their unconditional rows
        (no request text). Checks this guidance against the batch first."""
        self.check(len(prompts))
        requests = list(request_texts) if request_texts is not None else [None] * len(prompts)
        return list(prompts) + list(self.unconditional_prompts), requests + [None] * len(prompts)


def log_softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax of (B, V) scores."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def guided_log_probs(logits: np.ndarray, scale: float) -> np.ndarray:
    """(2B, V) logits (the prompts, then their unconditional rows) -> (B, V) guided log-probabilities."""
    log_probs = log_softmax(logits.astype(np.float32))
    batch = log_probs.shape[0] // 2
    conditional, unconditional = log_probs[:batch], log_probs[batch:]
    return (unconditional + float(scale) * (conditional - unconditional)).astype(np.float32)


def sample_rows(scores: np.ndarray, temperature: float, top_k: int, rng: np.random.Generator) -> np.ndarray:
    """Temperature, then top-k (as Hugging Face's warpers), then one draw per row."""
    scores = scores / temperature
    if 0 < top_k < scores.shape[1]:
        kth = np.partition(scores, -top_k, axis=1)[:, -top_k][:, None]
        scores = np.where(scores < kth, -np.inf, scores)
    peak = scores.max(axis=1, keepdims=True)
    probs = np.exp((scores - peak).astype(np.float64))
    cumulative = np.cumsum(probs, axis=1)
    draws = rng.random(scores.shape[0])[:, None] * cumulative[:, -1:]
    return np.minimum((cumulative <= draws).sum(axis=1), scores.shape[1] - 1)


def decode_tokens(step: Callable[[np.ndarray], np.ndarray], batch: int, start_token: int, pad: int, eos: int,
                  max_new_tokens: int, do_sample: bool, temperature: float, top_k: int, seed: int | None,
                  allowed: Callable[[list[list[int]], int], np.ndarray] | None = None,
                  guidance_scale: float | None = None, interrupted: Callable[[], None] | None = None) -> np.ndarray:
    """Token ids (B, 1 + n) starting with ``start_token``, finished rows padded (as Hugging Face generate).

    ``step(tokens)``: (rows,) int64 last tokens -> (rows, V) logits, rows = B, or 2B with ``guidance_scale``
    (the unconditional rows second). ``allowed(generated, V)``: (B, V) bool of the tokens each row may take
    next. ``interrupted()`` raises to stop between steps."""
    if do_sample and not float(temperature) > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    rng = np.random.default_rng(seed)
    tokens = np.full(batch, int(start_token), dtype=np.int64)
    generated: list[list[int]] = [[] for _ in range(batch)]
    unfinished = np.ones(batch, dtype=bool)
    columns = [tokens]
    for _ in range(int(max_new_tokens)):
        if interrupted is not None:
            interrupted()
        if guidance_scale is None:
            scores = step(tokens).astype(np.float32)
        else:
            scores = guided_log_probs(step(np.concatenate([tokens, tokens])), guidance_scale)
        if allowed is not None:
            scores = np.where(allowed(generated, scores.shape[1]), scores, -np.inf).astype(np.float32)
        chosen = sample_rows(scores, float(temperature), int(top_k), rng) if do_sample else scores.argmax(axis=1)
        chosen = np.where(unfinished, chosen, pad).astype(np.int64)
        for row, token in enumerate(chosen.tolist()):
            generated[row].append(token)
        columns.append(chosen)
        unfinished &= chosen != eos
        tokens = chosen
        if not unfinished.any():
            break
    return np.stack(columns, axis=1)
