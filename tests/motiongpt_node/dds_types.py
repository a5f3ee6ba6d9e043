"""ROS 2 message types as seen on the DDS wire, for the Cyclone DDS test client.

Each class mirrors one .msg definition field by field (same order, same types), with the DDS type
name that every ROS 2 rmw uses (`pkg::msg::dds_::Name_`). Plain IdlStructs are final and encode as
XCDR1, which is what rmw_fastrtps speaks. ROS topic `/a/b` is the DDS topic `rt/a/b`.
"""


from dataclasses import dataclass, field

import struct

from cyclonedds.idl import IdlStruct
from cyclonedds.idl.types import float32, float64, int32, sequence, uint8, uint32


def dds_topic(ros_topic: str) -> str:
    """The DDS topic name of an absolute ROS 2 topic name."""
    if not ros_topic.startswith("/"):
        raise ValueError(f"ROS topic {ros_topic!r} must be absolute")
    return "rt" + ros_topic


@dataclass
class Time(IdlStruct, typename="builtin_interfaces::msg::dds_::Time_"):
    sec: int32 = 0
    nanosec: uint32 = 0


@dataclass
class Duration(IdlStruct, typename="builtin_interfaces::msg::dds_::Duration_"):
    sec: int32 = 0
    nanosec: uint32 = 0


@dataclass
class Header(IdlStruct, typename="std_msgs::msg::dds_::Header_"):
    stamp: Time = field(default_factory=Time)
    frame_id: str = ""


@dataclass
class String(IdlStruct, typename="std_msgs::msg::dds_::String_"):
    data: str = ""


@dataclass
class JointState(IdlStruct, typename="sensor_msgs::msg::dds_::JointState_"):
    header: Header = field(default_factory=Header)
    name: sequence[str] = field(default_factory=list)
    position: sequence[float64] = field(default_factory=list)
    velocity: sequence[float64] = field(default_factory=list)
    effort: sequence[float64] = field(default_factory=list)


@dataclass
class JointTrajectoryPoint(IdlStruct, typename="trajectory_msgs::msg::dds_::JointTrajectoryPoint_"):
    positions: sequence[float64] = field(default_factory=list)
    velocities: sequence[float64] = field(default_factory=list)
    accelerations: sequence[float64] = field(default_factory=list)
    effort: sequence[float64] = field(default_factory=list)
    time_from_start: Duration = field(default_factory=Duration)


@dataclass
class JointTrajectory(IdlStruct, typename="trajectory_msgs::msg::dds_::JointTrajectory_"):
    header: Header = field(default_factory=Header)
    joint_names: sequence[str] = field(default_factory=list)
    points: sequence[JointTrajectoryPoint] = field(default_factory=list)


@dataclass
class Point(IdlStruct, typename="geometry_msgs::msg::dds_::Point_"):
    x: float64 = 0.0
    y: float64 = 0.0
    z: float64 = 0.0


@dataclass
class Quaternion(IdlStruct, typename="geometry_msgs::msg::dds_::Quaternion_"):
    x: float64 = 0.0
    y: float64 = 0.0
    z: float64 = 0.0
    w: float64 = 1.0


@dataclass
class Pose(IdlStruct, typename="geometry_msgs::msg::dds_::Pose_"):
    position: Point = field(default_factory=Point)
    orientation: Quaternion = field(default_factory=Quaternion)


@dataclass
class PoseArray(IdlStruct, typename="geometry_msgs::msg::dds_::PoseArray_"):
    header: Header = field(default_factory=Header)
    poses: sequence[Pose] = field(default_factory=list)


@dataclass
class PoseStamped(IdlStruct, typename="geometry_msgs::msg::dds_::PoseStamped_"):
    header: Header = field(default_factory=Header)
    pose: Pose = field(default_factory=Pose)


@dataclass
class Path(IdlStruct, typename="nav_msgs::msg::dds_::Path_"):
    header: Header = field(default_factory=Header)
    poses: sequence[PoseStamped] = field(default_factory=list)


@dataclass
class KeyValue(IdlStruct, typename="diagnostic_msgs::msg::dds_::KeyValue_"):
    key: str = ""
    value: str = ""


@dataclass
class DiagnosticStatus(IdlStruct, typename="diagnostic_msgs::msg::dds_::DiagnosticStatus_"):
    level: uint8 = 0
    name: str = ""
    message: str = ""
    hardware_id: str = ""
    values: sequence[KeyValue] = field(default_factory=list)


@dataclass
class DiagnosticArray(IdlStruct, typename="diagnostic_msgs::msg::dds_::DiagnosticArray_"):
    header: Header = field(default_factory=Header)
    status: sequence[DiagnosticStatus] = field(default_factory=list)


def duration_seconds(duration: Duration) -> float:
    return duration.sec + duration.nanosec * 1e-9




def string_with_raw_bytes(raw: bytes) -> String:
    """A std_msgs/String sample whose payload is `raw` verbatim, which may be invalid UTF-8.

    Cyclone's Python serializer only encodes valid text, so this sample carries its own XCDR1
    encoding: the little-endian encapsulation header, then the CDR string (uint32 length counting
    the terminating NUL, the bytes, the NUL). The wire type is unchanged, so rmw matches as usual.
    """
    payload = b"\x00\x01\x00\x00" + struct.pack("<I", len(raw) + 1) + raw + b"\x00"
    sample = String(data="")
    sample.serialize = lambda **_: payload  # type: ignore[method-assign]
    return sample


@dataclass
class Vector3(IdlStruct, typename="geometry_msgs::msg::dds_::Vector3_"):
    x: float64 = 0.0
    y: float64 = 0.0
    z: float64 = 0.0


@dataclass
class ColorRGBA(IdlStruct, typename="std_msgs::msg::dds_::ColorRGBA_"):
    r: float32 = 0.0
    g: float32 = 0.0
    b: float32 = 0.0
    a: float32 = 0.0


@dataclass
class CompressedImage(IdlStruct, typename="sensor_msgs::msg::dds_::CompressedImage_"):
    header: Header = field(default_factory=Header)
    format: str = ""
    data: sequence[uint8] = field(default_factory=list)


@dataclass
class UVCoordinate(IdlStruct, typename="visualization_msgs::msg::dds_::UVCoordinate_"):
    u: float32 = 0.0
    v: float32 = 0.0


@dataclass
class MeshFile(IdlStruct, typename="visualization_msgs::msg::dds_::MeshFile_"):
    filename: str = ""
    data: sequence[uint8] = field(default_factory=list)


@dataclass
class Marker(IdlStruct, typename="visualization_msgs::msg::dds_::Marker_"):
    """visualization_msgs/Marker as in Jazzy (Humble's lacks the texture and mesh_file fields)."""
    header: Header = field(default_factory=Header)
    ns: str = ""
    id: int32 = 0
    type: int32 = 0
    action: int32 = 0
    pose: Pose = field(default_factory=Pose)
    scale: Vector3 = field(default_factory=Vector3)
    color: ColorRGBA = field(default_factory=ColorRGBA)
    lifetime: Duration = field(default_factory=Duration)
    frame_locked: bool = False
    points: sequence[Point] = field(default_factory=list)
    colors: sequence[ColorRGBA] = field(default_factory=list)
    texture_resource: str = ""
    texture: CompressedImage = field(default_factory=CompressedImage)
    uv_coordinates: sequence[UVCoordinate] = field(default_factory=list)
    text: str = ""
    mesh_resource: str = ""
    mesh_file: MeshFile = field(default_factory=MeshFile)
    mesh_use_embedded_materials: bool = False


@dataclass
class MarkerArray(IdlStruct, typename="visualization_msgs::msg::dds_::MarkerArray_"):
    markers: sequence[Marker] = field(default_factory=list)


@dataclass
class TriggerRequest(IdlStruct, typename="std_srvs::srv::dds_::Trigger_Request_"):
    structure_needs_at_least_one_member: uint8 = 0


@dataclass
class TriggerResponse(IdlStruct, typename="std_srvs::srv::dds_::Trigger_Response_"):
    success: bool = False
    message: str = ""


def service_topics(ros_service: str) -> tuple[str, str]:
    """DDS request and reply topics of an absolute ROS 2 service name."""
    return "rq" + ros_service + "Request", "rr" + ros_service + "Reply"
