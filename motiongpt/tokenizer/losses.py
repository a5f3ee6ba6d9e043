"""Stage-1 tokenizer loss (motiongpt_spec.md section 2.4), on normalised features:
lambda_feature * SmoothL1(all dims) + lambda_velocity * SmoothL1(dims 4:67) + lambda_commit * commitment."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from motiongpt.tokenizer.model import TokenizerOutput
from motiongpt.tokenizer.training_config import TokenizerLossConfig

RIC_POSITIONS = slice(4, 4 + 21 * 3)  # the 63 root-relative joint positions ("velocity" loss in the release)


def tokenizer_loss(output: TokenizerOutput, target: torch.Tensor,
                   config: TokenizerLossConfig) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    target = target[:, : output.reconstruction.shape[1]]
    feature = F.smooth_l1_loss(output.reconstruction, target)
    positions = F.smooth_l1_loss(output.reconstruction[..., RIC_POSITIONS], target[..., RIC_POSITIONS])
    total = (config.lambda_feature * feature + config.lambda_velocity * positions
             + config.lambda_commit * output.commitment_loss)
    return total, {"recons": feature.detach(), "positions": positions.detach(),
                   "commit": output.commitment_loss.detach(), "perplexity": output.perplexity.detach()}
