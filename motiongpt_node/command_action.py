"""The command action `~/execute_command` (motiongpt_interfaces/action/ExecuteCommand): one goal per command.

A goal follows its command through the node: feedback at each stage (understanding, generating,
retargeting, executing; while executing, the controller's progress along the trajectory) and one result
when the command ends: executed (with the controller's FollowJointTrajectory result), published (sent on
the topic, no controller result exists), previewed, refused, cancelled or failed. `CommandGoal` collects
what the result reports as the command goes; the node finishes it exactly once, from whichever thread
ends the command (the worker, the executor on a controller result, a cancel).

The interface package is optional at run time: without it the node serves no action (it logs why) and
the `command` topic works as before.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from rclpy.task import Future

UNDERSTANDING, GENERATING, RETARGETING, EXECUTING = "understanding", "generating", "retargeting", "executing"
# Progress over the whole command when each stage starts; executing runs from 0.8 to 1.0 with the controller.
STAGE_PROGRESS = {UNDERSTANDING: 0.0, GENERATING: 0.1, RETARGETING: 0.6, EXECUTING: 0.8}
EXECUTED, PUBLISHED, PREVIEWED = "executed", "published", "previewed"
REFUSED, CANCELLED, FAILED = "refused", "cancelled", "failed"
SUCCESSFUL_OUTCOMES = (EXECUTED, PUBLISHED, PREVIEWED)


def import_action_type():
    """The ExecuteCommand action type, or None with the reason when motiongpt_interfaces is not built."""
    try:
        from motiongpt_interfaces.action import ExecuteCommand
    except ImportError as error:
        return None, f"motiongpt_interfaces is not importable ({error})"
    return ExecuteCommand, ""


@dataclass(frozen=True)
class ControllerResult:
    """What the FollowJointTrajectory server answered: the goal status and its result fields."""

    status: str  # SUCCEEDED, ABORTED, CANCELED, REJECTED ...
    error_code: int
    error_string: str

    @property
    def executed(self) -> bool:
        """The goal succeeded with error code 0 (SUCCESSFUL)."""
        return self.status == "SUCCEEDED" and self.error_code == 0


class CommandGoal:
    """One accepted ExecuteCommand goal: its options, what its command produced so far, and its result."""

    def __init__(self, action_type: Any, handle: Any, done: Future) -> None:
        self._type = action_type
        self.handle = handle
        self.done = done  # completed with the Result message by finish()
        request = handle.request
        self.text: str = request.text
        self.seconds_per_step: float = float(request.seconds_per_step)
        self.preview_only: bool = bool(request.preview_only)
        self.result = action_type.Result()
        self.job: Any = None  # the worker job running the command (motiongpt_node.worker.Job)
        self.via_controller = False  # the trajectory went to the FollowJointTrajectory action
        self.stopped_reason = ""  # set when a newer trajectory or a cancel stops the one executing
        self.outcome_when_done = ""  # published or previewed: the outcome once the caption is made
        self._lock = threading.Lock()
        self._finished = False

    @property
    def finished(self) -> bool:
        with self._lock:
            return self._finished

    def feedback(self, stage: str, message: str = "", progress: float | None = None) -> None:
        if self.finished:
            return
        feedback = self._type.Feedback(stage=stage, message=message)
        feedback.progress = float(STAGE_PROGRESS[stage] if progress is None else progress)
        self.handle.publish_feedback(feedback)

    def understood(self, steps: tuple[str, ...], meanings: list[str]) -> None:
        self.result.steps = [str(step) for step in steps]
        self.result.meanings = list(meanings)

    def delivered(self, trajectory_msg: Any, timings: dict[str, float], duration: float) -> None:
        self.result.trajectory = trajectory_msg
        self.result.generation_time = float(timings.get("generation_s", 0.0))
        self.result.retargeting_time = float(timings.get("retargeting_s", 0.0))
        self.result.time_to_trajectory = float(timings.get("total_s", 0.0))
        self.result.trajectory_duration = float(duration)

    def controller_progress(self, elapsed: float) -> None:
        duration = self.result.trajectory_duration
        fraction = min(max(elapsed / duration, 0.0), 1.0) if duration > 0 else 1.0
        span = 1.0 - STAGE_PROGRESS[EXECUTING]
        self.feedback(EXECUTING, f"{elapsed:.2f} of {duration:.2f} s", STAGE_PROGRESS[EXECUTING] + span * fraction)

    def finish(self, outcome: str, message: str, controller: ControllerResult | None = None) -> bool:
        """Complete the goal with ``outcome``; False (and nothing changes) when it has already ended."""
        with self._lock:
            if self._finished:
                return False
            self._finished = True
        self.result.outcome, self.result.message = outcome, message
        if controller is not None:
            self.result.controller_result_received = True
            self.result.controller_error_code = int(controller.error_code)
            self.result.controller_error_string = controller.error_string
        self.done.set_result(self.result)
        return True


def controller_outcome(result: ControllerResult, preempted: bool) -> tuple[str, str]:
    """The command's outcome and message from the controller's answer to its trajectory."""
    if result.executed:
        return EXECUTED, "the controller executed the trajectory"
    detail = f"controller: {result.status}, error_code {result.error_code}" + (
        f" ({result.error_string})" if result.error_string else "")
    if preempted or result.status == "CANCELED":
        return CANCELLED, detail
    return FAILED, detail
