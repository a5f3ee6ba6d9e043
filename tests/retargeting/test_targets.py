"""IK targets from human joints (`retargeting.targets.build_targets`): proportions from the skeleton, limbs kept
clear of the body, feet planted during contacts."""
from __future__ import annotations

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
