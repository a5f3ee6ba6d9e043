"""VQ-VAE shapes, lengths, batching and input errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from motiongpt.tokenizer import MotionTokenizer, TokenizerError, VQVAEConfig
from tests.motiongpt.tokenizer.conftest import TINY_MODEL


@pytest.fixture(scope="module")
def tiny_model():
    torch.manual_seed(0)
    model = MotionTokenizer(TINY_MODEL)
    model.train()
    model(torch.randn(4, 64, 263))  # initialise the codebook from latents
    return model.eval()


def test_full_size_matches_the_release():
    model = MotionTokenizer(VQVAEConfig())
    assert model.num_parameters() == 19_436_807  # the released VQ-VAE (MotionGPT, NeurIPS 2023): trainable parameters
    dilations = [block.conv1.dilation[0] for block in model.encoder.model[2][1].model]
    assert dilations == [9, 3, 1]
    assert [b.conv1.dilation[0] for b in model.decoder.model[3][0].model] == [9, 3, 1]


@pytest.mark.parametrize("frames, codes", [(64, 16), (196, 49), (197, 49), (199, 49), (4, 1)])
def test_lengths(tiny_model, frames, codes):
    encoded = tiny_model.encode(torch.randn(2, frames, 263))
    assert encoded.shape == (2, codes) and encoded.dtype == torch.int64
    assert tiny_model.decode(encoded).shape == (2, 4 * codes, 263)


def test_trailing_frames_are_dropped(tiny_model):
    x = torch.randn(1, 198, 263)
    assert torch.equal(tiny_model.encode(x), tiny_model.encode(x[:, :196]))


def test_batch_equals_one_by_one(tiny_model):
    x = torch.randn(3, 80, 263)
    batch_codes = tiny_model.encode(x)
    for i in range(3):
        assert torch.equal(batch_codes[i], tiny_model.encode(x[i])[0])  # (T,263) is a batch of one
        assert torch.allclose(tiny_model.decode(batch_codes)[i], tiny_model.decode(batch_codes[i])[0], atol=1e-5)


def test_decode_accepts_numpy_and_lists(tiny_model):
    assert tiny_model.decode(np.array([1, 2, 3])).shape == (1, 12, 263)
    assert tiny_model.decode([[0, 15]]).shape == (1, 8, 263)


def test_encode_reconstructs_nearest_code(tiny_model):
    """The code chosen for a latent is the one with the smallest squared L2 distance."""
    latents = torch.randn(50, 16)
    brute = torch.cdist(latents, tiny_model.quantizer.codebook).argmin(dim=1)
    assert torch.equal(tiny_model.quantizer.nearest_codes(latents), brute)


@pytest.mark.parametrize("codes, message", [
    ([0, 16], r"\[0, 15\].*\[16\]"), ([-1, 3], r"out-of-range values \[-1\]"),
    (torch.tensor([0.5, 1.0]), "integers"), (torch.zeros(2, 0, dtype=torch.long), "L >= 1"),
    (torch.zeros(1, 2, 3, dtype=torch.long), "shape"), ("abc", "integer codes"),
])
def test_decode_errors(tiny_model, codes, message):
    with pytest.raises(TokenizerError, match=message):
        tiny_model.decode(codes)


@pytest.mark.parametrize("features, message", [
    (torch.randn(1, 64, 262), r"\(B, T, 263\)"), (torch.randn(1, 3, 263), "at least 4 frames"),
    (torch.full((1, 8, 263), float("nan")), "NaN"), (torch.ones(1, 8, 263, dtype=torch.long), "floating"),
    ([1, 2, 3], "tensor"),
])
def test_encode_errors(tiny_model, features, message):
    with pytest.raises(TokenizerError, match=message):
        tiny_model.encode(features)


def test_bad_config_is_an_error():
    with pytest.raises(TokenizerError, match="code_dim"):
        VQVAEConfig(code_dim=64, output_emb_width=32)
    with pytest.raises(TokenizerError, match="activation"):
        VQVAEConfig(activation="tanh")
