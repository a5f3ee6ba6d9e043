import numpy as np
import pytest

from motiongpt_node.executed_motion import robot_motion_from_trajectory


@pytest.fixture(scope="module")
def robot():
    from retargeting.robot_config import load_robot_config
    from retargeting.robot_model import RobotModel

    return RobotModel(load_robot_config("g1"))


def test_base_is_interpolated_and_held_at_the_ends(robot):
    names = list(robot.joint_names)[::-1]  # any column order
    times = np.array([0.0, 0.5, 1.0, 1.5])
    positions = np.tile(np.arange(len(names), dtype=float)[None, :] * 0.01, (4, 1))
    base_times = np.array([0.5, 1.0])
    base = np.array([[0.0, 0.0, 0.7], [0.2, 0.0, 0.7]])
    quats = np.array([[0, 0, 0, 2.0], [0, 0, 0, 1.0]])
    motion = robot_motion_from_trajectory(robot, names, times, positions, base_times, base, quats)
    assert motion.joint_names == list(robot.joint_names)
    np.testing.assert_allclose(motion.positions[0], positions[0][[names.index(n) for n in robot.joint_names]])
    np.testing.assert_allclose(motion.base_positions[:, 0], [0.0, 0.0, 0.2, 0.2])  # held before and after
    np.testing.assert_allclose(np.linalg.norm(motion.base_orientations, axis=1), 1.0)
    assert motion.contacts.shape == (4, 2) and not motion.contacts.any()


def test_missing_joints_or_empty_path_are_refused(robot):
    from retargeting.errors import RetargetError

    names = list(robot.joint_names)
    with pytest.raises(RetargetError, match="lacks robot joints"):
        robot_motion_from_trajectory(robot, names[1:], np.arange(2.0), np.zeros((2, len(names) - 1)),
                                     np.arange(2.0), np.zeros((2, 3)), np.tile([0, 0, 0, 1.0], (2, 1)))
    with pytest.raises(RetargetError, match="empty base path"):
        robot_motion_from_trajectory(robot, names, np.arange(2.0), np.zeros((2, len(names))),
                                     np.zeros(0), np.zeros((0, 3)), np.zeros((0, 4)))


def test_during_the_transition_the_robot_stands_on_its_feet(robot):
    """Before the base path starts, the base keeps the first pose's position and heading, at the height that
    puts the lowest sole corner on the floor with the joints of that moment (the first base pose, 0.5 m high,
    would put the start posture's feet 0.2-0.3 m through the floor)."""
    names = list(robot.joint_names)
    times = np.array([0.0, 0.25, 0.5, 1.0])
    positions = np.zeros((4, len(names)))
    knees = [i for i, n in enumerate(names) if "knee" in n]
    positions[2:, knees] = 0.6  # the motion's first pose bends the knees
    base_times = np.array([0.5, 1.0])
    base = np.array([[0.1, 0.2, 0.5], [0.3, 0.2, 0.5]])
    quats = np.tile([0, 0, 0, 1.0], (2, 1))
    motion = robot_motion_from_trajectory(robot, names, times, positions, base_times, base, quats)
    for t in (0, 1):
        q = robot.configuration(motion.base_positions[t], np.eye(3), motion.positions[t])
        assert robot.sole_points(q)[:, :, 2].min() == pytest.approx(0.0, abs=1e-9)
        np.testing.assert_allclose(motion.base_positions[t, :2], [0.1, 0.2])
    assert motion.base_positions[0, 2] > 0.7  # straight legs: the G1 pelvis stands about 0.78 m high
    np.testing.assert_allclose(motion.base_positions[2:], base)  # from the first base pose on, the path itself
