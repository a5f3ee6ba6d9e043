"""Held-out evaluation of a tokenizer: reconstruct every evaluation window (encode -> decode), recover joints
from the original and reconstructed features with `recover_from_ric`, and report MPJPE / PA-MPJPE / ACCEL
(mm) and codebook usage (see `metrics`).

Windows: with window_frames=0 (default) each held-out clip (as loaded by `load_split`, at most 196 frames) is
one window, cut to a multiple of 4 frames from its start, as MotionGPT evaluates whole clips. With
window_frames=N the clips are cut into consecutive non-overlapping N-frame windows (remainders dropped).
"""
from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Sequence

import numpy as np
import torch

from motiongpt.tokenizer.errors import TokenizerError
from motiongpt.tokenizer.metrics import ReconstructionMetrics, codebook_usage
from motiongpt.tokenizer.model import MotionTokenizer


def evaluation_windows(features: Iterable[np.ndarray], frames_per_code: int = 4,
                       window_frames: int = 0) -> list[np.ndarray]:
    """Un-normalised feature windows (each a multiple of `frames_per_code` frames long)."""
    if window_frames and window_frames % frames_per_code:
        raise TokenizerError(f"window_frames must be a multiple of {frames_per_code}, got {window_frames}")
    windows = []
    for clip in features:
        clip = np.asarray(clip, dtype=np.float32)
        if window_frames:
            windows += [clip[s:s + window_frames] for s in range(0, len(clip) - window_frames + 1, window_frames)]
        else:
            usable = (len(clip) // frames_per_code) * frames_per_code
            if usable:
                windows.append(clip[:usable])
    return windows


@torch.no_grad()
def evaluate_tokenizer(model: MotionTokenizer, features: Sequence[np.ndarray], window_frames: int = 0,
                       batch_size: int = 64) -> dict[str, float | int]:
    """Metrics over the windows of `features` (un-normalised (T, 263) clips). Uses `model.normalizer`."""
    from motiongpt.features import recover_from_ric
    if model.normalizer is None:
        raise TokenizerError("evaluate: the tokenizer has no normalizer (mean/std)")
    windows = evaluation_windows(features, model.frames_per_code, window_frames)
    if not windows:
        raise TokenizerError("evaluate: no evaluation windows (every clip is shorter than one window)")
    was_training = model.training
    model.eval()
    by_length: dict[int, list[int]] = defaultdict(list)
    for index, window in enumerate(windows):
        by_length[len(window)].append(index)
    metrics = ReconstructionMetrics()
    all_codes = []
    for length, indices in sorted(by_length.items()):
        for start in range(0, len(indices), batch_size):
            chosen = indices[start:start + batch_size]
            batch = np.stack([windows[i] for i in chosen])
            normalized = torch.from_numpy(np.asarray(model.normalizer.normalize(batch), dtype=np.float32))
            codes = model.encode(normalized)
            reconstruction = model.decode(codes).float().cpu().numpy()
            reconstruction = np.asarray(model.normalizer.denormalize(reconstruction), dtype=np.float64)
            all_codes.append(codes.cpu().numpy().reshape(-1))
            target_joints = recover_from_ric(batch.astype(np.float64))
            predicted_joints = recover_from_ric(reconstruction)
            for predicted, target in zip(predicted_joints, target_joints):
                metrics.add(predicted, target)
    model.train(was_training)
    usage = codebook_usage(np.concatenate(all_codes), model.config.code_num)
    return {
        **metrics.result(),
        "perplexity": usage.perplexity,
        "codebook_used_fraction": usage.used_fraction,
        "codes_used": usage.codes_used,
        "code_num": usage.code_num,
        "windows": len(windows),
        "frames": metrics.frames,
    }
