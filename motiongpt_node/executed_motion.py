"""Rebuild a retargeting.RobotMotion from what the node published (a joint trajectory and the base path),
so a trajectory received on the wire can be played in the MuJoCo check and rendered (ROS-free).
"""
from __future__ import annotations

import numpy as np


def robot_motion_from_trajectory(
    robot,  # retargeting.robot_model.RobotModel
    joint_names: list[str] | tuple[str, ...],
    times: np.ndarray,
    positions: np.ndarray,
    base_times: np.ndarray,
    base_positions: np.ndarray,
    base_orientations_xyzw: np.ndarray,
    source: str = "joint trajectory received on the wire",
):
    """A RobotMotion on the trajectory's time grid; the base pose is interpolated from the base path
    (held at its ends). Before the base path starts (the transition from the current state to the motion's
    first pose) the base keeps the first pose's position and heading but stands on its feet: its height is set
    so that the lowest sole corner touches the floor with the joints of that moment (the first base pose belongs
    to the first motion pose, and under the start joints it can put the feet through the floor). Foot contacts
    are unknown on the wire and left false."""
    from retargeting.errors import RetargetError
    from retargeting.motion import RobotMotion

    names = list(joint_names)
    missing = [name for name in robot.joint_names if name not in names]
    if missing:
        raise RetargetError(f"{source}: trajectory lacks robot joints {missing}")
    times = np.asarray(times, dtype=np.float64)
    columns = [names.index(name) for name in robot.joint_names]
    joints = np.asarray(positions, dtype=np.float64)[:, columns]
    base_times = np.asarray(base_times, dtype=np.float64)
    base_positions = np.asarray(base_positions, dtype=np.float64)
    if base_times.size == 0:
        raise RetargetError(f"{source}: empty base path")
    base = np.stack([np.interp(times, base_times, base_positions[:, axis]) for axis in range(3)], axis=1)
    nearest = np.clip(np.searchsorted(base_times, times), 0, base_times.size - 1)
    quaternions = np.asarray(base_orientations_xyzw, dtype=np.float64)[nearest]
    quaternions /= np.linalg.norm(quaternions, axis=1, keepdims=True)
    stand_on_the_floor(robot, times < base_times[0] - 1e-9, base, quaternions, joints)
    velocities = np.gradient(joints, times, axis=0) if times.size > 1 else np.zeros_like(joints)
    return RobotMotion(
        robot=robot.config.name, joint_names=list(robot.joint_names), times=times, positions=joints,
        velocities=velocities, base_positions=base, base_orientations=quaternions,
        contacts=np.zeros((times.size, 2), dtype=bool), report={"source": source}, urdf=str(robot.urdf_path),
    )


def stand_on_the_floor(robot, rows: np.ndarray, base: np.ndarray, quaternions_xyzw: np.ndarray, joints: np.ndarray) -> None:
    """Raise or lower ``base`` (in place) at ``rows`` so that the lowest sole corner is at z = 0."""
    import pinocchio as pin

    for i in np.flatnonzero(rows):
        rotation = pin.Quaternion(*quaternions_xyzw[i][[3, 0, 1, 2]]).toRotationMatrix()
        q = robot.configuration(base[i], rotation, joints[i])
        base[i, 2] -= float(robot.sole_points(q)[:, :, 2].min())
