"""EMA codebook updates, dead-code reset, straight-through gradients, perplexity."""
from __future__ import annotations

import math

import pytest
import torch

from motiongpt.tokenizer.quantizer import EMAResetQuantizer, code_perplexity


def test_first_training_step_initialises_from_latents():
    torch.manual_seed(0)
    quantizer = EMAResetQuantizer(code_num=8, code_dim=4).train()
    latents = torch.randn(2, 4, 4)  # 8 latents = 8 codes: each becomes a code and is then used once by itself
    out = quantizer(latents)
    flat = latents.permute(0, 2, 1).reshape(-1, 4)
    assert quantizer.initialized
    assert out.codes.reshape(-1).tolist() == list(range(8))
    assert torch.allclose(quantizer.codebook, flat[:8], atol=1e-6)


def test_few_latents_are_tiled_with_small_noise():
    torch.manual_seed(0)
    quantizer = EMAResetQuantizer(code_num=10, code_dim=3)
    latents = torch.randn(3, 3)
    quantizer.initialize(latents)
    tiled = latents.repeat(4, 1)[:10]
    assert (quantizer.codebook - tiled).abs().max() < 0.05
    assert not torch.equal(quantizer.codebook, tiled)


def test_ema_update_and_dead_code_reset_by_hand():
    torch.manual_seed(0)
    quantizer = EMAResetQuantizer(code_num=3, code_dim=2, mu=0.9).train()
    quantizer.initialize(torch.tensor([[0.0, 0.0], [10.0, 10.0], [-10.0, 5.0]]))
    quantizer.code_count.copy_(torch.tensor([1.0, 1.0, 1.0]))
    # 20 latents near code 0 and one near code 1; none near code 2
    near0 = torch.full((20, 2), 0.5)
    near1 = torch.tensor([[9.0, 9.0]])
    flat = torch.cat([near0, near1])
    out = quantizer(flat.t()[None])  # (1, 2, 21)
    assert out.codes[0].tolist() == [0] * 20 + [1]
    # code 0: count 0.9*1 + 0.1*20 = 2.9; sum 0.9*[0,0] + 0.1*[10,10] = [1,1] -> [1/2.9, 1/2.9]
    assert torch.allclose(quantizer.codebook[0], torch.tensor([1 / 2.9, 1 / 2.9]), atol=1e-6)
    # code 1: count 0.9 + 0.1 = 1.0 -> alive; sum 0.9*[10,10] + 0.1*[9,9] = [9.9, 9.9]
    assert torch.allclose(quantizer.codebook[1], torch.tensor([9.9, 9.9]), atol=1e-5)
    # code 2: count 0.9 < 1 -> dead, reset to one of this batch's latents
    assert any(torch.allclose(quantizer.codebook[2], row) for row in flat)


def test_straight_through_and_commitment():
    torch.manual_seed(0)
    quantizer = EMAResetQuantizer(code_num=4, code_dim=3).eval()
    quantizer.codebook.copy_(torch.randn(4, 3))
    quantizer.initialized = True
    latents = torch.randn(2, 3, 5, requires_grad=True)
    out = quantizer(latents)
    flat = latents.detach().permute(0, 2, 1).reshape(-1, 3)
    expected = quantizer.codebook[out.codes.reshape(-1)]
    assert torch.allclose(out.quantized.permute(0, 2, 1).reshape(-1, 3), expected, atol=1e-6)
    assert out.commitment_loss.item() == pytest.approx(torch.mean((flat - expected) ** 2).item(), rel=1e-5)
    out.quantized.sum().backward()
    assert torch.allclose(latents.grad, torch.ones_like(latents))  # identity gradient through quantisation


def test_eval_forward_does_not_touch_the_codebook():
    quantizer = EMAResetQuantizer(code_num=4, code_dim=3).eval()
    quantizer.codebook.copy_(torch.randn(4, 3))
    before = quantizer.codebook.clone()
    quantizer(torch.randn(2, 3, 7))
    assert torch.equal(before, quantizer.codebook)


def test_perplexity():
    assert code_perplexity(torch.tensor([5.0, 5.0, 5.0, 5.0])).item() == pytest.approx(4.0, rel=1e-5)
    assert code_perplexity(torch.tensor([10.0, 0.0, 0.0])).item() == pytest.approx(1.0, rel=1e-5)
    p = torch.tensor([0.5, 0.25, 0.25])
    assert code_perplexity(p * 8).item() == pytest.approx(math.exp(-(p * p.log()).sum().item()), rel=1e-5)


def test_loaded_codebook_is_not_reinitialised():
    source = EMAResetQuantizer(code_num=4, code_dim=3)
    source.codebook.copy_(torch.randn(4, 3))
    target = EMAResetQuantizer(code_num=4, code_dim=3)
    target.load_state_dict(source.state_dict())
    assert target.initialized and set(target.state_dict()) == {"codebook"}
    target.train()
    latents = source.codebook.t()[None].repeat(1, 1, 25) * 1.0  # every code used 25 times by itself
    target(latents)
    assert torch.allclose(target.codebook, source.codebook, atol=1e-5)
