"""Per-frame inverse kinematics on Pinocchio: weighted position and orientation tasks on a floating base.

Each iteration is one damped Gauss-Newton step of

    sum_p w_p |p*_p - p_p(q)|^2 + sum_r w_r |log(R*_r R_r(q)^T)|^2
      + sum_j w_posture,j (q_j - q_rest,j)^2 + w_smooth |q_j - q_prior|^2

over the generalised velocity (6 base + joints), with frame Jacobians from Pinocchio
(LOCAL_WORLD_ALIGNED). Joint position limits are hard: the step is a box-constrained least-squares
solve (an active set of joints pinned at their bounds), so every iterate lies within the URDF limits.
A step that does not lower the cost is rejected and retried with ten times the damping; iterations are
bounded, and each step changes no joint by more than ``max_step`` (a trust region that keeps a leg from
flipping through a singularity). The prior is the previous frame (or its constant-velocity prediction):
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


def _batch_log3(R: np.ndarray) -> np.ndarray:
    """(M,3) rotation vectors of (M,3,3) rotations (pin.log3 where the angle is near pi)."""
    cos = np.minimum(np.maximum((R[:, 0, 0] + R[:, 1, 1] + R[:, 2, 2] - 1.0) * 0.5, -1.0), 1.0)  # np.clip, cheaper
    angle = np.arccos(cos)
    vee = 0.5 * (R[:, _VEE_ROWS, _VEE_COLS] - R[:, _VEE_COLS, _VEE_ROWS])
    small = angle < 1e-4
    factor = np.where(small, 1.0 + angle * angle / 6.0, angle / np.where(small, 1.0, np.sqrt(1.0 - cos * cos)))
    out = vee * factor[:, None]
    if (angle > np.pi - 1e-3).any():
        for m in np.flatnonzero(angle > np.pi - 1e-3):
            out[m] = pin.log3(R[m])
    return out


_VEE_ROWS = np.array([2, 0, 1])
_VEE_COLS = np.array([1, 2, 0])


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
        self.nv = self.model.nv
        self.lower, self.upper = robot.lower, robot.upper
        self._eye = np.eye(self.nv)
        self._diagonal = np.arange(self.nv)
        self.capsules = robot.capsule_pairs  # self-collision pairs (None: no avoidance)
        # (frames, 1, nv): the generalised velocities that move each task frame (its parent joint's support)
        self._position_support = self._support(self.position_frames)
        self._rotation_support = self._support(self.rotation_frames)

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
        model, data, s = self.model, self.data, self.settings
        pin.computeJointJacobians(model, data, q)
        update = pin.updateFramePlacement
        reached = np.empty((len(task.position_frames), 3))  # filled in place: no list of small arrays to stack
        for k, f in enumerate(task.position_frames):
            reached[k] = update(model, data, f).translation
        current = np.empty((len(task.rotation_frames), 3, 3))
        for k, f in enumerate(task.rotation_frames):
            current[k] = update(model, data, f).rotation
        pos_err = task.position_targets - reached
        rot_err = _batch_log3(np.einsum("mij,mkj->mik", task.rotation_targets, current))
        task_cost = float(task.position_weights @ np.einsum("ij,ij->i", pos_err, pos_err)) \
            + float(task.rotation_weights @ np.einsum("ij,ij->i", rot_err, rot_err))
        qj = q[7:]
        cost = task_cost + float(self.robot.posture_weights @ (qj - self.robot.rest_posture) ** 2)
        if task.prior is not None:
            cost += s.smoothness_weight * float(np.sum((qj - task.prior) ** 2))
        capsules = None
        if self.capsules is not None:  # placements of the current kinematics
            capsules = self.capsules.evaluate(data)
            cost += capsules.cost
        return _Evaluation(q, reached, pos_err, rot_err, cost, task_cost, capsules)

    def _box_solve(self, H, g, low, high):
        """min 0.5 dq'H dq - g'dq with low <= dq[6:] <= high (active set, a few passes).

        A joint that leaves its box is pinned at the bound and the rest re-solved; pinning is done by
        eliminating the joint from the (full-size) system, which keeps one LAPACK call per pass."""
        dq = _spd_solve(H, g)
        joint = dq[6:]
        if not ((joint > high) | (joint < low)).any():
            return dq
        pinned = np.zeros(len(g), dtype=bool)
        for _ in range(8):
            joint = dq[6:]
            over, under = (joint > high) & ~pinned[6:], (joint < low) & ~pinned[6:]
            if not (over.any() or under.any()):
                break
            pinned[6:] |= over | under
            values = np.where(over, high, np.where(under, low, joint))
            dq[6:][pinned[6:]] = values[pinned[6:]]
            reduced_g = g - H[:, pinned] @ dq[pinned]
            reduced_H = H.copy()
            reduced_H[pinned, :] = 0.0
            reduced_H[:, pinned] = 0.0
            reduced_H[pinned, pinned] = 1.0
            reduced_g[pinned] = dq[pinned]
            dq = _spd_solve(reduced_H, reduced_g)
        # Pinned joints stay at their bound for this step; the next iteration starts with all free.
        return dq

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
        current = self._evaluate(q, task)
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
        reached = current.reached
        cross = reached[:, _CROSS_A, None] * angular[_CROSS_B] - reached[:, _CROSS_B, None] * angular[_CROSS_A]
        J = np.concatenate([np.where(task.position_support, joint_jacobians[:3] - cross, 0.0).reshape(-1, self.nv),
                            np.where(task.rotation_support, angular, 0.0).reshape(-1, self.nv)])
        weights = task.sqrt_weights
        Jw = J * weights[:, None]
        error = np.concatenate([current.position_errors.ravel(), current.rotation_errors.ravel()]) * weights
        H = Jw.T @ Jw
        g = Jw.T @ error
        if current.capsules is not None:
            # capsule pairs within the margin: residual (margin - d), linearised as (margin - d) - grad(d) dq
            violation, gradient = current.capsules.active_rows(self.data, self.nv)
            if violation.size:
                H += self.capsules.weight * gradient.T @ gradient
                g += self.capsules.weight * gradient.T @ violation
        qj = current.q[7:]
        g[6:] += self.robot.posture_weights * (self.robot.rest_posture - qj)
        if task.prior is not None:
            g[6:] += s.smoothness_weight * (task.prior - qj)
        H[self._diagonal, self._diagonal] += task.diagonal
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
        for _ in range(s.max_step_halvings + 1):
            dq = self._box_solve(H + damping * self._eye, g, low, high)
            largest = float(np.abs(dq[6:]).max())
            if largest > s.max_step:  # trust region: near singularities (a straight knee) steps explode
                dq *= s.max_step / largest
            predicted = 2.0 * float(g @ dq) - float(dq @ (H @ dq))  # model decrease of the cost
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
            damping *= 10.0
        return _Step(None, rejected, damping)


# pin's cross product p x w, row by row: (p1 w2 - p2 w1, p2 w0 - p0 w2, p0 w1 - p1 w0)
_CROSS_A = np.array([1, 2, 0])
_CROSS_B = np.array([2, 0, 1])


@dataclasses.dataclass(frozen=True)
class _Task:
    """One frame's targets, for the rows with a weight: their frames, targets, weights (and their square roots
    per Jacobian row), the frames' supports, the posture prior, and what the regularisers add to H's diagonal."""
    position_frames: list
    rotation_frames: list
    position_targets: np.ndarray
    rotation_targets: np.ndarray
    position_weights: np.ndarray
    rotation_weights: np.ndarray
    sqrt_weights: np.ndarray
    position_support: np.ndarray
    rotation_support: np.ndarray
    prior: np.ndarray | None
    diagonal: np.ndarray

    @classmethod
    def of(cls, solver: FrameSolver, positions, position_weights, rotations, rotation_weights, prior) -> "_Task":
        position_rows, rotation_rows = np.flatnonzero(position_weights > 0), np.flatnonzero(rotation_weights > 0)
        position_weights, rotation_weights = position_weights[position_rows], rotation_weights[rotation_rows]
        sqrt_weights = np.concatenate([np.sqrt(np.repeat(position_weights, 3)), np.sqrt(np.repeat(rotation_weights, 3))])
        regular = solver.robot.posture_weights + (solver.settings.smoothness_weight if prior is not None else 0.0)
        diagonal = np.concatenate([np.full(6, 1e-9), regular])
        return cls([solver.position_frames[i] for i in position_rows], [solver.rotation_frames[i] for i in rotation_rows],
                   positions[position_rows], rotations[rotation_rows], position_weights, rotation_weights, sqrt_weights,
                   solver._position_support[position_rows], solver._rotation_support[rotation_rows], prior, diagonal)


@dataclasses.dataclass(frozen=True)
class _Evaluation:
    """A configuration with its task frame positions, errors, cost, task cost and self-collision state."""
    q: np.ndarray
    reached: np.ndarray
    position_errors: np.ndarray
    rotation_errors: np.ndarray
    cost: float
    task_cost: float
    capsules: object


@dataclasses.dataclass(frozen=True)
class _Step:
    evaluation: _Evaluation | None  # None: no step lowered the cost
    rejected: int
    damping: float
