"""The one INFO line per finished command (issue 12): text, steps, motion duration, outcome."""
from motiongpt_node.node import command_log_line, command_steps


def test_published_line_names_steps_duration_and_latency():
    text = "walk forward, then wave"
    line = command_log_line(text, command_steps(text), 6.4, "published in 0.21 s")
    assert line == "command 'walk forward, then wave' -> 2 steps ['walk forward', 'wave'], 6.4 s, published in 0.21 s"


def test_single_step_and_unknown_duration():
    assert command_log_line("wave", ("wave",), None, "cancelled: preempted by newer command #3") == (
        "command 'wave' -> 1 step ['wave'], cancelled: preempted by newer command #3")


def test_unsplittable_command_still_gets_a_line():
    assert command_steps("") is None
    assert command_log_line("", None, None, "refused: empty") == "command '' -> refused: empty"


def test_long_text_is_shortened():
    line = command_log_line("x" * 500, None, None, "failed: ValueError: boom")
    assert len(line) < 260 and line.endswith("...' -> failed: ValueError: boom")
