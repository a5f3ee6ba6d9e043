"""Retargeting throughput: frames per second of Retargeter.retarget on real mocap, one core.

    taskset -c 0 python benchmarks/retarget_throughput.py --robot g1 [--data data/embedded] [--clips 20]
        [--as-published]

Prints JSON: frames, CPU seconds (process time), wall seconds, frames/s by CPU time and by wall time,
and the affinity the process ran with. Without a dataset folder it uses the DeepMimic walk clip shipped in
pybullet (3 cycles, 22 SMPL joints at 20 fps). Pinocchio and the solver are single-threaded; BLAS threads are limited to one.
``--as-published``: as the ROS node retargets with its default parameters (no retime, within the limits it
publishes under: `trajectory_shaping.published_limits`, keep_time).
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import numpy as np  # noqa: E402

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--robot", default="g1")
    parser.add_argument("--data", default=None, help="dataset folder with new_joints/*.npy")
    parser.add_argument("--clips", type=int, default=20, help="number of clips from the dataset (sorted)")
    parser.add_argument("--repeat", type=int, default=3, help="passes over the clips (the best pass is reported)")
    parser.add_argument("--as-published", action="store_true",
                        help="retarget as the ROS node does (within the limits it publishes under)")
    args = parser.parse_args()

    from retargeting import Retargeter

    if args.data:
        paths = sorted((Path(args.data) / "new_joints").glob("*.npy"))[: args.clips]
        clips = [np.load(p) for p in paths]
    else:
        from motiongpt.data.deepmimic import load_joints
        clips = [load_joints("walk", cycles=3)]
    retargeter, within = Retargeter.from_robot(args.robot), {}
    if args.as_published:
        from motiongpt_node.joint_limits import JointLimits
        from motiongpt_node.motion_pipeline import MotionPipeline, solve_within
        from motiongpt_node.node_config import NodeConfig

        retargeter = MotionPipeline.load_retargeter(args.robot)
        limits = NodeConfig.from_values({}).published_limits(JointLimits.for_robot(args.robot))
        within = solve_within(limits, retargeter.joint_names)
    retargeter.retarget(clips[0][:10], **within)  # warm up
    frames = sum(len(c) for c in clips)
    passes = []
    for _ in range(args.repeat):
        cpu, wall = time.process_time(), time.perf_counter()
        for clip in clips:
            retargeter.retarget(clip, **within)
        passes.append((time.process_time() - cpu, time.perf_counter() - wall))
    cpu_best = min(p[0] for p in passes)
    wall_best = min(p[1] for p in passes)
    print(json.dumps({
        "robot": args.robot, "as_published": args.as_published, "clips": len(clips), "frames": frames, "passes": args.repeat,
        "cpu_seconds_best": round(cpu_best, 3), "wall_seconds_best": round(wall_best, 3),
        "fps_cpu_time": round(frames / cpu_best, 1), "fps_wall": round(frames / wall_best, 1),
        "affinity": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "load_average_1min": round(os.getloadavg()[0], 2),
    }))


if __name__ == "__main__":
    main()
