"""The IK solver against the robot's own forward kinematics, and its hard limits."""
import numpy as np
import pinocchio as pin

from retargeting.solver import FrameSolver

LEGS_AND_WAIST = slice(0, 15)  # G1: 2 x 6 leg joints + 3 waist joints (not redundant for these tasks)


def _fk_targets(model, solver, q):
    pin.framesForwardKinematics(model.model, model.data, q)
    positions = np.array([model.data.oMf[f].translation for f in solver.position_frames])
    rotations = np.array([model.data.oMf[f].rotation for f in solver.rotation_frames])
    return positions, rotations


def test_recovers_a_known_joint_trajectory(g1_exact_model):
    robot = g1_exact_model
    solver = FrameSolver(robot)
    rng = np.random.default_rng(0)
    half = (robot.upper - robot.lower) / 2
    phase = rng.uniform(0, 2 * np.pi, robot.nj)
    times = np.arange(40) / 20.0
    trajectory = np.clip(robot.rest_posture + 0.3 * half * np.sin(np.pi * times[:, None] + phase), robot.lower, robot.upper)
    weights_p = np.array([k.weight for k in robot.config.keypoints] + [0.0, 0.0])
    weights_r = np.array([o.weight for o in robot.config.orientations])
    q = None
    errors = []
    for t, joints in enumerate(trajectory):
        truth = robot.configuration([0.05 * t, 0.0, 0.75], pin.rpy.rpyToMatrix(0.0, 0.0, 0.1 * t), joints)
        positions, rotations = _fk_targets(robot, solver, truth)
        if q is None:
            q = robot.configuration(positions[0], np.eye(3), robot.rest_posture)
        q, info = solver.solve(q, positions, weights_p, rotations, weights_r, max_iterations=40 if t == 0 else 20)
        errors.append(np.abs(q[7:] - joints))
    errors = np.array(errors)
    assert errors[:, LEGS_AND_WAIST].max() < 1e-3, errors[:, LEGS_AND_WAIST].max()


def test_joint_limits_hold_for_targets_far_out_of_reach(g1_retargeter):
    robot = g1_retargeter.robot
    solver = FrameSolver(robot)
    rng = np.random.default_rng(1)
    weights_p = np.array([k.weight for k in robot.config.keypoints] + [100.0, 100.0])
    weights_r = np.array([o.weight for o in robot.config.orientations])
    q = robot.configuration([0, 0, 0.8], np.eye(3), robot.rest_posture)
    for _ in range(5):
        positions = rng.normal(scale=5.0, size=(len(solver.position_frames), 3))  # metres away, scattered
        rotations = np.array([pin.exp3(rng.normal(size=3) * 3) for _ in solver.rotation_frames])
        q, info = solver.solve(q, positions, weights_p, rotations, weights_r, max_iterations=30)
        assert np.isfinite(q).all()
        assert (q[7:] >= robot.lower).all() and (q[7:] <= robot.upper).all()


def test_steps_never_raise_the_cost(g1_retargeter):
    robot = g1_retargeter.robot
    solver = FrameSolver(robot)
    weights_p = np.array([k.weight for k in robot.config.keypoints] + [0.0, 0.0])
    weights_r = np.array([o.weight for o in robot.config.orientations])
    target_q = robot.configuration([0.0, 0.0, 0.7], np.eye(3), np.clip(robot.rest_posture + 0.4, robot.lower, robot.upper))
    positions, rotations = _fk_targets(robot, solver, target_q)
    start = robot.configuration([0.0, 0.0, 0.7], np.eye(3), robot.rest_posture)
    costs = []
    q = start
    for _ in range(6):
        q, info = solver.solve(q, positions, weights_p, rotations, weights_r, max_iterations=1)
        costs.append(info.cost)
    assert all(b <= a + 1e-12 for a, b in zip(costs, costs[1:]))
    assert costs[-1] < costs[0]


def test_task_jacobians_match_pinocchio_frame_jacobians(g1_retargeter):
    """The solver forms the task frames' LOCAL_WORLD_ALIGNED Jacobians from data.J at once: the same numbers
    as pin.getFrameJacobian frame by frame, to the last bit."""
    from retargeting.solver import _Task

    robot = g1_retargeter.robot
    solver = FrameSolver(robot)
    rng = np.random.default_rng(2)
    lwa = pin.ReferenceFrame.LOCAL_WORLD_ALIGNED
    weights_p = np.ones(len(solver.position_frames))
    weights_p[3] = 0.0  # a row without a target is left out
    weights_r = np.ones(len(solver.rotation_frames))
    positions = rng.normal(size=(len(solver.position_frames), 3))
    rotations = np.array([pin.exp3(rng.normal(size=3)) for _ in solver.rotation_frames])
    task = _Task.of(solver, positions, weights_p, rotations, weights_r, None)
    for _ in range(20):
        joints = np.clip(robot.rest_posture + rng.normal(scale=0.8, size=robot.nj), robot.lower, robot.upper)
        q = robot.configuration(rng.normal(size=3), pin.exp3(rng.normal(size=3)), joints)
        current = solver._evaluate(q, task)
        H, g = solver._normal_equations(current, task)
        rows = [pin.getFrameJacobian(solver.model, solver.data, f, lwa)[:3] for f in task.position_frames]
        rows += [pin.getFrameJacobian(solver.model, solver.data, f, lwa)[3:] for f in task.rotation_frames]
        Jw = np.concatenate(rows) * task.sqrt_weights[:, None]
        expected = Jw.T @ Jw
        if current.capsules is not None:
            violation, gradient = current.capsules.active_rows(solver.data, solver.nv)
            if violation.size:
                expected += robot.capsule_pairs.weight * gradient.T @ gradient
        expected[np.arange(solver.nv), np.arange(solver.nv)] += task.diagonal
        assert np.array_equal(H, expected)
