"""Normalizer: the reference std computation, the official MotionGPT statistics, loading and saving."""
from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from motiongpt.normalization import NormalizationError, Normalizer

# The feature blocks written out by hand (not taken from the code under test): (dims, divided by 25?).
BLOCKS = [
    (slice(0, 1), True),      # root yaw velocity
    (slice(1, 3), True),      # root linear velocity
    (slice(3, 4), True),      # root height
    (slice(4, 67), False),    # ric positions
    (slice(67, 193), False),  # 6D rotations
    (slice(193, 259), False),  # local velocities
    (slice(259, 263), True),  # foot contacts
]


def synthetic_clips(seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    scales = rng.uniform(0.1, 3.0, size=263)  # a different spread for every dim
    return [rng.normal(loc=np.linspace(-1, 1, 263), scale=scales, size=(frames, 263)) for frames in (40, 71, 55)]


SHIPPED_STATISTICS = Path(__file__).resolve().parents[2] / "motiongpt" / "assets" / "humanml3d_mean_std.csv"


def read_csv_columns(path):
    with open(path, newline="") as stream:
        rows = list(csv.DictReader(stream))
    return np.array([float(row["mean"]) for row in rows]), np.array([float(row["std"]) for row in rows])


def test_compute_averages_std_per_block_and_divides_root_and_contacts_by_feat_bias():
    clips = synthetic_clips()
    normalizer = Normalizer.compute(clips)
    data = np.concatenate(clips)
    np.testing.assert_allclose(normalizer.mean, data.mean(axis=0), rtol=1e-12)
    per_dim = data.std(axis=0)  # population std, as numpy's default and the reference
    for dims, divided in BLOCKS:
        expected = per_dim[dims].mean() / (25.0 if divided else 1.0)
        np.testing.assert_allclose(normalizer.std[dims], expected, rtol=1e-12)
    plain = Normalizer.compute(clips, feat_bias=1.0)
    np.testing.assert_allclose(normalizer.std[0:4] * 25.0, plain.std[0:4], rtol=1e-12)
    np.testing.assert_allclose(normalizer.std[4:259], plain.std[4:259], rtol=1e-12)
    np.testing.assert_allclose(normalizer.std[259:] * 25.0, plain.std[259:], rtol=1e-12)


def test_compute_rejects_a_block_without_variance_unless_floored():
    clips = synthetic_clips()
    for clip in clips:
        clip[:, 259:263] = 1.0  # feet always in contact
    with pytest.raises(NormalizationError, match=re.escape("block foot_contact (dims 259:263) has no variance")):
        Normalizer.compute(clips)
    floored = Normalizer.compute(clips, min_std=0.05)
    np.testing.assert_allclose(floored.std[259:263], 0.05 / 25.0)
    with pytest.raises(NormalizationError, match="empty list"):
        Normalizer.compute([])
    with pytest.raises(ValueError, match=re.escape("features[1]: expected shape (T, 263), got (5, 262)")):
        Normalizer.compute([np.zeros((5, 263)), np.zeros((5, 262))])


def test_official_statistics_are_the_values_of_the_shipped_csv():
    official = Normalizer.official()
    mean, std = read_csv_columns(SHIPPED_STATISTICS)  # read here independently of the code under test
    assert mean.shape == std.shape == (263,)
    np.testing.assert_array_equal(official.mean, mean)
    np.testing.assert_array_equal(official.std, std)
    # MotionGPT's released std (its assets/meta/std.npy, the text-to-motion training std of Guo et al.,
    # CVPR 2022, with the root and foot-contact blocks divided by feat_bias = 25; Jiang et al., "MotionGPT:
    # Human Motion as a Foreign Language", NeurIPS 2023, code release), quoted to 7-9 digits.
    assert official.std[0] == pytest.approx(0.000514673, rel=1e-6)
    np.testing.assert_allclose(official.std[1:3], 0.000676928, rtol=1e-6)
    assert official.std[3] == pytest.approx(0.006120817, rel=1e-6)
    np.testing.assert_allclose(official.std[4:67], 0.12255538, rtol=1e-7)
    np.testing.assert_allclose(official.std[193:259], 0.01954057, rtol=1e-6)
    np.testing.assert_allclose(official.std[259:263], 0.014094944, rtol=1e-6)
    # Every block shares one std value, as the reference computation produces.
    for dims, _ in BLOCKS:
        assert np.ptp(official.std[dims]) == 0.0


def test_humanml3d_std_differs_from_the_official_one_by_feat_bias(humanml3d_sample_dir):
    official = Normalizer.official()
    humanml3d_std = np.load(humanml3d_sample_dir / "HumanML3D_Std.npy")
    ratio = humanml3d_std / official.std
    for dims, divided in BLOCKS:
        low, high = (24.0, 26.0) if divided else (0.98, 1.02)  # measured: 24.9-25.3 and 0.996-0.998
        assert np.all((ratio[dims] > low) & (ratio[dims] < high)), (dims, ratio[dims])


def test_load_folders_in_both_naming_styles(tmp_path, humanml3d_sample_dir):
    humanml3d = tmp_path / "humanml3d"
    humanml3d.mkdir()
    shutil.copy(humanml3d_sample_dir / "HumanML3D_Mean.npy", humanml3d / "Mean.npy")
    shutil.copy(humanml3d_sample_dir / "HumanML3D_Std.npy", humanml3d / "Std.npy")
    loaded = Normalizer.load(humanml3d)
    np.testing.assert_array_equal(loaded.mean, np.load(humanml3d_sample_dir / "HumanML3D_Mean.npy"))
    np.testing.assert_array_equal(loaded.std, np.load(humanml3d_sample_dir / "HumanML3D_Std.npy"))

    saved = Normalizer.official().save(tmp_path / "meta")
    assert sorted(path.name for path in saved.iterdir()) == ["mean.npy", "std.npy"]
    reloaded = Normalizer.load(saved)
    np.testing.assert_array_equal(reloaded.mean, Normalizer.official().mean)
    np.testing.assert_array_equal(reloaded.std, Normalizer.official().std)


def test_normalize_and_denormalize_numpy_and_torch(sample_features):
    normalizer = Normalizer.official()
    normalized = normalizer.normalize(sample_features)
    assert normalized.dtype == np.float32  # the caller's precision is kept
    expected = (sample_features.astype(np.float64) - normalizer.mean) / normalizer.std
    np.testing.assert_allclose(normalized, expected, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(normalizer.denormalize(normalized), sample_features, atol=1e-5)

    tensor = torch.from_numpy(sample_features).double().reshape(2, 85, 263)  # batched
    normalized_tensor = normalizer.normalize(tensor)
    assert isinstance(normalized_tensor, torch.Tensor) and normalized_tensor.dtype == torch.float64
    np.testing.assert_allclose(normalized_tensor.reshape(170, 263).numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(normalizer.denormalize(normalized_tensor).numpy(), tensor.numpy(), atol=1e-12)
    with pytest.raises(NormalizationError, match=re.escape("expected shape (..., 263), got (170, 262)")):
        normalizer.normalize(sample_features[:, :262])


def test_constructor_rejects_bad_statistics():
    mean, std = np.zeros(263), np.ones(263)
    with pytest.raises(NormalizationError, match=re.escape("stats: std must have shape (263,), got (262,)")):
        Normalizer(mean, np.ones(262), source="stats")
    bad = std.copy()
    bad[[7, 9]] = 0.0
    with pytest.raises(NormalizationError, match=re.escape("std must be positive, 2 dims are not (first: dim 7")):
        Normalizer(mean, bad)
    bad = mean.copy()
    bad[3] = np.nan
    with pytest.raises(NormalizationError, match=re.escape("mean has 1 non-finite values (first: dim 3)")):
        Normalizer(bad, std)


def test_load_errors_name_the_file(tmp_path):
    with pytest.raises(NormalizationError, match=re.escape(f"{tmp_path / 'nowhere'}: statistics file or folder not found")):
        Normalizer.load(tmp_path / "nowhere")
    with pytest.raises(NormalizationError, match=re.escape(f"{tmp_path}: no statistics found (expected mean.npy")):
        Normalizer.load(tmp_path)
    (tmp_path / "mean.npy").write_bytes(b"garbage")
    np.save(tmp_path / "std.npy", np.ones(263))
    with pytest.raises(NormalizationError, match=re.escape(f"{tmp_path / 'mean.npy'}: not a readable .npy array")):
        Normalizer.load(tmp_path)
    np.save(tmp_path / "mean.npy", np.zeros(251))
    with pytest.raises(NormalizationError, match=re.escape(f"{tmp_path / 'mean.npy'}: expected shape (263,), got (251,)")):
        Normalizer.load(tmp_path)
    table = tmp_path / "stats.csv"
    table.write_text("index,mean\n0,1.0\n")
    with pytest.raises(NormalizationError, match=re.escape(f"{table}: expected a header with 'mean' and 'std'")):
        Normalizer.load(table)
    table.write_text("mean,std\n" + "0.0,1.0\n" * 262)
    with pytest.raises(NormalizationError, match=re.escape(f"{table}: expected 263 rows, got 262")):
        Normalizer.load(table)
    table.write_text("mean,std\n" + "0.0,1.0\n" * 262 + "0.0,abc\n")
    with pytest.raises(NormalizationError, match=re.escape(f"{table}: a mean/std value is not a number")):
        Normalizer.load(table)
    other = tmp_path / "stats.txt"
    other.write_text("1")
    with pytest.raises(NormalizationError, match="expected a folder with mean/std .npy files or a .csv file"):
        Normalizer.load(other)
