"""DeepMimic clips -> SMPL joints: FK against pybullet, rigid bones, ground contact, facing, loops."""
from __future__ import annotations

import json

import numpy as np
import pytest

from motiongpt.data import deepmimic
from motiongpt.features import process_joints, joints_to_features, recover_from_ric
from motiongpt.skeleton import FACE_JOINTS, JOINT_INDEX, PARENTS

J = JOINT_INDEX


def facing_yaw(joints: np.ndarray) -> np.ndarray:
    """Unwrapped heading (radians, from +Z towards +X) of each frame."""
    r_hip, l_hip, r_sh, l_sh = FACE_JOINTS
    across = (joints[:, r_hip] - joints[:, l_hip]) + (joints[:, r_sh] - joints[:, l_sh])
    forward = np.cross([0.0, 1.0, 0.0], across)
    return np.unwrap(np.arctan2(forward[:, 0], forward[:, 2]))


def test_all_twenty_human_clips_load():
    assert len(deepmimic.CLIP_FILES) == 20
    assert not any("laikago" in path for path in deepmimic.CLIP_FILES.values())
    for name in deepmimic.CLIP_FILES:
        clip = deepmimic.load_clip(name)
        joints = deepmimic.clip_to_joints(clip)
        assert joints.shape == (int(np.floor(clip.duration * 20 + 1e-9)) + 1, 22, 3)
        assert np.all(np.isfinite(joints))


def test_forward_kinematics_matches_pybullet():
    import pybullet
    import pybullet_data

    client = pybullet.connect(pybullet.DIRECT)
    try:
        pybullet.setAdditionalSearchPath(pybullet_data.getDataPath(), physicsClientId=client)
        body = pybullet.loadURDF("humanoid/humanoid.urdf", [0, 0, 0], globalScaling=deepmimic.URDF_SCALE,
                                 physicsClientId=client)
        index = {pybullet.getJointInfo(body, i, physicsClientId=client)[1].decode(): i
                 for i in range(pybullet.getNumJoints(body, physicsClientId=client))}
        worst = 0.0
        for name, frames in (("walk", (0, 11, 30)), ("backflip", (14,)), ("cartwheel", (80,)), ("getup_faceup", (120,))):
            clip = deepmimic.load_clip(name)
            world = deepmimic.forward_kinematics(clip.root_positions, clip.quaternions)
            for k in frames:
                pybullet.resetBasePositionAndOrientation(body, clip.root_positions[k], clip.quaternions[k, 0],
                                                         physicsClientId=client)
                for j, (joint, _, kind) in enumerate(deepmimic.ROTATION_COLUMNS):
                    q = clip.quaternions[k, 1 + j]
                    if kind == "quat":
                        pybullet.resetJointStateMultiDof(body, index[joint], list(q), physicsClientId=client)
                    else:
                        pybullet.resetJointState(body, index[joint], 2.0 * np.arctan2(q[2], q[3]),
                                                 physicsClientId=client)
                for joint in deepmimic.SKELETON:
                    if joint == "root":
                        continue
                    state = pybullet.getLinkState(body, index[joint], computeForwardKinematics=True,
                                                  physicsClientId=client)
                    worst = max(worst, float(np.abs(np.array(state[4]) - world[joint][0][k]).max()))
        assert worst < 1e-5, worst
    finally:
        pybullet.disconnect(client)


def test_bone_lengths_are_constant_over_time():
    for name in ("walk", "cartwheel", "crawl", "spin"):
        joints = deepmimic.load_joints(name)
        for child, parent in enumerate(PARENTS):
            if parent < 0:
                continue
            lengths = np.linalg.norm(joints[:, child] - joints[:, parent], axis=-1)
            assert lengths.max() - lengths.min() < 1e-6, (name, child)
            assert lengths.min() > 0.02, (name, child)
    # the directly mapped bones have the URDF lengths
    joints = deepmimic.load_joints("run")
    thigh = np.linalg.norm(joints[:, J["left_knee"]] - joints[:, J["left_hip"]], axis=-1)
    forearm = np.linalg.norm(joints[:, J["right_wrist"]] - joints[:, J["right_elbow"]], axis=-1)
    np.testing.assert_allclose(thigh, 0.421546, atol=1e-9)
    np.testing.assert_allclose(forearm, 0.258947, atol=1e-9)


def test_walk_feet_touch_the_ground_and_the_body_is_upright():
    joints = deepmimic.load_joints("walk", cycles=3)
    feet = joints[:, [J["left_ankle"], J["left_foot"], J["right_ankle"], J["right_foot"]], 1]
    lowest = feet.min(axis=1)
    assert lowest.max() < 0.06          # some foot is on the ground in every frame
    assert lowest.min() > -0.02         # and never sinks into it
    assert np.all(joints[:, J["head"], 1] > joints[:, J["neck"], 1])
    assert np.all((joints[:, 0, 1] > 0.8) & (joints[:, 0, 1] < 0.95))  # pelvis height of a 1.6 m person
    assert np.all(joints[:, J["left_foot"], 1] < joints[:, J["left_knee"], 1])


def test_facing_is_plus_z_and_walk_goes_forward():
    for name in deepmimic.CLIP_FILES:
        joints = deepmimic.load_joints(name)
        assert abs(facing_yaw(joints)[0]) < 1e-6, name
        np.testing.assert_allclose(joints[0, 0, [0, 2]], 0.0, atol=1e-12)
        assert joints[0, J["left_hip"], 0] > joints[0, J["right_hip"], 0], name  # SMPL: left is +x
    walk = deepmimic.load_joints("walk", cycles=2)
    displacement = walk[-1, 0] - walk[0, 0]
    assert displacement[2] > 2.0 and abs(displacement[0]) < 0.4
    # the foot joints point forward of the ankles when standing
    assert walk[0, J["left_foot"], 2] > walk[0, J["left_ankle"], 2]


def test_turns_keep_turning_when_repeated():
    one = facing_yaw(deepmimic.load_joints("turn_left0"))[-1]
    three = deepmimic.load_joints("turn_left0", cycles=3)
    assert one > np.radians(15)                                  # turning left = towards +x
    assert facing_yaw(three)[-1] == pytest.approx(3 * one, abs=np.radians(10))
    assert facing_yaw(deepmimic.load_joints("turn_right0", cycles=2))[-1] < -np.radians(60)
    # no jump where one cycle joins the next: per-frame speed at the seams like elsewhere
    speed = np.linalg.norm(np.diff(three, axis=0), axis=-1).max(axis=1)
    assert speed.max() < 2.0 * np.percentile(speed, 90)


def test_walk_cycles_repeat_the_distance():
    one = deepmimic.load_joints("walk")
    four = deepmimic.load_joints("walk", cycles=4)
    d1 = np.linalg.norm((one[-1, 0] - one[0, 0])[[0, 2]])
    d4 = np.linalg.norm((four[-1, 0] - four[0, 0])[[0, 2]])
    assert d4 == pytest.approx(4 * d1, rel=0.05)
    assert len(four) == int(np.floor(4 * deepmimic.load_clip("walk").duration * 20 + 1e-9)) + 1


def test_speed_and_start_time():
    clip = deepmimic.load_clip("run")
    normal = deepmimic.clip_to_joints(clip)
    fast = deepmimic.clip_to_joints(clip, speed=2.0)
    assert len(fast) == (len(normal) - 1) // 2 + 1
    # frame k of the x2 motion is frame 2k of the normal one (same source time), up to the re-centring
    np.testing.assert_allclose(fast[3] - fast[3, :1], normal[6] - normal[6, :1], atol=1e-9)
    with pytest.raises(deepmimic.DeepMimicError, match="does not loop"):
        deepmimic.repeat_cycles(deepmimic.load_clip("kick"), 2)


def test_round_trip_through_features_on_the_mocap():
    worst = 0.0
    for name in deepmimic.CLIP_FILES:
        joints = deepmimic.load_joints(name)
        canonical = process_joints(joints)
        recovered = recover_from_ric(joints_to_features(joints))
        assert recovered.shape == (len(joints) - 1, 22, 3)
        worst = max(worst, float(np.abs(recovered - canonical[:-1]).max()))
    assert worst < 1e-4, worst


@pytest.mark.parametrize("content, message", [
    ("{not json", "not a DeepMimic JSON clip"),
    (json.dumps({"Loop": "wrap"}), "no 'Frames'"),
    (json.dumps({"Frames": [[0.1] * 20, [0.0] * 20]}), "expected at least 2 frames of 44"),
    (json.dumps({"Frames": [[0.1] + [float("nan")] * 43, [0.0] * 44]}), "NaN"),
    (json.dumps({"Frames": [[0.0] + [1.0] * 43, [0.0] + [1.0] * 43]}), "durations must be positive"),
])
def test_malformed_clip_files_name_the_file(tmp_path, content, message):
    path = tmp_path / "bad_clip.txt"
    path.write_text(content)
    with pytest.raises(deepmimic.DeepMimicError, match=rf"bad_clip\.txt.*{message}"):
        deepmimic.load_clip(path)


def test_missing_clip(tmp_path):
    with pytest.raises(deepmimic.DeepMimicError, match="not found"):
        deepmimic.load_clip(tmp_path / "missing.txt")
    with pytest.raises(deepmimic.DeepMimicError, match="unknown DeepMimic clip"):
        deepmimic.load_clip("moonwalk")
