import numpy as np
import pytest

from motiongpt_node.joint_limits import JointLimits, JointLimitsError
from tests.motiongpt_node.conftest import g1_urdf_path


def test_g1_limits_read_from_urdf(g1_limits):
    assert len(g1_limits.joint_names) == 29
    i = g1_limits.joint_names.index("left_knee_joint")
    assert g1_limits.lower[i] == pytest.approx(-0.087267)
    assert g1_limits.upper[i] == pytest.approx(2.8798)
    assert g1_limits.velocity[i] == pytest.approx(20.0)
    assert np.all(g1_limits.lower < g1_limits.upper)


def test_selected_joints_keep_the_requested_order():
    limits = JointLimits.from_urdf(g1_urdf_path(), ["waist_yaw_joint", "left_elbow_joint"])
    assert limits.joint_names == ("waist_yaw_joint", "left_elbow_joint")
    assert limits.upper[1] == pytest.approx(2.0944)


def test_velocity_cap_lowers_only_larger_limits(g1_limits):
    capped = g1_limits.with_velocity_cap(3.0)
    assert np.all(capped.velocity == 3.0)
    with pytest.raises(JointLimitsError):
        g1_limits.with_velocity_cap(0.0)


def test_missing_file_and_unknown_joint_and_bad_xml(tmp_path):
    with pytest.raises(JointLimitsError, match="not found"):
        JointLimits.from_urdf(tmp_path / "nope.urdf")
    with pytest.raises(JointLimitsError, match="no movable joints named"):
        JointLimits.from_urdf(g1_urdf_path(), ["left_knee_joint", "tail_joint"])
    broken = tmp_path / "broken.urdf"
    broken.write_text("<robot name='x'><joint")
    with pytest.raises(JointLimitsError, match="not valid XML"):
        JointLimits.from_urdf(broken)
    no_limit = tmp_path / "nolimit.urdf"
    no_limit.write_text("<robot name='x'><joint name='j' type='revolute'/></robot>")
    with pytest.raises(JointLimitsError, match="has no <limit"):
        JointLimits.from_urdf(no_limit)


@pytest.mark.parametrize("robot", ["g1", "talos", "romeo"])
def test_the_node_and_the_retargeter_use_the_same_limits(robot):
    from retargeting.robot_config import load_robot_config
    from retargeting.robot_model import RobotModel

    limits = JointLimits.for_robot(robot)
    model = RobotModel(load_robot_config(robot))
    for name, lower, upper, velocity in zip(model.joint_names, model.lower, model.upper, model.velocity_limits):
        i = limits.joint_names.index(name)
        assert (limits.lower[i], limits.upper[i]) == pytest.approx((lower, upper))
        assert limits.velocity[i] == pytest.approx(velocity)
    if robot == "g1":  # the YAML's cap applies to the node too, without copying it into the node's parameters
        assert limits.velocity.max() == pytest.approx(9.42)
    # the robot config's acceleration cap, on every joint
    assert np.all(limits.acceleration == load_robot_config(robot).max_joint_acceleration)


def test_acceleration_limits_come_from_the_robot_config_not_the_urdf(g1_limits):
    assert np.all(np.isinf(g1_limits.acceleration))  # a URDF has no acceleration limits
    robot = JointLimits.for_robot("g1")
    assert np.all(robot.acceleration == 120.0)
    capped = robot.with_acceleration_cap(50.0)
    assert np.all(capped.acceleration == 50.0) and np.all(capped.velocity == robot.velocity)
    assert np.all(robot.with_acceleration_cap(500.0).acceleration == 120.0)  # a cap only lowers
    with pytest.raises(JointLimitsError, match="acceleration cap must be positive"):
        robot.with_acceleration_cap(0.0)
    with pytest.raises(JointLimitsError, match="acceleration limit must be positive"):
        JointLimits(("a",), np.zeros(1), np.ones(1), np.ones(1), np.zeros(1))
