"""Is a raised hand the evaluation's classifier calls a wave a wave? Raises and waves of one hand judged two ways.

`motiongpt eval lm` judges a generated motion by its nearest real training motion (`MotionActionClassifier`: mean
and spread over time of the features). Most of its text-to-motion misses are raised hands recognised as waves.
This script generates the motions of the split's one-hand raise and wave captions exactly as the evaluation does
(same captions, lengths and seeds: `motiongpt.lm.evaluation.text_to_motion_items`, `text_to_motion_seconds`,
`text_to_motion_seed`), and judges each by that classifier and by the motion itself (`wave_semantics.py`): the
named wrist raised above its shoulder at some frame, and a wave when, while raised, its sideways swing about its
9-frame moving average has a standard deviation above ``--threshold`` (2.5 cm). The split's real motions of the
same actions are judged the same way, which shows what each judge makes of real raises and waves (the Bandai Namco
feminine takes keep the hand below the shoulder, and the elderly ones wave by under 2.5 cm).

    python benchmarks/raise_or_wave.py --model models/motiongpt-small --split val [--samples-per-caption 2]
        [--backend onnxruntime] [--threads 1] [--data data/embedded]
"""
from __future__ import annotations

import argparse
import collections
import json

import numpy as np

from wave_semantics import sideways_oscillation

ACTIONS = ("raise_up_right_hand", "raise_up_left_hand", "wave_right_hand", "wave_left_hand")


def side_of(action: str) -> str:
    """The hand an action of ``ACTIONS`` names: "left" or "right"."""
    return "left" if action.endswith("left_hand") else "right"


def motion_verdict(joints: np.ndarray, action: str, threshold: float) -> str:
    """"wave", "raise" (raised, no swing) or "not raised", for the hand the action names."""
    swing = sideways_oscillation(joints, side_of(action))
    if swing is None:
        return "not raised"
    return "wave" if swing > threshold else "raise"


def gesture(label: str, action: str) -> str:
    """A classifier's label as "raise" or "wave" of the hand ``action`` names, else "other"."""
    return label.split("_")[0] if label in ACTIONS and side_of(label) == side_of(action) else "other"


def table(rows: list[dict]) -> dict:
    """Per intended action: how many, each judge's verdicts, and the two judges crossed."""
    out = {}
    for action in ACTIONS:
        mine = [r for r in rows if r["action"] == action]
        if not mine:
            continue
        out[action] = {
            "motions": len(mine),
            "classifier": dict(collections.Counter(gesture(r["classifier"], action) for r in mine)),
            "motion": dict(collections.Counter(r["motion"] for r in mine)),
            "classifier_right": round(float(np.mean([r["classifier"] == action for r in mine])), 3),
            "motion_right": round(float(np.mean([r["motion"] == action.split("_")[0] for r in mine])), 3),
            "classifier_wave_by_motion": dict(collections.Counter(
                r["motion"] for r in mine if gesture(r["classifier"], action) == "wave")),
        }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/motiongpt-small")
    parser.add_argument("--data", default="data/embedded")
    parser.add_argument("--split", default="val")
    parser.add_argument("--samples-per-caption", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0, help="the evaluation's base seed (its default: 0)")
    parser.add_argument("--threshold", type=float, default=0.025)
    parser.add_argument("--backend", default="onnxruntime", choices=("torch", "onnxruntime"))
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()

    from motiongpt.data.humanml3d import load_actions, load_normalizer, load_split
    from motiongpt.features import recover_from_ric
    from motiongpt.lm import MotionGPT
    from motiongpt.lm.action_classifier import MotionActionClassifier
    from motiongpt.lm.evaluation import text_to_motion_items, text_to_motion_seconds, text_to_motion_seed

    actions = load_actions(args.data)
    train, split = load_split(args.data, "train"), load_split(args.data, args.split)
    classifier = MotionActionClassifier([r.features for r in train], [actions[r.clip] for r in train],
                                        load_normalizer(args.data))
    model = MotionGPT.from_pretrained(args.model, backend=args.backend, threads=args.threads)
    generated = []
    for index, ((text, action), frames) in enumerate(text_to_motion_items(split, lambda r: actions[r.clip])):
        if action not in ACTIONS:
            continue
        for sample in range(args.samples_per_caption):
            result = model.text_to_motion(text, seconds=text_to_motion_seconds(frames, model.max_codes),
                                          seed=text_to_motion_seed(args.seed, sample, index))
            generated.append({"caption": text, "action": action, "classifier": classifier.predict(result.features),
                              "motion": motion_verdict(result.joints, action, args.threshold)})
    real = [{"clip": r.clip, "action": actions[r.clip], "classifier": classifier.predict(r.features),
             "motion": motion_verdict(np.asarray(recover_from_ric(r.features)), actions[r.clip], args.threshold)}
            for r in split if actions[r.clip] in ACTIONS]
    report = {"model": args.model, "split": args.split, "threshold_m": args.threshold,
              "generated": table(generated), "real": table(real)}
    for kind in ("generated", "real"):
        for action, row in report[kind].items():
            print(f"{kind:9} {action:20} n {row['motions']:3d}  classifier right {row['classifier_right']:.3f} "
                  f"{row['classifier']}  motion right {row['motion_right']:.3f} {row['motion']}  "
                  f"called waves by the classifier, by the motion: {row['classifier_wave_by_motion']}")
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
