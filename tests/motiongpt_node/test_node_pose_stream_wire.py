"""The live pose stream on the wire: ~/describe captions it, prediction mode anticipates it."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from motiongpt.data.deepmimic import load_joints
from motiongpt_node.inputs import yup_to_zup
from motiongpt_node.joint_limits import JointLimits
from tests.motiongpt_node import dds_types as t
from tests.motiongpt_node.conftest import g1_urdf_path
from tests.motiongpt_node.trajectory_checks import assert_valid_trajectory
from tests.motiongpt_node.wire import (
    NODE, JointStateStream, NodeProcess, WireClient, isolate_environment, temp_workdir, wait_until_loaded,
)

TRAJECTORY_TOPIC = "/joint_trajectory_controller/joint_trajectory"
VELOCITY_CAP = 3.0
MAX_DURATION = 10.0


class PoseStream:
    """Publishes the DeepMimic walk as PoseArrays (22 SMPL joints, Z up) at 20 Hz, stamped with wall time."""

    def __init__(self, writer) -> None:
        self.writer = writer
        self.frames = yup_to_zup(load_joints("walk", cycles=4))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        k = 0
        while not self._stop.is_set():
            now = time.time_ns()
            poses = [t.Pose(position=t.Point(x=float(p[0]), y=float(p[1]), z=float(p[2])))
                     for p in self.frames[k % len(self.frames)]]
            header = t.Header(stamp=t.Time(sec=now // 10**9, nanosec=now % 10**9), frame_id="world")
            self.writer.write(t.PoseArray(header=header, poses=poses))
            k += 1
            self._stop.wait(0.05)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)


@pytest.fixture(scope="module")
def wire(tiny_model_folder):
    domain = isolate_environment()
    limits = JointLimits.from_urdf(g1_urdf_path())
    node = NodeProcess({"model_path": str(tiny_model_folder), "device": "cpu", "seed": 7,
                        "prediction_enabled": True, "prediction_period": 1.0, "prediction_context": 1.5,
                        "prediction_seconds": 1.0, "describe_seconds": 2.0, "caption_generated": False}, temp_workdir())
    client = WireClient(domain)
    endpoints = {
        "joint_states": client.writer("/joint_states", t.JointState),
        "human_pose": client.writer(f"{NODE}/human_pose", t.PoseArray),
        "status": client.reader(f"{NODE}/status", t.DiagnosticArray),
        "trajectory": client.reader(TRAJECTORY_TOPIC, t.JointTrajectory),
        "description": client.reader(f"{NODE}/description", t.String),
    }
    for endpoint in endpoints.values():
        client.wait_matched(endpoint)
    start = np.clip(np.zeros(len(limits.joint_names)), limits.lower, limits.upper)
    stream = JointStateStream(endpoints["joint_states"], list(limits.joint_names), start.tolist()).start()
    wait_until_loaded(client, endpoints["status"], node)
    yield {"node": node, "client": client, "limits": limits, "start": start, **endpoints}
    stream.stop()
    assert node.stop() == 0, node.log()[-3000:]


def test_describe_without_pose_stream_says_why(wire):
    reply = wire["client"].call_trigger(f"{NODE}/describe")
    assert not reply.success
    assert "need at least 1.0 s of pose stream" in reply.message
    assert wire["client"].poll(wire["trajectory"]) == []  # no stream, no prediction


def test_live_stream_is_predicted_and_described(wire):
    client = wire["client"]
    poses = PoseStream(wire["human_pose"])
    try:
        mark = client.mark(wire["trajectory"])
        first = client.wait_for(wire["trajectory"], lambda m: True, 30.0, mark)
        second = client.wait_for(wire["trajectory"], lambda m: m is not first, 30.0, mark)
        for message in (first, second):
            assert_valid_trajectory(message, wire["start"], wire["limits"], MAX_DURATION, VELOCITY_CAP)
        status = client.wait_for(wire["status"], lambda s: "published prediction" in s.status[0].message, 10.0)
        assert status.status[0].level == 0
        mark_text = client.mark(wire["description"])
        reply = client.call_trigger(f"{NODE}/describe")
        assert reply.success and reply.message.strip()
        published = client.wait_for(wire["description"], lambda m: True, 10.0, mark_text)
        assert published.data == reply.message
    finally:
        poses.stop()
    time.sleep(1.0)  # a prediction already under way may still finish
    after = client.mark(wire["trajectory"])
    time.sleep(2.5)  # more than two prediction periods
    assert client.poll(wire["trajectory"])[after:] == []  # the stream stopped: nothing more to anticipate
