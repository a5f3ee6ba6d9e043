"""The Bandai Namco Research motion dataset (BVH, 30 fps, cm) as 22-joint SMPL positions at 20 fps.

Dataset: https://github.com/BandaiNamcoResearchInc/Bandai-Namco-Research-Motiondataset (commit
74ead3ba1ae4696404e6086233779f60de8bf9ef), two folders ``Bandai-Namco-Research-Motiondataset-1`` and
``-2`` with ``data/dataset-N_{content}_{style}_{id}.bvh``. Licence CC BY-NC 4.0 (non-commercial);
credit "Bandai Namco Research Inc., Bandai-Namco-Research-Motiondataset". Anything trained on it
inherits the non-commercial terms.

The files' skeleton (checked on the data): ``joint_Root`` (all zero) > ``Hips`` > ``Spine`` >
``Chest`` > ``Neck`` > ``Head``; ``Chest`` > ``Shoulder_{L,R}`` > ``UpperArm`` > ``LowerArm`` >
``Hand``; ``Hips`` > ``UpperLeg_{L,R}`` > ``LowerLeg`` > ``Foot`` > ``Toes``. Every joint has six
channels (Xposition Yposition Zposition Zrotation Xrotation Yrotation); bones lie along each
joint's local x axis (the ``_R`` side along -x). Y up, centimetres, characters face +Z with ``_L``
at +X (already SMPL's handedness). Bone lengths: Hips-Spine 15.7, Spine-Chest 9.0, Chest-Neck 16.4,
Neck-Head 6.5, Hips-UpperLeg 6.8, thigh 39.1, shin 41.0, Foot-Toes 11.8, upper arm 24.3, forearm 22.3.

Joint map (:data:`BANDAI_JOINT_MAP`, 18 direct, 4 synthesised, see :data:`SYNTHESIS`):

- direct: pelvis = Hips; left/right_hip = UpperLeg_L/R; knees = LowerLeg_L/R; ankles = Foot_L/R;
  feet (SMPL "foot" = ball of the foot, toe base) = Toes_L/R; neck = Neck; collars = Shoulder_L/R;
  shoulders = UpperArm_L/R; elbows = LowerArm_L/R; wrists = Hand_L/R.
- head = Head + R_Head (4 cm, 0, 0): 4 cm further along the head bone (the Head joint is the skull
  base, 6.5 cm above Neck; SMPL's head joint is mid-head, about 10 cm above the neck).
- spine1, spine2, spine3: on the polyline Hips -> Spine -> Chest -> Neck, at the fractions of its
  length where SMPL has them (from ``TARGET_BONE_LENGTHS``: 0.239, 0.498, 0.602), per frame.

The same conversion (:func:`bvh_to_joints`) takes any BVH with a joint map (SMPL joint name -> BVH
joint name, or ``{joint: NAME, offset: [x, y, z]}`` with the offset in file units in that joint's
local frame, plus an optional ``spine_chain: [NAME, ...]`` of the BVH spine joints between pelvis and
neck); spine1/2/3 and the collars may be left out (synthesised as above; a missing collar =
spine3 + 0.5 (shoulder - spine3)), every other SMPL joint is required. See :func:`load_joint_map`.

Output (as ``motiongpt.data.deepmimic.clip_to_joints``): SMPL convention, Y up, metres, 20 fps,
frame-0 facing (``FACE_JOINTS`` rule) turned to +Z, frame-0 pelvis at x = z = 0, and y = 0 at the
lowest height of the ankle and foot joints over the take (heights otherwise kept).

Resampling: output frame k is the source time k / fps; positions are interpolated linearly between
the 30 fps frames; T_out = floor((T_in - 1) * fps / source_fps) + 1 (the end kept when on the grid),
e.g. 128 frames at 30 fps -> 85 frames at 20 fps.
"""
from __future__ import annotations

import contextlib
import math
import re
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np

from motiongpt.data.augment import face_forward
from motiongpt.data.bvh import Bvh, BvhError, forward_kinematics, read_bvh
from motiongpt.skeleton import FPS, JOINT_INDEX, JOINT_NAMES, NUM_JOINTS, TARGET_BONE_LENGTHS

CREDIT = "Bandai Namco Research Inc., Bandai-Namco-Research-Motiondataset"
LICENSE = "CC BY-NC 4.0"
SOURCE_COMMIT = "74ead3ba1ae4696404e6086233779f60de8bf9ef"
CENTIMETRES = 0.01

BANDAI_JOINT_MAP: dict[str, Any] = {
    "pelvis": "Hips",
    "left_hip": "UpperLeg_L", "right_hip": "UpperLeg_R",
    "left_knee": "LowerLeg_L", "right_knee": "LowerLeg_R",
    "left_ankle": "Foot_L", "right_ankle": "Foot_R",
    "left_foot": "Toes_L", "right_foot": "Toes_R",
    "neck": "Neck",
    "head": {"joint": "Head", "offset": [4.0, 0.0, 0.0]},
    "left_collar": "Shoulder_L", "right_collar": "Shoulder_R",
    "left_shoulder": "UpperArm_L", "right_shoulder": "UpperArm_R",
    "left_elbow": "LowerArm_L", "right_elbow": "LowerArm_R",
    "left_wrist": "Hand_L", "right_wrist": "Hand_R",
    "spine_chain": ["Spine", "Chest"],
}

# Where SMPL's spine joints lie along pelvis -> neck (fractions of the polyline length).
_SPINE_CUMULATIVE = np.cumsum(TARGET_BONE_LENGTHS[[3, 6, 9, 12]])
SPINE_FRACTIONS: dict[str, float] = {
    name: float(_SPINE_CUMULATIVE[i] / _SPINE_CUMULATIVE[-1]) for i, name in enumerate(("spine1", "spine2", "spine3"))
}
COLLAR_FRACTION_SPINE3_TO_SHOULDER = 0.5
OPTIONAL_JOINTS = frozenset({"spine1", "spine2", "spine3", "left_collar", "right_collar"})

SYNTHESIS: dict[str, str] = {
    "spine1": f"on Hips -> Spine -> Chest -> Neck at {SPINE_FRACTIONS['spine1']:.3f} of its length",
    "spine2": f"on Hips -> Spine -> Chest -> Neck at {SPINE_FRACTIONS['spine2']:.3f} of its length",
    "spine3": f"on Hips -> Spine -> Chest -> Neck at {SPINE_FRACTIONS['spine3']:.3f} of its length",
    "head": "Head + R_Head (4 cm, 0, 0): 4 cm further along the head bone, mid-head",
}

_TAKE_NAME = re.compile(r"^dataset-(?P<dataset>[12])_(?P<content>[a-z]+(?:-[a-z]+)*)_"
                        r"(?P<style>[a-z]+(?:-[a-z]+)*)_(?P<take>\d+)\.bvh$")
_FOLDER = re.compile(r"^Bandai-Namco-Research-Motiondataset-(?P<dataset>[12])$")


class BandaiError(ValueError):
    """A Bandai Namco file or folder is missing or not as expected."""


@dataclass(frozen=True)
class BandaiTake:
    path: Path
    dataset: int  # 1 or 2
    content: str  # e.g. "walk", "wave-right-hand"
    style: str  # e.g. "normal", "not-confident"
    take: int  # the file's id, e.g. 12 for ..._012.bvh

    @property
    def name(self) -> str:
        return self.path.stem

    @classmethod
    def from_path(cls, path: str | Path) -> "BandaiTake":
        path = Path(path)
        match = _TAKE_NAME.match(path.name)
        if match is None:
            raise BandaiError(f"{path}: not a Bandai Namco take name (dataset-N_content_style_id.bvh)")
        return cls(path=path, dataset=int(match["dataset"]), content=match["content"], style=match["style"],
                   take=int(match["take"]))


def _dataset_folders(root: Path) -> list[Path]:
    if _FOLDER.match(root.name):
        return [root]
    for base in (root, root / "dataset"):
        folders = sorted(p for p in base.glob("Bandai-Namco-Research-Motiondataset-*") if p.is_dir())
        if folders:
            return folders
    raise BandaiError(f"{root}: no Bandai-Namco-Research-Motiondataset-N folder here or under dataset/ "
                      "(give the repository root, its dataset/ folder or one dataset folder)")


def list_takes(root: str | Path) -> list[BandaiTake]:
    """All takes (``data/*.bvh``) under an unpacked repository root, its ``dataset/`` folder or one
    ``Bandai-Namco-Research-Motiondataset-N`` folder, sorted by (dataset, file name).

    A ``.bvh`` whose name does not follow ``dataset-N_content_style_id.bvh`` (N = the folder's number)
    raises :class:`BandaiError`.
    """
    root = Path(root)
    if not root.is_dir():
        raise BandaiError(f"{root}: not a folder")
    takes = []
    for folder in _dataset_folders(root):
        number = int(_FOLDER.match(folder.name)["dataset"])
        data = folder / "data"
        if not data.is_dir():
            raise BandaiError(f"{folder}: no data/ folder")
        for path in sorted(data.glob("*.bvh")):
            take = BandaiTake.from_path(path)
            if take.dataset != number:
                raise BandaiError(f"{path}: a dataset-{take.dataset} file in folder {folder.name}")
            takes.append(take)
    return sorted(takes, key=lambda t: (t.dataset, t.path.name))


@contextlib.contextmanager
def bandai_takes(root: str | Path) -> Iterator[list[BandaiTake]]:
    """The takes of the Bandai Namco dataset at ``root``: an unpacked copy of the repository, its dataset/ folder
    or one dataset folder (`list_takes`), or the .tar.xz archive (unpacked into a temporary folder meanwhile)."""
    root = Path(root)
    if root.is_file() and root.name.endswith((".tar.xz", ".tar.gz", ".tar", ".tgz")):
        with tempfile.TemporaryDirectory(prefix="bandai-") as folder:
            with tarfile.open(root) as archive:
                archive.extractall(folder, filter="data")
            with bandai_takes(folder) as takes:
                yield takes
        return
    takes = list_takes(root)
    if not takes:
        raise BandaiError(f"{root}: no Bandai Namco take found here")
    yield takes


# ------------------------------------------------------------------------------------- joint maps

def validate_joint_map(joint_map: Mapping[str, Any], source: str = "joint map") -> dict[str, Any]:
    """Check a joint map's keys and values; returns a normalised copy (every joint entry a dict)."""
    normalised: dict[str, Any] = {}
    for key, value in joint_map.items():
        if key == "spine_chain":
            if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
                raise BvhError(f"{source}: spine_chain must be a list of BVH joint names")
            normalised[key] = list(value)
            continue
        if key not in JOINT_INDEX:
            raise BvhError(f"{source}: {key!r} is not an SMPL joint name (known: {', '.join(JOINT_NAMES)}, spine_chain)")
        if isinstance(value, str):
            normalised[key] = {"joint": value, "offset": None}
        elif isinstance(value, Mapping) and isinstance(value.get("joint"), str):
            offset = value.get("offset")
            if offset is not None:
                try:
                    offset = np.asarray(offset, dtype=np.float64)
                except (TypeError, ValueError):
                    offset = np.empty(0)
                if offset.shape != (3,):
                    raise BvhError(f"{source}: {key}.offset must be three numbers")
            normalised[key] = {"joint": value["joint"], "offset": offset}
        else:
            raise BvhError(f"{source}: {key} must be a BVH joint name or {{joint: NAME, offset: [x, y, z]}}")
    missing = [name for name in JOINT_NAMES if name not in normalised and name not in OPTIONAL_JOINTS]
    if missing:
        raise BvhError(f"{source}: no BVH joint given for {', '.join(missing)} "
                       f"(only {', '.join(sorted(OPTIONAL_JOINTS))} may be left out)")
    normalised.setdefault("spine_chain", [])
    return normalised


def load_joint_map(path: str | Path) -> dict[str, Any]:
    """Read a YAML joint map, e.g.::

        pelvis: Hips
        left_hip: LeftUpLeg
        ...
        head: {joint: Head, offset: [0, 5, 0]}   # optional offset, file units, the joint's local frame
        spine_chain: [Spine, Spine1, Spine2]     # optional: BVH spine joints between pelvis and neck
    """
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise BvhError(f"{path}: cannot read the joint map ({error})") from error
    if not isinstance(data, Mapping):
        raise BvhError(f"{path}: a joint map is a mapping of SMPL joint names to BVH joint names")
    return validate_joint_map(data, str(path))


def is_bandai_skeleton(bvh: Bvh) -> bool:
    """Whether the file has every joint that :data:`BANDAI_JOINT_MAP` uses."""
    names = set(bvh.names)
    needed = {v if isinstance(v, str) else v["joint"] for k, v in BANDAI_JOINT_MAP.items() if k != "spine_chain"}
    return needed.union(BANDAI_JOINT_MAP["spine_chain"]) <= names


# ------------------------------------------------------------------------------------- conversion

def _polyline_points(points: list[np.ndarray], fractions: list[float]) -> list[np.ndarray]:
    """Points at the given fractions of the length of a polyline (each point (T, 3)), per frame."""
    segments = [b - a for a, b in zip(points[:-1], points[1:])]
    lengths = np.stack([np.linalg.norm(s, axis=-1) for s in segments], axis=-1)  # (T, S)
    cumulative = np.concatenate([np.zeros((len(lengths), 1)), np.cumsum(lengths, axis=-1)], axis=-1)
    total = np.maximum(cumulative[:, -1:], 1e-12)
    out = []
    for fraction in fractions:
        target = fraction * total[:, 0]
        index = np.clip((cumulative[:, 1:-1] <= target[:, None]).sum(axis=-1), 0, len(segments) - 1)
        start = np.take_along_axis(cumulative, index[:, None], axis=-1)[:, 0]
        seg_len = np.take_along_axis(lengths, index[:, None], axis=-1)[:, 0]
        alpha = np.where(seg_len > 1e-12, (target - start) / np.maximum(seg_len, 1e-12), 0.0)
        base = np.stack(points[:-1], axis=1)[np.arange(len(index)), index]
        step = np.stack(segments, axis=1)[np.arange(len(index)), index]
        out.append(base + alpha[:, None] * step)
    return out


def smpl_joints_from_fk(bvh: Bvh, positions: np.ndarray, rotations: np.ndarray,
                        joint_map: Mapping[str, Any]) -> np.ndarray:
    """The 22 SMPL joints (T, 22, 3) in file units and axes from BVH world positions/rotations."""
    joint_map = validate_joint_map(joint_map, f"{bvh.source}: joint map")
    joints = np.empty((positions.shape[0], NUM_JOINTS, 3))
    for name, entry in joint_map.items():
        if name == "spine_chain":
            continue
        j = bvh.index(entry["joint"])
        point = positions[:, j]
        if entry["offset"] is not None:
            point = point + np.einsum("tab,b->ta", rotations[:, j], entry["offset"])
        joints[:, JOINT_INDEX[name]] = point
    chain = [positions[:, bvh.index(n)] for n in joint_map["spine_chain"]]
    polyline = [joints[:, JOINT_INDEX["pelvis"]], *chain, joints[:, JOINT_INDEX["neck"]]]
    spines = [n for n in ("spine1", "spine2", "spine3") if n not in joint_map]
    for name, point in zip(spines, _polyline_points(polyline, [SPINE_FRACTIONS[n] for n in spines])):
        joints[:, JOINT_INDEX[name]] = point
    spine3 = joints[:, JOINT_INDEX["spine3"]]
    for side in ("left", "right"):
        if f"{side}_collar" not in joint_map:
            shoulder = joints[:, JOINT_INDEX[f"{side}_shoulder"]]
            joints[:, JOINT_INDEX[f"{side}_collar"]] = spine3 + COLLAR_FRACTION_SPINE3_TO_SHOULDER * (shoulder - spine3)
    return joints


def resample_positions(positions: np.ndarray, source_fps: float, fps: float = FPS) -> np.ndarray:
    """Linear interpolation in time of (T, ...) positions from ``source_fps`` to ``fps`` (frame k at k / fps)."""
    if source_fps <= 0 or fps <= 0:
        raise ValueError(f"frame rates must be positive, got source {source_fps}, target {fps}")
    frames = int(math.floor((len(positions) - 1) * fps / source_fps + 1e-6)) + 1
    if abs(source_fps - fps) < 1e-9:
        return positions.copy()
    source = np.arange(frames) * (source_fps / fps)
    index = np.clip(np.floor(source + 1e-9).astype(int), 0, len(positions) - 1)
    following = np.minimum(index + 1, len(positions) - 1)
    alpha = np.clip(source - index, 0.0, 1.0).reshape(-1, *([1] * (positions.ndim - 1)))
    return (1.0 - alpha) * positions[index] + alpha * positions[following]


def to_smpl_frame(joints: np.ndarray) -> np.ndarray:
    """Turn Y-up joints so frame 0 faces +Z, put the frame-0 pelvis at x = z = 0 and the lowest
    ankle/foot height over the take at y = 0."""
    joints = face_forward(joints)
    feet = [JOINT_INDEX[n] for n in ("left_ankle", "right_ankle", "left_foot", "right_foot")]
    joints[..., 1] -= joints[:, feet, 1].min()
    return joints


def guess_scale(bvh: Bvh, positions: np.ndarray, joint_map: Mapping[str, Any]) -> float:
    """Metres per file unit: 0.01 when the frame-0 leg (hip -> knee -> ankle) is longer than 5 units."""
    joint_map = validate_joint_map(joint_map, f"{bvh.source}: joint map")
    leg = [positions[0, bvh.index(joint_map[n]["joint"])] for n in ("left_hip", "left_knee", "left_ankle")]
    length = np.linalg.norm(leg[1] - leg[0]) + np.linalg.norm(leg[2] - leg[1])
    return CENTIMETRES if length > 5.0 else 1.0


def bvh_to_joints(bvh: Bvh, joint_map: Mapping[str, Any] = BANDAI_JOINT_MAP, fps: float = FPS,
                  source_fps: float | None = None, scale: float | None = None) -> np.ndarray:
    """SMPL joints (T, 22, 3) at ``fps`` of a parsed BVH (Y up) through a joint map.

    ``source_fps``: the file's frame rate (default: from its Frame Time, see ``Bvh.fps``);
    ``scale``: metres per file unit (default: :func:`guess_scale`, 0.01 for centimetre files).
    """
    positions, rotations = forward_kinematics(bvh)
    if scale is None:
        scale = guess_scale(bvh, positions, joint_map)
    joints = smpl_joints_from_fk(bvh, positions, rotations, joint_map) * scale
    joints = resample_positions(joints, source_fps or bvh.fps, fps)
    return to_smpl_frame(joints)


def take_joints(path_or_take: str | Path | BandaiTake, fps: float = FPS) -> np.ndarray:
    """SMPL joints (T, 22, 3) of one Bandai Namco take, in the convention of the module docstring."""
    path = path_or_take.path if isinstance(path_or_take, BandaiTake) else Path(path_or_take)
    bvh = read_bvh(path)
    if not is_bandai_skeleton(bvh):
        raise BandaiError(f"{path}: not the Bandai Namco skeleton (joints: {', '.join(bvh.names)})")
    return bvh_to_joints(bvh, BANDAI_JOINT_MAP, fps=fps, scale=CENTIMETRES)
