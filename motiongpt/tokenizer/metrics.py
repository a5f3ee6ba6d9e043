"""Reconstruction metrics of the tokenizer (MotionGPT's `MRMetrics`, NeurIPS 2023) and codebook
usage. Joint arrays are (T, 22, 3) in metres; results are in millimetres.

- MPJPE: joints made root-relative (root joint subtracted per frame), mean over joints of the Euclidean error,
  summed over frames, divided by the total number of frames.
- PA-MPJPE: the same after aligning each predicted frame to the ground truth by a similarity transform
  (scale, rotation, translation; Procrustes via SVD, reflections excluded).
- ACCEL: mean over joints of the norm of the difference of second differences (root-relative joints), summed
  over frames, divided by (frames - 2 x sequences); mm per frame^2.
- Codebook: perplexity exp(-sum p log p) of the code histogram and the fraction of codes used at least once.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def root_relative(joints: np.ndarray) -> np.ndarray:
    return joints - joints[..., :1, :]


def procrustes_align(predicted: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Align each frame of `predicted` (T, J, 3) to `target` by the best similarity transform."""
    mu_p = predicted.mean(axis=1, keepdims=True)
    mu_t = target.mean(axis=1, keepdims=True)
    p0, t0 = predicted - mu_p, target - mu_t
    cross = np.einsum("tji,tjk->tik", p0, t0)                 # sum_j p_j t_j^T, (T, 3, 3)
    u, s, vt = np.linalg.svd(cross)
    v = np.swapaxes(vt, 1, 2)
    sign = np.sign(np.linalg.det(v @ np.swapaxes(u, 1, 2)))
    sign[sign == 0] = 1.0
    correction = np.ones_like(s)
    correction[:, -1] = sign
    rotation = v @ (correction[:, :, None] * np.swapaxes(u, 1, 2))   # R = V diag(1,1,sign) U^T
    variance = np.sum(p0 ** 2, axis=(1, 2))
    scale = np.sum(s * correction, axis=1) / np.maximum(variance, 1e-12)
    return scale[:, None, None] * np.einsum("tik,tjk->tji", rotation, p0) + mu_t


class ReconstructionMetrics:
    """Accumulates MPJPE / PA-MPJPE / ACCEL sums over sequences of possibly different lengths."""

    def __init__(self) -> None:
        self.frames = 0
        self.sequences = 0
        self.accel_frames = 0
        self._mpjpe = 0.0
        self._pa_mpjpe = 0.0
        self._accel = 0.0

    def add(self, predicted: np.ndarray, target: np.ndarray) -> None:
        predicted = np.asarray(predicted, dtype=np.float64)
        target = np.asarray(target, dtype=np.float64)
        if predicted.shape != target.shape or predicted.ndim != 3 or predicted.shape[-1] != 3:
            raise ValueError(f"metrics: predicted {predicted.shape} and target {target.shape} must both be (T, J, 3)")
        pred_rel, target_rel = root_relative(predicted), root_relative(target)
        self._mpjpe += float(np.linalg.norm(pred_rel - target_rel, axis=-1).mean(axis=-1).sum())
        aligned = procrustes_align(pred_rel, target_rel)
        self._pa_mpjpe += float(np.linalg.norm(aligned - target_rel, axis=-1).mean(axis=-1).sum())
        if len(predicted) >= 3:
            accel_pred = pred_rel[:-2] - 2 * pred_rel[1:-1] + pred_rel[2:]
            accel_target = target_rel[:-2] - 2 * target_rel[1:-1] + target_rel[2:]
            self._accel += float(np.linalg.norm(accel_pred - accel_target, axis=-1).mean(axis=-1).sum())
            self.accel_frames += len(predicted) - 2
        self.frames += len(predicted)
        self.sequences += 1

    def result(self) -> dict[str, float]:
        if self.frames == 0:
            raise ValueError("metrics: no sequences were added")
        return {
            "mpjpe_mm": 1000.0 * self._mpjpe / self.frames,
            "pa_mpjpe_mm": 1000.0 * self._pa_mpjpe / self.frames,
            "accel_error_mm": 1000.0 * self._accel / max(self.accel_frames, 1),
        }


@dataclass(frozen=True)
class CodebookUsage:
    perplexity: float
    used_fraction: float
    codes_used: int
    code_num: int


def codebook_usage(codes: np.ndarray, code_num: int) -> CodebookUsage:
    codes = np.asarray(codes).reshape(-1)
    counts = np.bincount(codes, minlength=code_num).astype(np.float64)
    probabilities = counts / max(counts.sum(), 1.0)
    perplexity = float(np.exp(-np.sum(probabilities * np.log(probabilities + 1e-7))))
    used = int(np.count_nonzero(counts))
    return CodebookUsage(perplexity, used / code_num, used, code_num)
