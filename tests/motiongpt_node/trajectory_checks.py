"""Independent checks of a JointTrajectory received on the wire (numpy only, no node code)."""
from __future__ import annotations

import numpy as np

from motiongpt_node.joint_limits import JointLimits


def seconds(duration) -> float:
    return duration.sec + duration.nanosec * 1e-9


def trajectory_arrays(message, joint_order: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(times (N,), positions (N,J) with columns in `joint_order`)."""
    names = list(message.joint_names)
    columns = [names.index(name) for name in joint_order]
    times = np.array([seconds(p.time_from_start) for p in message.points])
    positions = np.array([list(p.positions) for p in message.points])[:, columns]
    return times, positions


def assert_valid_trajectory(message, start: np.ndarray, limits: JointLimits, max_duration: float, velocity_cap: float) -> None:
    names = list(message.joint_names)
    assert len(set(names)) == len(names) and set(names) == set(limits.joint_names), names
    assert len(message.points) >= 2
    for point in message.points:
        assert len(point.positions) == len(names)
    times, positions = trajectory_arrays(message, limits.joint_names)
    assert np.all(np.isfinite(positions))
    assert times[0] == 0.0
    assert np.all(np.diff(times) > 0), "time_from_start must be strictly increasing"
    assert times[-1] <= max_duration + 1e-9
    np.testing.assert_array_equal(positions[0], start)  # starts exactly at the current joint state
    assert np.all(positions[1:] >= limits.lower - 1e-9) and np.all(positions[1:] <= limits.upper + 1e-9)
    speed = np.abs(np.diff(positions, axis=0)) / np.diff(times)[:, None]
    limit = np.minimum(limits.velocity, velocity_cap)
    assert np.all(speed <= limit * (1 + 1e-6)), f"max speed ratio {np.max(speed / limit):.3f}"
