import numpy as np
import pytest

from motiongpt_node.trajectory_contract import (
    JointTrajectoryData,
    TrajectoryContractError,
    check_start_state,
    check_trajectory,
    contract_violations,
)


def valid_trajectory(limits, start):
    middle = (limits.lower + limits.upper) / 2
    times = np.array([0.0, 1.0, 2.0])
    positions = np.vstack([start, middle, middle + 0.1])
    return JointTrajectoryData(limits.joint_names, times, positions, np.zeros_like(positions))


@pytest.fixture
def start(g1_limits):
    return np.clip(np.zeros(len(g1_limits.joint_names)), g1_limits.lower, g1_limits.upper)


def test_valid_trajectory_passes(g1_limits, start):
    check_trajectory(valid_trajectory(g1_limits, start), start, g1_limits, max_duration=2.0)


def test_joint_order_may_differ_from_urdf(g1_limits, start):
    traj = valid_trajectory(g1_limits, start)
    reverse = list(range(len(g1_limits.joint_names)))[::-1]
    swapped = JointTrajectoryData(
        tuple(traj.joint_names[i] for i in reverse), traj.times, traj.positions[:, reverse], None
    )
    assert contract_violations(swapped, start, g1_limits, 2.0) == []


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda t, s, L: t.__class__(t.joint_names[:-1] + ("tail_joint",), t.times, t.positions), "unknown ['tail_joint']"),
        (lambda t, s, L: t.__class__(t.joint_names[:-1] + (t.joint_names[0],), t.times, t.positions), "duplicate"),
        (lambda t, s, L: t.__class__(t.joint_names, t.times + 0.5, t.positions), "expected 0"),
        (lambda t, s, L: t.__class__(t.joint_names, t.times, np.vstack([s + 0.01, t.positions[1:]])), "differs from the current"),
        (lambda t, s, L: t.__class__(t.joint_names, np.array([0.0, 1.0, 1.0]), t.positions), "strictly increasing"),
        (lambda t, s, L: t.__class__(t.joint_names, np.array([0.0, 1.0, 0.5]), t.positions), "strictly increasing"),
        (lambda t, s, L: t.__class__(t.joint_names, t.times * 2, t.positions), "exceeds max_duration"),
        (lambda t, s, L: t.__class__(t.joint_names, t.times, np.vstack([t.positions[:2], L.upper + 0.01])), "above the upper"),
        (lambda t, s, L: t.__class__(t.joint_names, t.times, np.vstack([t.positions[:2], L.lower - 0.01])), "below the lower"),
        (lambda t, s, L: t.__class__(t.joint_names, np.array([0.0, 0.001, 0.002]), t.positions), "segment velocity"),
        (lambda t, s, L: t.__class__(t.joint_names, t.times, t.positions, np.full(t.positions.shape, 100.0)), "point velocities"),
        (lambda t, s, L: t.__class__(t.joint_names, t.times, np.vstack([t.positions[:2], np.full(len(s), np.nan)])), "NaN"),
        (lambda t, s, L: t.__class__(t.joint_names, t.times, t.positions[:, :-1]), "shape"),
        (lambda t, s, L: t.__class__(t.joint_names, np.array([]), t.positions[:0]), "non-empty"),
    ],
)
def test_each_violation_is_detected_and_named(g1_limits, start, mutate, message):
    bad = mutate(valid_trajectory(g1_limits, start), start, g1_limits)
    with pytest.raises(TrajectoryContractError, match="breaks the contract") as error:
        check_trajectory(bad, start, g1_limits, max_duration=2.0)
    assert message in str(error.value)
    assert isinstance(error.value, ValueError)


def test_first_point_may_equal_a_state_slightly_outside_limits(g1_limits, start):
    knee = g1_limits.joint_names.index("left_knee_joint")
    outside = start.copy()
    outside[knee] = g1_limits.lower[knee] - 0.005
    traj = valid_trajectory(g1_limits, outside)
    assert contract_violations(traj, outside, g1_limits, 2.0) == []
    check_start_state(outside, g1_limits, tolerance=0.01)
    with pytest.raises(TrajectoryContractError, match="left_knee_joint"):
        check_start_state(outside, g1_limits, tolerance=0.001)
