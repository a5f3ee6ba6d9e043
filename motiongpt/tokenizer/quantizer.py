"""Codebook quantizer with exponential-moving-average updates and dead-code reset
(MotionGPT `QuantizeEMAReset`; Jiang et al., NeurIPS 2023).

- Nearest code by squared L2 distance; straight-through estimator; the returned loss is the commitment
  term MSE(z, stop_grad(z_q)) (the codebook itself is learnt by EMA, not by gradients).
- The first training forward initialises the codebook from that batch's latents (tiled with small noise
  when there are fewer latents than codes). A codebook loaded from a state dict counts as initialised
  (the release would re-initialise it on the first training step after a reload; we do not).
- Every training step: per-code counts n_k and sums s_k; code_sum <- mu*code_sum + (1-mu)*s,
  code_count <- mu*code_count + (1-mu)*n. Codes with code_count >= 1 become code_sum/code_count; the others
  (dead codes) are reset to random latents of the batch.
- Under torch.distributed (DDP) the counts and sums are summed over all processes and the random reset
  latents and the initial codebook come from rank 0, so every rank keeps the same codebook.

`frozen = True` keeps the codebook as it is in training too (no initialisation, no EMA update, no reset): a
decoder fine-tuned on a frozen encoder and codebook then decodes exactly the codes the old one did, so a
language model trained on those codes stays valid.

Only `codebook` is saved in the state dict (as in the release). `code_sum`/`code_count` are kept in
non-persistent buffers; `ema_state_dict()` exposes them for training checkpoints.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn


@dataclass
class QuantizerOutput:
    quantized: torch.Tensor        # (B, code_dim, T') straight-through quantised latents
    codes: torch.Tensor            # (B, T') int64
    commitment_loss: torch.Tensor  # scalar
    perplexity: torch.Tensor       # scalar, exp(entropy) of the batch code histogram


def _distributed_world() -> int:
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def code_perplexity(counts: torch.Tensor) -> torch.Tensor:
    """exp(-sum p log(p + 1e-7)) of a code histogram (the release's definition)."""
    probs = counts / counts.sum().clamp_min(1e-12)
    return torch.exp(-torch.sum(probs * torch.log(probs + 1e-7)))


class EMAResetQuantizer(nn.Module):
    def __init__(self, code_num: int, code_dim: int, mu: float = 0.99) -> None:
        super().__init__()
        self.code_num = code_num
        self.code_dim = code_dim
        self.mu = mu
        self.register_buffer("codebook", torch.zeros(code_num, code_dim))
        self.register_buffer("code_sum", torch.zeros(code_num, code_dim), persistent=False)
        self.register_buffer("code_count", torch.zeros(code_num), persistent=False)
        self.initialized = False
        self.frozen = False
        self.register_load_state_dict_post_hook(EMAResetQuantizer._after_load)

    @staticmethod
    def _after_load(module: "EMAResetQuantizer", incompatible_keys) -> None:
        # A loaded codebook is a trained codebook: restart the EMA from it instead of re-initialising.
        module.code_sum.copy_(module.codebook)
        module.code_count.fill_(1.0)
        module.initialized = True

    # ----- codebook look-up -----
    def nearest_codes(self, latents: torch.Tensor) -> torch.Tensor:
        """(N, code_dim) latents -> (N,) int64 index of the nearest code (squared L2)."""
        codebook = self.codebook
        distance = (latents.pow(2).sum(dim=1, keepdim=True)
                    - 2.0 * latents @ codebook.t()
                    + codebook.pow(2).sum(dim=1)[None, :])
        return distance.argmin(dim=1)

    def dequantize(self, codes: torch.Tensor) -> torch.Tensor:
        """Integer codes of any shape -> code vectors of shape codes.shape + (code_dim,)."""
        return F.embedding(codes, self.codebook)

    # ----- EMA training updates -----
    def _tiled(self, latents: torch.Tensor) -> torch.Tensor:
        """At least code_num rows: the latents, repeated with N(0, (0.01/sqrt(D))^2) noise if too few."""
        count = latents.shape[0]
        if count >= self.code_num:
            return latents
        repeats = math.ceil(self.code_num / count)
        tiled = latents.repeat(repeats, 1)
        return tiled + torch.randn_like(tiled) * (0.01 / math.sqrt(self.code_dim))

    @torch.no_grad()
    def _random_latents(self, latents: torch.Tensor, shuffle: bool) -> torch.Tensor:
        tiled = self._tiled(latents)
        if shuffle:
            tiled = tiled[torch.randperm(tiled.shape[0], device=tiled.device)]
        chosen = tiled[: self.code_num].contiguous()
        if _distributed_world() > 1:
            dist.broadcast(chosen, src=0)  # every rank uses rank 0's latents
        return chosen

    @torch.no_grad()
    def initialize(self, latents: torch.Tensor) -> None:
        self.codebook.copy_(self._random_latents(latents, shuffle=False))
        self.code_sum.copy_(self.codebook)
        self.code_count.fill_(1.0)
        self.initialized = True

    @torch.no_grad()
    def _ema_update(self, latents: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        one_hot = F.one_hot(codes, self.code_num).to(latents.dtype)      # (N, K)
        counts = one_hot.sum(dim=0)                                        # (K,)
        sums = one_hot.t() @ latents                                       # (K, D)
        if _distributed_world() > 1:
            dist.all_reduce(counts)
            dist.all_reduce(sums)
        reset_latents = self._random_latents(latents, shuffle=True)
        self.code_sum.mul_(self.mu).add_(sums, alpha=1.0 - self.mu)
        self.code_count.mul_(self.mu).add_(counts, alpha=1.0 - self.mu)
        alive = (self.code_count >= 1.0)[:, None]
        updated = self.code_sum / self.code_count.clamp_min(1e-12)[:, None]
        self.codebook.copy_(torch.where(alive, updated, reset_latents))
        return counts

    # ----- forward -----
    def forward(self, latents: torch.Tensor) -> QuantizerOutput:
        """latents (B, code_dim, T') -> straight-through quantised latents and the codes."""
        batch, dim, length = latents.shape
        flat = latents.permute(0, 2, 1).reshape(-1, dim)
        updating = self.training and not self.frozen
        if updating and not self.initialized:
            self.initialize(flat.detach())
        codes = self.nearest_codes(flat.detach())
        if updating:
            counts = self._ema_update(flat.detach(), codes)
        else:
            counts = torch.bincount(codes, minlength=self.code_num).to(flat.dtype)
        perplexity = code_perplexity(counts)
        quantized = self.dequantize(codes)
        commitment_loss = F.mse_loss(flat, quantized.detach())
        quantized = flat + (quantized - flat).detach()  # straight-through estimator
        quantized = quantized.view(batch, length, dim).permute(0, 2, 1).contiguous()
        return QuantizerOutput(quantized, codes.view(batch, length), commitment_loss, perplexity)

    # ----- training-checkpoint state (not part of the model's state dict) -----
    def ema_state_dict(self) -> dict:
        return {"code_sum": self.code_sum.detach().cpu().clone(),
                "code_count": self.code_count.detach().cpu().clone(),
                "initialized": self.initialized}

    def load_ema_state_dict(self, state: dict) -> None:
        self.code_sum.copy_(state["code_sum"])
        self.code_count.copy_(state["code_count"])
        self.initialized = bool(state["initialized"])
