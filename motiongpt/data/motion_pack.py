"""A motion pack: the source motions of the embedded dataset in one compact file, to rebuild it elsewhere.

    motiongpt data pack-motions --bandai <Bandai-Namco-Research-Motiondataset> --out data/motions.npz
    motiongpt data build-embedded --out data/embedded --pack data/motions.npz

The embedded dataset (`motiongpt.data.embedded`) is about 1.2 GB of features with its augmentations. What it is
built from is small: the 20 DeepMimic clip files of pybullet_data (1.2 MB of JSON) and, with --bandai, the 22 SMPL
joints of each Bandai Namco take at 20 fps (what `motiongpt.data.bandai.take_joints` reads from its BVH). A pack
holds the clip files as they are and each take's joints as its first frame (float32 metres) and the steps from
frame to frame in 0.1 mm (int16; rounded so that their running sum is the rounded offset from the first frame: no
error accumulates), compressed: 21.8 MB for the 2,961 takes. A machine with this package but neither pybullet nor
the BVH files (a rented GPU) builds the same dataset from it: the same motions, names, splits and captions, the
DeepMimic motions byte for byte; the Bandai joints differ by at most 0.05 mm, and on the whole dataset the joints
recovered from the features by 0.28 mm (median over the motions of each one's largest difference; 2.6 mm at most,
where the root's heading integrates a tiny difference over metres of walking), foot contacts agree on 99.994% of
the frames, and the normalisation's means within 0.015 standard deviations, its deviations within 0.013%
(`benchmarks/motion_pack_fidelity.py`).

The pack records the licences of both sources; a dataset built from it states them in its LICENSE.md as one built
from the sources does.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

FORMAT_VERSION = 1
STEPS_PER_METRE = 10_000  # the unit of the stored steps: 0.1 mm


class MotionPackError(ValueError):
    """A motion pack is missing, corrupt or of another format version."""


@dataclass(frozen=True)
class MotionPack:
    deepmimic_files: dict[str, str]  # CLIP_FILES name -> the clip file's JSON text
    bandai_takes: tuple[str, ...]  # take file names (dataset-N_content_style_id.bvh), sorted as list_takes sorts
    bandai_joints: tuple[np.ndarray, ...]  # (T, 22, 3) float32 metres of each take, as packed (0.1 mm steps)
    licences: tuple[str, ...]

    def joints_by_take(self) -> dict[str, np.ndarray]:
        return dict(zip(self.bandai_takes, self.bandai_joints))


def _quantise(joints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, 22, 3) metres -> (frame 0 as float32 metres, (T-1, 22, 3) int16 steps between the frames in
    STEP_UNITS, rounded so that their running sum is the rounded offset from frame 0: no error accumulates)."""
    joints = np.asarray(joints, dtype=np.float64)
    first = joints[0].astype(np.float32)
    offsets = np.round((joints - first) * STEPS_PER_METRE).astype(np.int64)
    steps = np.diff(offsets, axis=0)
    if np.abs(steps).max(initial=0) > np.iinfo(np.int16).max:
        raise MotionPackError(f"a joint moves over {np.iinfo(np.int16).max / STEPS_PER_METRE:.2f} m in one frame")
    return first, steps.astype(np.int16)


def _dequantise(first: np.ndarray, steps: np.ndarray) -> np.ndarray:
    offsets = np.concatenate([np.zeros((1, *steps.shape[1:])), np.cumsum(steps.astype(np.int64), axis=0)])
    return (first.astype(np.float64) + offsets / STEPS_PER_METRE).astype(np.float32)


def write_pack(path: str | Path, bandai: str | Path | None = None) -> MotionPack:
    """Pack the DeepMimic clip files of the installed pybullet_data and, with ``bandai`` (as
    ``build_embedded``'s: an unpacked repository, its dataset/ folder or the .tar.xz), every take's joints."""
    from motiongpt.data import deepmimic
    from motiongpt.data.bandai import bandai_takes
    from motiongpt.data.embedded import DEEPMIMIC_LICENCE

    files = {name: deepmimic.clip_path(name).read_text() for name in sorted(deepmimic.CLIP_FILES)}
    licences = [DEEPMIMIC_LICENCE]
    names, firsts, steps = [], [], []
    if bandai is not None:
        from motiongpt.data.bandai import take_joints
        from motiongpt.data.bandai_dataset import LICENCE

        licences.append(LICENCE)
        with bandai_takes(bandai) as takes:
            for take in takes:
                first, take_steps = _quantise(take_joints(take))
                names.append(take.path.name)
                firsts.append(first)
                steps.append(take_steps)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = np.array([len(s) + 1 for s in steps], dtype=np.int64)
    with path.open("wb") as handle:
        np.savez_compressed(
            handle, format_version=np.int64(FORMAT_VERSION), licences=np.array(licences),
            deepmimic_names=np.array(list(files)), deepmimic_texts=np.array(list(files.values())),
            bandai_takes=np.array(names, dtype=str), bandai_frames=frames,
            bandai_first_frames=np.stack(firsts) if firsts else np.zeros((0, 22, 3), dtype=np.float32),
            bandai_steps=np.concatenate(steps) if steps else np.zeros((0, 22, 3), dtype=np.int16))
    return read_pack(path)


def read_pack(path: str | Path) -> MotionPack:
    path = Path(path)
    if not path.is_file():
        raise MotionPackError(f"{path}: no motion pack here (motiongpt data pack-motions writes one)")
    try:
        with np.load(path, allow_pickle=False) as data:
            version = int(data["format_version"])
            if version != FORMAT_VERSION:
                raise MotionPackError(f"{path}: motion pack format {version}, this package reads {FORMAT_VERSION}")
            files = dict(zip((str(n) for n in data["deepmimic_names"]), (str(t) for t in data["deepmimic_texts"])))
            takes = tuple(str(n) for n in data["bandai_takes"])
            frames, firsts, steps = data["bandai_frames"], data["bandai_first_frames"], data["bandai_steps"]
            licences = tuple(str(text) for text in data["licences"])
    except MotionPackError:
        raise
    except Exception as error:  # zip, key and dtype errors alike
        raise MotionPackError(f"{path}: unreadable motion pack: {error}") from error
    if not len(frames) == len(takes) == len(firsts) or int((frames - 1).sum()) != len(steps) \
            or steps.shape[1:] != (22, 3) or firsts.shape[1:] != (22, 3) or (len(frames) and frames.min() < 2):
        raise MotionPackError(f"{path}: inconsistent motion pack ({len(takes)} takes, {len(frames)} frame counts, "
                              f"first frames {firsts.shape}, steps {steps.shape})")
    ends = np.cumsum(frames - 1)
    joints = tuple(_dequantise(first, steps[end - (count - 1):end])
                   for first, end, count in zip(firsts, ends, frames))
    return MotionPack(files, takes, joints, licences)
