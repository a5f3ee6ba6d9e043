"""`motiongpt export checkpoint`: a model folder from one checkpoint of a language-model training run."""
from __future__ import annotations

import argparse
import json


def register(groups: dict[str, argparse._SubParsersAction]) -> None:
    folder = groups["export"].add_parser(
        "checkpoint", help="make a model folder from a language-model training checkpoint",
        description="Write OUT: the model folder BASE with the language-model weights of CHECKPOINT (a step_*.pt "
                    "of a `motiongpt train lm` run's checkpoints/), everything else (motion tokenizer, text "
                    "tokenizer, meaning index, text-to-motion settings) from BASE, and OUT/checkpoint.yaml naming "
                    "both; with --onnx also OUT/onnx (as `motiongpt export onnx --check`). For evaluating a run's "
                    "checkpoints on val before choosing one.")
    folder.add_argument("--checkpoint", required=True, help="a step_*.pt of the run's checkpoints/ folder")
    folder.add_argument("--base", required=True,
                        help="model folder of the same architecture and vocabulary (the run's init, or its model/)")
    folder.add_argument("--out", required=True, help="new model folder (must not exist)")
    folder.add_argument("--onnx", action="store_true", help="also export and check the ONNX graphs into OUT/onnx")
    folder.set_defaults(func=run_export_checkpoint)


def run_export_checkpoint(args: argparse.Namespace) -> int:
    from motiongpt.lm.training import model_folder_from_checkpoint

    summary = model_folder_from_checkpoint(args.checkpoint, args.base, args.out)
    if args.onnx:
        from motiongpt.lm.onnx_export import export_model_folder
        from motiongpt.lm.onnx_runtime import compare_with_torch

        summary["onnx"] = compare_with_torch(args.out, export_model_folder(args.out))
    print(json.dumps(summary, indent=1))
    return 0
