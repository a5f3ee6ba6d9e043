"""The 22-joint SMPL skeleton used by HumanML3D and MotionGPT (Guo et al., CVPR 2022; Jiang et al., NeurIPS 2023),
and the conventions every layer shares: human motion is (T, 22, 3) joint positions in this order, Y up, metres,
`FPS` frames per second; the robot side and ROS are Z up (`yup_to_zup`, `zup_to_yup`). This module is the one
owner of the frame rate and the axes; `motiongpt`, `retargeting` and `motiongpt_node` import them from here.
"""
from __future__ import annotations

import numpy as np

FPS: float = 20.0

# Human Y-up (x, y, z) -> robot/ROS Z-up (x', y', z') = (x, -z, y): a rotation of +90 degrees about x.
Y_UP_TO_Z_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])


def yup_to_zup(points: np.ndarray) -> np.ndarray:
    """Human Y-up points (..., 3) in the Z-up frame of the robot and ROS: x' = x, y' = -z, z' = y."""
    return np.asarray(points, dtype=np.float64) @ Y_UP_TO_Z_UP.T


def zup_to_yup(points: np.ndarray) -> np.ndarray:
    """The inverse of `yup_to_zup`: x = x', y = z', z = -y'."""
    return np.asarray(points, dtype=np.float64) @ Y_UP_TO_Z_UP
NUM_JOINTS: int = 22
FEATURE_DIM: int = 263

JOINT_NAMES: tuple[str, ...] = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck",
    "left_collar", "right_collar", "head", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist",
)
JOINT_INDEX: dict[str, int] = {name: i for i, name in enumerate(JOINT_NAMES)}

PARENTS: tuple[int, ...] = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19)

# t2m_kinematic_chain, in this order: right leg, left leg, spine/head, right arm, left arm.
KINEMATIC_CHAINS: tuple[tuple[int, ...], ...] = (
    (0, 2, 5, 8, 11),
    (0, 1, 4, 7, 10),
    (0, 3, 6, 9, 12, 15),
    (9, 14, 17, 19, 21),
    (9, 13, 16, 18, 20),
)

# t2m_raw_offsets: rest-pose unit direction of each joint from its parent.
RAW_OFFSETS: np.ndarray = np.array(
    [
        [0, 0, 0], [1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, -1, 0], [0, 1, 0],
        [0, -1, 0], [0, -1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1], [0, 1, 0], [1, 0, 0],
        [-1, 0, 0], [0, 0, 1], [0, -1, 0], [0, -1, 0], [0, -1, 0], [0, -1, 0], [0, -1, 0],
        [0, -1, 0],
    ],
    dtype=np.float64,
)

# Bone lengths (parent -> child, metres) of the HumanML3D target skeleton (that of clip 000021, to which
# every HumanML3D clip is re-targeted); index = child joint, 0 for the root. Measured on the shipped
# sample clip 012314 (mean over its 170 frames; they vary by less than 1.3e-6 m, float32 rounding).
TARGET_BONE_LENGTHS: np.ndarray = np.array(
    [0.0, 0.1030740, 0.1098835, 0.1315683, 0.3936233, 0.3901882, 0.1431903, 0.4324335, 0.4256438,
     0.0573647, 0.1433816, 0.1494192, 0.2193602, 0.1374869, 0.1433830, 0.1030391, 0.1316141, 0.1229842,
     0.2568398, 0.2630920, 0.2660116, 0.2698759],
    dtype=np.float64,
)

# (r_hip, l_hip, r_shoulder, l_shoulder): the joints that define the facing direction,
# across = (r_hip - l_hip) + (r_shoulder - l_shoulder), forward = cross(up, across). Used to turn a clip
# so that frame 0 faces +Z (HumanML3D process_file).
FACE_JOINTS: tuple[int, int, int, int] = (2, 1, 17, 16)
# The facing used for the feature extraction (the root rotation r_rot of the 263-dim features).
# HumanML3D's Skeleton.inverse_kinematics_np unpacks the same list as (l_hip, r_hip, sdr_r, sdr_l),
# so its across is (l_hip - r_hip) + (r_shoulder - l_shoulder): hips and shoulders in opposite senses
# (the shoulders, being wider, dominate). Only this order reproduces the real HumanML3D features of
# sample clip 012314 (tests/motiongpt/test_features.py), so features must use it to be compatible.
FEATURE_FACE_JOINTS: tuple[int, int, int, int] = (1, 2, 17, 16)
# Foot-contact joints in the order of feature dims 259..262.
LEFT_FOOT_JOINTS: tuple[int, int] = (7, 10)
RIGHT_FOOT_JOINTS: tuple[int, int] = (8, 11)

# Left/right mirror: joint i of a mirrored motion is joint MIRROR_PERMUTATION[i] of the original.
MIRROR_PERMUTATION: tuple[int, ...] = tuple(
    JOINT_INDEX[n.replace("left_", "#").replace("right_", "left_").replace("#", "right_")]
    for n in JOINT_NAMES
)
