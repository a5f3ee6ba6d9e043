"""Per-clip retargeting table with the MuJoCo check: error, stretch and how well servos track each clip.

    python benchmarks/retarget_clip_table.py --robot g1 --data data/embedded_deepmimic [--match '-x100-'] [--out t.json]
        [--as-published]

One row per clip (mirrored copies skipped): mean and max keypoint error (cm), stretch (retimed / input
duration), foot sliding (cm per contact frame, on the retargeted path), the MuJoCo check's max and mean servo tracking error (rad), the joint that tracks worst, simulated
limit violations, self-collision frames and whether the check passed; then the number of clips that failed it
and the means. Default clips: the original-speed DeepMimic clips (`-x100-`) of the dataset, plus the HumanML3D
sample clip of the tests (first 80 frames: steps, a 150-degree turn, an arm raise). Run it before and after a
change to the retargeter, in one session (shared machines).

``--as-published`` checks what the ROS node publishes instead of the retargeter's own output: the retargeter
without its retime (`velocity_mode="none"`, as motiongpt_node/motion_pipeline.py loads it) solving within the
limits the node publishes under (`trajectory_shaping.published_limits`, as the node passes them with its default
`keep_time`; `--no-keep-time`: within the robot's own velocity limits), then the node's
trajectory shaping with the node's default parameters (velocity scale, acceleration cap, at most
`max_points` points and `max_duration` seconds; motiongpt_node/node_config.py), the robot standing at the
motion's first pose; the base path on the shaped time grid, as the node publishes it. Stretch is then the
published duration (after the 0.1 s move to the first pose) over the input duration.
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
    parser.add_argument("--as-published", action="store_true",
                        help="check the trajectory the ROS node would publish (its shaping, default parameters)")
    parser.add_argument("--no-keep-time", action="store_true",
                        help="with --as-published: the node's keep_time false (retargeted within the robot's own "
                             "velocity limits, then slowed down by the shaping)")
    args = parser.parse_args()

    from retargeting import Retargeter, metrics
    from retargeting.mujoco_check import check_motion

    if args.as_published:  # the retargeter as the node loads it (it retimes once, in its shaping)
        from motiongpt_node.motion_pipeline import MotionPipeline

        retargeter = MotionPipeline.load_retargeter(args.robot)
    else:
        retargeter = Retargeter.from_robot(args.robot)
    publish, limits = node_shaping(args.robot) if args.as_published else (None, None)
    within = {}
    if limits is not None and not args.no_keep_time:
        from motiongpt_node.motion_pipeline import solve_within

        within = solve_within(limits, retargeter.joint_names)
    clips = sorted(p for p in (Path(args.data) / "new_joints").glob("*.npy")
                   if not p.stem.endswith("-M") and re.search(args.match, p.stem))
    rows = []
    started = time.process_time()
    for path in [HUMANML3D_SAMPLE, *clips]:
        joints = np.load(path).astype(np.float64)
        if path == HUMANML3D_SAMPLE:
            joints = joints[:80]
        motion = retargeter.retarget(joints, fps=20.0, source=path.stem, **within)
        velocity, error = motion.report["velocity"], motion.report["keypoint_error_cm"]
        stretch = velocity["duration_after"] / velocity["duration_before"]
        # the feet on the retargeted path (the shaping changes only its timing)
        feet = metrics.foot_measures(retargeter.robot, metrics.configurations(
            retargeter.robot, motion.base_positions, motion.base_orientations, motion.positions), motion.contacts)
        if publish:
            motion, stretch = publish(retargeter.robot, motion)
        check = check_motion(retargeter.robot, motion)
        rows.append({
            "clip": path.stem, "error_cm_mean": round(error["mean"], 1),
            "error_cm_max": round(error["max"], 1),
            "stretch": round(stretch, 3),
            "foot_sliding_cm_per_contact_frame": round(feet["foot_sliding_cm_per_contact_frame"], 4),
            "tracking_rad_max": round(check["tracking_error_rad"]["max"], 2),
            "tracking_rad_mean": round(check["tracking_error_rad"]["mean"], 3),
            "worst_joint": check["worst_tracking_joints"][0]["joint"],
            "simulated_limit_violations": check["simulated_joint_limit_violations"],
            "self_collision_frames": check["self_collision_frames"],
            "passed": check["passed"],
        })
        print(json.dumps(rows[-1]), flush=True)
    means = {k: round(float(np.mean([r[k] for r in rows])), 3) for k in
             ("error_cm_mean", "error_cm_max", "stretch", "foot_sliding_cm_per_contact_frame", "tracking_rad_max",
              "simulated_limit_violations")}
    print(json.dumps({"robot": args.robot, "as_published": args.as_published, "clips": len(rows),
                      "failing_clips": sum(not r["passed"] for r in rows), "means": means,
                      "simulated_limit_violations_total": int(sum(r["simulated_limit_violations"] for r in rows)),
                      "cpu_seconds": round(time.process_time() - started, 1)}))
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1))


def node_shaping(robot_name: str):
    """((robot, RobotMotion) -> (the RobotMotion the node would publish, its stretch), the limits it publishes
    under): the node's limits and shaping with its default parameters."""
    from motiongpt_node.executed_motion import robot_motion_from_trajectory
    from motiongpt_node.joint_limits import JointLimits
    from motiongpt_node.node_config import NodeConfig
    from motiongpt_node.trajectory_shaping import expand_to_robot_joints, shape_trajectory

    defaults = NodeConfig.from_values({})
    limits, config = defaults.capped(JointLimits.for_robot(robot_name)), defaults.shaping()

    def publish(robot, motion):
        # The robot stands at the motion's first pose; the joints the retargeter does not drive (Talos's head and
        # grippers, Romeo's head) at their locked values, held through the motion as the node holds them.
        locked = robot.config.locked_joints
        state = np.array([motion.positions[0, motion.joint_names.index(n)] if n in motion.joint_names
                          else locked.get(n, 0.0) for n in limits.joint_names])
        names, positions = expand_to_robot_joints(tuple(motion.joint_names), motion.positions, limits.joint_names,
                                                  np.clip(state, limits.lower, limits.upper))
        trajectory, report = shape_trajectory(names, motion.times, positions, positions[0], limits, config)
        keep = report.sample_times <= trajectory.duration + 1e-9
        published = robot_motion_from_trajectory(robot, trajectory.joint_names, trajectory.times, trajectory.positions,
                                                 report.sample_times[keep], motion.base_positions[keep],
                                                 motion.base_orientations[keep], source=motion.report["source"])
        played = report.sample_times[keep][-1] - report.sample_times[0]
        return published, played / max(motion.times[keep.sum() - 1] - motion.times[0], 1e-9)

    return publish, defaults.published_limits(JointLimits.for_robot(robot_name))


if __name__ == "__main__":
    main()
