"""Retargeter: SMPL 22-joint human motion (Y up) -> RobotMotion for one robot (see docs/architecture.md).

Pipeline: check and repair frames (human_motion) -> ground and foot contacts (contacts) -> per-frame
targets (targets) -> per-frame IK warm-started from the previous frames (solver) -> smoothing over time
(smoothing) -> optional blend from the robot's current posture -> joint velocity limits across frames
(timing) -> RobotMotion.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pinocchio as pin

from motiongpt.skeleton import FPS
from retargeting import metrics
from retargeting.contacts import ContactSettings, detect_contacts
from retargeting.errors import RetargetError
from retargeting.human_motion import FrameChecks, clean_motion
from retargeting.motion import RobotMotion
from retargeting.robot_config import RobotConfig, load_robot_config
from retargeting.robot_model import RobotModel
from retargeting.smoothing import smooth_joints
from retargeting.solver import FrameSolver
from retargeting.targets import build_targets
from retargeting.timing import (VELOCITY_MODES, enforce_velocity_limits, fit_within_acceleration_limits,
                                fit_within_velocity_limits, joint_velocities, start_blend)

START_TOLERANCE = 0.05  # rad: a start posture further outside the limits is refused
PENETRATION_TOLERANCE = 0.005  # m: a free sole corner deeper than this below the ground is lifted


@dataclasses.dataclass(frozen=True)
class RetargetSettings:
    velocity_mode: str = "retime"  # or "clip" (see retargeting/timing.py)
    blend_seconds: float = 1.0  # minimum time to blend from start_positions into the motion
    contact_blend_frames: int = 3
    # Gaussian smoothing of the solved joints over time (sigma, s; planted legs keep theirs; 0 = off): 0.035 s
    # (0.7 frames at 20 fps): on 253 clips 35-38% less jerk on G1, Talos and Romeo for 0.1-0.7% more mean
    # keypoint error, the same foot sliding and worst errors within 1-3 cm (G1's lower).
    smoothing_seconds: float = 0.035
    # Keep the motion's time: a joint that still steps faster than its velocity limit after the solve (a
    # stuck frame recovered in a widened box) has that step spread over the frames around it
    # (`timing.fit_within_velocity_limits`) instead of the retime slowing the whole interval down.
    keep_time: bool = True
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

    def solve_frames(self, targets, fps: float = FPS, velocity_limits: np.ndarray | None = None,
                     acceleration_limits: np.ndarray | None = None) -> tuple[np.ndarray, dict]:
        """Per-frame IK over the whole clip; returns (T, nq) configurations and solver statistics.

        Each frame is warm-started from the previous one and each joint may move at most
        ``solver.velocity_box`` times its velocity limit per frame, and change its step from the previous one by at
        most its acceleration limit (`_frame_bounds`; hard bounds in the IK: the raw motion then needs no retiming,
        and neither does the ROS node's acceleration cap); the velocity limits are the robot's
        (`RobotModel.velocity_limits`) or lower ones given, the acceleration limits only those given
        (`motion_limits`). A foot landing far from its planted target pulls as if it were
        ``solver.contact_reach`` away (`_reachable_contact_weights`). A frame is stuck when its task cost stays
        above ``restart_cost`` or jumps ``stuck_jump`` times above the previous frame's. A stuck frame is
        recovered in stages, each only while it is still stuck: (1) the warm solve continued when its budget
        ran out, (2) the previous frame's joints re-seated on this frame's pelvis target, (3) the rest posture on the pelvis target
        (taken when it lowers the cost by ``reseed_gain``), (4) a box widened to ``stuck_box`` (``stuck_box_planted``
        while a foot is planted, when set; taken when it at least halves the cost; the time-keeping fit or the
        retime then absorbs that interval). A recovery that gains
        nothing marks the target as out of reach (a crawl, a roll): the next ``retry_frames`` frames are
        not recovered again unless their cost rises ``stuck_jump`` times (this keeps the recovery to
        genuinely stuck frames and the throughput at the level without it)."""
        robot, model = self.robot, self.robot.model
        frames = len(targets.positions)
        qs = np.empty((frames, model.nq))
        base_rotation = targets.pelvis_rotations[0] @ robot.calibration.base_rotation
        q = robot.configuration(targets.positions[0, 0], base_rotation, robot.rest_posture)
        settings = robot.config.solver
        velocity_limits, acceleration_limits = self.motion_limits(velocity_limits, acceleration_limits)
        box = settings.velocity_box * velocity_limits / fps if settings.velocity_box > 0 else None
        step_change = acceleration_limits / fps ** 2 if box is not None else None
        stats = _SolveStats()
        task_costs = np.zeros(frames)
        futility = _Futility(last=-frames - 1, cost=np.inf)  # the last recovery that gained nothing, and its cost
        for t in range(frames):
            prior = None
            low, high = robot.lower, robot.upper
            if t >= 1 and box is not None:
                low, high = _frame_bounds(robot, qs[t - 1, 7:], qs[t - 2, 7:] if t >= 2 else None, box, step_change)
            if t >= 2 and settings.extrapolate:
                q = pin.integrate(model, qs[t - 1], pin.difference(model, qs[t - 2], qs[t - 1]))
                q[7:] = np.clip(q[7:], low, high)
                prior = q[7:].copy()
            elif t >= 1:
                q = qs[t - 1].copy()
                prior = q[7:].copy()
            position_weights, rotation_weights = self._reachable_contact_weights(q, targets, t)
            frame = _Frame(t, (targets.positions[t], position_weights, targets.rotations[t],
                               rotation_weights), prior, low, high,
                           qs[t - 1] if t >= 1 else None, task_costs[t - 1] if t >= 1 else np.inf)
            budget = 3 * settings.max_iterations if t == 0 else settings.warm_iterations
            q, info = self.solver.solve(q, *frame.task, prior=prior, max_iterations=budget, lower=low, upper=high)
            stats.iterations += info.iterations
            # A frame whose target is merely out of reach (a crawl's hands and feet, a roll) keeps a high cost
            # frame after frame, and re-seeding it again is futile: after a recovery that gained nothing, the
            # next frames are tried again only when their cost rises, or every ``retry_frames`` frames.
            futile = t - futility.last < settings.retry_frames and info.task_cost < settings.stuck_jump * futility.cost
            if self._stuck(info, frame) and not futile:
                cost_before = info.cost
                q, info, frame = self._recover(q, info, frame, budget, box, targets, stats)
                if info.cost > 0.9 * cost_before:
                    futility.last, futility.cost = t, info.task_cost
            q = self._lift_dipping_feet(q, frame, targets, stats)
            qs[t] = q
            task_costs[t] = info.task_cost
            stats.rejected += info.rejected_steps
        return qs, stats.report(frames)

    def _reachable_contact_weights(self, q: np.ndarray, targets, t: int) -> tuple[np.ndarray, np.ndarray]:
        """Frame t's position and rotation weights. A foot coming down further than ``solver.contact_reach`` from
        its planted sole target (``q``, the warm start, is where the robot's foot is: a robot too slow for a
        cartwheel or a dash lands it late) has its sole's weight and its orientation's rise to the contact weight
        multiplied by reach / distance: its pull (the cost's gradient) is then that of a foot at the reach, however
        far it is, instead of growing with the distance. At the full weight, a Talos sole half a metre off weighed
        more than every other target together, and the solver threw the whole body to put it down (base turned
        126 degrees in one frame, keypoints off by up to 1.6 m on the cartwheel)."""
        robot = self.robot
        position_weights, rotation_weights = targets.position_weights[t], targets.rotation_weights[t]
        reach = robot.config.solver.contact_reach
        soles = slice(len(robot.keypoint_frame_ids), len(robot.keypoint_frame_ids) + 2)
        planted = position_weights[soles] > 0
        if reach is None or not planted.any():
            return position_weights, rotation_weights
        distances = np.linalg.norm(robot.sole_points(q).mean(axis=1) - targets.positions[t, soles], axis=1)
        far = planted & (distances > reach)
        if not far.any():
            return position_weights, rotation_weights
        position_weights, rotation_weights = position_weights.copy(), rotation_weights.copy()
        for side in np.flatnonzero(far):
            share = reach / distances[side]
            position_weights[soles.start + side] *= share
            m = robot.foot_orientation_slots[side]
            base = robot.config.orientations[m].weight
            rotation_weights[m] = base + share * (rotation_weights[m] - base)
        return position_weights, rotation_weights

    def _stuck(self, info, frame: "_Frame") -> bool:
        """High task cost, or a cost jumping well above the previous frame's while the target moves on."""
        settings = self.robot.config.solver
        return info.task_cost > settings.restart_cost or (
            info.task_cost > settings.stuck_jump * frame.previous_cost
            and info.task_cost > 0.25 * settings.restart_cost)

    def _recover(self, q: np.ndarray, info, frame: "_Frame", budget: int, box, targets, stats: "_SolveStats"):
        """The recovery stages of a stuck frame (see `solve_frames`), each only while it is still stuck.
        Returns the best (q, info) and the frame, whose joint bounds are wider when the widened box was taken."""
        robot, solver, settings = self.robot, self.solver, self.robot.config.solver
        task, prior, low, high = frame.task, frame.prior, frame.low, frame.high
        stats.restarts += 1
        pelvis = targets.pelvis_rotations[frame.t] @ robot.calibration.base_rotation
        pelvis_target = targets.positions[frame.t, 0]

        def attempt(seed, lower=low, upper=high):
            q_try, info_try = solver.solve(seed, *task, prior=prior, max_iterations=settings.recover_iterations,
                                           lower=lower, upper=upper)
            stats.iterations += info_try.iterations
            return q_try, info_try

        # 1. Continue from the warm solution when its budget ran out (merely slow, not trapped): the result
        #    stays continuous with the previous frame.
        if info.iterations >= budget:
            q_try, info_try = attempt(q)
            if info_try.cost < info.cost:
                q, info = q_try, info_try
        if self._stuck(info, frame):
            # 2. Re-seat: the previous frame's joints with the base on this frame's pelvis target (a base lagging
            #    behind a fast turn holds every limb off its target). The joints stay continuous, so any gain is
            #    taken.
            joints = frame.previous_q[7:] if frame.previous_q is not None else robot.rest_posture
            q_try, info_try = attempt(robot.configuration(pelvis_target, pelvis, np.clip(joints, low, high)))
            if info_try.cost < info.cost:
                q, info = q_try, info_try
                stats.restarts_taken += 1
        if self._stuck(info, frame):
            # 3. Another basin: the rest posture on the pelvis target (within the box). It is a jump away from
            #    the previous frame (the free base, outside the joint box, may turn fast, and the servos then
            #    overshoot): taken only for a clear gain, never for a marginal one.
            q_try, info_try = attempt(robot.configuration(pelvis_target, pelvis, np.clip(robot.rest_posture, low, high)))
            if info_try.cost < settings.reseed_gain * info.cost:
                q, info = q_try, info_try
                stats.restarts_taken += 1
        if (box is not None and frame.previous_q is not None and settings.stuck_box > settings.velocity_box
                and info.task_cost > settings.restart_cost):
            # Still stuck: the box may hold the limb on the wrong side of a limit or a twist. Allow a faster move
            # (the time-keeping fit or the retime then absorbs this interval) when it at least halves the cost. Seeds: the stuck
            # solution and the rest posture on the pelvis target (never stay collapsed). The first frame has no
            # box to widen (it was read from uninitialised memory before).
            stuck_box = settings.stuck_box
            if settings.stuck_box_planted is not None and targets.planted[frame.t].any():
                stuck_box = settings.stuck_box_planted  # a planted leg's jump would be retimed, not spread
            wide = stuck_box / settings.velocity_box * box
            low_w = np.maximum(robot.lower, frame.previous_q[7:] - wide)
            high_w = np.minimum(robot.upper, frame.previous_q[7:] + wide)
            cold = robot.configuration(pelvis_target, pelvis, robot.rest_posture)
            wide_best = None
            for seed in (q, cold):
                q_try, info_try = attempt(seed, low_w, high_w)
                if wide_best is None or info_try.cost < wide_best[1].cost:
                    wide_best = (q_try, info_try)
            if wide_best[1].cost < settings.stuck_box_gain * info.cost:
                q, info = wide_best
                frame = dataclasses.replace(frame, low=low_w, high=high_w)
                stats.widened += 1
        return q, info, frame

    def _lift_dipping_feet(self, q: np.ndarray, frame: "_Frame", targets, stats: "_SolveStats"):
        """A free foot whose sole dips below the ground (its orientation target out of reach): solve the frame
        again with that sole pulled up just above the ground."""
        robot, settings = self.robot, self.robot.config.solver
        lowest = robot.sole_points(q)[:, :, 2].min(axis=1)
        dipping = lowest < -PENETRATION_TOLERANCE
        if not dipping.any():
            return q
        positions = targets.positions[frame.t].copy()
        weights = targets.position_weights[frame.t].copy()
        centres = robot.sole_points()[:, :, :].mean(axis=1)
        for side in np.flatnonzero(dipping):
            slot = len(robot.keypoint_frame_ids) + side
            positions[slot] = centres[side] + [0.0, 0.0, -lowest[side] + PENETRATION_TOLERANCE]
            weights[slot] = max(weights[slot], 0.1 * settings.contact_weight)
        q, info_lift = self.solver.solve(q, positions, weights, targets.rotations[frame.t],
                                         targets.rotation_weights[frame.t], prior=frame.prior,
                                         max_iterations=settings.warm_iterations, lower=frame.low, upper=frame.high)
        stats.lifted += 1
        stats.iterations += info_lift.iterations
        return q

    def task_targets(self, human_joints_yup, fps: float = FPS, source: str = "motion"):
        """The per-frame IK targets `retarget` solves for (`solve_frames`' input): the motion checked and cleaned,
        its contacts detected, its keypoints scaled to the robot."""
        return self._prepare(human_joints_yup, fps, source)[2]

    def _prepare(self, human_joints_yup, fps: float, source: str):
        settings = self.settings
        clean = clean_motion(human_joints_yup, source, settings.frame_checks)
        contacts = detect_contacts(clean.joints, fps, settings.contacts)
        return clean, contacts, build_targets(self.robot, clean.joints, contacts, settings.contact_blend_frames, fps)

    def motion_limits(self, velocity_limits: np.ndarray | None = None, acceleration_limits: np.ndarray | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
        """The velocity (rad/s) and acceleration (rad/s^2) limits a motion keeps, per joint in `joint_names` order:
        the robot's velocity limits or lower ones given, and the acceleration limits given (default: none). The ROS
        node passes the limits it publishes under (its velocity_scale of the velocity limits, the robot config's
        max_joint_acceleration), so that its shaping has nothing to slow down."""
        return (self._at_most(self.robot.velocity_limits, velocity_limits, "velocity"),
                self._at_most(np.full(self.robot.nj, np.inf), acceleration_limits, "acceleration"))

    def _at_most(self, own: np.ndarray, given: np.ndarray | None, name: str) -> np.ndarray:
        """``own`` lowered to the limits ``given`` (None: ``own``), which must be one positive value per joint."""
        if given is None:
            return own
        given = np.asarray(given, dtype=np.float64)
        if given.shape != own.shape or np.isnan(given).any() or not (given > 0).all():
            raise RetargetError(f"{name} limits must be {own.size} positive values (joint order "
                                f"{self.robot.joint_names[:3]}...), got shape {given.shape}")
        return np.minimum(own, given)

    def retarget(self, human_joints_yup, fps: float = FPS, start_positions=None, source: str = "motion",
                 velocity_limits: np.ndarray | None = None, acceleration_limits: np.ndarray | None = None) -> RobotMotion:
        """The robot motion for (T, 22, 3) SMPL joints (Y up, metres) at ``fps``: solved within the robot's
        velocity limits or the lower ones given, and within the acceleration limits given (`motion_limits`), and
        blended in from ``start_positions`` when given."""
        if not (isinstance(fps, (int, float)) and np.isfinite(fps) and fps > 0):
            raise RetargetError(f"{source}: fps must be a positive number, got {fps!r}")
        robot, settings = self.robot, self.settings
        velocity_limits, acceleration_limits = self.motion_limits(velocity_limits, acceleration_limits)
        clean, contacts, targets = self._prepare(human_joints_yup, fps, source)
        qs, solver_stats = self.solve_frames(targets, fps, velocity_limits, acceleration_limits)
        held = robot.planted_leg_samples(targets.planted)  # neither smoothed nor spread
        qs[:, 7:] = smooth_joints(qs[:, 7:], settings.smoothing_seconds * fps, held)
        refitted_joints = accelerations_refitted = 0
        if settings.keep_time:
            qs[:, 7:], refitted_joints = fit_within_velocity_limits(qs[:, 7:], velocity_limits / fps,
                                                                    robot.lower, robot.upper, held)
            qs[:, 7:], accelerations_refitted = fit_within_acceleration_limits(
                qs[:, 7:], acceleration_limits / fps ** 2, velocity_limits / fps, robot.lower, robot.upper, held)

        frames = self._measure_frames(qs, targets)
        positions = qs[:, 7:].copy()
        base_positions, base_orientations = frames.base_positions, frames.base_orientations
        contact_flags = contacts.in_contact.copy()
        blend_frames = 0
        if start_positions is not None:
            start = self._check_start(start_positions, source)
            blend = start_blend(start, positions[0], velocity_limits, settings.blend_seconds, fps)
            blend_frames = len(blend)
            positions = np.concatenate([blend, positions])
            base_positions = np.concatenate([np.repeat(base_positions[:1], blend_frames, 0), base_positions])
            base_orientations = np.concatenate([np.repeat(base_orientations[:1], blend_frames, 0), base_orientations])
            contact_flags = np.concatenate([np.repeat(contact_flags[:1], blend_frames, 0), contact_flags])
        raised = self._floor_clearance(qs[0], positions[:blend_frames], frames.lowest_sole)
        base_positions[:, 2] += raised

        times = np.arange(len(positions)) / float(fps)
        positions, times, velocity_report = enforce_velocity_limits(positions, times, velocity_limits, settings.velocity_mode)
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
            "velocity": {**dataclasses.asdict(velocity_report), "joints_refitted_to_keep_time": refitted_joints,
                         "joints_refitted_to_keep_acceleration": accelerations_refitted},
            "solver": solver_stats,
            "keypoint_error_cm": {"mean": float(frames.all_errors.mean() * 100), "max": float(frames.all_errors.max() * 100)},
            "raised_off_the_floor": {"frames": int((raised > 0).sum()), "max_cm": round(float(raised.max()) * 100, 2)},
            "keypoint_error_cm_by_keypoint": frames.error_cm_by_keypoint(robot),  # mean over frames with a target
            "limits": metrics.limit_violations(robot, positions, velocities, times),
            "velocity_limits_rad_s": dict(zip(robot.joint_names, velocity_limits.tolist())),
        }
        motion = RobotMotion(
            robot=robot.config.name, joint_names=list(robot.joint_names), times=times, positions=positions,
            velocities=velocities, base_positions=base_positions, base_orientations=base_orientations,
            contacts=contact_flags, report=report, urdf=str(robot.urdf_path),
        )
        motion.validate(source)
        return motion

    def _measure_frames(self, qs: np.ndarray, targets) -> "_FrameMeasures":
        """One forward kinematics per solved frame (before any blend or retiming: same geometry): keypoint
        error, root pose and the lowest sole corner."""
        robot = self.robot
        kp_count = len(robot.keypoint_frame_ids)
        measures = _FrameMeasures(np.full((len(qs), kp_count), np.nan), np.empty((len(qs), 3)),
                                  np.empty((len(qs), 4)), np.empty(len(qs)))
        for t, q in enumerate(qs):
            reached = robot.keypoint_positions(q)  # runs the forward kinematics the two calls below read
            mask = targets.position_weights[t, :kp_count] > 0
            measures.keypoint_errors[t, mask] = np.linalg.norm(
                reached[mask] - targets.reference_positions[t, :kp_count][mask], axis=-1)
            measures.base_positions[t], measures.base_orientations[t] = robot.root_pose(q)
            measures.lowest_sole[t] = robot.sole_points()[:, :, 2].min()
        return measures

    def _floor_clearance(self, first_q: np.ndarray, blend: np.ndarray, lowest_sole: np.ndarray) -> np.ndarray:
        """How far (m) to raise each output frame so that no sole is below the floor: a planted foot the IK
        left a centimetre or two under its z = 0 target, or the start blend's postures under the first
        frame's base, would be pushed by the ground with the robot's weight (and, with the base driven, roll
        the pelvis under the torso). ``blend``: the blend's joint positions, placed on the first frame's base."""
        lowest = np.concatenate([np.empty(len(blend)), lowest_sole])
        for t, joints in enumerate(blend):
            q = first_q.copy()
            q[7:] = joints
            lowest[t] = self.robot.sole_points(q)[:, :, 2].min()
        return np.maximum(0.0, -lowest)


@dataclasses.dataclass(frozen=True)
class _FrameMeasures:
    """Per solved frame: keypoint errors (T, K) (NaN: no target that frame), root pose, lowest sole height."""
    keypoint_errors: np.ndarray
    base_positions: np.ndarray
    base_orientations: np.ndarray
    lowest_sole: np.ndarray

    @property
    def all_errors(self) -> np.ndarray:
        return self.keypoint_errors[np.isfinite(self.keypoint_errors)]

    def error_cm_by_keypoint(self, robot) -> dict[str, float]:
        return {k.smpl: round(float(np.nanmean(self.keypoint_errors[:, i])) * 100, 2)
                for i, k in enumerate(robot.config.keypoints) if np.isfinite(self.keypoint_errors[:, i]).any()}


@dataclasses.dataclass(frozen=True)
class _Frame:
    """One frame of `Retargeter.solve_frames`: its index, task (positions, weights, rotations, weights), the
    posture prior, the joint bounds (the velocity box), the previous frame's solution and task cost."""
    t: int
    task: tuple
    prior: np.ndarray | None
    low: np.ndarray
    high: np.ndarray
    previous_q: np.ndarray | None
    previous_cost: float


@dataclasses.dataclass
class _Futility:
    last: int      # frame of the last recovery that gained nothing
    cost: float    # its task cost


def _frame_bounds(robot: RobotModel, previous: np.ndarray, before: np.ndarray | None, box: np.ndarray,
                  step_change: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """A frame's joint bounds: the position limits; at most ``box`` from the previous frame's joints (velocity);
    and, given the frame before, at most ``step_change`` from where the previous step carried on would land
    (acceleration: (q_t - 2 q_t-1 + q_t-2) fps^2, the finite difference the ROS node's shaping measures). A joint
    that cannot keep both (running into a position limit faster than it can stop) takes the bound nearest to its
    acceleration box."""
    low = np.maximum(robot.lower, previous - box)
    high = np.minimum(robot.upper, previous + box)
    if before is None or step_change is None:
        return low, high
    ahead = 2.0 * previous - before
    return np.clip(ahead - step_change, low, high), np.clip(ahead + step_change, low, high)


@dataclasses.dataclass
class _SolveStats:
    iterations: int = 0
    rejected: int = 0
    restarts: int = 0
    restarts_taken: int = 0
    lifted: int = 0
    widened: int = 0

    def report(self, frames: int) -> dict:
        return {"mean_iterations": self.iterations / frames, "rejected_steps": self.rejected,
                "restarts_tried": self.restarts, "restarts_taken": self.restarts_taken,
                "frames_feet_lifted": self.lifted, "frames_box_widened": self.widened}
