"""`TokenizerTrainingConfig`: everything `motiongpt train tokenizer --config FILE.yaml` needs, as dataclasses
loaded from YAML (sections `model`, `data`, `loss`, `optim`, `loop`, `export`; see models/configs/*.yaml).
Relative paths in the file are taken relative to the current working directory (run from the repo root).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from motiongpt.config_files import build_dataclass, read_yaml
from motiongpt.tokenizer.config import VQVAEConfig
from motiongpt.tokenizer.errors import TokenizerError
from motiongpt.training.loop import TrainLoopConfig
from motiongpt.training.schedule import LRScheduleConfig


@dataclass(frozen=True)
class TokenizerDataConfig:
    root: str = "data/embedded"       # a HumanML3D-layout folder (embedded or real HumanML3D)
    train_split: str = "train"
    eval_split: str = "val"           # used by the periodic evaluation during training
    window_frames: int = 64           # random training windows (MotionGPT: 64); shorter clips are skipped
    min_frames: int = 40
    max_frames: int = 200
    cap_frames: int = 196
    action_balance: float = 0.0       # windows drawn so each action's share ~ (its clip count)^(1 - this)
                                      # (actions.json of the dataset; 0 = clips drawn uniformly)


@dataclass(frozen=True)
class TokenizerLossConfig:
    lambda_feature: float = 1.0       # SmoothL1 over all 263 dims
    lambda_velocity: float = 0.5      # SmoothL1 over dims [4:67] (the ric joint positions; MotionGPT's "velocity")
    lambda_commit: float = 0.02       # commitment MSE(z, sg(z_q))
    lambda_heading: float = 0.0       # ours: mean |accumulated heading error| in radians (0 = the release's loss)


@dataclass(frozen=True)
class OptimizerConfig:
    batch_size: int = 256             # per process
    lr: float = 2e-4
    betas: tuple[float, float] = (0.9, 0.99)
    weight_decay: float = 0.0
    schedule: LRScheduleConfig = field(default_factory=LRScheduleConfig)
    trainable: str = "all"            # all | decoder (encoder and codebook frozen: the codes stay the same)

    def __post_init__(self) -> None:
        if self.trainable not in ("all", "decoder"):
            raise ValueError(f"optim.trainable must be 'all' or 'decoder', got {self.trainable!r}")


@dataclass(frozen=True)
class RunConfig:
    output_dir: str = "runs/tokenizer"   # checkpoints/, metrics.csv, TensorBoard events, final/
    seed: int = 1234
    device: str = "auto"                 # auto | cpu | cuda
    num_threads: int = 0                 # torch CPU threads per process; 0 = leave torch's default
    export_dir: str | None = None        # also save_pretrained the final model here
    export_dtype: str = "float32"        # float32 | float16
    init_from: str | None = None         # start from this tokenizer folder's weights (a fine-tune; its model
                                         # section must match `model`); a run's own checkpoints come first


@dataclass(frozen=True)
class TokenizerTrainingConfig:
    model: VQVAEConfig = field(default_factory=VQVAEConfig)
    data: TokenizerDataConfig = field(default_factory=TokenizerDataConfig)
    loss: TokenizerLossConfig = field(default_factory=TokenizerLossConfig)
    optim: OptimizerConfig = field(default_factory=OptimizerConfig)
    loop: TrainLoopConfig = field(default_factory=TrainLoopConfig)
    run: RunConfig = field(default_factory=RunConfig)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["optim"]["betas"] = list(self.optim.betas)
        data["optim"]["schedule"]["milestones"] = list(self.optim.schedule.milestones)
        return data

    def with_overrides(self, **sections: dict[str, Any]) -> "TokenizerTrainingConfig":
        """A copy with some fields replaced, e.g. with_overrides(loop={"max_steps": 10})."""
        replaced = {}
        for name, values in sections.items():
            values = {k: v for k, v in values.items() if v is not None}
            replaced[name] = dataclasses.replace(getattr(self, name), **values)
        return dataclasses.replace(self, **replaced)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config") -> "TokenizerTrainingConfig":
        if not isinstance(data, dict):
            raise TokenizerError(f"{source}: expected a mapping with sections model/data/loss/optim/loop/run")
        unknown = sorted(set(data) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise TokenizerError(f"{source}: unknown sections {unknown}")
        try:
            optim = dict(data.get("optim") or {})
            if "schedule" in optim:
                optim["schedule"] = _build(LRScheduleConfig, optim["schedule"], f"{source}: optim.schedule")
            if "betas" in optim:
                optim["betas"] = tuple(float(b) for b in optim["betas"])
            return cls(
                model=VQVAEConfig.from_dict(data.get("model") or {}, source=f"{source}: model"),
                data=_build(TokenizerDataConfig, data.get("data") or {}, f"{source}: data"),
                loss=_build(TokenizerLossConfig, data.get("loss") or {}, f"{source}: loss"),
                optim=_build(OptimizerConfig, optim, f"{source}: optim"),
                loop=_build(TrainLoopConfig, data.get("loop") or {}, f"{source}: loop"),
                run=_build(RunConfig, data.get("run") or {}, f"{source}: run"),
            )
        except ValueError as error:
            if isinstance(error, TokenizerError):
                raise
            raise TokenizerError(f"{source}: {error}") from error

    @classmethod
    def from_yaml(cls, path: str | Path) -> "TokenizerTrainingConfig":
        return cls.from_dict(read_yaml(path, TokenizerError, what="training config"), source=str(path))


def _build(kind, values: Any, source: str):
    return build_dataclass(kind, values, source, TokenizerError)
