"""The tokenizer's convolutional encoder (T frames -> T/4 latents) and decoder (L latents -> 4L frames).

Layouts and `model.<index>` names follow the released MotionGPT checkpoint (NeurIPS 2023) exactly, so that the
released `vae.encoder.*` / `vae.decoder.*` tensors load strictly. Tensors are channels-first (B, C, T).
"""
from __future__ import annotations

import torch
from torch import nn

from motiongpt.tokenizer.config import VQVAEConfig
from motiongpt.tokenizer.resnet import Resnet1D, make_activation


class Encoder(nn.Module):
    """Conv(nfeats->width) + act, `down_t` x [strided Conv(k4,s2,p1), Resnet1D], Conv(width->code_dim)."""

    def __init__(self, config: VQVAEConfig) -> None:
        super().__init__()
        c = config
        layers: list[nn.Module] = [nn.Conv1d(c.nfeats, c.width, 3, 1, 1), make_activation(c.activation)]
        for _ in range(c.down_t):
            layers.append(nn.Sequential(
                nn.Conv1d(c.width, c.width, c.stride_t * 2, c.stride_t, c.stride_t // 2),
                Resnet1D(c.width, c.depth, c.dilation_growth_rate, c.activation),
            ))
        layers.append(nn.Conv1d(c.width, c.output_emb_width, 3, 1, 1))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class Decoder(nn.Module):
    """Conv(code_dim->width) + act, `down_t` x [Resnet1D, nearest upsample x2, Conv], Conv + act, Conv(->nfeats)."""

    def __init__(self, config: VQVAEConfig) -> None:
        super().__init__()
        c = config
        layers: list[nn.Module] = [nn.Conv1d(c.output_emb_width, c.width, 3, 1, 1), make_activation(c.activation)]
        for _ in range(c.down_t):
            layers.append(nn.Sequential(
                Resnet1D(c.width, c.depth, c.dilation_growth_rate, c.activation),
                nn.Upsample(scale_factor=c.stride_t, mode="nearest"),
                nn.Conv1d(c.width, c.width, 3, 1, 1),
            ))
        layers += [nn.Conv1d(c.width, c.width, 3, 1, 1), make_activation(c.activation),
                   nn.Conv1d(c.width, c.nfeats, 3, 1, 1)]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)
