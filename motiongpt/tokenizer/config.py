"""`VQVAEConfig`: the architecture hyper-parameters of the motion tokenizer (MotionGPT, NeurIPS 2023).

The defaults are the released MotionGPT tokenizer (`configs/vq/default.yaml`): 512 codes of 512 dims,
width 512, depth 3, temporal downsampling by 2**down_t = 4. Smaller widths/codebooks give CPU-sized models
with the same module tree.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from motiongpt.config_files import build_dataclass, read_yaml
from motiongpt.tokenizer.errors import TokenizerError

ACTIVATIONS = ("relu", "silu", "gelu")


@dataclass(frozen=True)
class VQVAEConfig:
    nfeats: int = 263                # feature dimension per frame (HumanML3D: 263)
    code_num: int = 512              # codebook size
    code_dim: int = 512              # dimension of one code; equals the encoder output width
    output_emb_width: int = 512      # encoder output / decoder input width (must equal code_dim)
    down_t: int = 2                  # number of stride-2 downsampling blocks: one code per 2**down_t frames
    stride_t: int = 2                # temporal stride of each down block (the released model: 2)
    width: int = 512                 # channels of the convolutional trunk
    depth: int = 3                   # residual blocks per Resnet1D
    dilation_growth_rate: int = 3    # dilations growth_rate**d, used in reverse order (9, 3, 1)
    activation: str = "relu"
    norm: str | None = None          # only None (Identity) is supported, as in the release
    mu: float = 0.99                 # EMA decay of the codebook statistics

    def __post_init__(self) -> None:
        problems = []
        for name in ("nfeats", "code_num", "code_dim", "output_emb_width", "width", "depth", "down_t"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                problems.append(f"{name} must be a positive integer, got {value!r}")
        if self.stride_t != 2:
            problems.append(f"stride_t must be 2 (one code per 2**down_t frames), got {self.stride_t!r}")
        if self.dilation_growth_rate < 1:
            problems.append(f"dilation_growth_rate must be >= 1, got {self.dilation_growth_rate!r}")
        if self.code_dim != self.output_emb_width:
            problems.append(f"code_dim ({self.code_dim}) must equal output_emb_width ({self.output_emb_width})")
        if self.activation not in ACTIVATIONS:
            problems.append(f"activation must be one of {ACTIVATIONS}, got {self.activation!r}")
        if self.norm not in (None, "None", "none"):
            problems.append(f"norm must be None (Identity), got {self.norm!r}")
        if not 0.0 < float(self.mu) < 1.0:
            problems.append(f"mu must be in (0, 1), got {self.mu!r}")
        if problems:
            raise TokenizerError("invalid VQVAEConfig: " + "; ".join(problems))

    @property
    def frames_per_code(self) -> int:
        return self.stride_t ** self.down_t

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config") -> "VQVAEConfig":
        return build_dataclass(cls, data, source, TokenizerError, what="VQ-VAE settings")

    @classmethod
    def from_yaml(cls, path: str | Path) -> "VQVAEConfig":
        data = read_yaml(path, TokenizerError, what="tokenizer config")
        if isinstance(data, dict) and "model" in data:
            data = data["model"]
        return cls.from_dict(data, source=str(path))
