"""The 22-joint SMPL skeleton used by HumanML3D and MotionGPT (motiongpt_spec.md section 1.1).

Coordinates: Y up, metres, 20 frames per second.
"""
from __future__ import annotations

import numpy as np

FPS: float = 20.0
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

# Bone lengths (parent -> child, metres) of the HumanML3D target skeleton (clip 000021),
# measured on the shipped sample clip 012314; index = child joint, 0 for the root.
TARGET_BONE_LENGTHS: np.ndarray = np.array(
    [0.0, 0.1031, 0.1099, 0.1316, 0.3936, 0.3902, 0.1432, 0.4324, 0.4256, 0.0574, 0.1434,
     0.1494, 0.2194, 0.1375, 0.1434, 0.1030, 0.1316, 0.1230, 0.2568, 0.2631, 0.2660, 0.2699],
    dtype=np.float64,
)

# (r_hip, l_hip, r_shoulder, l_shoulder): the joints that define the facing direction.
FACE_JOINTS: tuple[int, int, int, int] = (2, 1, 17, 16)
# Foot-contact joints in the order of feature dims 259..262.
LEFT_FOOT_JOINTS: tuple[int, int] = (7, 10)
RIGHT_FOOT_JOINTS: tuple[int, int] = (8, 11)

# Left/right mirror: joint i of a mirrored motion is joint MIRROR_PERMUTATION[i] of the original.
MIRROR_PERMUTATION: tuple[int, ...] = tuple(
    JOINT_INDEX[n.replace("left_", "#").replace("right_", "left_").replace("#", "right_")]
    for n in JOINT_NAMES
)
