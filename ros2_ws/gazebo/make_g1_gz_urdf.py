"""Write a G1 URDF for Gazebo Harmonic + gz_ros2_control from the example-robot-data URDF.

Adds: a `world` link with the pelvis fixed to it 1 m up (a humanoid on joint position control alone
falls: this is kinematic playback, like the MuJoCo check), a <ros2_control> block with
gz_ros2_control/GazeboSimSystem and a position command interface for every movable joint, and the
gz_ros2_control plugin pointing at the controllers file. Mesh paths become absolute file:// URIs.

    python ros2_ws/gazebo/make_g1_gz_urdf.py --out /tmp/g1_gz.urdf [--controllers ros2_ws/gazebo/g1_controllers.yaml]
"""
from __future__ import annotations

import argparse
import importlib.metadata
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
G1_URDF = "example-robot-data/robots/g1_description/urdf/g1_29dof_rev_1_0.urdf"


def example_robot_data_share() -> Path:
    return Path(str(importlib.metadata.distribution("example-robot-data").locate_file("cmeel.prefix/share")))


def movable_joints(robot: ET.Element) -> list[str]:
    return [j.get("name") for j in robot.iter("joint") if j.get("type") in ("revolute", "prismatic", "continuous")]


def gazebo_urdf(urdf_path: Path, controllers: Path, share: Path, base_height: float = 1.0) -> ET.ElementTree:
    tree = ET.parse(urdf_path)
    robot = tree.getroot()
    for mesh in robot.iter("mesh"):
        name = mesh.get("filename", "")
        if name.startswith("package://"):
            mesh.set("filename", "file://" + str(share / name[len("package://"):]))
        elif not name.startswith("file://"):
            mesh.set("filename", "file://" + str((urdf_path.parent / name).resolve()))
    joints = movable_joints(robot)
    ET.SubElement(robot, "link", name="world")
    anchor = ET.SubElement(robot, "joint", name="world_to_pelvis", type="fixed")
    ET.SubElement(anchor, "parent", link="world")
    ET.SubElement(anchor, "child", link="pelvis")
    ET.SubElement(anchor, "origin", xyz=f"0 0 {base_height}", rpy="0 0 0")
    control = ET.SubElement(robot, "ros2_control", name="GazeboSimSystem", type="system")
    hardware = ET.SubElement(control, "hardware")
    ET.SubElement(hardware, "plugin").text = "gz_ros2_control/GazeboSimSystem"
    for name in joints:
        joint = ET.SubElement(control, "joint", name=name)
        ET.SubElement(joint, "command_interface", name="position")
        ET.SubElement(joint, "state_interface", name="position")
        ET.SubElement(joint, "state_interface", name="velocity")
    gazebo = ET.SubElement(robot, "gazebo")
    plugin = ET.SubElement(gazebo, "plugin", filename="gz_ros2_control-system",
                           name="gz_ros2_control::GazeboSimROS2ControlPlugin")
    ET.SubElement(plugin, "parameters").text = str(controllers.resolve())
    return tree


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--controllers", default=str(HERE / "g1_controllers.yaml"))
    parser.add_argument("--base-height", type=float, default=1.0)
    args = parser.parse_args(argv)
    share = example_robot_data_share()
    tree = gazebo_urdf(share / G1_URDF, Path(args.controllers), share, args.base_height)
    Path(args.out).write_text(ET.tostring(tree.getroot(), encoding="unicode"))
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
