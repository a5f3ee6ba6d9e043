"""`motiongpt export onnx`: export a model folder's language model and motion tokenizer to ONNX."""
from __future__ import annotations

import argparse
import json


def register(groups: dict[str, argparse._SubParsersAction]) -> None:
    export = groups["top"].add_parser("export", help="export a model to another format",
                                      description="export a model to another format")
    formats = export.add_subparsers(dest="export_command", metavar="FORMAT", required=True)
    groups["export"] = formats  # other export formats register here (meaning_commands)
    onnx = formats.add_parser(
        "onnx", help="export the language model and the motion tokenizer to ONNX (for ONNX Runtime)",
        description="Write lm_encoder.onnx, lm_decoder_step.onnx (KV cache), motion_decoder.onnx, "
                    "motion_encoder.onnx, the text tokenizer files and onnx_manifest.json into OUT "
                    "(default: MODEL/onnx), where the ONNX Runtime backend finds them.")
    onnx.add_argument("--model", required=True, help="MotionGPT model folder (motiongpt.yaml, lm/, tokenizer/)")
    onnx.add_argument("--out", default=None, help="output folder (default: MODEL/onnx)")
    onnx.add_argument("--opset", type=int, default=None, help="ONNX opset (default: the exporter module's OPSET)")
    onnx.add_argument("--check", action="store_true",
                      help="after export, compare ONNX Runtime with PyTorch on fixed inputs and print the differences")
    onnx.set_defaults(func=run_export_onnx)


def run_export_onnx(args: argparse.Namespace) -> int:
    import time

    from motiongpt.lm.onnx_export import OPSET, export_model_folder

    started = time.perf_counter()
    out = export_model_folder(args.model, args.out, opset=args.opset or OPSET)
    manifest = json.loads((out / "onnx_manifest.json").read_text())
    summary = {"out": str(out), "opset": manifest["opset"], "seconds": round(time.perf_counter() - started, 1),
               "graphs": {k: v["bytes"] for k, v in manifest["graphs"].items()}}
    if args.check:
        from motiongpt.lm.onnx_runtime import compare_with_torch
        summary["check"] = compare_with_torch(args.model, out)
    print(json.dumps(summary, indent=1))
    return 0
