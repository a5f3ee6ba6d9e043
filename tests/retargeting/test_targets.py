"""IK targets from human joints (`retargeting.targets.build_targets`): proportions from the skeleton, limbs kept
clear of the body, feet planted during contacts."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from motiongpt.data.deepmimic import load_joints
from motiongpt.skeleton import FPS, JOINT_INDEX
from retargeting.contacts import detect_contacts
from retargeting.human_motion import clean_motion, frames_from_axes
from retargeting.retargeter import Retargeter
from retargeting.targets import build_targets


@pytest.fixture(scope="module")
def g1():
    return Retargeter.from_robot("g1")


def targets_of(retargeter: Retargeter, clip: str):
    settings = retargeter.settings
    joints = clean_motion(load_joints(clip), clip, settings.frame_checks).joints
    contacts = detect_contacts(joints, FPS, settings.contacts)
    return joints, contacts, build_targets(retargeter.robot, joints, contacts, settings.contact_blend_frames)


def test_proportions_come_from_the_skeleton_not_the_pose(g1):
    # the same DeepMimic skeleton standing and on all fours: the same scales (a pose-based scale differed 4x)
    _, _, walk = targets_of(g1, "walk")
    _, _, crawl = targets_of(g1, "crawl")
    assert crawl.root_scale == pytest.approx(walk.root_scale, rel=0.02)
    for name, scale in walk.keypoint_scales.items():
        assert crawl.keypoint_scales[name] == pytest.approx(scale, rel=0.05), name
    assert 0.5 < walk.root_scale < 1.0  # the G1 is smaller than the mocap actor


def test_a_planted_sole_holds_still_on_the_ground(g1):
    _, contacts, targets = targets_of(g1, "walk")
    soles = len(g1.robot.config.keypoints)
    for side in (0, 1):
        full = np.flatnonzero(targets.contact_blend[:, side] >= 1.0 - 1e-12)
        assert len(full) > 10
        for first, last in contacts.segments[side]:
            frames = [f for f in full if first <= f <= last]
            if len(frames) < 2:
                continue
            sole = targets.positions[frames, soles + side]
            np.testing.assert_allclose(sole, np.repeat(sole[:1], len(frames), axis=0), atol=1e-12)
            assert sole[0, 2] == 0.0
            assert targets.position_weights[frames[0], soles + side] > 0.0


def test_wrists_and_elbows_are_kept_clear_of_the_torso(g1):
    joints, _, _ = targets_of(g1, "walk")
    # fold both arms across the chest: wrists and elbows on the body's centre line
    folded = joints.copy()
    chest = joints[:, JOINT_INDEX["spine3"]]
    for name in ("left_wrist", "right_wrist", "left_elbow", "right_elbow"):
        folded[:, JOINT_INDEX[name]] = chest + np.array([0.0, 0.0, -0.05])
    settings = g1.settings
    targets = build_targets(g1.robot, folded, detect_contacts(folded, FPS, settings.contacts),
                            settings.contact_blend_frames)
    config = g1.robot.config
    slot = {k.smpl: i for i, k in enumerate(config.keypoints)}
    torso = frames_from_axes(folded[:, JOINT_INDEX["left_shoulder"]] - folded[:, JOINT_INDEX["right_shoulder"]],
                             folded[:, JOINT_INDEX["neck"]] - folded[:, JOINT_INDEX["spine3"]])
    checked = 0
    for name, distance in config.clearance.items():
        # sideways offset from the chest keypoint in the torso's frame (y: to the left): pushed out to the clearance
        local = np.einsum("tji,tj->ti", torso, targets.positions[:, slot[name]] - targets.positions[:, slot["spine3"]])
        side = 1.0 if name.startswith("left") else -1.0
        assert np.all(side * local[:, 1] >= distance - 1e-9), name
        assert np.median(side * local[:, 1]) == pytest.approx(distance, abs=1e-9), name
        checked += 1
    assert checked == 4


def test_an_arm_raised_sideways_is_turned_forward_at_the_same_height():
    from retargeting.targets import raise_arms_forward

    J = JOINT_INDEX
    joints = np.zeros((3, 22, 3))
    joints[:, J["left_shoulder"]], joints[:, J["right_shoulder"]] = [0.0, 0.2, 1.4], [0.0, -0.2, 1.4]
    # frame 0: left arm hanging; frame 1: left arm straight out to the side (90 degrees); frame 2: left arm up
    # and out at 150 degrees; the right arm always straight forward (unchanged: not sideways)
    joints[0, J["left_elbow"]], joints[0, J["left_wrist"]] = [0.0, 0.2, 1.1], [0.0, 0.2, 0.85]
    joints[1, J["left_elbow"]], joints[1, J["left_wrist"]] = [0.0, 0.5, 1.4], [0.0, 0.75, 1.4]
    joints[2, J["left_elbow"]], joints[2, J["left_wrist"]] = [0.0, 0.35, 1.66], [0.0, 0.475, 1.877]
    joints[:, J["right_elbow"]], joints[:, J["right_wrist"]] = [0.3, -0.2, 1.4], [0.55, -0.2, 1.4]
    torso = np.repeat(np.eye(3)[None], 3, axis=0)  # x forward, y left, z up
    out = raise_arms_forward(joints, torso, 60.0, 120.0)
    np.testing.assert_array_equal(out[0], joints[0])  # hanging: below 60 degrees
    np.testing.assert_allclose(out[:, J["right_wrist"]], joints[:, J["right_wrist"]])  # already in front
    np.testing.assert_allclose(out[..., 2], joints[..., 2])  # heights kept
    # 90 degrees is half way from 60 to 120: smoothstep(0.5) = 0.5 of the 90-degree sideways angle, 45 degrees
    np.testing.assert_allclose(out[1, J["left_wrist"]], [0.55 * np.sin(np.pi / 4), 0.2 + 0.55 * np.cos(np.pi / 4), 1.4])
    # 150 degrees: turned fully, straight in front of the shoulder
    np.testing.assert_allclose(out[2, J["left_wrist"], 1], 0.2, atol=1e-12)
    assert out[2, J["left_wrist"], 0] == pytest.approx(0.275)


def test_raise_arms_forward_is_validated(tmp_path):
    import yaml

    from retargeting.errors import RetargetError
    from retargeting.robot_config import load_robot_config
    import retargeting

    document = yaml.safe_load((Path(retargeting.__file__).parent / "robots" / "romeo.yaml").read_text())
    assert load_robot_config("romeo").raise_arms_forward == (80.0, 140.0)
    for bad, message in (({"from_deg": 90, "to_deg": 60}, "0 <= from_deg < to_deg <= 180"),
                         ({"from": 60}, "a mapping with from_deg and to_deg")):
        document["raise_arms_forward"] = bad
        path = tmp_path / "robot.yaml"
        path.write_text(yaml.safe_dump(document))
        with pytest.raises(RetargetError, match=message):
            load_robot_config(path)
