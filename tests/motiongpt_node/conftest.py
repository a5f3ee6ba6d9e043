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
