"""Do speed words change the speed? Generated motions for a request, the same request with "slowly" and with
"quickly", compared by how fast the body moves.

Speed: for locomotion, the root's mean horizontal speed (m/s); for gestures (``--measure wrists``), the mean
speed of both wrists relative to the root (m/s). Each request is generated for ``--seeds`` seeds at the length the
model chooses (as the ROS node does), through ``MotionGPT.command``; the table gives the mean and standard
deviation over seeds, the ratio to the request without a speed word (< 1: slower) and the mean length (s).

    python benchmarks/speed_words.py [--model models/motiongpt-small] [--backend onnxruntime] [--seeds 20]
        [--prompts "walk forward" "walk backwards" "run"] [--measure root|wrists] [--rephrase none meaning]
        [--speed words played] [--words slowly quickly "very slowly" "a bit faster"]
"""
from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import statistics

import numpy as np

from motiongpt.skeleton import FPS, JOINT_INDEX

SPEED_WORDS = ("slowly", "quickly")  # appended to each prompt by default


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
    parser.add_argument("--words", nargs="+", default=list(SPEED_WORDS),
                        help="the speed words appended to each prompt (default: slowly quickly; e.g. 'very slowly' "
                             "'a bit faster')")
    parser.add_argument("--speed", nargs="+", default=[None], choices=("words", "played"),
                        help="how a speed word is honoured: 'words' (left to the model: no speed_factors), 'played' "
                             "(text_to_motion.speed_factors: the folder's, else the data builder's speed factors); "
                             "default: the model folder's")
    args = parser.parse_args()

    from motiongpt.data.bandai_dataset import BandaiSettings
    from motiongpt.lm import MotionGPT
    from motiongpt.lm.text_grounding import GroundingConfigError

    model = MotionGPT.from_pretrained(args.model, backend=args.backend)
    folder = model.text_to_motion_settings
    data_factors = {"slow": BandaiSettings().slow_factor, "fast": BandaiSettings().fast_factor}
    speed_of = root_speed if args.measure == "root" else wrist_speed
    rows = []
    for rephrase, speed, prompt in itertools.product(args.rephrase, args.speed, args.prompts):
        factors = {None: folder.speed_factors, "words": None, "played": folder.speed_factors or data_factors}[speed]
        try:
            model.set_text_to_motion(dataclasses.replace(folder, rephrase=rephrase or folder.rephrase,
                                                         speed_factors=factors))
        except GroundingConfigError as error:
            print(f"skipped rephrase {rephrase}, speed {speed}: {error}", flush=True)
            continue
        used = model.text_to_motion_settings
        honoured = "played" if used.speed_factors else "words"
        plain = None
        for word in ["", *args.words]:
            text = f"{prompt} {word}" if word else prompt
            motions = [model.command(text, seed=seed).joints for seed in range(args.seeds)]
            speeds = [speed_of(joints) for joints in motions]
            mean = statistics.fmean(speeds)
            seconds = statistics.fmean(len(joints) / FPS for joints in motions)
            plain = mean if word == "" else plain
            rows.append({"rephrase": used.rephrase, "speed": honoured, "speed_factors": used.speed_factors,
                         "request": text, "measure": args.measure, "mean_m_s": round(mean, 3),
                         "sd_m_s": round(statistics.stdev(speeds), 3) if len(speeds) > 1 else 0.0,
                         "ratio_to_plain": round(mean / plain, 2) if plain else None,
                         "mean_seconds": round(seconds, 2), "seeds": args.seeds})
            print(f"rephrase {used.rephrase:7} speed {honoured:6} {text!r:32} {args.measure} speed {mean:.2f} +- "
                  f"{rows[-1]['sd_m_s']:.2f} m/s (x{rows[-1]['ratio_to_plain']} of the request without a speed word), "
                  f"{seconds:.1f} s", flush=True)
    print(json.dumps({"model": args.model, "backend": args.backend, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
