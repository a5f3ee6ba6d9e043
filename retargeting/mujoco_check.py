"""Physics check in MuJoCo: the same URDF, pelvis driven along the base trajectory, joints on position servos.

``build_model`` loads the robot's URDF into MuJoCo (meshes from example-robot-data; mesh formats MuJoCo
cannot read, such as COLLADA, are dropped), adds a free joint
on the root, a ground plane at z = 0 (drawn; nothing collides with it), one position servo per retargeted joint
and sites on the sole corners. ``check_motion`` plays a RobotMotion: the base is set kinematically each step (position,
orientation and their velocities), the servos track the joint trajectory (PD on the position with the
trajectory's own velocity as the damping reference, the way a joint trajectory controller with position
and velocity command interfaces drives a servo: without it a PD servo lags kv / kp x the joint speed,
0.2 rad at 5 rad/s, an error of the check's servo model, not of the trajectory), gravity is on; it reports
tracking error, joint position and velocity limit violations, foot sliding and penetration, and the
frames with self-collisions. ``self_collision_frames`` counts them kinematically (no simulation).
"""
from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import numpy as np
import pinocchio as pin

from retargeting.errors import RetargetError
from retargeting.motion import RobotMotion
from retargeting.robot_model import RobotModel

MUJOCO_MESH_FORMATS = (".stl", ".obj", ".msh")


@dataclasses.dataclass(frozen=True)
class ServoSettings:
    kp: float = 500.0  # N m / rad
    kv: float = 20.0  # N m s / rad
    armature: float = 0.05  # kg m^2 added to every joint (reflected motor inertia; URDFs leave it out)
    timestep: float = 0.002
    limit_tolerance: float = 0.02  # rad beyond the range before the simulated joint counts as a violation
    velocity_tolerance: float = 0.10  # relative, for the simulated joint velocities
    # The check fails when a servo falls further behind than this anywhere (a jump, a speed the servo
    # cannot follow, a limb pushed off its path by the robot's own body). Gestures and
    # walking from the embedded model stay below 0.1 rad; some acrobatics do not.
    max_tracking_error: float = 0.15  # rad


def servo_setpoint(settings: ServoSettings, positions: np.ndarray, velocities: np.ndarray) -> np.ndarray:
    """The position servos' control input for a reference (positions, velocities): kp (q* - q) + kv (qd* - qd)
    = kp (q* + kv / kp qd* - q) - kv qd, i.e. the velocity reference enters the set point (the actuators' bias
    supplies -kp q - kv qd), so the joint's effort limit clamps the whole torque."""
    return positions + settings.kv / settings.kp * velocities


def _urdf_for_mujoco(robot: RobotModel) -> str:
    text = robot.urdf_path.read_text()
    share = Path(robot.mesh_package_dirs()[0])

    def resolve(match: re.Match) -> str:
        name = match.group(1)
        if name.startswith("package://"):
            path = share / name[len("package://"):]
        else:
            path = (robot.urdf_path.parent / name).resolve()
        return f'filename="{path}"'

    text = re.sub(r'filename="([^"]+)"', resolve, text)
    # Drop visual/collision elements whose mesh MuJoCo cannot read.
    def keep(match: re.Match) -> str:
        mesh = re.search(r'filename="([^"]+)"', match.group(0))
        if mesh and not mesh.group(1).lower().endswith(MUJOCO_MESH_FORMATS):
            return ""
        return match.group(0)

    text = re.sub(r"<(visual|collision)\b.*?</\1>", keep, text, flags=re.S)
    # Keep visuals for rendering; MuJoCo reads this extension element inside <robot>.
    text = re.sub(r"(<robot\b[^>]*>)", r'\1<mujoco><compiler discardvisual="false" fusestatic="false" balanceinertia="true"/></mujoco>', text, count=1)
    return text


def build_model(robot: RobotModel, settings: ServoSettings = ServoSettings()):
    """(MjModel, joint qpos addresses, joint dof addresses, sole site ids (2,4)) for ``robot``."""
    os.environ.setdefault("MUJOCO_GL", "egl")  # before the first import: rendering may follow (render.py)
    import mujoco

    try:
        spec = mujoco.MjSpec.from_string(_urdf_for_mujoco(robot))
    except Exception as error:
        raise RetargetError(f"{robot.urdf_path}: MuJoCo cannot load this URDF: {error}") from error
    spec.option.timestep = settings.timestep
    root_body = spec.worldbody.first_body()
    root_body.add_freejoint()
    # The ground is drawn, not touched: the base is driven kinematically, so the ground cannot carry the robot's
    # weight, and a planted sole that the servos let sag a few millimetres into it got contact impulses that
    # jolted the whole tree (G1's waist roll 0.55 rad off a still 0.03 rad command). Soles below the ground are
    # measured from the sole sites instead (penetration_max_cm).
    spec.worldbody.add_geom(type=mujoco.mjtGeom.mjGEOM_PLANE, size=[0, 0, 1], rgba=[0.8, 0.8, 0.8, 1],
                            contype=0, conaffinity=0)
    spec.worldbody.add_light(pos=[0, 0, 4], dir=[0, 0, -1])
    model_pin = robot.model
    spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    for joint in spec.joints:
        if joint.type in (mujoco.mjtJoint.mjJNT_HINGE, mujoco.mjtJoint.mjJNT_SLIDE):
            joint.armature = max(joint.armature, settings.armature)  # geared motors: reflected rotor inertia
    for k, foot in enumerate(robot.config.feet):
        frame = model_pin.frames[model_pin.getFrameId(foot.frame)]
        body_name = model_pin.frames[frame.parentFrame].name if frame.type != pin.FrameType.BODY else frame.name
        body = spec.body(body_name) or spec.body(foot.frame)
        if body is None:
            raise RetargetError(f"{robot.config.source}: foot frame {foot.frame} has no MuJoCo body")
        placement = frame.placement if frame.type != pin.FrameType.BODY else pin.SE3.Identity()
        for c, corner in enumerate(robot.sole_corners_local[k]):
            local = placement.act(np.asarray(foot.sole_center) + corner)
            body.add_site(name=f"sole_{foot.side}_{c}", pos=local, size=[0.005, 0, 0])
    for name in robot.joint_names:
        spec.add_actuator(name=f"servo_{name}", target=name, trntype=mujoco.mjtTrn.mjTRN_JOINT,
                          gaintype=mujoco.mjtGain.mjGAIN_FIXED, gainprm=[settings.kp] + [0] * 9,
                          biastype=mujoco.mjtBias.mjBIAS_AFFINE, biasprm=[0, -settings.kp, -settings.kv] + [0] * 7)
    for name, value in robot.config.locked_joints.items():
        spec.add_actuator(name=f"lock_{name}", target=name, trntype=mujoco.mjtTrn.mjTRN_JOINT,
                          gaintype=mujoco.mjtGain.mjGAIN_FIXED, gainprm=[settings.kp] + [0] * 9,
                          biastype=mujoco.mjtBias.mjBIAS_AFFINE, biasprm=[value, -settings.kp, -settings.kv] + [0] * 7)
    model = spec.compile()
    # Geometry pairs that already touch at the calibration posture (overlapping meshes of neighbouring
    # links) would push the joints apart in simulation and count as self-collisions forever: exclude them.
    data = mujoco.MjData(model)
    adr = np.array([model.jnt_qposadr[model.joint(n).id] for n in robot.joint_names])
    _set_pose(model, data, [0, 0, 3], [0, 0, 0, 1], adr, robot.calibration_joints)
    mujoco.mj_forward(model, data)
    touching = {tuple(sorted((model.body(model.geom_bodyid[data.contact[i].geom1]).name,
                              model.body(model.geom_bodyid[data.contact[i].geom2]).name)))
                for i in range(data.ncon)}
    touching |= {tuple(sorted(pair)) for pair in robot.config.collision_exclude}
    if touching:
        for first, second in sorted(touching):
            spec.add_exclude(bodyname1=first, bodyname2=second)
        model = spec.compile()
    qpos_adr = np.array([model.jnt_qposadr[model.joint(n).id] for n in robot.joint_names])
    dof_adr = np.array([model.jnt_dofadr[model.joint(n).id] for n in robot.joint_names])
    sites = np.array([[model.site(f"sole_{side}_{c}").id for c in range(4)] for side in ("left", "right")])
    return model, qpos_adr, dof_adr, sites


def _robot_geom_pairs(model, data) -> set[tuple[int, int]]:
    pairs = set()
    for i in range(data.ncon):
        contact = data.contact[i]
        b1, b2 = model.geom_bodyid[contact.geom1], model.geom_bodyid[contact.geom2]
        if b1 == 0 or b2 == 0:  # the ground
            continue
        pairs.add((min(contact.geom1, contact.geom2), max(contact.geom1, contact.geom2)))
    return pairs


def _set_pose(model, data, base_position, base_xyzw, qpos_adr, joints):
    data.qpos[:3] = base_position
    data.qpos[3:7] = [base_xyzw[3], base_xyzw[0], base_xyzw[1], base_xyzw[2]]  # MuJoCo is w x y z
    data.qpos[qpos_adr] = joints


def self_collision_frames(robot: RobotModel, motion: RobotMotion, model_bundle=None) -> dict:
    """Frames whose configuration has contacts between two robot geoms (pairs already touching at the
    calibration posture, such as overlapping meshes of neighbouring links, are excluded in build_model).
    ``self_collision_pairs``: for each pair of bodies ("a|b", sorted), the frames it touches in and its
    deepest penetration (cm)."""
    import mujoco

    model, qpos_adr, _, _ = model_bundle or build_model(robot)
    data = mujoco.MjData(model)
    frames = []
    pairs: dict[str, dict] = {}
    for t in range(motion.num_frames):
        _set_pose(model, data, motion.base_positions[t], motion.base_orientations[t], qpos_adr, motion.positions[t])
        mujoco.mj_forward(model, data)
        touching: dict[str, float] = {}  # robot body pairs in contact (pairs touching at calibration are excluded in build_model)
        for i in range(data.ncon):
            contact = data.contact[i]
            b1, b2 = model.geom_bodyid[contact.geom1], model.geom_bodyid[contact.geom2]
            if b1 == 0 or b2 == 0:  # the ground
                continue
            key = "|".join(sorted((model.body(b1).name, model.body(b2).name)))
            touching[key] = max(touching.get(key, 0.0), float(-contact.dist) * 100.0)
        if touching:
            frames.append(t)
        for key, depth in touching.items():
            entry = pairs.setdefault(key, {"frames": 0, "max_depth_cm": 0.0})
            entry["frames"] += 1
            entry["max_depth_cm"] = max(entry["max_depth_cm"], round(depth, 2))
    return {"self_collision_frames": len(frames), "self_collision_frame_indices": frames[:50],
            "self_collision_pairs": pairs}


def check_motion(robot: RobotModel, motion: RobotMotion, settings: ServoSettings = ServoSettings()) -> dict:
    import mujoco

    bundle = build_model(robot, settings)
    model, qpos_adr, dof_adr, sites = bundle
    data = mujoco.MjData(model)
    if motion.joint_names != robot.joint_names:
        raise RetargetError("robot motion joint names do not match the robot; retarget it for this robot")
    times = motion.times
    _set_pose(model, data, motion.base_positions[0], motion.base_orientations[0], qpos_adr, motion.positions[0])
    mujoco.mj_forward(model, data)
    steps = int(np.ceil((times[-1] - times[0]) / settings.timestep)) + 1
    sample_index = 0
    tracking, sole_positions, joint_velocities, collision_frames = [], [], [], []
    lower, upper = robot.lower, robot.upper
    base_velocity = np.gradient(motion.base_positions, times, axis=0) if len(times) > 1 else np.zeros((1, 3))
    for step in range(steps):
        t = times[0] + step * settings.timestep
        target = np.array([np.interp(t, times, motion.positions[:, j]) for j in range(robot.nj)])
        k = min(np.searchsorted(times, t, side="right") - 1, len(times) - 2) if len(times) > 1 else 0
        alpha = 0.0 if len(times) == 1 else float(np.clip((t - times[k]) / (times[k + 1] - times[k]), 0, 1))
        base = (1 - alpha) * motion.base_positions[k] + alpha * motion.base_positions[min(k + 1, len(times) - 1)]
        quat = pin.Quaternion(motion.base_orientations[k]).slerp(alpha, pin.Quaternion(motion.base_orientations[min(k + 1, len(times) - 1)]))
        xyzw = quat.coeffs()
        data.qpos[:3] = base
        data.qpos[3:7] = [xyzw[3], xyzw[0], xyzw[1], xyzw[2]]
        data.qvel[:3] = base_velocity[k]
        data.qvel[3:6] = 0.0
        target_velocity = np.array([np.interp(t, times, motion.velocities[:, j]) for j in range(robot.nj)])
        data.ctrl[: robot.nj] = servo_setpoint(settings, target, target_velocity)
        mujoco.mj_step(model, data)
        while sample_index < len(times) and times[sample_index] <= t + 1e-9:
            tracking.append(data.qpos[qpos_adr] - motion.positions[sample_index])
            joint_velocities.append(data.qvel[dof_adr].copy())
            sole_positions.append(data.site_xpos[sites.ravel()].reshape(2, 4, 3).copy())
            if _robot_geom_pairs(model, data):
                collision_frames.append(sample_index)
            sample_index += 1
    tracking = np.array(tracking)
    velocities = np.array(joint_velocities)
    soles = np.array(sole_positions)
    qpos = tracking + motion.positions[: len(tracking)]
    limit = (qpos < lower - settings.limit_tolerance) | (qpos > upper + settings.limit_tolerance)
    velocity = np.abs(velocities) > robot.velocity_limits * (1 + settings.velocity_tolerance)
    contacts = motion.contacts[: len(soles)]
    centre = soles.mean(axis=2)
    both = contacts[1:] & contacts[:-1]
    slide = np.linalg.norm(np.diff(centre[:, :, :2], axis=0), axis=-1)[both]
    lowest = soles[:, :, :, 2].min(axis=2)
    per_joint = np.abs(tracking).max(axis=0)
    worst = np.argsort(-per_joint)[:3]
    report = {
        "frames": int(len(tracking)),
        "tracking_error_rad": {"mean": float(np.abs(tracking).mean()), "max": float(np.abs(tracking).max())},
        # where the servos fall behind (issue 15, item 8): the three joints with the largest error, and when
        "worst_tracking_joints": [{"joint": robot.joint_names[j], "max_error_rad": round(float(per_joint[j]), 3),
                                   "frame": int(np.abs(tracking[:, j]).argmax())} for j in worst],
        "simulated_limit_violation_joints": sorted({robot.joint_names[j] for j in np.nonzero(limit.any(axis=0))[0]}),
        "simulated_joint_limit_violations": int(limit.sum()),
        "simulated_velocity_limit_violations": int(velocity.sum()),
        "commanded_joint_limit_violations": int(((motion.positions < lower - 1e-9) | (motion.positions > upper + 1e-9)).sum()),
        "commanded_velocity_limit_violations": int((np.abs(motion.velocities) > robot.velocity_limits * (1 + 1e-6)).sum()),
        "foot_sliding_cm_per_contact_frame": float(slide.mean() * 100) if slide.size else 0.0,
        "penetration_max_cm": float(np.maximum(0.0, -lowest).max() * 100),
        "self_collision_frames": len(collision_frames),
    }
    report["failures"] = check_failures(report, settings)
    report["passed"] = not report["failures"]
    return report


def check_failures(report: dict, settings: ServoSettings = ServoSettings()) -> list[str]:
    """One line per reason the played trajectory is not executable as commanded (empty: it passed)."""
    failures = []
    worst = report["worst_tracking_joints"][0] if report["worst_tracking_joints"] else None
    if worst and report["tracking_error_rad"]["max"] > settings.max_tracking_error:
        failures.append(f"tracking error {report['tracking_error_rad']['max']:.3f} rad > {settings.max_tracking_error} rad "
                        f"({worst['joint']} at frame {worst['frame']})")
    if report["simulated_joint_limit_violations"]:
        failures.append(f"{report['simulated_joint_limit_violations']} simulated joint limit violations "
                        f"({', '.join(report['simulated_limit_violation_joints'])})")
    for key in ("commanded_joint_limit_violations", "commanded_velocity_limit_violations"):
        if report[key]:
            failures.append(f"{report[key]} {key.replace('_', ' ')}")
    return failures
