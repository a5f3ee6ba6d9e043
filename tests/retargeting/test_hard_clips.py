"""Issue 13 failure cases on real DeepMimic mocap (pybullet_data): low postures, stuck limbs, stretch.

Each clip is a short piece of one DeepMimic clip at 20 fps (``motiongpt.data.deepmimic.load_joints``).
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from motiongpt.data.deepmimic import load_joints
from retargeting import Retargeter
from retargeting.retargeter import RetargetSettings
from retargeting.robot_config import RobotConfig, load_robot_config


@pytest.fixture(scope="module")
def clips() -> dict[str, np.ndarray]:
    return {name: load_joints(name) for name in ("walk", "crawl", "cartwheel")}


def _oriented_at(config: RobotConfig, segments: str, weight: float) -> RobotConfig:
    """``config`` with the orientation weight of its segments ending in ``segments`` ("_foot", "_upper_arm") set
    to ``weight``."""
    return dataclasses.replace(config, orientations=tuple(
        dataclasses.replace(o, weight=weight) if o.segment.endswith(segments) else o for o in config.orientations))


def _free_feet_at(config: RobotConfig, weight: float) -> RobotConfig:
    """``config`` with its free feet's orientation weight set to ``weight`` (the robots ship 0.1; some scenarios
    below were found at the earlier 0.5, where the IK gets trapped more often)."""
    return _oriented_at(config, "_foot", weight)


def _stretch(motion) -> float:
    velocity = motion.report["velocity"]
    return velocity["duration_after"] / velocity["duration_before"]


def test_crawl_keeps_body_proportions_and_tracks_within_10cm(g1_retargeter, clips):
    crawl = g1_retargeter.retarget(clips["crawl"][:60], fps=20.0, source="crawl")
    walk = g1_retargeter.retarget(clips["walk"][:30], fps=20.0, source="walk")
    # Proportions come from the bone lengths: the same skeleton gets the same scale on all fours.
    assert crawl.report["root_scale"] == pytest.approx(walk.report["root_scale"], rel=1e-6)
    assert 0.7 < crawl.report["root_scale"] < 0.9
    assert crawl.report["keypoint_error_cm"]["mean"] < 10.0
    assert crawl.base_positions[:, 2].max() < 0.45  # the pelvis stays low (a standing G1's is about 0.78 m)
    assert crawl.report["limits"] == {"position_limit_violations": 0, "velocity_limit_violations": 0}


def test_stuck_frames_are_recovered_within_the_frame(clips):
    """The cartwheel (55 frames) traps the warm-started, velocity-boxed IK upside down (136 cm worst error,
    26 cm mean without recovery, G1 with its free feet at 0.5); the recovery (longer solve, other seeds, a wider
    velocity box) keeps it on the motion. (The solver's own output: no smoothing after it, which flattens the
    worst frame's peak.) With the shipped feet (0.1) the IK is trapped less (30 cm without recovery, 26 with;
    51 and 32 before the box solve was exact and a rejected step shorter, when the 0.5 feet's recovery reached
    44.8 cm)."""
    shipped = load_robot_config("g1")
    config = _free_feet_at(shipped, 0.5)
    off = dataclasses.replace(config, solver=dataclasses.replace(config.solver, restart_cost=1e9, stuck_jump=1e9))
    joints = clips["cartwheel"]
    unsmoothed = RetargetSettings(smoothing_seconds=0.0)
    recovered = Retargeter.from_robot(config, unsmoothed).retarget(joints, fps=20.0, source="cartwheel")
    stuck = Retargeter.from_robot(off, unsmoothed).retarget(joints, fps=20.0, source="cartwheel")
    assert recovered.report["solver"]["restarts_tried"] > 0
    assert recovered.report["keypoint_error_cm"]["max"] < 0.5 * stuck.report["keypoint_error_cm"]["max"]
    assert recovered.report["keypoint_error_cm"]["mean"] < 10.0
    assert recovered.report["keypoint_error_cm"]["max"] < 55.0  # 51.0 cm measured (141 cm stuck)
    as_shipped = Retargeter.from_robot(shipped, unsmoothed).retarget(joints, fps=20.0, source="cartwheel")
    assert as_shipped.report["keypoint_error_cm"]["max"] < 30.0  # 26.0 cm measured


def test_walk_has_no_sticking_leg(g1_retargeter, clips):
    motion = g1_retargeter.retarget(clips["walk"], fps=20.0, source="walk")
    assert motion.report["keypoint_error_cm"]["max"] < 10.0


def test_retime_stretch_is_bounded(g1_retargeter, clips):
    walk = g1_retargeter.retarget(clips["walk"][:60], fps=20.0, source="walk")
    cartwheel = g1_retargeter.retarget(clips["cartwheel"], fps=20.0, source="cartwheel")
    assert _stretch(walk) <= 1.05
    assert _stretch(cartwheel) <= 1.15
    for motion in (walk, cartwheel):
        assert motion.report["limits"] == {"position_limit_violations": 0, "velocity_limit_violations": 0}


def test_a_widened_recovery_keeps_the_clips_time(clips):
    """A cartwheel's stuck frames are recovered in a widened box (faster than the velocity limits); their steps
    are spread over the frames around them, so the clip keeps its time, within the limits, and tracks as well.
    (G1 with its free feet at 0.5: 1.027x without the spreading, 1.000x with. With the shipped feet the solver no
    longer gets stuck on this cartwheel since its box solve is exact and a rejected step shorter; before, the
    shipped G1 stretched it 1.04x without the spreading and 1.005x with.)"""
    config = _free_feet_at(load_robot_config("g1"), 0.5)
    stretched = Retargeter.from_robot(config, RetargetSettings(keep_time=False)).retarget(
        clips["cartwheel"], fps=20.0, source="cartwheel")
    kept = Retargeter.from_robot(config).retarget(clips["cartwheel"], fps=20.0, source="cartwheel")
    assert stretched.report["solver"]["frames_box_widened"] > 0 and _stretch(stretched) > 1.01
    assert kept.report["velocity"]["joints_refitted_to_keep_time"] > 0
    assert _stretch(kept) < 1.01 and _stretch(kept) - 1.0 < 0.25 * (_stretch(stretched) - 1.0)
    assert kept.report["limits"] == {"position_limit_violations": 0, "velocity_limit_violations": 0}
    assert kept.report["keypoint_error_cm"]["mean"] < 1.1 * stretched.report["keypoint_error_cm"]["mean"]


def test_velocity_box_bounds_the_raw_steps(clips):
    """Without a widened recovery, every raw step stays within the velocity limits (no retiming at all)."""
    config = load_robot_config("g1")
    boxed = dataclasses.replace(config, solver=dataclasses.replace(config.solver, stuck_box=0.0))
    retargeter = Retargeter.from_robot(boxed)
    motion = retargeter.retarget(clips["walk"][:40], fps=20.0, source="walk")
    assert _stretch(motion) == pytest.approx(1.0)
    steps = np.abs(np.diff(motion.positions, axis=0)) * 20.0
    assert (steps <= retargeter.robot.velocity_limits * (1 + 1e-9)).all()


def test_romeo_keeps_a_runs_time_and_bends_its_elbows_to_wave():
    """Romeo: a DeepMimic run kept its time only by stretching 1.56x (the widened recovery box on frames it cannot
    reach) and a waving forearm stayed on a straight arm (rest posture with straight elbows); with no widened box
    and elbows resting bent, the run keeps its time and the real Bandai Namco wave (CC BY-NC 4.0, see the
    fixture's LICENSE) is tracked closer (right wrist 19.6 -> 16.2 cm measured). Its shoulders abduct 65 degrees at
    most, so the hand waved above the head stayed level with the ear (0 of the 90 frames). Raised forward
    (`raise_arms_forward`) and with the wrist target lifted above Romeo's head (`hands_above_head`: Romeo's head
    keypoint sits high over short arms), it is above the head in 46 of them (18 without the lift), for a wrist
    20.5 cm from the human's own (25.4 without the lift; measured with the elbow released 0.5 s ahead of the lift
    and STANDING_PER_LEG 1.06; with 1.02 it was 43 frames and 21.0 cm)."""
    from retargeting import metrics
    from retargeting.evaluation import hands_above_head
    from tests.retargeting.test_evaluation import BANDAI_FIXTURES, take_joints

    romeo = Retargeter.from_robot("romeo")
    run = romeo.retarget(load_joints("run", cycles=2), fps=20.0, source="run")
    assert _stretch(run) <= 1.05
    joints = take_joints(BANDAI_FIXTURES / "dataset-2_wave-right-hand_active_023.bvh")
    wave = romeo.retarget(joints, fps=20.0, source="wave")
    assert _stretch(wave) <= 1.05
    assert wave.report["keypoint_error_cm_by_keypoint"]["right_wrist"] < 22.0
    q = metrics.configurations(romeo.robot, wave.base_positions, wave.base_orientations, wave.positions)
    above = hands_above_head(romeo.robot, q, joints)
    assert above["human_frames"] == 90 and above["both_frames"] >= 0.4 * above["human_frames"]
    unlifted = Retargeter.from_robot(dataclasses.replace(romeo.robot.config, hands_above_head=None))
    plain = unlifted.retarget(joints, fps=20.0, source="wave")
    q_plain = metrics.configurations(romeo.robot, plain.base_positions, plain.base_orientations, plain.positions)
    assert above["both_frames"] >= 2 * hands_above_head(romeo.robot, q_plain, joints)["both_frames"]
    for motion in (run, wave):
        assert motion.report["limits"] == {"position_limit_violations": 0, "velocity_limit_violations": 0}


def test_talos_keeps_a_brisk_walks_and_a_dashs_time():
    """Talos's legs are slow (3.9-7 rad/s). On real Bandai Namco takes (CC BY-NC 4.0, see the fixtures' LICENSE), an
    active walk to the left lasted 1.116x its input with its feet at the full contact weight and a happy dash
    1.102x: stuck planted knees took the widened recovery box, and a planted leg's jump is retimed, not spread.
    Its YAML's two settings (a 1.5x box while a foot is planted, `solver.stuck_box_planted`; a late foot's pull
    limited, `solver.contact_reach`) brought them to 1.000x and 1.046x. Since the box solve is exact and a
    rejected step shorter, the knees are no longer stuck there: both keep their time with or without either
    setting; a late foot's limited pull still tracks them closer."""
    from tests.retargeting.test_evaluation import BANDAI_FIXTURES, take_joints

    config = load_robot_config("talos")
    assert config.solver.stuck_box_planted == 1.5 and config.solver.stuck_box == 3.0
    assert config.solver.contact_reach == 0.05

    def variant(**solver) -> RobotConfig:
        return dataclasses.replace(config, solver=dataclasses.replace(config.solver, **solver))

    for take in ("dataset-1_walk-left_active_001.bvh", "dataset-1_dash_happy_001.bvh"):
        joints = take_joints(BANDAI_FIXTURES / take)
        errors = {}
        for name, robot_config in (("shipped", config), ("neither", variant(stuck_box_planted=None, contact_reach=None)),
                                   ("full pull", variant(contact_reach=None))):
            motion = Retargeter.from_robot(robot_config).retarget(joints, fps=20.0, source=take)
            assert motion.report["limits"] == {"position_limit_violations": 0, "velocity_limit_violations": 0}
            assert _stretch(motion) <= 1.01, (take, name)  # 1.000 measured for each
            errors[name] = motion.report["keypoint_error_cm"]["mean"]
        assert errors["shipped"] < 7.0 and errors["shipped"] < errors["full pull"]  # walk 4.45 / 4.83, dash 5.80 / 6.69


def test_with_no_foot_down_the_full_recovery_box_is_kept():
    """`stuck_box_planted` only applies while a foot is planted: a crawl (no foot planted: the shins lie on the
    floor) is solved exactly as with stuck_box everywhere. (Talos with its free feet at 0.5 and the widened box
    taken for any gain over 10%, not only when it halves the cost: its crawl then has frames that take it; with
    the shipped settings it has none.)"""
    talos = _free_feet_at(load_robot_config("talos"), 0.5)
    config = dataclasses.replace(talos, solver=dataclasses.replace(talos.solver, stuck_box_gain=0.9))
    crawl = load_joints("crawl")[:60]
    planted_small = Retargeter.from_robot(config).retarget(crawl, fps=20.0, source="crawl")
    everywhere = dataclasses.replace(config, solver=dataclasses.replace(config.solver, stuck_box_planted=None))
    full = Retargeter.from_robot(everywhere).retarget(crawl, fps=20.0, source="crawl")
    assert planted_small.report["contact_frames"] == {"left": 0, "right": 0}
    assert planted_small.report["solver"]["frames_box_widened"] > 0
    np.testing.assert_array_equal(planted_small.positions, full.positions)
    small = dataclasses.replace(config, solver=dataclasses.replace(config.solver, stuck_box=1.5, stuck_box_planted=None))
    assert not np.array_equal(Retargeter.from_robot(small).retarget(crawl, fps=20.0, source="crawl").positions,
                              planted_small.positions)  # a 1.5x box everywhere would change the crawl


def test_romeo_stays_upright_with_its_toes_turned_out():
    """Real Bandai Namco mocap (CC BY-NC 4.0, see the fixture's LICENSE): a goodbye in the "musical" style, stood
    with the toes turned out further than Romeo's hips can turn. The planted feet's headings (at the contact
    weight) were out of reach and the solver met them by tipping the whole robot over: pelvis 31 degrees from
    upright, mean keypoint error 26.6 cm. Headings bounded by the hip yaw range keep it upright."""
    from tests.retargeting.test_evaluation import BANDAI_FIXTURES, take_joints

    joints = take_joints(BANDAI_FIXTURES / "dataset-1_byebye_musical_001.bvh")
    motion = Retargeter.from_robot("romeo").retarget(joints, fps=20.0, source="byebye")
    x, y, z, w = motion.base_orientations.T  # xyzw
    up_z = 1.0 - 2.0 * (x * x + y * y)  # the vertical component of the pelvis's up axis
    assert np.degrees(np.arccos(up_z.min())) < 10.0
    assert motion.report["keypoint_error_cm"]["mean"] < 10.0
    assert motion.report["limits"] == {"position_limit_violations": 0, "velocity_limit_violations": 0}


@pytest.mark.parametrize("clip", ["turn_right0", "turn_right1", "turn_left1"])
def test_romeo_turns_on_its_planted_feet_without_leaning(clip):
    """DeepMimic turns in place (3 cycles): the human pivots on planted feet further than Romeo's hips can turn
    (yaw +-0.26 rad). With each planted foot's heading at the full contact weight, the solver turned the feet
    by leaning the whole body: pelvis 30 / 25 / 22 degrees from upright at most, 35 / 26 / 21 cm worst keypoint
    error (and 54 / 39 / 38 degrees, 52 / 30 / 36 cm, once the box solve was exact). The feet's orientation
    targets now weigh their turn about the vertical at a tenth (yaw_share 0.1): a planted foot pivots before
    the body tips over (measured: 22 / 13 / 17 degrees, 16 / 9 / 10 cm, mean 3.0 / 2.2 / 2.2 cm)."""
    joints = load_joints(clip, cycles=3)
    motion = Retargeter.from_robot("romeo").retarget(joints, fps=20.0, source=clip)
    x, y, z, w = motion.base_orientations.T  # xyzw
    up_z = 1.0 - 2.0 * (x * x + y * y)  # the vertical component of the pelvis's up axis
    assert np.degrees(np.arccos(up_z.min())) < 25.0
    assert motion.report["keypoint_error_cm"]["max"] < 20.0
    assert motion.report["keypoint_error_cm"]["mean"] < 3.5
    assert motion.report["limits"] == {"position_limit_violations": 0, "velocity_limit_violations": 0}


def test_an_arm_beside_a_capsule_is_not_held_still():
    """Real Bandai Namco mocap (CC BY-NC 4.0, see the fixture's LICENSE): an old man's goodbye on Talos, an arm just
    outside a self-collision capsule's margin. The step's model holds only the pairs within the margin, so the step
    headed into the pair, the capsule's cost rejected it and every shorter retry, and the frame stood still while
    the hand moved on. A rejected retry now holds the pairs the trial reached (measured: 5 frames held still,
    17.0 cm worst frame without it; 0 and 12.4 cm with it; 9 and 30.1 cm with the solver before the exact box
    solve)."""
    from tests.retargeting.test_evaluation import BANDAI_FIXTURES, take_joints

    retargeter = Retargeter.from_robot("talos")
    robot = retargeter.robot
    targets = retargeter.task_targets(take_joints(BANDAI_FIXTURES / "dataset-1_bye_old_001.bvh"), 20.0, "bye")
    moving = np.abs(np.diff(targets.positions, axis=0)).max(axis=(1, 2)) > 0.01

    def held_frames_and_worst_cm() -> tuple[int, float]:
        qs, _ = retargeter.solve_frames(targets, 20.0)
        held = (np.all(qs[1:] == qs[:-1], axis=1) & moving).sum()
        keypoints = len(robot.keypoint_frame_ids)
        worst = max(np.linalg.norm(robot.keypoint_positions(q) - targets.positions[t, :keypoints], axis=1).max()
                    for t, q in enumerate(qs))
        return int(held), 100.0 * float(worst)

    held, worst = held_frames_and_worst_cm()
    assert held == 0 and worst < 14.0
    retargeter.solver._with_pairs_reached = lambda current, trial, H: H  # the retry without the reached pairs
    held_before, worst_before = held_frames_and_worst_cm()
    assert held_before >= 3 and worst_before > worst + 3.0


def test_a_dash_keeps_its_legs_facing_forward(g1_retargeter):
    """Real Bandai Namco mocap (CC BY-NC 4.0, see the fixture's LICENSE): a dash, the heels kicked up behind after
    each toe-off. The swinging foot's target read as turned around drove G1's hip yaw to -2.7 rad (its limit)
    in a stride: 56 cm worst keypoint error, 8.8 cm mean. Read as a foot pitched past the vertical (test_targets),
    the hips stay within a stride's yaw: 0.24 rad at most, 13.7 cm worst, 3.2 cm mean (measured)."""
    from tests.retargeting.test_evaluation import BANDAI_FIXTURES, take_joints

    joints = take_joints(BANDAI_FIXTURES / "dataset-1_dash_active_001.bvh")
    dash = g1_retargeter.retarget(joints, fps=20.0, source="dash")
    yaw = [dash.joint_names.index(f"{side}_hip_yaw_joint") for side in ("left", "right")]
    assert np.abs(dash.positions[:, yaw]).max() < 1.0  # rad (2.76 before)
    assert dash.report["keypoint_error_cm"]["max"] < 25.0
    assert dash.report["keypoint_error_cm"]["mean"] < 5.0
    assert dash.report["limits"] == {"position_limit_violations": 0, "velocity_limit_violations": 0}


def test_a_foot_landing_late_does_not_throw_the_body(clips):
    """Talos's legs are too slow for the cartwheel: its right foot comes down half a metre from where the human's
    lands. At the full contact weight the solver turned the whole robot about 126 degrees in one frame to put it
    there (every keypoint off, up to 1.7 m); pulled as if 5 cm away (``solver.contact_reach``), the foot lands
    late and the body stays on the motion. (Measured with the free feet at 0.5: 126 against 51 degrees, 168 against
    115 cm; at the shipped 0.1, 88 against 32 degrees, 155 against 55 cm. Since the box solve is exact and a
    rejected step shorter, the full weight no longer throws the body either: 30 against 21 degrees, 41 against
    28 cm, measured.)"""
    config = load_robot_config("talos")
    assert config.solver.contact_reach == 0.05
    full = dataclasses.replace(config, solver=dataclasses.replace(config.solver, contact_reach=None))
    motions = {name: Retargeter.from_robot(c).retarget(clips["cartwheel"], fps=20.0, source="cartwheel")
               for name, c in (("reach", config), ("full", full))}

    def largest_base_turn_deg(motion) -> float:
        rotations = Rotation.from_quat(motion.base_orientations)
        return float(np.degrees((rotations[:-1].inv() * rotations[1:]).magnitude()).max())

    assert largest_base_turn_deg(motions["full"]) < 45.0  # 30 measured (88 before the exact box solve)
    assert largest_base_turn_deg(motions["reach"]) < 30.0  # 21 measured
    reach, full_weight = (motions[n].report["keypoint_error_cm"] for n in ("reach", "full"))
    assert reach["max"] < 0.8 * full_weight["max"]  # 28 against 41 cm measured
    assert reach["mean"] < full_weight["mean"]  # 5.1 against 5.9 cm
    assert motions["reach"].report["limits"] == {"position_limit_violations": 0, "velocity_limit_violations": 0}


def test_romeos_arm_keypoints_lead_its_upper_arm_orientation(clips):
    """Romeo's (and Talos's) upper-arm orientation targets weigh 0.1 (G1's 0.3): at 0.3 they held its arms folded
    on a crawl (elbow twist at its limit); at 0.1 the arm keypoints lead (on the 253-clip evaluation, mean error
    6.47 -> 6.30 cm, hand above the head 48.5% -> 54.2%). Measured with Romeo's feet at 0.1 (they were at 0.5 when
    the arms were set: 11.8 against 12.7 cm mean, left wrist 19.0 against 24.3 cm)."""
    for robot, weight in (("romeo", 0.1), ("talos", 0.1), ("g1", 0.3)):
        weights = {o.segment: o.weight for o in load_robot_config(robot).orientations}
        assert weights["left_upper_arm"] == weights["right_upper_arm"] == weight
    config = load_robot_config("romeo")
    heavier = _oriented_at(config, "_upper_arm", 0.3)
    crawl = clips["crawl"][:60]
    light, heavy = (Retargeter.from_robot(c).retarget(crawl, fps=20.0, source="crawl").report for c in (config, heavier))
    assert light["keypoint_error_cm"]["mean"] < heavy["keypoint_error_cm"]["mean"] - 0.5  # 7.5 against 8.7 cm
    arm = {name: (light["keypoint_error_cm_by_keypoint"][name], heavy["keypoint_error_cm_by_keypoint"][name])
           for name in ("left_wrist", "right_wrist", "left_elbow")}
    assert arm["left_elbow"][0] < arm["left_elbow"][1] - 3.0  # 11.6 against 17.0 cm
    assert arm["right_wrist"][0] < arm["right_wrist"][1] - 1.0  # 10.1 against 12.6 cm
    assert arm["left_wrist"][0] < arm["left_wrist"][1]  # 13.3 against 14.6 cm


def test_romeo_crawls_within_10cm_with_its_free_feet_lightly_held(clips):
    """Romeo's ankles roll only +-0.35 rad: a crawl's feet, toes down, are out of their reach. With the free feet's
    orientation at G1's weight (0.5) that target pulled the legs off their keypoints (11.8 cm mean measured); at
    Romeo's 0.1 the keypoints lead (7.5 cm), within the issue's 10 cm, no limit broken."""
    config = load_robot_config("romeo")
    weights = {o.segment: o.weight for o in config.orientations}
    assert weights["left_foot"] == weights["right_foot"] == 0.1
    heavier = _free_feet_at(config, 0.5)
    crawl = clips["crawl"][:60]
    light, heavy = (Retargeter.from_robot(c).retarget(crawl, fps=20.0, source="crawl").report for c in (config, heavier))
    assert heavy["keypoint_error_cm"]["mean"] > 10.0  # 11.8: the fault
    assert light["keypoint_error_cm"]["mean"] < 10.0  # 7.5
    for foot in ("left_foot", "right_foot"):  # 9.1 / 7.8 against 16.7 / 14.3 cm
        assert light["keypoint_error_cm_by_keypoint"][foot] < heavy["keypoint_error_cm_by_keypoint"][foot] - 3.0
    assert light["limits"] == {"position_limit_violations": 0, "velocity_limit_violations": 0}
