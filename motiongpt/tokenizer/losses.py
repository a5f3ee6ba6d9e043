"""Stage-1 tokenizer loss (MotionGPT's `LOSS` config, NeurIPS 2023), on normalised features:
lambda_feature * SmoothL1(all dims) + lambda_velocity * SmoothL1(dims 4:67) + lambda_commit * commitment,
plus an optional heading term (ours, off in the release-size config): lambda_heading * mean |heading error|, where
the heading (radians) is the running sum of twice feature 0 (the root's half yaw angle per frame), i.e. exactly
what `recover_from_ric` integrates. Per-frame errors of feature 0 are small but add up over a clip and rotate
the whole body about the root, which dominates root-relative MPJPE; this term penalises that drift directly.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from motiongpt.tokenizer.model import TokenizerOutput
from motiongpt.tokenizer.training_config import TokenizerLossConfig

RIC_POSITIONS = slice(4, 4 + 21 * 3)  # the 63 root-relative joint positions ("velocity" loss in the release)
ROOT_YAW_VELOCITY = 0                 # half yaw angle per frame (radians)


def heading_error(reconstruction: torch.Tensor, target: torch.Tensor, yaw_velocity_std: float) -> torch.Tensor:
    """Mean absolute error (radians) of the accumulated heading over each window; inputs normalised (B, T, D)."""
    per_frame = (reconstruction[..., ROOT_YAW_VELOCITY] - target[..., ROOT_YAW_VELOCITY]) * (2.0 * yaw_velocity_std)
    return torch.cumsum(per_frame, dim=1).abs().mean()


def tokenizer_loss(output: TokenizerOutput, target: torch.Tensor, config: TokenizerLossConfig,
                   yaw_velocity_std: float | None = None) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Total loss and its detached terms. `yaw_velocity_std` (std of feature 0, from the normaliser) is needed
    only when config.lambda_heading > 0."""
    target = target[:, : output.reconstruction.shape[1]]
    feature = F.smooth_l1_loss(output.reconstruction, target)
    positions = F.smooth_l1_loss(output.reconstruction[..., RIC_POSITIONS], target[..., RIC_POSITIONS])
    total = (config.lambda_feature * feature + config.lambda_velocity * positions
             + config.lambda_commit * output.commitment_loss)
    terms = {"recons": feature.detach(), "positions": positions.detach(),
             "commit": output.commitment_loss.detach(), "perplexity": output.perplexity.detach()}
    if config.lambda_heading:
        if yaw_velocity_std is None:
            raise ValueError("tokenizer_loss: lambda_heading > 0 needs the std of feature 0 (yaw_velocity_std)")
        heading = heading_error(output.reconstruction, target, yaw_velocity_std)
        total = total + config.lambda_heading * heading
        terms["heading_rad"] = heading.detach()
    return total, terms
