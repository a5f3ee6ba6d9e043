"""Does "wave" give a wave? Counts generated motions in which the hand, while above the shoulder, swings sideways.

The action classifier of `motiongpt eval lm` cannot tell a wave from a hand held up (both are a wrist above the
shoulder to its descriptors), nor always a raised right hand from a goodbye with both. This script looks at the
motion itself. Waves: for each seed, the wrist's sideways offset from its shoulder in the body's frame (the
shoulder line, horizontal), over the frames where the wrist is above the shoulder, minus its 9-frame moving
average; a wave when that oscillation's standard deviation exceeds
``--threshold`` (2.5 cm: real Bandai Namco waves measure 1.7-19 cm, a hand held up 0-0.4 cm).
One hand: a motion uses the named hand only when that wrist rises above its shoulder while the other wrist stays
more than ``--other-below`` (0.1 m) below its own shoulder throughout (real Bandai Namco raises of the right hand:
the right wrist 0.35 m above its shoulder at the highest, the left 0.49 m below, medians of 417; the other wrist
of none of the 841 one-handed raises and 403 one-handed waves comes within 0.1 m of its shoulder).

    python benchmarks/wave_semantics.py --model models/motiongpt-small --candidates 1 4 8 --seeds 12 [--rerank meaning]
        [--temperatures 1.0 0.8] [--guidances 1 2] [--rephrase none meaning] [--prompts "raise your right hand" ...]
        [--seconds 4]
    python benchmarks/wave_semantics.py --command --prompts "walk forward, then raise your right hand" \
        [--seconds 4.6 | --max-seconds 4.6]     # through MotionGPT.command, as the ROS node; the last step judged
"""
from __future__ import annotations

import argparse
import itertools
import json

import numpy as np

from motiongpt.skeleton import JOINT_INDEX

SIDES = {"right": ("right_wrist", "right_shoulder"), "left": ("left_wrist", "left_shoulder")}


def sideways_oscillation(joints: np.ndarray, side: str = "right", window: int = 9) -> float | None:
    """Std (m) of the wrist's sideways offset about its moving average while raised; None if never raised."""
    wrist, shoulder = (JOINT_INDEX[n] for n in SIDES[side])
    across = joints[:, JOINT_INDEX["right_shoulder"]] - joints[:, JOINT_INDEX["left_shoulder"]]
    across[:, 1] = 0.0
    across /= np.maximum(np.linalg.norm(across, axis=1, keepdims=True), 1e-9)
    offset = joints[:, wrist] - joints[:, shoulder]
    raised = offset[:, 1] > 0.0
    if raised.sum() < 2 * window + 2:
        return None
    lateral = (offset * across).sum(axis=1)[raised]
    trend = np.convolve(lateral, np.ones(window) / window, mode="same")
    return float(np.std((lateral - trend)[window:-window]))


def hand_heights(joints: np.ndarray, side: str = "right") -> tuple[float, float]:
    """Highest height (m) of the named wrist above its shoulder, and of the other wrist above its own."""
    other = "left" if side == "right" else "right"
    wrist, shoulder = (JOINT_INDEX[n] for n in SIDES[side])
    other_wrist, other_shoulder = (JOINT_INDEX[n] for n in SIDES[other])
    return (float((joints[:, wrist, 1] - joints[:, shoulder, 1]).max()),
            float((joints[:, other_wrist, 1] - joints[:, other_shoulder, 1]).max()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/motiongpt-small")
    parser.add_argument("--prompts", nargs="+", default=["wave with the right hand", "a person waves with the right hand"])
    parser.add_argument("--candidates", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--seeds", type=int, default=12)
    parser.add_argument("--temperatures", type=float, nargs="+", default=[None],
                        help="sampling temperatures to compare (default: the model folder's)")
    parser.add_argument("--guidances", type=float, nargs="+", default=[None],
                        help="classifier-free guidance scales to compare, 1 for none (default: the model folder's)")
    parser.add_argument("--threshold", type=float, default=0.025)
    parser.add_argument("--seconds", type=float, default=None,
                        help="length of each motion (s; default: the model decides, as the ROS node does)")
    parser.add_argument("--max-seconds", type=float, default=None,
                        help="with --command: the model chooses each step's length, at most this long (s)")
    parser.add_argument("--command", action="store_true",
                        help="generate through MotionGPT.command, as the ROS node does (prompts may have several "
                             "steps: 'walk forward, then raise your right hand'), and judge the last step's frames")
    parser.add_argument("--other-below", type=float, default=0.1,
                        help="one hand: how far below its shoulder the other wrist must stay (m)")
    parser.add_argument("--backend", default="torch", choices=("torch", "onnxruntime"))
    parser.add_argument("--rerank", default=None, choices=("likelihood", "similarity", "meaning"),
                        help="how the best of several candidates is chosen (default: the model folder's)")
    parser.add_argument("--rephrase", nargs="+", default=[None], choices=("none", "meaning"),
                        help="text_to_motion.rephrase values to compare (default: the model folder's)")
    args = parser.parse_args()
    if args.max_seconds is not None and not args.command:
        parser.error("--max-seconds bounds the steps of MotionGPT.command: give --command too")

    import dataclasses

    from motiongpt.lm import MotionGPT

    model = MotionGPT.from_pretrained(args.model, backend=args.backend)
    if args.rerank:
        model.set_text_to_motion(dataclasses.replace(model.text_to_motion_settings, rerank=args.rerank))
    rows = []
    for prompt in args.prompts:
        side = "left" if "left" in prompt else "right"
        for rephrase, temperature, guidance, candidates in itertools.product(args.rephrase, args.temperatures,
                                                                             args.guidances, args.candidates):
            if rephrase is not None:
                model.set_text_to_motion(dataclasses.replace(model.text_to_motion_settings, rephrase=rephrase))
            if args.command:
                motions = []
                for seed in range(args.seeds):
                    result = model.command(prompt, seconds_per_step=args.seconds,
                                           max_seconds_per_step=args.max_seconds, seed=seed, candidates=candidates,
                                           temperature=temperature, guidance=guidance)
                    _, first, end = result.steps[-1]
                    motions.append(result.joints[first:end])
            else:
                motions = [model.text_to_motion(prompt, seconds=args.seconds, seed=seed, candidates=candidates,
                                                temperature=temperature, guidance=guidance).joints
                           for seed in range(args.seeds)]
            values = [sideways_oscillation(joints, side) for joints in motions]
            waves = sum(v is not None and v > args.threshold for v in values)
            heights = [hand_heights(joints, side) for joints in motions]
            one_hand = sum(named > 0.0 and other < -args.other_below for named, other in heights)
            used = model.text_to_motion_temperature(temperature)
            scale = model.text_to_motion_settings.guidance if guidance is None else guidance
            rows.append({"prompt": prompt, "candidates": candidates, "temperature": used, "guidance": scale,
                         "rerank": model.text_to_motion_settings.rerank,
                         "rephrase": model.text_to_motion_settings.rephrase, "waves": waves, "one_hand": one_hand,
                         "seeds": args.seeds,
                         "oscillation_cm": [None if v is None else round(100 * v, 2) for v in values],
                         "hand_heights_m": [[round(named, 2), round(other, 2)] for named, other in heights]})
            print(f"{prompt!r:42} rephrase {model.text_to_motion_settings.rephrase} temperature {used:g} "
                  f"guidance {scale:g} candidates {candidates}: "
                  f"{waves:2d} / {args.seeds} wave, {one_hand:2d} / {args.seeds} the {side} hand only", flush=True)
    print(json.dumps({"model": args.model, "threshold_m": args.threshold, "other_below_m": args.other_below,
                      "seconds": args.seconds, "max_seconds": args.max_seconds, "command": args.command,
                      "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
