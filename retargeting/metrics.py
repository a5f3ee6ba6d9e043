"""Quality measures of a robot motion: keypoint error, foot sliding and penetration, limits, jerk.

All computed with the robot's own forward kinematics (Pinocchio) from the output trajectory.
"""
from __future__ import annotations

import numpy as np

from retargeting.robot_model import RobotModel

POSITION_TOLERANCE = 1e-9  # rad: a sample beyond a limit by more than this is a violation
VELOCITY_TOLERANCE = 1e-6  # relative


def configurations(robot: RobotModel, base_positions, base_orientations, positions) -> np.ndarray:
    q = np.empty((len(positions), robot.model.nq))
    q[:, :3] = base_positions
    q[:, 3:7] = base_orientations
    q[:, 7:] = positions
    return q


def foot_measures(robot: RobotModel, q: np.ndarray, contacts: np.ndarray) -> dict[str, float]:
    """Sliding (horizontal sole-centre motion between consecutive contact frames), penetration (depth of the
    lowest sole corner below z = 0) and floating (height of the lowest corner of a planted foot), in cm."""
    soles = np.array([robot.sole_points(qt) for qt in q])  # (T,2,4,3)
    centre = soles.mean(axis=2)  # (T,2,3)
    both = contacts[1:] & contacts[:-1]
    step = np.linalg.norm(np.diff(centre[:, :, :2], axis=0), axis=-1)  # (T-1,2)
    sliding = step[both]
    lowest = soles[:, :, :, 2].min(axis=2)  # (T,2)
    penetration = np.maximum(0.0, -lowest)
    planted_height = lowest[contacts]
    return {
        "foot_sliding_cm_per_contact_frame": float(sliding.mean() * 100) if sliding.size else 0.0,
        "foot_sliding_max_cm": float(sliding.max() * 100) if sliding.size else 0.0,
        "penetration_max_cm": float(penetration.max() * 100),
        "penetration_mean_cm": float(penetration.mean() * 100),
        "contact_float_mean_cm": float(np.abs(planted_height).mean() * 100) if planted_height.size else 0.0,
        "contact_frames": int(contacts.sum()),
    }


def limit_violations(robot: RobotModel, positions, velocities, times) -> dict[str, int]:
    below = positions < robot.lower - POSITION_TOLERANCE
    above = positions > robot.upper + POSITION_TOLERANCE
    bound = robot.velocity_limits * (1.0 + VELOCITY_TOLERANCE)
    interval = np.diff(positions, axis=0) / np.diff(times)[:, None]
    return {
        "position_limit_violations": int((below | above).sum()),
        "velocity_limit_violations": int((np.abs(velocities) > bound).sum() + (np.abs(interval) > bound).sum()),
    }


def interval_velocity_and_jerk(positions: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Finite differences on a (possibly non-uniform) time grid: velocities over the T-1 intervals and jerks
    over the T-3 inner points, (·, J) each; needs T >= 4."""
    v = np.diff(positions, axis=0) / np.diff(times)[:, None]
    tv = 0.5 * (times[1:] + times[:-1])
    a = np.diff(v, axis=0) / np.diff(tv)[:, None]
    ta = 0.5 * (tv[1:] + tv[:-1])
    return v, np.diff(a, axis=0) / np.diff(ta)[:, None]


def jerk(positions: np.ndarray, times: np.ndarray) -> dict[str, float]:
    if len(times) < 4:
        return {"jerk_mean": 0.0, "jerk_max": 0.0}
    j = np.abs(interval_velocity_and_jerk(positions, times)[1])
    return {"jerk_mean": float(j.mean()), "jerk_max": float(j.max())}


def speed_and_jerk(positions: np.ndarray, times: np.ndarray) -> dict[str, float]:
    """p99 over all joints and intervals of |joint speed| (rad/s) and |jerk| (rad/s^3)."""
    if len(times) < 4:
        return {"speed_p99": 0.0, "jerk_p99": 0.0}
    v, j = interval_velocity_and_jerk(positions, times)
    return {"speed_p99": float(np.percentile(np.abs(v), 99)), "jerk_p99": float(np.percentile(np.abs(j), 99))}
