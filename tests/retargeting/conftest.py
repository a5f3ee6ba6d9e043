"""Fixtures for the retargeting tests: robots built once per session, the real HumanML3D sample clip."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from pathlib import Path

import yaml

from retargeting import Retargeter
from retargeting.robot_config import SelfCollisionSpec, load_robot_config
from retargeting.robot_model import RobotModel


@pytest.fixture(scope="session")
def g1_retargeter() -> Retargeter:
    return Retargeter.from_robot("g1")


@pytest.fixture(scope="session")
def g1_exact_model() -> RobotModel:
    """G1 without posture regularisers (weight 1e-7, no per-joint weights) and without self-collision
    avoidance (random joint trajectories cross the legs), converged tightly: exactness. With the shipped
    weights the regulariser biases the legs by about 1.4e-3 rad on the same test."""
    config = load_robot_config("g1")
    solver = dataclasses.replace(config.solver, posture_weight=1e-7, tolerance=1e-12)
    return RobotModel(dataclasses.replace(config, posture_weights={}, solver=solver,
                                          self_collision=SelfCollisionSpec()))


@pytest.fixture(scope="session")
def walking_clip(sample_joints) -> np.ndarray:
    """The first 80 frames (4 s) of the real HumanML3D clip 012314: steps, a turn, an arm raise."""
    return np.asarray(sample_joints[:80], dtype=np.float64)


@pytest.fixture(scope="session")
def g1_motion(g1_retargeter, walking_clip):
    return g1_retargeter.retarget(walking_clip, fps=20.0, source="012314")


def write_robot_yaml(folder: Path, data: dict) -> Path:
    """A robot YAML file in ``folder`` (tests of the config and model errors)."""
    path = folder / "robot.yaml"
    path.write_text(yaml.safe_dump(data))
    return path
