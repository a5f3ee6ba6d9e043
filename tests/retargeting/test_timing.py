import numpy as np
import pytest

from retargeting.timing import (enforce_velocity_limits, fit_within_acceleration_limits, fit_within_velocity_limits,
                               joint_velocities, limit_acceleration, start_blend, stretch_for_velocity)


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


def test_fit_keeps_the_time_and_spreads_a_jump_over_the_frames_around_it():
    positions, times = _spiky()
    limits = np.array([3.0, 3.0])
    steps = limits / 20.0
    fitted, refitted = fit_within_velocity_limits(positions, steps, np.array([-3.0, -3.0]), np.array([3.0, 3.0]))
    assert refitted == 1
    np.testing.assert_array_equal(fitted[:, 0], positions[:, 0])  # the slow joint is left bit for bit
    assert fitted.shape == positions.shape
    assert (np.abs(np.diff(fitted, axis=0)) <= steps * (1 + 1e-9)).all()
    # the 2 rad jump at frame 21 needs 2 / 0.15 = 13.3 frames: it starts about 7 frames early and ends about 7 late,
    # symmetric around the jump, and the clip's start and end are untouched
    jump = int(np.argmax(np.abs(np.diff(positions[:, 1])))) + 1
    moved = np.flatnonzero(np.abs(fitted[:, 1] - positions[:, 1]) > 1e-9)
    assert moved.min() >= jump - 8 and moved.max() <= jump + 7
    assert abs((jump - moved.min()) - (moved.max() + 1 - jump)) <= 1
    np.testing.assert_allclose(fitted[:moved.min(), 1], positions[:moved.min(), 1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(fitted[moved.max() + 1:, 1], positions[moved.max() + 1:, 1], rtol=0, atol=1e-12)
    # nothing left for the retime to stretch
    _, new_times, report = enforce_velocity_limits(fitted, times, limits, "retime")
    assert report.duration_after == pytest.approx(report.duration_before)


def test_fit_stays_within_the_position_limits_and_handles_a_jump_at_the_clip_end():
    positions = np.zeros((12, 1))
    positions[-1] = 1.0  # the last frame jumps: the end is free, so the joint ramps up towards it
    fitted, refitted = fit_within_velocity_limits(positions, np.array([0.2]), np.array([0.0]), np.array([0.9]))
    assert refitted == 1
    assert (np.abs(np.diff(fitted[:, 0])) <= 0.2 * (1 + 1e-9)).all()
    assert fitted.min() >= 0.0 and fitted.max() <= 0.9
    assert fitted[0, 0] == 0.0 and fitted[-1, 0] > 0.5


def test_fit_never_moves_a_held_sample_and_leaves_what_it_cannot_spread_to_the_retime():
    positions = np.zeros((30, 1))
    positions[15:] = 1.0  # a 1 rad jump between frames 14 and 15
    held = np.zeros((30, 1), dtype=bool)
    held[11] = held[22:] = True  # e.g. a planted leg: frame 11 and from frame 22 on
    fitted, _ = fit_within_velocity_limits(positions, np.array([0.2]), np.array([-2.0]), np.array([2.0]), held)
    np.testing.assert_array_equal(fitted[held], positions[held])
    np.testing.assert_array_equal(fitted[:12], positions[:12])
    assert (np.abs(np.diff(fitted[:, 0])) <= 0.2 * (1 + 1e-9)).all()  # frames 12..21 are enough for 1 rad
    held[13] = held[16] = True  # now only frames 14 and 15 are free: the jump cannot be spread
    fitted, refitted = fit_within_velocity_limits(positions, np.array([0.2]), np.array([-2.0]), np.array([2.0]), held)
    np.testing.assert_array_equal(fitted[held], positions[held])
    assert np.abs(np.diff(fitted[:, 0])).max() > 0.2  # what is left is the retime's
    _, times, report = enforce_velocity_limits(fitted, np.arange(30) / 20.0, np.array([4.0]), "retime")
    assert report.duration_after > report.duration_before


def _step_changes(positions: np.ndarray) -> np.ndarray:
    return np.abs(positions[2:] - 2 * positions[1:-1] + positions[:-2])


def test_acceleration_fit_keeps_the_time_and_smooths_only_around_a_jump():
    """A jump already spread within the velocity limits (a recovered frame) still changes its step too fast: the
    samples around it move until every step change is within the bound, and the rest of the clip, the slow
    joint and the time are left as they were (the node's shaping then has nothing to slow down)."""
    positions, times = _spiky()
    steps = np.array([3.0, 3.0]) / 20.0
    lower, upper = np.array([-3.0, -3.0]), np.array([3.0, 3.0])
    spread, _ = fit_within_velocity_limits(positions, steps, lower, upper)
    changes = np.array([20.0, 20.0]) / 20.0 ** 2  # 20 rad/s^2
    assert (_step_changes(spread)[:, 1] > changes[1] * 2).any()  # the spread jump starts and stops abruptly (50 rad/s^2)
    fitted, refitted = fit_within_acceleration_limits(spread, changes, steps, lower, upper)
    assert refitted == 1
    np.testing.assert_array_equal(fitted[:, 0], spread[:, 0])
    assert (_step_changes(fitted) <= changes * (1 + 1e-9)).all()
    assert (np.abs(np.diff(fitted, axis=0)) <= steps * (1 + 1e-9)).all()
    moved = np.flatnonzero(np.abs(fitted[:, 1] - spread[:, 1]) > 1e-12)
    assert 0 < moved.min() and moved.max() < len(times) - 1  # the clip's ends untouched: only around the jump
    assert abs(fitted[-1, 1] - 2.0) < 1e-12 and fitted[0, 1] == 0.0
    # the node's shaping (the one owner of time scaling) finds nothing to stretch
    durations, stretched = limit_acceleration(fitted, np.diff(times), changes * 20.0 ** 2)
    assert stretched == 0 and durations.sum() == pytest.approx(times[-1] - times[0])


def test_acceleration_fit_never_moves_a_held_sample_and_stays_within_the_position_limits():
    positions = np.zeros((30, 1))
    positions[15:] = 0.3  # a 0.3 rad step in one frame, against the upper limit
    held = np.zeros((30, 1), dtype=bool)
    held[19:23] = True  # a planted leg soon after the jump
    fitted, _ = fit_within_acceleration_limits(positions, np.array([0.02]), np.array([0.3]), np.array([-1.0]),
                                               np.array([0.3]), held)
    np.testing.assert_array_equal(fitted[held], positions[held])
    assert fitted.min() >= -1.0 and fitted.max() <= 0.3
    assert (_step_changes(fitted) <= 0.02 * (1 + 1e-9)).all()
    assert fitted[14, 0] > 0.05 and fitted[15, 0] < 0.25  # it rises before the jump and arrives after it
