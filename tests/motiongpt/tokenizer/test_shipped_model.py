"""The shipped small tokenizer (models/tokenizer-small): self-contained folder, fp16 weights, works on real
HumanML3D features, and reproduces the held-out numbers written in its model card on a fresh build of the
embedded dataset. A fresh clone has no Bandai Namco data, so the check runs on the DeepMimic part of the test
split (eval_test_deepmimic_only.json); the card's headline numbers on the whole test split (eval_test.json) need
the dataset (`motiongpt data build-embedded --bandai PATH`)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from motiongpt.tokenizer import MotionTokenizer
from motiongpt.tokenizer.evaluate import evaluate_tokenizer
from motiongpt.tokenizer.training_config import TokenizerTrainingConfig

REPO = Path(__file__).resolve().parents[3]
MODEL_DIR = REPO / "models" / "tokenizer-small"


@pytest.fixture(scope="module")
def shipped():
    return MotionTokenizer.from_pretrained(MODEL_DIR)


def test_folder_is_small_and_complete(shipped):
    names = {p.name for p in MODEL_DIR.iterdir()}
    assert {"config.yaml", "model.safetensors", "mean.npy", "std.npy", "MODEL_CARD.md", "eval_test.json",
            "eval_test_deepmimic_only.json"} <= names
    assert sum(p.stat().st_size for p in MODEL_DIR.iterdir()) < 10 * 2 ** 20
    from safetensors import safe_open
    with safe_open(str(MODEL_DIR / "model.safetensors"), "pt") as handle:
        assert handle.get_tensor("quantizer.codebook").dtype == torch.float16
    config = TokenizerTrainingConfig.from_yaml(REPO / "models" / "configs" / "tokenizer_small.yaml")
    assert shipped.config == config.model


def test_round_trip_on_a_real_humanml3d_clip(shipped, sample_features):
    codes = shipped.encode_motion(sample_features)
    assert codes.shape == (42,) and codes.dtype == np.int64 and codes.max() < shipped.config.code_num
    joints = shipped.decode_to_joints(codes)
    assert joints.shape == (168, 22, 3) and np.isfinite(joints).all()


def test_held_out_numbers_match_the_model_card(shipped, tmp_path_factory):
    from motiongpt.data.embedded import build_embedded
    from motiongpt.data.humanml3d import load_split

    root = tmp_path_factory.mktemp("embedded")
    build_embedded(root)
    recorded = json.loads((MODEL_DIR / "eval_test_deepmimic_only.json").read_text())
    metrics = evaluate_tokenizer(shipped, [r.features for r in load_split(root, "test")])
    assert metrics["windows"] == recorded["windows"] and metrics["frames"] == recorded["frames"]
    for key in ("mpjpe_mm", "pa_mpjpe_mm", "accel_error_mm", "codebook_used_fraction"):
        assert metrics[key] == pytest.approx(recorded[key], rel=0.01), key
    whole = json.loads((MODEL_DIR / "eval_test.json").read_text())
    assert whole["codebook_used_fraction"] >= 0.5  # the codebook target, on the whole held-out split
