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

import math

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
        self._state_memo = None
        self._end_ids = [int(f) for f in self.end_frame_ids.ravel()]
        self.end_frame_list = list(self._end_ids)  # the (2C,) end frames in `evaluate`'s ``ends`` order
        self._ends = np.empty((len(self._end_ids), 3))
        # For `evaluate`: the pairs' four end rows in ``ends`` (a0, a1 of the first capsule, b0, b1 of the
        # second), summed radii, and each pair's last exactly computed ends and surface distance (NaN: none yet).
        self._pair_radii = self.radii[self.pairs[:, 0]] + self.radii[self.pairs[:, 1]]
        self._pair_list = [(int(i), int(j), float(r)) for (i, j), r in zip(self.pairs, self._pair_radii)]
        self._pair_ends = np.stack([2 * self.pairs[:, 0], 2 * self.pairs[:, 0] + 1,
                                    2 * self.pairs[:, 1], 2 * self.pairs[:, 1] + 1], axis=1)  # (P, 4)
        self._known_ends = np.full((len(self.pairs), 4, 3), np.nan)
        self._known_distance = np.full(len(self.pairs), np.nan)

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
        return s, t, difference, length, length - self._pair_radii

    def distances(self, data: pin.Data) -> np.ndarray:
        """(P,) surface distances (negative: overlapping) at the joint placements ``data`` holds."""
        return self._geometry(data)[4] if len(self.pairs) else np.zeros(0)

    def violations(self, data: pin.Data, q: np.ndarray | None = None) -> np.ndarray:
        """(P,) max(0, margin - distance)."""
        if not len(self.pairs):
            return np.zeros(0)
        return np.maximum(0.0, self.margin - self._geometry(data, q)[4])

    def cost(self, data: pin.Data, q: np.ndarray | None = None) -> float:
        return self.evaluate(data, q).cost

    def active_rows(self, data: pin.Data, nv: int, q: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Violations (A,) of the pairs within the margin and the gradients (A, nv) of their distances;
        ``data`` must hold joint Jacobians (pin.computeJointJacobians) at the current configuration."""
        return self.evaluate(data, q).active_rows(data, nv)

    def evaluate(self, data: pin.Data, q: np.ndarray | None = None, ends: np.ndarray | None = None) -> "CapsuleState":
        """The pairs' violations at the placements ``data`` holds, for the IK (its cost and active rows).

        The same numbers as `_compute_geometry` (bit for bit), computed for fewer pairs: a pair whose distance
        is surely beyond the margin (plus ``FAR_SLACK``), judged from its last computed distance and how far its
        ends have moved since, is skipped; the few near pairs are computed with Python floats (numpy's per-call overhead dominates on
        arrays this small), in the same operations and order as `segment_closest_parameters`. With ``q``
        (the configuration ``data`` holds), the last result for the same q is reused. ``ends``: the (2C, 3)
        translations of `end_frame_list` at these placements, when the caller has read them already."""
        memo = self._state_memo if q is not None else None
        if memo is not None and np.array_equal(memo[0], q):
            return memo[1]
        state = self._evaluate(data, ends)
        self._state_memo = None if q is None else (q.copy(), state)
        return state

    def _evaluate(self, data: pin.Data, ends: np.ndarray | None = None) -> "CapsuleState":
        count = len(self._pair_list)
        violation = np.zeros(count)
        if not count:
            return CapsuleState(self, violation, [])
        if ends is None:
            update, model = pin.updateFramePlacement, self.model
            ends = np.array([update(model, data, f).translation for f in self._end_ids])
        # Skip the pairs that cannot be within the margin: a segment whose ends each moved at most delta moved
        # every point at most delta, so a pair's distance is at least its last computed distance minus the
        # largest moves of its two segments' ends. Between solver iterations and frames the ends move little,
        # so most pairs are skipped until they come near. (NaN, e.g. no distance yet: computed.)
        pair_ends = ends[self._pair_ends]  # (P, 4, 3)
        moved = pair_ends - self._known_ends
        moved = np.sqrt(np.einsum("pki,pki->pk", moved, moved))
        lower = self._known_distance - np.maximum(moved[:, 0], moved[:, 1]) - np.maximum(moved[:, 2], moved[:, 3])
        near = np.flatnonzero(~(lower > self.margin + FAR_SLACK))
        if not near.size:
            return CapsuleState(self, violation, [])
        self._known_ends[near] = pair_ends[near]
        points = ends.tolist()
        margin, known = self.margin, self._known_distance
        rows = []
        for k in near.tolist():
            i, j, radii = self._pair_list[k]
            s, t, dx, dy, dz, length_k = _closest(points[2 * i], points[2 * i + 1], points[2 * j], points[2 * j + 1])
            distance = length_k - radii
            known[k] = distance
            excess = margin - distance
            violation[k] = excess if not excess <= 0.0 else 0.0  # np.maximum(0, x) (NaN kept)
            if excess > 0.0 and length_k > 1e-9:
                rows.append((k, s, t, (dx, dy, dz), length_k, excess))
        return CapsuleState(self, violation, rows)


FAR_SLACK = 1e-6  # m: a pair is skipped only when its distance is surely this much beyond the margin


def _unit_scalar(x: float) -> float:
    """`_unit` on a Python float (NaN passes)."""
    return 0.0 if x < 0.0 else (1.0 if x > 1.0 else x)


def _closest(a0, a1, b0, b1):
    """`segment_closest_parameters` and the closest points' difference for one pair of segments, in Python
    floats with numpy's operations in numpy's order (a (P, 3) sum over the last axis adds left to right):
    (s, t, difference x, y, z, its length)."""
    a0x, a0y, a0z = a0
    a1x, a1y, a1z = a1
    b0x, b0y, b0z = b0
    b1x, b1y, b1z = b1
    ux, uy, uz = a1x - a0x, a1y - a0y, a1z - a0z
    vx, vy, vz = b1x - b0x, b1y - b0y, b1z - b0z
    wx, wy, wz = a0x - b0x, a0y - b0y, a0z - b0z
    a = ux * ux + uy * uy + uz * uz
    b = ux * vx + uy * vy + uz * vz
    c = vx * vx + vy * vy + vz * vz
    d = ux * wx + uy * wy + uz * wz
    e = vx * wx + vy * wy + vz * wz
    safe_a = a if (a >= 1e-12 or a != a) else 1e-12
    safe_c = c if (c >= 1e-12 or c != c) else 1e-12
    denominator = a * c - b * b
    ac = a * c
    general = denominator > 1e-12 * (ac if (ac >= 1e-24 or ac != ac) else 1e-24)
    if general:
        s = _unit_scalar((b * e - c * d) / denominator)
    else:
        s = _unit_scalar((b * e - c * d) / 1.0) * 0.0
    t = (b * s + e) / safe_c
    if t < 0.0:
        s = _unit_scalar(-d / safe_a)
    elif t > 1.0:
        s = _unit_scalar((b - d) / safe_a)
    t = _unit_scalar(t)
    point_a, point_b = a < 1e-12, c < 1e-12
    if point_a or point_b:
        s = 0.0 if point_a else _unit_scalar(-d / safe_a)
        t = 0.0 if point_b else _unit_scalar(e / safe_c)
    dx = (b0x + t * vx) - (a0x + s * ux)
    dy = (b0y + t * vy) - (a0y + s * uy)
    dz = (b0z + t * vz) - (a0z + s * uz)
    return s, t, dx, dy, dz, math.sqrt(dx * dx + dy * dy + dz * dz)


class CapsuleState:
    """`CapsulePairs.evaluate`: the violations (P,) (zero for pairs beyond the margin) and, for the active
    pairs (within the margin), (pair, s, t, difference, length, margin - distance)."""

    def __init__(self, pairs: CapsulePairs, violation: np.ndarray, active: list):
        self.capsules = pairs
        self.violation = violation
        self.active = active

    @property
    def cost(self) -> float:
        violation = self.violation
        return self.capsules.weight * float(violation @ violation)

    def active_rows(self, data: pin.Data, nv: int) -> tuple[np.ndarray, np.ndarray]:
        """As `CapsulePairs.active_rows`, from this state (``data`` holds its configuration's Jacobians)."""
        capsules = self.capsules
        rows = np.zeros((len(self.active), nv))
        if not self.active:
            return np.zeros(0), rows
        model, ends = capsules.model, capsules.end_frame_ids
        for row, (k, s, t, difference, length, _) in enumerate(self.active):
            i, j = capsules.pairs[k]
            jacobian = np.zeros((3, nv))
            for frame, weight in ((ends[j][0], 1.0 - t), (ends[j][1], t), (ends[i][0], -(1.0 - s)), (ends[i][1], -s)):
                if weight != 0.0:
                    jacobian += weight * pin.getFrameJacobian(model, data, int(frame), LWA)[:3]
            rows[row] = (np.array(difference) / length) @ jacobian
        return np.array([a[5] for a in self.active]), rows
