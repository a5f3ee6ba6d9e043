"""Sampling weights that balance a dataset's actions, shared by the tokenizer's training windows and the language
model's training examples (`data.action_balance` / `action_balance` in their configs)."""
from __future__ import annotations

from collections import Counter
from typing import Sequence


def action_balanced_weights(names: Sequence[str], actions: dict[str, str], power: float = 1.0,
                            styles: dict[str, str] | None = None, style_power: float = 0.0) -> list[float]:
    """Per-clip sampling weights so that each action's share is proportional to (its clip count)^(1-power):
    power 1 gives every action the same share, 0 samples clips uniformly. Clips without a label count as
    one action of their own.

    Within an action, its share goes to the style groups of its clips (``styles``: motion name -> style; clips
    without one, such as the DeepMimic clips, form a group of their own) in proportion to (the group's clip
    count)^(1-style_power): style_power 0 (the default) leaves a group its clips' plain share, 1 gives every
    style of an action, and the unstyled clips of that action, the same share."""
    labels = [actions.get(name, f"<unlabelled:{name}>") for name in names]
    groups = [(label, (styles or {}).get(name, "")) for name, label in zip(names, labels)]
    action_counts, group_counts = Counter(labels), Counter(groups)
    group_shares = {group: count ** (1.0 - float(style_power)) for group, count in group_counts.items()}
    action_totals: Counter = Counter()
    for (label, _), share in group_shares.items():
        action_totals[label] += share
    return [action_counts[label] ** (1.0 - float(power)) * group_shares[group] / action_totals[label]
            / group_counts[group] for label, group in zip(labels, groups)]
