"""The IK solver against the robot's own forward kinematics, and its hard limits."""
import numpy as np
import pinocchio as pin
import pytest

from retargeting.solver import FrameSolver

LEGS_AND_WAIST = slice(0, 15)  # G1: 2 x 6 leg joints + 3 waist joints (not redundant for these tasks)


def _fk_targets(model, solver, q):
    pin.framesForwardKinematics(model.model, model.data, q)
    positions = np.array([model.data.oMf[f].translation for f in solver.position_frames])
    rotations = np.array([model.data.oMf[f].rotation for f in solver.rotation_frames])
    return positions, rotations


def _posture_away(robot, solver):
    """(start, positions, position weights, rotations, rotation weights): the robot at its rest posture, and the
    keypoint and orientation targets of every joint 0.4 rad further (within its limits)."""
    weights_p = np.array([k.weight for k in robot.config.keypoints] + [0.0, 0.0])
    weights_r = np.array([o.weight for o in robot.config.orientations])
    target_q = robot.configuration([0.0, 0.0, 0.7], np.eye(3), np.clip(robot.rest_posture + 0.4, robot.lower, robot.upper))
    positions, rotations = _fk_targets(robot, solver, target_q)
    start = robot.configuration([0.0, 0.0, 0.7], np.eye(3), robot.rest_posture)
    return start, positions, weights_p, rotations, weights_r


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
    start, positions, weights_p, rotations, weights_r = _posture_away(robot, solver)
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
        if current.kinematics.capsules is not None:
            violation, gradient = current.kinematics.capsules.active_rows(solver.data, solver.nv)
            if violation.size:
                expected += robot.capsule_pairs.weight * gradient.T @ gradient
        expected[np.arange(solver.nv), np.arange(solver.nv)] += task.diagonal
        assert np.array_equal(H, expected)


def test_memoised_tasks_give_the_same_systems_as_fresh_ones(g1_retargeter):
    """`_Task.of` reuses the rows, supports and buffers of a weight pattern it has seen: alternating patterns
    on one solver give the same costs and normal equations, to the last bit, as a fresh solver each time."""
    from retargeting.solver import _Task

    robot = g1_retargeter.robot
    solver = FrameSolver(robot)
    rng = np.random.default_rng(3)
    patterns = []
    for dropped in (3, 7):
        weights_p = rng.uniform(0.5, 2.0, size=len(solver.position_frames))
        weights_p[dropped] = 0.0
        weights_r = rng.uniform(0.5, 2.0, size=len(solver.rotation_frames))
        weights_r[dropped % len(weights_r)] = 0.0
        patterns.append((weights_p, weights_r))
    for k in range(8):
        weights_p, weights_r = patterns[k % 2]
        positions = rng.normal(size=(len(solver.position_frames), 3))
        rotations = np.array([pin.exp3(rng.normal(size=3)) for _ in solver.rotation_frames])
        prior = None if k % 3 == 0 else np.clip(robot.rest_posture + rng.normal(scale=0.3, size=robot.nj),
                                                robot.lower, robot.upper)
        joints = np.clip(robot.rest_posture + rng.normal(scale=0.8, size=robot.nj), robot.lower, robot.upper)
        q = robot.configuration(rng.normal(size=3), pin.exp3(rng.normal(size=3)), joints)
        fresh = FrameSolver(robot)
        results = []
        for s in (solver, fresh):
            task = _Task.of(s, positions, weights_p.copy(), rotations, weights_r.copy(), prior)
            current = s._evaluate(q, task)
            H, g = s._normal_equations(current, task)
            results.append((current.cost, current.task_cost, H, g))
        assert results[0][:2] == results[1][:2]
        assert np.array_equal(results[0][2], results[1][2]) and np.array_equal(results[0][3], results[1][3])
    assert len(solver._task_cache) == 4  # two weight patterns, with and without a prior


def test_a_solve_starting_where_the_last_one_ended_gives_what_a_fresh_solver_gives(g1_retargeter, walking_clip):
    """Frame after frame, a solve starts from the previous frame's solution and reuses its kinematics (one
    evaluation fewer); the joints and the solver's report are those of a fresh solver, to the last bit."""
    robot = g1_retargeter.robot
    from retargeting.contacts import detect_contacts
    from retargeting.targets import build_targets

    targets = build_targets(robot, walking_clip[:12], detect_contacts(walking_clip[:12], 20.0), 3)
    chained, fresh = FrameSolver(robot), FrameSolver(robot)
    evaluations = {chained: 0, fresh: 0}
    for solver in (chained, fresh):
        def counted(q, task, solver=solver, evaluate=solver._evaluate):
            evaluations[solver] += 1
            return evaluate(q, task)

        solver._evaluate = counted
    q = robot.configuration(targets.positions[0, 0], targets.pelvis_rotations[0] @ robot.calibration.base_rotation,
                            robot.rest_posture)
    reused = 0
    for t in range(len(targets.positions)):
        task = (targets.positions[t], targets.position_weights[t], targets.rotations[t], targets.rotation_weights[t])
        fresh._last = None  # a fresh solver: nothing to reuse
        before = dict(evaluations)
        fresh_q, fresh_info = fresh.solve(q, *task, prior=None if t == 0 else q[7:].copy())
        q, info = chained.solve(q, *task, prior=None if t == 0 else q[7:].copy())
        assert np.array_equal(q, fresh_q) and info == fresh_info
        # the fresh solver evaluated its start and each trial; the chained one its trials only when it reused
        counts = [evaluations[s] - before[s] for s in (chained, fresh)]
        assert counts[0] in (counts[1], counts[1] - 1)
        reused += counts[0] == counts[1] - 1
    assert reused >= len(targets.positions) // 2


def test_batch_log3_matches_pinocchio():
    """`_batch_log3` against pin.log3, with small angles and angles near pi among ordinary ones."""
    from retargeting.solver import _batch_log3

    rng = np.random.default_rng(4)
    axes = rng.normal(size=(12, 3))
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    angles = np.array([0.3, 1.0, 2.0, 3.0, 1e-6, 0.0, 5e-5, np.pi - 1e-4, np.pi - 2e-3, 1.5, 0.01, 2.5])
    rotations = np.array([pin.exp3(a * w) for a, w in zip(angles, axes)])
    found = _batch_log3(rotations)
    expected = np.array([pin.log3(R) for R in rotations])
    assert np.allclose(found, expected, rtol=0.0, atol=1e-9)
    assert np.allclose(_batch_log3(rotations[:4]), expected[:4], rtol=0.0, atol=1e-12)


def test_the_exact_box_solve_finds_the_minimiser_where_the_quick_guess_pins_a_joint_wrongly():
    """The quick active set pins every joint that leaves its box; when the minimiser moves a pinned joint back
    inside, that guess raises the model cost (the frame stood still as if converged). The exact solve from the
    guess reaches the minimiser of the box-constrained problem: scipy's bounded least squares on the same
    problem (0.5 dq'H dq - g'dq = 0.5 |L'dq - L^-1 g|^2 + const, H = L L'), the base's 6 velocities free."""
    from scipy.optimize import lsq_linear

    from retargeting.solver import _exact_box_solve, _quick_box_solve

    rng = np.random.default_rng(5)
    joints, wrong_guesses = 8, 0
    for _ in range(200):
        A = rng.normal(size=(10 + joints, 6 + joints)) * rng.uniform(0.1, 3.0, size=6 + joints)
        H = A.T @ A + 1e-3 * np.eye(6 + joints)
        g = rng.normal(scale=3.0, size=6 + joints)
        low, high = -rng.uniform(0.0, 0.3, size=joints), rng.uniform(0.0, 0.3, size=joints)
        quick, pinned = _quick_box_solve(H, g, low, high)
        if pinned is None:
            continue
        exact = _exact_box_solve(H, g, low, high, quick, *pinned)
        L = np.linalg.cholesky(H)
        reference = lsq_linear(L.T, np.linalg.solve(L, g), bounds=(np.r_[np.full(6, -np.inf), low],
                                                                    np.r_[np.full(6, np.inf), high]),
                               method="bvls", tol=1e-12).x

        def objective(dq):
            return 0.5 * dq @ H @ dq - g @ dq

        assert (exact[6:] >= low - 1e-12).all() and (exact[6:] <= high + 1e-12).all()
        assert objective(exact) <= objective(reference) + 1e-9 * (1.0 + abs(objective(reference)))
        assert np.allclose(exact, reference, atol=1e-6)
        wrong_guesses += objective(quick) > objective(reference) + 1e-6
    assert wrong_guesses >= 20  # the case the exact solve is for, not a rare one


def test_a_feet_turn_about_the_vertical_weighs_its_yaw_share_of_a_tilt(g1_retargeter):
    """The shipped feet's orientation targets give the turn about the vertical a tenth of the weight of the same
    tilt (yaw_share 0.1: a planted foot pivots before it tips the body over); the Jacobian rows carry the same
    weights (the normal equations' g is the cost's gradient)."""
    from retargeting.solver import _Task

    robot = g1_retargeter.robot
    solver = FrameSolver(robot)
    foot = next(m for m, o in enumerate(robot.config.orientations) if o.segment == "left_foot")
    assert robot.config.orientations[foot].yaw_share == 0.1
    weights_p = np.zeros(len(solver.position_frames))
    weights_r = np.zeros(len(solver.rotation_frames))
    weights_r[foot] = 100.0
    q = robot.configuration([0.0, 0.0, 0.75], np.eye(3), robot.rest_posture)
    _, rotations = _fk_targets(robot, solver, q)
    costs = {}
    for axis in ("x", "y", "z"):
        turned = rotations.copy()
        turned[foot] = pin.exp3(0.2 * np.eye(3)["xyz".index(axis)]) @ rotations[foot]
        task = _Task.of(solver, np.zeros((len(solver.position_frames), 3)), weights_p, turned, weights_r, None)
        current = solver._evaluate(q, task)
        costs[axis] = current.task_cost
        H, g = solver._normal_equations(current, task)
        # g is minus half the gradient of the task cost (the regularisers add nothing at the rest posture)
        step = 1e-6 * g / np.linalg.norm(g)
        moved = solver._evaluate(pin.integrate(solver.model, q, step), task)
        assert moved.task_cost - current.task_cost == pytest.approx(-2.0 * g @ step, rel=1e-2)
    assert costs["x"] == pytest.approx(100.0 * 0.2 ** 2, rel=1e-9)
    assert costs["y"] == pytest.approx(costs["x"], rel=1e-9)
    assert costs["z"] == pytest.approx(0.1 * costs["x"], rel=1e-9)


def test_a_rejected_step_is_retried_at_most_half_as_long(g1_retargeter):
    """Damping ten times higher barely shortens a step (it is small against the normal matrix's diagonal), so a
    step that the cost rejects is retried at most half as long. Here every trial more than 0.05 rad from the
    start is rejected (a cost that rises steeply past that, standing in for a strongly curved one): the fourth
    try, an eighth of the first, is taken. The frame used to keep its start (four tries of the same length)."""
    robot = g1_retargeter.robot
    solver = FrameSolver(robot)
    start, positions, weights_p, rotations, weights_r = _posture_away(robot, solver)
    evaluate, lengths = solver._evaluate, []

    def curved(q, task):
        found = evaluate(q, task)
        lengths.append(float(np.abs(q[7:] - start[7:]).max()))
        if lengths[-1] > 0.05:
            found.cost = np.inf
        return found

    solver._evaluate = curved
    q, info = solver.solve(start, positions, weights_p, rotations, weights_r, max_iterations=1)
    trials = lengths[1:]  # the first evaluation is the start's
    assert len(trials) == 4 and info.rejected_steps == 3
    assert trials[0] == pytest.approx(robot.config.solver.max_step)
    assert all(later <= 0.5 * earlier + 1e-12 for earlier, later in zip(trials, trials[1:]))
    assert 0.0 < np.abs(q[7:] - start[7:]).max() <= 0.05
