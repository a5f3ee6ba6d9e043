"""`motiongpt eval retarget`: retarget every clip of a dataset folder (``new_joints/*.npy``, mirrored
clips included) and aggregate quality and speed into one JSON-ready dict.

Throughput is frames per second of process CPU time of ``Retargeter.retarget`` (single-threaded
Pinocchio + numpy; run under ``taskset -c 0`` to pin it to one core).
"""
from __future__ import annotations

import os
import re
import time
from pathlib import Path

import numpy as np

from motiongpt.skeleton import FPS
from retargeting import metrics
from retargeting.errors import RetargetError
from retargeting.mujoco_check import build_model, self_collision_frames
from retargeting.retargeter import Retargeter, RetargetSettings

WALKING_WORDS = ("walk",)
# Acrobatics: the stretch bound is 15% here, 5% on everything else (walking, turns, dances, gestures).
ACROBATIC_WORDS = ("backflip", "cartwheel", "spin", "roll", "getup", "jump", "kick", "crawl")
WORST_COUNT = 5
GESTURE_WORDS = ("wave", "raise", "bye", "call", "guide", "respond")  # Bandai Namco hand gestures


def hands_above_head(robot, q: np.ndarray, human_joints_yup: np.ndarray) -> dict[str, int]:
    """Frames where the human's wrist is above the head, where the robot's is, and where both are (per
    hand, summed): a raised or waving hand must stay above the robot's head."""
    from motiongpt.skeleton import JOINT_INDEX

    slots = {k.smpl: i for i, k in enumerate(robot.config.keypoints)}
    if not all(name in slots for name in ("head", "left_wrist", "right_wrist")):
        return {"human_frames": 0, "robot_frames": 0, "both_frames": 0}
    reached = np.array([robot.keypoint_positions(qt) for qt in q])  # (T,K,3), Z up
    counts = {"human_frames": 0, "robot_frames": 0, "both_frames": 0}
    for wrist in ("left_wrist", "right_wrist"):
        human = human_joints_yup[:, JOINT_INDEX[wrist], 1] > human_joints_yup[:, JOINT_INDEX["head"], 1]
        robot_up = reached[:, slots[wrist], 2] > reached[:, slots["head"], 2]
        counts["human_frames"] += int(human.sum())
        counts["robot_frames"] += int(robot_up.sum())
        counts["both_frames"] += int((human & robot_up).sum())
    return counts


def _gestures(rows: list[dict]) -> dict | None:
    gestures = [r for r in rows if r.get("gesture")]
    if not gestures:
        return None
    human = sum(r["hands_above_head"]["human_frames"] for r in gestures)
    robot = sum(r["hands_above_head"]["robot_frames"] for r in gestures)
    both = sum(r["hands_above_head"]["both_frames"] for r in gestures)
    wrist = [r["wrist_error_cm"] for r in gestures if r["wrist_error_cm"] is not None]
    return {
        "clips": len(gestures),
        "wrist_error_cm_mean": float(np.mean(wrist)) if wrist else None,
        "wrist_error_cm_worst_clip": float(np.max(wrist)) if wrist else None,
        "keypoint_error_cm_max": float(max(r["keypoint_error_cm_max"] for r in gestures)),
        # of the frames where a human hand is above the head, the share where the robot's is too; and the reverse
        "hand_above_head_recall": both / human if human else None,
        "hand_above_head_precision": both / robot if robot else None,
        "hand_above_head_human_frames": human,
    }


def dataset_clips(data_dir: str | Path) -> list[Path]:
    folder = Path(data_dir) / "new_joints"
    if not folder.is_dir():
        raise RetargetError(f"{data_dir}: no new_joints/ folder (build one with `motiongpt data build-embedded --out DIR`)")
    clips = sorted(folder.glob("*.npy"))
    if not clips:
        raise RetargetError(f"{folder}: no .npy clips")
    return clips


def evaluate_robot(robot: str, data_dir: str | Path, limit: int | None = None, fps: float = FPS,
                   settings: RetargetSettings = RetargetSettings(), progress=None, match: str | None = None) -> dict:
    """``match``: a regular expression; only clips whose name it finds are evaluated (``limit`` applies after)."""
    retargeter = Retargeter.from_robot(robot, settings)
    model = retargeter.robot
    bundle = build_model(model)
    clips = dataset_clips(data_dir)
    if match:
        clips = [c for c in clips if re.search(match, c.stem)]
        if not clips:
            raise RetargetError(f"{data_dir}: no clip name matches {match!r}")
    if limit:
        clips = clips[:limit]
    rows = []
    cpu_seconds = 0.0
    frames_total = 0
    for index, path in enumerate(clips):
        try:
            joints = np.load(path)
        except Exception as error:
            raise RetargetError(f"{path}: cannot read clip: {error}") from error
        start = time.process_time()
        motion = retargeter.retarget(joints, fps=fps, source=str(path))
        cpu_seconds += time.process_time() - start
        frames_total += len(joints)
        q = metrics.configurations(model, motion.base_positions, motion.base_orientations, motion.positions)
        feet = metrics.foot_measures(model, q, motion.contacts)
        # Retiming changes only the times: the raw (pre-retime) motion is the same samples at the input rate.
        raw = metrics.speed_and_jerk(motion.positions, np.arange(len(motion.times)) / fps)
        timed = metrics.speed_and_jerk(motion.positions, motion.times)
        rows.append({
            "clip": path.stem,
            "frames": int(len(joints)),
            "mirrored": path.stem.endswith("-M"),
            "walking": any(word in path.stem for word in WALKING_WORDS),
            "acrobatic": any(word in path.stem for word in ACROBATIC_WORDS),
            "gesture": any(word in path.stem for word in GESTURE_WORDS),
            "wrist_error_cm": _mean_of(motion.report["keypoint_error_cm_by_keypoint"], ("left_wrist", "right_wrist")),
            "hands_above_head": hands_above_head(model, q, np.asarray(joints, dtype=np.float64)),
            "keypoint_error_cm_mean": motion.report["keypoint_error_cm"]["mean"],
            "keypoint_error_cm_max": motion.report["keypoint_error_cm"]["max"],
            **feet,
            **motion.report["limits"],
            **{k: v for k, v in self_collision_frames(model, motion, bundle).items()
               if k in ("self_collision_frames", "self_collision_pairs")},
            **metrics.jerk(motion.positions, motion.times),
            "velocity_limited_intervals": motion.report["velocity"]["limited_intervals"],
            "duration_stretch": motion.report["velocity"]["duration_after"] / max(motion.report["velocity"]["duration_before"], 1e-9),
            "raw_speed_p99": raw["speed_p99"], "speed_p99": timed["speed_p99"],
            "raw_jerk_p99": raw["jerk_p99"], "jerk_p99": timed["jerk_p99"],
            "solver_restarts_taken": motion.report["solver"].get("restarts_taken", 0),
            "bad_frames": len(motion.report["bad_frames"]),
            "duration_before": motion.report["velocity"]["duration_before"],
            "duration_after": motion.report["velocity"]["duration_after"],
        })
        if progress:
            progress(index + 1, len(clips), path.stem)
    return summarize(robot, rows, cpu_seconds, frames_total)


def _mean_of(values: dict[str, float], names: tuple[str, ...]) -> float | None:
    present = [values[n] for n in names if n in values]
    return float(np.mean(present)) if present else None


def _weighted(rows, key, weight_key="contact_frames"):
    weights = np.array([r[weight_key] for r in rows], dtype=float)
    values = np.array([r[key] for r in rows], dtype=float)
    return float((weights * values).sum() / weights.sum()) if weights.sum() > 0 else 0.0


def _top_pairs(rows: list[dict], count: int = 15) -> list[dict]:
    """The body pairs that self-collide in the most frames over all clips, with their deepest contact."""
    totals: dict[str, dict] = {}
    for row in rows:
        for key, entry in row.get("self_collision_pairs", {}).items():
            total = totals.setdefault(key, {"pair": key, "frames": 0, "max_depth_cm": 0.0, "clips": 0})
            total["frames"] += entry["frames"]
            total["clips"] += 1
            total["max_depth_cm"] = max(total["max_depth_cm"], entry["max_depth_cm"])
    return sorted(totals.values(), key=lambda t: (-t["frames"], t["pair"]))[:count]


TABLE_COLUMNS = ("clip", "keypoint_error_cm_mean", "keypoint_error_cm_max", "duration_stretch", "raw_speed_p99",
                 "speed_p99", "raw_jerk_p99", "jerk_p99")


def clip_table(rows: list[dict]) -> list[dict]:
    """One short row per clip: mean and max keypoint error (cm), stretch (retimed / input duration), p99
    joint speed (rad/s) and jerk (rad/s^3) before (raw) and after retiming."""
    return [{k: (round(r[k], 3) if isinstance(r[k], float) else r[k]) for k in TABLE_COLUMNS} for r in rows]


def worst_clips(rows: list[dict], key: str, count: int = WORST_COUNT) -> list[dict]:
    return clip_table(sorted(rows, key=lambda r: -r[key])[:count])


def _stretch(rows: list[dict]) -> dict | None:
    if not rows:
        return None
    before = sum(r["duration_before"] for r in rows)
    after = sum(r["duration_after"] for r in rows)
    return {"clips": len(rows), "total": after / max(before, 1e-9), "max": float(max(r["duration_stretch"] for r in rows))}


def summarize(robot: str, rows: list[dict], cpu_seconds: float, frames_total: int) -> dict:
    walking = [r for r in rows if r["walking"]]
    for r in rows:
        r.setdefault("acrobatic", False)
    frames = np.array([r["frames"] for r in rows], dtype=float)
    return {
        "robot": robot,
        "clips": len(rows),
        "mirrored_clips": sum(r["mirrored"] for r in rows),
        "frames": int(frames_total),
        "keypoint_error_cm_mean": float((frames * [r["keypoint_error_cm_mean"] for r in rows]).sum() / frames.sum()),
        "keypoint_error_cm_max": float(max(r["keypoint_error_cm_max"] for r in rows)),
        "foot_sliding_cm_per_contact_frame": _weighted(rows, "foot_sliding_cm_per_contact_frame"),
        "foot_sliding_cm_per_contact_frame_walking": _weighted(walking, "foot_sliding_cm_per_contact_frame") if walking else None,
        "walking_clips": len(walking),
        "foot_sliding_max_cm": float(max(r["foot_sliding_max_cm"] for r in rows)),
        "contact_float_mean_cm": _weighted(rows, "contact_float_mean_cm"),
        "penetration_max_cm": float(max(r["penetration_max_cm"] for r in rows)),
        "penetration_mean_cm": float((frames * [r["penetration_mean_cm"] for r in rows]).sum() / frames.sum()),
        "position_limit_violations": int(sum(r["position_limit_violations"] for r in rows)),
        "velocity_limit_violations": int(sum(r["velocity_limit_violations"] for r in rows)),
        "self_collision_frames": int(sum(r["self_collision_frames"] for r in rows)),
        "self_collision_pairs_top": _top_pairs(rows),
        "jerk_mean_rad_s3": float((frames * [r["jerk_mean"] for r in rows]).sum() / frames.sum()),
        "velocity_limited_clips": int(sum(r["velocity_limited_intervals"] > 0 for r in rows)),
        "mean_duration_stretch": float(np.mean([r["duration_stretch"] for r in rows])),
        "duration_stretch": {"all": _stretch(rows), "acrobatic": _stretch([r for r in rows if r["acrobatic"]]),
                             "other": _stretch([r for r in rows if not r["acrobatic"]])},
        "raw_speed_p99_mean": float(np.mean([r["raw_speed_p99"] for r in rows])),
        "speed_p99_mean": float(np.mean([r["speed_p99"] for r in rows])),
        "raw_jerk_p99_mean": float(np.mean([r["raw_jerk_p99"] for r in rows])),
        "jerk_p99_mean": float(np.mean([r["jerk_p99"] for r in rows])),
        "gestures": _gestures(rows),
        "worst_clips_by_max_error": worst_clips(rows, "keypoint_error_cm_max"),
        "worst_clips_by_stretch": worst_clips(rows, "duration_stretch"),
        "clips_table": clip_table(rows),
        "bad_frames": int(sum(r["bad_frames"] for r in rows)),
        "throughput_fps_one_core": float(frames_total / cpu_seconds) if cpu_seconds > 0 else None,
        "cpu_affinity": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "per_clip": rows,
    }
