"""Preview then execute on a real DDS wire (issue 12): with `preview` on, a command's trajectory goes to
~/preview and nothing reaches the controller until ~/execute, which sends it shaped from the robot's state at
that moment; ~/cancel drops a waiting preview.

The node (real rclpy, Fast DDS) runs the tiny model; the client is Cyclone DDS. Run inside
`bash scripts/run_isolated.sh`.
"""
from __future__ import annotations

import numpy as np
import pytest

from tests.motiongpt_node import dds_types as t
from tests.motiongpt_node.trajectory_checks import assert_valid_trajectory, trajectory_arrays
from tests.motiongpt_node.wire import NODE, CommandWire, serve, status_values

TIMEOUT = 60.0


@pytest.fixture(scope="module")
def wire(tiny_model_folder):
    harness = CommandWire(tiny_model_folder, timeout=TIMEOUT, preview=True)
    harness.preview = harness.client.reader(f"{NODE}/preview", t.JointTrajectory)
    harness.client.wait_matched(harness.preview)
    # A call that acts is sent once, so the node must have discovered this client's reply reader first: with
    # nothing previewed ~/execute changes nothing, and its answer (resent until one comes) shows the round trip works.
    idle = harness.client.call_trigger(f"{NODE}/execute", resend_after=2.0)
    assert not idle.success and "nothing to execute" in idle.message, idle.message
    harness.client.prepare_service(f"{NODE}/cancel")  # (cancelling acts even when idle: endpoints matched early)
    yield from serve(harness)


def preview(wire: CommandWire, command: str) -> t.JointTrajectory:
    c = wire.client
    statuses, previews = c.mark(wire.status), c.mark(wire.preview)
    wire.command.write(t.String(data=command))
    message = c.wait_for(wire.preview, lambda m: True, TIMEOUT, previews)
    wire.status_after(statuses, f"preview of command '{command}'")
    return message


def test_a_previewed_command_runs_only_on_execute(wire):
    c = wire.client
    trajectories = c.mark(wire.trajectory)
    previewed = preview(wire, "walk forward")
    assert_valid_trajectory(previewed, wire.start, wire.limits, 5.0, 9.42)
    # the worker is done with the command (its status came after the preview): nothing went to the controller
    assert c.poll(wire.trajectory)[trajectories:] == []
    assert "waiting for ~/execute" in wire.node.log()

    reply = c.call_trigger(f"{NODE}/execute")
    assert reply.success, reply.message
    assert reply.message.startswith("executing command 'walk forward'")
    executed = c.wait_for(wire.trajectory, lambda m: True, TIMEOUT, trajectories)
    assert len(c.poll(wire.trajectory)[trajectories:]) == 1
    assert_valid_trajectory(executed, wire.start, wire.limits, 5.0, 9.42)
    # the robot has not moved since the preview (the stream holds the start): the same trajectory
    times_p, positions_p = trajectory_arrays(previewed, wire.limits.joint_names)
    times_e, positions_e = trajectory_arrays(executed, wire.limits.joint_names)
    np.testing.assert_allclose(times_e, times_p)
    np.testing.assert_allclose(positions_e, positions_p)
    counters = status_values(wire.status_after(c.mark(wire.status) - 1, "executing command 'walk forward'"))
    assert int(counters["previewed"]) >= 1 and int(counters["published"]) >= 1

    again = c.call_trigger(f"{NODE}/execute")
    assert not again.success and "nothing to execute" in again.message


def test_cancel_drops_the_waiting_preview(wire):
    c = wire.client
    preview(wire, "wave with the right hand")
    trajectories = c.mark(wire.trajectory)
    assert c.call_trigger(f"{NODE}/cancel").success  # holds the current position: one hold trajectory
    c.wait_for(wire.trajectory, lambda m: True, TIMEOUT, trajectories)
    reply = c.call_trigger(f"{NODE}/execute")
    assert not reply.success and "nothing to execute" in reply.message
    assert len(c.poll(wire.trajectory)[trajectories:]) == 1  # only the hold
