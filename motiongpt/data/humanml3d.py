"""Loader for datasets in the HumanML3D layout (the real HumanML3D, or the embedded DeepMimic dataset).

Layout under ``root``::

    new_joint_vecs/<name>.npy   (T, 263) features, un-normalised, 20 fps
    texts/<name>.txt            one caption per line: ``caption#tokens#from#to``
                                (tokens ``lemma/POS`` separated by spaces; from/to in seconds,
                                ``0.0#0.0`` = the whole clip, NaN read as 0)
    train.txt, val.txt, test.txt   motion names, one per line
    Mean.npy, Std.npy           normalisation statistics (263,)
    actions.json                {name: action label} (embedded dataset only)

Filtering follows the reference HumanML3D/MotionGPT dataset code: a listed clip is kept only if
``min_frames <= T < max_frames``; then every caption with ``from``/``to`` not both 0 selects frames
``[int(from*20), int(to*20))`` and, if that segment also satisfies the length filter, becomes a record of
its own (captions with the same segment share one record, named ``<name>@<start>-<end>``); the clip's
own record (name = ``<name>``) exists only if at least one caption covers the whole clip. Every record's
features are then capped to their first ``cap_frames`` frames (the reference code crops at random when
a sample is fetched; training code may crop further).

Quirks of the real HumanML3D handled here (all counted and logged in one warning per split, see
:class:`LoadReport`): names listed in a split file whose ``.npy`` or ``.txt`` is missing are skipped
(``strict=True`` raises instead); empty text lines are ignored; text lines that do not have four ``#``
fields or whose times are not numbers are skipped. A missing root, split file, or folder, or a
corrupt/NaN/wrong-shape motion file raises :class:`DatasetError` naming the file.
"""
from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from motiongpt.skeleton import FEATURE_DIM, FPS

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test", "train_val", "all")
MOTION_DIR = "new_joint_vecs"
TEXT_DIR = "texts"


class DatasetError(ValueError):
    """A dataset folder is missing files or holds malformed ones."""


@dataclass(frozen=True)
class Caption:
    text: str
    tokens: tuple[str, ...]
    start: float = 0.0  # seconds; 0.0/0.0 = the whole clip
    end: float = 0.0


@dataclass
class MotionRecord:
    name: str
    features: np.ndarray            # (T, 263) float32, un-normalised
    captions: list[Caption]
    source_name: str = ""           # the clip it comes from (== name for whole clips)
    start_frame: int = 0            # frames [start_frame, start_frame + T) of the source clip

    @property
    def frames(self) -> int:
        return int(self.features.shape[0])

    @property
    def clip(self) -> str:
        """The clip's name, the key of its action and style labels (actions.json, styles.json)."""
        return self.source_name or self.name


@dataclass
class LoadReport:
    """What load_split kept and skipped (the real HumanML3D has gaps; they are counted, not hidden)."""
    listed: int = 0
    records: int = 0
    segment_records: int = 0
    missing_motion: list[str] = field(default_factory=list)
    missing_text: list[str] = field(default_factory=list)
    length_filtered_clips: int = 0
    length_filtered_segments: int = 0
    no_whole_clip_caption: int = 0
    empty_lines: int = 0
    malformed_lines: int = 0
    capped: int = 0

    def summary(self) -> str:
        return (f"{self.records} records ({self.segment_records} caption sub-segments) from {self.listed} listed names; "
                f"skipped: {len(self.missing_motion)} missing motion files, {len(self.missing_text)} missing text files, "
                f"{self.length_filtered_clips} clips and {self.length_filtered_segments} segments outside the length "
                f"filter, {self.malformed_lines} malformed and {self.empty_lines} empty text lines; "
                f"{self.capped} records capped")


def _require(path: Path, what: str) -> Path:
    if not path.exists():
        raise DatasetError(f"{path}: {what} not found")
    return path


def read_split_names(root: str | Path, split: str) -> list[str]:
    """Names listed in ``<root>/<split>.txt`` (blank lines ignored, order kept)."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: dataset folder not found")
    path = _require(root / f"{split}.txt", f"split file for {split!r}")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError(f"{path}: cannot read split file ({error})") from error
    return [line.strip() for line in lines if line.strip()]


def _parse_time(value: str) -> float:
    number = float(value)
    return 0.0 if math.isnan(number) else number


def parse_text_file(path: str | Path, report: LoadReport | None = None) -> list[Caption]:
    """Captions of one ``texts/<name>.txt`` file (empty and malformed lines skipped and counted)."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError(f"{path}: cannot read text file ({error})") from error
    captions = []
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line:
            if report is not None:
                report.empty_lines += 1
            continue
        fields = line.split("#")
        try:
            if len(fields) != 4 or not fields[0].strip():
                raise ValueError("expected 'caption#tokens#from#to'")
            start, end = _parse_time(fields[2]), _parse_time(fields[3])
        except ValueError as error:
            log.debug("%s:%d: skipping malformed line (%s): %r", path, number, error, line)
            if report is not None:
                report.malformed_lines += 1
            continue
        captions.append(Caption(text=fields[0].strip(), tokens=tuple(fields[1].split()), start=start, end=end))
    return captions


def _load_features(path: Path) -> np.ndarray:
    from motiongpt.validation import MotionError, check_features, load_npy

    try:
        return check_features(load_npy(path), source=str(path)).astype(np.float32, copy=False)
    except MotionError as error:
        raise DatasetError(str(error)) from error


def load_split_with_report(root: str | Path, split: str, min_frames: int = 40, max_frames: int = 200,
                           cap_frames: int = 196, strict: bool = False, fps: float = FPS
                           ) -> tuple[list[MotionRecord], LoadReport]:
    """Records of a split and a :class:`LoadReport` of what was skipped (see the module docstring)."""
    if not (0 < min_frames < max_frames) or cap_frames < min_frames:
        raise ValueError(f"need 0 < min_frames < max_frames and cap_frames >= min_frames, "
                         f"got {min_frames}, {max_frames}, {cap_frames}")
    root = Path(root)
    names = read_split_names(root, split)
    motion_dir = _require(root / MOTION_DIR, "motion folder")
    text_dir = _require(root / TEXT_DIR, "text folder")
    report = LoadReport(listed=len(names))
    records: list[MotionRecord] = []

    def keep(frames: int) -> bool:
        return min_frames <= frames < max_frames

    for name in names:
        motion_path, text_path = motion_dir / f"{name}.npy", text_dir / f"{name}.txt"
        if not motion_path.is_file():
            if strict:
                raise DatasetError(f"{motion_path}: motion file not found (listed in {split}.txt)")
            report.missing_motion.append(name)
            continue
        if not text_path.is_file():
            if strict:
                raise DatasetError(f"{text_path}: text file not found (listed in {split}.txt)")
            report.missing_text.append(name)
            continue
        features = _load_features(motion_path)
        if not keep(len(features)):
            report.length_filtered_clips += 1
            continue
        whole: list[Caption] = []
        segments: dict[tuple[int, int], list[Caption]] = {}
        for caption in parse_text_file(text_path, report):
            if caption.start == 0.0 and caption.end == 0.0:
                whole.append(caption)
                continue
            start, end = int(caption.start * fps), int(caption.end * fps)
            if not keep(len(features[start:end])):
                report.length_filtered_segments += 1
                continue
            segments.setdefault((start, end), []).append(caption)
        if whole:
            records.append(MotionRecord(name=name, features=features, captions=whole, source_name=name))
        else:
            report.no_whole_clip_caption += 1
        for (start, end), captions in segments.items():
            records.append(MotionRecord(name=f"{name}@{start}-{end}", features=features[start:end],
                                        captions=captions, source_name=name, start_frame=start))
            report.segment_records += 1
    for record in records:
        if record.frames > cap_frames:
            record.features = record.features[:cap_frames]
            report.capped += 1
    report.records = len(records)
    if names and not records:
        raise DatasetError(f"{root / (split + '.txt')}: none of the {len(names)} listed motions could be used "
                           f"({report.summary()})")
    if report.missing_motion or report.missing_text or report.malformed_lines:
        log.warning("%s split %r: %s (first missing: %s)", root, split, report.summary(),
                    ", ".join((report.missing_motion + report.missing_text)[:5]) or "none")
    else:
        log.debug("%s split %r: %s", root, split, report.summary())
    return records, report


def load_split(root: str | Path, split: str, min_frames: int = 40, max_frames: int = 200,
               cap_frames: int = 196, strict: bool = False) -> list[MotionRecord]:
    """Records of one split (``train``, ``val``, ``test``, ...); see the module docstring for the rules."""
    return load_split_with_report(root, split, min_frames, max_frames, cap_frames, strict)[0]


def load_normalizer(root: str | Path):
    """The dataset's ``Mean.npy``/``Std.npy`` as a :class:`motiongpt.normalization.Normalizer`."""
    from motiongpt.normalization import Normalizer
    from motiongpt.validation import load_npy

    root = Path(root)
    arrays = {}
    for stat in ("Mean", "Std"):
        path = _require(root / f"{stat}.npy", f"normalisation statistics ({stat}.npy)")
        try:
            array = np.asarray(load_npy(path), dtype=np.float64)
        except ValueError as error:
            raise DatasetError(str(error)) from error
        if array.shape != (FEATURE_DIM,) or not np.all(np.isfinite(array)):
            raise DatasetError(f"{path}: expected {FEATURE_DIM} finite values, got shape {array.shape}")
        arrays[stat] = array
    if np.any(arrays["Std"] <= 0):
        raise DatasetError(f"{root / 'Std.npy'}: standard deviations must be positive")
    return Normalizer(arrays["Mean"], arrays["Std"])


def _read_label_map(path: Path, labels: str) -> dict[str, str]:
    """A JSON object {motion name: label} of the embedded dataset (``labels``: what the labels are)."""
    try:
        mapping = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DatasetError(f"{path}: not a JSON file ({error})") from error
    if not isinstance(mapping, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
        raise DatasetError(f"{path}: expected a JSON object mapping motion names to {labels}")
    return mapping


def load_actions(root: str | Path) -> dict[str, str]:
    """``actions.json`` of the embedded dataset: {motion name: action label}."""
    return _read_label_map(_require(Path(root) / "actions.json", "action labels (actions.json, embedded dataset only)"),
                           "action labels")


def load_styles(root: str | Path) -> dict[str, str]:
    """``styles.json`` of the embedded dataset ({motion name: style label}); empty when it has none (DeepMimic only)."""
    path = Path(root) / "styles.json"
    return _read_label_map(path, "style labels") if path.is_file() else {}
