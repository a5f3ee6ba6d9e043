import numpy as np
import pytest

from motiongpt_node.trajectory_contract import TrajectoryContractError, check_trajectory
from motiongpt_node.trajectory_shaping import ShapingConfig, hold_trajectory, shape_trajectory


def wave_motion(limits, seconds=4.0, fps=20.0, amplitude=0.4, frequency=0.5):
    times = np.arange(int(seconds * fps)) / fps
    middle = (limits.lower + limits.upper) / 2
    positions = middle + amplitude * np.sin(2 * np.pi * frequency * times)[:, None]
    return times, positions


@pytest.fixture
def start(g1_limits):
    return np.clip(np.zeros(len(g1_limits.joint_names)), g1_limits.lower, g1_limits.upper)


def test_shaped_motion_meets_contract_and_follows_the_motion(g1_limits, start):
    times, positions = wave_motion(g1_limits)
    config = ShapingConfig(max_duration=10.0)
    limits = g1_limits.with_velocity_cap(3.0)
    traj, report = shape_trajectory(g1_limits.joint_names, times, positions, start, limits, config)
    check_trajectory(traj, start, limits, config.max_duration)
    # After the transition the motion is reproduced point for point at its own timing (it is slow enough).
    np.testing.assert_allclose(traj.positions[1:], np.clip(positions, g1_limits.lower, g1_limits.upper))
    np.testing.assert_allclose(np.diff(traj.times[1:]), 1 / 20.0)
    assert report.slowed_segments == 0 and report.dropped_s == 0.0
    assert traj.times[1] == pytest.approx(report.transition_s)
    assert np.all(traj.velocities[0] == 0) and np.all(traj.velocities[-1] == 0)


def test_columns_are_reordered_to_the_robot_order(g1_limits, start):
    times, positions = wave_motion(g1_limits)
    reverse = list(g1_limits.joint_names)[::-1]
    traj, _ = shape_trajectory(reverse, times, positions[:, ::-1], start, g1_limits)
    assert traj.joint_names == g1_limits.joint_names
    np.testing.assert_allclose(traj.positions[-1], positions[-1])


def test_out_of_limit_and_too_fast_motion_is_clamped_and_slowed(g1_limits, start):
    times, positions = wave_motion(g1_limits, amplitude=5.0, frequency=3.0)
    limits = g1_limits.with_velocity_cap(2.0)
    config = ShapingConfig(max_duration=60.0)
    traj, report = shape_trajectory(g1_limits.joint_names, times, positions, start, limits, config)
    check_trajectory(traj, start, limits, config.max_duration)
    assert report.clamped_values > 0 and report.slowed_segments > 0
    assert traj.duration > times[-1]


def test_long_motion_is_cut_at_max_duration(g1_limits, start):
    times, positions = wave_motion(g1_limits, seconds=20.0)
    config = ShapingConfig(max_duration=3.0)
    traj, report = shape_trajectory(g1_limits.joint_names, times, positions, start, g1_limits, config)
    check_trajectory(traj, start, g1_limits, config.max_duration)
    assert traj.duration == pytest.approx(3.0)
    assert report.dropped_s > 15.0


def test_far_start_gets_a_slow_transition(g1_limits):
    times, positions = wave_motion(g1_limits)
    start = g1_limits.lower.copy()
    config = ShapingConfig(transition_velocity=0.5)
    traj, report = shape_trajectory(g1_limits.joint_names, times, positions, start, g1_limits, config)
    check_trajectory(traj, start, g1_limits, config.max_duration)
    gap = np.max(np.abs(np.clip(positions[0], g1_limits.lower, g1_limits.upper) - start))
    assert report.transition_s == pytest.approx(gap / 0.5)


def test_bad_motion_is_rejected(g1_limits, start):
    times, positions = wave_motion(g1_limits)
    with pytest.raises(TrajectoryContractError, match="do not match"):
        shape_trajectory(g1_limits.joint_names[:-1], times, positions[:, :-1], start, g1_limits)
    nan = positions.copy()
    nan[3, 4] = np.nan
    with pytest.raises(TrajectoryContractError, match="NaN"):
        shape_trajectory(g1_limits.joint_names, times, nan, start, g1_limits)
    with pytest.raises(TrajectoryContractError, match="strictly increasing"):
        shape_trajectory(g1_limits.joint_names, times[::-1], positions, start, g1_limits)


def test_hold_trajectory_meets_contract(g1_limits, start):
    traj = hold_trajectory(start, g1_limits)
    check_trajectory(traj, start, g1_limits, max_duration=1.0)
    np.testing.assert_allclose(traj.positions[1], start)
