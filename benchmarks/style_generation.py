"""Do generated motions have the style a request says in its own words? Styled val requests, generated and
classified.

For each request of `motiongpt/lm/style_val_requests.yaml` whose (action, style) some training motion has ("normal"
left out, as in `motiongpt eval lm`), ``--seeds`` motions are generated through `MotionGPT.text_to_motion` at the
median length of the action's training motions, and the style classifier of the evaluation (nearest real training
motion of the requested action, `motiongpt.lm.evaluation.StyleClassifier`) names their style; the motion classifier
their action. Compared: the model folder's meaning index as shipped, and the same without its style classifier
(styles read from the words alone, a request naming none left to the nearest caption: stop 33). A val measure of
the test split's style accuracy, for styles said in other words (the val split's captions say them in the
captions' words).

    python benchmarks/style_generation.py --data data/embedded [--model models/motiongpt-small] [--seeds 2]
"""
from __future__ import annotations

import argparse
import collections
import dataclasses
import json

import numpy as np


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/motiongpt-small")
    parser.add_argument("--data", required=True, help="the embedded dataset (motiongpt data build-embedded)")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--backend", default="onnxruntime", choices=("torch", "onnxruntime"))
    args = parser.parse_args()

    from motiongpt.data.humanml3d import load_actions, load_normalizer, load_split, load_styles
    from motiongpt.lm.action_classifier import MotionActionClassifier
    from motiongpt.lm.api import MotionGPT
    from motiongpt.lm.command_meaning import style_val_requests
    from motiongpt.lm.evaluation import StyleClassifier
    from motiongpt.lm.templates import FRAMES_PER_CODE
    from motiongpt.skeleton import FPS

    actions, styles, normalizer = load_actions(args.data), load_styles(args.data), load_normalizer(args.data)
    train = load_split(args.data, "train")
    features = [r.features for r in train]
    labels = [actions[r.clip] for r in train]
    style_classifier = StyleClassifier(features, labels, [styles.get(r.clip) for r in train], normalizer)
    motion_classifier = MotionActionClassifier(features, labels, normalizer)
    pairs = {(actions[r.clip], styles.get(r.clip)) for r in train if styles.get(r.clip)}
    lengths = collections.defaultdict(list)
    for record, action in zip(train, labels):
        lengths[action].append(record.features.shape[0])
    rows = [r for r in style_val_requests() if r["style"] != "normal" and (r["action"], r["style"]) in pairs]
    model = MotionGPT.from_pretrained(args.model, backend=args.backend, threads=1)
    shipped = model.meaning_index
    words_only = dataclasses.replace(shipped, style_names=(), style_weights=None, style_bias=None)
    grid = FRAMES_PER_CODE / FPS
    report = {"requests": len(rows), "seeds": args.seeds}
    for name, index in (("style words only (stop 33)", words_only), ("with the style classifier (shipped)", shipped)):
        model.meaning_index = index
        style_hits, action_hits = [], []
        for row in rows:
            seconds = min(model.max_codes * grid, round(float(np.median(lengths[row["action"]])) / FPS / grid) * grid)
            for seed in range(args.seeds):
                motion = model.text_to_motion(row["text"], seconds=seconds, seed=seed)
                style_hits.append(style_classifier.predict(motion.features, row["action"]) == row["style"])
                action_hits.append(motion_classifier.predict(motion.features) == row["action"])
        report[name] = {"style_accuracy": float(np.mean(style_hits)), "action_accuracy": float(np.mean(action_hits))}
        print(f"{name:38} generated style right {np.mean(style_hits):.3f}, action right {np.mean(action_hits):.3f} "
              f"({len(style_hits)} motions)", flush=True)
    model.meaning_index = shipped
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
