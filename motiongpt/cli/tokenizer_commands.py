"""`motiongpt train tokenizer` and `motiongpt eval tokenizer`.

    motiongpt train tokenizer --config models/configs/tokenizer_small.yaml [--data DIR] [--output-dir DIR]
        [--max-steps N] [--device auto|cpu|cuda] [--no-resume] [--export DIR]
    torchrun --standalone --nproc_per_node 2 "$(command -v motiongpt)" train tokenizer --config ...   (DDP)
    motiongpt eval tokenizer --model models/tokenizer-small [--data data/embedded] [--split test] [--window N]
"""
from __future__ import annotations

import argparse
import json
import logging
import sys


def register(groups: dict[str, argparse._SubParsersAction]) -> None:
    train = groups["train"].add_parser(
        "tokenizer", help="train the VQ-VAE motion tokenizer (stage 1)",
        description="Train the motion tokenizer on a HumanML3D-layout dataset. Run under torchrun for DDP.")
    train.add_argument("--config", required=True, help="training YAML (see models/configs/)")
    train.add_argument("--data", help="dataset root (overrides data.root)")
    train.add_argument("--output-dir", help="run folder for checkpoints and logs (overrides run.output_dir)")
    train.add_argument("--max-steps", type=int, help="overrides loop.max_steps")
    train.add_argument("--batch-size", type=int, help="per-process batch size (overrides optim.batch_size)")
    train.add_argument("--device", choices=("auto", "cpu", "cuda"), help="overrides run.device")
    train.add_argument("--threads", type=int, help="torch CPU threads per process (overrides run.num_threads)")
    train.add_argument("--export", help="also save the final model here (overrides run.export_dir)")
    train.add_argument("--no-resume", action="store_true", help="ignore existing checkpoints in the run folder")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.set_defaults(func=run_train)

    evaluate = groups["eval"].add_parser(
        "tokenizer", help="reconstruction metrics of a tokenizer on a held-out split (JSON)",
        description="Encode and decode the held-out clips; print MPJPE, PA-MPJPE, acceleration error (mm) "
                    "and codebook usage as JSON.")
    evaluate.add_argument("--model", required=True, help="tokenizer folder (save_pretrained)")
    evaluate.add_argument("--data", default="data/embedded", help="dataset root (default: data/embedded)")
    evaluate.add_argument("--split", default="test", help="split to evaluate (default: test)")
    evaluate.add_argument("--window", type=int, default=0,
                          help="cut clips into N-frame windows (multiple of 4); 0 = whole clips (default)")
    evaluate.add_argument("--device", choices=("auto", "cpu", "cuda"), default="cpu")
    evaluate.add_argument("--output", help="also write the JSON here")
    evaluate.set_defaults(func=run_eval)


def run_train(args: argparse.Namespace) -> int:
    from motiongpt.tokenizer.train import train_tokenizer
    from motiongpt.tokenizer.training_config import TokenizerTrainingConfig
    from motiongpt.training import setup_distributed, teardown_distributed

    config = TokenizerTrainingConfig.from_yaml(args.config).with_overrides(
        data={"root": args.data},
        run={"output_dir": args.output_dir, "device": args.device, "num_threads": args.threads,
             "export_dir": args.export},
        optim={"batch_size": args.batch_size},
        loop={"max_steps": args.max_steps, "resume": False if args.no_resume else None,
              "progress_bar": False if args.no_progress else None},
    )
    if config.run.num_threads:
        import torch
        torch.set_num_threads(config.run.num_threads)
    context = setup_distributed(config.run.device)
    try:
        run = train_tokenizer(config, context)
    finally:
        teardown_distributed()
    if context.is_main:
        logging.getLogger("motiongpt.train").info("saved %s", run.final_dir)
        print(json.dumps({"final_dir": str(run.final_dir), "steps": run.result.step,
                          "train": run.result.metrics, "eval": run.result.eval_metrics}, indent=2))
    return 0


def run_eval(args: argparse.Namespace) -> int:
    import torch

    from motiongpt.data.humanml3d import load_split
    from motiongpt.tokenizer import MotionTokenizer
    from motiongpt.tokenizer.evaluate import evaluate_tokenizer
    from motiongpt.training import resolve_device

    model = MotionTokenizer.from_pretrained(args.model, device=resolve_device(args.device))
    records = load_split(args.data, args.split)
    with torch.inference_mode():
        metrics = evaluate_tokenizer(model, [r.features for r in records], window_frames=args.window)
    report = {"model": args.model, "data": args.data, "split": args.split, "clips": len(records),
              "window_frames": args.window or "whole clip", **metrics}
    text = json.dumps(report, indent=2)
    print(text)
    if args.output:
        with open(args.output, "w") as handle:
            handle.write(text + "\n")
    sys.stdout.flush()
    return 0
