"""Frames the IK holds still: every joint and the base exactly as in the previous frame while the targets move on
and a keypoint is far from its target (a stalled solve, or one converged with its joints at the bounds of their
per-frame box: trace a frame to tell).

    python benchmarks/held_frames.py --robot g1 --data data/embedded [--match RE] [--far-cm 10] [--moved-cm 1]

Runs the retargeter's per-frame solve (`Retargeter.solve_frames` on `Retargeter.task_targets`, before smoothing and
timing, which would hide a held frame) on each clip of the dataset (mirrored copies skipped) and counts the frames
whose configuration equals the previous frame's while some target moved more than ``--moved-cm`` since that frame
and the worst keypoint is more than ``--far-cm`` off. Prints one JSON line per clip with held frames, then the
totals. Run it before and after a change to the solver, in one session.
"""
from __future__ import annotations

import argparse
import json
import re

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--robot", default="g1")
    parser.add_argument("--data", default="data/embedded", help="dataset folder with new_joints/*.npy")
    parser.add_argument("--match", default=None, help="regular expression on clip names (default: every clip)")
    parser.add_argument("--far-cm", type=float, default=10.0, help="a held frame's worst keypoint error, at least")
    parser.add_argument("--moved-cm", type=float, default=1.0, help="how far some target moved since the last frame")
    args = parser.parse_args()

    from motiongpt.skeleton import FPS
    from retargeting import Retargeter
    from retargeting.evaluation import dataset_clips

    retargeter = Retargeter.from_robot(args.robot)
    robot = retargeter.robot
    keypoints = len(robot.keypoint_frame_ids)
    clips = [c for c in dataset_clips(args.data) if not c.stem.endswith("-M")]
    if args.match:
        clips = [c for c in clips if re.search(args.match, c.stem)]
    held_total = frames_total = clips_with_held = 0
    for path in clips:
        targets = retargeter.task_targets(np.load(path), FPS, path.stem)
        qs, _ = retargeter.solve_frames(targets, FPS)
        unchanged = np.all(qs[1:] == qs[:-1], axis=1)
        moved = np.abs(np.diff(targets.positions, axis=0)).max(axis=(1, 2)) > args.moved_cm / 100.0
        worst = np.array([np.linalg.norm(robot.keypoint_positions(q) - targets.positions[t, :keypoints], axis=1).max()
                          for t, q in enumerate(qs)])
        held = unchanged & moved & (worst[1:] > args.far_cm / 100.0)
        frames_total += len(qs)
        if held.any():
            held_total += int(held.sum())
            clips_with_held += 1
            print(json.dumps({"clip": path.stem, "held_frames": int(held.sum()),
                              "first": int(np.flatnonzero(held)[0] + 1)}), flush=True)
    print(json.dumps({"robot": args.robot, "clips": len(clips), "frames": frames_total, "held_frames": held_total,
                      "clips_with_held_frames": clips_with_held}))


if __name__ == "__main__":
    main()
