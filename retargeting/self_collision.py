"""Self-collision avoidance for the per-frame IK: capsules on the robot and the pairs kept apart.

Each capsule is a segment between two points fixed on robot frames (`RobotModel` adds them as frames)
swept by a sphere. For a pair closer than the margin (surface distance d < margin), the solver adds the
residual ``margin - d`` with weight ``weight``; its gradient is the closest-point direction n applied to the
point Jacobians of the two closest points (interpolated between each segment's end points, the segment
parameters held fixed, which is exact for the distance's gradient away from parallel segments):
``grad d = n^T (J(c_b) - J(c_a))``. Pairs farther apart than the margin cost nothing, so tracking is
unchanged until limbs come close.
"""
from __future__ import annotations

import numpy as np
import pinocchio as pin

LWA = pin.ReferenceFrame.LOCAL_WORLD_ALIGNED


def _unit(x: np.ndarray) -> np.ndarray:
    return np.minimum(np.maximum(x, 0.0), 1.0)  # np.clip costs several times more on small arrays


def segment_closest_parameters(a0: np.ndarray, a1: np.ndarray, b0: np.ndarray, b1: np.ndarray
                               ) -> tuple[np.ndarray, np.ndarray]:
    """Parameters (s, t) in [0, 1] of the closest points a0 + s (a1 - a0) and b0 + t (b1 - b0), for (P, 3)
    arrays of segments (or single (3,) segments: then scalars)."""
    single = np.ndim(a0) == 1
    a0, a1, b0, b1 = (np.atleast_2d(np.asarray(x, dtype=float)) for x in (a0, a1, b0, b1))
    u, v, w = a1 - a0, b1 - b0, a0 - b0
    a = (u * u).sum(axis=1)
    b = (u * v).sum(axis=1)
    c = (v * v).sum(axis=1)
    d = (u * w).sum(axis=1)
    e = (v * w).sum(axis=1)
    safe_a, safe_c = np.maximum(a, 1e-12), np.maximum(c, 1e-12)
    denominator = a * c - b * b
    general = denominator > 1e-12 * np.maximum(a * c, 1e-24)
    s = _unit((b * e - c * d) / np.where(general, denominator, 1.0)) * general
    t = (b * s + e) / safe_c
    s = np.where(t < 0.0, _unit(-d / safe_a), np.where(t > 1.0, _unit((b - d) / safe_a), s))
    t = _unit(t)
    point_a, point_b = a < 1e-12, c < 1e-12  # degenerate segments (points)
    if point_a.any() or point_b.any():
        s = np.where(point_a, 0.0, np.where(point_b, _unit(-d / safe_a), s))
        t = np.where(point_b, 0.0, np.where(point_a, _unit(e / safe_c), t))
    return (float(s[0]), float(t[0])) if single else (s, t)


class CapsulePairs:
    """The capsule pairs of one robot: surface distances and their gradients at the current kinematics."""

    def __init__(self, model: pin.Model, end_frame_ids: np.ndarray, radii: np.ndarray, pairs: np.ndarray,
                 margin: float, weight: float):
        self.model = model
        self.end_frame_ids = np.asarray(end_frame_ids, dtype=int).reshape(-1, 2)  # (C, 2) frame ids
        self.radii = np.asarray(radii, dtype=float)
        self.pairs = np.asarray(pairs, dtype=int).reshape(-1, 2)                  # (P, 2) capsule indices
        self.margin = float(margin)
        self.weight = float(weight)
        self._memo = None
        self._end_ids = [int(f) for f in self.end_frame_ids.ravel()]
        self._ends = np.empty((len(self._end_ids), 3))

    def _geometry(self, data: pin.Data, q: np.ndarray | None = None):
        """Closest points of every pair: (s, t, difference (P,3), length (P,), surface distance (P,)).
        With ``q`` (the configuration ``data`` holds), the last result for the same q is reused."""
        if q is not None and self._memo is not None and np.array_equal(self._memo[0], q):
            return self._memo[1]
        result = self._compute_geometry(data)
        self._memo = None if q is None else (q.copy(), result)
        return result

    def _compute_geometry(self, data: pin.Data):
        update, model = pin.updateFramePlacement, self.model
        ends = self._ends
        for k, f in enumerate(self._end_ids):  # (C*2,) filled in place: no list of arrays to stack
            ends[k] = update(model, data, f).translation
        ends = ends.reshape(-1, 2, 3)
        first, second = ends[self.pairs[:, 0]], ends[self.pairs[:, 1]]  # (P, 2, 3)
        s, t = segment_closest_parameters(first[:, 0], first[:, 1], second[:, 0], second[:, 1])
        difference = (second[:, 0] + t[:, None] * (second[:, 1] - second[:, 0])) \
            - (first[:, 0] + s[:, None] * (first[:, 1] - first[:, 0]))
        length = np.linalg.norm(difference, axis=1)
        radii = self.radii[self.pairs[:, 0]] + self.radii[self.pairs[:, 1]]
        return s, t, difference, length, length - radii

    def distances(self, data: pin.Data) -> np.ndarray:
        """(P,) surface distances (negative: overlapping) at the joint placements ``data`` holds."""
        return self._geometry(data)[4] if len(self.pairs) else np.zeros(0)

    def violations(self, data: pin.Data, q: np.ndarray | None = None) -> np.ndarray:
        """(P,) max(0, margin - distance)."""
        if not len(self.pairs):
            return np.zeros(0)
        return np.maximum(0.0, self.margin - self._geometry(data, q)[4])

    def cost(self, data: pin.Data, q: np.ndarray | None = None) -> float:
        violation = self.violations(data, q)
        return self.weight * float(violation @ violation)

    def active_rows(self, data: pin.Data, nv: int, q: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Violations (A,) of the pairs within the margin and the gradients (A, nv) of their distances;
        ``data`` must hold joint Jacobians (pin.computeJointJacobians) at the current configuration."""
        if not len(self.pairs):
            return np.zeros(0), np.zeros((0, nv))
        s, t, difference, length, distance = self._geometry(data, q)
        active = np.flatnonzero((self.margin - distance > 0.0) & (length > 1e-9))
        rows = np.zeros((active.size, nv))
        for row, k in enumerate(active):
            i, j = self.pairs[k]
            jacobian = np.zeros((3, nv))
            for frame, weight in ((self.end_frame_ids[j][0], 1.0 - t[k]), (self.end_frame_ids[j][1], t[k]),
                                  (self.end_frame_ids[i][0], -(1.0 - s[k])), (self.end_frame_ids[i][1], -s[k])):
                if weight != 0.0:
                    jacobian += weight * pin.getFrameJacobian(self.model, data, int(frame), LWA)[:3]
            rows[row] = (difference[k] / length[k]) @ jacobian
        return self.margin - distance[active], rows
