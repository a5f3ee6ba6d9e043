"""Shared test fixtures: the HumanML3D sample vendored in tests/fixtures/ and a rest-pose skeleton.

Everything the tests read ships with the repository (tests/fixtures/humanml3d/README.md gives the source and
licence of the HumanML3D files); nothing here reads outside it.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from motiongpt.skeleton import NUM_JOINTS, PARENTS, RAW_OFFSETS, TARGET_BONE_LENGTHS

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"
HUMANML3D_FIXTURE_DIR = FIXTURES_DIR / "humanml3d"
HUMANML3D_SAMPLE_CLIP = "012314"


@pytest.fixture(scope="session")
def humanml3d_sample_dir() -> Path:
    """The real HumanML3D clip 012314 (joints, features) and HumanML3D's own Mean.npy/Std.npy."""
    folder = HUMANML3D_FIXTURE_DIR
    expected = [f"{HUMANML3D_SAMPLE_CLIP}_new_joints.npy", f"{HUMANML3D_SAMPLE_CLIP}_new_joint_vecs.npy",
                "HumanML3D_Mean.npy", "HumanML3D_Std.npy"]
    missing = [name for name in expected if not (folder / name).is_file()]
    if missing:
        pytest.fail(f"{folder}: missing fixture files {missing}")
    return folder


@pytest.fixture(scope="session")
def sample_joints(humanml3d_sample_dir: Path) -> np.ndarray:
    """(170, 22, 3) float32 joint positions of HumanML3D clip 012314 (already canonical)."""
    return np.load(humanml3d_sample_dir / f"{HUMANML3D_SAMPLE_CLIP}_new_joints.npy")


@pytest.fixture(scope="session")
def sample_features(humanml3d_sample_dir: Path) -> np.ndarray:
    """(170, 263) float32 un-normalised HumanML3D features of clip 012314."""
    return np.load(humanml3d_sample_dir / f"{HUMANML3D_SAMPLE_CLIP}_new_joint_vecs.npy")


def rest_pose_joints() -> np.ndarray:
    """(22, 3) rest pose of the target skeleton: every bone along its raw offset, pelvis at the origin.

    Legs straight down, feet pointing +Z, arms hanging from the collars; the body faces +Z.
    """
    joints = np.zeros((NUM_JOINTS, 3))
    for child in range(1, NUM_JOINTS):
        joints[child] = joints[PARENTS[child]] + RAW_OFFSETS[child] * TARGET_BONE_LENGTHS[child]
    return joints


@pytest.fixture
def rest_pose() -> np.ndarray:
    """A fresh copy of :func:`rest_pose_joints` (tests may modify it)."""
    return rest_pose_joints()
