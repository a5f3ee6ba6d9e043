"""The shared Trainer under real DDP: 2 CPU processes, gloo backend, launched with torchrun."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import torch


def run_torchrun(script: Path, *args: str, nproc: int = 2, timeout: float = 180) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
               str(script), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)


def test_two_gloo_processes_end_with_identical_weights(tmp_path):
    done = run_torchrun(Path(__file__).with_name("ddp_toy_worker.py"), str(tmp_path))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rank0 = torch.load(tmp_path / "rank0.pt")
    rank1 = torch.load(tmp_path / "rank1.pt")
    assert rank0["world_size"] == rank1["world_size"] == 2
    assert rank0["step"] == rank1["step"] == 6
    # the ranks started from different weights and saw different data ...
    assert any(not torch.equal(rank0["initial"][k], rank1["initial"][k]) for k in rank0["initial"])
    assert not torch.equal(rank0["seen"], rank1["seen"])
    # ... yet DDP kept them in lock-step, and training changed the weights
    for key in rank0["final"]:
        assert torch.equal(rank0["final"][key], rank1["final"][key]), key
    assert any(not torch.equal(rank0["final"][k], rank0["initial"][k]) for k in rank0["final"])
    # rank 0 wrote the checkpoints and the metrics
    assert sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir()) == ["step_00000003.pt", "step_00000006.pt"]
    assert (tmp_path / "run" / "metrics.csv").read_text().count("train/mse") == 3
