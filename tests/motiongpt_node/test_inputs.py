import numpy as np
import pytest

from motiongpt_node.inputs import InputError, joint_state_positions, pose_array_joints, validate_command, yup_to_zup


def test_command_is_normalised():
    assert validate_command("  walk forward,\n then  wave ", 100) == "walk forward, then wave"


@pytest.mark.parametrize(
    "text, fragment",
    [("", "empty"), (" \t\n", "empty"), ("a" * 101, "101 characters"), ("bad \ufffd", "not valid UTF-8"),
     ("bell\x07", r"U\+0007"), (b"bytes", "must be text")],
)
def test_bad_commands(text, fragment):
    with pytest.raises(InputError, match=fragment) as error:
        validate_command(text, 100, source="/x/command")
    assert "/x/command" in str(error.value)


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
