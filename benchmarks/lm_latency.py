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

``--backend torch onnxruntime`` instead compares the backends side by side in one run: single-sample
text-to-motion (one motion from the request, no reranking), greedy and sampled (top-k), and the model folder's
own decoding ("shipped": its candidates, reranking and rephrasing; "new request": the same with no sentence vector
cached, as for a command the node has not seen before; "new request saying how": the same for requests that say how
in words no style list has, whose action is also read without that phrase), on each device, with
p50/p95, tokens per second, resident memory and the torch/onnxruntime latency ratio (> 1: ONNX Runtime is
faster). The ONNX export is the model folder's onnx/ (``--onnx DIR`` to choose); when there is none the model is
exported into a temporary folder first. ONNX Runtime gets ``--threads`` intra-op threads, like torch.
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
# requests that say how in words no style list has: with rephrase: meaning their action is also read without that
# phrase (`motiongpt.lm.command_meaning.MeaningIndex.without_manner`: the phrase and the rest embedded too)
SAYING_HOW = ("run like a huge lumbering ogre", "walk forward like you just lost your best friend",
              "bow as if royalty just walked in", "wave with a spring in your step")


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


def _rss_mib() -> float:
    try:
        with open("/proc/self/statm") as handle:
            return round(int(handle.read().split()[1]) * resource.getpagesize() / 2**20, 1)
    except (OSError, ValueError, IndexError):
        return float("nan")


def _load_backend(backend: str, model_folder: str, device: str, threads: int, onnx_folder: str | None):
    from motiongpt.lm.api import MotionGPT
    from motiongpt.lm.text_grounding import TextToMotionSettings

    if backend == "torch":
        model = MotionGPT.from_pretrained(model_folder, device=device)
    else:
        from motiongpt.lm.onnx_runtime import load_onnx_motiongpt
        model = load_onnx_motiongpt(onnx_folder or model_folder, device=device, intra_op_num_threads=threads,
                                    check_source=onnx_folder is None)
    shipped = model.text_to_motion_settings
    model.set_text_to_motion(TextToMotionSettings())  # single sample: one motion from the request, no rerank
    return model, shipped


def bench_backend(backend: str, model_folder: str, device: str, seconds_list, repeats: int, threads: int,
                  onnx_folder: str | None = None) -> dict:
    """Single-sample text-to-motion latency, greedy and sampled, on one backend and device."""
    rss_before = _rss_mib()
    started = time.perf_counter()
    model, shipped = _load_backend(backend, model_folder, device, threads, onnx_folder)
    load_s = time.perf_counter() - started
    rss_loaded = _rss_mib()
    sync = torch.cuda.synchronize if backend == "torch" and device.startswith("cuda") else (lambda: None)
    if backend == "torch" and device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    model.text_to_motion(CAPTIONS[0], seconds=1.0, seed=0)  # warm-up
    model.text_to_motion(CAPTIONS[1], seconds=1.0, greedy=True)
    rows = {}
    for decoding in ("greedy", "sampled"):
        for seconds in seconds_list:
            times, tokens = [], []
            for repeat in range(repeats):
                sync()
                begin = time.perf_counter()
                result = model.text_to_motion(CAPTIONS[repeat % len(CAPTIONS)], seconds=seconds, seed=repeat,
                                              greedy=decoding == "greedy")
                sync()
                times.append(time.perf_counter() - begin)
                tokens.append(result.codes.size + 3)
            rows[f"{decoding} {seconds:g}s"] = {
                "p50_s": round(percentile(times, 50), 4), "p95_s": round(percentile(times, 95), 4),
                "tokens_per_second": round(sum(tokens) / sum(times), 1),
            }
    # the model folder's own decoding (candidates, reranking, rephrasing): what the node and `motiongpt generate` run
    model.set_text_to_motion(shipped)
    model.text_to_motion(CAPTIONS[0], seconds=1.0, seed=0)
    vectors = getattr(model.language_model, "sentence_vectors", None)

    def p50_p95(seconds: float, before_each=lambda: None, requests=CAPTIONS) -> dict:
        times = []
        for repeat in range(repeats):
            before_each()
            sync()
            begin = time.perf_counter()
            model.text_to_motion(requests[repeat % len(requests)], seconds=seconds, seed=repeat)
            sync()
            times.append(time.perf_counter() - begin)
        return {"p50_s": round(percentile(times, 50), 4), "p95_s": round(percentile(times, 95), 4)}

    for seconds in seconds_list:
        rows[f"shipped {seconds:g}s"] = {**p50_p95(seconds), "motions_per_call": shipped.motions_per_request()}
        # the same for requests the model has not seen before: every sentence vector computed anew (the
        # request's, and with rephrase: meaning the training caption's it is said as), as for a new command
        if vectors is not None:
            rows[f"shipped {seconds:g}s, new request"] = p50_p95(seconds, before_each=vectors.clear)
            rows[f"shipped {seconds:g}s, new request saying how"] = p50_p95(seconds, before_each=vectors.clear,
                                                                          requests=SAYING_HOW)
    report = {"backend": backend, "device": device, "load_s": round(load_s, 2), "repeats": repeats,
              "shipped_decoding": shipped.to_dict(),
              "rss_growth_at_load_mib": round(rss_loaded - rss_before, 1), "rss_after_mib": _rss_mib(),
              "latency": rows}
    if backend == "onnxruntime":
        report["providers"] = model.language_model.providers
    elif device.startswith("cuda"):
        report["peak_gpu_allocated_mib"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return report


def compare_backends(args, devices) -> dict:
    import tempfile

    from motiongpt.lm.onnx_runtime import find_onnx_folder

    onnx_folder = args.onnx
    temporary = None
    if "onnxruntime" in args.backend and onnx_folder is None and find_onnx_folder(args.model) is None:
        from motiongpt.lm.onnx_export import export_model_folder
        temporary = tempfile.TemporaryDirectory(prefix="motiongpt-onnx-")
        onnx_folder = str(export_model_folder(args.model, temporary.name))
    runs = []
    for device in devices:
        for backend in args.backend:
            ort_device = device
            if backend == "torch" and device.startswith("cuda") and not torch.cuda.is_available():
                runs.append({"backend": backend, "device": device, "skipped": "torch has no CUDA"})
                continue
            if backend == "onnxruntime" and device == "cuda":
                from motiongpt.lm.onnx_runtime import CUDA
                import onnxruntime
                if CUDA not in onnxruntime.get_available_providers():
                    runs.append({"backend": backend, "device": device, "skipped": "no CUDAExecutionProvider"})
                    continue
            runs.append(bench_backend(backend, args.model, ort_device, args.seconds, args.repeats, args.threads,
                                      onnx_folder))
    ratios = {}
    for device in devices:
        by_backend = {r["backend"]: r for r in runs if r["device"] == device and "latency" in r}
        if {"torch", "onnxruntime"} <= set(by_backend):
            ratios[device] = {key: round(row["p50_s"] / by_backend["onnxruntime"]["latency"][key]["p50_s"], 2)
                              for key, row in by_backend["torch"]["latency"].items()}
    if temporary is not None:
        temporary.cleanup()
    return {"runs": runs, "p50_ratio_torch_over_onnxruntime": ratios,
            "onnx_export": onnx_folder or "model folder's onnx/"}


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
    parser.add_argument("--backend", nargs="+", choices=("torch", "onnxruntime"), default=None,
                        help="compare these backends side by side (single-sample greedy and sampled decoding) "
                             "instead of the default runs")
    parser.add_argument("--onnx", default=None,
                        help="ONNX export folder (default: MODEL/onnx, else a temporary export)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    devices = args.devices or (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
    if args.backend:
        if "cuda" not in devices and args.devices is None:
            try:
                import onnxruntime
                if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
                    devices = devices + ["cuda"]
            except ImportError:
                pass
        report = {"model": args.model, "threads": args.threads,
                  "machine": platform.processor() or platform.machine(), **compare_backends(args, devices)}
        print(json.dumps(report, indent=2))
        return
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
