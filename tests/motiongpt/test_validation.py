"""Bad motions raise MotionError (a ValueError) with a message naming the source and the problem."""
from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from motiongpt.validation import (
    MotionError,
    check_feature_batch,
    check_features,
    check_joints,
    load_features,
    load_joints,
)


def test_motion_error_is_a_value_error():
    assert issubclass(MotionError, ValueError)


def test_valid_joints_pass_and_come_back_as_float():
    joints = np.arange(4 * 22 * 3).reshape(4, 22, 3)  # integers are accepted and converted
    checked = check_joints(joints, "walk.npy")
    assert checked.dtype == np.float64
    np.testing.assert_array_equal(checked, joints)
    float32 = np.zeros((2, 22, 3), dtype=np.float32)
    assert check_joints(float32).dtype == np.float32


def test_torch_tensor_joints_are_accepted():
    checked = check_joints(torch.zeros(3, 22, 3), "tensor")
    assert isinstance(checked, np.ndarray) and checked.shape == (3, 22, 3)


def test_wrong_joint_shape_names_file_and_shapes():
    with pytest.raises(MotionError, match=re.escape("walk.npy: expected shape (T, 22, 3), got (10, 21, 3)")):
        check_joints(np.zeros((10, 21, 3)), "walk.npy")
    with pytest.raises(MotionError, match=re.escape("got (22, 3)")):
        check_joints(np.zeros((22, 3)), "walk.npy")


def test_nan_frames_are_counted_and_the_first_named():
    joints = np.zeros((10, 22, 3))
    joints[4, 3, 1] = np.nan
    joints[6, 0, 0] = np.nan
    joints[6, 5, 2] = np.nan  # two NaNs in one frame count once
    joints[9, 21, 2] = np.nan
    with pytest.raises(MotionError, match=re.escape("walk.npy: 3 frames contain NaN (first: frame 4)")):
        check_joints(joints, "walk.npy")


def test_infinite_values_are_rejected():
    joints = np.zeros((5, 22, 3))
    joints[2, 0, 0] = np.inf
    with pytest.raises(MotionError, match=re.escape("run.npy: 1 frame contains infinite values (first: frame 2)")):
        check_joints(joints, "run.npy")


def test_too_few_frames():
    with pytest.raises(MotionError, match=re.escape("jump.npy: a motion needs at least 2 frames, got 1")):
        check_joints(np.zeros((1, 22, 3)), "jump.npy")
    with pytest.raises(MotionError, match="at least 2 frames, got 0"):
        check_joints(np.zeros((0, 22, 3)), "jump.npy")


def test_non_numeric_input():
    with pytest.raises(MotionError, match="motion: expected a numeric array"):
        check_joints(np.full((2, 22, 3), "a"))
    with pytest.raises(MotionError, match="motion: not a numeric array"):
        check_joints([[1.0, 2.0], [3.0]])


def test_check_features():
    features = np.zeros((7, 263), dtype=np.float32)
    assert check_features(features) is features
    with pytest.raises(MotionError, match=re.escape("clip.npy: expected shape (T, 263), got (7, 251)")):
        check_features(np.zeros((7, 251)), "clip.npy")
    with pytest.raises(MotionError, match=re.escape("features: a motion needs at least 1 frame, got 0")):
        check_features(np.zeros((0, 263)))
    features = np.zeros((7, 263))
    features[3, 100] = np.nan
    with pytest.raises(MotionError, match=re.escape("clip.npy: 1 frame contains NaN (first: frame 3)")):
        check_features(features, "clip.npy")


def test_check_feature_batch_accepts_leading_dims_and_finds_nan_frames():
    batch = np.zeros((2, 5, 263))
    assert check_feature_batch(batch).shape == (2, 5, 263)
    batch[1, 2, 7] = np.nan
    with pytest.raises(MotionError, match=re.escape("batch: 1 frame contains NaN (first: frame 2)")):
        check_feature_batch(batch, "batch")
    with pytest.raises(MotionError, match=re.escape("expected shape (..., T, 263), got (263,)")):
        check_feature_batch(np.zeros(263))


def test_load_joints_missing_corrupt_and_bad_files(tmp_path):
    missing = tmp_path / "missing.npy"
    with pytest.raises(MotionError, match=re.escape(f"{missing}: file not found")):
        load_joints(missing)
    corrupt = tmp_path / "corrupt.npy"
    corrupt.write_bytes(b"this is not a numpy file")
    with pytest.raises(MotionError, match=re.escape(f"{corrupt}: not a readable .npy array")):
        load_joints(corrupt)
    wrong = tmp_path / "wrong.npy"
    np.save(wrong, np.zeros((10, 21, 3)))
    with pytest.raises(MotionError, match=re.escape(f"{wrong}: expected shape (T, 22, 3), got (10, 21, 3)")):
        load_joints(wrong)
    good = tmp_path / "good.npy"
    np.save(good, np.ones((3, 22, 3)))
    np.testing.assert_array_equal(load_joints(good), np.ones((3, 22, 3)))
    features = tmp_path / "features.npy"
    np.save(features, np.ones((3, 263)))
    assert load_features(features).shape == (3, 263)
