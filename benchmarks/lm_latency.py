"""Latency of text-to-motion: 1, 4 and 8 s of motion, p50/p95 seconds, tokens per second, peak memory.

    python benchmarks/lm_latency.py [--model models/motiongpt-small] [--repeats 10] [--threads 2]

Runs on the CPU, and also on the GPU when one is available (``--devices cpu cuda`` to choose). A motion
of S seconds is 5*S codes, i.e. 5*S + 2 generated motion tokens (start and end) plus the final EOS, decoded
one by one with the KV cache (``generate(use_cache=True)``); the time includes prompt tokenisation,
generation, parsing, VQ-VAE decoding and recovering joints. Prints one JSON object.

Decoding is the model folder's (``text_to_motion`` in motiongpt.yaml: several candidate motions from the
request and its nearest training captions, reranked); ``--single-sample`` adds a run that samples one motion
from the request alone (the reference's decoding) for comparison. ``tokens_per_second`` counts the motion
tokens of every sampled candidate (``motions_per_call`` of them), not the back-captions used for reranking.
"""
from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import time

import numpy as np
import torch

CAPTIONS = ("a person walks forward", "someone jumps up high", "a person kicks with the right leg",
            "a man runs forward")


def percentile(values, q):
    return float(np.percentile(np.asarray(values), q))


def bench_device(model_folder: str, device: str, seconds_list, repeats: int, use_cache: bool = True,
                 single_sample: bool = False) -> dict:
    from motiongpt.lm.api import MotionGPT
    from motiongpt.lm.text_grounding import TextToMotionSettings

    model = MotionGPT.from_pretrained(model_folder, device=device)
    model.sampling.use_cache = use_cache
    if single_sample:
        model.set_text_to_motion(TextToMotionSettings())
    settings = model.text_to_motion_settings
    motions_per_call = settings.motions_per_request()
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    model.text_to_motion(CAPTIONS[0], seconds=1.0, seed=0)  # warm-up
    rows = {}
    for seconds in seconds_list:
        times, tokens = [], []
        for repeat in range(repeats):
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            started = time.perf_counter()
            result = model.text_to_motion(CAPTIONS[repeat % len(CAPTIONS)], seconds=seconds, seed=repeat)
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            times.append(time.perf_counter() - started)
            tokens.append(motions_per_call * (result.codes.size + 3))  # start, codes, end, EOS per candidate
        rows[f"{seconds:g}s"] = {
            "frames": int(round(seconds * 20)),
            "p50_s": round(percentile(times, 50), 4),
            "p95_s": round(percentile(times, 95), 4),
            "mean_s": round(statistics.fmean(times), 4),
            "tokens_per_second": round(sum(tokens) / sum(times), 1),
            "realtime_factor": round(seconds / statistics.median(times), 1),
        }
    peak = {"peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    if device.startswith("cuda"):
        peak["peak_gpu_allocated_mib"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
        peak["gpu"] = torch.cuda.get_device_name()
    return {"device": device, "use_cache": use_cache, "decoding": settings.to_dict(),
            "motions_per_call": motions_per_call, "repeats": repeats, "latency": rows, **peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/motiongpt-small")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--seconds", type=float, nargs="+", default=[1.0, 4.0, 8.0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--devices", nargs="+", default=None, help="default: cpu, plus cuda when available")
    parser.add_argument("--single-sample", action="store_true",
                        help="also time the reference decoding (one motion from the request, no reranking) on CPU")
    parser.add_argument("--no-cache-comparison", action="store_true",
                        help="skip the CPU run without the KV cache")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    devices = args.devices or (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
    report = {"model": args.model, "torch_threads": args.threads, "machine": platform.processor() or platform.machine(),
              "runs": [bench_device(args.model, d, args.seconds, args.repeats) for d in devices]}
    if not args.no_cache_comparison:
        report["runs"].append(bench_device(args.model, "cpu", [max(args.seconds)], max(3, args.repeats // 3),
                                           use_cache=False))
    if args.single_sample:
        report["runs"].append(bench_device(args.model, "cpu", args.seconds, args.repeats, single_sample=True))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
