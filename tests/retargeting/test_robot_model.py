"""The robot model (`retargeting.robot_model.RobotModel`): the reduced Pinocchio model, the task frames added
to it, limits, rest posture and posture weights. Loading errors are in test_robot_config.py."""
from __future__ import annotations

import numpy as np
import pinocchio as pin
import pytest
import yaml

from retargeting import RetargetError, load_robot_config
from retargeting.robot_config import ROBOTS_DIR
from retargeting.robot_model import RobotModel
from tests.retargeting.conftest import write_robot_yaml


@pytest.fixture(scope="module")
def g1() -> RobotModel:
    return RobotModel(load_robot_config("g1"))


def test_keypoint_frames_sit_at_their_offsets_on_their_links(g1):
    q = pin.neutral(g1.model)
    pin.framesForwardKinematics(g1.model, g1.data, q)
    for k, frame_id in zip(g1.config.keypoints, g1.keypoint_frame_ids):
        link = g1.data.oMf[g1.model.getFrameId(k.frame)]
        expected = link.act(np.asarray(k.offset, dtype=float))
        np.testing.assert_allclose(g1.data.oMf[frame_id].translation, expected, atol=1e-12)
    assert len(g1.sole_frame_ids) == 2 and len(g1.orientation_frame_ids) == len(g1.config.orientations)


def test_limits_rest_posture_and_self_collision_pairs(g1):
    assert g1.model.nq == 7 + g1.nj
    assert np.all(g1.lower < g1.upper) and np.all(np.isfinite(g1.lower))
    assert np.all((g1.lower <= g1.rest_posture) & (g1.rest_posture <= g1.upper))
    assert g1.capsule_pairs is not None and len(g1.capsule_pairs.pairs) > 0
    assert g1.sole_corners_local.shape == (2, 4, 3)


@pytest.mark.parametrize("robot, joints", [("romeo", ("LHipYaw", "RHipYaw")),
                                           ("talos", ("leg_left_1_joint", "leg_right_1_joint"))])
def test_each_foot_turns_as_far_as_its_hip_yaw_joint(robot, joints):
    """The feet's yaw range about the pelvis is read off the URDF: the limits of the one leg joint whose axis is
    vertical at calibration (Romeo: +-15 degrees; Talos: 20 degrees inwards, 90 outwards)."""
    model = RobotModel(load_robot_config(robot))
    for side, name in enumerate(joints):
        j = model.joint_names.index(name)
        limits = np.array([model.lower[j], model.upper[j]])
        np.testing.assert_allclose(model.calibration.foot_yaw_ranges[side], limits, atol=1e-9)
    left, right = model.calibration.foot_yaw_ranges
    np.testing.assert_allclose(left, -right[::-1], atol=1e-9)  # mirrored legs
    if robot == "talos":  # toes turn out (left: positive yaw) further than in
        assert left[1] > 4 * -left[0] > 0



def test_posture_weights_and_locked_joints_are_checked(tmp_path):
    data = yaml.safe_load((ROBOTS_DIR / "g1.yaml").read_text())
    weights = RobotModel(load_robot_config(write_robot_yaml(tmp_path, dict(data, posture_weights={".*_knee_joint": 7.5}))))
    knees = [i for i, n in enumerate(weights.joint_names) if n.endswith("_knee_joint")]
    assert len(knees) == 2 and np.all(weights.posture_weights[knees] == 7.5)
    with pytest.raises(RetargetError, match="matches no joint"):
        RobotModel(load_robot_config(write_robot_yaml(tmp_path, dict(data, posture_weights={"tail_.*": 1.0}))))
    with pytest.raises(RetargetError, match="is not a regex"):
        RobotModel(load_robot_config(write_robot_yaml(tmp_path, dict(data, posture_weights={"(": 1.0}))))
    with pytest.raises(RetargetError, match="outside its limits"):
        RobotModel(load_robot_config(write_robot_yaml(tmp_path, dict(data, locked_joints={"waist_yaw_joint": 9.0}))))
    locked = RobotModel(load_robot_config(write_robot_yaml(tmp_path, dict(data, locked_joints={"waist_yaw_joint": 0.1}))))
    assert locked.nj == 28 and "waist_yaw_joint" not in locked.joint_names
