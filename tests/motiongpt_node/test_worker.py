"""The latest-wins worker, driven by a handler that blocks on events so the order is exact."""
import threading

import pytest

from motiongpt_node.worker import Job, LatestWinsWorker


class Recorder:
    def __init__(self):
        self.started, self.finished, self.dropped, self.errors = [], [], [], []
        self.release = threading.Event()
        self.running = threading.Event()

    def handler(self, job):
        self.started.append(job.payload)
        self.running.set()
        assert self.release.wait(5)
        if job.payload == "boom":
            raise RuntimeError("model exploded")
        if not job.cancelled.is_set():
            self.finished.append(job.payload)

    def on_dropped(self, job, reason):
        self.dropped.append((job.payload, reason))

    def on_error(self, job, error):
        self.errors.append((job.payload, str(error)))


@pytest.fixture
def worker():
    recorder = Recorder()
    worker = LatestWinsWorker(recorder.handler, recorder.on_dropped, recorder.on_error, max_pending=1)
    worker.start()
    yield worker, recorder
    recorder.release.set()
    worker.stop()


def wait_idle(worker):
    for _ in range(500):
        if not worker.busy:
            return
        threading.Event().wait(0.01)
    raise AssertionError("worker never became idle")


def test_new_command_preempts_running_and_replaces_pending(worker):
    worker, rec = worker
    worker.submit(Job("command", "a"))
    assert rec.running.wait(5)
    worker.submit(Job("command", "b"))
    worker.submit(Job("command", "c"))
    rec.release.set()
    wait_idle(worker)
    assert rec.finished == ["c"]
    reasons = dict(rec.dropped)
    assert reasons["a"].startswith("preempted by newer command #2")
    assert reasons["b"] == "replaced by newer command #3 before it started"


def test_non_preempting_job_is_refused_while_busy(worker):
    worker, rec = worker
    worker.submit(Job("command", "a"))
    assert rec.running.wait(5)
    assert worker.submit(Job("predict", "p", preempts=False)) is False
    rec.release.set()
    wait_idle(worker)
    assert worker.submit(Job("predict", "p", preempts=False)) is True
    wait_idle(worker)
    assert rec.finished == ["a", "p"] and rec.dropped == []


def test_cancel_all_and_errors_keep_the_worker_alive(worker):
    worker, rec = worker
    worker.submit(Job("command", "a"))
    assert rec.running.wait(5)
    worker.submit(Job("command", "b"))
    cancelled = worker.cancel_all("cancelled by ~/cancel")
    assert [job.payload for job in cancelled] == ["b"]  # "a" was already preempted by "b"
    assert rec.dropped[-1] == ("b", "cancelled by ~/cancel")
    rec.release.set()
    wait_idle(worker)
    assert rec.finished == []
    worker.submit(Job("command", "boom"))
    wait_idle(worker)
    worker.submit(Job("command", "after"))
    wait_idle(worker)
    assert rec.errors == [("boom", "model exploded")] and rec.finished == ["after"]


def test_thousand_submissions_run_at_most_a_few(worker):
    worker, rec = worker
    for k in range(1000):
        worker.submit(Job("command", k))
    rec.release.set()
    wait_idle(worker)
    assert rec.finished[-1] == 999
    assert len(rec.started) <= 3
    assert len(rec.dropped) == 1000 - len(rec.finished)


def test_cancel_one_job_running_or_waiting_and_not_twice(worker):
    worker, rec = worker
    running, waiting = Job("command", "a"), Job("command", "b")
    worker.submit(running)
    assert rec.running.wait(5)
    worker.submit(Job("predict", "p", preempts=False))  # refused while busy: nothing else queued
    assert worker.cancel(running, "goal cancelled")
    assert not worker.cancel(running, "again")
    worker.submit(waiting)
    assert worker.cancel(waiting, "goal cancelled before it started")
    rec.release.set()
    wait_idle(worker)
    assert rec.finished == []
    assert rec.dropped == [("a", "goal cancelled"), ("b", "goal cancelled before it started")]
    assert not worker.cancel(Job("command", "never queued"), "nothing")
