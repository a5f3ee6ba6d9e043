"""Per-frame inverse kinematics on Pinocchio: weighted position and orientation tasks on a floating base.

Each iteration is one damped Gauss-Newton step of

    sum_p w_p |p*_p - p_p(q)|^2 + sum_r w_r |W_r log(R*_r R_r(q)^T)|^2
      + sum_j w_posture,j (q_j - q_rest,j)^2 + w_smooth |q_j - q_prior|^2

over the generalised velocity (6 base + joints), with frame Jacobians from Pinocchio
(LOCAL_WORLD_ALIGNED). The rotation errors are world-frame rotation vectors; W_r = diag(1, 1,
sqrt(yaw_share)) weighs the turn about the vertical apart from the tilt (a planted foot may pivot more
easily than it may tip). Joint position limits are hard: the step is a box-constrained least-squares
solve (an active set of joints pinned at their bounds: a quick guess, solved exactly when the guess
predicts no decrease), so every iterate lies within the URDF limits. A step that does not lower the cost
is rejected and retried with ten times the damping and at most half its length; iterations are bounded,
and each step changes no joint by more than ``max_step`` (a trust region that keeps a leg from flipping
through a singularity). The prior is the previous frame (or its constant-velocity prediction):
warm start and smoothness. Callers may narrow the joint box per frame (the retargeter bounds each joint's
change from the previous frame by its velocity limit, so the raw motion needs no retiming).
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pinocchio as pin
from scipy.linalg.lapack import dposv as _dposv

from retargeting.robot_config import SolverSettings
from retargeting.robot_model import RobotModel

LWA = pin.ReferenceFrame.LOCAL_WORLD_ALIGNED


def _spd_solve(H: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Solve H x = g for a symmetric positive definite H (LAPACK dposv; H is ours, no input checks)."""
    _, x, info = _dposv(H, g)
    if info != 0:  # not positive definite (cannot happen with damping > 0); fall back to a general solve
        return np.linalg.lstsq(H, g, rcond=None)[0]
    return x


def _quick_box_solve(H: np.ndarray, g: np.ndarray, low: np.ndarray,
                     high: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """min 0.5 dq'H dq - g'dq with low <= dq[6:] <= high, quickly: every joint that leaves its box is pinned
    at the bound it crossed and the rest re-solved (one LAPACK call per pass, a few passes). Returns the
    step and the joints pinned at their upper and lower bounds (None when the first solve was inside)."""
    dq = _spd_solve(H, g)
    joint = dq[6:]
    if not ((joint > high) | (joint < low)).any():
        return dq, None
    at_high = np.zeros(len(high), dtype=bool)
    at_low = np.zeros(len(low), dtype=bool)
    for _ in range(8):
        joint = dq[6:]
        free = ~(at_high | at_low)
        over, under = (joint > high) & free, (joint < low) & free
        if not (over.any() or under.any()):
            break
        at_high |= over
        at_low |= under
        dq = _pinned_solve(H, g, at_high, at_low, low, high)
    # Pinned joints stay at their bound for this step; the next iteration starts with all free.
    return dq, (at_high, at_low)


def _exact_box_solve(H: np.ndarray, g: np.ndarray, low: np.ndarray, high: np.ndarray, dq: np.ndarray,
                     at_high: np.ndarray, at_low: np.ndarray) -> np.ndarray:
    """The same problem solved exactly from the quick guess ``dq`` and its pinned joints (primal active-set
    iterations, each lowering the objective). The guess can pin a joint that the minimiser moves back inside
    (its step then raises the model cost, and the frame stood still as if converged). At the minimiser with the
    pinned joints held, every pinned joint whose multiplier wants it back inside is released; the next such
    minimiser is followed only as far as the box allows (a joint meeting its bound is pinned there, and the
    minimiser with it pinned is sought again). Done when no pinned joint wants to move inside."""
    at_high, at_low = at_high.copy(), at_low.copy()
    joints = dq[6:]
    # the quick guess is the minimiser with its joints pinned, unless it ran out of passes with joints outside
    at_minimiser = not (((joints > high) | (joints < low)) & ~(at_high | at_low)).any()
    dq = dq.copy()
    dq[6:] = np.minimum(np.maximum(joints, low), high)
    tolerance = 1e-9 * (1.0 + float(np.abs(g).max()))
    for _ in range(4 * len(high) + 4):
        if at_minimiser:
            multiplier = (g - H @ dq)[6:]  # > 0: the objective falls as the joint rises
            wrong = (at_high & (multiplier < -tolerance)) | (at_low & (multiplier > tolerance))
            if not wrong.any():
                break  # every pinned joint presses against its bound: the minimiser of the box
            at_high &= ~wrong
            at_low &= ~wrong
        target = _pinned_solve(H, g, at_high, at_low, low, high)
        direction = target[6:] - dq[6:]
        with np.errstate(divide="ignore", invalid="ignore"):
            room = np.where(direction > 0, (high - dq[6:]) / direction,
                            np.where(direction < 0, (low - dq[6:]) / direction, np.inf))
        room[at_high | at_low] = np.inf
        blocking = int(np.argmin(room))
        if room[blocking] >= 1.0:
            dq, at_minimiser = target, True
            continue
        # a free joint meets its bound on the way: pinned there (the objective falls along the way: convex)
        dq = dq + max(room[blocking], 0.0) * (target - dq)
        if direction[blocking] > 0:
            at_high[blocking], dq[6 + blocking] = True, high[blocking]
        else:
            at_low[blocking], dq[6 + blocking] = True, low[blocking]
        at_minimiser = False
    return dq


def _pinned_solve(H: np.ndarray, g: np.ndarray, at_high: np.ndarray, at_low: np.ndarray, low: np.ndarray,
                  high: np.ndarray) -> np.ndarray:
    """The minimiser of 0.5 dq'H dq - g'dq with the joints ``at_high`` / ``at_low`` held at those bounds;
    pinning eliminates them from the (full-size) system, which keeps one LAPACK call."""
    pinned = np.zeros(len(g), dtype=bool)
    pinned[6:] = at_high | at_low
    values = np.zeros(len(g))
    values[6:] = np.where(at_high, high, np.where(at_low, low, 0.0))
    reduced_g = g - H[:, pinned] @ values[pinned]
    reduced_H = H.copy()
    reduced_H[pinned, :] = 0.0
    reduced_H[:, pinned] = 0.0
    reduced_H[pinned, pinned] = 1.0
    reduced_g[pinned] = values[pinned]
    return _spd_solve(reduced_H, reduced_g)


def _batch_log3(R: np.ndarray) -> np.ndarray:
    """(M,3) rotation vectors of (M,3,3) rotations (pin.log3 where the angle is near pi)."""
    parts = R.reshape(len(R), 9)[:, _LOG3_ORDER]  # one gather: the diagonal, then the vee's two halves
    cos = np.minimum(np.maximum((parts[:, 0] + parts[:, 1] + parts[:, 2] - 1.0) * 0.5, -1.0), 1.0)  # np.clip, cheaper
    angle = np.arccos(cos)
    vee = 0.5 * (parts[:, 3:6] - parts[:, 6:9])  # (R21 - R12, R02 - R20, R10 - R01) / 2
    # The rare branches are found on Python floats (cheaper than numpy's comparisons and any() on a few rows).
    small = near_pi = False
    for value in angle.tolist():
        if value < 1e-4:
            small = True
        elif value > _NEAR_PI:
            near_pi = True
    if small:
        small = angle < 1e-4
        factor = np.where(small, 1.0 + angle * angle / 6.0, angle / np.where(small, 1.0, np.sqrt(1.0 - cos * cos)))
    else:  # the same values as the np.where above, without its extra passes
        factor = angle / np.sqrt(1.0 - cos * cos)
    out = vee * factor[:, None]
    if near_pi:
        for m in np.flatnonzero(angle > _NEAR_PI):
            out[m] = pin.log3(R[m])
    return out


_NEAR_PI = np.pi - 1e-3
# flat indices of R[0,0], R[1,1], R[2,2], then R[2,1], R[0,2], R[1,0], then R[1,2], R[2,0], R[0,1]
_LOG3_ORDER = np.array([0, 4, 8, 7, 2, 3, 5, 6, 1])


@dataclasses.dataclass
class SolveInfo:
    iterations: int
    rejected_steps: int
    cost: float
    task_cost: float  # the weighted position + orientation error alone (no regularisers)


class FrameSolver:
    def __init__(self, robot: RobotModel, settings: SolverSettings | None = None):
        self.robot = robot
        self.model = robot.model
        self.data = robot.data
        self.settings = settings or robot.config.solver
        self.position_frames = list(robot.keypoint_frame_ids) + list(robot.sole_frame_ids)
        self.rotation_frames = list(robot.orientation_frame_ids)
        # per orientation, each world axis's share of its weight: (1, 1, yaw_share), the vertical last
        self.rotation_axis_shares = np.array(
            [[1.0, 1.0, o.yaw_share] for o in robot.config.orientations]).reshape(-1, 3)
        self.nv = self.model.nv
        self.lower, self.upper = robot.lower, robot.upper
        self._eye = np.eye(self.nv)
        self.capsules = robot.capsule_pairs  # self-collision pairs (None: no avoidance)
        # (frames, 1, nv): the generalised velocities that move each task frame (its parent joint's support)
        self._position_support = self._support(self.position_frames)
        self._task_cache = {}  # see _Task.of
        self._rotation_support = self._support(self.rotation_frames)
        self._last = None  # (frames key, evaluation) where the last solve ended: see _start

    def _support(self, frames: list[int]) -> np.ndarray:
        model = self.model
        support = np.zeros((len(frames), 1, self.nv), dtype=bool)
        for k, frame in enumerate(frames):
            for joint in model.supports[model.frames[frame].parentJoint]:
                if joint > 0:
                    start = model.joints[joint].idx_v
                    support[k, 0, start:start + model.joints[joint].nv] = True
        return support

    # --------------------------------------------------------------------------------------------
    def _evaluate(self, q: np.ndarray, task: "_Task") -> "_Evaluation":
        """Kinematics (joint placements and Jacobians, in ``data``) at ``q``, the task errors and the cost.
        Placements of the task frames only are updated: cheaper than all frames."""
        model, data = self.model, self.data
        pin.computeJointJacobians(model, data, q)
        update = pin.updateFramePlacement
        # the position frames' and the capsule ends' translations in one array (one read per frame)
        points = np.array([update(model, data, f).translation for f in task.point_frames]).reshape(-1, 3)
        current = np.array([update(model, data, f).rotation for f in task.rotation_frames]).reshape(-1, 3, 3)
        capsules = None
        if self.capsules is not None:  # placements of the current kinematics
            capsules = self.capsules.evaluate(data, ends=points[len(task.position_frames):])
        return self._errors(q, task, _Kinematics(points, current, capsules))

    def _errors(self, q: np.ndarray, task: "_Task", kinematics: "_Kinematics") -> "_Evaluation":
        """The task errors and the cost of ``q`` whose kinematics are known."""
        reached = kinematics.points[:len(task.position_frames)]
        pos_err = task.position_targets - reached
        rot_err = _batch_log3(np.matmul(task.rotation_targets, kinematics.rotations.transpose(0, 2, 1)))
        task_cost = float(task.position_weights @ np.einsum("ij,ij->i", pos_err, pos_err)) \
            + float(np.einsum("ij,ij,ij->", task.rotation_axis_weights, rot_err, rot_err))
        qj = q[7:]
        cost = task_cost + float(self.robot.posture_weights @ (qj - self.robot.rest_posture) ** 2)
        if task.prior is not None:
            cost += self.settings.smoothness_weight * float(np.add.reduce((qj - task.prior) ** 2))  # np.sum, less overhead
        if kinematics.capsules is not None:
            cost += kinematics.capsules.cost
        return _Evaluation(q, reached, pos_err, rot_err, cost, task_cost, kinematics)

    def _start(self, q: np.ndarray, task: "_Task") -> "_Evaluation":
        """The evaluation a solve starts from. A frame usually starts where the previous frame's solve ended,
        with the same task frames: its kinematics are then reused (only the joint Jacobians are computed
        again, ``data`` may hold a rejected trial) and only the errors against the new targets are new."""
        last = self._last
        if last is not None and last[0] == task.frames_key and np.array_equal(last[1].q, q):
            pin.computeJointJacobians(self.model, self.data, q)
            return self._errors(q, task, last[1].kinematics)
        return self._evaluate(q, task)

    def solve(self, q_init: np.ndarray, positions: np.ndarray, position_weights: np.ndarray, rotations: np.ndarray,
              rotation_weights: np.ndarray, prior: np.ndarray | None = None, max_iterations: int | None = None,
              lower: np.ndarray | None = None, upper: np.ndarray | None = None) -> tuple[np.ndarray, SolveInfo]:
        """One frame's IK from ``q_init``: damped Gauss-Newton (Levenberg-Marquardt) on the weighted position
        and orientation errors of the task frames, with the posture, smoothness (towards ``prior``) and
        self-collision terms, each step boxed in the joint bounds. ``lower``/``upper`` (joint boxes within the
        position limits, e.g. the reach of the joint velocity limits from the previous frame) replace the
        position limits."""
        s = self.settings
        lower = self.lower if lower is None else lower
        upper = self.upper if upper is None else upper
        max_iterations = s.max_iterations if max_iterations is None else max_iterations
        task = _Task.of(self, positions, position_weights, rotations, rotation_weights, prior)
        q = q_init.copy()
        q[7:] = np.minimum(np.maximum(q[7:], lower), upper)  # np.clip, without its per-call overhead
        current = self._start(q, task)
        damping = s.damping
        iterations = rejected = 0
        for iterations in range(1, max_iterations + 1):
            H, g = self._normal_equations(current, task)
            step = self._damped_step(current, task, H, g, damping, lower, upper)
            rejected += step.rejected
            damping = step.damping
            if step.evaluation is None:
                break  # (self.data may hold a rejected configuration: callers run their own kinematics)
            improvement = current.cost - step.evaluation.cost
            current = step.evaluation
            damping = max(s.min_damping, damping * 0.1)
            if improvement < s.tolerance * (1.0 + current.cost):
                break
        self._last = (task.frames_key, current)
        return current.q, SolveInfo(iterations, rejected, current.cost, current.task_cost)

    def _normal_equations(self, current: "_Evaluation", task: "_Task") -> tuple[np.ndarray, np.ndarray]:
        """Gauss-Newton system (H, g) at ``current`` (whose kinematics ``data`` holds): the weighted task
        Jacobian, the active self-collision rows, and the posture and smoothness regularisers.

        The task frames' Jacobians (LOCAL_WORLD_ALIGNED) come from the joint Jacobians in ``data.J`` at once,
        as pin.getFrameJacobian forms them (the same operations: the linear rows minus the frame position
        crossed with the angular rows, zero outside the frame's support), not frame by frame."""
        s = self.settings
        joint_jacobians = self.data.J  # (6, nv), world frame; a view, valid until the next kinematics
        angular = joint_jacobians[3:]
        work = task.work  # preallocated per weight pattern; its rows outside the supports stay zero
        permuted_reached = current.reached[:, _CROSS_REACHED]  # (p1, p2, p0, p2, p0, p1) per frame
        permuted_angular = angular[_CROSS_ANGULAR]              # (w2, w0, w1, w1, w2, w0)
        cross, other = work.cross, work.other
        np.multiply(permuted_reached[:, :3, None], permuted_angular[:3], out=cross)
        np.multiply(permuted_reached[:, 3:, None], permuted_angular[3:], out=other)
        np.subtract(cross, other, out=cross)
        np.subtract(joint_jacobians[:3], cross, out=cross)  # the linear rows minus p x angular
        np.copyto(work.position_rows, cross, where=task.position_support)
        np.copyto(work.rotation_rows, angular, where=task.rotation_support)
        weights = task.sqrt_weights
        Jw = np.multiply(work.jacobian, work.weight_column, out=work.weighted)
        error = np.concatenate([current.position_errors.ravel(), current.rotation_errors.ravel()]) * weights
        H = Jw.T @ Jw
        g = Jw.T @ error
        if current.kinematics.capsules is not None:
            # capsule pairs within the margin: residual (margin - d), linearised as (margin - d) - grad(d) dq
            violation, gradient = current.kinematics.capsules.active_rows(self.data, self.nv)
            if violation.size:
                H += self.capsules.weight * gradient.T @ gradient
                g += self.capsules.weight * gradient.T @ violation
        qj = current.q[7:]
        g[6:] += self.robot.posture_weights * (self.robot.rest_posture - qj)
        if task.prior is not None:
            g[6:] += s.smoothness_weight * (task.prior - qj)
        H.ravel()[::self.nv + 1] += task.diagonal  # the diagonal, in place (a strided view)
        return H, g

    def _damped_step(self, current: "_Evaluation", task: "_Task", H: np.ndarray, g: np.ndarray, damping: float,
                     lower: np.ndarray, upper: np.ndarray) -> "_Step":
        """A boxed, trust-region-limited step that lowers the cost, raising the damping tenfold after each
        rejected try (at most ``max_step_halvings`` times); no evaluation when no step helps (converged)."""
        model, s = self.model, self.settings
        q, cost = current.q, current.cost
        qj = q[7:]
        low, high = lower - qj, upper - qj
        rejected = 0
        radius = s.max_step
        for _ in range(s.max_step_halvings + 1):
            damped = H + damping * self._eye
            quick, pinned = _quick_box_solve(damped, g, low, high)
            dq, predicted = self._within_trust_region(quick, H, g, radius)
            if predicted < s.tolerance * (1.0 + cost) and pinned is not None:
                # no decrease: converged, or the quick active set pinned a joint wrongly
                exact = _exact_box_solve(damped, g, low, high, quick, *pinned)
                dq, predicted = self._within_trust_region(exact, H, g, radius)
            if predicted < s.tolerance * (1.0 + cost):
                break  # converged: the step cannot lower the cost by more than the tolerance
            q_new = pin.integrate(model, q, dq)
            q_new[7:] = np.minimum(np.maximum(q_new[7:], lower), upper)
            trial = self._evaluate(q_new, task)
            if trial.cost < cost:
                return _Step(trial, rejected, damping)
            rejected += 1
            if trial.cost - cost < s.tolerance * (1.0 + cost):
                break  # at a minimum up to the tolerance: more damping would not help
            H = self._with_pairs_reached(current, trial, H)
            damping *= 10.0
            # The damping is small against H's diagonal, so a tenfold damping barely shortens the step: the trust
            # region is halved too (a step rejected four times was as long as the first, and the frame stood still).
            radius = 0.5 * float(np.abs(dq[6:]).max())
        return _Step(None, rejected, damping)

    def _with_pairs_reached(self, current: "_Evaluation", trial: "_Evaluation", H: np.ndarray) -> np.ndarray:
        """``H`` with the self-collision pairs that a rejected trial brought within their margin: the model holds
        only the pairs already within it, so a step can head into a pair just outside, and every shorter retry of
        it was rejected too (the frame stood still). Each such pair's distance along the step is held as it is
        (its residual linearised at zero: the pair sits at the margin's edge), so the retry slides along it.
        ``data`` holds the trial's Jacobians."""
        before, after = current.kinematics.capsules, trial.kinematics.capsules
        if after is None or after.cost <= before.cost:
            return H
        new = np.array([before.violation[pair] == 0.0 for pair, *_ in after.active], dtype=bool)
        if not new.any():
            return H
        _, rows = after.active_rows(self.data, self.nv)
        reached = rows[new]
        return H + self.capsules.weight * reached.T @ reached

    @staticmethod
    def _within_trust_region(dq: np.ndarray, H: np.ndarray, g: np.ndarray, radius: float) -> tuple[np.ndarray, float]:
        """The step shortened to change no joint by more than ``radius`` (``max_step`` at first: near singularities,
        a straight knee, steps explode), and the decrease of the cost that the Gauss-Newton model predicts for it."""
        largest = float(np.abs(dq[6:]).max())
        if largest > radius:
            dq = dq * (radius / largest)
        return dq, 2.0 * float(g @ dq) - float(dq @ (H @ dq))


# pin's cross product p x w, row by row: (p1 w2 - p2 w1, p2 w0 - p0 w2, p0 w1 - p1 w0)
_CROSS_A = np.array([1, 2, 0])
_CROSS_B = np.array([2, 0, 1])
_CROSS_REACHED = np.concatenate([_CROSS_A, _CROSS_B])
_CROSS_ANGULAR = np.concatenate([_CROSS_B, _CROSS_A])


class _Workspace:
    """Buffers of `FrameSolver._normal_equations` for one weight pattern (P position, R rotation frames): the
    task Jacobian (its rows outside the frames' supports are zero and never written), its weighted copy, two
    (P, 3, nv) scratch arrays and the weights as a column."""

    def __init__(self, positions: int, rotations: int, nv: int, sqrt_weights: np.ndarray):
        self.jacobian = np.zeros((3 * (positions + rotations), nv))
        self.position_rows = self.jacobian[:3 * positions].reshape(positions, 3, nv)
        self.rotation_rows = self.jacobian[3 * positions:].reshape(rotations, 3, nv)
        self.weighted = np.empty_like(self.jacobian)
        self.cross, self.other = np.empty((positions, 3, nv)), np.empty((positions, 3, nv))
        self.weight_column = sqrt_weights[:, None]


@dataclasses.dataclass(slots=True)  # not frozen: its __init__ would pay object.__setattr__ per field
class _Task:
    """One frame's targets, for the rows with a weight: their frames, targets, weights (and their square roots
    per Jacobian row), the frames' supports, the posture prior, and what the regularisers add to H's diagonal."""
    position_frames: list
    rotation_frames: list
    position_targets: np.ndarray
    rotation_targets: np.ndarray
    position_weights: np.ndarray
    rotation_axis_weights: np.ndarray  # (R, 3): each rotation's weight per world axis (z: weight x yaw_share)
    sqrt_weights: np.ndarray
    position_support: np.ndarray
    rotation_support: np.ndarray
    prior: np.ndarray | None
    diagonal: np.ndarray
    work: _Workspace
    point_frames: list  # the position frames, then the capsule end frames (if any): read together
    frames_key: tuple  # which position and rotation rows have a weight: tasks with equal keys read the same frames

    @classmethod
    def of(cls, solver: FrameSolver, positions, position_weights, rotations, rotation_weights, prior) -> "_Task":
        # Everything but the targets and the prior depends on the weights alone (and whether there is a prior):
        # reused while they repeat (they usually do, frame after frame). The cached arrays are never written.
        key = (position_weights.dtype.char, position_weights.tobytes(), rotation_weights.dtype.char,
               rotation_weights.tobytes(), prior is None, solver.settings.smoothness_weight)
        cached = solver._task_cache.get(key)
        if cached is None:
            if len(solver._task_cache) >= 64:  # a bounded memo: patterns repeat, but clips may bring new ones
                solver._task_cache.clear()
            position_rows, rotation_rows = np.flatnonzero(position_weights > 0), np.flatnonzero(rotation_weights > 0)
            kept_position, kept_rotation = position_weights[position_rows], rotation_weights[rotation_rows]
            axis_weights = kept_rotation[:, None] * solver.rotation_axis_shares[rotation_rows]
            sqrt_weights = np.concatenate([np.sqrt(np.repeat(kept_position, 3)), np.sqrt(axis_weights.ravel())])
            regular = solver.robot.posture_weights + (solver.settings.smoothness_weight if prior is not None else 0.0)
            position_frames = [solver.position_frames[i] for i in position_rows]
            cached = solver._task_cache[key] = _WeightPattern(
                position_rows, rotation_rows, position_frames, [solver.rotation_frames[i] for i in rotation_rows],
                kept_position, axis_weights, sqrt_weights, solver._position_support[position_rows],
                solver._rotation_support[rotation_rows], np.concatenate([np.full(6, 1e-9), regular]),
                _Workspace(len(position_rows), len(rotation_rows), solver.nv, sqrt_weights),
                position_frames + (solver.capsules.end_frame_list if solver.capsules is not None else []),
                (tuple(position_rows.tolist()), tuple(rotation_rows.tolist())))
        p = cached
        return cls(p.position_frames, p.rotation_frames, positions[p.position_rows], rotations[p.rotation_rows],
                   p.position_weights, p.rotation_axis_weights, p.sqrt_weights, p.position_support, p.rotation_support,
                   prior, p.diagonal, p.work, p.point_frames, p.frames_key)


@dataclasses.dataclass(frozen=True)
class _WeightPattern:
    """What `_Task` takes from the weights alone (and whether there is a prior): the rows with a weight, their
    frames, weights and supports, the regularisers' diagonal, the buffers, the frames read, their key."""
    position_rows: np.ndarray
    rotation_rows: np.ndarray
    position_frames: list
    rotation_frames: list
    position_weights: np.ndarray
    rotation_axis_weights: np.ndarray  # (R, 3): each rotation's weight per world axis (z: weight x yaw_share)
    sqrt_weights: np.ndarray
    position_support: np.ndarray
    rotation_support: np.ndarray
    diagonal: np.ndarray
    work: _Workspace
    point_frames: list
    frames_key: tuple


@dataclasses.dataclass(slots=True)
class _Kinematics:
    """What the solver reads of a configuration: the point frames' translations (task position frames, then
    capsule ends), the rotation frames' rotations and the self-collision state (None: no avoidance)."""
    points: np.ndarray
    rotations: np.ndarray
    capsules: object


@dataclasses.dataclass(slots=True)
class _Evaluation:
    """A configuration with its task frame positions, errors, cost, task cost and kinematics."""
    q: np.ndarray
    reached: np.ndarray
    position_errors: np.ndarray
    rotation_errors: np.ndarray
    cost: float
    task_cost: float
    kinematics: _Kinematics


@dataclasses.dataclass(slots=True)
class _Step:
    evaluation: _Evaluation | None  # None: no step lowered the cost
    rejected: int
    damping: float
