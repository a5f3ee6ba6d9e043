"""Conversions between ROS 2 messages and the plain arrays of the cores (the node's only message code)."""
from __future__ import annotations

import numpy as np
from builtin_interfaces.msg import Duration, Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import Point, Pose, PoseStamped, Quaternion
from nav_msgs.msg import Path
from std_msgs.msg import ColorRGBA, Header
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint
from visualization_msgs.msg import Marker, MarkerArray

from motiongpt.skeleton import FPS, PARENTS, yup_to_zup
from motiongpt_node.trajectory_contract import JointTrajectoryData

STATUS_LEVELS = {"ok": DiagnosticStatus.OK, "warn": DiagnosticStatus.WARN, "error": DiagnosticStatus.ERROR}


def duration_msg(seconds: float) -> Duration:
    nanoseconds = int(round(seconds * 1e9))
    return Duration(sec=nanoseconds // 1_000_000_000, nanosec=nanoseconds % 1_000_000_000)


def duration_seconds(duration: Duration) -> float:
    return duration.sec + duration.nanosec * 1e-9


def trajectory_msg(trajectory: JointTrajectoryData) -> JointTrajectory:
    """JointTrajectory with a zero header stamp (the controller starts it on arrival)."""
    message = JointTrajectory(header=Header(stamp=Time(), frame_id=""), joint_names=list(trajectory.joint_names))
    velocities = trajectory.velocities
    for index, time_s in enumerate(trajectory.times):
        point = JointTrajectoryPoint(
            positions=trajectory.positions[index].tolist(),
            time_from_start=duration_msg(float(time_s)),
        )
        if velocities is not None:
            point.velocities = velocities[index].tolist()
        message.points.append(point)
    return message


def trajectory_from_msg(message: JointTrajectory) -> JointTrajectoryData:
    times = np.array([duration_seconds(p.time_from_start) for p in message.points], dtype=np.float64)
    positions = np.array([list(p.positions) for p in message.points], dtype=np.float64)
    has_velocities = message.points and all(len(p.velocities) == len(message.joint_names) for p in message.points)
    velocities = np.array([list(p.velocities) for p in message.points]) if has_velocities else None
    return JointTrajectoryData(tuple(message.joint_names), times, positions, velocities)


def base_path_msg(times: np.ndarray, positions: np.ndarray, orientations_xyzw: np.ndarray, frame_id: str, stamp: Time) -> Path:
    """nav_msgs/Path of the pelvis; each pose stamped at `stamp` + its time in the motion."""
    start_ns = stamp.sec * 1_000_000_000 + stamp.nanosec
    path = Path(header=Header(stamp=stamp, frame_id=frame_id))
    for time_s, position, quaternion in zip(times, positions, orientations_xyzw):
        total = start_ns + int(round(float(time_s) * 1e9))
        pose = Pose(
            position=Point(x=float(position[0]), y=float(position[1]), z=float(position[2])),
            orientation=Quaternion(x=float(quaternion[0]), y=float(quaternion[1]), z=float(quaternion[2]), w=float(quaternion[3])),
        )
        header = Header(stamp=Time(sec=total // 1_000_000_000, nanosec=total % 1_000_000_000), frame_id=frame_id)
        path.poses.append(PoseStamped(header=header, pose=pose))
    return path


def skeleton_markers(joints_yup: np.ndarray, frame_id: str, stamp: Time, fps: float = FPS, every_s: float = 0.5) -> MarkerArray:
    """A stick-figure preview: one LINE_LIST of bones per `every_s` seconds of motion, later frames more opaque."""
    points = yup_to_zup(joints_yup)
    header = Header(stamp=stamp, frame_id=frame_id)
    markers = MarkerArray(markers=[Marker(header=header, ns="motiongpt_skeleton", action=Marker.DELETEALL)])
    step = max(1, int(round(every_s * fps)))
    frames = list(range(0, points.shape[0], step))
    if frames[-1] != points.shape[0] - 1:
        frames.append(points.shape[0] - 1)
    for marker_id, frame in enumerate(frames):
        marker = Marker(header=header, ns="motiongpt_skeleton", id=marker_id, type=Marker.LINE_LIST, action=Marker.ADD)
        marker.pose.orientation.w = 1.0
        marker.scale.x = 0.02
        alpha = 0.25 + 0.75 * (marker_id + 1) / len(frames)
        marker.color = ColorRGBA(r=0.1, g=0.5, b=1.0, a=float(alpha))
        for child, parent in enumerate(PARENTS):
            if parent < 0:
                continue
            for joint in (parent, child):
                x, y, z = points[frame, joint]
                marker.points.append(Point(x=float(x), y=float(y), z=float(z)))
        markers.markers.append(marker)
    return markers


def status_msg(stamp: Time, name: str, level: str, message: str, values: dict[str, object]) -> DiagnosticArray:
    status = DiagnosticStatus(
        level=STATUS_LEVELS[level],
        name=name,
        message=message[:1000],
        hardware_id="motiongpt",
        values=[KeyValue(key=str(k), value=str(v)[:1000]) for k, v in values.items()],
    )
    return DiagnosticArray(header=Header(stamp=stamp), status=[status])
