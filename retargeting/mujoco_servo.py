"""Joint trajectories executed in MuJoCo physics: a joint trajectory controller's servo loop, without ROS.

``ServoSimulation`` loads the robot with ``mujoco_check.build_model`` and keeps its pelvis still at a
standing pose, soles just above the ground at the initial posture: the free joint is set kinematically
before every step, as in ``check_motion``, and given the inertia of the world (``BASE_ARMATURE``) so that
the joints carry their gravity load against a fixed pelvis. The robot hangs there as on a test stand: the
ground is drawn but nothing touches it. A joint trajectory is made for a floating base (the retargeter moves
and tilts the pelvis under a weight shift or a lean, `check_motion` replays that); with the pelvis held level
the ground would push a foot off its trajectory and the servo would never reach its goal. Every joint has the position servo of
``check_motion``: PD on the position with the reference velocity as the damping reference. The reference
is a trajectory given by joint name (any subset of the robot's joints, in any order): positions
interpolated linearly between the points, velocities interpolated between the points' velocities or,
without them, the slopes of the segments. Before its start time the reference of the moment it was given
is held, after its end its last point; a trajectory whose first point lies after time 0 starts from that
held reference, as ros2_control's joint_trajectory_controller does. Joints it does not name keep their
reference. Times are simulated seconds (``time``); the physics advances only in ``step_to``.
"""
from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np
import pinocchio as pin

from retargeting.mujoco_check import ServoSettings, _set_pose, build_model, servo_setpoint
from retargeting.robot_model import RobotModel

GROUND_CLEARANCE = 0.001  # m between the lowest sole corner and the ground at the initial posture
# Armature (kg, kg m^2) on the free joint's six dofs. With the base only set kinematically the whole robot
# falls freely between two resets and its joints carry no gravity load (check_motion's case); this heavy,
# the base does not move under the joints' reactions, as if welded to the world.
BASE_ARMATURE = 1e9


@dataclasses.dataclass(frozen=True)
class _Reference:
    """A reference for every robot joint: ``held`` before ``start``, then the trajectory, then its last point."""

    held: np.ndarray  # (nj,) positions before the start
    start: float  # simulated time of the trajectory's time 0
    times: np.ndarray  # (N,) seconds from start, strictly increasing, times[0] == 0
    positions: np.ndarray  # (N, nj)
    velocities: np.ndarray | None  # (N, nj) at the points, or None: the segment slopes

    @classmethod
    def hold(cls, positions: np.ndarray) -> "_Reference":
        """Hold ``positions`` at all times, zero velocity."""
        return cls(positions.copy(), 0.0, np.zeros(1), positions[None, :].copy(), None)

    def sample(self, sim_time: float) -> tuple[np.ndarray, np.ndarray]:
        """(positions, velocities) at ``sim_time``."""
        t = sim_time - self.start
        times = self.times
        if t < 0:
            return self.held.copy(), np.zeros(len(self.held))
        if len(times) == 1 or t <= times[0]:
            return self.positions[0].copy(), np.zeros(self.positions.shape[1])
        if t >= times[-1]:
            return self.positions[-1].copy(), np.zeros(self.positions.shape[1])
        k = int(np.searchsorted(times, t, side="right")) - 1
        alpha = (t - times[k]) / (times[k + 1] - times[k])
        positions = (1 - alpha) * self.positions[k] + alpha * self.positions[k + 1]
        if self.velocities is None:
            velocities = (self.positions[k + 1] - self.positions[k]) / (times[k + 1] - times[k])
        else:
            velocities = (1 - alpha) * self.velocities[k] + alpha * self.velocities[k + 1]
        return positions, velocities

    @property
    def end(self) -> float:
        return self.start + float(self.times[-1])


class ServoSimulation:
    """The robot in MuJoCo, pelvis fixed in the world, its joints on position servos following a reference."""

    def __init__(self, robot: RobotModel, settings: ServoSettings = ServoSettings(),
                 initial_positions: Sequence[float] | None = None) -> None:
        import mujoco

        self._mujoco = mujoco
        self.robot = robot
        self.settings = settings
        self.joint_names: list[str] = list(robot.joint_names)
        self._index = {name: i for i, name in enumerate(self.joint_names)}
        self.model, self._qpos_adr, self._dof_adr, _ = build_model(robot, settings)
        self.model.dof_armature[:6] = BASE_ARMATURE
        self.data = mujoco.MjData(self.model)
        if initial_positions is None:
            start = robot.calibration_joints.copy()
        else:
            start = np.asarray(initial_positions, dtype=np.float64)
            if start.shape != (robot.nj,) or not np.isfinite(start).all():
                raise ValueError(f"initial_positions must be {robot.nj} finite values (one per robot joint), "
                                 f"got shape {start.shape}")
        rotation = robot.calibration.base_rotation
        soles = robot.sole_points(robot.configuration(np.zeros(3), rotation, start))
        self._base_position = np.array([0.0, 0.0, GROUND_CLEARANCE - soles[:, :, 2].min()])
        self._base_xyzw = pin.Quaternion(rotation).coeffs().copy()
        _set_pose(self.model, self.data, self._base_position, self._base_xyzw, self._qpos_adr, start)
        mujoco.mj_forward(self.model, self.data)
        self._steps = 0
        self._reference = _Reference.hold(start)

    # ------------------------------------------------------------------ state
    @property
    def time(self) -> float:
        """Simulated seconds since the start."""
        return self._steps * self.settings.timestep

    def positions(self) -> np.ndarray:
        """Measured joint positions (rad), in ``joint_names`` order."""
        return self.data.qpos[self._qpos_adr].copy()

    def velocities(self) -> np.ndarray:
        """Measured joint velocities (rad/s), in ``joint_names`` order."""
        return self.data.qvel[self._dof_adr].copy()

    def efforts(self) -> np.ndarray:
        """Servo torques (N m) of the last step, in ``joint_names`` order."""
        return self.data.actuator_force[: len(self.joint_names)].copy()

    def reference(self, sim_time: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Desired (positions, velocities) of every joint at ``sim_time`` (default: now)."""
        return self._reference.sample(self.time if sim_time is None else sim_time)

    @property
    def end_time(self) -> float:
        """Simulated time at which the current reference reaches its last point."""
        return self._reference.end

    def joint_indices(self, joint_names: Sequence[str]) -> np.ndarray:
        """Indices of ``joint_names`` in ``joint_names`` of the robot; ValueError for unknown or repeated names."""
        names = list(joint_names)
        unknown = [name for name in names if name not in self._index]
        if unknown:
            raise ValueError(f"unknown joint names {unknown}: not joints of {self.robot.config.name} "
                             f"({', '.join(self.joint_names)})")
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"joint names repeated: {repeated}")
        return np.array([self._index[name] for name in names], dtype=int)

    # ------------------------------------------------------------------ commands
    def follow(self, joint_names: Sequence[str], times: Sequence[float], positions, velocities=None,
               start_time: float | None = None) -> None:
        """Follow a trajectory of ``joint_names`` from ``start_time`` (simulated seconds; default now).

        ``times`` (N,) are seconds from the start, non-negative and strictly increasing; ``positions`` and
        ``velocities`` (optional) are (N, len(joint_names)). Replaces the current reference."""
        columns = self.joint_indices(joint_names)
        times = np.asarray(times, dtype=np.float64).reshape(-1)
        positions = np.asarray(positions, dtype=np.float64)
        shape = (len(times), len(columns))
        if len(times) == 0:
            raise ValueError("a trajectory needs at least one point")
        if positions.shape != shape:
            raise ValueError(f"positions must have shape {shape} (points, joints), got {positions.shape}")
        if velocities is not None:
            velocities = np.asarray(velocities, dtype=np.float64)
            if velocities.shape != shape:
                raise ValueError(f"velocities must have shape {shape} (points, joints), got {velocities.shape}")
        if not (np.isfinite(times).all() and np.isfinite(positions).all()
                and (velocities is None or np.isfinite(velocities).all())):
            raise ValueError("trajectory times, positions and velocities must be finite")
        if times[0] < 0 or (np.diff(times) <= 0).any():
            raise ValueError("trajectory times must be non-negative and strictly increasing")
        start = self.time if start_time is None else float(start_time)
        held, _ = self.reference()
        full = np.repeat(held[None, :], len(times), axis=0)
        full[:, columns] = positions
        full_velocities = None
        if velocities is not None:
            full_velocities = np.zeros_like(full)
            full_velocities[:, columns] = velocities
        if times[0] > 0:  # from the held reference to the first point
            times = np.concatenate([[0.0], times])
            full = np.vstack([held[None, :], full])
            if full_velocities is not None:
                full_velocities = np.vstack([np.zeros((1, full.shape[1])), full_velocities])
        self._reference = _Reference(held, start, times, full, full_velocities)

    def hold(self) -> None:
        """Hold the measured positions from now (a cancel): zero reference velocity."""
        self._reference = _Reference.hold(self.positions())

    def step_to(self, sim_time: float) -> int:
        """Advance the physics to ``sim_time`` (to the last whole step before it); returns the steps taken."""
        mujoco, model, data = self._mujoco, self.model, self.data
        target = int(np.floor(sim_time / self.settings.timestep + 1e-9))
        taken = 0
        nj = len(self.joint_names)
        while self._steps < target:
            positions, velocities = self._reference.sample(self.time)
            data.ctrl[:nj] = servo_setpoint(self.settings, positions, velocities)
            data.qpos[:3] = self._base_position
            data.qpos[3:7] = self._base_xyzw[[3, 0, 1, 2]]
            data.qvel[:6] = 0.0
            mujoco.mj_step(model, data)
            self._steps += 1
            taken += 1
        return taken
