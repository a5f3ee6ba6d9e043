"""The embedded dataset: the 20 DeepMimic mocap clips of pybullet_data in the HumanML3D layout, and with
``--bandai PATH`` the Bandai Namco takes (`motiongpt.data.bandai_dataset`), or both from a motion pack with
``--pack FILE`` (`motiongpt.data.motion_pack`).

``motiongpt data build-embedded --out data/embedded`` writes (deterministically, from a seed; the features are
computed in ``--workers`` processes, the files the same for any number)::

    new_joints/<name>.npy      (T, 22, 3) float32, recover_from_ric of the features (as HumanML3D does)
    new_joint_vecs/<name>.npy  (T, 263) float32 features (joints_to_features of T+1 joint frames)
    texts/<name>.txt           caption#tokens#0.0#0.0 lines
    train.txt val.txt test.txt train_val.txt all.txt
    Mean.npy Std.npy           Normalizer.compute over the train features (feat_bias 25, MotionGPT style)
    actions.json               {name: action label}
    dataset.json               the build configuration and counts

Motions ("variants") per clip, made by :mod:`motiongpt.data.deepmimic` and :mod:`motiongpt.data.augment`:

- speed: the mocap played at a factor (slerp-resampled from the keyframes); captions naming a speed are
  only used at factor 1.0.
- length: *cyclic* clips (walk, run, crawl, dances, turns) are repeated as loops and cut to a random
  length (seconds in a configured range) from a random start phase; *discrete* clips (one kick, one
  backflip, ...) are played once and padded to at least ``min_joint_frames`` by holding the first/last
  pose still for a random split of the extra frames. Every motion so has 40 <= features < 200 frames,
  so the HumanML3D defaults of :func:`motiongpt.data.humanml3d.load_split` apply unchanged.
- mirror: every motion also appears mirrored (name suffix ``-M``), with left/right swapped in its captions
  and in its action label (turn_left <-> turn_right).

What "held out" means (the test split):
- test motions: for clips marked ``test_only`` in captions.yaml (0walk_forward, turn_left1, turn_right1:
  second performances of walk / turn_left / turn_right) every variant is in test, so test holds
  performances never seen in training; for the other 17 clips the test variants are played at a speed
  (x1.1) used by no train or val variant, from their own random phase and length. The recorded
  performance itself is shared with training for those 17 clips (only 20 performances exist).
- test captions: only each clip's ``held_out`` phrasings, none of which appear in train or val.
- val: speed x0.9 variants of the 17 training clips, captioned only with phrasings kept out of train (the
  last ``val_phrasings`` of each clip's training phrasings that name no speed), so val measures unseen
  phrasings the way test does, and model or decoding choices are made on val, never on test.
Every action label appears in train, val and test.
"""
from __future__ import annotations

import json
import logging
import math
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from motiongpt.data import augment, deepmimic
from motiongpt.data.bandai_dataset import BandaiSettings
from motiongpt.data.captions import ClipCaptions, caption_table, tag_caption
from motiongpt.skeleton import FPS

log = logging.getLogger(__name__)

DEFAULT_ROOT = Path("data/embedded")


@dataclass(frozen=True)
class SplitPlan:
    speeds: tuple[float, ...]
    cyclic_seconds: tuple[tuple[float, float], ...]  # one motion per (low, high) duration range


@dataclass(frozen=True)
class EmbeddedConfig:
    seed: int = 1234
    train: SplitPlan = SplitPlan(speeds=(0.8, 1.0, 1.25), cyclic_seconds=((2.5, 4.5), (5.0, 9.5)))
    val: SplitPlan = SplitPlan(speeds=(0.9,), cyclic_seconds=((3.0, 8.0),))
    test: SplitPlan = SplitPlan(speeds=(1.1,), cyclic_seconds=((3.0, 8.0),))
    # test_only clips: every variant goes to test
    test_only: SplitPlan = SplitPlan(speeds=(0.9, 1.0, 1.1), cyclic_seconds=((3.0, 8.0),))
    mirror: bool = True
    val_phrasings: int = 1         # training phrasings per clip kept out of train, for the val motions only
    min_joint_frames: int = 44     # discrete clips are hold-padded to at least this many joint frames ...
    extra_hold_frames: int = 12    # ... plus a random 0..extra_hold_frames more
    max_feature_frames: int = 196  # HumanML3D's cap: no motion is longer
    feet_threshold: float = 0.002
    bandai: BandaiSettings = BandaiSettings()

    def plan(self, split: str) -> SplitPlan:
        return getattr(self, split)


@dataclass
class Variant:
    name: str
    clip: str
    split: str
    speed: float
    mirrored: bool
    start_time: float
    joint_frames: int
    looped: bool = False   # cyclic clip: repeated as a loop and cut; else played once and hold-padded
    hold_before: int = 0
    hold_after: int = 0


@dataclass
class BuildSummary:
    root: str
    clips: int
    motions: dict[str, int]
    frames: dict[str, int]
    captions: dict[str, int]
    actions: list[str] = field(default_factory=list)
    styles: list[str] = field(default_factory=list)
    distinct_captions: int = 0
    sources: list[str] = field(default_factory=list)
    licences: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        total_motions = sum(self.motions.values())
        total_frames = sum(self.frames.values())
        return [
            f"embedded dataset written to {self.root}",
            f"sources: {', '.join(self.sources)}; clips (takes): {self.clips}",
            f"actions: {len(self.actions)} ({', '.join(self.actions)})",
            f"styles: {len(self.styles)} ({', '.join(self.styles) or 'none'})",
            f"motions: {total_motions} (" + ", ".join(f"{k} {v}" for k, v in self.motions.items()) + ")",
            f"frames: {total_frames} feature frames at 20 fps = {total_frames / FPS / 3600:.2f} h ("
            + ", ".join(f"{k} {v}" for k, v in self.frames.items()) + ")",
            f"captions: {sum(self.captions.values())} caption lines, {self.distinct_captions} distinct ("
            + ", ".join(f"{k} {v}" for k, v in self.captions.items()) + ")",
            *[f"licence: {text}" for text in self.licences],
        ]


def _rng(seed: int, *keys: str) -> np.random.Generator:
    return np.random.default_rng([seed] + [zlib.crc32(key.encode()) for key in keys])


def _variant_name(clip: str, speed: float, start_frame: int, feature_frames: int, mirrored: bool) -> str:
    return f"{clip}-x{round(speed * 100):03d}-s{start_frame:03d}-{feature_frames:03d}f" + ("-M" if mirrored else "")


def plan_variants(config: EmbeddedConfig, table: dict[str, ClipCaptions]) -> list[Variant]:
    """All motions to build, with their split (deterministic from config.seed)."""
    variants: list[Variant] = []
    for clip_name in sorted(table):
        entry = table[clip_name]
        clip = deepmimic.load_clip(clip_name)
        splits = ("test_only",) if entry.test_only else ("train", "val", "test")
        for split_key in splits:
            plan = config.plan(split_key)
            split = "test" if split_key == "test_only" else split_key
            rng = _rng(config.seed, clip_name, split_key)
            for speed in plan.speeds:
                ranges = plan.cyclic_seconds if entry.activity == "cyclic" else ((0.0, 0.0),)
                for low, high in ranges:
                    if entry.activity == "cyclic":
                        seconds = rng.uniform(low, high)
                        features = int(np.clip(round(seconds * FPS), 40, config.max_feature_frames))
                        joint_frames = features + 1
                        start_time = float(rng.uniform(0.0, clip.duration))
                        before = after = 0
                    else:
                        start_time = 0.0
                        played = len(deepmimic.frame_times(clip.duration, FPS, speed))
                        target = max(played, config.min_joint_frames) + int(rng.integers(0, config.extra_hold_frames + 1))
                        target = min(target, config.max_feature_frames + 1)
                        pad = max(target - played, 0)
                        before = int(rng.integers(0, pad + 1))
                        after = pad - before
                        joint_frames = played + pad
                    start_frame = round(start_time * FPS)
                    for mirrored in ((False, True) if config.mirror else (False,)):
                        variants.append(Variant(
                            name=_variant_name(clip_name, speed, start_frame, joint_frames - 1, mirrored),
                            clip=clip_name, split=split, speed=speed, mirrored=mirrored, start_time=start_time,
                            joint_frames=joint_frames, looped=entry.activity == "cyclic",
                            hold_before=before, hold_after=after))
    names = [v.name for v in variants]
    if len(set(names)) != len(names):
        raise RuntimeError("embedded dataset: two variants got the same name; change the seed")
    return variants


def variant_joints(variant: Variant, clip: deepmimic.DeepMimicClip) -> np.ndarray:
    """The (T,22,3) joints of one planned variant."""
    if variant.looped:
        span = variant.start_time + (variant.joint_frames - 1) * variant.speed / FPS
        repeated = deepmimic.repeat_cycles(clip, max(1, math.ceil(span / clip.duration - 1e-9)))
        joints = deepmimic.clip_to_joints(repeated, FPS, variant.speed, variant.start_time, variant.joint_frames)
    else:
        played_frames = variant.joint_frames - variant.hold_before - variant.hold_after
        joints = deepmimic.clip_to_joints(clip, FPS, variant.speed, 0.0, played_frames)
        joints = augment.hold_pad(joints, variant.hold_before, variant.hold_after)
    return augment.mirror_joints(joints) if variant.mirrored else joints


def val_phrasings(entry: ClipCaptions, count: int) -> tuple[str, ...]:
    """The last ``count`` training phrasings of a clip that name no speed: used by its val motions only."""
    if count <= 0 or entry.test_only:
        return ()
    usable = [c for c in entry.captions if not augment.mentions_speed(c)]
    if len(usable) <= count or len(entry.captions) - count < 1:
        raise RuntimeError(f"embedded dataset: clip {entry.clip} has too few phrasings to reserve {count} for val")
    return tuple(usable[-count:])


def variant_captions(variant: Variant, entry: ClipCaptions, val_count: int = 1) -> list[str]:
    """Caption lines of one DeepMimic motion: test motions only held-out phrasings written by a different
    person (held_out_phrasings.yaml), val motions the reserved training phrasings and the clip's own
    ``held_out`` phrasings of captions.yaml (never trained on), train motions the rest."""
    from motiongpt.data.bandai_dataset import held_out_phrasings

    reserved = val_phrasings(entry, val_count)
    if variant.split == "test":
        pool = held_out_phrasings().for_action(entry.action)
    elif variant.split == "val":
        pool = reserved + entry.held_out
    else:
        pool = tuple(c for c in entry.captions if c not in reserved)
    texts = [c for c in pool if variant.speed == 1.0 or not augment.mentions_speed(c)]
    if variant.mirrored:
        texts = [augment.mirror_text(c) for c in texts]
    if not texts:
        raise RuntimeError(f"embedded dataset: no caption left for {variant.name}")
    return texts


DEEPMIMIC_LICENCE = ("DeepMimic clips: shipped in pybullet_data (pybullet, zlib licence); the mocap comes from the "
                     "CMU Graphics Lab Motion Capture Database and the SFU Motion Capture Database (see their terms)")


MOTIONS_PER_BATCH = 256  # motions whose features are computed together (across the worker processes)


@dataclass(frozen=True)
class _Motion:
    """A motion added to the writer, its features not yet computed."""
    name: str
    split: str
    joints: np.ndarray
    texts: list[str]
    action: str
    source: str
    style: str | None


def motion_arrays(joints: np.ndarray, feet_threshold: float, source: str) -> tuple[np.ndarray, np.ndarray]:
    """The (T-1, 263) features of a motion's (T, 22, 3) joints and the joints recovered from them (as HumanML3D
    stores both), float32."""
    from motiongpt.features import joints_to_features, recover_from_ric

    features = joints_to_features(joints, feet_threshold=feet_threshold, source=source).astype(np.float32)
    return features, recover_from_ric(features).astype(np.float32)


class _DatasetWriter:
    """Writes motions of any source into the HumanML3D layout and keeps the counts of the summary. With ``workers``
    > 1 the features of each batch of motions are computed in that many processes; the files are the same."""

    def __init__(self, out: Path, config: EmbeddedConfig, workers: int = 1):
        self.out, self.config = out, config
        for folder in ("new_joints", "new_joint_vecs", "texts"):
            (out / folder).mkdir(parents=True, exist_ok=True)
        self.split_names: dict[str, list[str]] = {"train": [], "val": [], "test": []}
        self.actions: dict[str, str] = {}
        self.styles: dict[str, str] = {}
        self.sources: dict[str, str] = {}
        self.train_features: list[np.ndarray] = []
        self.frames = dict.fromkeys(self.split_names, 0)
        self.caption_lines = dict.fromkeys(self.split_names, 0)
        self.captions: set[str] = set()
        self._names: set[str] = set()
        self._pending: list[_Motion] = []
        self._pool = None
        if workers > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor
            self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))

    def add(self, name: str, split: str, joints: np.ndarray, texts: list[str], action: str, source: str,
            style: str | None = None) -> None:
        if name in self._names:
            raise RuntimeError(f"embedded dataset: two motions named {name}")
        self._names.add(name)
        self._pending.append(_Motion(name, split, joints, texts, action, source, style))
        if len(self._pending) >= MOTIONS_PER_BATCH:
            self._flush()

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        inputs = ([m.joints for m in pending], [self.config.feet_threshold] * len(pending),
                  [f"{m.source} ({m.name})" for m in pending])
        arrays = self._pool.map(motion_arrays, *inputs, chunksize=8) if self._pool else map(motion_arrays, *inputs)
        for motion, (features, recovered) in zip(pending, arrays):
            name, split = motion.name, motion.split
            if not 40 <= len(features) <= self.config.max_feature_frames:
                raise RuntimeError(f"embedded dataset: {name} has {len(features)} frames")
            np.save(self.out / "new_joint_vecs" / f"{name}.npy", features)
            np.save(self.out / "new_joints" / f"{name}.npy", recovered)
            lines = [f"{text}#{tag_caption(text)}#0.0#0.0" for text in motion.texts]
            (self.out / "texts" / f"{name}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
            self.split_names[split].append(name)
            self.actions[name] = motion.action
            self.sources[name] = motion.source
            if motion.style is not None:
                self.styles[name] = motion.style
            self.frames[split] += len(features)
            self.caption_lines[split] += len(lines)
            self.captions.update(motion.texts)
            if split == "train":
                self.train_features.append(features)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def finish(self, clips: int, info: dict) -> BuildSummary:
        from motiongpt.normalization import Normalizer

        self._flush()
        self.close()
        out = self.out
        for split, names in self.split_names.items():
            (out / f"{split}.txt").write_text("\n".join(names) + "\n", encoding="utf-8")
        (out / "train_val.txt").write_text("\n".join(self.split_names["train"] + self.split_names["val"]) + "\n",
                                           encoding="utf-8")
        (out / "all.txt").write_text("\n".join(n for names in self.split_names.values() for n in names) + "\n",
                                     encoding="utf-8")
        normalizer = Normalizer.compute(self.train_features)
        np.save(out / "Mean.npy", np.asarray(normalizer.mean, dtype=np.float32))
        np.save(out / "Std.npy", np.asarray(normalizer.std, dtype=np.float32))
        (out / "actions.json").write_text(json.dumps(self.actions, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        (out / "styles.json").write_text(json.dumps(self.styles, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        licences = [DEEPMIMIC_LICENCE]
        if any(source == "bandai" for source in self.sources.values()):
            from motiongpt.data.bandai_dataset import LICENCE
            licences.append(LICENCE)
        (out / "LICENSE.md").write_text(
            "# Licences of the motions in this folder\n\n" + "\n".join(f"- {text}" for text in licences) + "\n",
            encoding="utf-8")
        summary = BuildSummary(
            root=str(out), clips=clips, motions={k: len(v) for k, v in self.split_names.items()},
            frames=self.frames, captions=self.caption_lines, actions=sorted(set(self.actions.values())),
            styles=sorted(set(self.styles.values())), distinct_captions=len(self.captions),
            sources=sorted(set(self.sources.values())), licences=licences)
        info = info | {"summary": asdict(summary) | {"root": None}}
        (out / "dataset.json").write_text(json.dumps(info, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        return summary


def build_embedded(out: str | Path, config: EmbeddedConfig = EmbeddedConfig(),
                   bandai: str | Path | None = None, pack: str | Path | None = None, workers: int = 1) -> BuildSummary:
    """Build the embedded dataset into ``out`` (created; existing files of the same names are replaced).

    ``bandai``: an unpacked copy of the Bandai-Namco-Research-Motiondataset repository (or its ``dataset/``
    folder, or the .tar.xz archive): its takes are added (see :mod:`motiongpt.data.bandai_dataset`).
    ``pack``: a motion pack (`motiongpt.data.motion_pack`) instead of pybullet's clip files and the Bandai files.
    ``workers``: processes computing the features (the files are the same for any number)."""
    from motiongpt.data.motion_pack import read_pack

    if bandai is not None and pack is not None:
        raise ValueError("embedded dataset: give the Bandai Namco data or a motion pack, not both")
    motions = read_pack(pack) if pack is not None else None
    out = Path(out)
    table = caption_table()
    variants = plan_variants(config, table)
    writer = _DatasetWriter(out, config, workers)
    try:
        return _build(writer, table, variants, config, bandai, pack, motions)
    finally:
        writer.close()


def _build(writer: _DatasetWriter, table: dict, variants: list[Variant], config: EmbeddedConfig,
           bandai: str | Path | None, pack: str | Path | None, motions) -> BuildSummary:
    from motiongpt.data import bandai as bandai_reader
    from motiongpt.data.motion_pack import MotionPackError

    if motions is None:
        clips = {name: deepmimic.load_clip(name) for name in sorted(table)}
    else:
        missing = sorted(set(table) - set(motions.deepmimic_files))
        if missing:
            raise MotionPackError(f"{pack}: no DeepMimic clip {', '.join(missing)} in the motion pack")
        clips = {name: deepmimic.parse_clip(motions.deepmimic_files[name], name, f"{pack}:{name}")
                 for name in sorted(table)}
    for variant in variants:
        entry = table[variant.clip]
        writer.add(variant.name, variant.split, variant_joints(variant, clips[variant.clip]),
                   variant_captions(variant, entry, config.val_phrasings),
                   augment.mirror_action(entry.action) if variant.mirrored else entry.action, "deepmimic")
    info = {"sources": {"deepmimic": "pybullet_data DeepMimic clips (CMU and SFU mocap)"}, "config": asdict(config),
            "clips": sorted(table), "synthesised_joints": deepmimic.SYNTHESIS,
            "variants": [asdict(v) for v in variants]}
    if motions is not None:
        info["motion_pack"] = Path(pack).name
    takes: list = []
    if bandai is not None:
        with bandai_reader.bandai_takes(bandai) as takes:
            add_bandai(writer, takes, bandai_reader.take_joints, config)
    elif motions is not None and motions.bandai_takes:
        joints = motions.joints_by_take()
        takes = [bandai_reader.BandaiTake.from_path(name) for name in motions.bandai_takes]
        add_bandai(writer, takes, lambda take: joints[take.path.name], config)
    if takes:
        info["sources"]["bandai"] = "Bandai Namco Research motion dataset (BVH, 30 fps), CC BY-NC 4.0"
        info["bandai_takes"] = len(takes)
        info["bandai_synthesised_joints"] = getattr(bandai_reader, "SYNTHESIS", None)
    return writer.finish(len(table) + len(takes), info)


def add_bandai(writer: _DatasetWriter, takes: Sequence, joints_of: Callable[[Any], np.ndarray],
               config: EmbeddedConfig) -> None:
    """Every take as motions of the writer (see bandai_dataset); ``joints_of(take)``: its (T, 22, 3) joints."""
    from motiongpt.data import bandai_dataset as plan

    table, held = plan.bandai_caption_table(), plan.held_out_phrasings()
    settings = config.bandai
    splits = plan.assign_splits(takes, config.seed)
    log.info("Bandai Namco: %d takes", len(takes))
    for number, take in enumerate(takes):
        content = table.contents.get(take.content)
        if content is None:
            raise RuntimeError(f"embedded dataset: no captions for Bandai content {take.content!r} "
                               f"(bandai_captions.yaml)")
        joints = joints_of(take)
        split = splits[str(take.path)]
        by_speed: dict[float, list[np.ndarray]] = {}
        for speed, piece, pieces, motion_split in plan.plan_take(take, len(joints), split, config.seed, settings):
            if speed not in by_speed:
                played = joints if speed == 1.0 else augment.change_speed(joints, speed)
                by_speed[speed] = plan.cut_pieces(played, settings)
            piece_joints = by_speed[speed][piece]
            rng = _rng(config.seed, "bandai-captions", take.path.name, f"{speed}", f"{piece}")
            texts = plan.compose_captions(content, take.style, plan.speed_name(speed, settings), motion_split,
                                          rng, table, held, settings)
            for mirrored in ((False, True) if config.mirror else (False,)):
                name = plan.motion_name(take, speed, piece, pieces, mirrored)
                writer.add(name, motion_split,
                           augment.mirror_joints(piece_joints) if mirrored else piece_joints,
                           [augment.mirror_text(t) for t in texts] if mirrored else texts,
                           augment.mirror_action(content.action) if mirrored else content.action,
                           "bandai", plan.style_label(take.style))
        if (number + 1) % 250 == 0:
            log.info("Bandai Namco: %d / %d takes", number + 1, len(takes))
