"""MotionPipeline: the node's `candidates` and `seed` parameters reach the model's command call."""
from __future__ import annotations

import numpy as np

from motiongpt.lm import MotionGPT
from motiongpt_node.motion_pipeline import MotionPipeline


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
