"""The shipped language model (models/motiongpt-small): a complete folder whose decoding settings are those
of its training config, whose grounding captions are exactly the training captions of a fresh embedded build
(no val or test phrasing), and which answers every task."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from motiongpt.data.embedded import build_embedded
from motiongpt.data.humanml3d import load_split
from motiongpt.lm.api import MotionGPT
from motiongpt.lm.text_grounding import read_caption_file
from motiongpt.lm.training import LMTrainingConfig

REPO = Path(__file__).resolve().parents[3]
MODEL_DIR = REPO / "models" / "motiongpt-small"


@pytest.fixture(scope="module")
def shipped() -> MotionGPT:
    return MotionGPT.from_pretrained(MODEL_DIR)


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    root = tmp_path_factory.mktemp("embedded")
    build_embedded(root)
    return root


def test_decoding_settings_come_from_the_training_config(shipped):
    config = LMTrainingConfig.from_yaml(REPO / "models" / "configs" / "lm_small_instruct.yaml")
    assert shipped.text_to_motion_settings == config.text_to_motion
    assert shipped.grounding is not None and shipped.text_to_motion_settings.neighbours > 0


def test_grounding_captions_are_the_training_captions_only(shipped, embedded):
    captions = read_caption_file(MODEL_DIR / shipped.text_to_motion_settings.captions)
    train = {c.text.strip() for r in load_split(embedded, "train") for c in r.captions}
    held = {c.text.strip() for split in ("val", "test") for r in load_split(embedded, split) for c in r.captions}
    assert set(captions) == train and not (set(captions) & held)


def test_every_task_answers(shipped):
    walk = shipped.text_to_motion("someone goes forward on foot", seconds=2.0, seed=0)
    assert walk.joints.shape == (40, 22, 3) and np.isfinite(walk.joints).all()
    assert shipped.motion_to_text(walk.joints).strip()
    given = shipped.encode(walk.joints).size * 4  # the given motion, cut to the 4-frame code grid
    assert shipped.predict(walk.joints, seconds=1.0, seed=0).joints.shape == (given + 20, 22, 3)
    plan = shipped.command("walk forward, then jump", seconds_per_step=1.6, seed=0)
    assert [s[0] for s in plan.steps] == ["walk forward", "jump"] and np.isfinite(plan.joints).all()
