"""Command-to-trajectory latency of the ROS 2 node over a real DDS wire, for 2, 4 and 8 s motions.

For each motion length the node is started (a subprocess, real rclpy/Fast DDS) with
`seconds_per_step` set to that length; a Cyclone DDS client streams joint states, sends a one-step
command, and times the trajectory's arrival. The split comes from the node's ~/status of that
command: generation (MotionGPT), retargeting (Pinocchio IK), shaping (limits, contract check);
transport = measured latency - (time inside the node from the command callback to the publish),
i.e. both DDS hops plus executor dispatch. Prints p50/p95 (nearest-rank) per length, as JSON too.

Run inside the loopback-only namespace:
    bash scripts/run_isolated.sh .venv/bin/python benchmarks/node_latency.py [--model DIR] [--repeats 5]
Without --model the shipped models/motiongpt-small is used. --device auto uses CUDA when present.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.motiongpt_node import dds_types as t  # noqa: E402
from tests.motiongpt_node.wire import (  # noqa: E402
    NODE, JointStateStream, NodeProcess, WireClient, isolate_environment, status_values, temp_workdir,
    wait_until_loaded,
)

# within the node's default allowed_motions (locomotion and gestures): a refused command gets no trajectory
COMMANDS = ["a person walks forward", "a person waves with the right hand", "a person walks backwards",
            "a person turns left", "a person raises both arms"]
PARTS = ("latency_s", "generation_s", "retargeting_s", "shaping_s", "transport_s", "queue_wait_s")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(np.ceil(q / 100 * len(ordered))) - 1)]


def measure(length_s: float, args, domain: int) -> dict:
    from motiongpt_node.joint_limits import JointLimits

    limits = JointLimits.for_robot(args.robot)
    overrides = {"seconds_per_step": float(length_s), "device": args.device, "backend": args.backend,
                 "cpu_threads": args.threads, "seed": 11, "robot": args.robot,
                 "max_duration": max(10.0, 2 * length_s), "caption_generated": False, "status_period": 5.0}
    if args.model:
        overrides["model_path"] = str(Path(args.model).resolve())
    node = NodeProcess(overrides, temp_workdir())
    client = WireClient(domain)
    command = client.writer("/command", t.String)
    joint_states = client.writer("/joint_states", t.JointState)
    status = client.reader(f"{NODE}/status", t.DiagnosticArray)
    trajectory = client.reader("/joint_trajectory", t.JointTrajectory)
    for endpoint in (command, joint_states, status, trajectory):
        client.wait_matched(endpoint)
    start = np.clip(np.zeros(len(limits.joint_names)), limits.lower, limits.upper)
    stream = JointStateStream(joint_states, list(limits.joint_names), start.tolist()).start()
    loaded = wait_until_loaded(client, status, node, timeout=600)
    if loaded["state"] != "ready":
        stream.stop()
        node.stop()
        raise SystemExit(f"node not ready: {loaded.get('last_error')}\n{node.log()[-2000:]}")
    rows = []
    try:
        for k in range(args.warmup + args.repeats):
            text = COMMANDS[k % len(COMMANDS)]
            marks = client.mark(trajectory), client.mark(status)
            sent = time.perf_counter()
            command.write(t.String(data=text))
            try:
                message = client.wait_for(trajectory, lambda m: True, 120, marks[0])
            except TimeoutError as error:
                raise SystemExit(f"no trajectory for {text!r} within 120 s (refused or failed?): {error}\n"
                                 f"{node.log()[-2000:]}") from None
            latency = time.perf_counter() - sent
            report = client.wait_for(status, lambda s: s.status[0].message.startswith("published command"), 60, marks[1])
            values = {key: float(v) for key, v in status_values(report).items() if key.endswith("_s")}
            duration = message.points[-1].time_from_start.sec + message.points[-1].time_from_start.nanosec * 1e-9
            if k >= args.warmup:
                rows.append({"latency_s": latency, "generation_s": values["generation_s"],
                             "retargeting_s": values["retargeting_s"], "shaping_s": values["shaping_s"],
                             "queue_wait_s": values["queue_wait_s"],
                             "transport_s": latency - values["total_s"], "trajectory_s": duration})
            time.sleep(0.2)
    finally:
        stream.stop()
        node.stop()
    summary = {"motion_s": length_s, "runs": len(rows),
               "trajectory_s_mean": float(np.mean([r["trajectory_s"] for r in rows]))}
    for part in PARTS:
        values = [r[part] for r in rows]
        summary[part] = {"p50": percentile(values, 50), "p95": percentile(values, 95)}
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="", help="MotionGPT model folder (default: the shipped model)")
    parser.add_argument("--robot", default="g1")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--lengths", type=float, nargs="+", default=[2.0, 4.0, 8.0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1, help="the node's cpu_threads parameter (0: torch's default)")
    parser.add_argument("--backend", default="auto", choices=("auto", "torch", "onnxruntime"),
                        help="the node's backend parameter (auto: onnxruntime when the model has an ONNX export)")
    parser.add_argument("--json", default="", help="also write the results to this file")
    args = parser.parse_args()
    import torch

    domain = isolate_environment()
    device = args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    results = {"device": device, "backend": args.backend, "cpu": platform.processor() or platform.machine(),
               "gpu": torch.cuda.get_device_name(0) if device == "cuda" else None,
               "model": args.model or "models/motiongpt-small", "lengths": []}
    print(f"node latency over DDS (Fast DDS node <-> Cyclone client), device={device}, "
          f"backend={args.backend}, {args.repeats} runs per length after {args.warmup} warm-up")
    print(f"{'motion':>7} {'traj':>6} | {'latency p50/p95':>17} | {'generation':>15} | {'retargeting':>15} | "
          f"{'shaping':>15} | {'transport':>15}")
    for length in args.lengths:
        summary = measure(length, args, domain)
        results["lengths"].append(summary)
        cells = [f"{summary[p]['p50']:7.3f}/{summary[p]['p95']:7.3f}" for p in
                 ("latency_s", "generation_s", "retargeting_s", "shaping_s", "transport_s")]
        print(f"{length:6.1f}s {summary['trajectory_s_mean']:5.1f}s | {cells[0]:>17} | " + " | ".join(cells[1:]))
    print(json.dumps(results, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
