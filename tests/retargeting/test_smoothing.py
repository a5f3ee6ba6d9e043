"""Smoothing of the solved joints over time (retargeting/smoothing.py) and its place in the retargeter."""
import numpy as np
import pytest

from retargeting import Retargeter, metrics
from retargeting.retargeter import RetargetSettings
from retargeting.smoothing import smooth_joints


def test_free_joints_are_smoothed_within_their_range_and_planted_legs_keep_theirs():
    rng = np.random.default_rng(4)
    joints = np.cumsum(rng.normal(scale=0.05, size=(60, 5)), axis=0)  # jittery paths
    planted = np.zeros((60, 2), dtype=bool)
    planted[10:30, 0] = True
    held = np.zeros(joints.shape, dtype=bool)  # leg 0 = joints 0 and 1, planted on frames 10-29
    held[np.ix_(np.flatnonzero(planted[:, 0]), [0, 1])] = True
    smooth = smooth_joints(joints, 0.7, held)
    np.testing.assert_array_equal(smooth[10:30, :2], joints[10:30, :2])  # the planted leg, untouched
    assert not np.allclose(smooth[:, 2:], joints[:, 2:])
    for column in range(5):  # a mean with positive weights: never outside the samples' range
        assert joints[:, column].min() <= smooth[:, column].min() and smooth[:, column].max() <= joints[:, column].max()
    third = lambda x: np.abs(np.diff(x[:, 2:], n=3, axis=0)).mean()  # noqa: E731
    assert third(smooth) < 0.5 * third(joints)
    assert smooth_joints(joints, 0.0, held) is joints


def test_smoothing_takes_jerk_out_of_a_retargeted_walk_without_sliding_its_feet(walking_clip):
    """The real HumanML3D walk (steps, a turn, an arm raise) on the G1, with and without smoothing."""
    results = {}
    for seconds in (0.0, RetargetSettings().smoothing_seconds):
        retargeter = Retargeter.from_robot("g1", RetargetSettings(smoothing_seconds=seconds))
        motion = retargeter.retarget(walking_clip, fps=20.0, source="walk")
        q = metrics.configurations(retargeter.robot, motion.base_positions, motion.base_orientations, motion.positions)
        results[seconds] = (motion, metrics.foot_measures(retargeter.robot, q, motion.contacts))
    (raw, raw_feet), (smooth, smooth_feet) = results[0.0], results[RetargetSettings().smoothing_seconds]
    assert metrics.jerk(smooth.positions, smooth.times)["jerk_mean"] < 0.8 * metrics.jerk(raw.positions, raw.times)["jerk_mean"]
    assert smooth_feet["foot_sliding_cm_per_contact_frame"] <= raw_feet["foot_sliding_cm_per_contact_frame"] + 0.01
    assert smooth.report["keypoint_error_cm"]["mean"] == pytest.approx(raw.report["keypoint_error_cm"]["mean"], rel=0.1)
    assert smooth.report["limits"] == {"position_limit_violations": 0, "velocity_limit_violations": 0}
