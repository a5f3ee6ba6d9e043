"""Encode/decode throughput of the motion tokenizer, in frames per second.

    python benchmarks/tokenizer_throughput.py --model models/tokenizer-small --device cpu
    python benchmarks/tokenizer_throughput.py --full-size --device cuda --batch 1 32 256

--device auto (default) measures the CPU and, when CUDA is available, the GPU too; cpu or cuda measure one.
--full-size benchmarks a randomly initialised released-size model (512/512, 19.4 M parameters), whose speed
does not depend on the weights. Prints one JSON object per (model, device, batch) with encode and decode
frames/s (input frames per second; 196 frames = 49 codes per sequence) and the median time per call.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import torch

from motiongpt.tokenizer import MotionTokenizer, VQVAEConfig
from motiongpt.training import resolve_device


def timed(fn, device: torch.device, repeats: int, warmup: int = 2) -> float:
    """Median seconds per call."""
    for _ in range(warmup):
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--model", default="models/tokenizer-small", help="tokenizer folder (save_pretrained)")
    source.add_argument("--full-size", action="store_true", help="random released-size model instead")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--frames", type=int, default=196)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device == "auto":
        devices = [torch.device("cpu")] + ([resolve_device("cuda")] if torch.cuda.is_available() else [])
    else:
        devices = [resolve_device(args.device)]
    for device in devices:
        benchmark(args, device)


def benchmark(args: argparse.Namespace, device: torch.device) -> None:
    if args.full_size:
        torch.manual_seed(0)
        model, name = MotionTokenizer(VQVAEConfig()).to(device).eval(), "full-size (random weights)"
        model.quantizer.codebook.normal_()
    else:
        model, name = MotionTokenizer.from_pretrained(args.model, device=device), args.model
    hardware = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu, {torch.get_num_threads()} threads"
    for batch in args.batch:
        features = torch.randn(batch, args.frames, model.config.nfeats, device=device)
        codes = model.encode(features)
        with torch.inference_mode():
            encode_s = timed(lambda: model.encode(features), device, args.repeats)
            decode_s = timed(lambda: model.decode(codes), device, args.repeats)
        frames = batch * codes.shape[1] * model.frames_per_code
        print(json.dumps({
            "model": name, "parameters": model.num_parameters(), "device": str(device), "hardware": hardware,
            "batch": batch, "frames_per_sequence": args.frames, "codes_per_sequence": codes.shape[1],
            "encode_frames_per_s": round(frames / encode_s, 1), "decode_frames_per_s": round(frames / decode_s, 1),
            "encode_ms_per_call": round(1000 * encode_s, 3), "decode_ms_per_call": round(1000 * decode_s, 3),
            "torch": torch.__version__,
        }), flush=True)

if __name__ == "__main__":
    try:
        main()
    except ValueError as error:  # no CUDA, missing/corrupt model folder: one clear line
        sys.exit(f"tokenizer_throughput: error: {error}")
