"""MuJoCo servo simulation: the G1 on a fixed pelvis follows joint trajectories given by name."""
import numpy as np
import pytest

from retargeting.mujoco_servo import ServoSimulation

# Not in the robot's order.
JOINTS = ["right_elbow_joint", "left_shoulder_pitch_joint", "waist_yaw_joint"]
SETTLE = 0.5  # s: the servos take up the gravity load of the initial posture


@pytest.fixture
def sim(g1_retargeter) -> ServoSimulation:
    simulation = ServoSimulation(g1_retargeter.robot)
    simulation.step_to(SETTLE)
    return simulation


def ramp(sim: ServoSimulation, change: float = 0.3, duration: float = 2.0, points: int = 11):
    """Times and positions moving JOINTS by ``change`` rad from their reference in ``duration`` s."""
    times = np.linspace(duration / (points - 1), duration, points - 1)
    start = sim.reference()[0][sim.joint_indices(JOINTS)]
    return times, start + change * (times / duration)[:, None]


@pytest.mark.parametrize("with_velocities", [False, True])
def test_slow_trajectory_is_tracked(sim, with_velocities):
    columns = sim.joint_indices(JOINTS)
    others = np.setdiff1d(np.arange(len(sim.joint_names)), columns)
    settled = sim.positions()
    times, positions = ramp(sim)
    velocities = np.full_like(positions, 0.3 / 2.0) if with_velocities else None
    start = sim.time
    sim.follow(JOINTS, times, positions, velocities)
    # the reference: linear between the points (from the held reference to the first), the last point after
    reference, reference_velocity = sim.reference(start + 0.5 * (times[2] + times[3]))
    assert reference[columns] == pytest.approx(0.5 * (positions[2] + positions[3]))
    assert reference_velocity[columns] == pytest.approx(np.full(3, 0.15))
    assert sim.end_time == pytest.approx(start + 2.0)
    errors = []
    while sim.time < start + 2.0 - 1e-9:
        sim.step_to(sim.time + 0.05)
        errors.append(np.abs(sim.positions()[columns] - sim.reference()[0][columns]).max())
    assert max(errors) < 0.05
    assert np.abs(sim.positions()[columns] - positions[-1]).max() < 0.05
    assert np.abs(sim.positions()[others] - settled[others]).max() < 0.01  # the other joints stay
    end, end_velocity = sim.reference(start + 10.0)
    assert end[columns] == pytest.approx(positions[-1]) and not end_velocity.any()


def test_hold_keeps_the_measured_position(sim):
    times, positions = ramp(sim, change=0.6)
    sim.follow(JOINTS, times, positions)
    sim.step_to(sim.time + 1.0)
    sim.hold()
    held = sim.positions()
    reference, velocity = sim.reference()
    assert reference == pytest.approx(held) and not velocity.any()
    sim.step_to(sim.time + 1.5)  # past the cancelled trajectory's end
    assert np.abs(sim.positions() - held).max() < 0.02  # the gravity sag of a fresh set point, no more


def test_unknown_joint_is_refused(sim):
    before = sim.reference()[0]
    times, positions = ramp(sim)
    with pytest.raises(ValueError, match="unknown joint names.*'elbow_joint'"):
        sim.follow(["right_elbow_joint", "left_shoulder_pitch_joint", "elbow_joint"], times, positions)
    with pytest.raises(ValueError, match="repeated"):
        sim.follow(["right_elbow_joint", "right_elbow_joint", "waist_yaw_joint"], times, positions)
    with pytest.raises(ValueError, match="strictly increasing"):
        sim.follow(JOINTS, times[::-1], positions)
    assert sim.reference()[0] == pytest.approx(before)  # the reference is unchanged


def test_nothing_moves_before_the_start_time(sim):
    columns = sim.joint_indices(JOINTS)
    settled = sim.positions()
    times, positions = ramp(sim)
    start = sim.time + 1.0
    sim.follow(JOINTS, times - times[0], positions, start_time=start)  # first point at time 0: a step at the start
    sim.step_to(start - 0.01)
    assert np.abs(sim.positions() - settled).max() < 1e-4
    assert sim.reference(start - 0.01)[0] == pytest.approx(sim.reference(start - 0.5)[0])
    sim.step_to(start + 0.5)
    assert np.abs(sim.positions()[columns] - settled[columns]).max() > 0.05  # then it follows


def test_the_ground_does_not_hold_a_foot_back(sim):
    """On the fixed pelvis a sole may be commanded below the ground level of the standing pose (a floating base
    would tilt or rise instead): the foot passes through the drawn ground and the servo reaches its goal."""
    ankle = ["left_ankle_pitch_joint"]
    start = sim.reference()[0][sim.joint_indices(ankle)]
    for change in (0.4, -0.4):  # toes down, then heel down: each puts a sole corner below the standing soles
        sim.follow(ankle, [0.5], (start + change)[None, :])
        sim.step_to(sim.time + 1.5)
        assert abs(sim.positions()[sim.joint_indices(ankle)][0] - (start[0] + change)) < 0.02
        assert sim.data.site_xpos[:, 2].min() < -0.01  # a sole corner 1 cm into the ground
        assert sim.data.ncon == 0 or all(sim.model.geom_bodyid[[c.geom1, c.geom2]].min() > 0
                                         for c in sim.data.contact[:sim.data.ncon])
