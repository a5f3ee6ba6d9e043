"""MotionPipeline: the node's `candidates` and `seed` parameters reach the model's command call."""
from __future__ import annotations

import numpy as np
import pytest

from motiongpt.lm import MotionGPT
from motiongpt_node.motion_pipeline import MotionPipeline, PipelineError


def test_candidates_and_seed_reach_the_model(tiny_model_folder):
    text = "a person walks forward, then jumps"
    pipeline = MotionPipeline.load(str(tiny_model_folder), "g1", "cpu", seed=3, cpu_threads=1, candidates=3)
    motion = pipeline.command_to_motion(text, seconds_per_step=1.2)
    model = MotionGPT.from_pretrained(tiny_model_folder)
    expected = model.command(text, seconds_per_step=1.2, seed=3, candidates=3)
    np.testing.assert_array_equal(motion.joints, expected.joints)
    default = MotionPipeline(pipeline.model, pipeline.retargeter, seed=3, candidates=0)
    np.testing.assert_array_equal(default.command_to_motion(text, seconds_per_step=1.2).joints,
                                  model.command(text, seconds_per_step=1.2, seed=3).joints)


class CaptionModel:
    """A stand-in model whose caption is fixed (the real model's caption of noise can be empty)."""

    def __init__(self, caption):
        self.caption = caption

    def motion_to_text(self, joints):
        return self.caption


def test_empty_caption_is_an_error_with_the_reason():
    noise = np.random.default_rng(0).normal(size=(80, 22, 3))
    for caption in ("", "  \n "):
        with pytest.raises(PipelineError, match=r"empty caption for 4.0 s of motion"):
            MotionPipeline(CaptionModel(caption), retargeter=None).describe(noise)
    assert MotionPipeline(CaptionModel(" a person  waves\n"), retargeter=None).describe(noise) == "a person waves"
