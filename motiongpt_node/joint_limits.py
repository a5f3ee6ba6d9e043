"""Joint position, velocity and acceleration limits of a robot, read from its URDF and robot config (ROS-free,
numpy only).

`JointLimits.for_robot` gives the limits the retargeter uses: the URDF's position limits, and velocity limits by
the robot config's rule (`retargeting.robot_config.velocity_limits`, the one owner of that rule: the YAML's
per-joint limits and its `max_joint_velocity` cap, 9.42 rad/s for the G1); and the acceleration cap of published
trajectories, the robot config's `max_joint_acceleration` (120 rad/s^2 for the G1, 80 for Talos and Romeo). A URDF
alone gives no acceleration limit (inf)."""
from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

LIMITED_JOINT_TYPES = ("revolute", "prismatic")
UNLIMITED_JOINT_TYPES = ("continuous",)


class JointLimitsError(ValueError):
    """A URDF that cannot give joint limits (missing file, bad XML, a joint without limits)."""


@dataclass(frozen=True)
class JointLimits:
    """Per-joint limits, in the order of `joint_names` (radians, rad/s, rad/s^2; metres, m/s, m/s^2 for
    prismatic). `acceleration` defaults to inf (no limit)."""

    joint_names: tuple[str, ...]
    lower: np.ndarray
    upper: np.ndarray
    velocity: np.ndarray
    acceleration: np.ndarray | None = None

    def __post_init__(self) -> None:
        count = len(self.joint_names)
        if len(set(self.joint_names)) != count:
            raise JointLimitsError(f"duplicate joint names in {self.joint_names}")
        if self.acceleration is None:
            object.__setattr__(self, "acceleration", np.full(count, np.inf))
        for name in ("lower", "upper", "velocity", "acceleration"):
            array = np.asarray(getattr(self, name), dtype=np.float64)
            if array.shape != (count,):
                raise JointLimitsError(f"joint limits: {name} has shape {array.shape}, expected ({count},)")
            object.__setattr__(self, name, array)
        if np.any(np.isnan(self.lower)) or np.any(np.isnan(self.upper)) or np.any(self.lower > self.upper):
            raise JointLimitsError("joint limits: every lower limit must be <= its upper limit")
        if not np.all(self.velocity > 0):
            raise JointLimitsError("joint limits: every velocity limit must be positive")
        if not np.all(self.acceleration > 0):
            raise JointLimitsError("joint limits: every acceleration limit must be positive (inf: none)")

    @classmethod
    def from_urdf(cls, urdf: str | Path, joint_names: list[str] | tuple[str, ...] | None = None) -> "JointLimits":
        """Limits of `joint_names` (default: every movable joint in file order) from a URDF file."""
        path = Path(urdf)
        if not path.is_file():
            raise JointLimitsError(f"URDF file not found: {path}")
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError as error:
            raise JointLimitsError(f"URDF {path} is not valid XML: {error}") from error
        found: dict[str, tuple[float, float, float]] = {}
        for joint in root.iter("joint"):
            name, kind = joint.get("name"), joint.get("type")
            if kind not in LIMITED_JOINT_TYPES + UNLIMITED_JOINT_TYPES:
                continue
            limit = joint.find("limit")
            if limit is None or limit.get("velocity") is None:
                raise JointLimitsError(f"URDF {path}: joint {name!r} has no <limit velocity=...>")
            try:
                velocity = float(limit.get("velocity"))
                if kind in UNLIMITED_JOINT_TYPES:
                    lower, upper = -math.inf, math.inf
                else:
                    lower, upper = float(limit.get("lower", "0")), float(limit.get("upper", "0"))
            except ValueError as error:
                raise JointLimitsError(f"URDF {path}: joint {name!r} has a non-numeric limit: {error}") from error
            found[name] = (lower, upper, velocity)
        names = tuple(found) if joint_names is None else tuple(joint_names)
        missing = [name for name in names if name not in found]
        if missing:
            raise JointLimitsError(f"URDF {path} has no movable joints named {missing}")
        rows = np.array([found[name] for name in names], dtype=np.float64).reshape(-1, 3)
        return cls(names, rows[:, 0], rows[:, 1], rows[:, 2])

    @classmethod
    def for_robot(cls, robot: str | Path, urdf: str | Path | None = None) -> "JointLimits":
        """Limits of every movable joint of a retargeting robot (a shipped name or a YAML path): ``urdf`` (default:
        the robot config's URDF) read as `from_urdf` does, velocity limits by the robot config's rule, the robot
        config's acceleration cap on every joint."""
        from retargeting.robot_config import load_robot_config, velocity_limits

        config = load_robot_config(robot)
        limits = cls.from_urdf(urdf or config.urdf_path())
        cap = np.inf if config.max_joint_acceleration is None else config.max_joint_acceleration
        return cls(limits.joint_names, limits.lower, limits.upper,
                   velocity_limits(config, limits.joint_names, limits.velocity),
                   np.full(len(limits.joint_names), cap))

    def select(self, joint_names: list[str] | tuple[str, ...]) -> "JointLimits":
        """The limits of `joint_names` only, in that order."""
        missing = [name for name in joint_names if name not in self.joint_names]
        if missing:
            raise JointLimitsError(f"no limits for joints {missing}")
        order = [self.joint_names.index(name) for name in joint_names]
        return JointLimits(tuple(joint_names), self.lower[order], self.upper[order], self.velocity[order],
                           self.acceleration[order])

    def with_velocity_cap(self, cap: float) -> "JointLimits":
        """The same limits with every velocity limit lowered to at most `cap`."""
        if not cap > 0:
            raise JointLimitsError(f"velocity cap must be positive, got {cap}")
        return replace(self, velocity=np.minimum(self.velocity, cap))

    def with_acceleration_cap(self, cap: float) -> "JointLimits":
        """The same limits with every acceleration limit lowered to at most `cap`."""
        if not cap > 0:
            raise JointLimitsError(f"acceleration cap must be positive, got {cap}")
        return replace(self, acceleration=np.minimum(self.acceleration, cap))
