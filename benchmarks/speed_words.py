"""Do speed words change the speed? Generated motions for a request, the same request with "slowly" and with
"quickly", compared by how fast the body moves.

Speed: for locomotion, the root's mean horizontal speed (m/s); for gestures (``--measure wrists``), the mean
speed of both wrists relative to the root (m/s). Each request is generated for ``--seeds`` seeds at the length the
model chooses (as the ROS node does), through ``MotionGPT.command``; the table gives the mean and standard
deviation over seeds and the ratio to the request without a speed word (< 1: slower).

    python benchmarks/speed_words.py [--model models/motiongpt-small] [--backend onnxruntime] [--seeds 20]
        [--prompts "walk forward" "walk backwards" "run"] [--measure root|wrists] [--rephrase none meaning]
"""
from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import statistics

import numpy as np

from motiongpt.skeleton import FPS, JOINT_INDEX

SPEEDS = ("", " slowly", " quickly")


def root_speed(joints: np.ndarray) -> float:
    """Mean horizontal speed of the root (m/s)."""
    step = np.diff(joints[:, 0, [0, 2]], axis=0)
    return float(np.linalg.norm(step, axis=1).mean() * FPS)


def wrist_speed(joints: np.ndarray) -> float:
    """Mean speed of both wrists relative to the root (m/s)."""
    wrists = joints[:, [JOINT_INDEX["left_wrist"], JOINT_INDEX["right_wrist"]]] - joints[:, :1]
    return float(np.linalg.norm(np.diff(wrists, axis=0), axis=2).mean() * FPS)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/motiongpt-small")
    parser.add_argument("--backend", default="torch", choices=("torch", "onnxruntime"))
    parser.add_argument("--prompts", nargs="+", default=["walk forward", "walk backwards", "run"])
    parser.add_argument("--measure", default="root", choices=("root", "wrists"))
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--rephrase", nargs="+", default=[None], choices=("none", "meaning"),
                        help="text_to_motion.rephrase values to compare (default: the model folder's)")
    args = parser.parse_args()

    from motiongpt.lm import MotionGPT

    model = MotionGPT.from_pretrained(args.model, backend=args.backend)
    speed_of = root_speed if args.measure == "root" else wrist_speed
    rows = []
    for rephrase, prompt in itertools.product(args.rephrase, args.prompts):
        if rephrase is not None:
            model.set_text_to_motion(dataclasses.replace(model.text_to_motion_settings, rephrase=rephrase))
        used = model.text_to_motion_settings.rephrase
        plain = None
        for word in SPEEDS:
            text = prompt + word
            speeds = [speed_of(model.command(text, seed=seed).joints) for seed in range(args.seeds)]
            mean = statistics.fmean(speeds)
            plain = mean if word == "" else plain
            rows.append({"rephrase": used, "request": text, "measure": args.measure, "mean_m_s": round(mean, 3),
                         "sd_m_s": round(statistics.stdev(speeds), 3) if len(speeds) > 1 else 0.0,
                         "ratio_to_plain": round(mean / plain, 2) if plain else None, "seeds": args.seeds})
            print(f"rephrase {used:7} {text!r:32} {args.measure} speed {mean:.2f} +- {rows[-1]['sd_m_s']:.2f} m/s "
                  f"(x{rows[-1]['ratio_to_plain']} of the request without a speed word)", flush=True)
    print(json.dumps({"model": args.model, "backend": args.backend, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
