"""Bad input on a real DDS wire: the node stays up, publishes nothing invalid and says what was wrong.

The node is a subprocess (real rclpy, Fast DDS); the client is Cyclone DDS. Run inside
`bash scripts/run_isolated.sh .venv/bin/python -m pytest tests/motiongpt_node`.
"""
from __future__ import annotations

import time

import numpy as np
import pytest

from motiongpt_node.joint_limits import JointLimits
from tests.motiongpt_node import dds_types as t
from tests.motiongpt_node.conftest import g1_urdf_path
from tests.motiongpt_node.wire import NODE, status_values, wait_until_loaded, JointStateStream, NodeProcess, WireClient, isolate_environment, temp_workdir

STATUS_TIMEOUT = 10.0


class Wire:
    def __init__(self, model_folder) -> None:
        domain = isolate_environment()
        self.workdir = temp_workdir()
        self.limits = JointLimits.from_urdf(g1_urdf_path())
        self.node = NodeProcess({"status_period": 5.0, "model_path": str(model_folder), "device": "cpu"}, self.workdir)
        self.client = WireClient(domain)
        c = self.client
        self.command = c.writer("/command", t.String)
        self.joint_states = c.writer("/joint_states", t.JointState)
        self.human_pose = c.writer("/human_pose", t.PoseArray)
        self.status = c.reader(f"{NODE}/status", t.DiagnosticArray)
        self.diagnostics = c.reader("/diagnostics", t.DiagnosticArray)
        self.trajectory = c.reader("/joint_trajectory", t.JointTrajectory)
        for endpoint in (self.command, self.joint_states, self.human_pose, self.status, self.diagnostics,
                         self.trajectory):
            c.wait_matched(endpoint)
        # Loading the model is CPU-heavy; inputs sent meanwhile could be overwritten in the node's queue.
        self.loaded = wait_until_loaded(c, self.status, self.node)
        self.stream: JointStateStream | None = None

    def start_stream(self) -> JointStateStream:
        if self.stream is None:
            start = np.clip(np.zeros(len(self.limits.joint_names)), self.limits.lower, self.limits.upper)
            self.stream = JointStateStream(self.joint_states, list(self.limits.joint_names), start.tolist()).start()
        return self.stream

    def send(self, writer, sample) -> int:
        """Write `sample`; returns the status mark from just before, for expect_status."""
        mark = self.client.mark(self.status)
        writer.write(sample)
        return mark

    def expect_status(self, fragment: str, since: int) -> t.DiagnosticArray:
        try:
            return self.client.wait_for(self.status, lambda s: fragment in s.status[0].message, STATUS_TIMEOUT, since)
        except TimeoutError:
            seen = [s.status[0].message for s in self.client.poll(self.status)[since:]]
            raise AssertionError(f"no status containing {fragment!r}; got {seen}\n{self.node.log()[-2000:]}")


@pytest.fixture(scope="module")
def wire(tiny_model_folder):
    harness = Wire(tiny_model_folder)
    yield harness
    if harness.stream is not None:
        harness.stream.stop()
    code = harness.node.stop()
    assert code == 0, f"node exited with {code}:\n{harness.node.log()[-3000:]}"


def test_command_before_any_joint_state_is_refused(wire):
    assert wire.stream is None, "this test must run before the joint state stream starts"
    mark = wire.send(wire.command, t.String(data="wave with the right hand"))
    status = wire.expect_status("no joint state received on /joint_states", mark)
    assert status.status[0].level == 1  # WARN


def test_the_status_also_goes_to_diagnostics_under_the_node_name(wire):
    mark = wire.client.mark(wire.diagnostics)
    sent = wire.send(wire.command, t.String(data=""))
    status = wire.expect_status("command is empty", sent)
    copy = wire.client.wait_for(wire.diagnostics, lambda s: "command is empty" in s.status[0].message,
                                STATUS_TIMEOUT, mark)
    assert copy.status[0].name == "motiongpt_node: motion pipeline"
    assert copy.status[0].level == status.status[0].level and copy.status[0].message == status.status[0].message
    assert status_values(copy)["state"] == status_values(status)["state"]


def test_nan_joint_state_is_refused(wire):
    message = wire.start_stream().message()
    message.position[3] = float("nan")
    mark = wire.send(wire.joint_states, message)
    wire.expect_status(f"non-finite positions for ['{wire.limits.joint_names[3]}']", mark)


def test_joint_state_missing_joints_is_refused(wire):
    message = wire.start_stream().message()
    message.name, message.position = message.name[:-2], message.position[:-2]
    mark = wire.send(wire.joint_states, message)
    wire.expect_status("missing robot joints ['right_wrist_pitch_joint', 'right_wrist_yaw_joint']", mark)


def test_joint_state_with_mismatched_lengths_is_refused(wire):
    message = wire.start_stream().message()
    message.position = message.position[:5]
    mark = wire.send(wire.joint_states, message)
    wire.expect_status("29 joint names but 5 positions", mark)


def test_unknown_joint_names_are_reported(wire):
    stream = wire.start_stream()
    only_unknown = t.JointState(name=["elbow_of_someone_else"], position=[0.0])
    mark = wire.send(wire.joint_states, only_unknown)
    wire.expect_status("missing robot joints", mark)
    extra = stream.message()
    extra.name.append("tail_joint")
    extra.position.append(0.1)
    mark = wire.send(wire.joint_states, extra)
    wire.expect_status("ignored joints the robot does not have: ['tail_joint']", mark)


@pytest.mark.parametrize(
    "sample, fragment",
    [
        (t.String(data=""), "command is empty"),
        (t.String(data="   \n\t "), "command is empty"),
        (t.String(data="x" * 100_000), "command is 100000 characters, more than max_command_chars=1000"),
        (t.string_with_raw_bytes(b"walk \xff\xfe forward"), "command is not valid UTF-8 (byte 5"),
        (t.String(data="walk\x1b[31m forward"), "control characters ['U+001B']"),
        # rclpy would cut this at the first NUL and run "walk": the node reads the bytes and refuses it.
        (t.string_with_raw_bytes(b"walk\0forward \0rm -rf /"), "command contains a NUL character (byte 4)"),
        (t.String(data="\u200b\ufeff\u2060"), "command is empty after removing invisible (format) characters"),
    ],
    ids=["empty", "whitespace", "100kB", "non-utf8", "control-chars", "nul", "invisible-only"],
)
def test_bad_commands_are_refused(wire, sample, fragment):
    wire.start_stream()
    mark = wire.send(wire.command, sample)
    wire.expect_status(fragment, mark)


def test_huge_joint_state_with_a_duplicate_is_refused_at_once(wire):
    """20k names and a duplicate used to keep the executor busy for seconds (a quadratic duplicate check)."""
    stream = wire.start_stream()
    names = list(stream.joint_names) + [f"extra_{i}" for i in range(20_000)] + ["extra_7"]
    mark = wire.send(wire.joint_states, t.JointState(name=names, position=[0.0] * len(names)))
    wire.expect_status(f"/joint_states: {len(names)} joint names, more than max_joint_state_names=512", mark)
    # The node kept up: a command right after it is still refused for the right reason, not a stale state.
    mark = wire.send(wire.command, t.String(data="\u2060"))
    wire.expect_status("command is empty after removing invisible", mark)


@pytest.mark.parametrize("count", [0, 21, 23])
def test_pose_stream_with_wrong_number_of_poses_is_refused(wire, count):
    mark = wire.send(wire.human_pose, t.PoseArray(poses=[t.Pose() for _ in range(count)]))
    wire.expect_status(f"expected 22 poses (SMPL joints in order), got {count}", mark)


def test_pose_with_nan_is_refused(wire):
    poses = [t.Pose() for _ in range(22)]
    poses[5].position.x = float("nan")
    mark = wire.send(wire.human_pose, t.PoseArray(poses=poses))
    wire.expect_status("pose positions contain NaN", mark)


def test_node_is_still_up_and_published_nothing(wire):
    time.sleep(0.2)
    assert wire.node.alive(), wire.node.log()[-3000:]
    assert wire.client.poll(wire.trajectory) == []
    # 18 refused inputs were sent above; the extra-joint state is accepted with a warning.
    status = wire.client.wait_for(wire.status, lambda s: status_values(s)["rejected_inputs"] == "18", STATUS_TIMEOUT)
    assert status_values(status)["published"] == "0"
    assert status_values(status)["state"] == "ready"  # the model was there; the inputs were refused
    assert wire.node.alive()


def test_replacement_character_is_accepted_as_text(wire):
    """A literal U+FFFD is valid UTF-8 (EF BF BD): the command runs; it is not reported as broken bytes."""
    wire.start_stream()
    mark = wire.send(wire.command, t.String(data="wave \ufffd"))
    wire.expect_status("busy: command 'wave \ufffd'", mark)
    seen = [s.status[0].message for s in wire.client.poll(wire.status)[mark:]]
    assert not any("UTF-8" in message for message in seen), seen
