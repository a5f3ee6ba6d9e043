"""MuJoCo: the same URDF tracks the retargeted trajectory with position servos."""
import dataclasses

import numpy as np
import pytest

from motiongpt.data.deepmimic import load_joints
from retargeting.mujoco_check import ServoSettings, build_model, check_motion, self_collision_frames
from retargeting.timing import joint_velocities


def test_physics_check_tracks_the_trajectory(g1_retargeter, g1_motion):
    robot = g1_retargeter.robot
    model, qpos_adr, dof_adr, sites = build_model(robot)
    assert model.nu == robot.nj and sites.shape == (2, 4)
    short = g1_motion
    report = check_motion(robot, short)
    assert report["frames"] == short.num_frames
    assert report["commanded_joint_limit_violations"] == 0
    assert report["commanded_velocity_limit_violations"] == 0
    assert report["simulated_joint_limit_violations"] == 0
    # the servos track with the trajectory's velocities as reference: no lag of kv / kp x speed
    assert report["tracking_error_rad"]["mean"] < 0.02
    assert report["passed"] == (report["failures"] == [])
    assert np.isfinite(report["penetration_max_cm"])
    worst = report["worst_tracking_joints"]
    assert len(worst) == 3 and all(w["joint"] in robot.joint_names for w in worst)
    assert worst[0]["max_error_rad"] == pytest.approx(report["tracking_error_rad"]["max"], abs=1e-3)
    assert worst[0]["max_error_rad"] >= worst[1]["max_error_rad"] >= worst[2]["max_error_rad"]
    assert report["simulated_limit_violation_joints"] == []


def test_self_collisions_are_counted(g1_retargeter, g1_motion):
    robot = g1_retargeter.robot
    clean = self_collision_frames(robot, g1_motion)
    assert 0 <= clean["self_collision_frames"] <= g1_motion.num_frames
    # Cross the arms through the torso: every frame collides.
    crossed = type(g1_motion)(**{**g1_motion.__dict__})
    crossed.positions = g1_motion.positions.copy()
    for side, sign in (("left", -1), ("right", 1)):
        crossed.positions[:, robot.joint_names.index(f"{side}_shoulder_roll_joint")] = np.clip(
            sign * 1.5, robot.lower[robot.joint_names.index(f"{side}_shoulder_roll_joint")],
            robot.upper[robot.joint_names.index(f"{side}_shoulder_roll_joint")])
    collided = self_collision_frames(robot, crossed)
    assert collided["self_collision_frames"] > clean["self_collision_frames"]
    # the pairs name the bodies that touch; an arm is among them, and no pair touches in more frames than collide
    pairs = collided["self_collision_pairs"]
    assert any(("shoulder" in key or "elbow" in key or "wrist" in key) for key in pairs)
    assert all(0 < entry["frames"] <= collided["self_collision_frames"] and entry["max_depth_cm"] >= 0
               for entry in pairs.values())


def test_walking_passes_the_check(g1_retargeter):
    """Real DeepMimic walking (pybullet_data), the kind of motion the demo sends: every servo within the
    documented bound, no limit left in simulation."""
    walk = g1_retargeter.retarget(load_joints("walk"), fps=20.0, source="walk")
    report = check_motion(g1_retargeter.robot, walk)
    assert report["passed"], report["failures"]
    assert report["tracking_error_rad"]["max"] <= ServoSettings().max_tracking_error


def test_check_fails_on_a_step_the_servos_cannot_follow(g1_retargeter):
    walk = g1_retargeter.retarget(load_joints("walk"), fps=20.0, source="walk")
    robot = g1_retargeter.robot
    j = robot.joint_names.index("left_elbow_joint")
    stepped = dataclasses.replace(walk, positions=walk.positions.copy())
    step = 1.2 if stepped.positions[13:, j].max() + 1.2 < robot.upper[j] else -1.2
    stepped.positions[13:, j] += step  # a jump of 1.2 rad between two samples 50 ms apart
    stepped.velocities = joint_velocities(stepped.positions, stepped.times)
    report = check_motion(robot, stepped)
    assert not report["passed"]
    assert report["worst_tracking_joints"][0]["joint"] == "left_elbow_joint"
    assert any("tracking error" in f and "left_elbow_joint" in f for f in report["failures"])
