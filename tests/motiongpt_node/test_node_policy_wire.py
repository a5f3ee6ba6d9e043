"""Safe by default on a real DDS wire (issue 12): commands out of the model's vocabulary and motions outside
`allowed_motions` are refused before anything is generated, and `moving_joints` holds every other joint.

The node (real rclpy, Fast DDS) runs the tiny model with a meaning index of a few real captions embedded by
the real sentence encoder (all-MiniLM-L6-v2); the client is Cyclone DDS. Run inside
`bash scripts/run_isolated.sh`.
"""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from motiongpt.lm.command_meaning import MeaningIndex
from motiongpt.lm.sentence_encoder import SentenceEncoder, resolve_encoder_folder
from motiongpt_node.command_policy import moving_mask
from motiongpt_node.joint_limits import JointLimits
from tests.motiongpt_node import dds_types as t
from tests.motiongpt_node.conftest import g1_urdf_path
from tests.motiongpt_node.trajectory_checks import assert_valid_trajectory, trajectory_arrays
from tests.motiongpt_node.wire import (
    NODE, JointStateStream, NodeProcess, WireClient, isolate_environment, serve, temp_workdir, wait_until_loaded,
)

TIMEOUT = 60.0
CAPTIONS = {
    "walk": ["a person walks forward", "walk ahead a few steps", "someone strolls straight on"],
    "wave_right_hand": ["a person waves with the right hand", "wave hello with your right hand"],
    "backflip": ["a person does a backflip", "flip over backwards", "do a backflip"],
}
ARMS = ["*_shoulder_*", "*_elbow_joint", "*_wrist_*"]


@pytest.fixture(scope="module")
def model_with_meanings(tiny_model_folder, tmp_path_factory):
    folder = tmp_path_factory.mktemp("policy") / "model"
    shutil.copytree(tiny_model_folder, folder)
    encoder = SentenceEncoder(resolve_encoder_folder("all-MiniLM-L6-v2"))
    MeaningIndex.build(CAPTIONS, encoder.encode, "all-MiniLM-L6-v2", threshold=0.45).save(folder)
    return folder


class Wire:
    def __init__(self, model_folder) -> None:
        domain = isolate_environment()
        self.limits = JointLimits.from_urdf(g1_urdf_path())
        start = np.clip(np.zeros(len(self.limits.joint_names)), self.limits.lower, self.limits.upper)
        start[[i for i, n in enumerate(self.limits.joint_names) if "knee" in n]] = 0.3
        self.start = start
        self.node = NodeProcess({"model_path": str(model_folder), "device": "cpu", "seed": 3, "status_period": 5.0,
                                 "max_duration": 5.0, "joint_state_timeout": 3.0, "caption_generated": False,
                                 "moving_joints": ARMS}, temp_workdir())
        c = self.client = WireClient(domain)
        self.command = c.writer("/command", t.String)
        self.joint_states = c.writer("/joint_states", t.JointState)
        self.status = c.reader(f"{NODE}/status", t.DiagnosticArray)
        self.trajectory = c.reader("/joint_trajectory", t.JointTrajectory)
        for endpoint in (self.command, self.joint_states, self.status, self.trajectory):
            c.wait_matched(endpoint)
        self.stream = JointStateStream(self.joint_states, list(self.limits.joint_names), self.start.tolist()).start()
        self.loaded = wait_until_loaded(c, self.status, self.node)

    def status_after(self, since: int, fragment: str):
        try:
            return self.client.wait_for(self.status, lambda s: fragment in s.status[0].message, TIMEOUT, since)
        except TimeoutError:
            seen = [s.status[0].message for s in self.client.poll(self.status)[since:]][-10:]
            raise AssertionError(f"no status with {fragment!r}; got {seen}\n{self.node.log()[-3000:]}") from None

    def refused_then_nothing_published(self, command: str, fragment: str):
        """Send ``command``, wait for its refusal, then send an allowed command and wait for its trajectory:
        the only trajectory after the mark is the allowed one (commands are handled in order)."""
        c = self.client
        mark, trajectories = c.mark(self.status), c.mark(self.trajectory)
        self.command.write(t.String(data=command))
        status = self.status_after(mark, fragment)
        self.command.write(t.String(data="walk forward"))
        c.wait_for(self.trajectory, lambda m: True, TIMEOUT, trajectories)
        assert len(c.poll(self.trajectory)[trajectories:]) == 1
        return status


@pytest.fixture(scope="module")
def wire(model_with_meanings):
    yield from serve(Wire(model_with_meanings))


def test_a_motion_outside_the_allow_list_is_refused(wire):
    status = wire.refused_then_nothing_published(
        "do a backflip", "'do a backflip' means backflip, which is not in allowed_motions")
    assert status.status[0].level == 1  # WARN: a refused input
    assert "command 'do a backflip'" in wire.node.log() and "refused" in wire.node.log()


def test_a_request_the_model_does_not_know_is_refused(wire):
    wire.refused_then_nothing_published("make me a cup of coffee", "'make me a cup of coffee' is not something the model knows")


def test_one_refused_step_refuses_the_whole_command(wire):
    wire.refused_then_nothing_published("walk forward, then do a backflip", "'do a backflip' means backflip")


def test_only_the_moving_joints_move_and_the_log_names_the_meaning(wire):
    c = wire.client
    mark = c.mark(wire.trajectory)
    wire.command.write(t.String(data="wave hello with your right hand"))
    message = c.wait_for(wire.trajectory, lambda m: True, TIMEOUT, mark)
    assert_valid_trajectory(message, wire.start, wire.limits, 5.0, 9.42)
    times, positions = trajectory_arrays(message, wire.limits.joint_names)
    moving = moving_mask(wire.limits.joint_names, ARMS)
    assert moving.sum() == 14  # G1: 2 x (3 shoulder + 1 elbow + 3 wrist)
    held = positions[:, ~moving]
    np.testing.assert_allclose(held, np.repeat(wire.start[~moving][None], len(times), axis=0), atol=1e-9)
    assert np.ptp(positions[:, moving], axis=0).max() > 0.05  # the arms do move
    assert "meaning wave_right_hand" in wire.node.log()
