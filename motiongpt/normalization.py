"""Feature normalisation (x - mean) / std with MotionGPT's statistics (Jiang et al., NeurIPS 2023).

The std is computed the way Guo et al. / MotionGPT do it: the per-dimension std is averaged over
each block of the feature vector (root yaw velocity, root linear velocity, root height, ric
positions, 6D rotations, local velocities, foot contacts), and the root blocks [0:4] and the
foot contacts [259:263] are further divided by ``feat_bias`` (25 for MotionGPT's files; HumanML3D's
own Std.npy uses 1, hence its ~25x larger root and contact std).

Zero std: a :class:`Normalizer` never divides by a std that is zero, negative or not finite: the
constructor raises :class:`NormalizationError` naming the dims. ``Normalizer.compute`` raises the
same when a block has no variance in the data (e.g. feet that never touch the ground), unless the
caller passes ``min_std`` > 0, which floors each block's std at that value.
"""
from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from motiongpt.features import FOOT_CONTACT, LOCAL_VEL, RIC, ROOT_HEIGHT, ROOT_LIN_VEL, ROOT_ROT_VEL, ROT6D
from motiongpt.skeleton import FEATURE_DIM
from motiongpt.validation import check_features

OFFICIAL_STATISTICS = Path(__file__).with_name("assets") / "humanml3d_mean_std.csv"
FEAT_BIAS = 25.0

# (block name, dims, divided by feat_bias?) in the order of the reference computation.
STD_BLOCKS: tuple[tuple[str, slice, bool], ...] = (
    ("root_rot_vel", ROOT_ROT_VEL, True),
    ("root_lin_vel", ROOT_LIN_VEL, True),
    ("root_height", ROOT_HEIGHT, True),
    ("ric", RIC, False),
    ("rot6d", ROT6D, False),
    ("local_vel", LOCAL_VEL, False),
    ("foot_contact", FOOT_CONTACT, True),
)
# File names recognised in a statistics folder, in order of preference.
STATISTICS_FILE_NAMES: tuple[tuple[str, str], ...] = (("mean.npy", "std.npy"), ("Mean.npy", "Std.npy"))


class NormalizationError(ValueError):
    """Statistics are missing, unreadable, of the wrong shape, not finite, or have a zero std."""


class Normalizer:
    """Per-dimension (x - mean) / std for (..., 263) features, numpy arrays or torch tensors."""

    def __init__(self, mean: Any, std: Any, source: str = "statistics") -> None:
        mean = np.asarray(mean, dtype=np.float64)
        std = np.asarray(std, dtype=np.float64)
        for name, values in (("mean", mean), ("std", std)):
            if values.shape != (FEATURE_DIM,):
                raise NormalizationError(f"{source}: {name} must have shape ({FEATURE_DIM},), got {values.shape}")
            bad = np.flatnonzero(~np.isfinite(values))
            if len(bad):
                raise NormalizationError(f"{source}: {name} has {len(bad)} non-finite values (first: dim {bad[0]})")
        bad = np.flatnonzero(std <= 0)
        if len(bad):
            raise NormalizationError(f"{source}: std must be positive, {len(bad)} dims are not "
                                     f"(first: dim {bad[0]}, std {std[bad[0]]})")
        self.mean = mean
        self.std = std
        self.source = source

    def __repr__(self) -> str:
        return f"Normalizer(source={self.source!r})"

    def _prepare(self, features: Any) -> tuple[Any, Any, Any]:
        """The features (numpy or torch) and mean/std of matching type, dtype and device."""
        is_tensor = hasattr(features, "device") and hasattr(features, "detach")
        if not is_tensor:
            features = np.asarray(features)
        if features.ndim < 1 or features.shape[-1] != FEATURE_DIM:
            raise NormalizationError(f"features: expected shape (..., {FEATURE_DIM}), got {tuple(features.shape)}")
        if is_tensor:
            import torch

            return (features, torch.as_tensor(self.mean, dtype=features.dtype, device=features.device),
                    torch.as_tensor(self.std, dtype=features.dtype, device=features.device))
        if features.dtype.kind == "f":  # keep the caller's precision (float32 stays float32)
            return features, self.mean.astype(features.dtype), self.std.astype(features.dtype)
        return features, self.mean, self.std

    def normalize(self, features: Any) -> Any:
        """(features - mean) / std; numpy in, numpy out (same float dtype); tensor in, tensor out (same dtype, device)."""
        features, mean, std = self._prepare(features)
        return (features - mean) / std

    def denormalize(self, features: Any) -> Any:
        """features * std + mean; the inverse of :meth:`normalize`."""
        features, mean, std = self._prepare(features)
        return features * std + mean

    @classmethod
    def compute(cls, features_list: Iterable[Any], feat_bias: float = FEAT_BIAS, min_std: float = 0.0) -> "Normalizer":
        """Statistics of a list of (T_i, 263) feature arrays, the way the reference computes them.

        mean = per-dimension mean over all frames of all clips; std = per-dimension population std,
        then replaced by its mean over each block of ``STD_BLOCKS``; root and foot-contact blocks are
        divided by ``feat_bias``. A block whose std is below ``min_std`` (default 0: a block with no
        variance at all) raises NormalizationError, or is floored at ``min_std`` when that is > 0.
        """
        if not (np.isfinite(feat_bias) and feat_bias > 0):
            raise NormalizationError(f"feat_bias must be a positive number, got {feat_bias}")
        arrays = [check_features(features, source=f"features[{i}]") for i, features in enumerate(features_list)]
        if not arrays:
            raise NormalizationError("cannot compute statistics from an empty list of feature arrays")
        data = np.concatenate(arrays, axis=0).astype(np.float64)
        mean = data.mean(axis=0)
        per_dim_std = data.std(axis=0)
        std = np.empty(FEATURE_DIM)
        for name, dims, biased in STD_BLOCKS:
            block_std = per_dim_std[dims].mean()
            if block_std <= 0.0 or block_std < min_std:
                if min_std <= 0.0:
                    raise NormalizationError(
                        f"features: block {name} (dims {dims.start}:{dims.stop}) has no variance in "
                        f"{len(data)} frames; pass min_std > 0 to floor it")
                block_std = min_std
            std[dims] = block_std / (feat_bias if biased else 1.0)
        return cls(mean, std, source=f"computed from {len(arrays)} clips, {len(data)} frames")

    @classmethod
    def load(cls, path: str | Path) -> "Normalizer":
        """Load statistics from a folder (mean.npy/std.npy or Mean.npy/Std.npy) or a csv with mean,std columns."""
        path = Path(path)
        if path.is_dir():
            for mean_name, std_name in STATISTICS_FILE_NAMES:
                if (path / mean_name).is_file() and (path / std_name).is_file():
                    return cls(_load_vector(path / mean_name), _load_vector(path / std_name), source=str(path))
            expected = " or ".join(f"{m} + {s}" for m, s in STATISTICS_FILE_NAMES)
            raise NormalizationError(f"{path}: no statistics found (expected {expected})")
        if not path.is_file():
            raise NormalizationError(f"{path}: statistics file or folder not found")
        if path.suffix.lower() == ".csv":
            mean, std = _load_csv(path)
            return cls(mean, std, source=str(path))
        raise NormalizationError(f"{path}: expected a folder with mean/std .npy files or a .csv file")

    @classmethod
    def official(cls) -> "Normalizer":
        """MotionGPT's released statistics (assets/meta/mean.npy, std.npy), shipped as a csv."""
        return cls.load(OFFICIAL_STATISTICS)

    def save(self, folder: str | Path) -> Path:
        """Write ``mean.npy`` and ``std.npy`` (MotionGPT's meta names; float64, so loading gives the same values)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "mean.npy", self.mean)
        np.save(folder / "std.npy", self.std)
        return folder


def _load_vector(path: Path) -> np.ndarray:
    try:
        values = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        raise NormalizationError(f"{path}: not a readable .npy array ({error})") from error
    if values.shape != (FEATURE_DIM,):
        raise NormalizationError(f"{path}: expected shape ({FEATURE_DIM},), got {values.shape}")
    return values


def _load_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with path.open(newline="") as stream:
            rows = list(csv.DictReader(stream))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise NormalizationError(f"{path}: not a readable csv file ({error})") from error
    if not rows or not {"mean", "std"} <= set(rows[0]):
        raise NormalizationError(f"{path}: expected a header with 'mean' and 'std' columns")
    if len(rows) != FEATURE_DIM:
        raise NormalizationError(f"{path}: expected {FEATURE_DIM} rows, got {len(rows)}")
    try:
        mean = np.array([float(row["mean"]) for row in rows])
        std = np.array([float(row["std"]) for row in rows])
    except (TypeError, ValueError) as error:
        raise NormalizationError(f"{path}: a mean/std value is not a number ({error})") from error
    return mean, std
