"""Bounded work per command and service bursts on a real DDS wire (issue 15, items 2 and 7).

The node is a subprocess (real rclpy, Fast DDS) with the tiny model (2.4 s per step when it chooses the
length); the client is Cyclone DDS. Run inside `bash scripts/run_isolated.sh`.
"""
from __future__ import annotations

import time

import pytest

from tests.motiongpt_node import dds_types as t
from tests.motiongpt_node.trajectory_checks import assert_valid_trajectory
from tests.motiongpt_node.wire import NODE, CommandWire, serve, status_values

MAX_DURATION = 5.0
TIMEOUT = 60.0


@pytest.fixture(scope="module")
def wire(tiny_model_folder):
    yield from serve(CommandWire(tiny_model_folder, timeout=TIMEOUT, max_duration=MAX_DURATION))


def test_command_longer_than_max_duration_is_refused_before_generating(wire):
    """8 steps of at least 1 s each and 7 transitions cannot fit 5 s: refused at once, nothing generated.
    (Before: ~25 s of motion generated and retargeted, then cut to 5 s.)"""
    c = wire.client
    mark, trajectories = c.mark(wire.status), c.mark(wire.trajectory)
    started = time.monotonic()
    wire.command.write(t.String(data="; ".join(["wave", "jump", "walk", "turn left", "kick", "bow", "sit", "run"])))
    status = wire.status_after(mark, "command refused: 8 steps need at least")
    assert status.status[0].level == 1  # WARN: a refused input
    assert time.monotonic() - started < 5.0
    time.sleep(1.0)
    assert c.poll(wire.trajectory)[trajectories:] == []
    assert "busy: command" not in " ".join(s.status[0].message for s in c.poll(wire.status)[mark:])


def test_too_many_steps_are_refused_with_the_parameter_named(wire):
    mark = wire.client.mark(wire.status)
    wire.command.write(t.String(data="wave; " * 166))  # 995 characters, under max_command_chars
    wire.status_after(mark, "command refused: 166 steps, more than max_command_steps=8")


def test_model_chosen_steps_are_fitted_into_max_duration(wire):
    """3 steps of up to 2.4 s + 1.6 s of transitions (8.8 s) are asked for at 1.0 s each (4.6 s of motion): at
    most the shaping's move from the current state to the first pose is cut (before: about 4 s were cut)."""
    c = wire.client
    mark, trajectories = c.mark(wire.status), c.mark(wire.trajectory)
    wire.command.write(t.String(data="walk forward, then wave, then jump"))
    status = wire.status_after(mark, "published command")
    text = status.status[0].message
    cut = float(text.split(" s cut at max_duration")[0].rsplit(" ", 1)[-1]) if "cut at max_duration" in text else 0.0
    assert cut < 1.5, text
    message = c.wait_for(wire.trajectory, lambda m: True, TIMEOUT, trajectories)
    assert_valid_trajectory(message, wire.start, wire.limits, MAX_DURATION, 9.42)


def test_hundred_service_requests_back_to_back_get_hundred_replies(wire):
    """rclpy's default service queue depth of 10 answered 10-11 of 100 requests written back to back."""
    from cyclonedds.core import Policy, Qos
    from cyclonedds.pub import DataWriter
    from cyclonedds.sub import DataReader
    from cyclonedds.topic import Topic
    from cyclonedds.util import duration

    c = wire.client
    request_topic, reply_topic = t.service_topics(f"{NODE}/describe")
    qos = Qos(Policy.Reliability.Reliable(duration(seconds=5)), Policy.History.KeepAll)
    writer = DataWriter(c.participant, Topic(c.participant, request_topic, t.TriggerRequest), qos=qos)
    reader = DataReader(c.participant, Topic(c.participant, reply_topic, t.TriggerResponse), qos=qos)
    c.wait_matched(writer)
    c.wait_matched(reader)
    time.sleep(0.5)  # the node's reply writer matches the reader too
    for _ in range(100):
        writer.write(t.TriggerRequest())
    replies, deadline = [], time.monotonic() + 60.0
    while len(replies) < 100 and time.monotonic() < deadline:
        replies.extend(reader.take(N=200))
        time.sleep(0.05)
    assert len(replies) == 100, f"{len(replies)} replies of 100\n{wire.node.log()[-2000:]}"
    assert all(not r.success and "pose stream" in r.message for r in replies)  # no pose stream: answered, refused
    assert wire.node.alive()
    values = status_values(c.poll(wire.status)[-1])
    assert values["state"] in ("ready", "busy")
