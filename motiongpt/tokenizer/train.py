"""Stage-1 training of the motion tokenizer on a HumanML3D-layout dataset, with the shared `Trainer`.

One process:   motiongpt train tokenizer --config models/configs/tokenizer_small.yaml
Several (DDP): torchrun --standalone --nproc_per_node N "$(command -v motiongpt)" train tokenizer --config ...

Per process: random fixed-length windows of the normalised training clips (`RandomWindowSampler`, its own
seed per rank), the loss of `losses.tokenizer_loss`, AdamW and the configured LR schedule. The codebook's
EMA statistics are summed over processes inside the quantizer, so all ranks keep identical weights.
`run.init_from` starts from a saved tokenizer; with `optim.trainable: decoder` only the decoder learns (the
encoder and the codebook are frozen), so every motion keeps its codes and a language model trained on them
stays valid while the reconstruction improves. `data.action_balance` draws windows balanced by action.
The run folder gets checkpoints/, metrics.csv + TensorBoard events, `final/` (save_pretrained) and
`run_summary.json` (config, wall time, hardware, final metrics).
"""
from __future__ import annotations

import json
import logging
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from motiongpt.tokenizer.errors import TokenizerError
from motiongpt.tokenizer.evaluate import evaluate_tokenizer
from motiongpt.tokenizer.losses import tokenizer_loss
from motiongpt.tokenizer.model import MotionTokenizer
from motiongpt.tokenizer.training_config import TokenizerTrainingConfig
from motiongpt.tokenizer.windows import RandomWindowSampler
from motiongpt.training import (DistributedContext, Trainer, TrainResult, build_lr_scheduler, seed_everything,
                                setup_distributed)

log = logging.getLogger(__name__)

EVAL_KEYS = ("mpjpe_mm", "pa_mpjpe_mm", "accel_error_mm", "perplexity", "codebook_used_fraction")


@dataclass
class TokenizerTrainingRun:
    model: MotionTokenizer
    result: TrainResult
    final_dir: Path | None        # output_dir/final on the main process
    summary: dict[str, Any]


class _CodebookEMAState:
    """Adapter so the Trainer checkpoints the quantizer's EMA statistics (not part of the model state dict)."""

    def __init__(self, model: MotionTokenizer) -> None:
        self.model = model

    def state_dict(self) -> dict:
        return self.model.quantizer.ema_state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.model.quantizer.load_ema_state_dict(state)


def hardware_description(device: torch.device) -> dict[str, Any]:
    info = {"platform": platform.platform(), "python": platform.python_version(), "torch": torch.__version__,
            "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(), "device": str(device)}
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def starting_weights(config: TokenizerTrainingConfig, normalizer) -> dict[str, torch.Tensor]:
    """The float32 weights of `run.init_from`, a saved tokenizer with the architecture `config.model` and the
    dataset's normalisation (other statistics would change what every code means)."""
    start = MotionTokenizer.from_pretrained(config.run.init_from)
    if start.config != config.model:
        raise TokenizerError(f"{config.run.init_from}: its model section {start.config.to_dict()} differs from the "
                             f"training config's {config.model.to_dict()}")
    if start.normalizer is None or not (
            np.allclose(start.normalizer.mean, normalizer.mean) and np.allclose(start.normalizer.std, normalizer.std)):
        raise TokenizerError(f"{config.run.init_from}: its mean/std differ from {config.data.root}'s Mean/Std: "
                             "fine-tune on the dataset it was trained with")
    return start.state_dict()


def train_tokenizer(config: TokenizerTrainingConfig, context: DistributedContext | None = None) -> TokenizerTrainingRun:
    from motiongpt.data.humanml3d import load_normalizer, load_split
    if config.run.num_threads:
        torch.set_num_threads(config.run.num_threads)
    context = context or setup_distributed(config.run.device)
    seed_everything(config.run.seed)  # same initial weights on every rank (DDP also broadcasts them)
    data = config.data
    normalizer = load_normalizer(data.root)
    train_records = load_split(data.root, data.train_split, min_frames=data.min_frames,
                               max_frames=data.max_frames, cap_frames=data.cap_frames)
    eval_features = None
    if data.eval_split:
        eval_features = [r.features for r in load_split(data.root, data.eval_split, min_frames=data.min_frames,
                                                         max_frames=data.max_frames, cap_frames=data.cap_frames)]
    model = MotionTokenizer(config.model, normalizer)
    if config.run.init_from:
        model.load_weights(starting_weights(config, normalizer), source=config.run.init_from)
    model = model.to(context.device)
    if config.optim.trainable == "decoder":
        model.encoder.requires_grad_(False)
        model.quantizer.frozen = True
    seed_everything(config.run.seed, context.rank)
    clip_weights = None
    if data.action_balance:
        from motiongpt.data.action_balance import action_balanced_weights
        from motiongpt.data.humanml3d import load_actions
        clip_weights = action_balanced_weights([r.clip for r in train_records],
                                               load_actions(data.root), data.action_balance)
    sampler = RandomWindowSampler([normalizer.normalize(r.features) for r in train_records], data.window_frames,
                                  config.optim.batch_size, seed=config.run.seed * 1000 + context.rank,
                                  device=context.device, source=f"{data.root} ({data.train_split})",
                                  clip_weights=clip_weights)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=config.optim.lr,
                                  betas=config.optim.betas, weight_decay=config.optim.weight_decay)
    scheduler = build_lr_scheduler(optimizer, config.optim.schedule, config.loop.max_steps)

    yaw_velocity_std = float(np.asarray(normalizer.std, dtype=np.float64)[0])

    def loss_fn(wrapped: torch.nn.Module, batch: torch.Tensor):
        return tokenizer_loss(wrapped(batch), batch, config.loss, yaw_velocity_std)

    def eval_fn(step: int) -> dict[str, float]:
        metrics = evaluate_tokenizer(model, eval_features)
        return {k: metrics[k] for k in EVAL_KEYS}

    output_dir = Path(config.run.output_dir)
    if context.is_main:
        output_dir.mkdir(parents=True, exist_ok=True)
        (output_dir / "config.json").write_text(json.dumps(config.to_dict(), indent=2))
        log.info("tokenizer: %d parameters (%d trained), %d training clips (%d usable for %d-frame windows), "
                 "%d processes", model.num_parameters(), sum(p.numel() for p in model.parameters() if p.requires_grad),
                 len(train_records), len(sampler), data.window_frames, context.world_size)
    trainer = Trainer(model, optimizer, scheduler, loss_fn, sampler, config.loop, output_dir, context,
                      state_objects={"codebook_ema": _CodebookEMAState(model)},
                      eval_fn=eval_fn if eval_features else None,
                      run_info={"config": config.to_dict()}, ddp_kwargs={"broadcast_buffers": False})
    started = time.time()
    result = trainer.fit()
    summary = {
        "command": " ".join(sys.argv),
        "steps": result.step,
        "resumed_from": result.resumed_from,
        "wall_seconds_this_run": round(result.wall_seconds, 1),
        "world_size": context.world_size,
        "hardware": hardware_description(context.device),
        "parameters": model.num_parameters(),
        "train_clips": len(train_records),
        "final_train_metrics": result.metrics,
        "final_eval_metrics": result.eval_metrics,
        "finished_at_unix": round(started + result.wall_seconds, 1),
    }
    final_dir = None
    if context.is_main:
        metadata = {"steps": result.step}
        if config.run.init_from:  # a fine-tune: where it started and what it trained
            metadata.update(init_from=config.run.init_from, trainable=config.optim.trainable)
        final_dir = model.save_pretrained(output_dir / "final", metadata=metadata)
        if config.run.export_dir:
            dtype = {"float32": torch.float32, "float16": torch.float16}[config.run.export_dtype]
            model.save_pretrained(config.run.export_dir, dtype=dtype, metadata=metadata)
        (output_dir / "run_summary.json").write_text(json.dumps(summary, indent=2, default=float))
    context.barrier()
    return TokenizerTrainingRun(model.eval(), result, final_dir, summary)
