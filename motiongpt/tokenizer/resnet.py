"""Dilated 1-D residual blocks of the tokenizer's encoder and decoder (MotionGPT's `Resnet1D`, NeurIPS 2023).

Attribute names (`model`, `conv1`, `conv2`) follow the released checkpoint's `vae.*` keys.
"""
from __future__ import annotations

import torch
from torch import nn


def make_activation(name: str) -> nn.Module:
    return {"relu": nn.ReLU, "silu": nn.SiLU, "gelu": nn.GELU}[name]()


class ResConv1DBlock(nn.Module):
    """Pre-activation residual block: x + conv2(act(conv1(act(x)))), conv1 dilated (kernel 3), conv2 1x1."""

    def __init__(self, channels: int, dilation: int, activation: str = "relu") -> None:
        super().__init__()
        self.norm1 = nn.Identity()
        self.activation1 = make_activation(activation)
        self.conv1 = nn.Conv1d(channels, channels, kernel_size=3, padding=dilation, dilation=dilation)
        self.norm2 = nn.Identity()
        self.activation2 = make_activation(activation)
        self.conv2 = nn.Conv1d(channels, channels, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(self.activation1(self.norm1(x)))
        h = self.conv2(self.activation2(self.norm2(h)))
        return x + h


class Resnet1D(nn.Module):
    """`depth` residual blocks with dilations growth_rate**d, applied from the largest to the smallest
    (reverse order, e.g. 9, 3, 1), as in the released encoder and decoder."""

    def __init__(self, channels: int, depth: int, dilation_growth_rate: int, activation: str = "relu") -> None:
        super().__init__()
        dilations = [dilation_growth_rate ** d for d in range(depth)][::-1]
        self.model = nn.Sequential(*(ResConv1DBlock(channels, d, activation) for d in dilations))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)
