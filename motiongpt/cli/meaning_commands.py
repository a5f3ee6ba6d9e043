"""`motiongpt export meaning-index`: the index that tells what a command means and whether the model knows it."""
from __future__ import annotations

import argparse
import json


def register(groups: dict[str, argparse._SubParsersAction]) -> None:
    index = groups["export"].add_parser(
        "meaning-index", help="index the training captions so that a command's meaning is known before generating",
        description="Embed the training captions of DATA per action with the model's sentence encoder and write "
                    "MODEL/meaning_index.npz. A request counts as out of vocabulary below a similarity threshold "
                    "to the nearest caption, or when it is nearer (by a margin) to a request of "
                    "motiongpt/lm/out_of_vocabulary_phrasings.yaml than to any caption or action request; both "
                    "are chosen together on the val split (its held-out phrasings and the independent val "
                    "phrasings against the val list of motiongpt/lm/out_of_vocabulary_requests.yaml) and "
                    "measured on the test split, beside the similarity rule alone.")
    index.add_argument("--model", required=True, help="MotionGPT model folder (its text conditioning names the encoder)")
    index.add_argument("--data", default="data/embedded", help="dataset the model was trained on (default data/embedded)")
    index.add_argument("--per-action", type=int, default=None, help="keep at most N distinct captions per action")
    index.set_defaults(func=run_export_meaning_index)


def run_export_meaning_index(args: argparse.Namespace) -> int:
    import time
    from pathlib import Path

    from motiongpt.lm.command_meaning import build_meaning_index
    from motiongpt.lm.text_conditioning import CONDITIONING_FILE, TextConditioningConfig, load_sentence_vectors

    started = time.perf_counter()
    folder = Path(args.model)
    import yaml

    from motiongpt.lm.api import MANIFEST_FILE

    lm_folder = folder / str((yaml.safe_load((folder / MANIFEST_FILE).read_text()) or {}).get("language_model", "lm"))
    conditioning = lm_folder / CONDITIONING_FILE
    if not conditioning.is_file():
        raise ValueError(f"{folder}: the language model has no text conditioning ({conditioning} missing): "
                         "there is no sentence encoder to compare meanings with")
    config = TextConditioningConfig.from_dict(json.loads(conditioning.read_text()))
    encoder = load_sentence_vectors(config, base=lm_folder).encoder
    index, report = build_meaning_index(encoder.encode, config.sentence_encoder, args.data, per_action=args.per_action)
    path = index.save(folder)
    report.update({"out": str(path), "bytes": path.stat().st_size, "seconds": round(time.perf_counter() - started, 1)})
    print(json.dumps(report, indent=1))
    return 0
