"""Per-clip retargeting table with the MuJoCo check: error, stretch and how well servos track each clip.

    python benchmarks/retarget_clip_table.py --robot g1 --data data/embedded_deepmimic [--match '-x100-'] [--out t.json]

One row per clip (mirrored copies skipped): mean and max keypoint error (cm), stretch (retimed / input
duration), the MuJoCo check's max and mean servo tracking error (rad), the joint that tracks worst, simulated
limit violations, self-collision frames and whether the check passed; then the number of clips that failed it
and the means. Default clips: the original-speed DeepMimic clips (`-x100-`) of the dataset, plus the HumanML3D
sample clip of the tests (first 80 frames: steps, a 150-degree turn, an arm raise). Run it before and after a
change to the retargeter, in one session (shared machines).
"""
from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

import numpy as np

HUMANML3D_SAMPLE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "humanml3d" / "012314_new_joints.npy"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--robot", default="g1")
    parser.add_argument("--data", default="data/embedded_deepmimic", help="dataset folder with new_joints/*.npy")
    parser.add_argument("--match", default="-x100-", help="regular expression on clip names (default: original speed)")
    parser.add_argument("--out", default=None, help="also write the rows as JSON here")
    args = parser.parse_args()

    from retargeting import Retargeter
    from retargeting.mujoco_check import check_motion

    retargeter = Retargeter.from_robot(args.robot)
    clips = sorted(p for p in (Path(args.data) / "new_joints").glob("*.npy")
                   if not p.stem.endswith("-M") and re.search(args.match, p.stem))
    rows = []
    started = time.process_time()
    for path in [HUMANML3D_SAMPLE, *clips]:
        joints = np.load(path).astype(np.float64)
        if path == HUMANML3D_SAMPLE:
            joints = joints[:80]
        motion = retargeter.retarget(joints, fps=20.0, source=path.stem)
        check = check_motion(retargeter.robot, motion)
        velocity = motion.report["velocity"]
        rows.append({
            "clip": path.stem, "error_cm_mean": round(motion.report["keypoint_error_cm"]["mean"], 1),
            "error_cm_max": round(motion.report["keypoint_error_cm"]["max"], 1),
            "stretch": round(velocity["duration_after"] / velocity["duration_before"], 3),
            "tracking_rad_max": round(check["tracking_error_rad"]["max"], 2),
            "tracking_rad_mean": round(check["tracking_error_rad"]["mean"], 3),
            "worst_joint": check["worst_tracking_joints"][0]["joint"],
            "simulated_limit_violations": check["simulated_joint_limit_violations"],
            "self_collision_frames": check["self_collision_frames"],
            "passed": check["passed"],
        })
        print(json.dumps(rows[-1]), flush=True)
    means = {k: round(float(np.mean([r[k] for r in rows])), 3) for k in
             ("error_cm_mean", "error_cm_max", "stretch", "tracking_rad_max", "simulated_limit_violations")}
    print(json.dumps({"robot": args.robot, "clips": len(rows), "failing_clips": sum(not r["passed"] for r in rows),
                      "means": means,
                      "simulated_limit_violations_total": int(sum(r["simulated_limit_violations"] for r in rows)),
                      "cpu_seconds": round(time.process_time() - started, 1)}))
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
