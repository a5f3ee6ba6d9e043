"""The trajectory contract: the one gate every published joint trajectory must pass (ROS-free).

A trajectory is valid for a robot in state `start_positions` when
- its joint names are exactly the robot's joints (each once), every point has one finite value per joint;
- it starts at the current joint state: point 0 is at time 0 and equals `start_positions`;
- times are strictly increasing and the last one is at most `max_duration`;
- every point after the first is within the URDF position limits (the first point is the measured
  state, which the robot may hold slightly outside them; see `check_start_state`);
- the velocity over every segment, and every point's velocity when given, is within the velocity limits.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from motiongpt_node.joint_limits import JointLimits

START_TOLERANCE = 1e-9  # rad: the first point must be the current state, not close to it
LIMIT_TOLERANCE = 1e-9  # rad, rad/s: numerical slack only


class TrajectoryContractError(ValueError):
    """A trajectory that breaks the contract; the message lists every violation."""


@dataclass(frozen=True)
class JointTrajectoryData:
    """A joint trajectory as plain arrays: times (N,), positions (N,J), velocities (N,J) or None."""

    joint_names: tuple[str, ...]
    times: np.ndarray
    positions: np.ndarray
    velocities: np.ndarray | None = None

    @property
    def duration(self) -> float:
        return float(self.times[-1]) if len(self.times) else 0.0


def contract_violations(
    trajectory: JointTrajectoryData,
    start_positions: np.ndarray,
    limits: JointLimits,
    max_duration: float,
) -> list[str]:
    """Every way `trajectory` breaks the contract, as readable sentences (empty list: valid)."""
    problems: list[str] = []
    names = tuple(trajectory.joint_names)
    if len(set(names)) != len(names):
        problems.append(f"duplicate joint names {sorted({n for n in names if names.count(n) > 1})}")
    if set(names) != set(limits.joint_names):
        unknown = sorted(set(names) - set(limits.joint_names))
        missing = sorted(set(limits.joint_names) - set(names))
        problems.append(f"joint names differ from the robot's: unknown {unknown}, missing {missing}")
    if problems:
        return problems
    order = [limits.joint_names.index(name) for name in names]
    lower, upper, vmax = limits.lower[order], limits.upper[order], limits.velocity[order]
    start = np.asarray(start_positions, dtype=np.float64)[order]

    times = np.asarray(trajectory.times, dtype=np.float64)
    positions = np.asarray(trajectory.positions, dtype=np.float64)
    count = len(names)
    if times.ndim != 1 or times.size == 0:
        return problems + [f"times must be a non-empty 1-D array, got shape {times.shape}"]
    if positions.shape != (times.size, count):
        return problems + [f"positions have shape {positions.shape}, expected ({times.size}, {count})"]
    if not (np.all(np.isfinite(times)) and np.all(np.isfinite(positions))):
        return problems + ["times or positions contain NaN or infinity"]

    if times[0] != 0.0:
        problems.append(f"first point is at t={times[0]:.6f} s, expected 0 (start at the current state)")
    start_error = np.abs(positions[0] - start)
    if np.max(start_error) > START_TOLERANCE:
        worst = int(np.argmax(start_error))
        problems.append(
            f"first point differs from the current joint state: {names[worst]} by {start_error[worst]:.6f} rad"
        )
    steps = np.diff(times)
    if np.any(steps <= 0):
        problems.append(f"times are not strictly increasing at point(s) {(np.nonzero(steps <= 0)[0] + 1).tolist()[:10]}")
    if times[-1] > max_duration + LIMIT_TOLERANCE:
        problems.append(f"duration {times[-1]:.3f} s exceeds max_duration {max_duration:.3f} s")

    later = positions[1:]
    below = later < lower - LIMIT_TOLERANCE
    above = later > upper + LIMIT_TOLERANCE
    for mask, word in ((below, "below the lower"), (above, "above the upper")):
        if np.any(mask):
            joints = sorted({names[j] for j in np.nonzero(mask)[1]})
            problems.append(f"positions {word} URDF limit for {joints}")

    if np.all(steps > 0) and times.size > 1:
        segment_speed = np.abs(np.diff(positions, axis=0)) / steps[:, None]
        too_fast = segment_speed > vmax * (1 + 1e-9) + LIMIT_TOLERANCE
        if np.any(too_fast):
            joints = sorted({names[j] for j in np.nonzero(too_fast)[1]})
            ratio = float(np.max(segment_speed / vmax))
            problems.append(f"segment velocity above the limit (up to {ratio:.2f}x) for {joints}")
    if trajectory.velocities is not None:
        velocities = np.asarray(trajectory.velocities, dtype=np.float64)
        if velocities.shape != positions.shape:
            problems.append(f"velocities have shape {velocities.shape}, expected {positions.shape}")
        elif not np.all(np.isfinite(velocities)):
            problems.append("velocities contain NaN or infinity")
        elif np.any(np.abs(velocities) > vmax + LIMIT_TOLERANCE):
            joints = sorted({names[j] for j in np.nonzero(np.abs(velocities) > vmax + LIMIT_TOLERANCE)[1]})
            problems.append(f"point velocities above the limit for {joints}")
    return problems


def check_trajectory(
    trajectory: JointTrajectoryData,
    start_positions: np.ndarray,
    limits: JointLimits,
    max_duration: float,
) -> None:
    """Raise TrajectoryContractError naming every violation; return None for a valid trajectory."""
    problems = contract_violations(trajectory, start_positions, limits, max_duration)
    if problems:
        raise TrajectoryContractError("trajectory breaks the contract: " + "; ".join(problems))


def check_start_state(start_positions: np.ndarray, limits: JointLimits, tolerance: float) -> None:
    """Raise TrajectoryContractError if the measured state is outside the limits by more than `tolerance`."""
    start = np.asarray(start_positions, dtype=np.float64)
    if start.shape != limits.lower.shape or not np.all(np.isfinite(start)):
        raise TrajectoryContractError(f"joint state must be {limits.lower.shape[0]} finite positions")
    outside = (start < limits.lower - tolerance) | (start > limits.upper + tolerance)
    if np.any(outside):
        joints = [f"{limits.joint_names[j]}={start[j]:.3f}" for j in np.nonzero(outside)[0]]
        raise TrajectoryContractError(
            f"joint state outside the URDF limits by more than {tolerance} rad: {joints}"
        )
