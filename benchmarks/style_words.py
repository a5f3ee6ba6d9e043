"""Is a style said in other words read, and is a plain request kept plain? Text only.

For each request of the styled val set (`motiongpt/lm/style_val_requests.yaml`: one action in one style, said the
way its writer would say it) and of the plain val set (`motiongpt/lm/plain_val_requests.yaml`: one action, no
style), the style read from its words and the training caption it is rephrased as (`MeaningIndex.rephrase`), by
each reader in turn: the captions' own style phrases; and those of ``style_phrasings.yaml``
(`motiongpt.lm.command_meaning.requested_style`); and the index's style classifier over the sentence vector
(`MeaningIndex.styles_of`, what the model does: a request it reads as naming no style is rephrased as a caption
naming none; with the words alone, a request naming no style is left to the nearest caption, whatever its style).

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
from motiongpt.lm.command_meaning import (NO_STYLE, action_vectors, plain_val_requests, requested_style,
                                          style_rates, style_val_requests)


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
    rows, plain = style_val_requests(), plain_val_requests()
    texts = [row["text"] for row in rows]
    vectors, plain_vectors = (np.asarray(encoder.encode(t), dtype=np.float32) for t in (texts, plain))
    action_query = action_vectors(encoder.encode, texts, vectors, index)  # read as the model reads it
    actions = [index.actions[int(k)] for k in index.action_ids_of(texts, vectors, action_query)]
    trained_pairs = {(index.actions[int(a)], named_style(c)) for a, c in zip(index.action_ids, index.captions)}
    gradable = [act == row["action"] and (row["action"], row["style"]) in trained_pairs
                for row, act in zip(rows, actions)]
    print(f"{len(rows)} styled requests, {len({r['style'] for r in rows})} styles; action read right "
          f"{sum(a == r['action'] for a, r in zip(actions, rows)) / len(rows):.3f}; {sum(gradable)} with the action "
          f"read right and a training caption of that action in that style; {len(plain)} plain requests")
    readers = {"captions' style phrases": lambda t, v: [named_style(x) for x in t],
               "and style_phrasings.yaml": lambda t, v: [requested_style(x) for x in t],
               "and the style classifier (shipped)": index.styles_of}
    report = {}
    for name, reader in readers.items():
        read, read_plain = reader(texts, vectors), reader(plain, plain_vectors)
        rates = style_rates(index, rows, read, plain, plain_vectors, read_plain)
        styles = dict(zip(texts, read))
        carried = [named_style(c) for c in index.rephrase(texts, vectors, styles.__getitem__, action_query)]
        per_style = collections.defaultdict(lambda: [0, 0])
        for row, ok, style in zip(rows, gradable, carried):
            if ok:
                per_style[row["style"]][0] += style == row["style"]
                per_style[row["style"]][1] += 1
        carries = sum(k for k, _ in per_style.values()) / max(1, sum(gradable))
        report[name] = {**rates, "caption_carries_style": carries,
                        "per_style": {s: f"{k}/{n}" for s, (k, n) in sorted(per_style.items())}}
        print(f"{name}:\n    styled: read right {rates['read_right']:.3f}, wrong {rates['read_wrong']:.3f}, rephrased "
              f"caption carries the style {carries:.3f}; plain: given a style {rates['plain_given_a_style']:.3f}, "
              f"rephrased as a styled caption {rates['plain_rephrased_with_a_style']:.3f}")
        print("    " + ", ".join(f"{s} {v}" for s, v in report[name]["per_style"].items()))
        if args.verbose:
            for row, r in zip(rows, read):
                if r != row["style"]:
                    print(f"      {row['style']:14} read {r!s:14} {row['text']!r}")
            for text, r in zip(plain, read_plain):
                if r not in (None, NO_STYLE):
                    print(f"      plain, read {r!s:14} {text!r}")
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
