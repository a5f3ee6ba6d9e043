"""MotionPipeline: the node's `candidates`, `temperature`, `guidance` and `seed` parameters reach the model's command call."""
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


@pytest.mark.parametrize("name, value", [("temperature", 0.3), ("guidance", 2.5)])
def test_temperature_and_guidance_reach_the_model(tiny_model_folder, monkeypatch, name, value):
    text = "a person walks forward, then jumps"
    pipeline = MotionPipeline.load(str(tiny_model_folder), "g1", "cpu", seed=5, cpu_threads=1)
    seen = []
    command = pipeline.model.command

    def recording(*args, **kwargs):
        seen.append(kwargs.get(name))
        return command(*args, **kwargs)

    monkeypatch.setattr(pipeline.model, "command", recording)
    setattr(pipeline, name, value)
    chosen = pipeline.command_to_motion(text, seconds_per_step=1.2)
    model = MotionGPT.from_pretrained(tiny_model_folder)
    np.testing.assert_array_equal(chosen.joints,
                                  model.command(text, seconds_per_step=1.2, seed=5, **{name: value}).joints)
    setattr(pipeline, name, 0.0)  # the model folder's
    pipeline.command_to_motion(text, seconds_per_step=1.2)
    assert seen == [value, None]


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


def test_a_generated_motion_is_captioned_from_the_codes_it_was_decoded_from(tiny_model_folder):
    pipeline = MotionPipeline.load(str(tiny_model_folder), "g1", "cpu", seed=5, cpu_threads=1)
    motion = pipeline.command_to_motion("a person walks forward, then jumps", seconds_per_step=1.2)
    model = MotionGPT.from_pretrained(tiny_model_folder)
    expected = model.command("a person walks forward, then jumps", seconds_per_step=1.2, seed=5)
    np.testing.assert_array_equal(motion.codes, expected.codes)  # kept from generation, not re-encoded
    caption = pipeline.describe_motion(motion)
    assert caption == " ".join(model.captions_for_codes([expected.codes])[0].split())
    # joints without codes (a pose stream) are encoded first, as before
    from motiongpt_node.motion_pipeline import HumanMotion
    stream = HumanMotion(motion.joints, 0.0)
    assert pipeline.describe_motion(stream) == pipeline.describe(motion.joints)


# ---------------------------------------------------------------------- bounded work per command (issue 15, item 2)
from motiongpt_node.motion_pipeline import (  # noqa: E402
    CommandRefused, GenerationCancelled, MIN_FITTED_STEP_S, TRANSITION_SECONDS, plan_command,
)


def test_too_many_steps_are_refused_before_generating():
    import time

    started = time.perf_counter()
    with pytest.raises(CommandRefused, match=r"166 steps, more than max_command_steps=8"):
        plan_command("wave; " * 166, None, 10.0, 8, free_step_s=10.0)
    assert time.perf_counter() - started < 0.5
    assert len(plan_command("walk; wave; jump", None, 10.0, 8, free_step_s=2.4).steps) == 3


def test_fixed_step_length_longer_than_max_duration_is_refused():
    with pytest.raises(CommandRefused, match=r"4 step\(s\) x seconds_per_step=3 s \+ 2.4 s of transitions = 14.4 s, "
                                             r"longer than max_duration=10 s"):
        plan_command("walk, then wave, then jump, then turn left", 3.0, 10.0, 8, free_step_s=10.0)
    with pytest.raises(CommandRefused, match=r"seconds_per_step=12 s is longer than the model generates"):
        plan_command("walk", 12.0, 60.0, 8, free_step_s=10.0)
    plan = plan_command("walk, then wave", 3.0, 10.0, 8, free_step_s=10.0)
    assert plan.seconds_per_step == 3.0 and plan.longest_s == pytest.approx(6.0 + TRANSITION_SECONDS)


def test_model_chosen_lengths_are_fitted_into_max_duration_or_refused():
    single = plan_command("walk forward", None, 10.0, 8, free_step_s=10.0)
    assert single.seconds_per_step is None and not single.fitted  # the model's bound fits: it chooses
    two = plan_command("walk forward, then wave", None, 10.0, 8, free_step_s=10.0)
    assert two.fitted and two.seconds_per_step == pytest.approx(4.6)  # (10 - 0.8) / 2 on the 0.2 s grid
    assert two.longest_s <= 10.0
    short = plan_command("walk forward", None, 3.0, 8, free_step_s=10.0)
    assert short.seconds_per_step == pytest.approx(3.0)  # never generate 10 s only to publish 3
    with pytest.raises(CommandRefused, match=r"8 steps need at least"):
        plan_command("; ".join(["wave"] * 8), None, 5.0, 8, free_step_s=10.0)
    assert MIN_FITTED_STEP_S >= 0.2


def test_a_cancelled_job_stops_within_a_decoding_step(tiny_model_folder):
    """The stopping criterion ends generate in the decoding step in which the job is cancelled."""
    import threading

    pipeline = MotionPipeline.load(str(tiny_model_folder), "g1", "cpu", seed=3, cpu_threads=1, candidates=2)
    decoder = pipeline.model.language_model.t5.get_decoder()
    calls = {"n": 0, "cancel_at": 3}
    event = threading.Event()

    def count(module, args, output):
        calls["n"] += 1
        if calls["n"] == calls["cancel_at"]:
            event.set()

    handle = decoder.register_forward_hook(count)
    try:
        with pytest.raises(GenerationCancelled):
            pipeline.command_to_motion("walk forward, then wave, then jump", seconds_per_step=2.4, cancelled=event)
        assert calls["n"] <= 4, calls  # one more decoder call at most, not the rest of the motion
        calls.update(n=0, cancel_at=None)
        pipeline.command_to_motion("walk forward, then wave, then jump", seconds_per_step=2.4,
                                   cancelled=threading.Event())
        assert calls["n"] > 12  # uncancelled: a 2.4 s step is 12 codes, each a decoding step
    finally:
        handle.remove()
    already = threading.Event()
    already.set()
    with pytest.raises(GenerationCancelled):
        pipeline.command_to_motion("walk", cancelled=already)


def test_steps_shrink_by_the_shaping_stretch_when_the_motion_would_be_cut():
    from motiongpt_node.motion_pipeline import shorter_plan

    two = plan_command("walk forward, then wave", None, 10.0, 8, free_step_s=10.0)  # 2 x 4.6 s + 0.8 s
    # shaped for the robot, the 10 s motion lasted 11.3 s: 10 x 10 / 11.3 x 0.98 = 8.67 s -> (8.67 - 0.8) / 2 = 3.9
    shorter = shorter_plan(two, 10.0, 11.3, 10.0)
    assert shorter.steps == two.steps and shorter.fitted
    assert shorter.seconds_per_step == pytest.approx(3.8)  # on the 0.2 s grid
    assert shorter.longest_s == pytest.approx(2 * 3.8 + TRANSITION_SECONDS)
    assert shorter_plan(two, 10.0, 9.9, 10.0) is None  # nothing would be cut
    users = plan_command("walk forward, then wave", 4.0, 10.0, 8, free_step_s=10.0)
    assert not users.fitted and shorter_plan(users, 8.8, 11.0, 10.0) is None  # the user's lengths are kept
    chosen = plan_command("walk forward", None, 10.0, 8, free_step_s=10.0)  # one step, the model chooses
    assert shorter_plan(chosen, 9.0, 10.5, 10.0).seconds_per_step == pytest.approx(8.4)  # 9 x 10 / 10.5 x 0.98
    assert shorter_plan(chosen, 1.2, 30.0, 10.0) is None  # it would need steps under MIN_FITTED_STEP_S


def test_a_fitted_plan_bounds_the_models_lengths_and_a_users_length_is_kept(tiny_model_folder):
    two = plan_command("walk forward, then wave", None, 3.0, 8, free_step_s=10.0)  # (3 - 0.8) / 2 -> 1.0 s
    assert two.fitted and two.lengths() == {"max_seconds_per_step": pytest.approx(1.0)}
    assert "at most 1.0 s" in two.summary()
    users = plan_command("walk forward, then wave", 1.2, 10.0, 8, free_step_s=10.0)
    assert users.lengths() == {"seconds_per_step": 1.2}
    assert plan_command("walk forward", None, 10.0, 8, free_step_s=10.0).lengths() == {}
    pipeline = MotionPipeline.load(str(tiny_model_folder), "g1", "cpu", seed=3, cpu_threads=1)
    motion = pipeline.command_to_motion("walk forward, then wave", **two.lengths())
    expected = MotionGPT.from_pretrained(tiny_model_folder).command(
        "walk forward, then wave", max_seconds_per_step=1.0, transition_seconds=TRANSITION_SECONDS, seed=3)
    np.testing.assert_array_equal(motion.joints, expected.joints)


def test_a_length_said_in_a_step_is_planned_as_that_length():
    """"wave for 2 seconds" is 2 s whatever seconds_per_step says; the other steps are planned around it, and a
    said length the model cannot generate, or one that cannot fit max_duration, is refused before generating."""
    from motiongpt_node.motion_pipeline import shorter_plan

    plan = plan_command("walk forward, then wave for 2 seconds", None, 20.0, 8, free_step_s=10.0)
    assert plan.said_seconds == (None, 2.0) and plan.seconds_per_step is None
    assert plan.longest_s == pytest.approx(10.0 + 2.0 + TRANSITION_SECONDS)
    assert "2.0 s" in plan.summary() and "model-chosen" in plan.summary()
    fixed = plan_command("walk forward, then wave for 2 seconds", 3.0, 20.0, 8, free_step_s=10.0)
    assert fixed.longest_s == pytest.approx(3.0 + 2.0 + TRANSITION_SECONDS)
    fitted = plan_command("walk forward, then wave for 5 seconds", None, 10.0, 8, free_step_s=10.0)
    assert fitted.fitted and fitted.seconds_per_step == pytest.approx(4.2)  # 10 - 5 - 0.8 on the 0.2 s grid
    assert fitted.longest_s <= 10.0
    with pytest.raises(CommandRefused, match=r"'wave for 0 seconds' asks for 0 s; a step must last longer than 0 s"):
        plan_command("walk forward, then wave for 0 seconds", None, 20.0, 8, free_step_s=10.0)
    with pytest.raises(CommandRefused, match=r"'walk forward for 30 seconds' asks for 30 s, longer than the model "
                                             r"generates per step \(10 s\)"):
        plan_command("walk forward for 30 seconds", None, 60.0, 8, free_step_s=10.0)
    with pytest.raises(CommandRefused, match=r"2 steps need at least 10.8 s \(9 s said in the steps \+ 1 s for "
                                             r"each other step \+ 0.8 s of transitions\)"):
        plan_command("walk forward for 9 seconds, then wave", None, 10.0, 8, free_step_s=10.0)
    with pytest.raises(CommandRefused, match=r"2 step\(s\) \(9 s said in the steps\) x seconds_per_step=2 s"):
        plan_command("walk forward for 9 seconds, then wave", 2.0, 10.0, 8, free_step_s=10.0)
    every = plan_command("walk for 3 seconds, then wave for 2 seconds", None, 20.0, 8, free_step_s=10.0)
    assert shorter_plan(every, 5.8, 30.0, 20.0) is None  # every length is the user's
    # shaped too long, only the step whose length the model chose shrinks
    shorter = shorter_plan(fitted, 10.0, 11.3, 10.0)  # 0.98 x 10 x 10 / 11.3 = 8.67 -> 8.67 - 5.8 = 2.87 -> 2.8
    assert shorter.said_seconds == (None, 5.0) and shorter.seconds_per_step == pytest.approx(2.8)
