"""Write the golden input bag tests/motiongpt_node/data/golden_input (rosbag2, mcap, Jazzy types).

Three seconds of what a robot and a person feed the node: /joint_states at 50 Hz (the G1 standing with
bent knees), /human_pose at 20 Hz (the DeepMimic walk clip from pybullet_data as the 22
SMPL joints, Z up), and one spoken-style command on /command at t = 0.5 s.
Regenerate with: .venv/bin/python -m tests.motiongpt_node.data.make_golden_bag
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore

from motiongpt.data.deepmimic import load_joints
from motiongpt.skeleton import yup_to_zup
from motiongpt_node.joint_limits import JointLimits

FOLDER = Path(__file__).resolve().parent / "golden_input"
COMMAND = "Please walk forward, then wave with your right hand."
START_NS = 1_700_000_000 * 10**9
DURATION_S = 3.0


def golden_joint_state(limits: JointLimits) -> np.ndarray:
    state = np.clip(np.zeros(len(limits.joint_names)), limits.lower, limits.upper)
    state[[i for i, n in enumerate(limits.joint_names) if "knee" in n]] = 0.3
    return state


def main() -> Path:
    from tests.motiongpt_node.conftest import g1_urdf_path

    store = get_typestore(Stores.ROS2_JAZZY)
    T = store.types
    limits = JointLimits.from_urdf(g1_urdf_path())
    state = golden_joint_state(limits)
    walk = yup_to_zup(load_joints("walk", cycles=3))
    if FOLDER.exists():
        shutil.rmtree(FOLDER)
    messages = []

    def stamp(ns):
        return T["builtin_interfaces/msg/Time"](sec=ns // 10**9, nanosec=ns % 10**9)

    def header(ns, frame=""):
        return T["std_msgs/msg/Header"](stamp=stamp(ns), frame_id=frame)

    for k in range(int(DURATION_S * 50)):
        ns = START_NS + k * 20_000_000
        messages.append(("/joint_states", "sensor_msgs/msg/JointState", ns, T["sensor_msgs/msg/JointState"](
            header=header(ns), name=list(limits.joint_names), position=state.copy(),
            velocity=np.zeros(0), effort=np.zeros(0))))
    for k in range(int(DURATION_S * 20)):
        ns = START_NS + k * 50_000_000
        poses = [T["geometry_msgs/msg/Pose"](
            position=T["geometry_msgs/msg/Point"](x=float(p[0]), y=float(p[1]), z=float(p[2])),
            orientation=T["geometry_msgs/msg/Quaternion"](x=0.0, y=0.0, z=0.0, w=1.0)) for p in walk[k % len(walk)]]
        messages.append(("/human_pose", "geometry_msgs/msg/PoseArray", ns,
                         T["geometry_msgs/msg/PoseArray"](header=header(ns, "world"), poses=poses)))
    messages.append(("/command", "std_msgs/msg/String", START_NS + 500_000_000,
                     T["std_msgs/msg/String"](data=COMMAND)))
    messages.sort(key=lambda m: m[2])
    with Writer(FOLDER, version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        connections = {}
        for topic, msgtype, ns, message in messages:
            if topic not in connections:
                connections[topic] = writer.add_connection(topic, msgtype, typestore=store)
            writer.write(connections[topic], ns, store.serialize_cdr(message, msgtype))
    return FOLDER


if __name__ == "__main__":
    print(main())
