"""Random fixed-length training windows over normalised motion features (MotionGPT stage 1: 64 frames)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from motiongpt.tokenizer.errors import TokenizerError


class RandomWindowSampler:
    """Batches of random `window_frames`-long windows: a clip chosen uniformly (or in proportion to
    `clip_weights`, one per clip), then a uniform start. Clips shorter than the window are skipped (as in
    MotionGPT's MotionDatasetVQ). Each process gets its own `seed`; `state_dict()` captures the generator so a
    resumed run draws the same windows."""

    def __init__(self, features_normalized: Sequence[np.ndarray], window_frames: int, batch_size: int,
                 seed: int, device: torch.device | str = "cpu", source: str = "dataset",
                 clip_weights: Sequence[float] | None = None) -> None:
        if window_frames < 1 or batch_size < 1:
            raise TokenizerError(f"{source}: window_frames and batch_size must be positive")
        if clip_weights is not None and len(clip_weights) != len(features_normalized):
            raise TokenizerError(f"{source}: {len(clip_weights)} clip weights for {len(features_normalized)} clips")
        usable = [i for i, f in enumerate(features_normalized) if len(f) >= window_frames]
        self.clips = [torch.as_tensor(np.asarray(features_normalized[i], dtype=np.float32)) for i in usable]
        self.clip_weights = (None if clip_weights is None else
                             torch.as_tensor([float(clip_weights[i]) for i in usable], dtype=torch.float64))
        if not self.clips:
            longest = max((len(f) for f in features_normalized), default=0)
            raise TokenizerError(f"{source}: no clip has at least {window_frames} frames "
                                 f"({len(features_normalized)} clips, longest {longest})")
        self.window_frames = window_frames
        self.batch_size = batch_size
        self.device = torch.device(device)
        self.generator = torch.Generator().manual_seed(int(seed))

    def __len__(self) -> int:
        return len(self.clips)

    def next_batch(self) -> torch.Tensor:
        if self.clip_weights is None:
            clip_ids = torch.randint(len(self.clips), (self.batch_size,), generator=self.generator).tolist()
        else:
            clip_ids = torch.multinomial(self.clip_weights, self.batch_size, replacement=True,
                                         generator=self.generator).tolist()
        windows = []
        for clip_id in clip_ids:
            clip = self.clips[clip_id]
            start = int(torch.randint(clip.shape[0] - self.window_frames + 1, (1,), generator=self.generator))
            windows.append(clip[start:start + self.window_frames])
        return torch.stack(windows).to(self.device, non_blocking=True)

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])
