"""Soak the node over the wire: N commands (half unique texts, half repeated), RSS and latency curves.

The node runs as a subprocess (real rclpy, Fast DDS), the client is Cyclone DDS (tests/motiongpt_node/wire.py).
Each command is sent when the previous one was published (or refused); the node's RSS (/proc/<pid>/status)
and the command -> status latency are recorded. Printed: a curve every --every commands and the RSS growth
per 100 commands after the warm-up (--warmup, default 200; issue 15 target: below 1 MiB per 100).

    bash scripts/run_isolated.sh nice -n 19 .venv/bin/python benchmarks/node_soak.py --commands 1000
    ... --model tiny   (a tiny random-weights model, for the node's own memory without the real model's cost)
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

REPEATED = ["walk forward", "wave with the right hand", "jump in place", "turn left", "kick with the left leg",
            "raise both arms", "walk forward, then wave", "bow", "sit down", "run in a circle"]
ACTIONS = ["walk", "wave", "jump", "turn", "kick", "raise", "step", "march", "spin", "bow"]
MODIFIERS = ["slowly", "quickly", "to the left", "to the right", "forward", "backward", "twice", "happily", "carefully"]


def unique_text(k: int) -> str:
    """A different command each time (words, not only a counter: the text path sees new strings)."""
    a, b, c = ACTIONS[k % 10], MODIFIERS[(k // 10) % 9], MODIFIERS[(k // 90) % 9]
    return f"{a} {b} {c} number {k}"


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commands", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=200, help="commands before growth is measured")
    parser.add_argument("--every", type=int, default=50, help="print the curves every this many commands")
    parser.add_argument("--model", default="", help="model folder; empty: the shipped model; 'tiny': tiny random weights")
    parser.add_argument("--timeout", type=float, default=120.0, help="s to wait for one command")
    args = parser.parse_args(argv)

    from motiongpt_node.joint_limits import JointLimits
    from tests.motiongpt_node import dds_types as t
    from tests.motiongpt_node.conftest import g1_urdf_path
    from tests.motiongpt_node.wire import (NODE, JointStateStream, NodeProcess, WireClient, isolate_environment,
                                           temp_workdir, wait_until_loaded)

    workdir = temp_workdir()
    model = args.model
    if model == "tiny":
        from tests.motiongpt_node.tiny_model import build_tiny_model
        model = str(build_tiny_model(workdir / "tiny_model"))
    domain = isolate_environment()
    limits = JointLimits.from_urdf(g1_urdf_path())
    start = np.clip(np.zeros(len(limits.joint_names)), limits.lower, limits.upper)
    node = NodeProcess({"model_path": model, "device": "cpu", "status_period": 5.0, "joint_state_timeout": 5.0},
                       workdir)
    client = WireClient(domain)
    command = client.writer("/command", t.String)
    joint_states = client.writer("/joint_states", t.JointState)
    status = client.reader(f"{NODE}/status", t.DiagnosticArray)
    for endpoint in (command, joint_states, status):
        client.wait_matched(endpoint)
    stream = JointStateStream(joint_states, list(limits.joint_names), start.tolist(), rate_hz=20.0).start()
    rss, latency, outcome = [], [], {"published": 0, "refused": 0, "other": 0}
    try:
        loaded = wait_until_loaded(client, status, node, timeout=600.0)
        print(f"node loaded: {loaded.get('state')} model {loaded.get('model_path') or model}; RSS {rss_mib(node.process.pid):.1f} MiB")
        for k in range(args.commands):
            text = unique_text(k) if k % 2 else REPEATED[(k // 2) % len(REPEATED)]
            mark = client.mark(status)
            sent = time.monotonic()
            command.write(t.String(data=text))
            quoted = f"'{text if len(text) <= 60 else text[:57] + '...'}'"
            sample = client.wait_for(status, lambda s: quoted in s.status[0].message and not s.status[0].message.startswith("busy"),
                                     args.timeout, mark)
            latency.append(time.monotonic() - sent)
            message = sample.status[0].message
            outcome["published" if message.startswith("published") else "refused" if "refused" in message else "other"] += 1
            rss.append(rss_mib(node.process.pid))
            if (k + 1) % args.every == 0:
                window = latency[-args.every:]
                print(f"commands {k + 1:5d}: RSS {rss[-1]:8.1f} MiB  latency median {np.median(window):.3f} s "
                      f"p95 {np.percentile(window, 95):.3f} s max {max(window):.3f} s", flush=True)
    finally:
        stream.stop()
        code = node.stop()
    rss_a = np.asarray(rss)
    print(f"\n{len(rss)} commands: {outcome}; node exit code {code}")
    print(f"RSS first {rss_a[0]:.1f} MiB, last {rss_a[-1]:.1f} MiB, max {rss_a.max():.1f} MiB")
    if len(rss_a) > args.warmup + 10:
        x = np.arange(args.warmup, len(rss_a))
        slope = np.polyfit(x, rss_a[args.warmup:], 1)[0] * 100
        print(f"growth after the first {args.warmup} commands: {slope:+.3f} MiB per 100 commands (linear fit), "
              f"{rss_a[-1] - rss_a[args.warmup]:+.1f} MiB over {len(rss_a) - args.warmup} commands")
    else:
        half = len(rss_a) // 2
        x = np.arange(half, len(rss_a))
        slope = np.polyfit(x, rss_a[half:], 1)[0] * 100 if len(x) > 2 else float("nan")
        print(f"fewer than warmup+10 commands: growth over the second half {slope:+.3f} MiB per 100 commands")
    print(f"latency median {np.median(latency):.3f} s, p95 {np.percentile(latency, 95):.3f} s, max {max(latency):.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
