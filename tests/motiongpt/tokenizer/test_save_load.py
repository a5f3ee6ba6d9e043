"""save_pretrained / from_pretrained: one self-contained folder, fp32 exact and fp16 close, clear errors."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from motiongpt.normalization import Normalizer
from motiongpt.tokenizer import MotionTokenizer, TokenizerError
from tests.motiongpt.tokenizer.conftest import TINY_MODEL


@pytest.fixture()
def trained_like(sample_features):
    torch.manual_seed(1)
    normalizer = Normalizer.compute([sample_features])
    model = MotionTokenizer(TINY_MODEL, normalizer).train()
    model(torch.randn(4, 64, 263))
    return model.eval()


def test_round_trip_from_a_folder_alone(trained_like, tmp_path, sample_features):
    trained_like.save_pretrained(tmp_path / "saved")
    moved = tmp_path / "elsewhere" / "tok"
    shutil.copytree(tmp_path / "saved", moved)  # nothing outside the folder is needed
    shutil.rmtree(tmp_path / "saved")
    assert sorted(p.name for p in moved.iterdir()) == ["config.yaml", "mean.npy", "model.safetensors", "std.npy"]
    loaded = MotionTokenizer.from_pretrained(moved)
    assert loaded.config == trained_like.config and not loaded.training
    for key, value in trained_like.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    assert np.allclose(loaded.normalizer.mean, trained_like.normalizer.mean)
    assert np.allclose(loaded.normalizer.std, trained_like.normalizer.std)
    codes = loaded.encode_motion(sample_features)
    assert np.array_equal(codes, trained_like.encode_motion(sample_features)) and codes.shape == (42,)
    assert loaded.decode_to_joints(codes).shape == (168, 22, 3)


def test_float16_folder_is_close(trained_like, tmp_path):
    trained_like.save_pretrained(tmp_path, dtype=torch.float16)
    loaded = MotionTokenizer.from_pretrained(tmp_path)
    x = torch.randn(2, 64, 263)
    assert loaded.quantizer.codebook.dtype == torch.float32
    codes = trained_like.encode(x)
    assert torch.allclose(loaded.decode(codes), trained_like.decode(codes), atol=2e-2)


def test_missing_and_corrupt_files(trained_like, tmp_path):
    with pytest.raises(TokenizerError, match="tokenizer folder not found"):
        MotionTokenizer.from_pretrained(tmp_path / "nope")
    trained_like.save_pretrained(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(TokenizerError, match="model.safetensors: cannot read"):
        MotionTokenizer.from_pretrained(tmp_path)
    (tmp_path / "model.safetensors").unlink()
    with pytest.raises(TokenizerError, match="model.safetensors: missing"):
        MotionTokenizer.from_pretrained(tmp_path)
    trained_like.save_pretrained(tmp_path)
    (tmp_path / "config.yaml").write_text("model: {width: 32, code_num: 16, code_dim: 16, output_emb_width: 16, depth: 1}\n")
    with pytest.raises(TokenizerError, match="shape mismatches"):
        MotionTokenizer.from_pretrained(tmp_path)
    (tmp_path / "config.yaml").write_text("model: {widht: 16}\n")
    with pytest.raises(TokenizerError, match=r"config.yaml.*unknown VQ-VAE settings \['widht'\]"):
        MotionTokenizer.from_pretrained(tmp_path)


def test_nan_weights_are_rejected(trained_like, tmp_path):
    trained_like.decoder.model[0].bias.data[0] = float("nan")
    trained_like.save_pretrained(tmp_path)
    with pytest.raises(TokenizerError, match="decoder.model.0.bias contains NaN"):
        MotionTokenizer.from_pretrained(tmp_path)


def test_conveniences_need_a_normalizer():
    with pytest.raises(TokenizerError, match="no normalizer"):
        MotionTokenizer(TINY_MODEL).decode_to_features([0, 1])
