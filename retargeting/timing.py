"""Timing across frames: joint velocity and acceleration limits, the blend from the robot's current posture,
velocities. The one owner of time scaling: the retargeter and the ROS node's trajectory shaping both stretch
intervals with `stretch_for_velocity` and `limit_acceleration` (only time grows: the path is kept).

Velocity limits are enforced on the whole trajectory after the per-frame solve, in one of three modes:
``retime`` (default) stretches every interval that would need more than a joint's limit, so the
geometry of the motion (planted feet included) is kept and only the timing slows; ``clip`` keeps the
timing and limits each joint's step, so the joints lag behind the motion where it is too fast; ``none``
leaves the timing to the caller (the ROS node retimes once, with its own velocity scale and acceleration
cap, after prepending the move from the robot's current state).
Positions never leave the joint limits in any mode (they are interpolations of in-limit points).

Before any of them, the retargeter keeps the motion's time where it can: `fit_within_velocity_limits` spreads a
step that is faster than its joint's limit over the frames around it (`RetargetSettings.keep_time`), so the
retime only stretches what could not be spread (a planted leg's joints); given acceleration limits (the ROS node
gives those it publishes under), `fit_within_acceleration_limits` does the same for a step that changes too fast.
"""
from __future__ import annotations

import dataclasses

import numpy as np

VELOCITY_MODES = ("retime", "clip", "none")
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
        new_intervals, _ = stretch_for_velocity(positions, intervals, limits)
        times = times[0] + np.concatenate([[0.0], np.cumsum(new_intervals)])
    elif mode == "clip":
        out = positions.copy()
        max_step = limits[None, :] * intervals[:, None] / (1.0 + _MARGIN)
        for t in range(1, len(out)):
            out[t] = out[t - 1] + np.clip(positions[t] - out[t - 1], -max_step[t - 1], max_step[t - 1])
        positions = out
    report.duration_after = float(times[-1] - times[0])
    return positions, times, report


def fit_within_velocity_limits(positions: np.ndarray, max_steps: np.ndarray, lower: np.ndarray,
                               upper: np.ndarray, held: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """Keep the time, not the path: every joint of ``positions`` (N, J) whose step between two samples exceeds
    its ``max_steps`` (J,) (rad per interval) is refitted around each such step: over a window of frames around
    it (wide enough to spread the excess), the samples closest in least squares to the original whose every
    step is within the bound, with the window's first and last samples kept (the clip's last one is free).
    A jump is then spread over the frames around it (the joint starts moving earlier and arrives later)
    instead of the whole motion slowing down. ``held`` (N, J) marks samples that must not change (a planted
    leg's joints): a window never includes them, and a step it cannot spread is left for the retime. Joints
    that never exceed their bound are left bit for bit.
    Returns (positions within [lower, upper], number of joints refitted)."""
    positions = np.asarray(positions, dtype=np.float64)
    if len(positions) < 2:
        return positions, 0
    bound = np.asarray(max_steps, dtype=np.float64) / (1.0 + _MARGIN)
    held = np.zeros(positions.shape, dtype=bool) if held is None else np.asarray(held, dtype=bool)
    over = np.flatnonzero((np.abs(np.diff(positions, axis=0)) > bound).any(axis=0))
    fitted = positions.copy()
    refitted = 0
    for joint in over:
        values = _fit_joint(fitted[:, joint], bound[joint], held[:, joint])
        refitted += int(not np.array_equal(values, fitted[:, joint]))
        fitted[:, joint] = np.clip(values, lower[joint], upper[joint])
    return fitted, refitted


def fit_within_acceleration_limits(positions: np.ndarray, max_step_changes: np.ndarray, max_steps: np.ndarray,
                                   lower: np.ndarray, upper: np.ndarray, held: np.ndarray | None = None,
                                   passes: int = 300) -> tuple[np.ndarray, int]:
    """Keep the time, not the path, where a joint changes its step faster than its acceleration limit allows
    (|q[t+1] - 2 q[t] + q[t-1]| above ``max_step_changes`` (J,), rad per interval squared: a frame recovered in a
    widened box, a jump spread by `fit_within_velocity_limits`): the samples around it move, no more than the
    constraints need, until every step change, every step (``max_steps``) and every sample ([lower, upper]) is
    within its bound. Cyclic projections onto these convex sets (each step change's and each step's constraint a
    slab; those of every third sample, and of every other step, taken together as they share no sample): only
    the samples of a violated constraint move. ``held`` (N, J) samples never move (a planted leg's joints).
    What is still over after ``passes`` is left for the retime. Joints within their bounds are left bit for
    bit. Returns (positions, number of joints changed). Stops early when the excess stops shrinking."""
    positions = np.asarray(positions, dtype=np.float64)
    if len(positions) < 3:
        return positions, 0
    change_bound = np.asarray(max_step_changes, dtype=np.float64)
    step_bound = np.asarray(max_steps, dtype=np.float64)
    over = (np.abs(positions[2:] - 2 * positions[1:-1] + positions[:-2]) > change_bound * (1.0 + _MARGIN)).any(axis=0)
    joints = np.flatnonzero(over)
    if not len(joints):
        return positions, 0
    held = np.zeros(positions.shape, dtype=bool) if held is None else np.asarray(held, dtype=bool)
    q = positions[:, joints].copy()
    free = (~held[:, joints]).astype(np.float64)
    low, high = lower[joints], upper[joints]
    # aim a little inside the bounds: the projections approach a bound from outside
    change_target, step_target = change_bound[joints] * 0.98, step_bound[joints] * 0.98
    n = len(q)

    def fastest_step(x: np.ndarray) -> np.ndarray:  # per joint, relative to its bound
        return (np.abs(np.diff(x, axis=0)) / step_bound[joints]).max(axis=0)

    def largest_change(x: np.ndarray) -> np.ndarray:
        return (np.abs(x[2:] - 2 * x[1:-1] + x[:-2]) / change_bound[joints]).max(axis=0)

    worst = np.inf  # the largest excess over a bound, relative to it, checked every 10 passes
    for done in range(1, passes + 1):
        for first in range(3):  # step changes at inner samples first+1, first+4, ...: disjoint triples
            centre = np.arange(first + 1, n - 1, 3)
            weights = np.stack([free[centre - 1], -2.0 * free[centre], free[centre + 1]])  # (3, K, J)
            norm = (weights ** 2).sum(axis=0)
            change = q[centre + 1] - 2.0 * q[centre] + q[centre - 1]
            excess = np.sign(change) * np.maximum(np.abs(change) - change_target, 0.0)
            shift = np.divide(excess, norm, out=np.zeros_like(excess), where=norm > 0)
            for offset, weight in zip((-1, 0, 1), weights):
                q[centre + offset] -= shift * weight
        for first in range(2):  # steps first -> first+1, first+2 -> first+3, ...: disjoint pairs
            start = np.arange(first, n - 1, 2)
            norm = free[start] + free[start + 1]
            step = q[start + 1] - q[start]
            excess = np.sign(step) * np.maximum(np.abs(step) - step_target, 0.0)
            shift = np.divide(excess, norm, out=np.zeros_like(excess), where=norm > 0)
            q[start] += shift * free[start]
            q[start + 1] -= shift * free[start + 1]
        np.clip(q, low, high, out=q)
        if done % 10 == 0:
            now = max(float(fastest_step(q).max()), float(largest_change(q).max())) - 1.0
            if now <= 0.0 or now > 0.99 * worst:  # within the bounds, or no longer closing in (held samples)
                break
            worst = now
    # A joint whose held samples leave no room (a planted leg's jump) may not have converged: it keeps its input
    # unless the fit raised neither its fastest step nor its largest step change (relative to their bounds).
    before = positions[:, joints]
    better = (fastest_step(q) <= np.maximum(fastest_step(before), 1.0)) & (largest_change(q) <= largest_change(before))
    fitted = positions.copy()
    fitted[:, joints[better]] = q[:, better]
    return fitted, int(better.sum())


def _fit_joint(values: np.ndarray, bound: float, held: np.ndarray) -> np.ndarray:
    """One joint's samples with its steps within ``bound``, changed only in windows of samples not ``held``
    around the steps that were not (see `fit_within_velocity_limits`)."""
    values = values.copy()
    last = len(values) - 1
    tried = np.zeros(last, dtype=bool)  # steps a window was fitted for (a step that stays over is the retime's)
    while True:
        steps = np.abs(np.diff(values))
        bad = np.flatnonzero((steps > bound * (1.0 + 1e-9)) & ~tried)
        if not len(bad):
            return values
        first_bad = cluster_end = bad[0]
        # the window's ends are kept and its inside is free: never further out than the nearest held samples
        held_before = np.flatnonzero(held[:first_bad + 1])
        held_after = np.flatnonzero(held[first_bad + 1:]) + first_bad + 1
        floor = held_before[-1] if len(held_before) else 0
        ceiling = held_after[0] if len(held_after) else last
        margin = int(np.ceil((steps[first_bad] - bound) / bound)) + 2
        for index in bad[1:]:  # steps closer than the spread they need share one window
            if index - cluster_end > 2 * margin or index + 1 > ceiling:
                break
            cluster_end = index
            margin += int(np.ceil((steps[index] - bound) / bound))
        tried[first_bad:cluster_end + 1] = True
        while True:
            start, stop = max(floor, first_bad - margin), min(ceiling, cluster_end + 1 + margin)
            if ((start == floor and stop == ceiling) or stop == last
                    or abs(values[stop] - values[start]) <= (stop - start) * bound):
                break
            margin *= 2
        if stop - start >= 2:
            values[start:stop + 1] = _window_fit(values[start:stop + 1], bound, pin_end=stop < last or held[stop])


def _window_fit(window: np.ndarray, bound: float, pin_end: bool) -> np.ndarray:
    """Samples closest to ``window`` whose steps are all within ``bound``, starting at its first sample and (when
    ``pin_end``) ending at its last: bounded least squares over the steps."""
    from scipy.optimize import lsq_linear

    count = len(window) - 1  # steps
    cumulative = np.tril(np.ones((count, count)))  # steps -> samples 1..count, relative to the first
    target = window[1:] - window[0]
    if pin_end:  # the last sample is held by a heavy row (equality), the others fitted
        weights = np.ones(count)
        weights[-1] = 1e4
        cumulative, target = cumulative * weights[:, None], target * weights
    solution = lsq_linear(cumulative, target, bounds=(-bound, bound), method="bvls")
    fitted = window.copy()
    fitted[1:] = window[0] + np.cumsum(np.clip(solution.x, -bound, bound))
    if pin_end:
        fitted[-1] = window[-1]
    return fitted


def stretch_for_velocity(path: np.ndarray, intervals: np.ndarray, limits: np.ndarray, margin: float = _MARGIN
                         ) -> tuple[np.ndarray, int]:
    """Interval durations (N-1,) at least as long as every joint of ``path`` (N, J) needs at ``limits`` (J,)
    rad/s (times 1 + ``margin``); returns (durations, number of intervals stretched)."""
    needed = (np.abs(np.diff(path, axis=0)) / limits).max(axis=1) * (1.0 + margin) if len(path) > 1 else np.zeros(0)
    durations = np.maximum(np.asarray(intervals, dtype=np.float64), needed)
    return durations, int(np.count_nonzero(durations > intervals))


def limit_acceleration(path: np.ndarray, steps: np.ndarray, max_acceleration: float | np.ndarray, passes: int = 60
                       ) -> tuple[np.ndarray, int]:
    """Interval durations (N-1,) such that the finite-difference acceleration at every inner sample of ``path``
    (N, J) is at most ``max_acceleration`` (one cap for every joint, or one per joint, (J,); inf: none): the two
    intervals around a sample that asks for more are stretched by sqrt(demand) (time scaling by s divides
    velocities by s and accelerations by s^2), repeated until none does (or ``passes`` runs). Only time grows:
    velocities only fall. Returns (durations, stretched count)."""
    durations = steps.astype(np.float64).copy()
    if len(durations) < 2:
        return durations, 0
    original = durations.copy()
    increments = np.diff(path, axis=0)
    for _ in range(passes):
        velocity = increments / durations[:, None]
        acceleration = np.abs(np.diff(velocity, axis=0)) / (0.5 * (durations[:-1] + durations[1:]))[:, None]
        demand = (acceleration / max_acceleration).max(axis=1)
        if demand.max() <= 1.0 + 1e-9:
            break
        scale = np.ones_like(durations)
        factor = np.where(demand > 1.0, np.sqrt(demand) * (1.0 + 1e-6), 1.0)
        np.maximum.at(scale, np.arange(len(demand)), factor)
        np.maximum.at(scale, np.arange(1, len(demand) + 1), factor)
        durations *= scale
    return durations, int(np.count_nonzero(durations > original * (1.0 + 1e-9)))


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
