"""Replay the golden input bag on the wire, and record the node's inputs and outputs as a rosbag2 (mcap)."""
from __future__ import annotations

import numpy as np
import pytest

from motiongpt_node.bag_recorder import read_bag
from motiongpt_node.joint_limits import JointLimits
from tests.motiongpt_node import dds_types as t
from tests.motiongpt_node.conftest import g1_urdf_path
from tests.motiongpt_node.data.make_golden_bag import COMMAND, FOLDER, golden_joint_state
from tests.motiongpt_node.trajectory_checks import assert_valid_trajectory, seconds, trajectory_arrays
from tests.motiongpt_node.wire import (
    NODE, NodeProcess, WireClient, isolate_environment, replay_bag, temp_workdir, wait_until_loaded,
)

TRAJECTORY_TOPIC = "/joint_trajectory"
MAX_DURATION = 10.0
VELOCITY_CAP = 9.42  # the G1 robot config's max_joint_velocity (retargeting/robots/g1.yaml)


@pytest.fixture(scope="module")
def session(tiny_model_folder):
    domain = isolate_environment()
    workdir = temp_workdir()
    recorded = workdir / "recorded"
    node = NodeProcess({"model_path": str(tiny_model_folder), "device": "cpu", "seed": 5,
                        "record_bag": str(recorded), "joint_state_timeout": 5.0}, workdir)
    client = WireClient(domain)
    status = client.reader(f"{NODE}/status", t.DiagnosticArray)
    trajectory = client.reader(TRAJECTORY_TOPIC, t.JointTrajectory)
    for reader in (status, trajectory):
        client.wait_matched(reader)
    wait_until_loaded(client, status, node)
    golden = read_bag(FOLDER)
    replay_bag(client, golden)
    try:
        received = client.wait_for(trajectory, lambda m: True, 60.0)
        # The status comes after the base path and the skeleton: all outputs of the command are out.
        client.wait_for(status, lambda s: s.status[0].message.startswith("published command"), 30.0)
    finally:
        code = node.stop()  # SIGINT: the node closes the bag it records
    assert code == 0, node.log()[-3000:]
    return {"golden": golden, "received": received, "recorded": read_bag(recorded), "log": node.log()}


def test_golden_bag_holds_the_inputs():
    golden = read_bag(FOLDER)
    topics = {topic for topic, _, _ in golden}
    assert topics == {"/joint_states", "/human_pose", "/command"}
    commands = [m.data for topic, _, m in golden if topic.endswith("/command")]
    assert commands == [COMMAND]
    poses = [m for topic, _, m in golden if topic.endswith("/human_pose")]
    assert all(len(p.poses) == 22 for p in poses)


def test_replayed_command_gives_a_valid_trajectory(session):
    limits = JointLimits.from_urdf(g1_urdf_path())
    assert_valid_trajectory(session["received"], golden_joint_state(limits), limits, MAX_DURATION, VELOCITY_CAP)


def test_recording_holds_inputs_and_outputs(session):
    recorded = session["recorded"]
    topics = {topic for topic, _, _ in recorded}
    assert {"/joint_states", "/human_pose", "/command", TRAJECTORY_TOPIC, f"{NODE}/status",
            f"{NODE}/base_path", f"{NODE}/skeleton"} <= topics, topics
    commands = [m.data for topic, _, m in recorded if topic == "/command"]
    assert commands == [COMMAND]
    joint_states = [m for topic, _, m in recorded if topic == "/joint_states"]
    assert len(joint_states) >= 10  # 150 were replayed; a busy node keeps only the latest (KEEP_LAST 10)
    stamps = [stamp for _, stamp, _ in recorded]
    assert stamps == sorted(stamps)
    # The trajectory in the bag is the one that went over the wire.
    [bagged] = [m for topic, _, m in recorded if topic == TRAJECTORY_TOPIC]
    wire = session["received"]
    assert list(bagged.joint_names) == list(wire.joint_names)
    limits = JointLimits.from_urdf(g1_urdf_path())
    wire_times, wire_positions = trajectory_arrays(wire, limits.joint_names)
    bag_times = np.array([seconds(p.time_from_start) for p in bagged.points])
    bag_positions = np.array([p.positions for p in bagged.points])[:, [list(bagged.joint_names).index(n) for n in limits.joint_names]]
    np.testing.assert_array_equal(bag_times, wire_times)
    np.testing.assert_array_equal(bag_positions, wire_positions)
