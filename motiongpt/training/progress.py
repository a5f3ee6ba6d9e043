"""A tqdm progress bar over training steps that shows running (exponentially smoothed) losses."""
from __future__ import annotations

from typing import Mapping

from tqdm.auto import tqdm


class RunningAverages:
    """Exponential moving averages of named scalars (smoothing 0 = last value only)."""

    def __init__(self, smoothing: float = 0.9) -> None:
        self.smoothing = smoothing
        self.values: dict[str, float] = {}

    def update(self, metrics: Mapping[str, float]) -> dict[str, float]:
        for name, value in metrics.items():
            value = float(value)
            previous = self.values.get(name)
            self.values[name] = value if previous is None else self.smoothing * previous + (1 - self.smoothing) * value
        return dict(self.values)


class ProgressBar:
    def __init__(self, total: int, initial: int = 0, enabled: bool = True, desc: str = "train",
                 smoothing: float = 0.9) -> None:
        self.running = RunningAverages(smoothing)
        self._bar = tqdm(total=total, initial=initial, desc=desc, disable=not enabled, dynamic_ncols=True,
                         unit="step")

    def update(self, metrics: Mapping[str, float], steps: int = 1) -> None:
        averages = self.running.update(metrics)
        self._bar.set_postfix({k: f"{v:.4g}" for k, v in averages.items()}, refresh=False)
        self._bar.update(steps)

    def write(self, message: str) -> None:
        self._bar.write(message)

    def close(self) -> None:
        self._bar.close()
