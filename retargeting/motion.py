"""RobotMotion: the retargeter's output, and its file format (``.npz``, documented in retargeting/README.md).

File keys (all numpy arrays; strings as unicode arrays):
  format            "motiongpt-robot-motion"     version   1
  robot             robot name                   urdf      URDF path used
  joint_names (J,)  URDF joint names, the column order of positions/velocities
  times (T,)        seconds from the first sample, strictly increasing
  positions (T,J)   joint positions, rad (or m), inside the URDF limits
  velocities (T,J)  joint velocities, within the velocity limits (0 at both ends)
  base_positions (T,3)     root frame position, world Z up, m; the ground is z = 0
  base_orientations (T,4)  root frame orientation quaternion x, y, z, w
  contacts (T,2)    bool, left and right foot planted
  report            JSON text: limits, velocity handling, contacts, bad frames, errors
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np

from retargeting.errors import RetargetError

FORMAT_NAME = "motiongpt-robot-motion"
FORMAT_VERSION = 1


@dataclasses.dataclass
class RobotMotion:
    robot: str
    joint_names: list[str]
    times: np.ndarray
    positions: np.ndarray
    velocities: np.ndarray
    base_positions: np.ndarray
    base_orientations: np.ndarray
    contacts: np.ndarray
    report: dict[str, Any]
    urdf: str = ""

    @property
    def num_frames(self) -> int:
        return len(self.times)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_suffix(".npz")
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(
            path, format=np.array(FORMAT_NAME), version=np.array(FORMAT_VERSION), robot=np.array(self.robot),
            urdf=np.array(self.urdf), joint_names=np.array(self.joint_names), times=self.times,
            positions=self.positions, velocities=self.velocities, base_positions=self.base_positions,
            base_orientations=self.base_orientations, contacts=self.contacts,
            report=np.array(json.dumps(self.report, default=_json_default)),
        )
        return path

    @classmethod
    def load(cls, path: str | Path) -> "RobotMotion":
        path = Path(path)
        if not path.is_file():
            raise RetargetError(f"{path}: robot motion file not found")
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {key: data[key] for key in data.files}
        except Exception as error:  # zip or npy corruption surfaces as many exception types
            raise RetargetError(f"{path}: not a readable .npz robot motion file: {error}") from error
        required = ("format", "joint_names", "times", "positions", "velocities", "base_positions", "base_orientations")
        missing = [key for key in required if key not in arrays]
        if missing:
            raise RetargetError(f"{path}: robot motion file lacks {missing}")
        if str(arrays["format"]) != FORMAT_NAME:
            raise RetargetError(f"{path}: not a {FORMAT_NAME} file (format={arrays['format']})")
        motion = cls(
            robot=str(arrays.get("robot", "")), joint_names=[str(n) for n in arrays["joint_names"]],
            times=arrays["times"], positions=arrays["positions"], velocities=arrays["velocities"],
            base_positions=arrays["base_positions"], base_orientations=arrays["base_orientations"],
            contacts=arrays.get("contacts", np.zeros((len(arrays["times"]), 2), dtype=bool)),
            report=json.loads(str(arrays["report"])) if "report" in arrays else {}, urdf=str(arrays.get("urdf", "")),
        )
        motion.validate(str(path))
        return motion

    def validate(self, source: str = "robot motion") -> None:
        T, J = len(self.times), len(self.joint_names)
        shapes = {"positions": (T, J), "velocities": (T, J), "base_positions": (T, 3), "base_orientations": (T, 4)}
        for key, shape in shapes.items():
            value = getattr(self, key)
            if value.shape != shape:
                raise RetargetError(f"{source}: {key} has shape {value.shape}, expected {shape}")
            if not np.isfinite(value).all():
                raise RetargetError(f"{source}: {key} contains non-finite values")
        if T < 1 or not np.isfinite(self.times).all() or (T > 1 and not (np.diff(self.times) > 0).all()):
            raise RetargetError(f"{source}: times must be finite and strictly increasing")


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot serialise {type(value)}")
