"""Shared training plumbing for the tokenizer and the language model (see `loop.Trainer`).

- `distributed`: torchrun/DDP process groups (nccl on GPU, gloo on CPU), device resolution.
- `seeding`: seeding and RNG state capture for exact resume.
- `schedule`: LR schedules as data (warm-up + constant/cosine/linear/step).
- `checkpoint`: atomic step checkpoints with pruning and resume.
- `metrics_log`: TensorBoard + CSV metrics.  `progress`: tqdm bar with running losses.
- `loop`: `Trainer`, the generic step loop tying these together.
"""
from motiongpt.training.checkpoint import CheckpointManager
from motiongpt.training.distributed import (DistributedContext, resolve_device, setup_distributed,
                                            teardown_distributed, unwrap_model)
from motiongpt.training.errors import TrainingError
from motiongpt.training.loop import TrainLoopConfig, Trainer, TrainResult
from motiongpt.training.metrics_log import MetricsLogger, read_metrics_csv
from motiongpt.training.progress import ProgressBar, RunningAverages
from motiongpt.training.schedule import LRScheduleConfig, build_lr_scheduler, lr_factor
from motiongpt.training.seeding import capture_rng_state, restore_rng_state, seed_everything

__all__ = [
    "CheckpointManager", "DistributedContext", "LRScheduleConfig", "MetricsLogger", "ProgressBar",
    "RunningAverages", "TrainLoopConfig", "TrainResult", "Trainer", "TrainingError", "build_lr_scheduler",
    "capture_rng_state", "lr_factor", "read_metrics_csv", "resolve_device", "restore_rng_state",
    "seed_everything", "setup_distributed", "teardown_distributed", "unwrap_model",
]
