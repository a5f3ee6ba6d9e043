import numpy as np
import pytest

from motiongpt_node.trajectory_contract import TrajectoryContractError, check_trajectory
from motiongpt_node.trajectory_shaping import ShapingConfig, hold_trajectory, shape_trajectory
from motiongpt_node.joint_limits import JointLimits


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


def test_long_motions_are_thinned_to_max_points_within_the_limits(g1_limits, start):
    """A 10 s motion at 20 fps (201 points with the transition) becomes max_points points evenly spaced after
    the transition; no position leaves the limits, no interval gets faster, and the serialised message stays
    below 64 KB (Cyclone DDS readers were seen to miss larger JointTrajectory samples)."""
    from rclpy.serialization import serialize_message

    from motiongpt_node.ros_messages import trajectory_msg

    times, positions = wave_motion(g1_limits, seconds=10.0, frequency=0.7)
    config = ShapingConfig(max_duration=10.0)
    full, _ = shape_trajectory(g1_limits.joint_names, times, positions, start, g1_limits,
                               ShapingConfig(max_duration=10.0, max_points=100000))
    traj, report = shape_trajectory(g1_limits.joint_names, times, positions, start, g1_limits, config)
    check_trajectory(traj, start, g1_limits, config.max_duration)
    assert len(full.times) > config.max_points and report.thinned_from == len(full.times)
    assert len(traj.times) == config.max_points
    np.testing.assert_allclose(traj.positions[:2], full.positions[:2])  # the start and the first pose kept
    np.testing.assert_allclose(traj.positions[-1], full.positions[-1])
    assert traj.times[-1] == pytest.approx(full.times[-1])
    np.testing.assert_allclose(np.diff(traj.times[1:]), np.diff(traj.times[1:])[0])
    fastest = lambda t: (np.abs(np.diff(t.positions, axis=0)) / np.diff(t.times)[:, None]).max(axis=0)
    assert np.all(fastest(traj) <= fastest(full) + 1e-9)
    # the motion's shape survives: every thinned point lies on the full trajectory
    for j in range(len(g1_limits.joint_names)):
        np.testing.assert_allclose(traj.positions[1:, j], np.interp(traj.times[1:], full.times[1:], full.positions[1:, j]))
    assert len(serialize_message(trajectory_msg(traj))) < 64 * 1024 < len(serialize_message(trajectory_msg(full)))


def test_shaped_trajectory_respects_the_acceleration_cap():
    limits = JointLimits(("a", "b"), np.array([-2.0, -2.0]), np.array([2.0, 2.0]), np.array([10.0, 10.0]))
    times = np.arange(0, 3.0, 0.05)
    positions = np.stack([0.5 * np.sin(2 * np.pi * 2.0 * times), np.zeros_like(times)], axis=1)
    capped, report = shape_trajectory(("a", "b"), times, positions, np.zeros(2), limits,
                                      ShapingConfig(max_duration=60.0, max_acceleration=50.0, max_points=100000))
    free, _ = shape_trajectory(("a", "b"), times, positions, np.zeros(2), limits,
                               ShapingConfig(max_duration=60.0, max_points=100000))
    assert report.accelerated_segments > 0 and capped.duration > free.duration
    t, q = capped.times[1:], capped.positions[1:, 0]  # after the transition
    velocity = np.diff(q) / np.diff(t)
    acceleration = np.abs(np.diff(velocity)) / (0.5 * (np.diff(t)[:-1] + np.diff(t)[1:]))
    assert acceleration.max() <= 50.0 * (1 + 1e-6)
