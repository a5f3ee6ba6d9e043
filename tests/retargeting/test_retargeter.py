"""The whole retargeter on real human motion (HumanML3D clip 012314): the safety contract and the feet."""
import numpy as np
import pytest

from retargeting import RetargetError, RobotMotion, RetargetSettings, Retargeter
from retargeting import metrics


def test_output_contract_and_limits(g1_retargeter, g1_motion, walking_clip):
    robot = g1_retargeter.robot
    motion = g1_motion
    T = len(walking_clip)
    assert motion.joint_names == robot.joint_names and len(motion.joint_names) == 29
    assert motion.positions.shape == (T, 29) and motion.velocities.shape == (T, 29)
    assert motion.base_positions.shape == (T, 3) and motion.base_orientations.shape == (T, 4)
    np.testing.assert_allclose(np.linalg.norm(motion.base_orientations, axis=1), 1.0, atol=1e-9)
    assert (np.diff(motion.times) > 0).all()
    assert (motion.positions >= robot.lower).all() and (motion.positions <= robot.upper).all()
    assert (np.abs(motion.velocities) <= robot.velocity_limits * (1 + 1e-6)).all()
    interval = np.abs(np.diff(motion.positions, axis=0)) / np.diff(motion.times)[:, None]
    assert (interval <= robot.velocity_limits * (1 + 1e-6)).all()
    assert motion.report["limits"] == {"position_limit_violations": 0, "velocity_limit_violations": 0}
    # The robot follows the scaled human: a few centimetres on average.
    assert motion.report["keypoint_error_cm"]["mean"] < 8.0


def test_feet_planted_flat_without_sliding_or_floating(g1_retargeter, g1_motion):
    robot = g1_retargeter.robot
    q = metrics.configurations(robot, g1_motion.base_positions, g1_motion.base_orientations, g1_motion.positions)
    feet = metrics.foot_measures(robot, q, g1_motion.contacts)
    assert feet["contact_frames"] > 40
    assert feet["foot_sliding_cm_per_contact_frame"] < 1.0
    assert feet["contact_float_mean_cm"] < 1.0
    assert feet["penetration_mean_cm"] < 0.5


def test_heading_follows_the_human(g1_motion, walking_clip):
    """Human Y-up +Z facing becomes -Y in the robot's Z-up world; the robot walks where the human walks."""
    human_step = walking_clip[-1, 0] - walking_clip[0, 0]
    robot_step = g1_motion.base_positions[-1] - g1_motion.base_positions[0]
    human_in_robot_world = np.array([human_step[0], -human_step[2]])
    cosine = robot_step[:2] @ human_in_robot_world / np.linalg.norm(robot_step[:2]) / np.linalg.norm(human_in_robot_world)
    assert cosine > 0.95


def test_bad_frames_are_reported_not_propagated(g1_retargeter, walking_clip):
    joints = walking_clip[:30].copy()
    joints[12, 3] = np.nan
    joints[20, :, 0] = 1e9
    motion = g1_retargeter.retarget(joints, source="broken.npy")
    assert motion.report["bad_frames"] == [12, 20]
    assert np.isfinite(motion.positions).all() and np.isfinite(motion.base_positions).all()
    with pytest.raises(RetargetError, match="broken.npy: fps must be a positive number"):
        g1_retargeter.retarget(joints, fps=float("nan"), source="broken.npy")


def test_blends_in_from_the_current_posture(g1_retargeter, walking_clip):
    robot = g1_retargeter.robot
    start = np.clip(robot.rest_posture + 0.5, robot.lower, robot.upper)
    motion = g1_retargeter.retarget(walking_clip[:20], start_positions=start)
    blend = motion.report["start_blend_frames"]
    assert blend >= 20  # at least the default second at 20 fps
    np.testing.assert_allclose(motion.positions[0], start)
    assert np.abs(motion.velocities[0]).max() == 0.0
    assert (np.abs(np.diff(motion.positions, axis=0)) / np.diff(motion.times)[:, None] <= robot.velocity_limits * (1 + 1e-6)).all()
    with pytest.raises(RetargetError, match=r"start position of left_ankle_roll_joint \(10.000\) is outside its limits"):
        g1_retargeter.retarget(walking_clip[:20], start_positions=np.full(robot.nj, 10.0))
    with pytest.raises(RetargetError, match="start_positions must have 29 values"):
        g1_retargeter.retarget(walking_clip[:20], start_positions=np.zeros(3))


def test_clip_mode_keeps_the_timing(walking_clip):
    retargeter = Retargeter.from_robot("g1", RetargetSettings(velocity_mode="clip"))
    motion = retargeter.retarget(walking_clip[:40])
    np.testing.assert_allclose(motion.times, np.arange(40) / 20.0)
    assert motion.report["velocity"]["mode"] == "clip"
    assert motion.report["limits"]["velocity_limit_violations"] == 0


def test_talos_retargets_within_its_slower_limits(walking_clip):
    retargeter = Retargeter.from_robot("talos")
    motion = retargeter.retarget(walking_clip[:40])
    robot = retargeter.robot
    assert (motion.positions >= robot.lower).all() and (motion.positions <= robot.upper).all()
    assert motion.report["limits"]["velocity_limit_violations"] == 0
    assert motion.report["keypoint_error_cm"]["mean"] < 10.0


def test_solved_within_the_velocity_and_acceleration_limits_given():
    """A caller that publishes under lower limits than the robot's (the ROS node: its velocity_scale of the
    velocity limits, the robot config's acceleration cap) gives them, and a real Bandai Namco walk (CC BY-NC 4.0,
    see the fixtures' LICENSE) keeps them on its time: the node's shaping then has nothing to slow down. Without
    them it asks more of some joint than the acceleration given. Limits that are not positive, or of the wrong
    size, are refused."""
    from tests.retargeting.test_evaluation import BANDAI_FIXTURES, take_joints

    walk = take_joints(BANDAI_FIXTURES / "dataset-2_walk_active_013.bvh")
    retargeter = Retargeter.from_robot("g1", RetargetSettings(velocity_mode="none"))
    robot = retargeter.robot

    def step_changes(motion):
        q = motion.positions
        return np.abs(q[2:] - 2 * q[1:-1] + q[:-2]) * 20.0 ** 2

    own = retargeter.retarget(walk, fps=20.0)
    velocity, acceleration = 0.8 * robot.velocity_limits, np.full(robot.nj, 80.0)
    slow = retargeter.retarget(walk, fps=20.0, velocity_limits=velocity, acceleration_limits=acceleration)
    np.testing.assert_allclose(slow.times, own.times)  # the time is kept
    assert (np.abs(np.diff(slow.positions, axis=0)) * 20.0 <= velocity * (1 + 1e-6)).all()
    # within 2%: the fit's projections approach a bound from outside; what they leave the shaping slows down
    assert (step_changes(slow) <= acceleration * 1.02).all()
    assert (step_changes(own) > 80.0 * 1.5).any()
    for bad in (np.zeros(robot.nj), np.full(robot.nj - 1, 1.0), np.full(robot.nj, np.nan)):
        with pytest.raises(RetargetError, match="acceleration limits must be"):
            retargeter.retarget(walk[:20], fps=20.0, acceleration_limits=bad)


def test_file_round_trip_and_corrupt_files(g1_motion, tmp_path):
    path = g1_motion.save(tmp_path / "motion.npz")
    loaded = RobotMotion.load(path)
    assert loaded.joint_names == g1_motion.joint_names
    np.testing.assert_array_equal(loaded.positions, g1_motion.positions)
    np.testing.assert_array_equal(loaded.base_orientations, g1_motion.base_orientations)
    assert loaded.report["limits"] == g1_motion.report["limits"]
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(RetargetError, match="junk.npz: not a readable"):
        RobotMotion.load(tmp_path / "junk.npz")
    np.savez(tmp_path / "partial.npz", format=np.array("motiongpt-robot-motion"), times=np.zeros(3))
    with pytest.raises(RetargetError, match="partial.npz: robot motion file lacks"):
        RobotMotion.load(tmp_path / "partial.npz")
    with pytest.raises(RetargetError, match="not found"):
        RobotMotion.load(tmp_path / "missing.npz")


def test_a_robot_added_with_only_a_yaml_file(walking_clip):
    """Romeo ships as retargeting/robots/romeo.yaml and nothing else."""
    retargeter = Retargeter.from_robot("romeo")
    motion = retargeter.retarget(walking_clip[:30])
    robot = retargeter.robot
    assert motion.joint_names[0] == "LHipYaw"
    assert (motion.positions >= robot.lower).all() and (motion.positions <= robot.upper).all()
    assert motion.report["limits"]["velocity_limit_violations"] == 0
    assert np.isfinite(motion.base_positions).all()


def test_clearance_keeps_hands_beside_the_hips(g1_retargeter, walking_clip):
    """Hand targets closer to the body than the YAML's clearance are pushed out, in the torso frame."""
    from retargeting.contacts import detect_contacts
    from retargeting.human_motion import clean_motion
    from retargeting.targets import build_targets

    robot = g1_retargeter.robot
    joints = clean_motion(walking_clip[:20]).joints
    joints[:, 20, :2] = joints[:, 0, :2]  # left wrist pulled onto the body's mid-line
    targets = build_targets(robot, joints, detect_contacts(joints, 20.0))
    slots = {k.smpl: i for i, k in enumerate(robot.config.keypoints)}
    hips = targets.positions[:, slots["left_hip"]] - targets.positions[:, slots["right_hip"]]
    hips /= np.linalg.norm(hips, axis=1, keepdims=True)
    lateral = np.einsum("tj,tj->t", targets.positions[:, slots["left_wrist"]] - targets.positions[:, slots["spine3"]], hips)
    # Placed on the mid-line (about 0 without clearance); pushed 0.22 m out in the torso frame, which is
    # yawed against the hips, so at least 0.1 m along the hip axis.
    assert (lateral > 0.1).all()


def test_no_sole_below_the_floor_in_any_frame_start_blend_included(g1_retargeter, walking_clip):
    """The start blend moves from a straight-legged state to the first pose under the first frame's base, and
    the IK may leave a planted sole a little under its target: every output frame stands on or above the floor
    (a sole under it is pushed up by the ground with the robot's weight; driven in MuJoCo it rolled the pelvis
    under the torso, issue 15 item 8)."""
    import pinocchio as pin

    robot = g1_retargeter.robot
    start = np.clip(np.zeros(robot.nj), robot.lower, robot.upper)  # straight legs, arms down
    motion = g1_retargeter.retarget(walking_clip[:40], fps=20.0, start_positions=start, source="walk")
    assert motion.report["start_blend_frames"] > 0
    lowest = [robot.sole_points(robot.configuration(motion.base_positions[t],
                                                    pin.Quaternion(motion.base_orientations[t]).toRotationMatrix(),
                                                    motion.positions[t]))[:, :, 2].min()
              for t in range(motion.num_frames)]
    assert min(lowest) >= -1e-6
    # straight legs under the first pose's lower base: the blend put the feet up to 12 cm through the floor
    assert motion.report["raised_off_the_floor"]["max_cm"] > 5.0
