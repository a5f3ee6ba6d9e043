"""Self-collision avoidance: capsule geometry, the distance gradient the IK uses, the YAML schema, and
retargeted motions that keep hands out of the body where the plain IK puts them in."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pinocchio as pin
import pytest
import yaml

from retargeting import Retargeter
from retargeting.errors import RetargetError
from retargeting.robot_config import SelfCollisionSpec, config_from_dict, load_robot_config
from retargeting.robot_model import RobotModel
from retargeting.self_collision import segment_closest_parameters


def test_closest_points_match_a_dense_search():
    rng = np.random.default_rng(0)
    segments = rng.normal(size=(4, 60, 3))
    segments[1, ::7] = segments[0, ::7]    # some first segments are points
    segments[3, ::11] = segments[2, ::11]  # some second segments are points
    segments[3, 5] = segments[2, 5] + 2 * (segments[1, 5] - segments[0, 5])  # parallel
    s, t = segment_closest_parameters(*segments)
    grid = np.linspace(0.0, 1.0, 301)
    for k in range(60):
        a0, a1, b0, b1 = segments[:, k]
        found = np.linalg.norm((a0 + s[k] * (a1 - a0)) - (b0 + t[k] * (b1 - b0)))
        dense = np.linalg.norm((a0 + grid[:, None] * (a1 - a0))[:, None] - (b0 + grid[:, None] * (b1 - b0))[None], axis=-1)
        assert 0 <= s[k] <= 1 and 0 <= t[k] <= 1 and found <= dense.min() + 1e-4


@pytest.fixture(scope="module")
def g1_model() -> RobotModel:
    return RobotModel(load_robot_config("g1"))


def test_distance_gradient_matches_finite_differences(g1_model):
    robot, capsules = g1_model, g1_model.capsule_pairs
    data = robot.model.createData()
    rng = np.random.default_rng(3)
    checked = 0
    for trial in range(40):
        joints = np.clip(robot.rest_posture + rng.normal(scale=0.8, size=robot.nj), robot.lower, robot.upper)
        q = robot.configuration([0.0, 0.0, 0.8], np.eye(3), joints)
        pin.computeJointJacobians(robot.model, data, q)
        violation, gradient = capsules.active_rows(data, robot.model.nv)
        if not violation.size:
            continue
        distances = capsules.distances(data)
        active = np.flatnonzero(capsules.margin - distances > 0)
        step = 1e-6
        numeric = np.zeros_like(gradient)
        for k in range(robot.model.nv):
            dq = np.zeros(robot.model.nv)
            dq[k] = step
            pin.computeJointJacobians(robot.model, data, pin.integrate(robot.model, q, dq))
            numeric[:, k] = (capsules.distances(data)[active] - distances[active]) / step
        np.testing.assert_allclose(gradient, numeric, atol=2e-4)
        checked += 1
    assert checked >= 3  # the random postures did bring some pairs within the margin


def test_bad_self_collision_sections_are_errors():
    data = yaml.safe_load(Path(load_robot_config("g1").source).read_text())
    assert config_from_dict(data, source="<dict>").self_collision.pairs  # the shipped section parses
    for bad in ({"capsules": [{"name": "a", "frame": "pelvis", "radius": -1}]},
                {"capsules": [{"name": "a", "frame": "pelvis", "radius": 0.1}], "pairs": [["a", "b"]]},
                {"capsules": [{"name": "a", "frame": "pelvis", "radius": 0.1}], "pairs": [["a", "a"]]},
                {"capsules": [{"frame": "pelvis", "radius": 0.1}]},
                {"pairs": [], "distance": 1.0},
                "yes"):
        with pytest.raises(RetargetError, match="self_collision|capsule"):
            config_from_dict({**data, "self_collision": bad}, source="<dict>")


@pytest.mark.parametrize("name, depth", [("g1", 0.01), ("talos", 0.03)])
def test_avoidance_keeps_hands_out_of_the_torso(name, depth, walking_clip):
    """Human hands pressed on the belly: the plain IK follows them into the torso (Talos: 17 cm into its wide
    pelvis shell), the avoiding IK keeps them out to within ``depth`` (Talos: 2.1 cm measured)."""
    clip = walking_clip.copy()
    belly = clip[:, 0] + np.array([0.0, 0.12, 0.1])  # in front of the pelvis (Y up, Z forward), a bit above it
    for wrist, elbow, side in ((20, 18, 1.0), (21, 19, -1.0)):
        clip[:, wrist] = belly + np.array([side * 0.03, 0.0, 0.0])
        clip[:, elbow] = clip[:, 0] + np.array([side * 0.2, 0.2, 0.05])
    config = load_robot_config(name)
    plain = Retargeter.from_robot(dataclasses.replace(config, self_collision=SelfCollisionSpec(), clearance={}))
    avoiding = Retargeter.from_robot(dataclasses.replace(config, clearance={}))

    def closest(retargeter):
        robot = retargeter.robot
        motion = retargeter.retarget(clip, fps=20.0)
        data = avoiding.robot.model.createData()
        capsules = avoiding.robot.capsule_pairs  # the same capsules measure both
        worst = np.inf
        for t in range(motion.num_frames):
            q = robot.configuration(motion.base_positions[t], pin.Quaternion(motion.base_orientations[t]).matrix(),
                                    motion.positions[t])
            pin.forwardKinematics(avoiding.robot.model, data, q)
            worst = min(worst, float(capsules.distances(data).min()))
        return worst

    without, with_avoidance = closest(plain), closest(avoiding)
    assert without < 0.0  # the plain IK puts a hand or forearm into the body
    assert with_avoidance > without + 0.02 and with_avoidance > -depth


@pytest.mark.parametrize("name", ["g1", "talos", "romeo"])
def test_shipped_capsules_are_clear_at_the_calibration_posture(name):
    """A pair within the margin at calibration would push every standing frame away from its targets."""
    robot = RobotModel(load_robot_config(name))
    if robot.capsule_pairs is None:
        assert not robot.config.self_collision.pairs
        return
    data = robot.model.createData()
    q = robot.configuration(np.zeros(3), robot.calibration.base_rotation, robot.calibration_joints)
    pin.forwardKinematics(robot.model, data, q)
    assert robot.capsule_pairs.distances(data).min() >= robot.config.self_collision.margin


def test_fast_capsule_evaluation_matches_the_vectorised_geometry_bit_for_bit(g1_model):
    """`CapsulePairs.evaluate` (bounding-sphere skip, near pairs in Python floats) gives the same violations,
    cost and active pairs as the vectorised `_compute_geometry`, to the last bit; so do the scalar closest
    points on random, degenerate and parallel segments."""
    from retargeting.self_collision import _closest

    rng = np.random.default_rng(5)
    segments = rng.normal(size=(4, 400, 3))
    segments[1, ::7] = segments[0, ::7]
    segments[3, ::11] = segments[2, ::11]
    segments[3, 5] = segments[2, 5] + 2 * (segments[1, 5] - segments[0, 5])
    s, t = segment_closest_parameters(*segments)
    for k in range(segments.shape[1]):
        found = _closest(*(segments[i, k].tolist() for i in range(4)))
        assert found[0] == s[k] and found[1] == t[k]
    robot, capsules = g1_model, g1_model.capsule_pairs
    data = robot.model.createData()
    active_seen = 0
    for _ in range(200):
        joints = np.clip(robot.rest_posture + rng.normal(scale=0.8, size=robot.nj), robot.lower, robot.upper)
        pin.computeJointJacobians(robot.model, data, robot.configuration([0.0, 0.0, 0.8], np.eye(3), joints))
        state = capsules.evaluate(data)
        ends = np.array([pin.updateFramePlacement(robot.model, data, f).translation for f in capsules.end_frame_list])
        given = capsules.evaluate(data, ends=ends)  # the solver passes the ends it has read
        assert np.array_equal(given.violation, state.violation) and given.active == state.active
        s, t, difference, length, distance = capsules._compute_geometry(data)
        violation = np.maximum(0.0, capsules.margin - distance)
        assert np.array_equal(state.violation, violation)
        assert state.cost == capsules.weight * float(violation @ violation)
        active = np.flatnonzero((capsules.margin - distance > 0.0) & (length > 1e-9))
        assert [row[0] for row in state.active] == active.tolist()
        for k, s_k, t_k, difference_k, length_k, excess in state.active:
            assert (s_k, t_k, length_k, excess) == (s[k], t[k], length[k], capsules.margin - distance[k])
            assert np.array_equal(np.array(difference_k), difference[k])
        active_seen += len(active)
    assert active_seen > 0


def test_capsule_pairs_skipped_between_nearby_configurations_are_beyond_the_margin(g1_model):
    """Along a slow joint path (as between solver iterations and frames) most pairs are skipped on their last
    distance and how far their ends moved since; the violations, cost and active pairs stay exactly those of
    the full vectorised geometry, including when the path brings a hand into the torso."""
    import retargeting.self_collision as self_collision

    robot, capsules = g1_model, g1_model.capsule_pairs
    data = robot.model.createData()
    rng = np.random.default_rng(11)
    closest = self_collision._closest
    calls = {"count": 0}

    def counted(*points):
        calls["count"] += 1
        return closest(*points)

    joints = robot.rest_posture.copy()
    elbow = [i for i, name in enumerate(robot.joint_names) if name == "right_elbow_joint"]
    active_seen = 0
    self_collision._closest = counted
    try:
        for step in range(300):
            joints = np.clip(joints + rng.normal(scale=0.02, size=robot.nj), robot.lower, robot.upper)
            joints[elbow] = np.clip(joints[elbow] + 0.02, robot.lower[elbow], robot.upper[elbow])  # the hand in
            pin.computeJointJacobians(robot.model, data, robot.configuration([0.0, 0.0, 0.8], np.eye(3), joints))
            state = capsules.evaluate(data)
            distance = capsules._compute_geometry(data)[4]
            violation = np.maximum(0.0, capsules.margin - distance)
            assert np.array_equal(state.violation, violation)
            assert [row[0] for row in state.active] == np.flatnonzero(violation > 0.0).tolist()
            active_seen += len(state.active)
    finally:
        self_collision._closest = closest
    assert calls["count"] < 0.5 * 300 * len(capsules.pairs)  # most pairs were skipped
    assert active_seen > 0


def test_g1_keeps_its_hips_out_of_its_torso_in_a_backflip():
    """DeepMimic's backflip (pybullet_data) tucks the knees to the chest: without the hip and thigh capsules kept
    off the torso, G1's hip capsules go 1.6 cm into its torso capsule (4.4 cm with the solver before 2026-12-06;
    the meshes: hip links into the pelvis and torso, and in MuJoCo the blocked hip fell 0.7 rad behind). With them
    they stay clear. (Over the 254 clips of `benchmarks/retarget_clip_table.py --as-published`, with the foot
    capsules: 7 -> 5 failing.)"""
    from motiongpt.data.deepmimic import load_joints

    config = load_robot_config("g1")
    torso_pairs = {(leg, "torso") for leg in ("left_hip", "right_hip", "left_thigh", "right_thigh")}
    assert torso_pairs <= {tuple(pair) for pair in config.self_collision.pairs}
    without = dataclasses.replace(config, self_collision=dataclasses.replace(
        config.self_collision, pairs=tuple(p for p in config.self_collision.pairs if tuple(p) not in torso_pairs)))
    measuring = RobotModel(config)  # every shipped pair, whichever configuration solved the motion
    rows = [k for k, pair in enumerate(config.self_collision.pairs) if tuple(pair) in torso_pairs]
    data = measuring.model.createData()
    backflip = load_joints("backflip")[:53]

    def closest(robot_config) -> float:
        motion = Retargeter.from_robot(robot_config).retarget(backflip, fps=20.0, source="backflip")
        assert motion.report["limits"] == {"position_limit_violations": 0, "velocity_limit_violations": 0}
        distances = []
        for base, rotation, joints in zip(motion.base_positions, motion.base_orientations, motion.positions):
            pin.forwardKinematics(measuring.model, data, np.concatenate([base, rotation, joints]))
            distances.append(measuring.capsule_pairs.distances(data)[rows].min())
        return min(distances)

    # the fault: -0.016 m measured (-0.044 before the box solve was exact and a retry held the pairs it reached)
    assert closest(without) < -0.01
    assert closest(config) > 0.0  # 0.006 m (0.007 before)
