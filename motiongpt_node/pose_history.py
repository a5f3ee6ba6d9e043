"""A time-stamped history of the live human pose stream, resampled to the model's 20 fps on demand."""
from __future__ import annotations

import collections
import math
import threading

import numpy as np

from motiongpt.skeleton import FPS, NUM_JOINTS


MAX_POSE_RATE_HZ = 100.0  # samples closer together than 1/100 s are dropped: the model reads the stream at 20 fps


class PoseHistoryError(ValueError):
    """Not enough pose stream to work with."""


class PoseHistory:
    """Keeps the last `window_s` seconds of (time, (22,3) joints) samples; thread-safe.

    Bounded by time and by count: a sample stamped less than 1/`max_rate_hz` after the last kept one is
    dropped, and the history never holds more than `max_samples` = ceil(window_s * max_rate_hz) + 1 samples
    (1,001 for the default 10 s), whatever the stamps (e.g. a crafted stream 1 ns apart).
    """

    def __init__(self, window_s: float, fps: float = FPS, max_rate_hz: float = MAX_POSE_RATE_HZ) -> None:
        self.window_s = float(window_s)
        self.fps = float(fps)
        self.min_spacing_s = 1.0 / float(max_rate_hz)
        self.max_samples = int(math.ceil(self.window_s * float(max_rate_hz))) + 1
        self._samples: collections.deque[tuple[float, np.ndarray]] = collections.deque(maxlen=self.max_samples)
        self._lock = threading.Lock()

    def add(self, time_s: float, joints: np.ndarray) -> None:
        joints = np.asarray(joints, dtype=np.float64)
        if joints.shape != (NUM_JOINTS, 3):
            raise PoseHistoryError(f"pose must be ({NUM_JOINTS}, 3), got {joints.shape}")
        with self._lock:
            if self._samples and time_s <= self._samples[-1][0]:
                if time_s < self._samples[-1][0] - 1.0:
                    self._samples.clear()  # the clock jumped back (a replayed bag, a restarted source)
                else:
                    return  # a duplicate or out-of-order sample
            elif self._samples and time_s - self._samples[-1][0] < self.min_spacing_s:
                return  # faster than max_rate_hz: adds nothing at 20 fps, and would grow the history
            self._samples.append((float(time_s), joints))
            while self._samples and self._samples[0][0] < time_s - self.window_s:
                self._samples.popleft()

    def __len__(self) -> int:
        with self._lock:
            return len(self._samples)

    def span_s(self) -> float:
        with self._lock:
            return self._samples[-1][0] - self._samples[0][0] if len(self._samples) > 1 else 0.0

    def clear(self) -> None:
        with self._lock:
            self._samples.clear()

    def recent(self, seconds: float, min_seconds: float = 1.0) -> np.ndarray:
        """The last `seconds` (at most) of the stream at `fps`, linearly interpolated: (T,22,3)."""
        with self._lock:
            samples = list(self._samples)
        if len(samples) < 2 or samples[-1][0] - samples[0][0] < min_seconds:
            have = samples[-1][0] - samples[0][0] if len(samples) > 1 else 0.0
            raise PoseHistoryError(
                f"~/human_pose: need at least {min_seconds:.1f} s of pose stream, have {have:.2f} s"
            )
        times = np.array([t for t, _ in samples])
        frames = np.stack([j for _, j in samples]).reshape(len(samples), -1)
        end = times[-1]
        begin = max(times[0], end - seconds)
        count = int(np.floor((end - begin) * self.fps)) + 1
        grid = end - (count - 1 - np.arange(count)) / self.fps
        resampled = np.stack([np.interp(grid, times, frames[:, k]) for k in range(frames.shape[1])], axis=1)
        return resampled.reshape(count, NUM_JOINTS, 3)
