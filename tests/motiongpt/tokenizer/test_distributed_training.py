"""Tokenizer training under real DDP: 2 CPU processes with gloo via torchrun; both ranks must end with
identical weights, codebook and EMA statistics (the quantizer syncs its EMA counts across processes)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from tests.motiongpt.tokenizer.test_train import write_config
from tests.motiongpt.training.test_distributed import run_torchrun


def test_two_gloo_processes_train_identical_tokenizers(tiny_dataset, tmp_path):
    config = write_config(tmp_path / "ddp.yaml", tiny_dataset, tmp_path / "run", max_steps=12, checkpoint_every=6)
    done = run_torchrun(Path(__file__).with_name("ddp_tokenizer_worker.py"), str(config), str(tmp_path))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rank0, rank1 = torch.load(tmp_path / "rank0.pt"), torch.load(tmp_path / "rank1.pt")
    assert rank0["world_size"] == rank1["world_size"] == 2 and rank0["backend"] == "gloo"
    assert rank0["step"] == rank1["step"] == 12
    for key, value in rank0["state"].items():
        assert torch.equal(value, rank1["state"][key]), key
    assert torch.equal(rank0["ema"]["code_count"], rank1["ema"]["code_count"])
    assert torch.equal(rank0["ema"]["code_sum"], rank1["ema"]["code_sum"])
    # the EMA counts add up the latents of both processes: 2 ranks x 8 windows x 16 codes per step
    decay = 0.99 ** 12
    expected = 16 * decay + (2 * 8 * 16) * (1 - decay)  # the codebook starts with a count of 1 per code
    assert float(rank0["ema"]["code_count"].sum()) == pytest.approx(expected, rel=1e-4)
    summary = json.loads((tmp_path / "run" / "run_summary.json").read_text())
    assert summary["world_size"] == 2
    assert sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir()) == ["step_00000006.pt", "step_00000012.pt"]
