"""Retargeter: SMPL 22-joint human motion (Y up) -> RobotMotion for one robot (see docs/architecture.md).

Pipeline: check and repair frames (human_motion) -> ground and foot contacts (contacts) -> per-frame
targets (targets) -> per-frame IK warm-started from the previous frames (solver) -> optional blend
from the robot's current posture -> joint velocity limits across frames (timing) -> RobotMotion.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pinocchio as pin

from retargeting import metrics
from retargeting.contacts import ContactSettings, detect_contacts
from retargeting.errors import RetargetError
from retargeting.human_motion import FrameChecks, clean_motion
from retargeting.motion import RobotMotion
from retargeting.robot_config import RobotConfig, load_robot_config
from retargeting.robot_model import RobotModel
from retargeting.solver import FrameSolver
from retargeting.targets import build_targets
from retargeting.timing import VELOCITY_MODES, enforce_velocity_limits, joint_velocities, start_blend

START_TOLERANCE = 0.05  # rad: a start posture further outside the limits is refused
PENETRATION_TOLERANCE = 0.005  # m: a free sole corner deeper than this below the ground is lifted


@dataclasses.dataclass(frozen=True)
class RetargetSettings:
    velocity_mode: str = "retime"  # or "clip" (see retargeting/timing.py)
    blend_seconds: float = 1.0  # minimum time to blend from start_positions into the motion
    contact_blend_frames: int = 3
    contacts: ContactSettings = ContactSettings()
    frame_checks: FrameChecks = FrameChecks()


class Retargeter:
    def __init__(self, robot: RobotModel, settings: RetargetSettings = RetargetSettings()):
        if settings.velocity_mode not in VELOCITY_MODES:
            raise RetargetError(f"velocity mode must be one of {VELOCITY_MODES}, got {settings.velocity_mode!r}")
        self.robot = robot
        self.settings = settings
        self.solver = FrameSolver(robot)

    @classmethod
    def from_robot(cls, name_or_yaml: str | Path | RobotConfig = "g1", settings: RetargetSettings = RetargetSettings()) -> "Retargeter":
        config = name_or_yaml if isinstance(name_or_yaml, RobotConfig) else load_robot_config(name_or_yaml)
        return cls(RobotModel(config), settings)

    @property
    def joint_names(self) -> list[str]:
        return list(self.robot.joint_names)

    # --------------------------------------------------------------------------------------------
    def _check_start(self, start_positions, source: str) -> np.ndarray:
        start = np.asarray(start_positions, dtype=float).reshape(-1)
        if start.shape != (self.robot.nj,):
            raise RetargetError(f"{source}: start_positions must have {self.robot.nj} values "
                                f"(joints {self.robot.joint_names[:3]}...), got {start.shape}")
        if not np.isfinite(start).all():
            raise RetargetError(f"{source}: start_positions contains non-finite values")
        outside = np.maximum(self.robot.lower - start, start - self.robot.upper)
        if (outside > START_TOLERANCE).any():
            j = int(np.argmax(outside))
            raise RetargetError(f"{source}: start position of {self.robot.joint_names[j]} ({start[j]:.3f}) is outside its "
                                f"limits [{self.robot.lower[j]:.3f}, {self.robot.upper[j]:.3f}]")
        return np.clip(start, self.robot.lower, self.robot.upper)

    def solve_frames(self, targets) -> tuple[np.ndarray, dict]:
        """Per-frame IK over the whole clip; returns (T, nq) configurations and solver statistics."""
        robot, model, solver = self.robot, self.robot.model, self.solver
        frames = len(targets.positions)
        qs = np.empty((frames, model.nq))
        base_rotation = targets.pelvis_rotations[0] @ robot.calibration.base_rotation
        q = robot.configuration(targets.positions[0, 0], base_rotation, robot.rest_posture)
        iterations = rejected = restarts = restarts_taken = lifted = 0
        settings = robot.config.solver
        for t in range(frames):
            prior = None
            if t >= 2 and settings.extrapolate:
                q = pin.integrate(model, qs[t - 1], pin.difference(model, qs[t - 2], qs[t - 1]))
                q[7:] = np.clip(q[7:], robot.lower, robot.upper)
                prior = q[7:].copy()
            elif t >= 1:
                q = qs[t - 1].copy()
                prior = q[7:].copy()
            budget = 3 * settings.max_iterations if t == 0 else settings.warm_iterations
            q, info = solver.solve(q, targets.positions[t], targets.position_weights[t], targets.rotations[t],
                                   targets.rotation_weights[t], prior=prior, max_iterations=budget)
            if info.task_cost > settings.restart_cost:
                # Warm start stuck (a limit, a local minimum): try again from the rest posture, keep the better.
                cold = robot.configuration(targets.positions[t, 0], targets.pelvis_rotations[t] @ robot.calibration.base_rotation,
                                           robot.rest_posture)  # base on the pelvis target: never stay collapsed
                q_cold, info_cold = solver.solve(cold, targets.positions[t], targets.position_weights[t], targets.rotations[t],
                                                 targets.rotation_weights[t], prior=None, max_iterations=settings.max_iterations)
                restarts += 1
                iterations += info_cold.iterations
                if info_cold.task_cost < 0.8 * info.task_cost:
                    q, info, restarts_taken = q_cold, info_cold, restarts_taken + 1
            # A free foot whose sole dips below the ground (its orientation target out of reach): solve
            # the frame again with that sole pulled up just above the ground.
            lowest = robot.sole_points(q)[:, :, 2].min(axis=1)
            dipping = lowest < -PENETRATION_TOLERANCE
            if dipping.any():
                positions = targets.positions[t].copy()
                weights = targets.position_weights[t].copy()
                centres = robot.sole_points()[:, :, :].mean(axis=1)
                for side in np.flatnonzero(dipping):
                    slot = len(robot.keypoint_frame_ids) + side
                    positions[slot] = centres[side] + [0.0, 0.0, -lowest[side] + PENETRATION_TOLERANCE]
                    weights[slot] = max(weights[slot], 0.1 * settings.contact_weight)
                q, info_lift = solver.solve(q, positions, weights, targets.rotations[t], targets.rotation_weights[t],
                                            prior=prior, max_iterations=settings.warm_iterations)
                lifted += 1
                iterations += info_lift.iterations
            qs[t] = q
            iterations += info.iterations
            rejected += info.rejected_steps
        return qs, {"mean_iterations": iterations / frames, "rejected_steps": rejected, "restarts_tried": restarts,
                    "restarts_taken": restarts_taken, "frames_feet_lifted": lifted}

    def retarget(self, human_joints_yup, fps: float = 20.0, start_positions=None, source: str = "motion") -> RobotMotion:
        if not (isinstance(fps, (int, float)) and np.isfinite(fps) and fps > 0):
            raise RetargetError(f"{source}: fps must be a positive number, got {fps!r}")
        robot, settings = self.robot, self.settings
        clean = clean_motion(human_joints_yup, source, settings.frame_checks)
        contacts = detect_contacts(clean.joints, fps, settings.contacts)
        targets = build_targets(robot, clean.joints, contacts, settings.contact_blend_frames)
        qs, solver_stats = self.solve_frames(targets)

        # Keypoint error on the solved frames (before any blend or retiming: same geometry).
        keypoint_errors = []
        kp_count = len(robot.keypoint_frame_ids)
        for t in range(len(qs)):
            reached = robot.keypoint_positions(qs[t])
            mask = targets.position_weights[t, :kp_count] > 0
            keypoint_errors.append(np.linalg.norm(reached[mask] - targets.positions[t, :kp_count][mask], axis=-1))
        all_errors = np.concatenate(keypoint_errors)

        base_positions = np.empty((len(qs), 3))
        base_orientations = np.empty((len(qs), 4))
        for t, q in enumerate(qs):
            pin.framesForwardKinematics(robot.model, robot.data, q)
            base_positions[t], base_orientations[t] = robot.root_pose(q)
        positions = qs[:, 7:].copy()
        contact_flags = contacts.in_contact.copy()

        blend_frames = 0
        if start_positions is not None:
            start = self._check_start(start_positions, source)
            blend = start_blend(start, positions[0], robot.velocity_limits, settings.blend_seconds, fps)
            blend_frames = len(blend)
            positions = np.concatenate([blend, positions])
            base_positions = np.concatenate([np.repeat(base_positions[:1], blend_frames, 0), base_positions])
            base_orientations = np.concatenate([np.repeat(base_orientations[:1], blend_frames, 0), base_orientations])
            contact_flags = np.concatenate([np.repeat(contact_flags[:1], blend_frames, 0), contact_flags])

        times = np.arange(len(positions)) / float(fps)
        positions, times, velocity_report = enforce_velocity_limits(positions, times, robot.velocity_limits, settings.velocity_mode)
        positions = np.clip(positions, robot.lower, robot.upper)  # exact, against rounding
        velocities = joint_velocities(positions, times)

        report = {
            "robot": robot.config.name,
            "source": source,
            "input_frames": int(len(qs)),
            "fps": float(fps),
            "bad_frames": clean.bad_frames,
            "bad_frame_reasons": {str(k): v for k, v in clean.reasons.items()},
            "human_ground_height_m": contacts.ground_height,
            "root_scale": targets.root_scale,
            "keypoint_scales": targets.keypoint_scales,
            "contact_frames": {"left": int(contacts.in_contact[:, 0].sum()), "right": int(contacts.in_contact[:, 1].sum())},
            "start_blend_frames": blend_frames,
            "velocity": dataclasses.asdict(velocity_report),
            "solver": solver_stats,
            "keypoint_error_cm": {"mean": float(all_errors.mean() * 100), "max": float(all_errors.max() * 100)},
            "limits": metrics.limit_violations(robot, positions, velocities, times),
            "velocity_limits_rad_s": dict(zip(robot.joint_names, robot.velocity_limits.tolist())),
        }
        motion = RobotMotion(
            robot=robot.config.name, joint_names=list(robot.joint_names), times=times, positions=positions,
            velocities=velocities, base_positions=base_positions, base_orientations=base_orientations,
            contacts=contact_flags, report=report, urdf=str(robot.urdf_path),
        )
        motion.validate(source)
        return motion
