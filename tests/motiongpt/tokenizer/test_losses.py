"""The stage-1 loss terms and the optional heading term."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from motiongpt.tokenizer.losses import heading_error, tokenizer_loss
from motiongpt.tokenizer.model import TokenizerOutput
from motiongpt.tokenizer.training_config import TokenizerLossConfig


def output_for(reconstruction, commit=0.3):
    return TokenizerOutput(reconstruction, torch.zeros(1, 1, dtype=torch.long), torch.tensor(commit), torch.tensor(5.0))


def test_release_loss_by_hand():
    torch.manual_seed(0)
    target = torch.randn(2, 8, 263)
    reconstruction = target.clone()
    reconstruction[..., 10] += 2.0   # a ric dim: counted in both SmoothL1 terms
    reconstruction[..., 100] += 0.5  # a rotation dim: only in the feature term
    total, terms = tokenizer_loss(output_for(reconstruction), target, TokenizerLossConfig())
    feature = (1.5 + 0.5 * 0.5 ** 2) / 263  # SmoothL1(beta=1): |x| - 0.5 above 1, x^2/2 below
    positions = 1.5 / 63
    assert terms["recons"].item() == pytest.approx(feature, rel=1e-5)
    assert terms["positions"].item() == pytest.approx(positions, rel=1e-5)
    assert total.item() == pytest.approx(feature + 0.5 * positions + 0.02 * 0.3, rel=1e-5)
    assert "heading_rad" not in terms


def test_heading_error_integrates_the_yaw_velocity():
    target = torch.zeros(1, 10, 263)
    reconstruction = target.clone()
    reconstruction[..., 0] = 1.0  # a bias of one normalised unit per frame
    std = 0.01
    # heading after t frames: 2 * std * t radians; mean over t = 1..10
    expected = 2 * std * sum(range(1, 11)) / 10
    assert heading_error(reconstruction, target, std).item() == pytest.approx(expected, rel=1e-6)
    alternating = target.clone()
    alternating[0, ::2, 0], alternating[0, 1::2, 0] = 1.0, -1.0  # errors that cancel barely drift
    assert heading_error(alternating, target, std).item() < expected / 5
    # the per-frame SmoothL1 term cannot tell these two apart; the heading term can
    assert F.smooth_l1_loss(alternating, target).item() == pytest.approx(F.smooth_l1_loss(reconstruction, target).item())


def test_heading_term_is_added_and_needs_the_std():
    target = torch.zeros(1, 8, 263)
    reconstruction = target.clone()
    reconstruction[..., 0] = 1.0
    config = TokenizerLossConfig(lambda_heading=2.0)
    base, _ = tokenizer_loss(output_for(reconstruction), target, TokenizerLossConfig())
    total, terms = tokenizer_loss(output_for(reconstruction), target, config, yaw_velocity_std=0.01)
    assert total.item() == pytest.approx(base.item() + 2.0 * terms["heading_rad"].item(), rel=1e-6)
    with pytest.raises(ValueError, match="yaw_velocity_std"):
        tokenizer_loss(output_for(reconstruction), target, config)
