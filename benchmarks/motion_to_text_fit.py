"""How well a model describes the motions it was trained on: motion-to-text action accuracy on every DeepMimic
training motion and on a seeded draw of Bandai Namco training motions.

`motiongpt eval lm` measures motion-to-text on held-out motions; when a model describes even its training motions
wrongly (DeepMimic walks called runs), more training on that subtask may help, which the val split (already at 0.975)
cannot show. Each motion is described by `MotionGPT.motion_to_text` (greedy, as the evaluation) and its caption
judged by the evaluation's caption classifier (`motiongpt.lm.action_classifier.CaptionActionClassifier` over the
training captions). Prints one JSON line per model: accuracy and count per source, and DeepMimic walks and runs right.

    python benchmarks/motion_to_text_fit.py MODEL [MODEL ...] [--data data/embedded] [--bandai 400] [--seed 0]
        [--backend onnxruntime] [--threads 1]
"""
from __future__ import annotations

import argparse
import collections
import json
import random


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="MotionGPT model folders")
    parser.add_argument("--data", default="data/embedded")
    parser.add_argument("--bandai", type=int, default=400, help="Bandai Namco training motions drawn (seeded)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backend", default="onnxruntime", choices=("torch", "onnxruntime"))
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import torch

    from motiongpt.data.humanml3d import load_actions, load_split
    from motiongpt.lm.action_classifier import CaptionActionClassifier
    from motiongpt.lm.api import MotionGPT

    torch.set_num_threads(args.threads)
    actions = load_actions(args.data)
    train = load_split(args.data, "train")
    judge = CaptionActionClassifier([c.text for r in train for c in r.captions],
                                    [actions[r.clip] for r in train for c in r.captions])
    deepmimic = [r for r in train if not r.clip.startswith("bn")]
    bandai = [r for r in train if r.clip.startswith("bn")]
    random.Random(args.seed).shuffle(bandai)
    sources = {"deepmimic": deepmimic, "bandai": bandai[:args.bandai]}
    for folder in args.models:
        model = MotionGPT.from_pretrained(folder, backend=args.backend, threads=args.threads)
        row: dict = {"model": folder}
        for name, records in sources.items():
            captions = model.motion_to_text([r.features for r in records])
            hits = [judge.predict(c) == actions[r.clip] for r, c in zip(records, captions)]
            row[name] = {"accuracy": round(sum(hits) / len(hits), 3), "motions": len(hits)}
            if name == "deepmimic":
                per_action = collections.defaultdict(list)
                for record, hit in zip(records, hits):
                    per_action[actions[record.clip]].append(hit)
                row[name].update({f"{a}_right": f"{sum(per_action[a])}/{len(per_action[a])}" for a in ("walk", "run")})
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
