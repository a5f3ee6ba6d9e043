"""Metric logging to TensorBoard (`tensorboard --logdir DIR`) and to `metrics.csv` (long format:
step, wall_time, name, value), so runs can be plotted with or without TensorBoard. Only the main
process should log (pass enabled=False elsewhere)."""
from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Mapping

CSV_FILE = "metrics.csv"
CSV_COLUMNS = ("step", "wall_time", "name", "value")


class MetricsLogger:
    def __init__(self, directory: str | Path, enabled: bool = True, tensorboard: bool = True) -> None:
        self.directory = Path(directory)
        self.enabled = enabled
        self._writer = None
        self._csv_file = None
        if not enabled:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        csv_path = self.directory / CSV_FILE
        is_new = not csv_path.exists() or csv_path.stat().st_size == 0
        self._csv_file = open(csv_path, "a", newline="")
        self._csv = csv.writer(self._csv_file)
        if is_new:
            self._csv.writerow(CSV_COLUMNS)
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter
            self._writer = SummaryWriter(log_dir=str(self.directory))

    def log(self, step: int, metrics: Mapping[str, float]) -> None:
        if not self.enabled:
            return
        now = time.time()
        for name, value in metrics.items():
            value = float(value)
            self._csv.writerow((step, f"{now:.3f}", name, f"{value:.8g}"))
            if self._writer is not None:
                self._writer.add_scalar(name, value, step, walltime=now)
        self._csv_file.flush()
        if self._writer is not None:
            self._writer.flush()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._csv_file is not None:
            self._csv_file.close()
            self._csv_file = None


def read_metrics_csv(path: str | Path) -> dict[str, list[tuple[int, float]]]:
    """{name: [(step, value), ...]} from a metrics.csv written by MetricsLogger."""
    series: dict[str, list[tuple[int, float]]] = {}
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            series.setdefault(row["name"], []).append((int(row["step"]), float(row["value"])))
    return series
