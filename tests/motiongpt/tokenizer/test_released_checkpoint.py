"""The released MotionGPT checkpoint layout (motiongpt_s3_h3d.tar of the code release of Jiang et al., "MotionGPT:
Human Motion as a Foreign Language", NeurIPS 2023): a torch zip with a `state_dict` whose `vae.*` tensors load
strictly into the full-size config. The checkpoint is written here from the release's key/shape table
(random values), independently of the model code."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from motiongpt.tokenizer import MotionTokenizer, TokenizerError, VQVAEConfig
from motiongpt.tokenizer.released import load_released_tokenizer, read_released_vae_state_dict

SHIPPED_STATISTICS = Path(__file__).resolve().parents[3] / "motiongpt" / "assets" / "humanml3d_mean_std.csv"


def released_vae_shapes() -> dict[str, tuple[int, ...]]:
    """The 67 `vae.*` tensors of motiongpt_s3_h3d.tar, expanded from the release's key/shape table."""
    shapes = {"vae.encoder.model.0.weight": (512, 263, 3), "vae.encoder.model.0.bias": (512,)}
    for i in (2, 3):
        shapes[f"vae.encoder.model.{i}.0.weight"] = (512, 512, 4)
        shapes[f"vae.encoder.model.{i}.0.bias"] = (512,)
        for j in (0, 1, 2):
            for side, prefix in (("encoder", f"vae.encoder.model.{i}.1"), ("decoder", f"vae.decoder.model.{i}.0")):
                shapes[f"{prefix}.model.{j}.conv1.weight"] = (512, 512, 3)
                shapes[f"{prefix}.model.{j}.conv1.bias"] = (512,)
                shapes[f"{prefix}.model.{j}.conv2.weight"] = (512, 512, 1)
                shapes[f"{prefix}.model.{j}.conv2.bias"] = (512,)
        shapes[f"vae.decoder.model.{i}.2.weight"] = (512, 512, 3)
        shapes[f"vae.decoder.model.{i}.2.bias"] = (512,)
    shapes.update({
        "vae.encoder.model.4.weight": (512, 512, 3), "vae.encoder.model.4.bias": (512,),
        "vae.decoder.model.0.weight": (512, 512, 3), "vae.decoder.model.0.bias": (512,),
        "vae.decoder.model.4.weight": (512, 512, 3), "vae.decoder.model.4.bias": (512,),
        "vae.decoder.model.6.weight": (263, 512, 3), "vae.decoder.model.6.bias": (263,),
        "vae.quantizer.codebook": (512, 512),
    })
    return shapes


def write_release_like_checkpoint(path, drop=None, reshape=None):
    generator = torch.Generator().manual_seed(0)
    state = {}
    for key, shape in released_vae_shapes().items():
        if key == drop:
            continue
        shape = reshape.get(key, shape) if reshape else shape
        state[key] = torch.randn(shape, generator=generator) * 0.02
    state["lm.language_model.shared.weight"] = torch.zeros(4, 8)  # the LM part, ignored
    torch.save({"state_dict": state, "epoch": 119}, path)
    return state


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    path = tmp_path_factory.mktemp("release") / "motiongpt_s3_h3d.tar"
    return path, write_release_like_checkpoint(path)


def test_release_table_has_67_tensors():
    assert len(released_vae_shapes()) == 67


def test_strict_load_and_196_frames_round_trip(release):
    path, state = release
    model = load_released_tokenizer(path)
    loaded = model.state_dict()
    assert set(loaded) == {k[len("vae."):] for k in state if k.startswith("vae.")}
    for key, value in state.items():
        if key.startswith("vae."):
            assert torch.equal(loaded[key[len("vae."):]], value), key
    features = torch.randn(2, 196, 263)
    codes = model.encode(features)
    assert codes.shape == (2, 49) and codes.dtype == torch.int64
    assert int(codes.min()) >= 0 and int(codes.max()) < 512
    # the codes are the nearest rows of the released codebook
    latents = model.encoder(features.permute(0, 2, 1)).permute(0, 2, 1).reshape(-1, 512)
    codebook = state["vae.quantizer.codebook"]
    assert torch.equal(codes.reshape(-1), torch.cdist(latents, codebook).argmin(dim=1))
    assert model.decode(codes).shape == (2, 196, 263)
    assert model.decode(codes[0]).shape == (1, 196, 263)
    joints = model.decode_to_joints(codes[0].numpy())
    assert joints.shape == (196, 22, 3) and np.isfinite(joints).all()


def test_official_statistics_by_default(release):
    model = load_released_tokenizer(release[0])
    table = np.genfromtxt(SHIPPED_STATISTICS, delimiter=",", names=True, dtype=None,
                          encoding="utf-8")
    assert np.allclose(np.asarray(model.normalizer.std, dtype=np.float64), table["std"].astype(np.float64), rtol=1e-6)


def test_missing_or_misshapen_tensors_are_named(tmp_path):
    path = tmp_path / "missing.tar"
    write_release_like_checkpoint(path, drop="vae.decoder.model.6.bias")
    with pytest.raises(TokenizerError, match=r"missing.tar.*missing keys \['decoder.model.6.bias'\]"):
        load_released_tokenizer(path)
    path = tmp_path / "small.tar"
    write_release_like_checkpoint(path, reshape={"vae.quantizer.codebook": (256, 512)})
    with pytest.raises(TokenizerError, match=r"quantizer.codebook: file \(256, 512\)"):
        load_released_tokenizer(path)


def test_unreadable_checkpoints(tmp_path):
    (tmp_path / "garbage.tar").write_bytes(b"\x00" * 100)
    with pytest.raises(TokenizerError, match="garbage.tar: not a readable torch checkpoint"):
        read_released_vae_state_dict(tmp_path / "garbage.tar")
    torch.save({"state_dict": {"lm.x": torch.zeros(1)}}, tmp_path / "lm_only.tar")
    with pytest.raises(TokenizerError, match="no 'vae.\\*' tensors"):
        read_released_vae_state_dict(tmp_path / "lm_only.tar")
    with pytest.raises(TokenizerError, match="not found"):
        read_released_vae_state_dict(tmp_path / "absent.tar")


def test_full_size_config_is_the_default():
    assert MotionTokenizer(VQVAEConfig()).config == VQVAEConfig(code_num=512, code_dim=512, width=512, depth=3)
