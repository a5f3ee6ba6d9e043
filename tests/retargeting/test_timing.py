import numpy as np
import pytest

from retargeting.timing import enforce_velocity_limits, joint_velocities, limit_acceleration, start_blend, stretch_for_velocity


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


def test_acceleration_cap_slows_a_fast_oscillation_and_nothing_else():
    times = np.arange(0, 4.0, 0.05)
    wave = np.where(times > 2.0, 0.4 * np.sin(2 * np.pi * 2.5 * times), 0.3 * times / 2.0)  # slow ramp, then a wave
    path = np.stack([wave, 0.1 * times], axis=1)
    steps = np.diff(times)
    durations, stretched = limit_acceleration(path, steps, 40.0)
    assert np.all(durations >= steps - 1e-12) and stretched > 0
    velocity = np.diff(path, axis=0) / durations[:, None]
    acceleration = np.abs(np.diff(velocity, axis=0)) / (0.5 * (durations[:-1] + durations[1:]))[:, None]
    assert acceleration.max() <= 40.0 * (1 + 1e-6)
    assert np.all(np.abs(velocity) <= np.abs(np.diff(path, axis=0) / steps[:, None]) + 1e-12)  # never faster
    ramp = times[1:] <= 1.9
    np.testing.assert_allclose(durations[ramp], steps[ramp])  # the slow part keeps its timing
    before = np.abs(np.diff(np.diff(path, axis=0) / steps[:, None], axis=0)).max() / 0.05
    assert before > 2 * 40.0  # the uncapped wave asked for more than twice the cap


def test_none_mode_keeps_the_timing_and_velocity_stretch_is_shared():
    positions = np.array([[0.0], [0.5], [0.6]])
    times = np.array([0.0, 0.1, 0.2])
    same, kept, report = enforce_velocity_limits(positions, times, np.array([1.0]), mode="none")
    np.testing.assert_array_equal(kept, times)
    np.testing.assert_array_equal(same, positions)
    assert report.limited_intervals == 1 and report.max_demand_ratio == pytest.approx(5.0)
    durations, stretched = stretch_for_velocity(positions, np.diff(times), np.array([1.0]), margin=0.0)
    np.testing.assert_allclose(durations, [0.5, 0.1])
    assert stretched == 1
    _, retimed, _ = enforce_velocity_limits(positions, times, np.array([1.0]), mode="retime")
    np.testing.assert_allclose(np.diff(retimed), [0.5 * (1 + 1e-6), 0.1 * (1 + 1e-6)])
