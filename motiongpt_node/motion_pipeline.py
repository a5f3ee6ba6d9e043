"""The two cores behind the node: MotionGPT (text or pose stream -> human motion) and the Retargeter
(human motion -> robot joint motion). ROS-free; the node calls it from its worker thread.
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from motiongpt.lm.model import GenerationInterrupted
from motiongpt.lm.templates import FRAMES_PER_CODE
from motiongpt.skeleton import FPS


class PipelineError(ValueError):
    """The model or the retargeter cannot be loaded, or returned something unusable."""


class CommandRefused(ValueError):
    """A command that would take more work or motion than allowed (steps, total length): refused unplanned."""


class GenerationCancelled(Exception):
    """A job's model call stopped at a cancel point: its `cancelled` event was set (newer command, ~/cancel)."""


STEP_GRID_S = FRAMES_PER_CODE / FPS
TRANSITION_SECONDS = 0.8  # generated in-between joining two steps (passed to MotionGPT.command explicitly)
MIN_FITTED_STEP_S = 1.0  # shortest step length the node asks for when it fits a command into max_duration


@dataclass(frozen=True)
class CommandPlan:
    """How a command will be generated, decided before anything is generated."""

    steps: tuple[str, ...]
    # the length of the steps that name none: None, the model chooses each (up to its free bound)
    seconds_per_step: float | None
    longest_s: float  # upper bound of the generated motion: the steps' lengths + transitions
    # True: seconds_per_step is the node's bound, not the user's length: the model chooses each step's length,
    # at most that long, so that the motion fits max_duration
    fitted: bool = False
    # the length each step names in its words ("wave for 2 seconds", `motiongpt.lm.request_timing`), or None;
    # the model generates such a step that long whatever seconds_per_step says
    said_seconds: tuple[float | None, ...] = ()

    def summary(self) -> str:
        if self.seconds_per_step is None:
            length = "model-chosen"
        else:
            length = f"{'at most ' if self.fitted else ''}{self.seconds_per_step:.1f} s"
        said = [s for s in self.said_seconds if s is not None]
        if not said:
            return f"{len(self.steps)} step(s) x {length} (at most {self.longest_s:.1f} s)"
        lengths = ", ".join(f"{s:.1f} s" if s is not None else length for s in self.said_seconds)
        return f"{len(self.steps)} step(s): {lengths} (at most {self.longest_s:.1f} s)"

    def lengths(self) -> dict[str, float]:
        """The step-length arguments of `MotionGPT.command`: the user's length, the node's bound, or none (a step
        that names its length is that long whatever they say)."""
        if self.seconds_per_step is None:
            return {}
        return {"max_seconds_per_step" if self.fitted else "seconds_per_step": self.seconds_per_step}


def _fitted_step(budget_s: float, steps: int) -> float:
    """The longest step length on the 0.2 s code grid such that ``steps`` steps fit in ``budget_s``."""
    return float(np.floor((budget_s / steps + 1e-9) / STEP_GRID_S) * STEP_GRID_S)


def plan_command(text: str, seconds_per_step: float | None, max_duration: float, max_steps: int,
                 free_step_s: float, transition_s: float = TRANSITION_SECONDS) -> CommandPlan:
    """Bound a command's work and motion before generating (issue 15, item 2).

    - more than `max_steps` steps: refused;
    - a step that names its length ("wave for 2 seconds", `motiongpt.lm.request_timing`) is that long: refused
      when that is longer than the model generates (`free_step_s`); the other steps are planned around it:
    - `seconds_per_step` given (> 0): refused when it is longer than the model generates or when the steps'
      lengths + transitions are longer than `max_duration`;
    - the model chooses (None or 0): when the steps at `free_step_s` + transitions could exceed `max_duration`,
      each step's length stays the model's choice, bounded by the longest length on the 0.2 s code grid that fits
      (at least MIN_FITTED_STEP_S), else refused. (A bound, not a fixed length: "walk forward, then raise your
      right hand" at a fixed 4.6 s per step raised the right hand alone in 17 of 50 seeds, bounded at 4.6 s in 48;
      `benchmarks/wave_semantics.py --command`.) Nothing longer than `max_duration` is ever generated only to be
      cut (the shaping for the robot may still stretch it past max_duration: `shorter_plan` then fits the steps
      again)."""
    from motiongpt.lm.commands import split_command
    from motiongpt.lm.request_timing import read_timing

    try:
        steps = tuple(split_command(text))
    except ValueError as error:
        raise CommandRefused(str(error)) from None
    count = len(steps)
    if count > max_steps:
        raise CommandRefused(f"command refused: {count} steps, more than max_command_steps={max_steps}; "
                             f"send fewer steps at a time")
    said = tuple(read_timing(step).seconds for step in steps)
    for step, seconds in zip(steps, said):
        if seconds is not None and not seconds > 0:
            raise CommandRefused(f"command refused: {step!r} asks for {seconds:g} s; a step must last longer than 0 s")
        if seconds is not None and seconds > free_step_s + 1e-9:
            raise CommandRefused(f"command refused: {step!r} asks for {seconds:g} s, longer than the model "
                                 f"generates per step ({free_step_s:g} s); say it as several steps")
    said_total = sum(s for s in said if s is not None)
    free = sum(s is None for s in said)
    transitions = (count - 1) * transition_s
    if seconds_per_step:
        if seconds_per_step > free_step_s + 1e-9:
            raise CommandRefused(f"command refused: seconds_per_step={seconds_per_step:g} s is longer than the "
                                 f"model generates per step ({free_step_s:g} s)")
        longest = said_total + free * seconds_per_step + transitions
        if longest > max_duration + 1e-9:
            raise CommandRefused(
                f"command refused: {count} step(s)"
                + (f" ({said_total:g} s said in the steps)" if said_total else "")
                + f" x seconds_per_step={seconds_per_step:g} s"
                + (f" + {transitions:.1f} s of transitions" if count > 1 else "")
                + f" = {longest:.1f} s, longer than max_duration={max_duration:g} s; send fewer steps or shorter ones")
        return CommandPlan(steps, float(seconds_per_step), longest, said_seconds=said)
    longest = said_total + free * free_step_s + transitions
    if longest <= max_duration + 1e-9:
        return CommandPlan(steps, None, longest, said_seconds=said)
    budget = max_duration - transitions - said_total
    fitted = _fitted_step(budget, free) if free else 0.0
    if not free or fitted < MIN_FITTED_STEP_S - 1e-9:
        need = said_total + free * MIN_FITTED_STEP_S + transitions
        parts = ([f"{said_total:g} s said in the steps"] if said_total else []) + (
            [f"{MIN_FITTED_STEP_S:g} s " + ("for each other step" if said_total else "each")] if free else [])
        raise CommandRefused(
            f"command refused: {count} steps need at least {need:.1f} s ({' + '.join(parts)} + {transitions:.1f} s "
            f"of transitions), longer than max_duration={max_duration:g} s; send fewer steps"
            + (" or shorter ones" if said_total else ""))
    fitted = round(fitted, 3)
    return CommandPlan(steps, fitted, said_total + free * fitted + transitions, fitted=True, said_seconds=said)


def shorter_plan(plan: CommandPlan, generated_s: float, shaped_s: float, max_duration: float) -> CommandPlan | None:
    """The plan again with shorter steps, when the motion it gave (`generated_s` long) lasted `shaped_s` once
    shaped for the robot (the move from the robot's posture, velocity and acceleration limits) and so would be
    cut at `max_duration`: the steps whose length the model chooses shrink by the ratio the shaping stretched
    them, on the 0.2 s code grid, so that the next motion fits with 2% to spare. None when the lengths are the
    user's (`seconds_per_step` given, or every step names its own), when nothing would be cut, or when the steps
    would have to be shorter than MIN_FITTED_STEP_S."""
    if shaped_s <= max_duration or generated_s <= 0 or (plan.seconds_per_step is not None and not plan.fitted):
        return None
    said = plan.said_seconds or (None,) * len(plan.steps)
    free = sum(s is None for s in said)
    if not free:
        return None
    said_total = sum(s for s in said if s is not None)
    transitions = (len(plan.steps) - 1) * TRANSITION_SECONDS
    current = (plan.seconds_per_step if plan.seconds_per_step is not None
               else (generated_s - transitions - said_total) / free)
    budget = 0.98 * generated_s * max_duration / shaped_s
    step = _fitted_step(budget - transitions - said_total, free)
    if step < MIN_FITTED_STEP_S - 1e-9 or step >= current - 1e-9:
        return None
    step = round(step, 3)
    return CommandPlan(plan.steps, step, said_total + free * step + transitions, fitted=True, said_seconds=said)


PACKAGE = "motiongpt_node"
SHIPPED_MODEL = Path("models") / "motiongpt-small"


def shipped_model_path() -> Path:
    """The shipped model: share/motiongpt_node/models/motiongpt-small of the colcon install (found through
    ament_index, as `colcon build` installs it there), else models/motiongpt-small of the repository checkout
    that the code runs from (`pip install -e .`). Where neither exists, the share path if the package is
    installed, else the checkout path (the node then says "model folder not found: <path>")."""
    candidates = []
    try:
        from ament_index_python.packages import PackageNotFoundError, get_package_share_directory
    except ImportError:  # no ament_index_python: not a ROS environment
        pass
    else:
        try:
            candidates.append(Path(get_package_share_directory(PACKAGE)) / SHIPPED_MODEL)
        except (PackageNotFoundError, ValueError, OSError):  # not installed in any prefix, or no AMENT_PREFIX_PATH
            pass
    import motiongpt

    candidates.append(Path(motiongpt.__file__).resolve().parents[1] / SHIPPED_MODEL)
    return next((folder for folder in candidates if folder.is_dir()), candidates[0])


def resolve_device(device: str) -> str:
    if device not in ("auto", "cpu", "cuda"):
        raise PipelineError(f"device must be auto, cpu or cuda, got {device!r}")
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise PipelineError("device=cuda was asked for but torch sees no CUDA device")
    return device


@dataclass(frozen=True)
class HumanMotion:
    joints: np.ndarray  # (T,22,3), Y up, metres, 20 fps
    seconds: float  # time the model took
    codes: np.ndarray | None = None  # the motion codes the joints were decoded from (None: not from codes)

    @property
    def duration_s(self) -> float:
        """Length of the motion (frames at 20 fps)."""
        return self.joints.shape[0] / FPS


@dataclass(frozen=True)
class RobotMotionPlan:
    joint_names: tuple[str, ...]
    times: np.ndarray  # (T,)
    positions: np.ndarray  # (T,J)
    base_positions: np.ndarray  # (T,3), robot frame Z up
    base_orientations: np.ndarray  # (T,4) x y z w
    seconds: float  # time the retargeter took
    report: Any = None


class MotionPipeline:
    """Thread-safe: one lock serializes model calls (the worker and the ~/describe service share it)."""

    def __init__(self, model: Any, retargeter: Any, seed: int = -1, candidates: int = 0, temperature: float = 0.0,
                 guidance: float = 0.0) -> None:
        self.model = model
        self.retargeter = retargeter
        self.set_sampling(seed, candidates, temperature, guidance)
        self._model_lock = threading.Lock()
        self._retarget_lock = threading.Lock()
        self._cancel: threading.Event | None = None  # the running job's event, set while it holds the model lock
        # the model stops at the end of the decoding step in which the running job is cancelled
        set_interrupt = getattr(model, "set_interrupt", None)
        if callable(set_interrupt):
            set_interrupt(self._cancelled)

    def set_sampling(self, seed: int, candidates: int, temperature: float, guidance: float) -> None:
        """The node's sampling parameters: ``seed`` -1 unseeded; ``candidates``, ``temperature`` and ``guidance``
        0 the model folder's own."""
        self.seed, self.candidates, self.temperature, self.guidance = seed, candidates, temperature, guidance

    @classmethod
    def load(cls, model_path: str, robot: str, device: str = "auto", seed: int = -1,
             cpu_threads: int = 1, candidates: int = 0, backend: str = "auto") -> "MotionPipeline":
        retargeter = cls.load_retargeter(robot)
        return cls(cls.load_model(model_path, device, cpu_threads, backend), retargeter, seed, candidates)

    @staticmethod
    def load_retargeter(robot: str) -> Any:
        from retargeting import Retargeter
        from retargeting.retargeter import RetargetSettings

        # The node retimes once, in trajectory_shaping (velocity scale, acceleration cap, the move from the current
        # state): the retargeter keeps the motion's own timing.
        return Retargeter.from_robot(robot, RetargetSettings(velocity_mode="none"))

    @staticmethod
    def load_model(model_path: str, device: str = "auto", cpu_threads: int = 1, backend: str = "auto") -> Any:
        import torch

        from motiongpt.lm import MotionGPT

        folder = Path(model_path) if model_path else shipped_model_path()
        if not folder.is_dir():
            raise PipelineError(f"model folder not found: {folder}")
        device = resolve_device(device)
        if device == "cpu":
            # Measured on 2 shared cores: 2 torch threads made an 8 s motion take 5 s to generate in
            # the node (busy OpenMP threads against the executor), 1 thread 0.2 s.
            torch.set_num_threads(cpu_threads if cpu_threads > 0 else (os.cpu_count() or 1))
        threads = cpu_threads if cpu_threads > 0 else (os.cpu_count() or 1)
        return MotionGPT.from_pretrained(folder, device=device, backend=backend, threads=threads)

    # ------------------------------------------------------------------ cancellation
    def _cancelled(self) -> bool:
        event = self._cancel
        return event is not None and event.is_set()

    def _check_cancel(self) -> None:
        if self._cancelled():
            raise GenerationCancelled("cancelled during generation")

    @property
    def free_step_seconds(self) -> float:
        """Longest motion the model generates for one step when it chooses the length (its max_codes)."""
        return int(getattr(self.model, "max_codes", 50)) * STEP_GRID_S

    def plan(self, text: str, seconds_per_step: float | None, max_duration: float, max_steps: int) -> CommandPlan:
        from motiongpt.lm.api import MAX_COMMAND_STEPS

        return plan_command(text, seconds_per_step, max_duration, min(max_steps, MAX_COMMAND_STEPS),
                            self.free_step_seconds)

    # ------------------------------------------------------------------ robot facts
    @property
    def robot_joint_names(self) -> tuple[str, ...]:
        return tuple(self.retargeter.joint_names)

    @property
    def urdf_path(self) -> Path:
        return Path(self.retargeter.robot.urdf_path)

    # ------------------------------------------------------------------ model calls
    def _seed(self) -> int | None:
        return self.seed if self.seed >= 0 else None

    def warm_up(self) -> float:
        """One short command through the model and the retargeter (nothing is published), so that the
        first real command does not pay for lazy initialisation (measured: 0.9 s instead of 0.3 s for the
        shipped model on CPU). Returns the seconds it took."""
        start = time.perf_counter()
        motion = self.command_to_motion("a person walks forward", seconds_per_step=1.0)
        self.retarget(motion.joints)
        return time.perf_counter() - start

    def command_to_motion(self, text: str, seconds_per_step: float | None = None,
                          cancelled: threading.Event | None = None,
                          max_seconds_per_step: float | None = None) -> HumanMotion:
        """Motion for a (possibly multi-step) command: MotionGPT.command splits and joins the steps (each
        `seconds_per_step` long, or of the model's length, at most `max_seconds_per_step` when given).
        Raises GenerationCancelled at the next cancel point once `cancelled` is set."""
        start = time.perf_counter()
        with self._model_lock:
            self._cancel = cancelled
            try:
                self._check_cancel()
                result = self.model.command(text, seconds_per_step=seconds_per_step,
                                            max_seconds_per_step=max_seconds_per_step,
                                            transition_seconds=TRANSITION_SECONDS, seed=self._seed(),
                                            candidates=self.candidates if self.candidates > 0 else None,
                                            temperature=self.temperature if self.temperature > 0 else None,
                                            guidance=self.guidance if self.guidance > 0 else None)
                self._check_cancel()
            except GenerationInterrupted:
                raise GenerationCancelled("cancelled during generation") from None
            finally:
                self._cancel = None
        return HumanMotion(_joints_of(result, "command"), time.perf_counter() - start, _codes_of(result))

    def predict(self, joints: np.ndarray, seconds: float, cancelled: threading.Event | None = None) -> HumanMotion:
        """The predicted continuation of `joints` (only the new frames)."""
        start = time.perf_counter()
        with self._model_lock:
            self._cancel = cancelled
            try:
                self._check_cancel()
                result = self.model.predict(joints, seconds=seconds, seed=self._seed())
                self._check_cancel()
            except GenerationInterrupted:
                raise GenerationCancelled("cancelled during generation") from None
            finally:
                self._cancel = None
        first, end = getattr(result, "segment", (0, len(result.joints)))
        return HumanMotion(_joints_of(result.joints[first:end], "predict"), time.perf_counter() - start)

    def meanings(self, steps: tuple[str, ...]):
        """The action each step asks for and its meaning similarity (`MotionGPT.meanings`: with the model
        folder's ``rephrase: meaning``, the action the step's motion is generated as), and the model's
        out-of-vocabulary threshold; (None, None) when the model folder has no meaning index."""
        meanings_of = getattr(self.model, "meanings", None)
        if meanings_of is None:
            return None, None
        with self._model_lock:
            meanings = meanings_of(list(steps))
        index = getattr(self.model, "meaning_index", None)
        return meanings, (index.threshold if meanings is not None and index is not None else None)

    def rephrased(self, steps: tuple[str, ...]) -> list[str] | None:
        """The training caption each step is generated from when the model folder rephrases requests
        (`MotionGPT.generated_from`); None when it does not."""
        generated_from = getattr(self.model, "generated_from", None)
        if generated_from is None:
            return None
        with self._model_lock:
            return generated_from(list(steps))

    def played_speeds(self, steps: tuple[str, ...]) -> list[float] | None:
        """How many times as fast each step is played (`MotionGPT.played_speeds`); None for a model without it."""
        played_speeds = getattr(self.model, "played_speeds", None)
        if played_speeds is None:
            return None
        with self._model_lock:
            return played_speeds(list(steps))

    def describe(self, joints: np.ndarray) -> str:
        """The model's caption of (T,22,3) joints (encoded to codes first); an empty caption is an error."""
        with self._model_lock:
            text = self.model.motion_to_text(np.asarray(joints, dtype=np.float32))
        return self._caption(text, len(joints))

    def describe_motion(self, motion: HumanMotion) -> str:
        """The caption of a generated motion: from the codes it was decoded from (no re-encoding of the
        joints, which gives other codes), or from its joints when it has none."""
        if motion.codes is None:
            return self.describe(motion.joints)
        with self._model_lock:
            text = self.model.captions_for_codes([motion.codes])[0]
        return self._caption(text, len(motion.joints))

    @staticmethod
    def _caption(text: Any, frames: int) -> str:
        if not isinstance(text, str):
            raise PipelineError(f"motion_to_text returned {type(text).__name__}, not text")
        caption = " ".join(text.split())
        if not caption:
            raise PipelineError(f"the model gave an empty caption for {frames / FPS:.1f} s of motion "
                                f"(noise or implausible motion?)")
        return caption

    def retarget(self, joints: np.ndarray, start_positions: np.ndarray | None = None, limits: Any = None
                 ) -> RobotMotionPlan:
        """Robot motion for (T,22,3) human joints; `start_positions` (robot joint order) warm-starts the IK;
        `limits` (a JointLimits covering the retargeter's joints; default: the robot's own) are the velocity and
        acceleration limits the motion is solved within: the node passes those it publishes under
        (`NodeConfig.published_limits`), so that its shaping keeps the motion's time."""
        start = time.perf_counter()
        within = solve_within(limits, self.robot_joint_names)
        with self._retarget_lock:
            motion = self.retargeter.retarget(joints, fps=FPS, start_positions=start_positions, source="generated motion",
                                              **within)
        return RobotMotionPlan(
            joint_names=tuple(motion.joint_names),
            times=np.asarray(motion.times, dtype=np.float64),
            positions=np.asarray(motion.positions, dtype=np.float64),
            base_positions=np.asarray(motion.base_positions, dtype=np.float64),
            base_orientations=np.asarray(motion.base_orientations, dtype=np.float64),
            seconds=time.perf_counter() - start,
            report=getattr(motion, "report", None),
        )


def solve_within(limits: Any, joint_names: tuple[str, ...] | list[str]) -> dict[str, np.ndarray]:
    """Keyword arguments of `Retargeter.retarget` that keep a motion of `joint_names` within `limits` (a
    JointLimits covering them; None: the robot's own velocity limits, no acceleration bound)."""
    if limits is None:
        return {}
    own = limits.select(tuple(joint_names))
    return {"velocity_limits": own.velocity, "acceleration_limits": own.acceleration}


def _codes_of(result: Any) -> np.ndarray | None:
    codes = getattr(result, "codes", None)
    if codes is None:
        return None
    codes = np.asarray(codes).reshape(-1)
    return codes.astype(np.int64) if codes.size and np.issubdtype(codes.dtype, np.integer) else None


def _joints_of(result: Any, call: str) -> np.ndarray:
    joints = getattr(result, "joints", result)
    joints = np.asarray(joints, dtype=np.float64)
    if joints.ndim != 3 or joints.shape[1:] != (22, 3) or joints.shape[0] < 2 or not np.all(np.isfinite(joints)):
        raise PipelineError(f"MotionGPT.{call} returned joints of shape {joints.shape}; expected finite (T>=2, 22, 3)")
    return joints
