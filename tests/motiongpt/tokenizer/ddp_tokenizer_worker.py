"""Worker for test_distributed_training.py, launched by torchrun: trains the tokenizer with
`train_tokenizer` (DDP, gloo) and saves this rank's weights and codebook EMA state to <out>/rank<R>.pt."""
from __future__ import annotations

import sys
from pathlib import Path

import torch

from motiongpt.tokenizer.train import train_tokenizer
from motiongpt.tokenizer.training_config import TokenizerTrainingConfig
from motiongpt.training import setup_distributed, teardown_distributed


def main() -> int:
    config_path, out = sys.argv[1], Path(sys.argv[2])
    torch.set_num_threads(1)
    context = setup_distributed("cpu")
    run = train_tokenizer(TokenizerTrainingConfig.from_yaml(config_path), context)
    torch.save({"state": run.model.state_dict(), "ema": run.model.quantizer.ema_state_dict(),
                "world_size": context.world_size, "backend": context.backend, "step": run.result.step},
               out / f"rank{context.rank}.pt")
    teardown_distributed()
    return 0


if __name__ == "__main__":
    sys.exit(main())
