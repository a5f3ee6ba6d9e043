"""Foot contacts and the ground from human motion alone (`retargeting.contacts.detect_contacts`)."""
from __future__ import annotations

import numpy as np

from motiongpt.data.deepmimic import load_joints
from motiongpt.skeleton import FPS, LEFT_FOOT_JOINTS, yup_to_zup
from retargeting.contacts import ContactSettings, detect_contacts


def walk_zup() -> np.ndarray:
    return yup_to_zup(load_joints("walk", cycles=2))


def test_walking_feet_alternate_and_planted_feet_hold_still():
    joints = walk_zup()
    contacts = detect_contacts(joints, FPS)
    left, right = contacts.in_contact[:, 0], contacts.in_contact[:, 1]
    assert len(contacts.segments[0]) >= 2 and len(contacts.segments[1]) >= 2  # steps on both feet
    assert not (~left & ~right).all(axis=0)  # a walk is never airborne for the whole clip
    assert (left ^ right).mean() > 0.2  # single support a good part of the time
    ankle = joints[:, LEFT_FOOT_JOINTS[0], :2]
    for first, last in contacts.segments[0]:
        drift = np.linalg.norm(ankle[last] - ankle[first])
        assert drift < 0.12, (first, last, drift)  # a planted foot stays (within the slow-speed tolerance)


def test_the_ground_is_the_clips_own_floor():
    joints = walk_zup()
    lifted = joints + np.array([0.0, 0.0, 0.37])  # captured 37 cm above zero
    a, b = detect_contacts(joints, FPS), detect_contacts(lifted, FPS)
    assert abs(b.ground_height - a.ground_height - 0.37) < 1e-9
    np.testing.assert_array_equal(a.in_contact, b.in_contact)


def test_a_foot_under_a_kneeling_body_is_not_a_flat_contact():
    joints = walk_zup()
    kneeling = joints.copy()
    # fold the left shin flat (knee at ankle height, behind it): the foot lies on its top or toes
    knee = 4  # left_knee
    kneeling[:, knee] = kneeling[:, LEFT_FOOT_JOINTS[0]] + np.array([-0.4, 0.0, 0.02])
    contacts = detect_contacts(kneeling, FPS)
    assert not contacts.in_contact[:, 0].any()
    assert contacts.in_contact[:, 1].any()


def test_short_blips_are_removed_and_short_gaps_filled():
    from retargeting.contacts import _clean

    flags = np.array([1, 1, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1], dtype=bool)
    cleaned = _clean(flags, ContactSettings(min_contact_frames=3, max_gap_frames=2))
    # the 1-frame gap is filled (5 frames of contact), the 1-frame blip dropped, the last 3 frames kept
    np.testing.assert_array_equal(cleaned, [1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1])
