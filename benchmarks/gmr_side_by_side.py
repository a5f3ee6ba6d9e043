"""GMR and this project's retargeter side by side: same human clips, same Unitree G1, one core, one metric.

    .venv/bin/python benchmarks/gmr_side_by_side.py --gmr /tmp/gmr --gmr-python /tmp/gmrvenv/bin/python \
        --data data/embedded --match '^[0-9a-z_]+-x100-s[0-9]+-[0-9]+f$' [--limit N]

GMR (General Motion Retargeting, https://github.com/YanjieZe/GMR, MIT) runs in its own virtualenv:
    git clone https://github.com/YanjieZe/GMR /tmp/gmr
    python3.11 -m venv /tmp/gmrvenv && /tmp/gmrvenv/bin/pip install mink qpsolvers daqp mujoco numpy scipy rich
Its package __init__ also imports its viewer and a torch model; the worker (this script with --worker, run by
--gmr-python) loads only `motion_retarget` and `params` from --gmr, so torch is not needed.

GMR's SMPL-X input is a pose per frame: body name -> (position, global orientation wxyz), Z up. The clips hold
joint positions only (22 SMPL joints, Y up, 20 fps), so the orientations are built here in the SMPL convention
(every joint frame is the identity in the T-pose: x left, y up, z forward): pelvis from the hips and spine1,
spine3 from the shoulders and neck, every other joint by the shortest arc taking its parent's frame applied to
the T-pose bone direction onto the bone to its child (the least twist relative to the parent; leaves copy their
parent). The ankle's T-pose foot bone points forward and down by the clip's median foot pitch in contact, so a
planted foot is flat. (motiongpt.features.inverse_kinematics composes to world-frame shortest arcs from arms-down
rest offsets, which drops the limbs' heading: after a 130-degree turn the thighs were off by 127 degrees.) Y up -> Z up rotates positions and orientations by +90 degrees about x, as AMASS data is.
GMR's human height is the skeleton's: standing hip height (`STANDING_PER_LEG` x hip-knee-ankle) + pelvis above the hips
+ spine chain to the head joint + 0.15 m (SMPL head joint to the top of the head).

Throughput: input frames per second of process CPU time, the process (and the GMR worker it starts) pinned to
one core; ours times `Retargeter.retarget` per clip (everything), GMR times its per-frame `retarget` calls
(constructed once per clip, untimed; the orientation building above is untimed too). Two alternating passes
each, the best reported. Quality, one function for both outputs, at the input frames (ours' samples before its
retime, whose stretch is reported apart; GMR's raw qpos, no ground offset), with the URDF on Pinocchio:
  joint_error_cm: human joints minus their hip centre, scaled by robot / human standing hip height, against robot
    link origins minus the centre of its hip links (hips: hip_roll, knees: knee, ankles: ankle_roll, shoulders:
    shoulder_roll, elbows: elbow, wrists: wrist_yaw), each turned to its own heading (from its hips);
  foot_sliding_cm_per_contact_frame: horizontal move of ankle_roll_link between two human contact frames;
  penetration_max_cm: deepest sole corner below z = 0 (the sole rectangles of retargeting/robots/g1.yaml), and
    frames_below_floor_1cm;
  velocity_violations: joint-intervals over the velocity limit (URDF, capped at 3 pi rad/s by g1.yaml) and
  jerk: |third finite difference| of the joints (rad/s^3), mean and p99, both on the motion as delivered (ours
    at its retimed times, GMR at 20 fps).
Part of the error is the fixed difference in proportions (robot shoulders sit elsewhere relative to the hips
than the scaled human's, the same for any method): compare the two, and the per-joint means. The clips'
floor is their lowest joint (the toe), so GMR, which puts its toe link on the human toe joint, stands a few cm
low; its dataset script shifts each clip up afterwards, its per-clip script (reproduced here) does not.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import numpy as np  # noqa: E402

FPS = 20.0
GMR_BODIES = ("pelvis", "spine3", "left_hip", "right_hip", "left_knee", "right_knee", "left_foot", "right_foot",
              "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist")
METRIC_LINKS = {"pelvis": "pelvis", "left_hip": "left_hip_roll_link", "right_hip": "right_hip_roll_link",
                "left_knee": "left_knee_link", "right_knee": "right_knee_link",
                "left_ankle": "left_ankle_roll_link", "right_ankle": "right_ankle_roll_link",
                "left_shoulder": "left_shoulder_roll_link", "right_shoulder": "right_shoulder_roll_link",
                "left_elbow": "left_elbow_link", "right_elbow": "right_elbow_link",
                "left_wrist": "left_wrist_yaw_link", "right_wrist": "right_wrist_yaw_link"}
HEAD_TOP = 0.15  # m, SMPL head joint to the top of the head


def worker(gmr_root: str, inputs: str, outputs: str) -> None:
    """In GMR's venv: retarget every clip of ``inputs``, write qpos per clip and the CPU time to ``outputs``."""
    import types
    package = types.ModuleType("general_motion_retargeting")
    package.__path__ = [str(Path(gmr_root) / "general_motion_retargeting")]
    sys.modules["general_motion_retargeting"] = package
    from general_motion_retargeting.motion_retarget import GeneralMotionRetargeting

    data = np.load(inputs)
    names = [str(n) for n in data["bodies"]]
    clips = []
    for k, height in enumerate(data["heights"]):
        positions, rotations = data[f"positions_{k}"], data[f"rotations_{k}"]
        clips.append((float(height), [{n: (positions[t, b], rotations[t, b]) for b, n in enumerate(names)}
                                      for t in range(len(positions))]))
    warm = GeneralMotionRetargeting("smplx", "unitree_g1", actual_human_height=clips[0][0])
    for frame in clips[0][1][:10]:
        warm.retarget(dict(frame))
    results, cpu_seconds, wall_seconds = {}, 0.0, 0.0
    for k, (height, frames) in enumerate(clips):
        gmr = GeneralMotionRetargeting("smplx", "unitree_g1", actual_human_height=height)
        cpu, wall = time.process_time(), time.perf_counter()
        results[f"qpos_{k}"] = np.array([gmr.retarget(frame) for frame in frames])
        cpu_seconds += time.process_time() - cpu
        wall_seconds += time.perf_counter() - wall
    np.savez(outputs, cpu_seconds=cpu_seconds, wall_seconds=wall_seconds, **results)


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)


def _arc(a: np.ndarray, b: np.ndarray):
    """Shortest-arc rotations taking unit vectors a onto b (T, 3 each); a half turn about a perpendicular."""
    from scipy.spatial.transform import Rotation
    quat = np.concatenate([np.cross(a, b), 1.0 + (a * b).sum(-1, keepdims=True)], axis=-1)
    opposite = quat[:, 3] < 1e-9
    helper = np.where(np.abs(a[:, :1]) < 0.9, [[1.0, 0.0, 0.0]], [[0.0, 1.0, 0.0]])
    quat[opposite] = np.concatenate([_unit(np.cross(a, helper)), np.zeros((len(a), 1))], axis=-1)[opposite]
    return Rotation.from_quat(quat)


def _frame(x: np.ndarray, y: np.ndarray):
    """Rotations whose x axis is along ``x`` and y axis along ``y`` made orthogonal to it (T, 3 each)."""
    from scipy.spatial.transform import Rotation
    x = _unit(x)
    y = _unit(y - (y * x).sum(-1, keepdims=True) * x)
    return Rotation.from_matrix(np.stack([x, y, np.cross(x, y)], axis=-1))


def smpl_orientations(joints_yup: np.ndarray, contacts: np.ndarray) -> dict:
    """Global SMPL joint orientations (Y up, identity in the T-pose) of GMR's bodies from joint positions."""
    from motiongpt.skeleton import JOINT_INDEX as J
    p = {name: joints_yup[:, i] for name, i in J.items()}
    foot = _unit(np.stack([p[f"{s}_foot"] - p[f"{s}_ankle"] for s in ("left", "right")], axis=1))  # (T,2,3)
    pitch = np.arcsin(np.clip(-foot[..., 1], -1, 1))[contacts]
    pitch = float(np.median(pitch)) if pitch.size else 0.35  # a flat foot's ankle-to-toe pitch; 20 degrees
    rest_foot = np.array([0.0, -np.sin(pitch), np.cos(pitch)])
    rotations = {"pelvis": _frame(p["left_hip"] - p["right_hip"], p["spine1"] - p["pelvis"]),
                 "spine3": _frame(p["left_shoulder"] - p["right_shoulder"], p["neck"] - p["spine3"])}

    def hang(joint: str, parent: str, child: str, rest) -> None:
        frame = rotations[parent]
        rotations[joint] = _arc(frame.apply(rest), _unit(p[child] - p[joint])) * frame

    for side, sign in (("left", 1.0), ("right", -1.0)):
        hang(f"{side}_hip", "pelvis", f"{side}_knee", [0.0, -1.0, 0.0])
        hang(f"{side}_knee", f"{side}_hip", f"{side}_ankle", [0.0, -1.0, 0.0])
        hang(f"{side}_ankle", f"{side}_knee", f"{side}_foot", rest_foot)
        hang(f"{side}_collar", "spine3", f"{side}_shoulder", [sign, 0.0, 0.0])
        hang(f"{side}_shoulder", f"{side}_collar", f"{side}_elbow", [sign, 0.0, 0.0])
        hang(f"{side}_elbow", f"{side}_shoulder", f"{side}_wrist", [sign, 0.0, 0.0])
        rotations[f"{side}_foot"], rotations[f"{side}_wrist"] = rotations[f"{side}_ankle"], rotations[f"{side}_elbow"]
    return rotations


def gmr_inputs(joints_yup: np.ndarray, contacts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GMR's per-frame input as arrays: positions (T, B, 3) and wxyz orientations (T, B, 4), Z up."""
    from scipy.spatial.transform import Rotation
    from motiongpt.skeleton import JOINT_INDEX, Y_UP_TO_Z_UP, yup_to_zup
    to_zup = Rotation.from_matrix(Y_UP_TO_Z_UP)
    rotations = smpl_orientations(joints_yup, contacts)
    positions = yup_to_zup(joints_yup[:, [JOINT_INDEX[b] for b in GMR_BODIES]])
    quats = np.stack([(to_zup * rotations[b]).as_quat(scalar_first=True) for b in GMR_BODIES], axis=1)
    return positions, quats


def _median_length(joints: np.ndarray, chain: list[int]) -> float:
    return float(np.median(np.linalg.norm(np.diff(joints[:, chain], axis=1), axis=-1).sum(axis=1)))


def standing_heights(joints: np.ndarray) -> tuple[float, float]:
    """(hip centre, top of the head) above the ground of the skeleton standing, from its bone lengths (m)."""
    from motiongpt.skeleton import JOINT_INDEX as J
    from retargeting.targets import STANDING_PER_LEG
    legs = [_median_length(joints, [J[f"{s}_hip"], J[f"{s}_knee"], J[f"{s}_ankle"]]) for s in ("left", "right")]
    hips = 0.5 * (joints[:, J["left_hip"]] + joints[:, J["right_hip"]])
    standing_hips = STANDING_PER_LEG * float(np.mean(legs))
    pelvis = standing_hips + float(np.median(np.linalg.norm(joints[:, 0] - hips, axis=-1)))
    spine = _median_length(joints, [J[n] for n in ("pelvis", "spine1", "spine2", "spine3", "neck", "head")])
    return standing_hips, pelvis + spine + HEAD_TOP


def _to_heading(points: np.ndarray, left: int, right: int) -> np.ndarray:
    """(T, N, 3) points turned about z so that each frame's left-minus-right of ``points[:, left/right]`` is +y."""
    across = points[:, left] - points[:, right]
    angle = np.pi / 2 - np.arctan2(across[:, 1], across[:, 0])
    c, s = np.cos(angle)[:, None], np.sin(angle)[:, None]
    x, y = points[..., 0], points[..., 1]
    return np.stack([c * x - s * y, s * x + c * y, points[..., 2]], axis=-1)


def quality(robot, q: np.ndarray, times: np.ndarray, human_zup: np.ndarray, contacts: np.ndarray,
            scale: float) -> dict:
    """Per-clip raw measures of one robot trajectory ``q`` (T, nq) (Pinocchio, base xyzw), delivered at ``times``,
    against the human."""
    import pinocchio as pin
    from motiongpt.skeleton import JOINT_INDEX
    from retargeting.metrics import interval_velocity_and_jerk
    frame_ids = [robot.model.getFrameId(link) for link in METRIC_LINKS.values()]
    links, soles = np.empty((len(q), len(frame_ids), 3)), np.empty((len(q), 2, 4, 3))
    for t, qt in enumerate(q):
        soles[t] = robot.sole_points(qt)  # runs the forward kinematics
        links[t] = [pin.updateFramePlacement(robot.model, robot.data, f).translation for f in frame_ids]
    human = human_zup[:, [JOINT_INDEX[j] for j in METRIC_LINKS]]
    left, right = list(METRIC_LINKS).index("left_hip"), list(METRIC_LINKS).index("right_hip")
    human = scale * (human - 0.5 * (human[:, left:left + 1] + human[:, right:right + 1]))
    robot_points = links - 0.5 * (links[:, left:left + 1] + links[:, right:right + 1])
    error = np.linalg.norm(_to_heading(robot_points, left, right) - _to_heading(human, left, right), axis=-1)
    ankles = [list(METRIC_LINKS).index("left_ankle"), list(METRIC_LINKS).index("right_ankle")]
    steps = np.linalg.norm(np.diff(links[:, ankles, :2], axis=0), axis=-1)[contacts[1:] & contacts[:-1]]
    velocity, jerk = interval_velocity_and_jerk(q[:, 7:], times)
    return {"error": error[:, 1:], "sliding": steps, "lowest": soles[..., 2].min(axis=(1, 2)),
            "violations": int((np.abs(velocity) > robot.velocity_limits).sum()), "jerk": np.abs(jerk).ravel()}


def summarize(measures: list[dict], frames: int, cpu_passes: list[float], wall_passes: list[float]) -> dict:
    error, sliding, jerk = (np.concatenate([m[k] for m in measures]) for k in ("error", "sliding", "jerk"))
    lowest = np.concatenate([m["lowest"] for m in measures])
    return {"fps_cpu_time": round(frames / min(cpu_passes), 1), "fps_wall": round(frames / min(wall_passes), 1),
            "cpu_seconds_passes": [round(c, 3) for c in cpu_passes],
            "joint_error_cm_mean": round(float(error.mean()) * 100, 2),
            "joint_error_cm_max": round(float(error.max()) * 100, 2),
            "joint_error_cm_by_joint": {j: round(float(e) * 100, 1) for j, e in zip(list(METRIC_LINKS)[1:], error.mean(0))},
            "foot_sliding_cm_per_contact_frame": round(float(sliding.mean()) * 100, 3) if sliding.size else 0.0,
            "penetration_max_cm": round(max(0.0, -float(lowest.min())) * 100, 2),
            "frames_below_floor_1cm": int((lowest < -0.01).sum()),
            "velocity_violations": sum(m["violations"] for m in measures),
            "jerk_mean": round(float(jerk.mean()), 1), "jerk_p99": round(float(np.percentile(jerk, 99)), 1)}


def run_gmr(args, inputs: Path, outputs: Path, count: int) -> tuple[float, float, list[np.ndarray]]:
    subprocess.run([args.gmr_python, __file__, "--worker", "--gmr", args.gmr, str(inputs), str(outputs)], check=True)
    data = np.load(outputs)
    return float(data["cpu_seconds"]), float(data["wall_seconds"]), [data[f"qpos_{k}"] for k in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gmr", required=True, help="GMR checkout (with general_motion_retargeting/ and assets/)")
    parser.add_argument("--gmr-python", default=sys.executable, help="python of a venv with GMR's dependencies")
    parser.add_argument("--data", default="data/embedded", help="dataset folder with new_joints/*.npy (20 fps)")
    parser.add_argument("--match", default=r"^[0-9a-z_]+-x100-s[0-9]+-[0-9]+f$", help="regex on clip names")
    parser.add_argument("--limit", type=int, default=None, help="at most this many clips (sorted)")
    parser.add_argument("--cpu", type=int, default=None, help="core to pin to (default: the last one allowed)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("files", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.gmr, *args.files)
        return

    core = args.cpu if args.cpu is not None else max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})  # inherited by the GMR worker
    import pinocchio as pin
    from motiongpt.skeleton import yup_to_zup
    from retargeting import Retargeter
    from retargeting.contacts import detect_contacts
    from retargeting.metrics import configurations

    paths = sorted(p for p in (Path(args.data) / "new_joints").glob("*.npy")
                   if not p.stem.endswith("-M") and re.search(args.match, p.stem))[: args.limit]
    if not paths:
        raise SystemExit(f"no clips in {args.data}/new_joints match {args.match!r}")
    clips = [np.load(p).astype(np.float64) for p in paths]
    contacts = [detect_contacts(yup_to_zup(c), FPS).in_contact for c in clips]
    heights = [standing_heights(c) for c in clips]
    retargeter = Retargeter.from_robot("g1")
    robot = retargeter.robot
    calibration_q = robot.configuration(np.zeros(3), np.eye(3), robot.calibration_joints)
    soles = robot.sole_points(calibration_q)  # runs the forward kinematics
    hip_links = [robot.model.getFrameId(METRIC_LINKS[f"{s}_hip"]) for s in ("left", "right")]
    hip_height = np.mean([pin.updateFramePlacement(robot.model, robot.data, f).translation[2] for f in hip_links]) \
        - soles[..., 2].min()

    with tempfile.TemporaryDirectory(prefix="gmr_side_by_side_") as folder:
        inputs, outputs = Path(folder) / "inputs.npz", Path(folder) / "outputs.npz"
        arrays = {"bodies": np.array(GMR_BODIES), "heights": np.array([h[1] for h in heights])}
        for k, (clip, contact) in enumerate(zip(clips, contacts)):
            arrays[f"positions_{k}"], arrays[f"rotations_{k}"] = gmr_inputs(clip, contact)
        np.savez(inputs, **arrays)
        retargeter.retarget(clips[0][:10], fps=FPS)  # warm up
        ours_cpu, ours_wall, gmr_cpu, gmr_wall = [], [], [], []
        for _ in range(2):
            cpu, wall = time.process_time(), time.perf_counter()
            motions = [retargeter.retarget(c, fps=FPS, source=p.stem) for c, p in zip(clips, paths)]
            ours_cpu.append(time.process_time() - cpu)
            ours_wall.append(time.perf_counter() - wall)
            cpu_seconds, wall_seconds, gmr_qpos = run_gmr(args, inputs, outputs, len(clips))
            gmr_cpu.append(cpu_seconds)
            gmr_wall.append(wall_seconds)

    ours_measures, gmr_measures, rows, stretches = [], [], [], []
    for path, clip, contact, (hips, _), motion, qpos in zip(paths, clips, contacts, heights, motions, gmr_qpos):
        assert len(motion.positions) == len(clip) == len(qpos), path.stem
        human, scale = yup_to_zup(clip), hip_height / hips
        ours_q = configurations(robot, motion.base_positions, motion.base_orientations, motion.positions)
        gmr_q = np.concatenate([qpos[:, :3], qpos[:, [4, 5, 6, 3]], qpos[:, 7:]], axis=1)  # wxyz -> xyzw
        ours_measures.append(quality(robot, ours_q, motion.times, human, contact, scale))
        gmr_measures.append(quality(robot, gmr_q, np.arange(len(gmr_q)) / FPS, human, contact, scale))
        velocity = motion.report["velocity"]
        stretches.append(velocity["duration_after"] / velocity["duration_before"])
        travel = [float(np.linalg.norm(x[-1, :2] - x[0, :2])) for x in (scale * human[:, 0], ours_q, gmr_q)]
        rows.append({"clip": path.stem, "frames": len(clip),
                     "pelvis_travel_m_human_scaled_ours_gmr": [round(x, 2) for x in travel],
                     "error_cm_ours": round(float(ours_measures[-1]["error"].mean()) * 100, 1),
                     "error_cm_gmr": round(float(gmr_measures[-1]["error"].mean()) * 100, 1),
                     "penetration_cm_ours": round(max(0.0, -float(ours_measures[-1]["lowest"].min())) * 100, 1),
                     "penetration_cm_gmr": round(max(0.0, -float(gmr_measures[-1]["lowest"].min())) * 100, 1)})
    frames = sum(len(c) for c in clips)
    ours = summarize(ours_measures, frames, ours_cpu, ours_wall)
    ours["stretch"] = {"mean": round(float(np.mean(stretches)), 3), "max": round(float(np.max(stretches)), 3),
                       "clips_retimed": int(sum(s > 1.0 for s in stretches))}
    gmr = summarize(gmr_measures, frames, gmr_cpu, gmr_wall)
    print(json.dumps({
        "clips": len(clips), "frames": frames, "fps": FPS, "core": core,
        "human_height_m_for_gmr": round(float(np.mean([h[1] for h in heights])), 3),
        "metric_scale": round(float(hip_height / np.mean([h[0] for h in heights])), 4),
        "ours": ours, "gmr": gmr,
        "throughput_ratio_ours_over_gmr": round(ours["fps_cpu_time"] / gmr["fps_cpu_time"], 2),
        "load_average_1min": round(os.getloadavg()[0], 2), "per_clip": rows,
    }, indent=1))


if __name__ == "__main__":
    main()
