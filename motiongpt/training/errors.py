"""Errors of the training plumbing (bad configuration, unusable checkpoint, unavailable device)."""
from __future__ import annotations


class TrainingError(ValueError):
    """A training run cannot start or resume; the message names the problem and the file."""
