import numpy as np
import pytest

from retargeting.timing import enforce_velocity_limits, joint_velocities, start_blend


def _spiky():
    times = np.arange(50) / 20.0
    positions = np.stack([np.sin(times), np.where(times > 1.0, 2.0, 0.0)], axis=1)  # a 2 rad jump in one frame
    return positions, times


def test_retime_slows_only_where_needed_and_keeps_the_path():
    positions, times = _spiky()
    limits = np.array([3.0, 3.0])
    out, new_times, report = enforce_velocity_limits(positions, times, limits, "retime")
    np.testing.assert_array_equal(out, positions)
    interval = np.abs(np.diff(out, axis=0)) / np.diff(new_times)[:, None]
    assert (interval <= limits * (1 + 1e-9)).all()
    assert report.limited_intervals == 1 and report.duration_after > report.duration_before
    assert (np.abs(joint_velocities(out, new_times)) <= limits * (1 + 1e-9)).all()


def test_clip_keeps_the_timing():
    positions, times = _spiky()
    limits = np.array([3.0, 3.0])
    out, new_times, report = enforce_velocity_limits(positions, times, limits, "clip")
    np.testing.assert_array_equal(new_times, times)
    assert (np.abs(np.diff(out, axis=0)) / np.diff(times)[:, None] <= limits).all()
    assert out[-1, 1] == pytest.approx(2.0)  # catches up


def test_start_blend_reaches_the_motion_within_limits():
    start, first = np.array([0.0, 1.0]), np.array([2.0, -1.0])
    limits = np.array([1.0, 4.0])
    blend = start_blend(start, first, limits, seconds=0.5, fps=20.0)
    path = np.vstack([blend, first])
    assert np.allclose(path[0], start)
    assert (np.abs(np.diff(path, axis=0)) * 20.0 <= limits).all()
    assert len(blend) / 20.0 >= 1.875 * 2.0 / 1.0  # long enough for the slow joint
