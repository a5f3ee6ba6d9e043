"""A tiny dataset in the HumanML3D layout made from the real HumanML3D clip 012314 (170 frames): shifted,
cropped and mirrored-in-time copies, with captions, splits and Mean/Std computed from them."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from motiongpt.normalization import Normalizer
from motiongpt.tokenizer import VQVAEConfig

TINY_MODEL = VQVAEConfig(code_num=16, code_dim=16, output_emb_width=16, width=16, depth=1)


def write_humanml3d_layout(root: Path, clips: dict[str, np.ndarray], splits: dict[str, list[str]]) -> Path:
    (root / "new_joint_vecs").mkdir(parents=True)
    (root / "texts").mkdir()
    for name, features in clips.items():
        np.save(root / "new_joint_vecs" / f"{name}.npy", features.astype(np.float32))
        (root / "texts" / f"{name}.txt").write_text("a person walks forward#a/DET person/NOUN walk/VERB forward/ADV#0.0#0.0\n")
    for split, names in splits.items():
        (root / f"{split}.txt").write_text("\n".join(names) + "\n")
    statistics = Normalizer.compute(list(clips.values()))
    np.save(root / "Mean.npy", statistics.mean)
    np.save(root / "Std.npy", statistics.std)
    return root


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory, sample_features) -> Path:
    clips = {}
    for i, start in enumerate((0, 10, 20, 30, 40, 50)):
        clips[f"c{i}"] = sample_features[start:start + 120]
    clips["r0"] = sample_features[::-1][:100].copy()
    clips["t0"] = sample_features[5:105]
    clips["t1"] = sample_features[60:168]
    splits = {"train": ["c0", "c1", "c2", "c3", "c4", "c5", "r0"], "val": ["t0"], "test": ["t0", "t1"]}
    return write_humanml3d_layout(tmp_path_factory.mktemp("tiny_humanml3d"), clips, splits)
