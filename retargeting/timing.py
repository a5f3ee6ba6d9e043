"""Timing across frames: joint velocity limits, the blend from the robot's current posture, velocities.

Velocity limits are enforced on the whole trajectory after the per-frame solve, in one of two modes:
``retime`` (default) stretches every interval that would need more than a joint's limit, so the
geometry of the motion (planted feet included) is kept and only the timing slows; ``clip`` keeps the
timing and limits each joint's step, so the joints lag behind the motion where it is too fast.
Positions never leave the joint limits in either mode (they are interpolations of in-limit points).
"""
from __future__ import annotations

import dataclasses

import numpy as np

VELOCITY_MODES = ("retime", "clip")
_MARGIN = 1e-6  # relative safety margin on velocity limits against rounding


@dataclasses.dataclass
class VelocityReport:
    mode: str
    limited_intervals: int
    duration_before: float
    duration_after: float
    max_demand_ratio: float  # largest required velocity / limit before enforcement


def enforce_velocity_limits(positions: np.ndarray, times: np.ndarray, limits: np.ndarray, mode: str = "retime"):
    """Return (positions, times, VelocityReport) with every interval within ``limits`` (rad/s)."""
    if mode not in VELOCITY_MODES:
        raise ValueError(f"velocity mode must be one of {VELOCITY_MODES}, got {mode!r}")
    steps = np.diff(positions, axis=0)
    intervals = np.diff(times)
    needed = np.abs(steps) / limits  # seconds each joint needs per interval
    demand = needed.max(axis=1) / intervals if len(intervals) else np.zeros(0)
    limited = demand > 1.0
    report = VelocityReport(mode, int(limited.sum()), float(times[-1] - times[0]), float(times[-1] - times[0]),
                            float(demand.max()) if len(demand) else 0.0)
    if mode == "retime":
        new_intervals = np.maximum(intervals, needed.max(axis=1) * (1.0 + _MARGIN))
        times = times[0] + np.concatenate([[0.0], np.cumsum(new_intervals)])
    else:
        out = positions.copy()
        max_step = limits[None, :] * intervals[:, None] / (1.0 + _MARGIN)
        for t in range(1, len(out)):
            out[t] = out[t - 1] + np.clip(positions[t] - out[t - 1], -max_step[t - 1], max_step[t - 1])
        positions = out
    report.duration_after = float(times[-1] - times[0])
    return positions, times, report


def joint_velocities(positions: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Velocities at the samples: mean of the two adjacent interval velocities; zero at both ends
    (the trajectory starts and ends at rest). Each value is bounded by the interval velocities."""
    interval = np.diff(positions, axis=0) / np.diff(times)[:, None]
    velocities = np.zeros_like(positions)
    velocities[1:-1] = 0.5 * (interval[:-1] + interval[1:])
    return velocities


def start_blend(start: np.ndarray, first: np.ndarray, limits: np.ndarray, seconds: float, fps: float) -> np.ndarray:
    """Frames (n,J) going from ``start`` to just before ``first`` on a minimum-jerk profile, long enough
    that the peak velocity (1.875 * distance / duration) stays within ``limits``."""
    distance = np.abs(first - start)
    duration = max(seconds, float((1.875 * distance / limits).max()) * (1.0 + 1e-3))
    count = max(1, int(np.ceil(duration * fps)))
    tau = np.arange(count) / count
    profile = tau ** 3 * (10 - 15 * tau + 6 * tau ** 2)
    return start[None, :] + profile[:, None] * (first - start)[None, :]
