"""HumanML3D features: the real sample clip, round trips, and the layout slice by slice on synthetic motions."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from motiongpt.features import (
    FEATURE_SLICES,
    FOOT_CONTACT,
    LOCAL_VEL,
    RIC,
    ROOT_HEIGHT,
    ROOT_LIN_VEL,
    ROOT_ROT_VEL,
    ROT6D,
    bone_lengths,
    facing_directions,
    headings,
    joints_to_features,
    process_joints,
    recover_from_ric,
    recover_from_ric_torch,
    retime_features,
    rotate_about_y,
)
from motiongpt.skeleton import FACE_JOINTS, FPS, KINEMATIC_CHAINS, RAW_OFFSETS, TARGET_BONE_LENGTHS
from motiongpt.validation import MotionError

# Rows of the re-encoded sample whose Gaussian window (sigma 20, radius 80 frames) never reaches the
# clip's end: see test_encoding_the_sample_joints_reproduces_its_features.
UNAFFECTED_ROWS = 90


def yawed(joints: np.ndarray, angles) -> np.ndarray:
    """Rotate every frame of a (T, 22, 3) motion about the vertical axis through the world origin."""
    return rotate_about_y(joints, np.broadcast_to(np.asarray(angles, dtype=float), joints.shape[:1])[:, None])


# --- the real HumanML3D sample clip 012314 -----------------------------------------------------------

def test_decoding_the_sample_features_reproduces_its_joints(sample_features, sample_joints):
    decoded = recover_from_ric(sample_features.astype(np.float64))
    assert decoded.shape == (170, 22, 3)
    assert np.abs(decoded - sample_joints).max() < 1e-6  # measured 2.1e-7 m
    decoded32 = recover_from_ric(sample_features)  # float32 in, float32 arithmetic, as the reference
    assert decoded32.dtype == np.float32
    assert np.abs(decoded32 - sample_joints).max() < 3e-6  # measured 1.1e-6 m


def test_torch_decoding_matches_numpy_batched_and_differentiable(sample_features, sample_joints):
    batch = torch.from_numpy(np.stack([sample_features, sample_features[::-1].copy()])).double()
    batch.requires_grad_(True)
    decoded = recover_from_ric_torch(batch)
    assert decoded.shape == (2, 170, 22, 3)
    assert np.abs(decoded[0].detach().numpy() - sample_joints).max() < 1e-6
    np.testing.assert_allclose(decoded.detach().numpy(), recover_from_ric(batch.detach().numpy()), atol=1e-12)
    decoded[..., 0].sum().backward()  # gradients flow back to the features
    assert batch.grad is not None and batch.grad.abs().sum() > 0
    decoded32 = recover_from_ric_torch(torch.from_numpy(sample_features))
    assert decoded32.dtype == torch.float32
    assert np.abs(decoded32.numpy() - sample_joints).max() < 3e-6


def test_numpy_decoding_accepts_batches(sample_features):
    batch = np.stack([sample_features[:50], sample_features[100:150]]).astype(np.float64)
    decoded = recover_from_ric(batch)
    np.testing.assert_allclose(decoded[1], recover_from_ric(batch[1]), atol=1e-12)


def test_encoding_the_sample_joints_reproduces_its_features(sample_joints, sample_features):
    encoded = joints_to_features(sample_joints)
    # The joints have 170 frames; feature row t needs frames t and t+1, so re-encoding gives 169 rows,
    # which correspond to the first 169 of the 170 reference rows (HumanML3D computed those from the
    # original 171-frame clip; its last row used frame 170, which the shipped joints do not contain).
    assert encoded.shape == (169, 263)
    reference = sample_features[:169].astype(np.float64)
    error = {name: np.abs(encoded[:, dims] - reference[:, dims]).max(axis=1) for name, dims in FEATURE_SLICES.items()}
    # Rows 0..89: the facing is smoothed with a Gaussian of sigma 20 truncated at 80 frames, so the
    # smoothing window of row t reaches frame t+80 (t+81 for the root velocity). Up to row 89 the window
    # stays inside the 170 frames we have and everything matches to float32 precision (measured:
    # root 1.1e-7, ric 1.8e-6, local velocity 1.9e-6, rot6d 7.8e-6).
    head = slice(0, UNAFFECTED_ROWS)
    assert error["root_rot_vel"][head].max() < 1e-6
    assert error["root_lin_vel"][head].max() < 1e-6
    assert error["ric"][head].max() < 1e-5
    assert error["local_vel"][head].max() < 1e-5
    assert error["rot6d"][head].max() < 5e-5
    # Root height and contacts do not depend on the smoothing: they match on every row.
    assert error["root_height"].max() < 2e-6
    np.testing.assert_array_equal(encoded[:, FOOT_CONTACT], reference[:, FOOT_CONTACT])
    # Towards the end the windows differ from the reference's (no frame 170: 'nearest' padding
    # repeats frame 169 instead), so the facing there differs slightly. Measured maxima over all
    # 169 rows: root yaw velocity 3.0e-4 rad, root velocity 1.4e-4 m, ric 6.8e-3 m, local velocity
    # 4.1e-4 m, rot6d 1.3e-2.
    assert error["root_rot_vel"].max() < 5e-4
    assert error["root_lin_vel"].max() < 3e-4
    assert error["ric"].max() < 1e-2
    assert error["local_vel"].max() < 1e-3
    assert error["rot6d"].max() < 2e-2


def test_sample_is_already_canonical(sample_joints):
    processed = process_joints(sample_joints)
    assert np.abs(processed - sample_joints).max() < 1e-5  # measured 2.0e-6 m


def test_round_trip_on_the_sample_joints(sample_joints):
    processed = process_joints(sample_joints)
    recovered = recover_from_ric(joints_to_features(sample_joints))
    assert recovered.shape == (169, 22, 3)
    assert np.abs(recovered - processed[:-1]).max() < 1e-4  # measured 2e-15 m
    assert np.abs(recovered - sample_joints[:-1]).max() < 1e-4


# --- canonicalisation and the uniform skeleton --------------------------------------------------------

def test_features_do_not_depend_on_position_heading_or_body_size(sample_joints):
    reference = joints_to_features(sample_joints)
    moved = yawed(sample_joints.astype(np.float64), 2.5) + np.array([3.0, 0.4, -7.0])
    np.testing.assert_allclose(joints_to_features(moved), reference, atol=1e-9)
    bigger = sample_joints.astype(np.float64) * 1.15  # a taller person: re-targeted to the same skeleton
    np.testing.assert_allclose(joints_to_features(bigger), reference, atol=1e-9)


def test_process_joints_canonicalises(sample_joints):
    rng = np.random.default_rng(0)
    motion = yawed(sample_joints.astype(np.float64) * 0.9, -1.2) + np.array([1.0, 0.25, 2.0])
    motion[:, 3] += rng.normal(scale=0.01, size=motion[:, 3].shape)  # change spine1's bone lengths
    processed = process_joints(motion)
    assert processed[..., 1].min() == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(processed[0, 0, [0, 2]], 0.0, atol=1e-12)
    forward = facing_directions(processed[:1], face_joints=FACE_JOINTS)[0]
    np.testing.assert_allclose(forward, [0.0, 0.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(bone_lengths(processed), np.broadcast_to(TARGET_BONE_LENGTHS, (170, 22)), atol=1e-12)


def test_uniform_skeleton_keeps_bone_directions(rest_pose):
    stretched = rest_pose.copy()
    stretched[[4, 7, 10]] += np.array([0.0, -0.1, 0.0])  # left thigh 0.1 m longer
    processed = process_joints(np.stack([stretched, stretched]))
    np.testing.assert_allclose(bone_lengths(processed[0]), TARGET_BONE_LENGTHS, atol=1e-12)
    thigh = processed[0, 4] - processed[0, 1]
    np.testing.assert_allclose(thigh / np.linalg.norm(thigh), [0.0, -1.0, 0.0], atol=1e-12)


# --- layout, slice by slice, on synthetic motions -----------------------------------------------------

def test_straight_walk_at_known_speed(rest_pose):
    speed = 1.2  # m/s along +Z
    frames = 30
    motion = rest_pose[None] + np.arange(frames)[:, None, None] * np.array([0.0, 0.0, speed / FPS])
    features = joints_to_features(motion)
    assert features.shape == (frames - 1, 263)
    np.testing.assert_allclose(features[:, ROOT_ROT_VEL], 0.0, atol=1e-12)
    np.testing.assert_allclose(features[:, ROOT_LIN_VEL], np.tile([0.0, speed / FPS], (frames - 1, 1)), atol=1e-12)
    left_leg = TARGET_BONE_LENGTHS[4] + TARGET_BONE_LENGTHS[7]  # the longer leg touches the floor
    assert left_leg > TARGET_BONE_LENGTHS[5] + TARGET_BONE_LENGTHS[8]
    np.testing.assert_allclose(features[:, ROOT_HEIGHT], left_leg, atol=1e-12)
    # ric: the rest pose relative to the root, y absolute (floor at the left ankle).
    expected_ric = (rest_pose[1:] + np.array([0.0, left_leg, 0.0])).reshape(-1)
    np.testing.assert_allclose(features[:, RIC], np.tile(expected_ric, (frames - 1, 1)), atol=1e-12)
    # rot6d: the rest pose has identity local rotations: columns (1,0,0) and (0,1,0).
    np.testing.assert_allclose(features[:, ROT6D], np.tile([1.0, 0, 0, 0, 1, 0], (frames - 1, 21)), atol=1e-12)
    np.testing.assert_allclose(features[:, LOCAL_VEL], np.tile([0.0, 0.0, speed / FPS], (frames - 1, 22)), atol=1e-12)
    np.testing.assert_array_equal(features[:, FOOT_CONTACT], 0.0)  # (0.06 m)^2 per frame > 0.002


def test_walk_in_another_direction_is_seen_from_the_body(rest_pose):
    """Walking sideways (to the body's left, +X) while facing +Z: velocity x is positive, z is zero."""
    motion = rest_pose[None] + np.arange(10)[:, None, None] * np.array([0.05, 0.0, 0.0])
    features = joints_to_features(yawed(motion, 0.7))  # the whole scene turned: same features
    np.testing.assert_allclose(features[:, ROOT_LIN_VEL], np.tile([0.05, 0.0], (9, 1)), atol=1e-12)
    np.testing.assert_allclose(features[:, LOCAL_VEL], np.tile([0.05, 0.0, 0.0], (9, 22)), atol=1e-12)


def test_pure_yaw_turn_gives_the_half_angle_per_frame(rest_pose):
    """Turning in place to the left (about +Y) by omega per frame, for 240 frames (crossing -Z facing)."""
    omega = 0.03  # rad per frame; 7.2 rad in total
    frames = 240
    motion = yawed(np.repeat(rest_pose[None], frames, axis=0), omega * np.arange(frames))
    features = joints_to_features(motion)
    # The heading is smoothed with a Gaussian (radius 80 frames, 'nearest' at the ends): away from the
    # ends the smoothed direction of a uniform turn is exact. Dim 0 is the half angle of
    # r_rot[t+1] r_rot[t]^-1, where r_rot turns the body to face +Z: turning left gives -omega/2.
    middle = slice(80, frames - 82)
    np.testing.assert_allclose(features[middle, ROOT_ROT_VEL], -omega / 2, atol=1e-10)
    # Near the ends the smoothed turn is slower but never changes sign, even where the facing crosses -Z
    # (row 104 here: the reference's arcsin of the quaternion's y component gives +omega/2 there).
    assert np.all(features[1:, 0] < 0) and np.all(features[1:, 0] > -omega)
    np.testing.assert_allclose(features[:, ROOT_LIN_VEL], 0.0, atol=1e-12)
    # The body turns, so in the (smoothed) facing frame the pose drifts little; decoding gives the turn back.
    recovered = recover_from_ric(features)
    np.testing.assert_allclose(recovered, process_joints(motion)[:-1], atol=1e-9)
    # Frame 0's r_rot is the identity; frame 1's is the smoothed heading, so row 0 carries a jump.
    smoothed = headings(facing_directions(process_joints(motion), 20.0))
    assert features[0, 0] == pytest.approx(-smoothed[1] / 2, abs=1e-12)


def test_rot6d_stores_the_first_two_columns(rest_pose):
    """Left forearm pointing forward (+Z) under a hanging upper arm: a -90 degree turn about X."""
    pose = rest_pose.copy()
    pose[20] = pose[18] + np.array([0.0, 0.0, TARGET_BONE_LENGTHS[20]])
    features = joints_to_features(np.stack([pose, pose, pose]))
    wrist = ROT6D.start + (20 - 1) * 6
    # R = [[1,0,0],[0,0,1],[0,-1,0]] maps (0,-1,0) to (0,0,1); columns 0 and 1: (1,0,0), (0,0,-1).
    np.testing.assert_allclose(features[:, wrist:wrist + 6], np.tile([1.0, 0, 0, 0, 0, -1], (2, 1)), atol=1e-12)
    others = np.delete(features[:, ROT6D].reshape(2, 21, 6), 19, axis=1)
    np.testing.assert_allclose(others, np.tile([1.0, 0, 0, 0, 1, 0], (2, 20, 1)), atol=1e-12)


def bone_direction_errors_from_rot6d(features: np.ndarray) -> float:
    """Largest mismatch between the bone directions implied by the 6D block and those of the ric block.

    Semantics of the 6D block (as the reference computes it): along each kinematic chain, starting from
    r_rot = rotation about +Y by 2a (a = accumulated half yaw of dim 0), the composed local rotations
    take each joint's raw offset to its world bone direction; r_rot applied once more gives the
    direction in the facing frame of the ric positions.
    """
    frames = len(features)
    half_yaw = np.concatenate([[0.0], np.cumsum(features[:-1, 0])])
    columns = features[:, ROT6D].reshape(frames, 21, 2, 3)
    local = np.stack([columns[:, :, 0], columns[:, :, 1], np.cross(columns[:, :, 0], columns[:, :, 1])], axis=-1)
    local = np.concatenate([np.tile(np.eye(3), (frames, 1, 1, 1)), local], axis=1)  # joint 0: unused
    cos, sin = np.cos(2 * half_yaw), np.sin(2 * half_yaw)
    r_rot = np.zeros((frames, 3, 3))
    r_rot[:, 0, 0], r_rot[:, 0, 2], r_rot[:, 1, 1], r_rot[:, 2, 0], r_rot[:, 2, 2] = cos, sin, 1.0, -sin, cos
    ric = np.concatenate([np.zeros((frames, 1, 3)), features[:, RIC].reshape(frames, 21, 3)], axis=1)
    ric[:, 0, 1] = features[:, 3]
    worst = 0.0
    for chain in KINEMATIC_CHAINS:
        accumulated = r_rot
        for parent, child in zip(chain[:-1], chain[1:]):
            accumulated = accumulated @ local[:, child]
            predicted = np.einsum("tij,tjk,k->ti", r_rot, accumulated, RAW_OFFSETS[child])
            bone = ric[:, child] - ric[:, parent]
            worst = max(worst, np.abs(predicted - bone / np.linalg.norm(bone, axis=-1, keepdims=True)).max())
    return worst


def test_rot6d_composes_to_the_bone_directions(sample_joints, sample_features):
    assert bone_direction_errors_from_rot6d(sample_features.astype(np.float64)) < 1e-5  # reference: 1.5e-6
    assert bone_direction_errors_from_rot6d(joints_to_features(sample_joints)) < 1e-9  # ours: 9e-15


def rotate_about_x(vectors: np.ndarray, angle: float, centre: np.ndarray) -> np.ndarray:
    cos, sin = np.cos(angle), np.sin(angle)
    matrix = np.array([[1.0, 0.0, 0.0], [0.0, cos, -sin], [0.0, sin, cos]])
    return (vectors - centre) @ matrix.T + centre


def test_standing_foot_is_in_contact_and_moving_foot_is_not(rest_pose):
    """The right leg kicks forward (rotates about the right hip); the left foot stands still."""
    frames = 12
    motion = np.repeat(rest_pose[None], frames, axis=0)
    right_leg = [5, 8, 11]
    for t in range(frames):
        motion[t, right_leg] = rotate_about_x(rest_pose[right_leg], -0.08 * t, rest_pose[2])  # foot goes +Z, up
    features = joints_to_features(motion)
    # order: left ankle, left foot, right ankle, right foot
    np.testing.assert_array_equal(features[:, FOOT_CONTACT], np.tile([1.0, 1.0, 0.0, 0.0], (frames - 1, 1)))


def test_contact_threshold_is_on_the_squared_displacement(rest_pose):
    def contacts(step: float, **kwargs) -> np.ndarray:
        motion = rest_pose[None] + np.arange(6)[:, None, None] * np.array([0.0, 0.0, step])
        return joints_to_features(motion, **kwargs)[:, FOOT_CONTACT]

    np.testing.assert_array_equal(contacts(np.sqrt(0.0019)), 1.0)  # 0.0019 < 0.002
    np.testing.assert_array_equal(contacts(np.sqrt(0.0021)), 0.0)
    np.testing.assert_array_equal(contacts(np.sqrt(0.0021), feet_threshold=0.003), 1.0)


# --- bad input -------------------------------------------------------------------------------------------

def test_bad_motions_raise_motion_errors(rest_pose):
    motion = np.repeat(rest_pose[None], 5, axis=0)
    motion[4, 7, 0] = np.nan
    with pytest.raises(MotionError, match=r"walk\.npy: 1 frame contains NaN \(first: frame 4\)"):
        joints_to_features(motion, source="walk.npy")
    with pytest.raises(MotionError, match=r"a motion needs at least 2 frames, got 1"):
        joints_to_features(rest_pose[None])
    with pytest.raises(MotionError, match=r"expected shape \(T, 22, 3\), got \(5, 24, 3\)"):
        process_joints(np.zeros((5, 24, 3)))
    collapsed = np.repeat(rest_pose[None], 3, axis=0)
    collapsed[1, 4] = collapsed[1, 1]  # knee on the hip
    with pytest.raises(MotionError, match=r"clip: bone left_hip->left_knee has zero length in 1 frames \(first: frame 1\)"):
        joints_to_features(collapsed, source="clip")
    with pytest.raises(ValueError, match="feet_threshold"):
        joints_to_features(np.repeat(rest_pose[None], 3, axis=0), feet_threshold=-1.0)


def test_bad_features_raise_motion_errors():
    with pytest.raises(MotionError, match=r"expected shape \(\.\.\., T, 263\), got \(4, 251\)"):
        recover_from_ric(np.zeros((4, 251)))
    features = np.zeros((4, 263))
    features[2, 0] = np.inf
    with pytest.raises(MotionError, match="infinite"):
        recover_from_ric(features)
    with pytest.raises(MotionError, match=r"expected shape \(\.\.\., T, 263\), got \(2, 4, 264\)"):
        recover_from_ric_torch(torch.zeros(2, 4, 264))
    with pytest.raises(MotionError, match="NaN"):
        recover_from_ric_torch(torch.full((4, 263), float("nan")))


@pytest.mark.parametrize("factor", [0.7, 1.4, 2.0])
def test_retimed_features_are_the_motion_resampled_in_time(sample_features, factor):
    """Played ``factor`` times as fast, the real sample clip recovers to its own joints resampled in time (how the
    data's speed words were made): the root's path and heading exactly, the poses to within their interpolation."""
    from motiongpt.data.augment import change_speed

    frames = int(round((len(sample_features) - 1) / factor)) + 1
    played = retime_features(sample_features, frames)
    assert played.shape == (frames, 263)
    joints = recover_from_ric(played)
    resampled = change_speed(recover_from_ric(sample_features), (len(sample_features) - 1) / (frames - 1))
    assert resampled.shape == joints.shape
    np.testing.assert_allclose(joints[:, 0], resampled[:, 0], atol=1e-4)  # the root: path and height
    error = np.linalg.norm(joints - resampled, axis=-1)  # poses interpolated in the body's frame, not the world's:
    assert error.mean() < 1e-3 and error.max() < 0.05, (error.mean(), error.max())  # apart where the body turns
    np.testing.assert_allclose(played[[0, -1], 3:193], sample_features[[0, -1], 3:193], atol=1e-6)  # end poses kept
    root_speed = [np.linalg.norm(np.diff(j[:, 0, [0, 2]], axis=0), axis=1).mean() for j in (joints, resampled)]
    assert root_speed[0] == pytest.approx(root_speed[1], rel=1e-3)
    # joint velocities scale with the speed; contacts are the original rows' (0 or 1)
    assert np.abs(played[:, LOCAL_VEL]).mean() == pytest.approx(
        np.abs(sample_features[:, LOCAL_VEL]).mean() * factor, rel=0.1)
    assert set(np.unique(played[:, FOOT_CONTACT])) <= set(np.unique(sample_features[:, FOOT_CONTACT]))


def test_retiming_to_the_same_length_changes_nothing_and_bad_lengths_are_refused(sample_features):
    np.testing.assert_allclose(retime_features(sample_features, len(sample_features)), sample_features, atol=1e-5)
    for bad in (1, 0, 2.5, True):
        with pytest.raises(ValueError, match="frames must be an integer >= 2"):
            retime_features(sample_features, bad)
    with pytest.raises(MotionError, match="at least 2"):
        retime_features(sample_features[:1], 4)
    with pytest.raises(MotionError, match="NaN"):
        retime_features(np.full((4, 263), np.nan), 4)
