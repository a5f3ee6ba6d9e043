"""Shared fixtures for the node tests: the real Unitree G1 URDF from example-robot-data."""
from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest

from motiongpt_node.joint_limits import JointLimits


def g1_urdf_path() -> Path:
    robots = importlib.metadata.distribution("example-robot-data").locate_file(
        "cmeel.prefix/share/example-robot-data/robots"
    )
    return Path(str(robots)) / "g1_description" / "urdf" / "g1_29dof_rev_1_0.urdf"


@pytest.fixture(scope="session")
def g1_limits() -> JointLimits:
    return JointLimits.from_urdf(g1_urdf_path())


@pytest.fixture(scope="session")
def tiny_model_folder(tmp_path_factory) -> Path:
    """A real MotionGPT with tiny random weights, saved with save_pretrained (see tiny_model.py)."""
    from tests.motiongpt_node.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny_motiongpt") / "model")
