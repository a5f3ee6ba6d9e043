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


POLICY_CAPTIONS = {
    "walk": ["a person walks forward", "walk ahead a few steps", "someone strolls straight on", "go to the left"],
    "wave_right_hand": ["a person waves with the right hand", "wave hello with your right hand"],
    "backflip": ["a person does a backflip", "flip over backwards", "do a backflip"],
}


@pytest.fixture(scope="session")
def model_with_meanings(tiny_model_folder, tmp_path_factory) -> Path:
    """The tiny model with a meaning index of POLICY_CAPTIONS (real sentence encoder) that knows two requests it
    cannot do ("look to the left" reads as unknown at its margin, 0), rephrasing as the shipped model."""
    import shutil

    import yaml

    from motiongpt.lm.command_meaning import MeaningIndex
    from motiongpt.lm.sentence_encoder import SentenceEncoder, resolve_encoder_folder

    folder = tmp_path_factory.mktemp("policy") / "model"
    shutil.copytree(tiny_model_folder, folder)
    encoder = SentenceEncoder(resolve_encoder_folder("all-MiniLM-L6-v2"))
    MeaningIndex.build(POLICY_CAPTIONS, encoder.encode, "all-MiniLM-L6-v2", threshold=0.45,
                       unknown_requests=["look to your left", "nod your head"]).with_unknown_threshold(0.0).save(folder)
    manifest = yaml.safe_load((folder / "motiongpt.yaml").read_text())
    manifest.setdefault("text_to_motion", {})["rephrase"] = "meaning"  # as the shipped model
    (folder / "motiongpt.yaml").write_text(yaml.safe_dump(manifest))
    return folder
