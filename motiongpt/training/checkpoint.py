"""Training checkpoints: one torch file per saved step in a folder, written atomically, oldest pruned.

A checkpoint is a plain dict (model/optimizer/scheduler state dicts, the step, RNG states, ...);
`CheckpointManager` only decides where it goes and finds the newest one to resume from.
"""
from __future__ import annotations

import os
import pickle
import re
import zipfile
from pathlib import Path
from typing import Any

import torch

from motiongpt.training.errors import TrainingError

_NAME = re.compile(r"^step_(\d{8,})\.pt$")


class CheckpointManager:
    def __init__(self, directory: str | Path, keep_last: int = 3) -> None:
        self.directory = Path(directory)
        self.keep_last = max(int(keep_last), 1)

    def path_for(self, step: int) -> Path:
        return self.directory / f"step_{step:08d}.pt"

    def list(self) -> list[tuple[int, Path]]:
        """(step, path) of every checkpoint in the folder, oldest first."""
        if not self.directory.is_dir():
            return []
        found = [(int(m.group(1)), p) for p in self.directory.iterdir() if (m := _NAME.match(p.name))]
        return sorted(found)

    def latest(self) -> Path | None:
        found = self.list()
        return found[-1][1] if found else None

    def save(self, step: int, state: dict[str, Any]) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path_for(step)
        temporary = path.with_suffix(".pt.tmp")
        torch.save(state, temporary)
        os.replace(temporary, path)  # atomic: a crash never leaves a half-written step_*.pt
        for _, old in self.list()[:-self.keep_last]:
            old.unlink(missing_ok=True)
        return path

    @staticmethod
    def load(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
        path = Path(path)
        if not path.is_file():
            raise TrainingError(f"{path}: checkpoint not found")
        try:
            state = torch.load(path, map_location=map_location, weights_only=False)
        except (RuntimeError, pickle.UnpicklingError, zipfile.BadZipFile, EOFError, OSError) as error:
            raise TrainingError(f"{path}: corrupt or unreadable checkpoint ({error})") from error
        if not isinstance(state, dict) or "step" not in state:
            raise TrainingError(f"{path}: not a training checkpoint (no 'step' entry)")
        return state
