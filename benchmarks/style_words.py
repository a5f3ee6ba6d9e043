"""Is a style said in other words read? Text only: for each request of the styled val set
(`motiongpt/lm/style_val_requests.yaml`: one action in one style, said the way its writer would say it), the style
read from its words and the training caption it is rephrased as (`MeaningIndex.rephrase`), with the captions' own
style phrases alone and with ``style_phrasings.yaml`` too (`motiongpt.lm.command_meaning.requested_style`, what
the model does).

"caption carries the style" counts only requests whose action is read right and whose (action, style) pair some
training caption has: the others cannot be rephrased into that style by any reading.

    python benchmarks/style_words.py [--model models/motiongpt-small] [--verbose]
"""
from __future__ import annotations

import argparse
import collections
import json

import numpy as np

from motiongpt.data.bandai_dataset import named_style
from motiongpt.lm.command_meaning import requested_style, style_val_requests

READERS = {"captions' style phrases": named_style, "and style_phrasings.yaml (shipped)": requested_style}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/motiongpt-small")
    parser.add_argument("--verbose", action="store_true", help="print each request whose style is not read")
    args = parser.parse_args()

    from pathlib import Path

    from motiongpt.lm.command_meaning import MeaningIndex
    from motiongpt.lm.sentence_encoder import SentenceEncoder, resolve_encoder_folder

    index = MeaningIndex.load(args.model)
    if index is None:
        parser.error(f"{args.model} has no meaning index (motiongpt export meaning-index)")
    encoder = SentenceEncoder(resolve_encoder_folder(index.encoder, base=Path(args.model)))
    rows = style_val_requests()
    texts = [row["text"] for row in rows]
    vectors = np.asarray(encoder.encode(texts), dtype=np.float32)
    actions = [index.actions[int(k)] for k in index.action_ids_of(texts, vectors)]
    trained_pairs = {(index.actions[int(a)], named_style(c)) for a, c in zip(index.action_ids, index.captions)}
    gradable = [act == row["action"] and (row["action"], row["style"]) in trained_pairs
                for row, act in zip(rows, actions)]
    print(f"{len(rows)} requests, {len({r['style'] for r in rows})} styles; action read right "
          f"{sum(a == r['action'] for a, r in zip(actions, rows)) / len(rows):.3f}; {sum(gradable)} with the action "
          "read right and a training caption of that action in that style")
    report = {}
    for name, style_of in READERS.items():
        read = [style_of(t) for t in texts]
        carried = [named_style(c) for c in index.rephrase(texts, vectors, style_of=style_of)]
        per_style = collections.defaultdict(lambda: [0, 0])
        for row, ok, style in zip(rows, gradable, carried):
            if ok:
                per_style[row["style"]][0] += style == row["style"]
                per_style[row["style"]][1] += 1
        right = sum(r == row["style"] for r, row in zip(read, rows))
        wrong = sum(r not in (None, row["style"]) for r, row in zip(read, rows))
        carries = sum(c == row["style"] for c, row, ok in zip(carried, rows, gradable) if ok)
        report[name] = {"style_read_right": right / len(rows), "style_read_wrong": wrong / len(rows),
                        "caption_carries_style": carries / max(1, sum(gradable)),
                        "per_style": {s: f"{k}/{n}" for s, (k, n) in sorted(per_style.items())}}
        print(f"{name:36} style read right {right / len(rows):.3f}, wrong {wrong / len(rows):.3f}; "
              f"rephrased caption carries the style {carries}/{sum(gradable)} = {carries / max(1, sum(gradable)):.3f}")
        print("    " + ", ".join(f"{s} {v}" for s, v in report[name]["per_style"].items()))
        if args.verbose:
            for row, r in zip(rows, read):
                if r != row["style"]:
                    print(f"      {row['style']:14} read {r!s:14} {row['text']!r}")
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
