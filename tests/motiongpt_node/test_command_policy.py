"""The node's command policy without ROS: out-of-vocabulary and allow-list checks, the joint mask."""
import numpy as np
import pytest

from motiongpt.lm.command_meaning import Meaning
from motiongpt_node.command_policy import (DEFAULT_ALLOWED_MOTIONS, MotionNotAllowed, check_meanings,
                                           describe_meanings, hold_masked_joints, moving_mask)


def meaning(text, action, similarity, threshold=0.6):
    return Meaning(text, action, similarity, similarity >= threshold)


def test_allowed_known_steps_pass_and_the_first_bad_step_is_named():
    walk, wave = meaning("walk", "walk", 0.9), meaning("wave", "wave_right_hand", 0.8)
    check_meanings([walk, wave], DEFAULT_ALLOWED_MOTIONS, refuse_unknown=True, default_threshold=0.6)
    flip = meaning("flip", "backflip", 0.95)
    with pytest.raises(MotionNotAllowed, match="'flip' means backflip, which is not in allowed_motions"):
        check_meanings([walk, flip, meaning("coffee", "walk", 0.2)], DEFAULT_ALLOWED_MOTIONS, True, 0.0, 0.6)
    check_meanings([flip], ["*"], True, 0.0, 0.6)  # '*' allows every action
    check_meanings([flip], ["backflip"], True, 0.0, 0.6)


def test_unknown_requests_follow_the_threshold_and_the_switch():
    coffee = meaning("make coffee", "walk", 0.3)
    with pytest.raises(MotionNotAllowed, match="not something the model knows .*0.30 < 0.60"):
        check_meanings([coffee], ["*"], True, 0.0, 0.6)  # the model's own threshold
    with pytest.raises(MotionNotAllowed, match="0.30 < 0.40"):
        check_meanings([coffee], ["*"], True, 0.4, 0.6)  # min_meaning_similarity overrides it
    check_meanings([coffee], ["*"], True, 0.25, 0.6)
    check_meanings([coffee], ["*"], False, 0.0, 0.6)  # refuse_unknown off
    assert describe_meanings([coffee]) == "walk 0.30" and "no meaning index" in describe_meanings(None)
    assert describe_meanings([coffee], ["a person walks forward."]) == "walk 0.30 as 'a person walks forward.'"
    assert describe_meanings([coffee, coffee], ["walk", "walk"], [1.4, 1.0]) == "walk 0.30 as 'walk' played x1.4, " \
                                                                              "walk 0.30 as 'walk'"


def test_a_request_read_as_unknown_is_refused_naming_what_it_is_near():
    look = Meaning("look to the left", "walk_left", 0.73, False, 0.08, "look to your left", True)
    with pytest.raises(MotionNotAllowed, match="'look to the left' is not something the model knows: it resembles "
                                               "'look to your left', which the model cannot do.*margin \\+0.08"):
        check_meanings([meaning("walk", "walk", 0.9), look], ["*"], True, 0.0, 0.6)
    with pytest.raises(MotionNotAllowed, match="look to your left"):
        check_meanings([look], ["*"], True, 0.5, 0.6)  # min_meaning_similarity replaces the similarity rule only
    check_meanings([look], ["*"], False, 0.0, 0.6)  # refuse_unknown off


def test_unknown_margin_replaces_the_models_margin():
    look = Meaning("look to the left", "walk_left", 0.73, False, 0.08, "look to your left", True)
    check_meanings([look], ["*"], True, 0.0, 0.6, unknown_margin=0.1)  # a looser margin lets it through
    near = Meaning("lean to the right", "walk_right", 0.7, True, -0.05, "lean to your right", False)
    check_meanings([near], ["*"], True, 0.0, 0.6)  # under the model's margin
    with pytest.raises(MotionNotAllowed, match="unknown margin -0.05 >= -0.10"):
        check_meanings([near], ["*"], True, 0.0, 0.6, unknown_margin=-0.1)  # a stricter one refuses it
    check_meanings([near], ["*"], False, 0.0, 0.6, unknown_margin=-0.1)  # refuse_unknown off: neither rule
    plain = meaning("walk", "walk", 0.9)  # an index without unknown requests: margin -2, never refused by it
    check_meanings([plain], ["*"], True, 0.0, 0.6, unknown_margin=-1.0)


def test_joint_mask_holds_every_other_joint():
    names = ["left_hip_pitch_joint", "left_elbow_joint", "right_shoulder_roll_joint", "waist_yaw_joint"]
    mask = moving_mask(names, ["*_shoulder_*", "*_elbow_joint"])
    assert mask.tolist() == [False, True, True, False]
    assert moving_mask(names, ["*"]).all()
    positions = np.arange(12, dtype=float).reshape(3, 4)
    state = np.array([-1.0, -2.0, -3.0, -4.0])
    held = hold_masked_joints(positions, state, mask)
    assert held[:, 0].tolist() == [-1.0] * 3 and held[:, 3].tolist() == [-4.0] * 3
    np.testing.assert_array_equal(held[:, 1:3], positions[:, 1:3])
