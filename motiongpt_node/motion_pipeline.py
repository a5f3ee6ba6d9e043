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

from motiongpt.skeleton import FPS


class PipelineError(ValueError):
    """The model or the retargeter cannot be loaded, or returned something unusable."""


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

    def __init__(self, model: Any, retargeter: Any, seed: int = -1, candidates: int = 0) -> None:
        self.model = model
        self.retargeter = retargeter
        self.seed = seed
        self.candidates = candidates  # 0: the model folder's default
        self._model_lock = threading.Lock()
        self._retarget_lock = threading.Lock()

    @classmethod
    def load(cls, model_path: str, robot: str, device: str = "auto", seed: int = -1,
             cpu_threads: int = 1, candidates: int = 0, backend: str = "auto") -> "MotionPipeline":
        retargeter = cls.load_retargeter(robot)
        return cls(cls.load_model(model_path, device, cpu_threads, backend), retargeter, seed, candidates)

    @staticmethod
    def load_retargeter(robot: str) -> Any:
        from retargeting import Retargeter

        return Retargeter.from_robot(robot)

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

    def command_to_motion(self, text: str, seconds_per_step: float | None = None) -> HumanMotion:
        """Motion for a (possibly multi-step) command: MotionGPT.command splits and joins the steps."""
        start = time.perf_counter()
        with self._model_lock:
            result = self.model.command(text, seconds_per_step=seconds_per_step, seed=self._seed(),
                                        candidates=self.candidates if self.candidates > 0 else None)
        return HumanMotion(_joints_of(result, "command"), time.perf_counter() - start)

    def predict(self, joints: np.ndarray, seconds: float) -> HumanMotion:
        """The predicted continuation of `joints` (only the new frames)."""
        start = time.perf_counter()
        with self._model_lock:
            result = self.model.predict(joints, seconds=seconds, seed=self._seed())
        first, end = getattr(result, "segment", (0, len(result.joints)))
        return HumanMotion(_joints_of(result.joints[first:end], "predict"), time.perf_counter() - start)

    def describe(self, joints: np.ndarray) -> str:
        """The model's caption of (T,22,3) joints; an empty caption is an error, not an answer."""
        with self._model_lock:
            text = self.model.motion_to_text(np.asarray(joints, dtype=np.float32))
        if not isinstance(text, str):
            raise PipelineError(f"motion_to_text returned {type(text).__name__}, not text")
        caption = " ".join(text.split())
        if not caption:
            raise PipelineError(f"the model gave an empty caption for {len(joints) / FPS:.1f} s of motion "
                                f"(noise or implausible motion?)")
        return caption

    def retarget(self, joints: np.ndarray, start_positions: np.ndarray | None = None) -> RobotMotionPlan:
        """Robot motion for (T,22,3) human joints; `start_positions` (robot joint order) warm-starts the IK."""
        start = time.perf_counter()
        with self._retarget_lock:
            motion = self.retargeter.retarget(joints, fps=FPS, start_positions=start_positions, source="generated motion")
        return RobotMotionPlan(
            joint_names=tuple(motion.joint_names),
            times=np.asarray(motion.times, dtype=np.float64),
            positions=np.asarray(motion.positions, dtype=np.float64),
            base_positions=np.asarray(motion.base_positions, dtype=np.float64),
            base_orientations=np.asarray(motion.base_orientations, dtype=np.float64),
            seconds=time.perf_counter() - start,
            report=getattr(motion, "report", None),
        )


def _joints_of(result: Any, call: str) -> np.ndarray:
    joints = getattr(result, "joints", result)
    joints = np.asarray(joints, dtype=np.float64)
    if joints.ndim != 3 or joints.shape[1:] != (22, 3) or joints.shape[0] < 2 or not np.all(np.isfinite(joints)):
        raise PipelineError(f"MotionGPT.{call} returned joints of shape {joints.shape}; expected finite (T>=2, 22, 3)")
    return joints
