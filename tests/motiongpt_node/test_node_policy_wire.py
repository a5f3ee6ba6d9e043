"""Safe by default on a real DDS wire (issue 12): commands out of the model's vocabulary and motions outside
`allowed_motions` are refused before anything is generated, and `moving_joints` holds every other joint.

The node (real rclpy, Fast DDS) runs the tiny model with a meaning index of a few real captions embedded by
the real sentence encoder (all-MiniLM-L6-v2; conftest.py's `model_with_meanings`); the client is Cyclone DDS. Run
inside `bash scripts/run_isolated.sh`.
"""
from __future__ import annotations

import numpy as np
import pytest

from motiongpt_node.command_policy import moving_mask
from tests.motiongpt_node import dds_types as t
from tests.motiongpt_node.trajectory_checks import assert_valid_trajectory, trajectory_arrays
from tests.motiongpt_node.wire import CommandWire, serve

TIMEOUT = 60.0
ARMS = ["*_shoulder_*", "*_elbow_joint", "*_wrist_*"]


def refused_then_nothing_published(wire: CommandWire, command: str, fragment: str):
    """Send ``command``, wait for its refusal, then send an allowed command and wait for its trajectory: the
    only trajectory after the mark is the allowed one (commands are handled in order)."""
    c = wire.client
    mark, trajectories = c.mark(wire.status), c.mark(wire.trajectory)
    wire.command.write(t.String(data=command))
    status = wire.status_after(mark, fragment)
    wire.command.write(t.String(data="walk forward"))
    c.wait_for(wire.trajectory, lambda m: True, TIMEOUT, trajectories)
    assert len(c.poll(wire.trajectory)[trajectories:]) == 1
    return status


@pytest.fixture(scope="module")
def wire(model_with_meanings, g1_limits):
    start = np.clip(np.zeros(len(g1_limits.joint_names)), g1_limits.lower, g1_limits.upper)
    start[[i for i, n in enumerate(g1_limits.joint_names) if "knee" in n]] = 0.3  # a bent-knee stance
    yield from serve(CommandWire(model_with_meanings, timeout=TIMEOUT, start=start, moving_joints=ARMS))


def test_a_motion_outside_the_allow_list_is_refused(wire):
    status = refused_then_nothing_published(
        wire, "do a backflip", "'do a backflip' means backflip, which is not in allowed_motions")
    assert status.status[0].level == 1  # WARN: a refused input
    assert "command 'do a backflip'" in wire.node.log() and "refused" in wire.node.log()


def test_a_request_the_model_does_not_know_is_refused(wire):
    refused_then_nothing_published(wire, "make me a cup of coffee",
                                   "'make me a cup of coffee' is not something the model knows")


def test_a_request_nearer_to_something_the_model_cannot_do_is_refused(wire):
    """"look to the left" is near enough to the walk caption "go to the left" by similarity, but nearer to "look to
    your left", a request of nothing the model knows."""
    refused_then_nothing_published(wire, "look to the left",
                                   "'look to the left' is not something the model knows: it resembles 'look to "
                                   "your left', which the model cannot do")


def test_one_refused_step_refuses_the_whole_command(wire):
    refused_then_nothing_published(wire, "walk forward, then do a backflip", "'do a backflip' means backflip")


def test_only_the_moving_joints_move_and_the_log_names_the_meaning(wire):
    c = wire.client
    mark, statuses = c.mark(wire.trajectory), c.mark(wire.status)
    wire.command.write(t.String(data="wave hello with your right hand"))
    message = c.wait_for(wire.trajectory, lambda m: True, TIMEOUT, mark)
    wire.status_after(statuses, "published command 'wave hello")  # reported after the command's log line
    assert_valid_trajectory(message, wire.start, wire.limits, 5.0, 9.42)
    times, positions = trajectory_arrays(message, wire.limits.joint_names)
    moving = moving_mask(wire.limits.joint_names, ARMS)
    assert moving.sum() == 14  # G1: 2 x (3 shoulder + 1 elbow + 3 wrist)
    held = positions[:, ~moving]
    np.testing.assert_allclose(held, np.repeat(wire.start[~moving][None], len(times), axis=0), atol=1e-9)
    assert np.ptp(positions[:, moving], axis=0).max() > 0.05  # the arms do move
    assert "meaning wave_right_hand 1.00 as 'wave hello with your right hand'" in wire.node.log()  # rephrased
