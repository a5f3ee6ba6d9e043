"""The shared training loop on one process: it learns, logs, checkpoints and resumes exactly."""
from __future__ import annotations

import pytest
import torch

from motiongpt.training import (CheckpointManager, LRScheduleConfig, Trainer, TrainingError, TrainLoopConfig,
                                build_lr_scheduler, read_metrics_csv, seed_everything)

WEIGHTS = torch.tensor([[1.0], [-2.0], [0.5], [3.0]])


class ToyBatches:
    def __init__(self, seed: int) -> None:
        self.generator = torch.Generator().manual_seed(seed)

    def next_batch(self):
        x = torch.randn(16, 4, generator=self.generator)
        return x, x @ WEIGHTS + 0.01 * torch.randn(16, 1)  # global RNG too: resume must restore it

    def state_dict(self):
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state):
        self.generator.set_state(state["generator"])


def loss_fn(model, batch):
    x, y = batch
    loss = torch.nn.functional.mse_loss(model(x), y)
    return loss, {"mse": loss.detach()}


def make_trainer(output_dir, max_steps, checkpoint_every=10, resume=True):
    seed_everything(3)
    model = torch.nn.Linear(4, 1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.15)
    scheduler = build_lr_scheduler(optimizer, LRScheduleConfig("cosine", warmup_steps=5, min_lr_ratio=0.1), 60)
    config = TrainLoopConfig(max_steps=max_steps, checkpoint_every=checkpoint_every, log_every=5,
                             keep_checkpoints=2, resume=resume, progress_bar=False)
    return Trainer(model, optimizer, scheduler, loss_fn, ToyBatches(11), config, output_dir), model


def test_learns_logs_and_checkpoints(tmp_path):
    trainer, model = make_trainer(tmp_path, 60)
    result = trainer.fit()
    assert result.step == 60 and result.resumed_from is None
    assert torch.allclose(model.weight.detach().t(), WEIGHTS, atol=0.25)
    series = read_metrics_csv(tmp_path / "metrics.csv")
    assert [s for s, _ in series["train/mse"]] == list(range(5, 61, 5))
    assert series["train/mse"][-1][1] < series["train/mse"][0][1] / 5
    lrs = [v for _, v in series["train/lr"]]
    assert lrs[0] == pytest.approx(0.15, rel=1e-6)  # end of warm-up
    assert lrs[-1] == pytest.approx(0.015, rel=1e-6)  # cosine floor = 0.1 * base
    assert list((tmp_path / "events.out.tfevents").parent.glob("events.out.tfevents.*"))  # TensorBoard file
    assert [step for step, _ in CheckpointManager(tmp_path / "checkpoints").list()] == [50, 60]  # keep 2


def test_resume_continues_exactly(tmp_path):
    straight, straight_model = make_trainer(tmp_path / "straight", 20)
    straight.fit()
    first, _ = make_trainer(tmp_path / "split", 10)
    first.fit()
    second, resumed_model = make_trainer(tmp_path / "split", 20)
    result = second.fit()
    assert result.resumed_from == 10 and result.step == 20
    for key, value in straight_model.state_dict().items():
        assert torch.allclose(value, resumed_model.state_dict()[key], atol=1e-6), key


def test_corrupt_checkpoint_is_a_clear_error(tmp_path):
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "step_00000005.pt").write_bytes(b"not a checkpoint")
    trainer, _ = make_trainer(tmp_path, 10)
    with pytest.raises(TrainingError, match="step_00000005.pt"):
        trainer.fit()


def test_non_finite_loss_stops_with_a_clear_error(tmp_path):
    trainer, _ = make_trainer(tmp_path, 10)
    trainer.loss_fn = lambda model, batch: (model(batch[0]).sum() * float("nan"), {})
    with pytest.raises(TrainingError, match="loss became nan"):
        trainer.fit()


def test_refuses_to_start_over_on_old_checkpoints(tmp_path):
    make_trainer(tmp_path, 10)[0].fit()
    trainer, _ = make_trainer(tmp_path, 10, resume=False)
    with pytest.raises(TrainingError, match="already holds checkpoints"):
        trainer.fit()
