"""`motiongpt eval retarget`: retarget every clip of a dataset folder (``new_joints/*.npy``, mirrored
clips included) and aggregate quality and speed into one JSON-ready dict.

Throughput is frames per second of process CPU time of ``Retargeter.retarget`` (single-threaded
Pinocchio + numpy; run under ``taskset -c 0`` to pin it to one core).
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from retargeting import metrics
from retargeting.errors import RetargetError
from retargeting.mujoco_check import build_model, self_collision_frames
from retargeting.retargeter import Retargeter, RetargetSettings

WALKING_WORDS = ("walk",)


def dataset_clips(data_dir: str | Path) -> list[Path]:
    folder = Path(data_dir) / "new_joints"
    if not folder.is_dir():
        raise RetargetError(f"{data_dir}: no new_joints/ folder (build one with `motiongpt data build-embedded --out DIR`)")
    clips = sorted(folder.glob("*.npy"))
    if not clips:
        raise RetargetError(f"{folder}: no .npy clips")
    return clips


def evaluate_robot(robot: str, data_dir: str | Path, limit: int | None = None, fps: float = 20.0,
                   settings: RetargetSettings = RetargetSettings(), progress=None) -> dict:
    retargeter = Retargeter.from_robot(robot, settings)
    model = retargeter.robot
    bundle = build_model(model)
    clips = dataset_clips(data_dir)
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
        rows.append({
            "clip": path.stem,
            "frames": int(len(joints)),
            "mirrored": path.stem.endswith("-M"),
            "walking": any(word in path.stem for word in WALKING_WORDS),
            "keypoint_error_cm_mean": motion.report["keypoint_error_cm"]["mean"],
            "keypoint_error_cm_max": motion.report["keypoint_error_cm"]["max"],
            **feet,
            **motion.report["limits"],
            **{k: v for k, v in self_collision_frames(model, motion, bundle).items()
               if k in ("self_collision_frames", "self_collision_pairs")},
            **metrics.jerk(motion.positions, motion.times),
            "velocity_limited_intervals": motion.report["velocity"]["limited_intervals"],
            "duration_stretch": motion.report["velocity"]["duration_after"] / max(motion.report["velocity"]["duration_before"], 1e-9),
            "bad_frames": len(motion.report["bad_frames"]),
        })
        if progress:
            progress(index + 1, len(clips), path.stem)
    return summarize(robot, rows, cpu_seconds, frames_total)


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


def summarize(robot: str, rows: list[dict], cpu_seconds: float, frames_total: int) -> dict:
    walking = [r for r in rows if r["walking"]]
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
        "bad_frames": int(sum(r["bad_frames"] for r in rows)),
        "throughput_fps_one_core": float(frames_total / cpu_seconds) if cpu_seconds > 0 else None,
        "cpu_affinity": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "per_clip": rows,
    }
