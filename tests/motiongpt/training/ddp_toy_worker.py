"""Worker for test_distributed.py, launched by torchrun: trains a toy regression with the shared Trainer
(DDP, gloo) and saves this rank's final weights and the inputs it saw to <out>/rank<R>.pt."""
from __future__ import annotations

import sys
from pathlib import Path

import torch

from motiongpt.training import (LRScheduleConfig, Trainer, TrainLoopConfig, build_lr_scheduler, seed_everything,
                                setup_distributed, teardown_distributed)


class ToyBatches:
    def __init__(self, seed: int) -> None:
        self.generator = torch.Generator().manual_seed(seed)
        self.seen: list[torch.Tensor] = []

    def next_batch(self):
        x = torch.randn(8, 4, generator=self.generator)
        self.seen.append(x)
        return x, x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]])


def main() -> int:
    out = Path(sys.argv[1])
    torch.set_num_threads(1)
    context = setup_distributed("cpu")
    seed_everything(7, context.rank)  # different ranks get different initial weights: DDP must broadcast
    model = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    scheduler = build_lr_scheduler(optimizer, LRScheduleConfig("cosine", warmup_steps=2), 6)
    batches = ToyBatches(100 + context.rank)

    def loss_fn(model, batch):
        x, y = batch
        loss = torch.nn.functional.mse_loss(model(x), y)
        return loss, {"mse": loss.detach()}

    trainer = Trainer(model, optimizer, scheduler, loss_fn, batches,
                      TrainLoopConfig(max_steps=6, checkpoint_every=3, log_every=2, progress_bar=False),
                      out / "run", context)
    result = trainer.fit()
    torch.save({"initial": initial, "final": model.state_dict(), "seen": torch.stack(batches.seen),
                "world_size": context.world_size, "step": result.step}, out / f"rank{context.rank}.pt")
    teardown_distributed()
    return 0


if __name__ == "__main__":
    sys.exit(main())
