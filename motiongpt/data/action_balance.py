"""Sampling weights that balance a dataset's actions, shared by the tokenizer's training windows and the language
model's training examples (`data.action_balance` / `action_balance` in their configs)."""
from __future__ import annotations

from typing import Sequence


def action_balanced_weights(names: Sequence[str], actions: dict[str, str], power: float = 1.0) -> list[float]:
    """Per-clip sampling weights so that each action's share is proportional to (its clip count)^(1-power):
    power 1 gives every action the same share, 0 samples clips uniformly. Clips without a label count as
    one action of their own."""
    counts: dict[str, int] = {}
    labels = [actions.get(name, f"<unlabelled:{name}>") for name in names]
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    return [counts[label] ** (-float(power)) for label in labels]
