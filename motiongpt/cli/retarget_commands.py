"""`motiongpt retarget MOTION.npy --robot g1 --out OUT` and `motiongpt eval retarget --robot g1`."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def register(groups: dict[str, argparse._SubParsersAction]) -> None:
    retarget = groups["top"].add_parser(
        "retarget", help="retarget a human motion (T,22,3 joints, Y up) onto a robot URDF",
        description="Retarget SMPL 22-joint human motion onto a humanoid robot (Pinocchio IK within joint position "
                    "and velocity limits, feet planted from detected contacts). Writes OUT/robot_motion.npz "
                    "(format: retargeting/README.md), OUT/report.json and an animation OUT/robot.gif.")
    retarget.add_argument("motion", help="human motion .npy, (T,22,3) joint positions, Y up, metres")
    retarget.add_argument("--robot", default="g1", help="shipped robot name (g1, talos, romeo) or a robot YAML path")
    retarget.add_argument("--out", required=True, help="output folder")
    retarget.add_argument("--fps", type=float, default=20.0, help="frame rate of the input motion (default 20)")
    retarget.add_argument("--start", default=None, help="optional .npy (J,) of the robot's current joint positions "
                          "in the order of the robot's joint names; the motion blends in from there")
    retarget.add_argument("--blend-seconds", type=float, default=1.0, help="minimum blend time from --start (s)")
    retarget.add_argument("--velocity-mode", choices=("retime", "clip"), default="retime",
                          help="how joint velocity limits are enforced: slow the timing (default) or clip the steps")
    retarget.add_argument("--render", choices=("auto", "mujoco", "frames", "none"), default="auto",
                          help="animation backend: MuJoCo offscreen if it works (auto), the robot's frames drawn with "
                               "matplotlib, or none")
    retarget.add_argument("--render-fps", type=float, default=10.0, help="animation frame rate (default 10)")
    retarget.add_argument("--check", action="store_true", help="also run the MuJoCo physics check (OUT/mujoco_check.json); exit 1 when it fails (a servo more than 0.15 rad behind, a simulated limit violation)")
    retarget.set_defaults(func=run_retarget)

    evaluate = groups["eval"].add_parser(
        "retarget", help="retarget every clip of a dataset and print quality and speed as JSON",
        description="Retarget all clips in DATA/new_joints (mirrored ones included) and print JSON: keypoint error, "
                    "foot sliding and penetration, limit violations, self-collision frames, jerk, throughput.")
    evaluate.add_argument("--robot", default="g1", help="robot name or YAML path (default g1)")
    evaluate.add_argument("--data", default="data/embedded", help="dataset folder with new_joints/ (default data/embedded)")
    evaluate.add_argument("--limit", type=int, default=None, help="only the first N clips (sorted by name)")
    evaluate.add_argument("--match", default=None, help="only clips whose name matches this regular expression "
                          "(e.g. 'bn2-(wave|raise).*-00[12]-x100-p1of1$': Bandai gestures, two takes each, no copies)")
    evaluate.add_argument("--per-clip", action="store_true", help="include one row per clip in the JSON")
    evaluate.add_argument("--one-core", action="store_true", help="pin this process to one CPU core (sched_setaffinity)")
    evaluate.add_argument("--out", default=None, help="also write the JSON to this file")
    evaluate.set_defaults(func=run_eval)


def run_retarget(args: argparse.Namespace) -> int:
    # MuJoCo picks its OpenGL backend when first imported: offscreen EGL unless the user chose one.
    os.environ.setdefault("MUJOCO_GL", "egl")
    import numpy as np

    from retargeting import RetargetError, Retargeter, RetargetSettings

    motion_path = Path(args.motion)
    if not motion_path.is_file():
        raise RetargetError(f"{motion_path}: motion file not found")
    try:
        joints = np.load(motion_path, allow_pickle=False)
    except Exception as error:
        raise RetargetError(f"{motion_path}: not a readable .npy file: {error}") from error
    settings = RetargetSettings(velocity_mode=args.velocity_mode, blend_seconds=args.blend_seconds)
    retargeter = Retargeter.from_robot(args.robot, settings)
    start = None
    if args.start:
        try:
            start = np.load(args.start, allow_pickle=False)
        except Exception as error:
            raise RetargetError(f"{args.start}: not a readable .npy file: {error}") from error
    motion = retargeter.retarget(joints, fps=args.fps, start_positions=start, source=str(motion_path))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    saved = motion.save(out / "robot_motion.npz")
    report = dict(motion.report)
    if args.check:
        from retargeting.mujoco_check import check_motion

        check = check_motion(retargeter.robot, motion)
        (out / "mujoco_check.json").write_text(json.dumps(check, indent=2))
        report["mujoco_check"] = check
    if args.render != "none":
        from retargeting.render import render_robot_motion

        path, backend = render_robot_motion(retargeter.robot, motion, out / "robot.gif", fps=args.render_fps,
                                            backend=args.render)
        report["animation"] = {"path": str(path), "backend": backend}
    (out / "report.json").write_text(json.dumps(report, indent=2))
    summary = {k: report[k] for k in ("robot", "input_frames", "keypoint_error_cm", "limits", "velocity", "bad_frames")}
    print(json.dumps(summary))
    print(f"wrote {saved} ({motion.num_frames} samples, {motion.times[-1]:.2f} s) and {out / 'report.json'}")
    if args.check and not report["mujoco_check"]["passed"]:
        print("MuJoCo check failed: " + "; ".join(report["mujoco_check"]["failures"]), file=sys.stderr)
        return 1
    return 0


def run_eval(args: argparse.Namespace) -> int:
    if args.one_core and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    from retargeting.evaluation import evaluate_robot

    def progress(done: int, total: int, name: str) -> None:
        print(f"\r[{done}/{total}] {name}", end="", file=sys.stderr, flush=True)

    result = evaluate_robot(args.robot, args.data, limit=args.limit, progress=progress, match=args.match)
    print(file=sys.stderr)
    if not args.per_clip:
        result.pop("per_clip")
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    return 0
