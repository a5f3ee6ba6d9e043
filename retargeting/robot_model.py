"""The robot's kinematics on Pinocchio: floating base, locked joints removed, keypoint frames added.

Holds everything the solver needs as arrays: joint limits, effective velocity limits, the frame ids
of keypoints, oriented segments and soles, and what the robot measures at its calibration posture
(q = 0 standing, or the YAML's ``calibration_posture``; base rotated by ``root_rotation_rpy``): bone lengths between keypoints and the
rotation of each oriented frame relative to the canonical segment frame (x forward, y left, z up).
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pinocchio as pin

from retargeting.errors import RetargetError
from retargeting.robot_config import RobotConfig, example_robot_data_dir
from retargeting.self_collision import CapsulePairs


@dataclasses.dataclass
class Calibration:
    keypoint_positions: np.ndarray  # (K,3) world positions of the keypoints at the calibration posture
    orientation_offsets: np.ndarray  # (M,3,3) frame rotation when its segment frame is the identity
    sole_points: np.ndarray  # (2,4,3) sole corners of (left, right) at calibration, world
    base_rotation: np.ndarray  # (3,3) base rotation that makes the robot stand canonically
    # (2,2) radians: how far each foot (left, right) can turn about the vertical relative to the pelvis, (least,
    # most), from the limits of its leg's joints with a vertical axis at calibration (a hip yaw joint)
    foot_yaw_ranges: np.ndarray


VERTICAL_AXIS = 0.9  # a joint whose axis is this close to the vertical (cosine) turns the foot about it


class RobotModel:
    """Pinocchio model of one robot configured by a :class:`RobotConfig`."""

    def __init__(self, config: RobotConfig):
        self.config = config
        self.urdf_path: Path = config.urdf_path()
        model = self._load_reduced_model()
        self.joint_names: list[str] = [model.names[j] for j in range(2, model.njoints)]
        self.nj = len(self.joint_names)
        capsule_ends = self._add_task_frames(model)
        self.model = model
        self.data = model.createData()
        spec = config.self_collision
        self.capsule_pairs = None
        if spec.pairs:
            index = {c.name: k for k, c in enumerate(spec.capsules)}
            self.capsule_pairs = CapsulePairs(model, np.array(capsule_ends), np.array([c.radius for c in spec.capsules]),
                                              np.array([(index[a], index[b]) for a, b in spec.pairs]),
                                              spec.margin, spec.weight)
        self._set_limits_and_posture(model)
        # Sole rectangle corners in each sole frame (x forward, y left).
        self.sole_corners_local = np.array([
            [[sx * f.half_length, sy * f.half_width, 0.0] for sx in (1, -1) for sy in (1, -1)] for f in config.feet])
        self.calibration = self._calibrate()

    def _load_reduced_model(self) -> pin.Model:
        """The URDF on a free-flyer base with ``locked_joints`` fixed at their values; every remaining joint
        must be 1-DoF. Sets ``full_model`` and ``locked_reference``."""
        config = self.config
        try:
            full = pin.buildModelFromUrdf(str(self.urdf_path), pin.JointModelFreeFlyer())
        except Exception as error:  # pinocchio raises plain RuntimeError/ValueError on a bad URDF
            raise RetargetError(f"{self.urdf_path}: Pinocchio cannot load this URDF: {error}") from error
        self.full_model = full
        joint_names = list(full.names)
        for name in (list(config.locked_joints) + list(config.rest_posture) + list(config.velocity_limits)
                     + list(config.calibration_posture)):
            if name not in joint_names:
                raise RetargetError(f"{config.source}: joint '{name}' is not in {self.urdf_path.name}")
        reference = pin.neutral(full)
        lock_ids = []
        for name, value in config.locked_joints.items():
            jid = full.getJointId(name)
            if full.joints[jid].nq != 1:
                raise RetargetError(f"{config.source}: locked joint '{name}' is not a 1-DoF joint")
            lo, hi = full.lowerPositionLimit[full.idx_qs[jid]], full.upperPositionLimit[full.idx_qs[jid]]
            if not lo - 1e-9 <= value <= hi + 1e-9:
                raise RetargetError(f"{config.source}: locked joint '{name}' value {value} is outside its limits [{lo}, {hi}]")
            reference[full.idx_qs[jid]] = value
            lock_ids.append(jid)
        model = pin.buildReducedModel(full, lock_ids, reference) if lock_ids else full.copy()
        self.locked_reference = reference
        for jid in range(2, model.njoints):
            if model.joints[jid].nq != 1 or model.joints[jid].nv != 1:
                raise RetargetError(
                    f"{config.source}: joint '{model.names[jid]}' has {model.joints[jid].nq} position coordinates; "
                    "only 1-DoF joints can be retargeted: lock it in locked_joints")
        return model

    def _add_task_frames(self, model: pin.Model) -> list[tuple[int, int]]:
        """Frame ids of the root, the orientation tasks, and point frames added for the keypoints, the soles and
        the self-collision capsules' end points; returns the capsules' (start, end) frame ids."""
        config = self.config

        def frame_id(name: str) -> int:
            if not model.existFrame(name):
                raise RetargetError(f"{config.source}: frame '{name}' is not in {self.urdf_path.name}")
            return model.getFrameId(name)

        def add_point_frame(label: str, parent: str, offset) -> int:
            parent_id = frame_id(parent)
            parent_frame = model.frames[parent_id]
            placement = parent_frame.placement * pin.SE3(np.eye(3), np.asarray(offset, dtype=float))
            return model.addFrame(pin.Frame(label, parent_frame.parentJoint, parent_id, placement, pin.FrameType.OP_FRAME))

        self.root_frame_id = frame_id(config.root_frame)
        self.keypoint_frame_ids: list[int] = [
            add_point_frame(f"retarget_kp_{k.smpl}", k.frame, k.offset) for k in config.keypoints]
        self.orientation_frame_ids: list[int] = [frame_id(o.frame) for o in config.orientations]
        # the orientation task of each foot (left, right): its weight rises to the contact weight in contacts
        self.foot_orientation_slots: tuple[int, int] = tuple(
            next(m for m, o in enumerate(config.orientations) if o.segment == f"{side}_foot")
            for side in ("left", "right"))
        self.sole_frame_ids: list[int] = [
            add_point_frame(f"retarget_sole_{f.side}", f.frame, f.sole_center) for f in config.feet]
        # Each leg's joints (indices into the joint positions): those between the root and its sole.
        self.leg_joints: list[np.ndarray] = [
            np.array([model.joints[j].idx_q - 7 for j in model.supports[model.frames[f].parentJoint] if j > 1], dtype=int)
            for f in self.sole_frame_ids]
        return [(add_point_frame(f"retarget_capsule_{c.name}_start", c.start_frame, c.start_offset),
                 add_point_frame(f"retarget_capsule_{c.name}_end", c.end_frame, c.end_offset))
                for c in config.self_collision.capsules]

    def _set_limits_and_posture(self, model: pin.Model) -> None:
        """Position and velocity limits (finite limits required), the rest posture inside them, and the
        per-joint posture weights (``posture_weights``: regex -> weight, each must match a joint)."""
        config = self.config
        self.lower = model.lowerPositionLimit[7:].copy()
        self.upper = model.upperPositionLimit[7:].copy()
        bad = ~(np.isfinite(self.lower) & np.isfinite(self.upper) & (self.lower <= self.upper))
        if bad.any():
            names = [self.joint_names[i] for i in np.flatnonzero(bad)]
            raise RetargetError(f"{self.urdf_path}: joints without finite position limits: {names}")
        self.velocity_limits = self._velocity_limits(model.velocityLimit[6:].copy())
        rest = np.zeros(self.nj)
        for name, value in config.rest_posture.items():
            if name in config.locked_joints:
                continue
            rest[self.joint_names.index(name)] = value
        self.rest_posture = np.clip(rest, self.lower, self.upper)
        self.posture_weights = np.full(self.nj, config.solver.posture_weight)
        for pattern, weight in config.posture_weights.items():
            try:
                regex = re.compile(pattern)
            except re.error as error:
                raise RetargetError(f"{config.source}: posture_weights pattern {pattern!r} is not a regex: {error}") from error
            matched = [i for i, name in enumerate(self.joint_names) if regex.fullmatch(name)]
            if not matched:
                raise RetargetError(f"{config.source}: posture_weights pattern {pattern!r} matches no joint")
            self.posture_weights[matched] = weight

    def _velocity_limits(self, urdf_limits: np.ndarray) -> np.ndarray:
        from retargeting.robot_config import velocity_limits

        return velocity_limits(self.config, self.joint_names, urdf_limits)

    # ------------------------------------------------------------------ configuration helpers
    def configuration(self, base_position, base_rotation, joints) -> np.ndarray:
        q = np.empty(self.model.nq)
        q[:3] = base_position
        q[3:7] = pin.Quaternion(np.asarray(base_rotation, dtype=float)).coeffs()
        q[7:] = joints
        return q

    def _calibrate(self) -> Calibration:
        base_rotation = pin.rpy.rpyToMatrix(*self.config.root_rotation_rpy)
        joints = np.zeros(self.nj)
        for name, value in self.config.calibration_posture.items():
            if name in self.joint_names:
                joints[self.joint_names.index(name)] = value
        joints = np.clip(joints, self.lower, self.upper)
        self.calibration_joints = joints
        q = self.configuration(np.zeros(3), base_rotation, joints)
        pin.framesForwardKinematics(self.model, self.data, q)
        keypoints = np.array([self.data.oMf[i].translation for i in self.keypoint_frame_ids])
        offsets = np.array([self.data.oMf[i].rotation for i in self.orientation_frame_ids]).reshape(-1, 3, 3)
        soles = self.sole_points(q)
        return Calibration(keypoints, offsets, soles, base_rotation, self._foot_yaw_ranges(q))

    def _foot_yaw_ranges(self, q: np.ndarray) -> np.ndarray:
        """(2,2): per foot, the least and most yaw relative to the pelvis that its leg's vertical-axis joints
        reach from the posture ``q`` (their limits times how much each turns the sole about the vertical)."""
        model, data = self.model, self.data
        pin.computeJointJacobians(model, data, q)
        ranges = np.zeros((2, 2))
        for side, frame in enumerate(self.sole_frame_ids):
            turn = pin.getFrameJacobian(model, data, frame, pin.LOCAL_WORLD_ALIGNED)[5, 6:]  # d(sole yaw) / d(joint)
            for j in self.leg_joints[side]:
                if abs(turn[j]) > VERTICAL_AXIS:
                    ends = turn[j] * np.array([self.lower[j], self.upper[j]]) - turn[j] * q[7 + j]
                    ranges[side] += [ends.min(), ends.max()]
        return ranges

    def planted_leg_samples(self, planted: np.ndarray) -> np.ndarray:
        """(T, nj) bool: the joint samples of a leg on the frames its foot is planted (``planted``: (T, 2), left
        and right): what smoothing and the time-keeping fit leave as solved (moved, they would slide the sole)."""
        held = np.zeros((len(planted), self.nj), dtype=bool)
        for side, leg in enumerate(self.leg_joints):
            held[np.ix_(np.flatnonzero(planted[:, side]), leg)] = True
        return held

    # The frames below are placed one by one (pin.updateFramePlacement, from the joint placements in ``data``):
    # cheaper than placing all frames and reading data.oMf.
    def sole_points(self, q: np.ndarray | None = None) -> np.ndarray:
        """(2,4,3) world corners of the left and right soles (runs forward kinematics if q given)."""
        model, data = self.model, self.data
        if q is not None:
            pin.forwardKinematics(model, data, q)
        out = np.empty((2, 4, 3))
        for k, fid in enumerate(self.sole_frame_ids):
            placement = pin.updateFramePlacement(model, data, fid)
            out[k] = self.sole_corners_local[k] @ placement.rotation.T + placement.translation
        return out

    def keypoint_positions(self, q: np.ndarray) -> np.ndarray:
        """(K,3) world positions of the keypoint frames at q (runs forward kinematics)."""
        model, data = self.model, self.data
        pin.forwardKinematics(model, data, q)
        update = pin.updateFramePlacement
        return np.array([update(model, data, i).translation for i in self.keypoint_frame_ids])

    def root_pose(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(position, xyzw quaternion) of the root frame; call after forward kinematics at q."""
        placement = pin.updateFramePlacement(self.model, self.data, self.root_frame_id)
        return placement.translation.copy(), pin.Quaternion(placement.rotation).coeffs().copy()

    def mesh_package_dirs(self) -> list[str]:
        return [str(example_robot_data_dir())]
