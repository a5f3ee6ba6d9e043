"""Augmentations: mirror (joints, captions, actions), yaw, speed, crop, hold."""
from __future__ import annotations

import numpy as np
import pytest

from motiongpt.data import augment, deepmimic
from motiongpt.features import joints_to_features
from motiongpt.skeleton import JOINT_INDEX as J


@pytest.fixture(scope="module")
def kick():
    return deepmimic.load_joints("kick")


def test_mirror_swaps_left_and_right_joints(kick):
    mirrored = augment.mirror_joints(kick)
    np.testing.assert_allclose(mirrored[:, J["left_ankle"], 0], -kick[:, J["right_ankle"], 0])
    np.testing.assert_allclose(mirrored[:, J["left_ankle"], 1:], kick[:, J["right_ankle"], 1:])
    np.testing.assert_allclose(mirrored[:, J["pelvis"], 0], -kick[:, J["pelvis"], 0])
    np.testing.assert_allclose(augment.mirror_joints(mirrored), kick)
    # the kick is done with the right leg; in the mirror image with the left leg
    assert kick[:, J["right_ankle"], 1].max() > 1.0 > kick[:, J["left_ankle"], 1].max()
    assert mirrored[:, J["left_ankle"], 1].max() > 1.0 > mirrored[:, J["right_ankle"], 1].max()
    # a mirrored left turn turns right
    turn = deepmimic.load_joints("turn_left0")
    assert turn[-1, 0, 0] > 0.2 and augment.mirror_joints(turn)[-1, 0, 0] < -0.2


def test_mirror_text_and_action():
    assert augment.mirror_text("A person kicks with the Right leg, then turns left.") == \
        "A person kicks with the Left leg, then turns right."
    assert augment.mirror_text("spins clockwise; LEFT") == "spins counterclockwise; RIGHT"
    assert augment.mirror_text("a bright leftover copyright") == "a bright leftover copyright"
    assert augment.mirror_text(augment.mirror_text("walks to the left")) == "walks to the left"
    assert augment.mirror_action("turn_left") == "turn_right"
    assert augment.mirror_action("turn_right") == "turn_left"
    assert augment.mirror_action("spinkick") == "spinkick"


def test_speed_words():
    assert augment.mentions_speed("a person runs forward quickly.")
    assert augment.mentions_speed("Someone walks Slowly")
    assert not augment.mentions_speed("a person walks forward steadily.")
    assert augment.named_speed("a person walks forward at a leisurely pace.") == "slow"
    assert augment.named_speed("walk forward more slowly than usual") == "slow"
    assert augment.named_speed("Run Briskly!") == "fast"
    assert augment.named_speed("a person walks forward.") is None
    assert augment.named_speed("start slowly, then run fast") is None  # both: no one speed


def test_the_speed_phrases_of_the_captions_are_speed_words():
    """Every speed phrase appended to a resampled Bandai motion's caption names its own speed, so a caption's
    speed can be read back from its words."""
    from motiongpt.data.bandai_dataset import bandai_caption_table

    table = bandai_caption_table()
    for speed, phrases in table.speeds.items():
        for phrase in phrases:
            assert augment.named_speed(phrase) == speed, phrase


def test_yaw_rotation_keeps_shape_and_features(kick):
    turned = augment.rotate_yaw(kick, 1.1)
    np.testing.assert_allclose(turned[..., 1], kick[..., 1])
    np.testing.assert_allclose(np.linalg.norm(turned[:, 5] - turned[:, 2], axis=-1),
                               np.linalg.norm(kick[:, 5] - kick[:, 2], axis=-1))
    assert np.abs(turned - kick).max() > 0.1
    # the 263-dim features face the body to +Z, so they do not change
    np.testing.assert_allclose(joints_to_features(turned), joints_to_features(kick), atol=1e-5)


def test_change_speed(kick):
    assert augment.change_speed(kick, 1.0) == pytest.approx(kick)
    fast = augment.change_speed(kick, 2.0)
    assert len(fast) == (len(kick) - 1) // 2 + 1
    np.testing.assert_allclose(fast[1], kick[2])
    slow = augment.change_speed(kick, 0.5)
    assert len(slow) == 2 * (len(kick) - 1) + 1
    np.testing.assert_allclose(slow[1], (kick[0] + kick[1]) / 2)
    np.testing.assert_allclose(slow[-1], kick[-1])
    with pytest.raises(ValueError, match="factor"):
        augment.change_speed(kick, 0.0)


def test_crop_and_hold(kick):
    np.testing.assert_array_equal(augment.crop(kick, 3, 10), kick[3:13])
    with pytest.raises(ValueError, match="outside"):
        augment.crop(kick, len(kick) - 2, 5)
    held = augment.hold_pad(kick, 4, 2)
    assert len(held) == len(kick) + 6
    np.testing.assert_array_equal(held[:5], np.repeat(kick[:1], 5, axis=0))
    np.testing.assert_array_equal(held[-3:], np.repeat(kick[-1:], 3, axis=0))


def test_wrong_shape_is_a_value_error():
    with pytest.raises(ValueError, match=r"expected joints of shape \(T, 22, 3\)"):
        augment.mirror_joints(np.zeros((5, 21, 3)))


def test_named_side_and_action_side():
    assert augment.named_side("Wave with your RIGHT hand") == "right"
    assert augment.named_side("step leftwards, please") == "left"
    assert augment.named_side("turn left right away") == "left"  # "right away" names no side
    assert augment.named_side("all right, walk back right now") is None
    assert augment.named_side("raise the left hand, then the right") is None  # both: no one side
    assert augment.named_side("a bright light") is None
    assert [augment.action_side(a) for a in ("turn_left", "raise_up_right_hand", "wave_both_hands", "walk")] == [
        "left", "right", None, None]
    # every side word is one that mirroring swaps, so a mirrored caption names the other side
    for side, words in augment.SIDE_WORDS.items():
        for word in words:
            assert augment.named_side(augment.mirror_text(f"go {word}")) == ("left" if side == "right" else "right")
