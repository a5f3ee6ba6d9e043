"""How high a human's hips stand per unit of leg: the measurement behind `retargeting.targets.STANDING_PER_LEG`.

    python benchmarks/standing_height_ratio.py --data data/embedded [--straight-deg 172]

For every clip of a dataset folder (``new_joints/*.npy``, Y up; mirrored copies skipped), on the frames where
both knees are straighter than ``--straight-deg``: the hip centre's height above the clip's ground (the
retargeter's own ground, `retargeting.contacts`) over the median hip-knee-ankle bone length. Prints the median
per clip source (Bandai Namco sessions 1 and 2; the rest, DeepMimic in the embedded set) and over all clips
with such frames.
`retargeting.targets.STANDING_PER_LEG` (1.06) says why the retargeter uses a little less than this value.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from motiongpt.skeleton import FPS, JOINT_INDEX
from retargeting.contacts import ContactSettings, detect_contacts
from retargeting.human_motion import FrameChecks, clean_motion


def knee_angles(joints: np.ndarray, side: str) -> np.ndarray:
    J = JOINT_INDEX
    thigh = joints[:, J[f"{side}_hip"]] - joints[:, J[f"{side}_knee"]]
    shin = joints[:, J[f"{side}_ankle"]] - joints[:, J[f"{side}_knee"]]
    cos = np.einsum("ti,ti->t", thigh, shin) / (np.linalg.norm(thigh, axis=1) * np.linalg.norm(shin, axis=1))
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def leg_length(joints: np.ndarray) -> float:
    J = JOINT_INDEX
    lengths = [np.linalg.norm(joints[:, J[f"{s}_hip"]] - joints[:, J[f"{s}_knee"]], axis=1)
               + np.linalg.norm(joints[:, J[f"{s}_knee"]] - joints[:, J[f"{s}_ankle"]], axis=1)
               for s in ("left", "right")]
    return float(np.median(np.concatenate(lengths)))


def source_of(name: str) -> str:
    if name.startswith("bn1-"):
        return "bandai session 1"
    if name.startswith("bn2-"):
        return "bandai session 2"
    return "other (deepmimic)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="data/embedded", help="dataset folder with new_joints/*.npy")
    parser.add_argument("--straight-deg", type=float, default=172.0, help="a knee straighter than this is straight")
    args = parser.parse_args()
    J = JOINT_INDEX
    ratios: dict[str, list[float]] = {}
    for path in sorted(Path(args.data, "new_joints").glob("*.npy")):
        if path.stem.endswith("-M"):
            continue
        joints = clean_motion(np.load(path), path.stem, FrameChecks()).joints  # Z up
        straight = ((knee_angles(joints, "left") > args.straight_deg)
                    & (knee_angles(joints, "right") > args.straight_deg))
        if straight.sum() < 3:
            continue
        ground = detect_contacts(joints, FPS, ContactSettings()).ground_height
        hips = 0.5 * (joints[straight, J["left_hip"], 2] + joints[straight, J["right_hip"], 2]) - ground
        ratios.setdefault(source_of(path.stem), []).append(float(np.median(hips)) / leg_length(joints))
    if not ratios:
        raise SystemExit(f"{args.data}: no clip has frames with both knees straighter than {args.straight_deg} degrees")
    print(f"hip height over leg bone length, frames with both knees straighter than {args.straight_deg:g} degrees")
    for source, values in sorted(ratios.items()):
        low, median, high = np.percentile(values, [10, 50, 90])
        print(f"  {source:18s} clips {len(values):5d}  median {median:.3f}  (10-90%: {low:.3f}-{high:.3f})")
    every = np.concatenate([np.asarray(v) for v in ratios.values()])
    print(f"  {'all':18s} clips {len(every):5d}  median {np.median(every):.3f}")


if __name__ == "__main__":
    main()
