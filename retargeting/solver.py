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
    cos = np.clip((R[:, 0, 0] + R[:, 1, 1] + R[:, 2, 2] - 1.0) * 0.5, -1.0, 1.0)
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
        self.capsules = robot.capsule_pairs  # self-collision pairs (None: no avoidance)

    # --------------------------------------------------------------------------------------------
    def _residuals(self, q, positions, pos_idx, rotations, rot_idx):
        """Errors at the configuration whose forward kinematics ``data`` holds (placements of the task
        frames only are updated: cheaper than all frames)."""
        model, data = self.model, self.data
        update = pin.updateFramePlacement
        reached = np.empty((len(pos_idx), 3))  # filled in place: no list of small arrays to stack
        for k, i in enumerate(pos_idx):
            reached[k] = update(model, data, self.position_frames[i]).translation
        current = np.empty((len(rot_idx), 3, 3))
        for k, i in enumerate(rot_idx):
            current[k] = update(model, data, self.rotation_frames[i]).rotation
        pos_err = positions[pos_idx] - reached
        rot_err = _batch_log3(np.einsum("mij,mkj->mik", rotations[rot_idx], current))
        return pos_err, rot_err

    def _cost(self, q, pos_err, pos_w, rot_err, rot_w, prior):
        s = self.settings
        qj = q[7:]
        cost = float(pos_w @ np.einsum("ij,ij->i", pos_err, pos_err)) + float(rot_w @ np.einsum("ij,ij->i", rot_err, rot_err))
        cost += float(self.robot.posture_weights @ (qj - self.robot.rest_posture) ** 2)
        if prior is not None:
            cost += s.smoothness_weight * float(np.sum((qj - prior) ** 2))
        if self.capsules is not None:  # placements of the current kinematics (computeJointJacobians ran)
            cost += self.capsules.cost(self.data, q)
        return cost

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
        model, data, s = self.model, self.data, self.settings
        lower = self.lower if lower is None else lower
        upper = self.upper if upper is None else upper
        max_iterations = s.max_iterations if max_iterations is None else max_iterations
        task = _Task.of(positions, position_weights, rotations, rotation_weights, prior)
        q = q_init.copy()
        q[7:] = np.clip(q[7:], lower, upper)
        pin.computeJointJacobians(model, data, q)
        pos_err, rot_err = self._residuals(q, positions, task.position_rows, rotations, task.rotation_rows)
        cost = self._cost(q, pos_err, task.position_weights, rot_err, task.rotation_weights, prior)
        damping = s.damping
        iterations = rejected = 0
        for iterations in range(1, max_iterations + 1):
            H, g = self._normal_equations(q, task, pos_err, rot_err)
            step = self._damped_step(q, task, H, g, cost, damping, lower, upper)
            rejected += step.rejected
            damping = step.damping
            if step.q is None:
                break  # (self.data may hold a rejected configuration: callers run their own kinematics)
            improvement = cost - step.cost
            q, cost, pos_err, rot_err = step.q, step.cost, step.position_errors, step.rotation_errors
            damping = max(s.min_damping, damping * 0.1)
            if improvement < s.tolerance * (1.0 + cost):
                break
        task_cost = float(task.position_weights @ np.einsum("ij,ij->i", pos_err, pos_err)) \
            + float(task.rotation_weights @ np.einsum("ij,ij->i", rot_err, rot_err))
        return q, SolveInfo(iterations, rejected, cost, task_cost)

    def _normal_equations(self, q: np.ndarray, task: "_Task", pos_err: np.ndarray, rot_err: np.ndarray
                          ) -> tuple[np.ndarray, np.ndarray]:
        """Gauss-Newton system (H, g) at ``q`` (its joint Jacobians computed): the weighted task Jacobian, the
        active self-collision rows, and the posture and smoothness regularisers."""
        model, data, s = self.model, self.data, self.settings
        pos_frames = [self.position_frames[i] for i in task.position_rows]
        rot_frames = [self.rotation_frames[i] for i in task.rotation_rows]
        J = np.empty((3 * (len(pos_frames) + len(rot_frames)), self.nv))
        row = 0
        for f in pos_frames:
            J[row:row + 3] = pin.getFrameJacobian(model, data, f, LWA)[:3]
            row += 3
        for f in rot_frames:
            J[row:row + 3] = pin.getFrameJacobian(model, data, f, LWA)[3:]
            row += 3
        weights = np.concatenate([np.sqrt(np.repeat(task.position_weights, 3)),
                                  np.sqrt(np.repeat(task.rotation_weights, 3))])
        Jw = J * weights[:, None]
        error = np.concatenate([pos_err.ravel(), rot_err.ravel()]) * weights
        H = Jw.T @ Jw
        g = Jw.T @ error
        if self.capsules is not None:
            # capsule pairs within the margin: residual (margin - d), linearised as (margin - d) - grad(d) dq
            violation, gradient = self.capsules.active_rows(data, self.nv, q)
            if violation.size:
                H += self.capsules.weight * gradient.T @ gradient
                g += self.capsules.weight * gradient.T @ violation
        qj = q[7:]
        g[6:] += self.robot.posture_weights * (self.robot.rest_posture - qj)
        if task.prior is not None:
            g[6:] += s.smoothness_weight * (task.prior - qj)
        H[np.diag_indices(6, 2)] += 1e-9
        regular = self.robot.posture_weights + (s.smoothness_weight if task.prior is not None else 0.0)
        H[np.arange(6, self.nv), np.arange(6, self.nv)] += regular
        return H, g

    def _damped_step(self, q: np.ndarray, task: "_Task", H: np.ndarray, g: np.ndarray, cost: float, damping: float,
                     lower: np.ndarray, upper: np.ndarray) -> "_Step":
        """A boxed, trust-region-limited step that lowers the cost, raising the damping tenfold after each
        rejected try (at most ``max_step_halvings`` times); ``q`` None when no step helps (converged)."""
        model, data, s = self.model, self.data, self.settings
        qj = q[7:]
        rejected = 0
        for _ in range(s.max_step_halvings + 1):
            dq = self._box_solve(H + damping * self._eye, g, lower - qj, upper - qj)
            largest = float(np.abs(dq[6:]).max())
            if largest > s.max_step:  # trust region: near singularities (a straight knee) steps explode
                dq *= s.max_step / largest
            predicted = 2.0 * float(g @ dq) - float(dq @ (H @ dq))  # model decrease of the cost
            if predicted < s.tolerance * (1.0 + cost):
                break  # converged: the step cannot lower the cost by more than the tolerance
            q_new = pin.integrate(model, q, dq)
            q_new[7:] = np.clip(q_new[7:], lower, upper)
            pin.computeJointJacobians(model, data, q_new)
            pos_err, rot_err = self._residuals(q_new, task.positions, task.position_rows, task.rotations,
                                               task.rotation_rows)
            new_cost = self._cost(q_new, pos_err, task.position_weights, rot_err, task.rotation_weights, task.prior)
            if new_cost < cost:
                return _Step(q_new, new_cost, pos_err, rot_err, rejected, damping)
            rejected += 1
            if new_cost - cost < s.tolerance * (1.0 + cost):
                break  # at a minimum up to the tolerance: more damping would not help
            damping *= 10.0
        return _Step(None, cost, None, None, rejected, damping)


@dataclasses.dataclass(frozen=True)
class _Task:
    """One frame's targets: all rows, the indices and weights of the rows with a weight, and the posture prior."""
    positions: np.ndarray
    rotations: np.ndarray
    position_rows: np.ndarray
    rotation_rows: np.ndarray
    position_weights: np.ndarray
    rotation_weights: np.ndarray
    prior: np.ndarray | None

    @classmethod
    def of(cls, positions, position_weights, rotations, rotation_weights, prior) -> "_Task":
        position_rows, rotation_rows = np.flatnonzero(position_weights > 0), np.flatnonzero(rotation_weights > 0)
        return cls(positions, rotations, position_rows, rotation_rows, position_weights[position_rows],
                   rotation_weights[rotation_rows], prior)


@dataclasses.dataclass(frozen=True)
class _Step:
    q: np.ndarray | None  # None: no step lowered the cost
    cost: float
    position_errors: np.ndarray | None
    rotation_errors: np.ndarray | None
    rejected: int
    damping: float
