import struct
import time

import numpy as np
import pytest

from motiongpt_node.inputs import (
    DEFAULT_MAX_JOINT_STATE_NAMES,
    InputError,
    command_from_cdr,
    joint_state_positions,
    pose_array_joints,
    validate_command,
)
from motiongpt.skeleton import yup_to_zup


def string_cdr(payload: bytes, little: bool = True, encapsulation: int = 1) -> bytes:
    """A serialized std_msgs/String as a DDS writer puts it on the wire: header, length (with the NUL), bytes."""
    order = "<" if little else ">"
    return bytes([0, encapsulation if little else encapsulation - 1, 0, 0]) + struct.pack(order + "I", len(payload) + 1) \
        + payload + b"\0"


def test_command_is_normalised():
    assert validate_command("  walk forward,\n then  wave ", 100) == "walk forward, then wave"


@pytest.mark.parametrize(
    "text, fragment",
    [("", "empty"), (" \t\n", "empty"), ("a" * 101, "101 characters"), ("walk\x00forward", "NUL character"),
     ("bell\x07", r"U\+0007"), (b"bytes", "must be text"),
     ("\u200b\ufeff\u2060", "empty after removing invisible"), (" \u200b \u2060\u200d\n\u00a0", "empty after"),
     ("\ufdfa" * 6, "after Unicode normalisation")],
)
def test_bad_commands(text, fragment):
    with pytest.raises(InputError, match=fragment) as error:
        validate_command(text, 100, source="/x/command")
    assert "/x/command" in str(error.value)


def test_command_is_nfkc_normalised_and_loses_invisible_characters():
    assert validate_command("wa\u200blk\u2060 \ufefffor\u00adward", 100) == "walk forward"
    assert validate_command("\uff37\uff41\uff56\uff45\u3000now", 100) == "Wave now"  # full-width letters and space


def test_replacement_character_is_valid_text():
    assert validate_command("wave \ufffd twice", 100) == "wave \ufffd twice"
    assert command_from_cdr(string_cdr("wave \ufffd".encode())) == "wave \ufffd"


def test_command_bytes_are_decoded_strictly():
    assert command_from_cdr(string_cdr("walk forward".encode())) == "walk forward"
    assert command_from_cdr(string_cdr("walk".encode(), little=False)) == "walk"
    assert command_from_cdr(string_cdr("walk".encode(), encapsulation=7)) == "walk"  # XCDR2
    with pytest.raises(InputError, match=r"/c: command contains a NUL character \(byte 4\)"):
        command_from_cdr(string_cdr(b"walk\0forward \0rm -rf /"), source="/c")
    with pytest.raises(InputError, match=r"not valid UTF-8 \(byte 5"):
        command_from_cdr(string_cdr(b"wave \xff\xfe"))
    with pytest.raises(InputError, match="malformed"):
        command_from_cdr(string_cdr(b"walk")[:-3])
    with pytest.raises(InputError, match="not a serialized"):
        command_from_cdr(b"\0\1")


def test_joint_state_reordered_and_unknown_names_listed():
    positions, unknown = joint_state_positions(["b", "tail", "a"], [2.0, 9.0, 1.0], ("a", "b"))
    np.testing.assert_array_equal(positions, [1.0, 2.0])
    assert unknown == ["tail"]


@pytest.mark.parametrize(
    "names, values, fragment",
    [(["a", "b"], [1.0], "2 joint names but 1 positions"), (["a", "a", "b"], [1, 1, 1], "repeated"),
     (["a"], [1.0], "missing robot joints ['b']"), (["a", "b"], [1.0, float("nan")], "non-finite positions for ['b']"),
     (["a", "b"], [1.0, float("inf")], "non-finite")],
)
def test_bad_joint_states(names, values, fragment):
    with pytest.raises(InputError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        joint_state_positions(names, values, ("a", "b"))


def test_joint_state_names_are_capped():
    robot = ("a", "b")
    names = ["a", "b"] + [f"extra_{i}" for i in range(10)]
    positions, unknown = joint_state_positions(names, [0.0] * 12, robot, max_names=12)
    assert len(unknown) == 10
    with pytest.raises(InputError, match=r"/js: 13 joint names, more than max_joint_state_names=12"):
        joint_state_positions(names + ["one_more"], [0.0] * 13, robot, source="/js", max_names=12)
    assert DEFAULT_MAX_JOINT_STATE_NAMES == 512


def test_huge_joint_state_with_a_duplicate_is_refused():
    """20k names and one duplicate: refused for the duplicate (not the cap), in linear time."""
    robot = tuple(f"j{i}" for i in range(29))
    names = list(robot) + [f"extra_{i}" for i in range(20_000)] + ["extra_7"]
    started = time.perf_counter()
    with pytest.raises(InputError, match=r"repeated joint names \['extra_7'\]"):
        joint_state_positions(names, [0.0] * len(names), robot, max_names=100_000)
    print(f"20k-name joint state checked in {1e3 * (time.perf_counter() - started):.1f} ms")
    with pytest.raises(InputError, match="more than max_joint_state_names=512"):
        joint_state_positions(names, [0.0] * len(names), robot)  # the default cap refuses it first


def test_pose_array_frame_conversion_round_trips():
    rng = np.random.default_rng(0)
    yup = rng.normal(size=(22, 3))
    zup = yup_to_zup(yup)
    np.testing.assert_allclose(zup[:, 2], yup[:, 1])  # up is up
    np.testing.assert_allclose(pose_array_joints([tuple(p) for p in zup]), yup)


def test_bad_pose_arrays():
    with pytest.raises(InputError, match="expected 22 poses"):
        pose_array_joints([(0.0, 0.0, 0.0)] * 21)
    bad = [(0.0, 0.0, 0.0)] * 22
    bad[3] = (np.nan, 0.0, 0.0)
    with pytest.raises(InputError, match="NaN"):
        pose_array_joints(bad)
