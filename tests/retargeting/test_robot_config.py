import pytest
import yaml

from retargeting import RetargetError, available_robots, load_robot_config
from retargeting.robot_config import ROBOTS_DIR
from retargeting.robot_model import RobotModel
from tests.retargeting.conftest import write_robot_yaml


def test_shipped_robots_load_with_their_urdf_joints():
    assert {"g1", "talos", "romeo"} <= set(available_robots())
    g1 = RobotModel(load_robot_config("g1"))
    assert g1.nj == 29 and g1.joint_names[0] == "left_hip_pitch_joint"
    talos = RobotModel(load_robot_config("talos"))
    assert talos.nj == 32 - 4  # grippers and head locked
    assert "gripper_left_joint" not in talos.joint_names
    romeo = RobotModel(load_robot_config(ROBOTS_DIR / "romeo.yaml"))
    assert romeo.nj == 31 - 4
    for model in (g1, talos, romeo):
        assert (model.lower <= model.rest_posture).all() and (model.rest_posture <= model.upper).all()
        assert (model.velocity_limits > 0).all()


def test_velocity_cap_and_urdf_limits():
    g1 = RobotModel(load_robot_config("g1"))
    assert g1.velocity_limits.max() == pytest.approx(9.42)  # the YAML cap below the URDF's 20-37 rad/s
    talos = RobotModel(load_robot_config("talos"))
    i = talos.joint_names.index("arm_left_6_joint")
    assert talos.velocity_limits[i] == pytest.approx(1.76)  # from the URDF, below the cap


def test_errors_name_the_file_and_the_problem(tmp_path):
    data = yaml.safe_load((ROBOTS_DIR / "g1.yaml").read_text())
    with pytest.raises(RetargetError, match="unknown robot 'nao'"):
        load_robot_config("nao")
    broken = dict(data)
    del broken["feet"]
    with pytest.raises(RetargetError, match=r"robot.yaml: missing required key 'feet'"):
        load_robot_config(write_robot_yaml(tmp_path, broken))
    bad_frame = dict(data, keypoints=[dict(data["keypoints"][0], frame="no_such_link")] + data["keypoints"][1:])
    with pytest.raises(RetargetError, match="frame 'no_such_link' is not in g1_29dof"):
        RobotModel(load_robot_config(write_robot_yaml(tmp_path, bad_frame)))
    bad_joint = dict(data, locked_joints={"no_such_joint": 0.0})
    with pytest.raises(RetargetError, match="joint 'no_such_joint'"):
        RobotModel(load_robot_config(write_robot_yaml(tmp_path, bad_joint)))
    for value in (0, -50.0, float("nan")):
        with pytest.raises(RetargetError, match="robot.yaml: max_joint_acceleration must be positive"):
            load_robot_config(write_robot_yaml(tmp_path, dict(data, max_joint_acceleration=value)))
    with pytest.raises(RetargetError, match="robot.yaml: max_joint_acceleration must be a number"):
        load_robot_config(write_robot_yaml(tmp_path, dict(data, max_joint_acceleration="fast")))
    no_cap = dict(data)
    del no_cap["max_joint_acceleration"]
    assert load_robot_config(write_robot_yaml(tmp_path, no_cap)).max_joint_acceleration is None
    missing_urdf = dict(data, urdf="does/not/exist.urdf")
    with pytest.raises(RetargetError, match="URDF file not found"):
        load_robot_config(write_robot_yaml(tmp_path, missing_urdf)).urdf_path()
    with pytest.raises(RetargetError, match=r"robot.yaml: unknown keys \['max_joint_acceleraton'\]"):
        load_robot_config(write_robot_yaml(tmp_path, dict(data, max_joint_acceleraton=50.0)))  # misspelt
    misspelt_item = [dict(data["orientations"][0], wieght=2.0)] + data["orientations"][1:]
    with pytest.raises(RetargetError, match=r"unknown keys \['wieght'\] in an orientation"):
        load_robot_config(write_robot_yaml(tmp_path, dict(data, orientations=misspelt_item)))
    for share in (-0.1, 1.5, "low", True):
        shares = [dict(o, yaw_share=share) if o["segment"] == "left_foot" else o for o in data["orientations"]]
        with pytest.raises(RetargetError, match="yaw_share of orientation left_foot must be a number from 0 to 1"):
            load_robot_config(write_robot_yaml(tmp_path, dict(data, orientations=shares)))
    (tmp_path / "bad.yaml").write_text("name: [unclosed")
    with pytest.raises(RetargetError, match="bad.yaml: not valid YAML"):
        load_robot_config(tmp_path / "bad.yaml")
