"""Reconstruction metrics against hand-computed values."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from motiongpt.tokenizer.evaluate import evaluation_windows
from motiongpt.tokenizer.metrics import ReconstructionMetrics, codebook_usage, procrustes_align


def test_mpjpe_is_root_relative_and_in_mm(sample_joints):
    target = sample_joints[:20].astype(np.float64)
    metrics = ReconstructionMetrics()
    metrics.add(target + np.array([0.3, 0.0, -0.2]), target)  # a global shift costs nothing
    assert metrics.result()["mpjpe_mm"] == pytest.approx(0.0, abs=1e-9)
    metrics = ReconstructionMetrics()
    moved = target.copy()
    moved[:, 5, 1] += 0.022  # one joint of 22 off by 22 mm -> 1 mm mean
    metrics.add(moved, target)
    result = metrics.result()
    assert result["mpjpe_mm"] == pytest.approx(1.0, rel=1e-9)
    assert result["accel_error_mm"] == pytest.approx(0.0, abs=1e-9)  # a constant offset has no acceleration


def test_pa_mpjpe_removes_similarity_transforms(sample_joints):
    target = sample_joints[:10].astype(np.float64)
    rotation = Rotation.from_euler("xyz", [0.3, -1.0, 0.5]).as_matrix()
    predicted = 1.3 * target @ rotation.T + np.array([1.0, 2.0, 3.0])
    assert np.allclose(procrustes_align(predicted, target), target, atol=1e-9)
    metrics = ReconstructionMetrics()
    metrics.add(predicted, target)
    assert metrics.result()["pa_mpjpe_mm"] == pytest.approx(0.0, abs=1e-6)
    assert metrics.result()["mpjpe_mm"] > 10.0


def test_procrustes_excludes_reflections(sample_joints):
    target = sample_joints[:3].astype(np.float64) - sample_joints[:3, :1]
    mirrored = target * np.array([-1.0, 1.0, 1.0])
    aligned = procrustes_align(mirrored, target)
    rotation_only = np.linalg.det(np.linalg.svd(np.einsum("tji,tjk->tik", aligned - aligned.mean(1, keepdims=True),
                                                          mirrored - mirrored.mean(1, keepdims=True)))[0])
    assert np.all(np.abs(rotation_only) > 0)  # well-defined
    assert not np.allclose(aligned, target, atol=1e-3)  # a mirror image cannot be rotated onto the original


def test_accel_error_by_hand():
    target = np.zeros((4, 2, 3))
    predicted = np.zeros((4, 2, 3))
    predicted[2, 1, 0] = 0.001  # 1 mm bump of joint 1 at frame 2
    metrics = ReconstructionMetrics()
    metrics.add(predicted, target)
    # second differences of joint 1: frame windows (0,1,2): +1 mm, (1,2,3): -2 mm; mean over 2 joints
    assert metrics.result()["accel_error_mm"] == pytest.approx((0.5 + 1.0) / 2)


def test_codebook_usage():
    usage = codebook_usage(np.array([0, 0, 1, 1, 2, 2, 3, 3]), code_num=8)
    assert usage.used_fraction == 0.5 and usage.codes_used == 4
    assert usage.perplexity == pytest.approx(4.0, rel=1e-5)


def test_evaluation_windows():
    clips = [np.zeros((70, 263)), np.zeros((130, 263)), np.zeros((3, 263))]
    assert [len(w) for w in evaluation_windows(clips)] == [68, 128]
    assert [len(w) for w in evaluation_windows(clips, window_frames=64)] == [64, 64, 64]
