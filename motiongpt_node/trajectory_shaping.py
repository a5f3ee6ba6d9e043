"""Turn a retargeted robot motion into a trajectory that meets the contract (ROS-free, numpy only).

The retargeter leaves the timing to this one pass (`RetargetSettings(velocity_mode="none")`, see
motion_pipeline.py); the stretching itself is `retargeting.timing`'s, the one owner of time scaling. With the
node's `keep_time` (default) the motion was retargeted within `published_limits` (the velocity limits times
velocity_scale, the acceleration limits), so this pass finds little or nothing to slow down.

Steps, in order: reorder columns to the robot's joints; clamp positions to the URDF limits; prepend a
transition from the current joint state (t = 0) to the motion's first pose at a gentle speed;
stretch any segment that would exceed the velocity limits (the path is kept, only time grows); stretch the
segments around any sample whose joint acceleration exceeds that joint's acceleration limit (`JointLimits`: the
robot config's cap, and the node's extra one; a servo lags in proportion to the acceleration it is asked for: a
fast wave at the velocity limit left the G1's simulated shoulder 0.15-0.18 rad behind);
cut the result at `max_duration`; thin the motion to at most `max_points` points, evenly spaced in time
after the transition (linear interpolation of in-limit samples: positions stay within the limits and no
interval gets faster); set point velocities by central differences (zero at both ends).

Why `max_points`: a JointTrajectory of the G1 (29 joints, positions and velocities) costs about 470 bytes per
point; Cyclone DDS readers on default settings were seen to miss samples above 64 KB (about 133 points) that
rclpy readers on the same wire received. 120 points keep a 10 s motion at 12 points/s, about 57 KB.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from motiongpt_node.joint_limits import JointLimits
from retargeting.timing import limit_acceleration, stretch_for_velocity
from motiongpt_node.trajectory_contract import JointTrajectoryData, TrajectoryContractError

MIN_STEP = 1e-3  # s: the smallest time between two points


@dataclass(frozen=True)
class ShapingConfig:
    max_duration: float = 10.0  # s, the longest trajectory ever published
    min_transition: float = 0.1  # s, shortest move from the current state to the motion's first pose
    transition_velocity: float = 1.0  # rad/s, joint speed of that move
    velocity_scale: float = 0.9  # fraction of each velocity limit the motion may use
    max_points: int = 120  # most points of one trajectory (the message stays below 64 KB for the G1)


@dataclass(frozen=True)
class ShapingReport:
    transition_s: float  # duration of the move from the current state to the first pose
    clamped_values: int  # joint values moved inside the URDF position limits
    slowed_segments: int  # segments stretched to respect the velocity limits
    dropped_s: float  # seconds of motion cut off by max_duration
    accelerated_segments: int = 0  # segments stretched to respect the acceleration limits (counted once each)
    thinned_from: int = 0  # points before thinning to max_points (0: not thinned)
    # time from the trajectory's start of every input motion sample after the transition and the stretching
    # (before the cut at max_duration): the base path and anything else tied to the motion's samples use it
    sample_times: np.ndarray | None = None
    # the motion's shaped duration (its first sample to its last, before the cut) over its own: 1.0 = on time
    stretch: float = 1.0


def published_limits(limits: JointLimits, config: ShapingConfig) -> JointLimits:
    """The limits a shaped trajectory keeps: `limits` with every velocity limit times ``config.velocity_scale``.
    The node retargets within them (`MotionPipeline.retarget`), so that shaping has nothing to slow down."""
    return replace(limits, velocity=limits.velocity * config.velocity_scale)


def expand_to_robot_joints(
    motion_names: tuple[str, ...], positions: np.ndarray, robot_names: tuple[str, ...], state: np.ndarray
) -> tuple[tuple[str, ...], np.ndarray]:
    """Motion columns for every robot joint: joints the motion does not drive hold their current value."""
    full = np.repeat(state[None, :], positions.shape[0], axis=0)
    for column, name in enumerate(motion_names):
        full[:, robot_names.index(name)] = positions[:, column]
    return robot_names, full


def shape_trajectory(
    joint_names: list[str] | tuple[str, ...],
    times: np.ndarray,
    positions: np.ndarray,
    start_positions: np.ndarray,
    limits: JointLimits,
    config: ShapingConfig = ShapingConfig(),
) -> tuple[JointTrajectoryData, ShapingReport]:
    """A contract-valid trajectory in `limits.joint_names` order that follows (times, positions).

    `start_positions` is the current state in `limits.joint_names` order.
    """
    names = tuple(joint_names)
    if set(names) != set(limits.joint_names) or len(names) != len(limits.joint_names):
        raise TrajectoryContractError(
            f"motion joints {sorted(set(names) ^ set(limits.joint_names))} do not match the robot's joints"
        )
    times = np.asarray(times, dtype=np.float64)
    positions = np.asarray(positions, dtype=np.float64)
    if times.ndim != 1 or times.size == 0 or positions.shape != (times.size, len(names)):
        raise TrajectoryContractError(
            f"motion has times {times.shape} and positions {positions.shape}; expected (T,) and (T, {len(names)})"
        )
    if not (np.all(np.isfinite(times)) and np.all(np.isfinite(positions))):
        raise TrajectoryContractError("motion contains NaN or infinity")
    if np.any(np.diff(times) <= 0):
        raise TrajectoryContractError("motion times are not strictly increasing")
    start = np.asarray(start_positions, dtype=np.float64)
    if start.shape != (len(names),) or not np.all(np.isfinite(start)):
        raise TrajectoryContractError(f"current joint state must be {len(names)} finite values")

    order = [names.index(name) for name in limits.joint_names]
    motion = positions[:, order]
    clamped = np.clip(motion, limits.lower, limits.upper)
    clamped_values = int(np.count_nonzero(clamped != motion))
    speed = published_limits(limits, config).velocity

    gap = np.abs(clamped[0] - start)
    transition_speed = np.minimum(config.transition_velocity, speed)
    transition = max(config.min_transition, float(np.max(gap / transition_speed)))
    path = np.vstack([start[None, :], clamped])
    nominal = np.concatenate([[0.0, transition], transition + (times[1:] - times[0])])

    steps = np.diff(nominal)
    stretched, slowed = stretch_for_velocity(path, steps, speed, margin=0.0)
    stretched = np.maximum(stretched, MIN_STEP)
    accelerated = 0
    if np.isfinite(limits.acceleration).any():
        stretched, accelerated = limit_acceleration(path, stretched, limits.acceleration)
    new_times = np.concatenate([[0.0], np.cumsum(stretched)])
    sample_times = new_times[1:].copy()

    keep = int(np.searchsorted(new_times, config.max_duration, side="right"))
    dropped = 0.0
    if keep < new_times.size:
        dropped = float(new_times[-1] - config.max_duration)
        last_time = new_times[keep - 1]
        if config.max_duration - last_time > MIN_STEP:
            fraction = (config.max_duration - last_time) / (new_times[keep] - last_time)
            tail = path[keep - 1] + fraction * (path[keep] - path[keep - 1])
            path = np.vstack([path[:keep], tail[None, :]])
            new_times = np.concatenate([new_times[:keep], [config.max_duration]])
        else:
            path, new_times = path[:keep], new_times[:keep]

    thinned_from = 0
    if path.shape[0] > config.max_points >= 3:
        # The start and the motion's first pose stay; the rest is resampled evenly in time.
        thinned_from = path.shape[0]
        grid = np.linspace(new_times[1], new_times[-1], config.max_points - 1)
        resampled = np.stack([np.interp(grid, new_times[1:], path[1:, j]) for j in range(path.shape[1])], axis=1)
        path = np.vstack([path[:1], resampled])
        new_times = np.concatenate([[0.0], grid])
    velocities = np.zeros_like(path)
    if path.shape[0] > 2:
        velocities[1:-1] = (path[2:] - path[:-2]) / (new_times[2:] - new_times[:-2])[:, None]
    trajectory = JointTrajectoryData(tuple(limits.joint_names), new_times, path, velocities)
    own = float(times[-1] - times[0])
    stretch = float(sample_times[-1] - sample_times[0]) / own if own > 0 else 1.0
    return trajectory, ShapingReport(transition, clamped_values, slowed, dropped, accelerated, thinned_from,
                                     sample_times, stretch)


def hold_trajectory(start_positions: np.ndarray, limits: JointLimits, hold_time: float = 0.1) -> JointTrajectoryData:
    """Stop and hold: the current state at t = 0, then the same pose (inside the limits) at `hold_time`."""
    start = np.asarray(start_positions, dtype=np.float64)
    held = np.clip(start, limits.lower, limits.upper)
    return JointTrajectoryData(
        tuple(limits.joint_names),
        np.array([0.0, hold_time]),
        np.vstack([start, held]),
        np.zeros((2, start.size)),
    )
