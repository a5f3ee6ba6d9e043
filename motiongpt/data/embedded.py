"""The embedded dataset: the 20 DeepMimic mocap clips of pybullet_data in the HumanML3D layout.

``motiongpt data build-embedded --out data/embedded`` writes (deterministically, from a seed)::

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

import numpy as np

from motiongpt.data import augment, deepmimic
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

    def lines(self) -> list[str]:
        total_motions = sum(self.motions.values())
        return [
            f"embedded dataset written to {self.root}",
            f"clips: {self.clips} DeepMimic clips, {len(self.actions)} actions ({', '.join(self.actions)})",
            f"motions: {total_motions} (" + ", ".join(f"{k} {v}" for k, v in self.motions.items()) + ")",
            f"frames: {sum(self.frames.values())} feature frames at 20 fps ("
            + ", ".join(f"{k} {v}" for k, v in self.frames.items()) + ")",
            f"captions: {sum(self.captions.values())} caption lines ("
            + ", ".join(f"{k} {v}" for k, v in self.captions.items()) + ")",
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
    reserved = val_phrasings(entry, val_count)
    if variant.split == "test":
        pool = entry.held_out
    elif variant.split == "val":
        pool = reserved
    else:
        pool = tuple(c for c in entry.captions if c not in reserved)
    if entry.test_only:
        pool = entry.captions + entry.held_out  # the whole performance is held out: all its phrasings are test-only
    texts = [c for c in pool if variant.speed == 1.0 or not augment.mentions_speed(c)]
    if variant.mirrored:
        texts = [augment.mirror_text(c) for c in texts]
    if not texts:
        raise RuntimeError(f"embedded dataset: no caption left for {variant.name}")
    return texts


def build_embedded(out: str | Path, config: EmbeddedConfig = EmbeddedConfig()) -> BuildSummary:
    """Build the embedded dataset into ``out`` (created; existing files of the same names are replaced)."""
    from motiongpt.features import joints_to_features, recover_from_ric
    from motiongpt.normalization import Normalizer

    out = Path(out)
    table = caption_table()
    variants = plan_variants(config, table)
    for folder in ("new_joints", "new_joint_vecs", "texts"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    clips = {name: deepmimic.load_clip(name) for name in sorted(table)}
    split_names: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    actions: dict[str, str] = {}
    train_features = []
    frames = dict.fromkeys(split_names, 0)
    caption_lines = dict.fromkeys(split_names, 0)
    for variant in variants:
        entry = table[variant.clip]
        joints = variant_joints(variant, clips[variant.clip])
        features = joints_to_features(joints, feet_threshold=config.feet_threshold,
                                      source=f"{variant.clip} ({variant.name})").astype(np.float32)
        if not 40 <= len(features) <= config.max_feature_frames:
            raise RuntimeError(f"embedded dataset: {variant.name} has {len(features)} frames")
        np.save(out / "new_joint_vecs" / f"{variant.name}.npy", features)
        np.save(out / "new_joints" / f"{variant.name}.npy", recover_from_ric(features).astype(np.float32))
        texts = variant_captions(variant, entry, config.val_phrasings)
        lines = [f"{text}#{tag_caption(text)}#0.0#0.0" for text in texts]
        (out / "texts" / f"{variant.name}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        split_names[variant.split].append(variant.name)
        actions[variant.name] = augment.mirror_action(entry.action) if variant.mirrored else entry.action
        frames[variant.split] += len(features)
        caption_lines[variant.split] += len(lines)
        if variant.split == "train":
            train_features.append(features)
    for split, names in split_names.items():
        (out / f"{split}.txt").write_text("\n".join(names) + "\n", encoding="utf-8")
    (out / "train_val.txt").write_text("\n".join(split_names["train"] + split_names["val"]) + "\n", encoding="utf-8")
    (out / "all.txt").write_text("\n".join(v.name for v in variants) + "\n", encoding="utf-8")
    normalizer = Normalizer.compute(train_features)
    np.save(out / "Mean.npy", np.asarray(normalizer.mean, dtype=np.float32))
    np.save(out / "Std.npy", np.asarray(normalizer.std, dtype=np.float32))
    (out / "actions.json").write_text(json.dumps(actions, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    summary = BuildSummary(
        root=str(out), clips=len(table), motions={k: len(v) for k, v in split_names.items()},
        frames=frames, captions=caption_lines, actions=sorted(set(actions.values())))
    info = {"source": "pybullet_data DeepMimic clips (CMU and SFU mocap)", "config": asdict(config),
            "clips": sorted(table), "summary": asdict(summary) | {"root": None},
            "synthesised_joints": deepmimic.SYNTHESIS,
            "variants": [asdict(v) for v in variants]}
    (out / "dataset.json").write_text(json.dumps(info, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return summary
