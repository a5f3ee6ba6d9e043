"""One background worker that runs jobs one at a time, latest wins.

A new job preempts the running one (its `cancelled` event is set; the handler checks it between
stages and throws its result away) and replaces waiting jobs beyond `max_pending`. Every job that
is dropped is passed to `on_dropped(job, reason)` so the node can say so on ~/status.
"""
from __future__ import annotations

import collections
import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable



@dataclass
class Job:
    kind: str  # "command", "predict", ...
    payload: Any
    preempts: bool = True  # False: run only when idle, never interrupt others (prediction ticks)
    id: int = 0
    received: float = field(default_factory=time.monotonic)
    cancelled: threading.Event = field(default_factory=threading.Event)
    cancel_reason: str = ""
    delivered: bool = False  # its result went out; cancelling now only skips follow-up work
    meaning: str = ""  # a command's meaning per step, for its log line (command_policy.describe_meanings)
    goal: Any = None  # the ~/execute_command goal following this command (command_action.CommandGoal), if any

    def cancel(self, reason: str) -> None:
        if not self.cancelled.is_set():
            self.cancel_reason = reason
            self.cancelled.set()


class LatestWinsWorker:
    def __init__(
        self,
        handler: Callable[[Job], None],
        on_dropped: Callable[[Job, str], None],
        on_error: Callable[[Job, BaseException], None],
        max_pending: int = 1,
    ) -> None:
        if max_pending < 1:
            raise ValueError(f"max_pending must be >= 1, got {max_pending}")
        self._handler, self._on_dropped, self._on_error = handler, on_dropped, on_error
        self._max_pending = max_pending
        self._pending: collections.deque[Job] = collections.deque()
        self._running: Job | None = None
        self._ids = itertools.count(1)
        self._condition = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name="motiongpt-worker", daemon=True)
        self.setup: Callable[[], None] | None = None

    def start(self, setup: Callable[[], None] | None = None) -> None:
        """Start the thread; `setup` (e.g. loading the model) runs on it before the first job."""
        self.setup = setup
        self._thread.start()

    @property
    def busy(self) -> bool:
        with self._condition:
            return self._running is not None or bool(self._pending)

    @property
    def running(self) -> Job | None:
        with self._condition:
            return self._running

    def submit(self, job: Job) -> bool:
        """Queue `job`; False (and nothing queued) when it does not preempt and the worker is busy."""
        dropped: list[tuple[Job, str]] = []
        with self._condition:
            if self._stopping:
                return False
            if not job.preempts and (self._running is not None or self._pending):
                return False
            job.id = next(self._ids)
            if self._running is not None and not self._running.cancelled.is_set():
                self._running.cancel(f"preempted by newer {job.kind} #{job.id}")
                dropped.append((self._running, self._running.cancel_reason))
            while len(self._pending) >= self._max_pending:
                old = self._pending.popleft()
                old.cancel(f"replaced by newer {job.kind} #{job.id} before it started")
                dropped.append((old, old.cancel_reason))
            self._pending.append(job)
            self._condition.notify()
        for old, reason in dropped:
            self._on_dropped(old, reason)
        return True

    def cancel_all(self, reason: str) -> list[Job]:
        """Cancel the running job and every waiting one; returns them."""
        with self._condition:
            jobs = list(self._pending)
            self._pending.clear()
            if self._running is not None and not self._running.cancelled.is_set():
                jobs.insert(0, self._running)
            for job in jobs:
                job.cancel(reason)
        for job in jobs:
            self._on_dropped(job, reason)
        return jobs

    def cancel(self, job: Job, reason: str) -> bool:
        """Cancel one job, waiting or running; False when it has already ended or was cancelled."""
        with self._condition:
            if job in self._pending:
                self._pending.remove(job)
            elif job is not self._running or job.cancelled.is_set():
                return False
            job.cancel(reason)
        self._on_dropped(job, reason)
        return True

    def stop(self, timeout: float = 5.0) -> None:
        with self._condition:
            self._stopping = True
            for job in self._pending:
                job.cancel("node shutting down")
            self._pending.clear()
            if self._running is not None:
                self._running.cancel("node shutting down")
            self._condition.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        if self.setup is not None:
            try:
                self.setup()
            except BaseException as error:  # noqa: BLE001 - reported (once, by on_error), the worker then refuses jobs
                self._on_error(Job("setup", None), error)
        while True:
            with self._condition:
                while not self._pending and not self._stopping:
                    self._condition.wait()
                if self._stopping:
                    return
                job = self._pending.popleft()
                self._running = job
            try:
                self._handler(job)
            except BaseException as error:  # noqa: BLE001 - one bad job must not end the worker
                self._on_error(job, error)
            finally:
                with self._condition:
                    self._running = None
