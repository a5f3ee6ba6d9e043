import numpy as np
import pytest

from retargeting import RetargetError
from retargeting.contacts import detect_contacts
from motiongpt.skeleton import Y_UP_TO_Z_UP
from retargeting.human_motion import clean_motion


def test_y_up_becomes_z_up(walking_clip):
    clean = clean_motion(walking_clip)
    np.testing.assert_allclose(clean.joints[..., 2], walking_clip[..., 1])
    np.testing.assert_allclose(clean.joints[..., 1], -walking_clip[..., 2])
    assert np.linalg.det(Y_UP_TO_Z_UP) == pytest.approx(1.0)


def test_nan_and_out_of_range_frames_are_reported_and_repaired(walking_clip):
    joints = walking_clip.copy()
    joints[10, 5, 1] = np.nan
    joints[20] += 1e6
    joints[30, 20] += 3.0  # a wrist 3 m off: the forearm bone is far too long
    clean = clean_motion(joints)
    assert clean.bad_frames == [10, 20, 30]
    assert "non-finite" in clean.reasons[10] and "beyond" in clean.reasons[20] and "bone" in clean.reasons[30]
    assert np.isfinite(clean.joints).all()
    reference = clean_motion(walking_clip).joints
    # Repaired frames lie between their neighbours (interpolated), close to the true pose.
    assert np.abs(clean.joints[10] - reference[10]).max() < 0.05


def test_bad_input_raises_with_the_source_name(walking_clip):
    with pytest.raises(RetargetError, match=r"clip.npy: human motion must have shape \(T, 22, 3\)"):
        clean_motion(walking_clip[:, :21], source="clip.npy")
    with pytest.raises(RetargetError, match="at least 2 frames"):
        clean_motion(walking_clip[:1], source="clip.npy")
    with pytest.raises(RetargetError, match="no usable frame"):
        clean_motion(np.full((5, 22, 3), np.nan), source="clip.npy")


def test_ground_comes_from_the_motion(walking_clip):
    zup = clean_motion(walking_clip).joints
    base = detect_contacts(zup, 20.0)
    raised = zup.copy()
    raised[..., 2] += 0.25  # the same motion captured on a platform
    lifted = detect_contacts(raised, 20.0)
    assert lifted.ground_height == pytest.approx(base.ground_height + 0.25)
    np.testing.assert_array_equal(lifted.in_contact, base.in_contact)
    # The clip starts standing and then steps: both feet planted first, each foot lifted at some point.
    assert base.in_contact[:5].all()
    assert (~base.in_contact[:, 0]).any() and (~base.in_contact[:, 1]).any()
