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
    joints = np.zeros((4, 22, 3))
    joints[:, J["left_shoulder"]], joints[:, J["right_shoulder"]] = [0.0, 0.2, 1.4], [0.0, -0.2, 1.4]
    joints[:, J["head"]] = [0.0, 0.0, 1.6]  # 0.2 m above the shoulders
    # frame 0: left arm hanging; frame 1: upper arm straight out to the side (90 degrees), forearm up, the wrist
    # 0.25 m above the shoulder (above the head); frame 2: up and out at 150 degrees; frame 3: the whole arm
    # straight out to the side, the hand at the shoulder's height. The right arm always straight forward.
    joints[0, J["left_elbow"]], joints[0, J["left_wrist"]] = [0.0, 0.2, 1.1], [0.0, 0.2, 0.85]
    joints[1, J["left_elbow"]], joints[1, J["left_wrist"]] = [0.0, 0.5, 1.4], [0.0, 0.5, 1.65]
    joints[2, J["left_elbow"]], joints[2, J["left_wrist"]] = [0.0, 0.35, 1.66], [0.0, 0.475, 1.877]
    joints[3, J["left_elbow"]], joints[3, J["left_wrist"]] = [0.0, 0.5, 1.4], [0.0, 0.75, 1.4]
    joints[:, J["right_elbow"]], joints[:, J["right_wrist"]] = [0.3, -0.2, 1.4], [0.55, -0.2, 1.4]
    torso = np.repeat(np.eye(3)[None], 4, axis=0)  # x forward, y left, z up
    out = raise_arms_forward(joints, torso, 60.0, 120.0)
    np.testing.assert_array_equal(out[0], joints[0])  # hanging: below 60 degrees
    np.testing.assert_array_equal(out[3], joints[3])  # out to the side with the hand low: kept
    np.testing.assert_allclose(out[:, J["right_wrist"]], joints[:, J["right_wrist"]])  # already in front
    np.testing.assert_allclose(out[..., 2], joints[..., 2])  # heights kept
    # 90 degrees is half way from 60 to 120 (smoothstep 0.5) and the hand is above the head (1): 45 degrees of the
    # 90-degree sideways angle
    np.testing.assert_allclose(out[1, J["left_wrist"]], [0.3 * np.sin(np.pi / 4), 0.2 + 0.3 * np.cos(np.pi / 4), 1.65])
    # 150 degrees: turned fully, straight in front of the shoulder
    np.testing.assert_allclose(out[2, J["left_wrist"], 1], 0.2, atol=1e-12)
    assert out[2, J["left_wrist"], 0] == pytest.approx(0.275)
    # the hand half way from the shoulder's height to the head's: smoothstep(0.5) = half the turn
    joints[1, J["left_wrist"]] = [0.0, 0.5, 1.5]
    half = raise_arms_forward(joints, torso, 60.0, 120.0)
    angle = np.pi / 8  # 0.5 (angle) x 0.5 (hand) x 90 degrees
    np.testing.assert_allclose(half[1, J["left_elbow"]], [0.3 * np.sin(angle), 0.2 + 0.3 * np.cos(angle), 1.4])


def test_the_forward_turn_and_the_arms_release_start_ahead_of_the_raise():
    """`lead_frames`: each frame takes the largest turn (and release) of itself and the next frames, so an arm on
    its way up is already turned forward before it gets high (Romeo's arm, turned only as the hand came up, was
    abducted to its limit with the elbow bent by then, and stayed there)."""
    from retargeting.targets import _ahead, raise_arms_forward

    np.testing.assert_array_equal(_ahead(np.array([0.0, 0.0, 0.0, 0.5, 1.0, 0.2]), 2),
                                  [0.0, 0.5, 1.0, 1.0, 1.0, 0.2])
    np.testing.assert_array_equal(_ahead(np.array([0.3, 0.1]), 0), [0.3, 0.1])
    J = JOINT_INDEX
    joints = np.zeros((3, 22, 3))
    joints[:, J["left_shoulder"]], joints[:, J["right_shoulder"]] = [0.0, 0.2, 1.4], [0.0, -0.2, 1.4]
    joints[:, J["head"]] = [0.0, 0.0, 1.6]
    joints[:, J["right_elbow"]], joints[:, J["right_wrist"]] = [0.0, -0.2, 1.1], [0.0, -0.2, 0.85]
    # frames 0 and 1: the left arm out to the side at 45 degrees, the hand low (no turn of its own); frame 2: the
    # upper arm out at 90 degrees with the hand above the head (turned half way: 45 of its 90 degrees)
    for t in (0, 1):
        joints[t, J["left_elbow"]] = [0.0, 0.2 + 0.3 * np.sin(np.pi / 4), 1.4 - 0.3 * np.cos(np.pi / 4)]
        joints[t, J["left_wrist"]] = [0.0, 0.2 + 0.55 * np.sin(np.pi / 4), 1.4 - 0.55 * np.cos(np.pi / 4)]
    joints[2, J["left_elbow"]], joints[2, J["left_wrist"]] = [0.0, 0.5, 1.4], [0.0, 0.5, 1.65]
    torso = np.repeat(np.eye(3)[None], 3, axis=0)
    plain = raise_arms_forward(joints, torso, 30.0, 150.0)
    ahead = raise_arms_forward(joints, torso, 30.0, 150.0, lead_frames=1)
    np.testing.assert_array_equal(plain[:2], joints[:2])  # no turn before the raise
    np.testing.assert_array_equal(ahead[0], joints[0])    # two frames ahead of it: still none
    np.testing.assert_array_equal(ahead[2], plain[2])     # the raised frame itself: the same turn
    # one frame ahead: frame 2's turn fraction (0.5: 90 degrees half way from 30 to 150, hand above the head)
    # applied to frame 1's own 90-degree sideways angle: turned 45 degrees towards the front, heights kept
    offset = ahead[1, J["left_wrist"]] - joints[1, J["left_shoulder"]]
    horizontal = 0.55 * np.sin(np.pi / 4)
    np.testing.assert_allclose(offset, [horizontal * np.sin(np.pi / 4), horizontal * np.cos(np.pi / 4),
                                        -0.55 * np.cos(np.pi / 4)], atol=1e-12)


def test_a_hand_above_the_head_gets_a_target_above_the_robots_head():
    from retargeting.robot_config import HandsAboveHead
    from retargeting.targets import keep_hands_above_head

    J = JOINT_INDEX
    slots = {J["head"]: 0, J["right_elbow"]: 1, J["right_wrist"]: 2}
    frames = 5
    human = np.zeros((frames, 22, 3))
    human[:, J["head"], 2] = 1.6
    # the human's right wrist from 0.2 m below the head to 0.1 m above it; the left one stays low
    human[:, J["right_wrist"], 2] = 1.6 + np.array([-0.2, -0.1, -0.05, 0.0, 0.1])
    human[:, J["left_wrist"], 2] = 1.0
    positions = np.zeros((frames, 5, 3))  # head, right elbow, right wrist, two soles
    positions[:, 0, 2] = 1.3  # the robot's head target
    positions[:, 1, 2] = 1.1
    positions[:, 2, 2] = 1.3 - 0.08 + np.array([-0.2, -0.1, -0.05, 0.0, 0.1])  # bone by bone: 8 cm lower
    before = positions.copy()
    spec = HandsAboveHead(margin=0.03, band=0.10, elbow_share=0.5, release=0.8)
    lifted = keep_hands_above_head(positions, human, slots, {"right_wrist": 0.7}, spec)
    assert set(lifted) == {"right"}
    lift = positions[:, 2, 2] - before[:, 2, 2]
    # more than the band below the head: nothing moves, and no release
    assert lift[0] == 0.0 and lift[1] == 0.0 and lifted["right"][0] == 0.0
    # at the head's height: at the robot's head's; 0.1 m above it: 0.7 x 0.1 + the whole margin (reached at 0.03)
    assert positions[3, 2, 2] - positions[3, 0, 2] == pytest.approx(0.0)
    assert positions[4, 2, 2] - positions[4, 0, 2] == pytest.approx(0.7 * 0.1 + 0.03)
    # half way up the band: fade smoothstep(0.5) = 0.5 of the way to 0.7 x -0.05 (no margin below the head)
    assert lift[2] == pytest.approx(0.5 * (0.7 * -0.05 - (-0.08 - 0.05)))
    # 1.5 cm above the head: half the margin (smoothstep(0.5))
    human[4, J["right_wrist"], 2] = 1.6 + 0.015
    again = before.copy()
    keep_hands_above_head(again, human, slots, {"right_wrist": 0.7}, spec)
    assert again[4, 2, 2] - again[4, 0, 2] == pytest.approx(0.7 * 0.015 + 0.5 * 0.03)
    np.testing.assert_allclose(positions[:, 1, 2] - before[:, 1, 2], 0.5 * lift)  # the elbow, by half
    # the release share: the lift over the band (8 cm of lift at the head: 0.8)
    np.testing.assert_allclose(lifted["right"], np.clip(lift / 0.10, 0.0, 1.0))
    assert lifted["right"][3] == pytest.approx(0.8)
    np.testing.assert_array_equal(positions[:, :, :2], before[:, :, :2])  # only heights change
    # a torso tilted 60 degrees (a cartwheel, a roll): "above the head" means nothing, nothing moves
    tilted = before.copy()
    assert keep_hands_above_head(tilted, human, slots, {"right_wrist": 0.7}, spec,
                                 torso_upright=np.full(frames, np.cos(np.radians(60.0)))) == {}
    np.testing.assert_array_equal(tilted, before)
    # with a lead the release starts earlier: each frame takes the largest share of itself and the next two; the
    # lift itself is the same
    on_time, early_positions = before.copy(), before.copy()
    share = keep_hands_above_head(on_time, human, slots, {"right_wrist": 0.7}, spec)["right"]
    early = keep_hands_above_head(early_positions, human, slots, {"right_wrist": 0.7}, spec, lead_frames=2)
    np.testing.assert_allclose(early["right"], [max(share[t:t + 3]) for t in range(frames)])
    assert share[1] == 0.0 and early["right"][1] == pytest.approx(share[3])
    np.testing.assert_array_equal(early_positions, on_time)
    # a robot whose wrist target is already high enough is left alone
    high = before.copy()
    high[:, 2, 2] += 0.5
    assert keep_hands_above_head(high, human, slots, {"right_wrist": 0.7}, spec) == {}


def test_a_lifted_wrist_leads_its_arm_and_the_error_is_measured_against_the_human(g1):
    """In build_targets the lift releases the elbow and upper-arm weights by `release` times the lift over the
    band, from `lead` seconds before the lift, and the reference the error is measured against stays the
    bone-by-bone arm."""
    import dataclasses

    from tests.retargeting.test_evaluation import BANDAI_FIXTURES, take_joints

    joints = take_joints(BANDAI_FIXTURES / "dataset-2_wave-right-hand_active_023.bvh")
    settings = g1.settings
    clean = clean_motion(joints, "wave", settings.frame_checks).joints
    contacts = detect_contacts(clean, FPS, settings.contacts)
    lifted = build_targets(g1.robot, clean, contacts, settings.contact_blend_frames)
    plain_robot = Retargeter.from_robot(dataclasses.replace(g1.robot.config, hands_above_head=None)).robot
    plain = build_targets(plain_robot, clean, contacts, settings.contact_blend_frames)
    slot = {k.smpl: i for i, k in enumerate(g1.robot.config.keypoints)}
    moved = lifted.positions[:, slot["right_wrist"], 2] - plain.positions[:, slot["right_wrist"], 2]
    assert (moved >= 0.0).all() and moved.max() > 0.02
    np.testing.assert_allclose(lifted.reference_positions, plain.positions)
    lead = round(g1.robot.config.hands_above_head.lead * FPS)
    assert lead == 10
    share = np.clip(moved / 0.10, 0.0, 1.0)
    share = np.array([share[t:t + lead + 1].max() for t in range(len(share))])
    frames = share > 0.0
    assert frames.sum() > (moved > 0.0).sum()  # released before the lift
    elbow = g1.robot.config.keypoints[slot["right_elbow"]].weight
    released = elbow * (1.0 - 0.8 * share)
    np.testing.assert_allclose(lifted.position_weights[:, slot["right_elbow"]], released)
    assert released.min() < 0.9 * elbow
    np.testing.assert_array_equal(lifted.position_weights[~frames], plain.position_weights[~frames])


def _yaw(rotations: np.ndarray) -> np.ndarray:
    return np.arctan2(rotations[..., 1, 0], rotations[..., 0, 0])


def test_a_planted_foot_turns_no_further_from_the_pelvis_than_the_robot_can():
    """Real Bandai Namco mocap (CC BY-NC 4.0, see the fixture's LICENSE): a goodbye in the "musical" style, stood
    with the toes turned out more than Romeo's hips can turn (+-15 degrees). A planted foot's heading, held for
    the whole contact, lies within that range of the pelvis's mean heading over the contact (before, the planted
    feet at the contact weight tipped the robot 31 degrees over, test_hard_clips), while the human's own feet
    turn further."""
    from tests.retargeting.test_evaluation import BANDAI_FIXTURES, take_joints

    romeo = Retargeter.from_robot("romeo")
    settings = romeo.settings
    joints = clean_motion(take_joints(BANDAI_FIXTURES / "dataset-1_byebye_musical_001.bvh"), "byebye",
                          settings.frame_checks).joints
    contacts = detect_contacts(joints, FPS, settings.contacts)
    targets = build_targets(romeo.robot, joints, contacts, settings.contact_blend_frames)
    pelvis_yaw = _yaw(targets.pelvis_rotations)
    J = JOINT_INDEX
    human_turn = []
    for side, name in enumerate(("left", "right")):
        m = next(i for i, o in enumerate(romeo.robot.config.orientations) if o.segment == f"{name}_foot")
        foot_yaw = _yaw(targets.rotations[:, m] @ romeo.robot.calibration.orientation_offsets[m].T)
        low, high = romeo.robot.calibration.foot_yaw_ranges[side]
        assert contacts.segments[side]
        for first, last in contacts.segments[side]:
            held = foot_yaw[first:last + 1]
            assert np.ptp(held) < 1e-9  # one heading for the whole contact
            pelvis = np.angle(np.exp(1j * pelvis_yaw[first:last + 1]).mean())
            turn = np.angle(np.exp(1j * (held[0] - pelvis)))
            assert low - np.radians(0.5) <= turn <= high + np.radians(0.5)  # (a mean of angles, not of turns)
        toes = joints[:, J[f"{name}_foot"]] - joints[:, J[f"{name}_ankle"]]
        human_turn.append(np.abs(np.angle(np.exp(1j * (np.arctan2(toes[:, 1], toes[:, 0]) - pelvis_yaw)))).max())
    assert max(human_turn) > np.radians(25.0)


def test_hands_above_head_is_validated(tmp_path):
    import yaml

    from retargeting.errors import RetargetError
    from retargeting.robot_config import HandsAboveHead, load_robot_config
    import retargeting

    assert load_robot_config("g1").hands_above_head == HandsAboveHead()
    document = yaml.safe_load((Path(retargeting.__file__).parent / "robots" / "g1.yaml").read_text())
    path = tmp_path / "robot.yaml"
    document["hands_above_head"] = None
    path.write_text(yaml.safe_dump(document))
    assert load_robot_config(path).hands_above_head is None
    document["hands_above_head"] = {"margin": 0.05}
    path.write_text(yaml.safe_dump(document))
    assert load_robot_config(path).hands_above_head == HandsAboveHead(margin=0.05)
    for bad, message in (({"margin": -0.1}, "margin >= 0"), ({"release": 2}, r"in \[0, 1\]"), ({"lead": 3}, "lead in"),
                         ({"lift": 1}, "null or a mapping"), ({"band": "high"}, "must be numbers"), (3, "mapping")):
        document["hands_above_head"] = bad
        path.write_text(yaml.safe_dump(document))
        with pytest.raises(RetargetError, match=message):
            load_robot_config(path)


def test_raise_arms_forward_is_validated(tmp_path):
    import yaml

    from retargeting.errors import RetargetError
    from retargeting.robot_config import RaiseArmsForward, load_robot_config
    import retargeting

    document = yaml.safe_load((Path(retargeting.__file__).parent / "robots" / "romeo.yaml").read_text())
    assert load_robot_config("romeo").raise_arms_forward == RaiseArmsForward(30.0, 80.0, lead=0.0)
    for bad, message in (({"from_deg": 90, "to_deg": 60}, "0 <= from_deg < to_deg <= 180"),
                         ({"from": 60}, "a mapping with from_deg, to_deg"),
                         ({"from_deg": 30, "to_deg": 80, "lead": -0.5}, r"lead must be in \[0, 2.0\]"),
                         ({"from_deg": 30, "to_deg": 80, "lead": "soon"}, "must be numbers")):
        document["raise_arms_forward"] = bad
        path = tmp_path / "robot.yaml"
        path.write_text(yaml.safe_dump(document))
        with pytest.raises(RetargetError, match=message):
            load_robot_config(path)


def test_a_heel_kicked_up_behind_is_a_foot_pitched_past_the_vertical_not_a_leg_turned_around(g1):
    """Real Bandai Namco mocap (CC BY-NC 4.0, see the fixture's LICENSE): a dash. After toe-off the heel kicks up
    behind and the ankle-to-toe vector points backwards, near the horizontal. Read as the foot's heading, that is
    a foot turned 180 degrees, and G1's hip yaw followed it to its limit mid-stride (test_hard_clips). The swinging
    foot's target keeps the pelvis's left-right axis and is pitched past the vertical, its toe behind."""
    from tests.retargeting.test_evaluation import BANDAI_FIXTURES, take_joints

    settings = g1.settings
    joints = clean_motion(take_joints(BANDAI_FIXTURES / "dataset-1_dash_active_001.bvh"), "dash",
                          settings.frame_checks).joints
    contacts = detect_contacts(joints, FPS, settings.contacts)
    targets = build_targets(g1.robot, joints, contacts, settings.contact_blend_frames)
    pelvis = targets.pelvis_rotations
    J = JOINT_INDEX
    kicks = 0
    for side, name in enumerate(("left", "right")):
        m = next(i for i, o in enumerate(g1.robot.config.orientations) if o.segment == f"{name}_foot")
        foot = targets.rotations[:, m] @ g1.robot.calibration.orientation_offsets[m].T
        toes = joints[:, J[f"{name}_foot"]] - joints[:, J[f"{name}_ankle"]]
        heading = np.angle(np.exp(1j * (np.arctan2(toes[:, 1], toes[:, 0]) - _yaw(pelvis))))
        elevation = np.arctan2(toes[:, 2], np.linalg.norm(toes[:, :2], axis=-1))
        kicked = ((targets.contact_blend[:, side] == 0.0) & (pelvis[:, 2, 2] > 0.95)
                  & (np.abs(heading) > np.radians(120.0)) & (np.abs(elevation) < np.radians(30.0)))
        kicks += kicked.sum()
        lateral = np.einsum("ti,ti->t", foot[kicked, :, 1], pelvis[kicked, :, 1])
        forward = np.einsum("ti,ti->t", foot[kicked, :, 0], pelvis[kicked, :, 0])
        assert (lateral > 0.9).all(), np.round(lateral, 2)  # turned around, it was about -1
        assert (forward < 0.0).all(), np.round(forward, 2)  # the toe behind the ankle
    assert kicks >= 4
