"""Learning-rate schedules as data: linear warm-up followed by constant, cosine, linear or step decay."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from motiongpt.training.errors import TrainingError

SCHEDULES = ("constant", "cosine", "linear", "step")


@dataclass(frozen=True)
class LRScheduleConfig:
    name: str = "cosine"
    warmup_steps: int = 0            # linear ramp from 0 to the base LR over these steps
    min_lr_ratio: float = 0.0        # cosine/linear end at base_lr * min_lr_ratio
    milestones: tuple[int, ...] = field(default_factory=tuple)  # step: multiply by gamma at each milestone
    gamma: float = 0.1

    def __post_init__(self) -> None:
        if self.name not in SCHEDULES:
            raise TrainingError(f"schedule name must be one of {SCHEDULES}, got {self.name!r}")
        if self.warmup_steps < 0 or not 0.0 <= self.min_lr_ratio <= 1.0:
            raise TrainingError(f"invalid schedule: warmup_steps={self.warmup_steps}, min_lr_ratio={self.min_lr_ratio}")
        object.__setattr__(self, "milestones", tuple(int(m) for m in self.milestones))


def lr_factor(step: int, total_steps: int, config: LRScheduleConfig) -> float:
    """Multiplier of the base LR at optimizer step `step` (0-based) of `total_steps`."""
    if config.warmup_steps and step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    if config.name == "constant":
        return 1.0
    if config.name == "step":
        return config.gamma ** sum(step >= m for m in config.milestones)
    span = max(total_steps - config.warmup_steps, 1)
    progress = min(max(step - config.warmup_steps, 0) / span, 1.0)
    if config.name == "cosine":
        shape = 0.5 * (1.0 + math.cos(math.pi * progress))
    else:
        shape = 1.0 - progress
    return config.min_lr_ratio + (1.0 - config.min_lr_ratio) * shape


def build_lr_scheduler(optimizer: torch.optim.Optimizer, config: LRScheduleConfig,
                       total_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """A per-step LambdaLR (call `.step()` after every optimizer step)."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_factor(step, total_steps, config))
