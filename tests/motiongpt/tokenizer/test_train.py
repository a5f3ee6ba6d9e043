"""`motiongpt train tokenizer` / `eval tokenizer` end to end on a tiny HumanML3D-layout dataset."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
import yaml

from motiongpt.cli import main
from motiongpt.tokenizer import MotionTokenizer, TokenizerError
from motiongpt.tokenizer.training_config import TokenizerTrainingConfig
from motiongpt.training import read_metrics_csv
from tests.motiongpt.tokenizer.conftest import TINY_MODEL


def write_config(path, dataset, run_dir, max_steps=30, **loop):
    config = {
        "model": TINY_MODEL.to_dict(),
        "data": {"root": str(dataset), "train_split": "train", "eval_split": "val", "window_frames": 64},
        "optim": {"batch_size": 8, "lr": 6e-3, "schedule": {"name": "cosine", "warmup_steps": 5}},
        "loop": {"max_steps": max_steps, "checkpoint_every": 10, "log_every": 5, "eval_every": 0,
                 "progress_bar": False, **loop},
        "run": {"output_dir": str(run_dir), "seed": 5, "device": "cpu", "num_threads": 1},
    }
    path.write_text(yaml.safe_dump(config))
    return path


def test_train_then_eval(tiny_dataset, tmp_path, capsys):
    config = write_config(tmp_path / "tok.yaml", tiny_dataset, tmp_path / "run", max_steps=100)
    assert main(["train", "tokenizer", "--config", str(config), "--export", str(tmp_path / "shipped")]) == 0
    run = tmp_path / "run"
    series = read_metrics_csv(run / "metrics.csv")
    for name in ("train/loss", "train/recons", "train/positions", "train/commit", "train/perplexity", "train/lr"):
        assert name in series, name
    losses = [v for _, v in series["train/loss"]]
    assert losses[-1] < 0.7 * losses[0]  # it learns
    assert "eval/mpjpe_mm" in series  # final evaluation on the val split
    summary = json.loads((run / "run_summary.json").read_text())
    assert summary["steps"] == 100 and summary["hardware"]["device"] == "cpu"
    final = MotionTokenizer.from_pretrained(run / "final")
    shipped = MotionTokenizer.from_pretrained(tmp_path / "shipped")
    assert torch.equal(final.quantizer.codebook, shipped.quantizer.codebook)
    capsys.readouterr()
    assert main(["eval", "tokenizer", "--model", str(run / "final"), "--data", str(tiny_dataset),
                 "--output", str(tmp_path / "eval.json")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report == json.loads((tmp_path / "eval.json").read_text())
    assert report["windows"] == 2 and report["frames"] == 100 + 108
    for key in ("mpjpe_mm", "pa_mpjpe_mm", "accel_error_mm", "perplexity", "codebook_used_fraction"):
        assert np.isfinite(report[key]), key
    assert 0 < report["pa_mpjpe_mm"] <= report["mpjpe_mm"]
    assert 0 < report["codebook_used_fraction"] <= 1


def test_resume_matches_an_uninterrupted_run(tiny_dataset, tmp_path, capsys):
    straight = write_config(tmp_path / "a.yaml", tiny_dataset, tmp_path / "a", max_steps=20)
    assert main(["train", "tokenizer", "--config", str(straight)]) == 0
    # an interrupted run: only the step-10 checkpoint of the same configuration exists
    (tmp_path / "b" / "checkpoints").mkdir(parents=True)
    shutil.copy(tmp_path / "a" / "checkpoints" / "step_00000010.pt", tmp_path / "b" / "checkpoints")
    split = write_config(tmp_path / "b.yaml", tiny_dataset, tmp_path / "b", max_steps=20)
    assert main(["train", "tokenizer", "--config", str(split)]) == 0
    assert json.loads((tmp_path / "b" / "run_summary.json").read_text())["resumed_from"] == 10
    a = MotionTokenizer.from_pretrained(tmp_path / "a" / "final").state_dict()
    b = MotionTokenizer.from_pretrained(tmp_path / "b" / "final").state_dict()
    for key in a:
        assert torch.allclose(a[key], b[key], atol=1e-5), key
    # --no-resume refuses to mix a new run with old checkpoints
    capsys.readouterr()
    assert main(["train", "tokenizer", "--config", str(split), "--no-resume"]) == 2
    assert "already holds checkpoints" in capsys.readouterr().err


def test_bad_inputs_exit_2_with_one_line(tiny_dataset, tmp_path, capsys):
    assert main(["train", "tokenizer", "--config", str(tmp_path / "absent.yaml")]) == 2
    assert "absent.yaml: training config not found" in capsys.readouterr().err
    config = write_config(tmp_path / "c.yaml", tmp_path / "no_data", tmp_path / "c")
    assert main(["train", "tokenizer", "--config", str(config)]) == 2
    assert "no_data" in capsys.readouterr().err
    assert main(["eval", "tokenizer", "--model", str(tmp_path / "nomodel"), "--data", str(tiny_dataset)]) == 2
    assert "nomodel: tokenizer folder not found" in capsys.readouterr().err


def test_config_errors_name_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("loop: {max_stepz: 3}\n")
    with pytest.raises(TokenizerError, match=r"bad.yaml: loop: unknown settings \['max_stepz'\]"):
        TokenizerTrainingConfig.from_yaml(path)
    path.write_text("data: {window_frames: 64\n")
    with pytest.raises(TokenizerError, match="bad.yaml: not valid YAML"):
        TokenizerTrainingConfig.from_yaml(path)


def test_decoder_fine_tune_keeps_every_code_and_improves_the_reconstruction(tiny_dataset, tmp_path, capsys):
    start = tmp_path / "start"
    config = write_config(tmp_path / "a.yaml", tiny_dataset, tmp_path / "a", max_steps=40)
    assert main(["train", "tokenizer", "--config", str(config), "--export", str(start)]) == 0
    document = yaml.safe_load(config.read_text())
    document["run"].update(output_dir=str(tmp_path / "fine"), init_from=str(start))
    document["optim"].update(trainable="decoder", lr=3e-3)
    document["loop"]["max_steps"] = 60
    (tmp_path / "fine.yaml").write_text(yaml.safe_dump(document))
    assert main(["train", "tokenizer", "--config", str(tmp_path / "fine.yaml")]) == 0
    before = MotionTokenizer.from_pretrained(start)
    after = MotionTokenizer.from_pretrained(tmp_path / "fine" / "final")
    old, new = before.state_dict(), after.state_dict()
    for key in old:
        if key.startswith("decoder."):
            continue
        assert torch.equal(old[key], new[key]), key  # encoder and codebook untouched
    assert any(not torch.equal(old[k], new[k]) for k in old if k.startswith("decoder."))
    capsys.readouterr()
    reports = []
    for model in (start, tmp_path / "fine" / "final"):
        assert main(["eval", "tokenizer", "--model", str(model), "--data", str(tiny_dataset), "--split", "train"]) == 0
        reports.append(json.loads(capsys.readouterr().out))
    assert reports[1]["mpjpe_mm"] < reports[0]["mpjpe_mm"]
    clip = before.normalizer.normalize(np.load(tiny_dataset / "new_joint_vecs" / "t1.npy"))
    assert torch.equal(before.encode(clip), after.encode(clip))  # the same codes for a held-out clip


def test_fine_tune_refuses_a_start_of_another_architecture(tiny_dataset, tmp_path, capsys):
    config = write_config(tmp_path / "a.yaml", tiny_dataset, tmp_path / "a", max_steps=5)
    assert main(["train", "tokenizer", "--config", str(config), "--export", str(tmp_path / "start")]) == 0
    document = yaml.safe_load(config.read_text())
    document["model"]["width"] = 24
    document["run"].update(output_dir=str(tmp_path / "b"), init_from=str(tmp_path / "start"))
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(document))
    capsys.readouterr()
    assert main(["train", "tokenizer", "--config", str(tmp_path / "b.yaml")]) == 2
    assert "differs from the training config's" in capsys.readouterr().err
    document["model"]["width"] = TINY_MODEL.width
    document["optim"]["trainable"] = "encoder"
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(document))
    assert main(["train", "tokenizer", "--config", str(tmp_path / "b.yaml")]) == 2
    assert "optim.trainable must be 'all' or 'decoder'" in capsys.readouterr().err


def test_windows_are_drawn_in_proportion_to_the_clip_weights():
    from motiongpt.data.action_balance import action_balanced_weights
    from motiongpt.tokenizer.windows import RandomWindowSampler

    clips = [np.full((10, 2), i, dtype=np.float32) for i in range(4)] + [np.zeros((3, 2), np.float32)]
    names = ["walk_a", "walk_b", "walk_c", "kick_a", "short"]
    actions = {"walk_a": "walk", "walk_b": "walk", "walk_c": "walk", "kick_a": "kick", "short": "kick"}
    weights = action_balanced_weights(names, actions, power=1.0)
    sampler = RandomWindowSampler(clips, 5, 4000, seed=0, clip_weights=weights)
    drawn = sampler.next_batch()[:, 0, 0].numpy()
    # walk's three clips share half of the windows, the one usable kick clip (the short one is skipped) the
    # other half (its weight is 1/2 of kick's two labelled clips, walk's 1/3 each of three: 0.5 vs 1.0 total)
    kick_share = float(np.mean(drawn == 3))
    assert abs(kick_share - 0.5 / 1.5) < 0.03
    uniform = RandomWindowSampler(clips, 5, 4000, seed=0).next_batch()[:, 0, 0].numpy()
    assert abs(float(np.mean(uniform == 3)) - 0.25) < 0.03
    with pytest.raises(TokenizerError, match="3 clip weights for 5 clips"):
        RandomWindowSampler(clips, 5, 8, seed=0, clip_weights=[1.0, 1.0, 1.0])
