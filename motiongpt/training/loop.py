"""A generic, step-based training loop shared by the tokenizer and the language model.

The caller builds the model, optimizer, LR scheduler and a batch source, and supplies a loss function;
`Trainer.fit()` then does the rest:

- DDP: the model is wrapped by `DistributedContext.wrap_model` (gradients are averaged over processes);
  every rank draws its own batches, so the effective batch is batch_size x world_size.
- Checkpoints every `checkpoint_every` steps and at the end, in `<output_dir>/checkpoints/step_XXXXXXXX.pt`
  (model, optimizer, scheduler, step, every rank's RNG state and batch-source state, extra state objects);
  with `resume=True` a run restarts from the newest checkpoint there and continues to `max_steps`.
- A tqdm bar (main process) with running averages of the loss terms; every `log_every` steps the metrics,
  averaged over processes, plus the LR go to TensorBoard and `<output_dir>/metrics.csv`.
- Optional `eval_fn(step) -> dict` every `eval_every` steps (main process only, un-wrapped model in eval mode).

Contract of the pieces:
    loss_fn(model, batch) -> (loss: Tensor, metrics: dict[str, float | Tensor])   # same keys on every rank
    batches.next_batch() -> batch                                                  # any object loss_fn accepts
    optional batches.state_dict() / load_state_dict(state)                         # saved per rank
    state_objects: {name: obj with state_dict()/load_state_dict()}, replicated state saved from rank 0
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol

import torch
from torch import nn

from motiongpt.training.checkpoint import CheckpointManager
from motiongpt.training.distributed import DistributedContext, unwrap_model
from motiongpt.training.errors import TrainingError
from motiongpt.training.metrics_log import MetricsLogger
from motiongpt.training.progress import ProgressBar
from motiongpt.training.seeding import capture_rng_state, restore_rng_state

log = logging.getLogger(__name__)


class BatchSource(Protocol):
    def next_batch(self) -> Any: ...


@dataclass(frozen=True)
class TrainLoopConfig:
    max_steps: int = 1000
    checkpoint_every: int = 500
    keep_checkpoints: int = 3
    log_every: int = 10
    eval_every: int = 0                  # 0 = never (eval_fn is still run at the end if given)
    grad_clip_norm: float | None = None  # clip the global gradient norm to this value
    resume: bool = True                  # continue from the newest checkpoint in output_dir/checkpoints
    progress_bar: bool = True

    def __post_init__(self) -> None:
        if self.max_steps < 1 or self.checkpoint_every < 1 or self.log_every < 1 or self.eval_every < 0:
            raise TrainingError(f"invalid loop settings: max_steps={self.max_steps}, checkpoint_every="
                                f"{self.checkpoint_every}, log_every={self.log_every}, eval_every={self.eval_every}")


@dataclass
class TrainResult:
    step: int
    resumed_from: int | None
    metrics: dict[str, float] = field(default_factory=dict)       # last logged (process-averaged) metrics
    eval_metrics: dict[str, float] = field(default_factory=dict)  # last eval_fn result
    wall_seconds: float = 0.0
    last_checkpoint: Path | None = None


LossFn = Callable[[nn.Module, Any], "tuple[torch.Tensor, Mapping[str, Any]]"]


class Trainer:
    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer,
                 scheduler: torch.optim.lr_scheduler.LRScheduler | None, loss_fn: LossFn, batches: BatchSource,
                 config: TrainLoopConfig, output_dir: str | Path, context: DistributedContext | None = None,
                 state_objects: Mapping[str, Any] | None = None,
                 eval_fn: Callable[[int], Mapping[str, float]] | None = None,
                 run_info: Mapping[str, Any] | None = None, ddp_kwargs: Mapping[str, Any] | None = None) -> None:
        self.context = context or DistributedContext()
        self.model = self.context.wrap_model(model, **dict(ddp_kwargs or {}))
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.loss_fn = loss_fn
        self.batches = batches
        self.config = config
        self.output_dir = Path(output_dir)
        self.state_objects = dict(state_objects or {})
        self.eval_fn = eval_fn
        self.run_info = dict(run_info or {})
        self.checkpoints = CheckpointManager(self.output_dir / "checkpoints", config.keep_checkpoints)
        self.step = 0

    @property
    def module(self) -> nn.Module:
        return unwrap_model(self.model)

    # ------------------------------------------------------------------ checkpoints
    def _checkpoint_state(self) -> dict[str, Any] | None:
        """Collective: every rank contributes its RNG/batch state; returns the dict on rank 0 only."""
        per_rank = {"rng": capture_rng_state(),
                    "batches": self.batches.state_dict() if hasattr(self.batches, "state_dict") else None}
        gathered = self.context.all_gather_object(per_rank)
        if not self.context.is_main:
            return None
        return {
            "step": self.step,
            "world_size": self.context.world_size,
            "model": self.module.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "state_objects": {name: obj.state_dict() for name, obj in self.state_objects.items()},
            "per_rank": gathered,
            "run_info": self.run_info,
        }

    def save_checkpoint(self) -> Path | None:
        state = self._checkpoint_state()
        path = self.checkpoints.save(self.step, state) if state is not None else None
        self.context.barrier()
        return path

    def resume(self, path: str | Path) -> None:
        state = CheckpointManager.load(path, map_location="cpu")
        try:
            self.module.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            if self.scheduler is not None and state.get("scheduler") is not None:
                self.scheduler.load_state_dict(state["scheduler"])
            for name, obj in self.state_objects.items():
                if name in state.get("state_objects", {}):
                    obj.load_state_dict(state["state_objects"][name])
        except (KeyError, RuntimeError, ValueError) as error:
            raise TrainingError(f"{path}: checkpoint does not match this model/optimizer ({error})") from error
        self.step = int(state["step"])
        per_rank = state.get("per_rank") or []
        if state.get("world_size") == self.context.world_size and len(per_rank) == self.context.world_size:
            mine = per_rank[self.context.rank]
            restore_rng_state(mine["rng"])
            if mine.get("batches") is not None and hasattr(self.batches, "load_state_dict"):
                self.batches.load_state_dict(mine["batches"])
        else:
            log.warning("%s was written with %s processes, now %s: RNG and data streams restart fresh",
                        path, state.get("world_size"), self.context.world_size)

    # ------------------------------------------------------------------ loop
    def _run_eval(self) -> dict[str, float]:
        metrics: dict[str, float] = {}
        if self.eval_fn is not None and self.context.is_main:
            was_training = self.module.training
            self.module.eval()
            with torch.no_grad():
                metrics = {f"eval/{k}": float(v) for k, v in self.eval_fn(self.step).items()}
            self.module.train(was_training)
        self.context.barrier()
        return metrics

    def fit(self) -> TrainResult:
        config = self.config
        resumed_from = None
        latest = self.checkpoints.latest()
        if latest is not None and not config.resume:
            raise TrainingError(f"{latest}: this run folder already holds checkpoints of an earlier run; resume "
                                f"from them (resume: true) or choose another output folder")
        if latest is not None:
            self.resume(latest)
            resumed_from = self.step
            if self.context.is_main:
                log.info("resumed from %s (step %d)", latest, self.step)
        logger = MetricsLogger(self.output_dir, enabled=self.context.is_main)
        bar = ProgressBar(config.max_steps, initial=self.step, enabled=self.context.is_main and config.progress_bar)
        result = TrainResult(step=self.step, resumed_from=resumed_from)
        window: dict[str, list[float]] = {}
        started = time.perf_counter()
        last_checkpoint = None
        try:
            self.model.train()
            while self.step < config.max_steps:
                batch = self.batches.next_batch()
                loss, metrics = self.loss_fn(self.model, batch)
                if not torch.isfinite(loss):
                    raise TrainingError(f"loss became {float(loss.detach())} at step {self.step + 1}; lower the LR or check the data")
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if config.grad_clip_norm:
                    torch.nn.utils.clip_grad_norm_(self.model.parameters(), config.grad_clip_norm)
                self.optimizer.step()
                if self.scheduler is not None:
                    self.scheduler.step()
                self.step += 1
                scalars = {"loss": float(loss.detach())}
                scalars.update({k: float(v.detach() if isinstance(v, torch.Tensor) else v) for k, v in metrics.items()})
                for name, value in scalars.items():
                    window.setdefault(name, []).append(value)
                bar.update(scalars)
                if self.step % config.log_every == 0 or self.step == config.max_steps:
                    averaged = self.context.all_reduce_mean({k: sum(v) / len(v) for k, v in window.items()})
                    window.clear()
                    logged = {f"train/{k}": v for k, v in averaged.items()}
                    logged["train/lr"] = self.optimizer.param_groups[0]["lr"]
                    logged["train/steps_per_second"] = (self.step - (resumed_from or 0)) / max(time.perf_counter() - started, 1e-9)
                    logger.log(self.step, logged)
                    result.metrics = logged
                if config.eval_every and self.step % config.eval_every == 0 and self.step < config.max_steps:
                    evaluated = self._run_eval()
                    if evaluated:
                        logger.log(self.step, evaluated)
                        bar.write(f"step {self.step}: " + ", ".join(f"{k}={v:.4g}" for k, v in evaluated.items()))
                        result.eval_metrics = evaluated
                if self.step % config.checkpoint_every == 0 or self.step == config.max_steps:
                    last_checkpoint = self.save_checkpoint()
            if self.eval_fn is not None:
                evaluated = self._run_eval()
                if evaluated:
                    logger.log(self.step, evaluated)
                    result.eval_metrics = evaluated
        finally:
            bar.close()
            logger.close()
        result.step = self.step
        result.wall_seconds = time.perf_counter() - started
        result.last_checkpoint = last_checkpoint or self.checkpoints.latest()
        if not all(math.isfinite(v) for v in result.metrics.values()):
            log.warning("non-finite metrics at the end of training: %s", result.metrics)
        return result
