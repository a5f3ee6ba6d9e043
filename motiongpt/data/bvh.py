"""BVH motion files: a reader with vectorised forward kinematics, and a writer for 22-joint SMPL motions.

Reader (:func:`read_bvh`, :func:`parse_bvh`): the HIERARCHY (joint names, parents, OFFSETs, CHANNELS of
any joint, End Sites) and the MOTION block (frame count, frame time, one row of floats per frame).
Any joint may carry position channels (the Bandai Namco files give every joint six); a joint's
position channels *replace* its OFFSET as its translation in the parent frame (the usual reading of
a root's channels, applied to every joint), and a joint without them is translated by its OFFSET.
Rotation channels are intrinsic rotations applied in the order written: ``Zrotation Xrotation
Yrotation`` is R = Rz(z) Rx(x) Ry(y) (scipy ``from_euler("ZXY", ...)``), degrees.

Forward kinematics (:func:`forward_kinematics`): world rotation R_j = R_parent R_local and world
position p_j = p_parent + R_parent t_j, in file units (no scaling, no axis change), for all frames at
once. Checked on the Bandai Namco files: bone lengths stay equal to the OFFSETs in every frame and
the figure stands upright on Y.

Writer (:func:`write_bvh`): 22 SMPL joints (T, 22, 3), Y up, metres, as a BVH with the SMPL joint
names and the SMPL hierarchy (``motiongpt.skeleton.PARENTS``), the root (pelvis) with six channels
and every other joint with three rotation channels (``Zrotation Xrotation Yrotation``); the rest pose
(OFFSETs) is the first frame's pose, with each bone scaled to its mean length over the motion, and
the rotations are fitted so that the file's forward kinematics reproduce the joints (exactly for
rigid motions; a joint with several children gets the least-squares (Kabsch) rotation of its child
bones). With ``translations=True`` every joint gets six channels and the positions are reproduced
exactly even where bone lengths vary (e.g. generated motions). Units are written in metres by
default (``scale=1``), which Blender imports at life size with its default settings.
"""
from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from motiongpt.skeleton import FPS, JOINT_NAMES, NUM_JOINTS, PARENTS

POSITION_CHANNELS = ("Xposition", "Yposition", "Zposition")
ROTATION_CHANNELS = ("Xrotation", "Yrotation", "Zrotation")


class BvhError(ValueError):
    """A BVH file is missing or malformed (the message names the file and, where known, the line)."""


@dataclass(frozen=True)
class BvhJoint:
    name: str
    parent: int  # index into Bvh.joints, -1 for a root
    offset: np.ndarray  # (3,), file units
    channels: tuple[str, ...]
    end_site: np.ndarray | None = None  # offset of the End Site, if the joint has one


@dataclass
class Bvh:
    """A parsed BVH file: ``joints`` in file order (parents before children), ``motion`` (T, channels)."""

    joints: list[BvhJoint]
    frame_time: float
    motion: np.ndarray
    source: str = "<string>"
    _index: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._index = {joint.name: i for i, joint in enumerate(self.joints)}

    @property
    def names(self) -> list[str]:
        return [joint.name for joint in self.joints]

    @property
    def frames(self) -> int:
        return int(self.motion.shape[0])

    @property
    def fps(self) -> float:
        """Frames per second, 1 / frame time, rounded to an integer when within 0.01 of one
        (``0.0333333`` -> 30)."""
        fps = 1.0 / self.frame_time
        return float(round(fps)) if abs(fps - round(fps)) < 1e-2 else fps

    def index(self, name: str) -> int:
        try:
            return self._index[name]
        except KeyError:
            raise BvhError(f"{self.source}: no joint {name!r}; joints: {', '.join(self.names)}") from None

    def channel_columns(self) -> list[int]:
        """First motion column of each joint."""
        columns, start = [], 0
        for joint in self.joints:
            columns.append(start)
            start += len(joint.channels)
        return columns




def read_bvh(path: str | Path) -> Bvh:
    """Read and parse a BVH file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        raise BvhError(f"{path}: cannot read the BVH file ({error})") from error
    return parse_bvh(text, source=str(path))


def parse_bvh(text: str, source: str = "<string>") -> Bvh:
    """Parse the text of a BVH file; errors name ``source`` and the line."""
    motion_at = re.search(r"^\s*MOTION\s*$", text, flags=re.MULTILINE)
    if motion_at is None:
        raise BvhError(f"{source}: no MOTION line (not a BVH file?)")
    header_lines = text[:motion_at.start()].splitlines()
    joints = _parse_hierarchy(header_lines, source)
    motion_line = len(header_lines) + 1  # 1-based line number of MOTION
    rest = text[motion_at.end():].lstrip("\r\n")
    lines_after = rest.split("\n", 2)
    if len(lines_after) < 2:
        raise BvhError(f"{source}:{motion_line + 1}: expected 'Frames:' and 'Frame Time:' lines after MOTION")
    frames_match = re.match(r"\s*Frames:\s*(\d+)\s*$", lines_after[0])
    if frames_match is None:
        raise BvhError(f"{source}:{motion_line + 1}: expected 'Frames: N', got {lines_after[0].strip()!r}")
    time_match = re.match(r"\s*Frame Time:\s*(\S+)\s*$", lines_after[1])
    try:
        frame_time = float(time_match.group(1)) if time_match else float("nan")
    except ValueError:
        frame_time = float("nan")
    if not (frame_time > 0 and math.isfinite(frame_time)):
        raise BvhError(f"{source}:{motion_line + 2}: expected 'Frame Time: SECONDS' (positive), "
                       f"got {lines_after[1].strip()!r}")
    frames = int(frames_match.group(1))
    width = sum(len(joint.channels) for joint in joints)
    body = lines_after[2] if len(lines_after) > 2 else ""
    first_data_line = motion_line + 3
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = np.fromstring(body, dtype=np.float64, sep=" ") if body.strip() else np.empty(0)
    except ValueError:  # numpy >= 2.3 raises on text it cannot read to the end
        values = np.empty(0)
    if values.size != frames * width or not np.all(np.isfinite(values)):
        _raise_motion_error(body, frames, width, source, first_data_line)
    motion = values.reshape(frames, width)
    # Rows must also break where the lines break: check the line count (cheap) as well.
    lines = [line for line in body.splitlines() if line.strip()]
    if len(lines) != frames:
        _raise_motion_error(body, frames, width, source, first_data_line)
    if frames == 0:
        raise BvhError(f"{source}:{motion_line + 1}: the file has no frames")
    return Bvh(joints=joints, frame_time=frame_time, motion=motion, source=source)


def _raise_motion_error(body: str, frames: int, width: int, source: str, first_line: int) -> None:
    rows = 0
    for number, line in enumerate(body.splitlines(), start=first_line):
        if not line.strip():
            continue
        fields = line.split()
        try:
            row = [float(f) for f in fields]
        except ValueError:
            bad = next(f for f in fields if not _is_float(f))
            raise BvhError(f"{source}:{number}: not a number: {bad!r}") from None
        if len(row) != width:
            raise BvhError(f"{source}:{number}: frame has {len(row)} values, the hierarchy has {width} channels")
        if not all(math.isfinite(v) for v in row):
            raise BvhError(f"{source}:{number}: frame contains NaN or infinite values")
        rows += 1
    raise BvhError(f"{source}: 'Frames: {frames}' but the file has {rows} frame lines")


def _is_float(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _parse_hierarchy(lines: list[str], source: str) -> list[BvhJoint]:
    names: list[str] = []
    parents: list[int] = []
    offsets: list[np.ndarray | None] = []
    channels: list[tuple[str, ...] | None] = []
    end_sites: list[np.ndarray | None] = []
    stack: list[int] = []  # open joints; -2 marks an open End Site
    pending: int | None = None  # joint (or -2) declared, waiting for its "{"
    seen_hierarchy = False
    for number, raw in enumerate(lines, start=1):
        tokens = raw.split()
        if not tokens:
            continue
        where = f"{source}:{number}"
        keyword = tokens[0]
        if keyword == "HIERARCHY":
            seen_hierarchy = True
        elif keyword in ("ROOT", "JOINT"):
            if len(tokens) < 2:
                raise BvhError(f"{where}: {keyword} without a name")
            if keyword == "JOINT" and not stack:
                raise BvhError(f"{where}: JOINT outside any ROOT")
            if stack and stack[-1] == -2:
                raise BvhError(f"{where}: JOINT inside an End Site")
            name = " ".join(tokens[1:])
            if name in names:
                raise BvhError(f"{where}: joint {name!r} defined twice")
            names.append(name)
            parents.append(stack[-1] if stack else -1)
            offsets.append(None)
            channels.append(None)
            end_sites.append(None)
            pending = len(names) - 1
        elif keyword == "End":
            if not stack or stack[-1] < 0:
                raise BvhError(f"{where}: End Site outside a joint")
            pending = -2
        elif keyword == "{":
            if pending is None:
                raise BvhError(f"{where}: unexpected '{{'")
            stack.append(pending)
            pending = None
        elif keyword == "}":
            if not stack:
                raise BvhError(f"{where}: unbalanced '}}'")
            closed = stack.pop()
            if closed >= 0 and offsets[closed] is None:
                raise BvhError(f"{where}: joint {names[closed]!r} has no OFFSET")
        elif keyword == "OFFSET":
            if not stack:
                raise BvhError(f"{where}: OFFSET outside a joint")
            try:
                offset = np.array([float(v) for v in tokens[1:4]])
            except ValueError:
                raise BvhError(f"{where}: OFFSET needs three numbers, got {raw.strip()!r}") from None
            if len(tokens) != 4 or not np.all(np.isfinite(offset)):
                raise BvhError(f"{where}: OFFSET needs three numbers, got {raw.strip()!r}")
            if stack[-1] == -2:
                end_sites[stack[-2]] = offset
            else:
                offsets[stack[-1]] = offset
        elif keyword == "CHANNELS":
            if not stack or stack[-1] < 0:
                raise BvhError(f"{where}: CHANNELS outside a joint")
            try:
                count = int(tokens[1])
            except (IndexError, ValueError):
                raise BvhError(f"{where}: CHANNELS needs a count, got {raw.strip()!r}") from None
            names_ = tuple(tokens[2:])
            if len(names_) != count:
                raise BvhError(f"{where}: CHANNELS {count} lists {len(names_)} channels")
            unknown = [c for c in names_ if c not in POSITION_CHANNELS + ROTATION_CHANNELS]
            if unknown or len(set(names_)) != len(names_):
                raise BvhError(f"{where}: unknown or repeated channels {' '.join(names_)}")
            channels[stack[-1]] = names_
        else:
            raise BvhError(f"{where}: unexpected {keyword!r} in the HIERARCHY")
    if not seen_hierarchy:
        raise BvhError(f"{source}:1: no HIERARCHY line")
    if stack or pending is not None:
        raise BvhError(f"{source}:{len(lines)}: the HIERARCHY ends inside a joint (missing '}}')")
    if not names:
        raise BvhError(f"{source}: the HIERARCHY has no joints")
    return [BvhJoint(name=n, parent=p, offset=o, channels=c or (), end_site=e)
            for n, p, o, c, e in zip(names, parents, offsets, channels, end_sites)]


def local_transforms(bvh: Bvh, frames: slice | np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Local translations (T, J, 3) and rotation matrices (T, J, 3, 3) of every joint."""
    motion = bvh.motion if frames is None else bvh.motion[frames]
    t = motion.shape[0]
    translations = np.empty((t, len(bvh.joints), 3))
    rotations = np.empty((t, len(bvh.joints), 3, 3))
    for j, (joint, column) in enumerate(zip(bvh.joints, bvh.channel_columns())):
        translations[:, j] = joint.offset
        sequence, angle_columns = "", []
        for k, channel in enumerate(joint.channels):
            if channel in POSITION_CHANNELS:
                translations[:, j, POSITION_CHANNELS.index(channel)] = motion[:, column + k]
            else:
                sequence += channel[0]
                angle_columns.append(column + k)
        if sequence:
            rotations[:, j] = Rotation.from_euler(sequence, motion[:, angle_columns], degrees=True).as_matrix()
        else:
            rotations[:, j] = np.eye(3)
    return translations, rotations


def forward_kinematics(bvh: Bvh, frames: slice | np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """World positions (T, J, 3) (file units) and world rotation matrices (T, J, 3, 3) of every joint."""
    translations, local = local_transforms(bvh, frames)
    positions = np.empty_like(translations)
    rotations = np.empty_like(local)
    for j, joint in enumerate(bvh.joints):
        if joint.parent < 0:
            positions[:, j] = translations[:, j]
            rotations[:, j] = local[:, j]
        else:
            parent_rotation = rotations[:, joint.parent]
            positions[:, j] = positions[:, joint.parent] + np.einsum("tab,tb->ta", parent_rotation, translations[:, j])
            rotations[:, j] = parent_rotation @ local[:, j]
    return positions, rotations


# ----------------------------------------------------------------------------------------------- writer

def _children(parents: tuple[int, ...]) -> list[list[int]]:
    children: list[list[int]] = [[] for _ in parents]
    for child, parent in enumerate(parents):
        if parent >= 0:
            children[parent].append(child)
    return children


def _swing_matrices(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rotation matrices (T, 3, 3) of the smallest rotations taking unit vectors a (T,3) onto b (T,3)."""
    axis = np.cross(a, b)
    sin = np.linalg.norm(axis, axis=-1)
    cos = np.clip(np.sum(a * b, axis=-1), -1.0, 1.0)
    angle = np.arctan2(sin, cos)
    safe = np.where(sin > 1e-12, sin, 1.0)
    axis = axis / safe[:, None]
    # antiparallel: any axis perpendicular to a
    flip = (sin <= 1e-12) & (cos < 0)
    if np.any(flip):
        perpendicular = np.cross(a[flip], np.array([1.0, 0.0, 0.0]))
        small = np.linalg.norm(perpendicular, axis=-1) < 1e-6
        perpendicular[small] = np.cross(a[flip][small], np.array([0.0, 0.0, 1.0]))
        axis[flip] = perpendicular / np.linalg.norm(perpendicular, axis=-1, keepdims=True)
    return Rotation.from_rotvec(axis * angle[:, None]).as_matrix()


def _kabsch(rest: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Rotations (T, 3, 3) best taking the rest vectors (K, 3) onto the current ones (T, K, 3)."""
    h = np.einsum("ka,tkb->tab", rest, current)  # sum_k rest_k current_k^T
    u, _, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(np.transpose(vt, (0, 2, 1)) @ np.transpose(u, (0, 2, 1))))
    correction = np.tile(np.eye(3), (len(h), 1, 1))
    correction[:, 2, 2] = d
    return np.transpose(vt, (0, 2, 1)) @ correction @ np.transpose(u, (0, 2, 1))


def fit_rotations(joints: np.ndarray, offsets: np.ndarray, parents: tuple[int, ...] = PARENTS) -> np.ndarray:
    """World rotation matrices (T, J, 3, 3) that orient the rest offsets (J, 3) along the motion's bones.

    A joint with one child: the smallest rotation from its parent-rotated rest bone onto the bone
    (no added twist); with several children: the least-squares rotation of all its child bones
    (exact when they move rigidly); a leaf: its parent's rotation.
    """
    t = joints.shape[0]
    children = _children(parents)
    rotations = np.empty((t, len(parents), 3, 3))
    for j, parent in enumerate(parents):
        parent_rotation = rotations[:, parent] if parent >= 0 else np.tile(np.eye(3), (t, 1, 1))
        kids = children[j]
        if not kids:
            rotations[:, j] = parent_rotation
        elif len(kids) == 1:
            c = kids[0]
            rest = np.einsum("tab,b->ta", parent_rotation, offsets[c])
            bone = joints[:, c] - joints[:, j]
            rest_unit = rest / np.maximum(np.linalg.norm(rest, axis=-1, keepdims=True), 1e-12)
            bone_unit = bone / np.maximum(np.linalg.norm(bone, axis=-1, keepdims=True), 1e-12)
            rotations[:, j] = _swing_matrices(rest_unit, bone_unit) @ parent_rotation
        else:
            rotations[:, j] = _kabsch(offsets[kids], joints[:, kids] - joints[:, j:j + 1])
    return rotations


def write_bvh(path: str | Path, joints: np.ndarray, fps: float = FPS, translations: bool = False,
              scale: float = 1.0, names: tuple[str, ...] = JOINT_NAMES) -> Path:
    """Write SMPL joints (T, 22, 3), Y up, metres, as a BVH (see the module docstring); returns the path.

    ``scale`` multiplies lengths on writing (1: metres, 100: centimetres).
    """
    joints = np.asarray(joints, dtype=np.float64)
    if joints.ndim != 3 or joints.shape[1:] != (NUM_JOINTS, 3) or len(joints) < 1:
        raise ValueError(f"write_bvh: expected joints of shape (T, {NUM_JOINTS}, 3), got {joints.shape}")
    if not np.all(np.isfinite(joints)):
        raise ValueError("write_bvh: joints contain NaN or infinite values")
    if fps <= 0:
        raise ValueError(f"write_bvh: fps must be positive, got {fps}")
    parents = PARENTS
    children = _children(parents)
    bones = joints - joints[:, [max(p, 0) for p in parents]]
    bones[:, 0] = 0.0
    if translations:
        offsets = bones[0].copy()
    else:
        lengths = np.linalg.norm(bones, axis=-1).mean(axis=0)
        first = np.linalg.norm(bones[0], axis=-1)
        offsets = bones[0] / np.maximum(first, 1e-9)[:, None] * lengths[:, None]
    world = fit_rotations(joints, offsets, parents)
    local = world.copy()
    for j, parent in enumerate(parents):
        if parent >= 0:
            local[:, j] = np.transpose(world[:, parent], (0, 2, 1)) @ world[:, j]
    angles = Rotation.from_matrix(local.reshape(-1, 3, 3)).as_euler("ZXY", degrees=True).reshape(len(joints), -1, 3)
    order: list[int] = []  # joints in the order the HIERARCHY lists them (depth first)

    def visit(j: int) -> None:
        order.append(j)
        for c in children[j]:
            visit(c)

    visit(0)
    columns = []
    for j in order:
        parent = parents[j]
        if parent < 0 or translations:
            if parent < 0:
                position = joints[:, j]
            else:
                position = np.einsum("tba,tb->ta", world[:, parent], bones[:, j])  # R_parent^T bone
            columns.append(position * scale)
        columns.append(angles[:, j])
    motion = np.concatenate(columns, axis=1)

    lines = ["HIERARCHY"]

    def emit(j: int, depth: int) -> None:
        pad = "  " * depth
        keyword = "ROOT" if parents[j] < 0 else "JOINT"
        offset = np.zeros(3) if parents[j] < 0 else offsets[j] * scale
        lines.append(f"{pad}{keyword} {names[j]}")
        lines.append(f"{pad}{{")
        lines.append(f"{pad}  OFFSET {offset[0]:.6f} {offset[1]:.6f} {offset[2]:.6f}")
        if parents[j] < 0 or translations:
            lines.append(f"{pad}  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation")
        else:
            lines.append(f"{pad}  CHANNELS 3 Zrotation Xrotation Yrotation")
        if children[j]:
            for c in children[j]:
                emit(c, depth + 1)
        else:
            # End Site: continue the incoming bone by half its length (a visible bone tip in viewers).
            tip = offsets[j] * 0.5 * scale if parents[j] >= 0 else np.array([0.0, 0.1 * scale, 0.0])
            lines.append(f"{pad}  End Site")
            lines.append(f"{pad}  {{")
            lines.append(f"{pad}    OFFSET {tip[0]:.6f} {tip[1]:.6f} {tip[2]:.6f}")
            lines.append(f"{pad}  }}")
        lines.append(f"{pad}}}")

    emit(0, 0)
    lines.append("MOTION")
    lines.append(f"Frames: {len(joints)}")
    lines.append(f"Frame Time: {1.0 / fps:.8f}")
    text = "\n".join(lines) + "\n"
    rows = "\n".join(" ".join(f"{v:.6f}" for v in row) for row in motion)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + rows + "\n")
    return path


def smpl_joints_from_written(bvh: Bvh, scale: float = 1.0) -> np.ndarray:
    """The (T, 22, 3) SMPL joints (metres) of a file written by :func:`write_bvh` (by joint name)."""
    positions, _ = forward_kinematics(bvh)
    return positions[:, [bvh.index(name) for name in JOINT_NAMES]] / scale
