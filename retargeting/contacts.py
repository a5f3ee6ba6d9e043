"""Foot contact and ground height, detected from the human motion alone.

The ground is the clip's own floor: a low percentile of the lowest foot joint over the clip (so a
motion captured 3 cm below or above zero is grounded correctly). A foot is in contact when both its
joints (ankle and toe) are within ``height_tolerance`` of their own resting height above that ground,
the foot moves slower than ``speed_tolerance`` and the shin stands (the knee above the ankle by at least
``min_shin_upright`` of the shin length: a foot under a kneeling or crawling body lies on its top or
its toes, never flat, and a flat sole target there would pull the robot up onto its feet); short gaps
are filled and blips removed.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from motiongpt.skeleton import JOINT_INDEX, LEFT_FOOT_JOINTS, RIGHT_FOOT_JOINTS


@dataclasses.dataclass(frozen=True)
class ContactSettings:
    height_tolerance: float = 0.06  # m above the joint's resting height
    speed_tolerance: float = 0.6  # m/s horizontal foot speed
    ground_percentile: float = 2.0
    rest_percentile: float = 5.0
    min_contact_frames: int = 3
    max_gap_frames: int = 2
    min_shin_upright: float = 0.5  # (knee - ankle) height / shin length: the shin within 60 degrees of vertical


@dataclasses.dataclass
class Contacts:
    in_contact: np.ndarray  # (T,2) bool, (left, right)
    ground_height: float  # human ground, Z-up metres
    segments: list[list[tuple[int, int]]]  # per foot: (first, last) inclusive frame ranges


def _segments(flags: np.ndarray) -> list[tuple[int, int]]:
    padded = np.concatenate([[False], flags, [False]]).astype(int)
    edges = np.diff(padded)
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return list(zip(starts.tolist(), ends.tolist()))


def _clean(flags: np.ndarray, settings: ContactSettings) -> np.ndarray:
    flags = flags.copy()
    # Fill short gaps between two contacts.
    for (_, end_a), (start_b, _) in zip(_segments(flags), _segments(flags)[1:]):
        if start_b - end_a - 1 <= settings.max_gap_frames:
            flags[end_a + 1:start_b] = True
    for start, end in _segments(flags):
        if end - start + 1 < settings.min_contact_frames:
            flags[start:end + 1] = False
    return flags


def detect_contacts(joints_zup: np.ndarray, fps: float, settings: ContactSettings = ContactSettings()) -> Contacts:
    feet = (LEFT_FOOT_JOINTS, RIGHT_FOOT_JOINTS)
    foot_joints = np.array(feet)  # (2,2): ankle, toe
    heights = joints_zup[:, foot_joints, 2]  # (T,2,2)
    ground = float(np.percentile(heights.min(axis=(1, 2)), settings.ground_percentile))
    rest = np.percentile(heights - ground, settings.rest_percentile, axis=0)  # (2,2)
    low = (heights - ground - rest < settings.height_tolerance).all(axis=2)  # (T,2)
    xy = joints_zup[:, foot_joints, :2].mean(axis=2)  # (T,2,2) foot centre
    speed = np.linalg.norm(np.gradient(xy, axis=0), axis=-1) * fps  # (T,2)
    knees = joints_zup[:, [JOINT_INDEX["left_knee"], JOINT_INDEX["right_knee"]]]  # (T,2,3)
    ankles = joints_zup[:, foot_joints[:, 0]]
    shin = knees - ankles
    upright = shin[..., 2] >= settings.min_shin_upright * np.linalg.norm(shin, axis=-1)  # (T,2)
    raw = low & (speed < settings.speed_tolerance) & upright
    in_contact = np.stack([_clean(raw[:, k], settings) for k in range(2)], axis=1)
    return Contacts(in_contact, ground, [_segments(in_contact[:, k]) for k in range(2)])
