"""Seeding and RNG state capture, so that runs are reproducible and resume where they stopped."""
from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch


def seed_everything(seed: int, rank: int = 0) -> int:
    """Seed Python, NumPy and torch (CPU and CUDA) with `seed + rank`; returns that value.
    Different ranks get different streams (different random windows/dropout), same model init is ensured
    separately by DDP's initial broadcast."""
    effective = int(seed) + int(rank)
    random.seed(effective)
    np.random.seed(effective % (2 ** 32))
    torch.manual_seed(effective)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(effective)
    return effective


def capture_rng_state() -> dict[str, Any]:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])
