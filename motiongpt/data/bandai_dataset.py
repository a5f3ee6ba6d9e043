"""The Bandai Namco Research motion dataset as part of the embedded dataset: splits, crops and captions.

The takes (``dataset-N_{content}_{style}_{id}.bvh``, read by :mod:`motiongpt.data.bandai`) become motions of
the HumanML3D layout the same way the DeepMimic clips do (:mod:`motiongpt.data.embedded`):

- split, by *take* (a whole recorded performance never crosses splits): in dataset 2 each content x style
  has many takes; the last take of every content x style is test and the one before it val. Dataset 1 has
  one take per content x style (15 styles): per content one take is test and one val (styles chosen by a
  seeded draw), the rest train. A content with a single take (dance-short, kick, respond) is split in time
  instead: its last piece is test when it has at least two pieces, otherwise the take is train only.
- length: a take longer than ``max_feature_frames`` (9.8 s) is cut into equal pieces; one shorter than 40
  feature frames is padded by holding its first and last poses.
- speed (train only): with probability ``speed_probability`` a take also appears played ``slow_factor`` or
  ``fast_factor`` times as fast, and its captions then say so ("slowly", "at a brisk pace", ...).
- mirror: every motion also appears mirrored (``-M``), with left and right swapped in captions and labels.

Captions are composed, per motion, from what (a phrasing of the content), how (a phrase of the style,
appended: "happily", "like a tired old man") and speed (appended when the motion was resampled), from
``bandai_captions.yaml``. Train motions draw from all training phrasings except the last ``val_phrasings``
of each content and the last style phrase of each style, which are the val motions' only phrasings; test
motions are captioned only with ``held_out_phrasings.yaml``, written by a different person who never saw
the training captions (it also holds the test phrasings of the DeepMimic actions).

Licence: the dataset is CC BY-NC 4.0 (Bandai Namco Research Inc., Bandai-Namco-Research-Motiondataset);
everything built from it, and every model trained on it, is for non-commercial use.
"""
from __future__ import annotations

import math
import re
import zlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping, Sequence

import numpy as np

from motiongpt.data import augment
from motiongpt.data.captions import CaptionError, read_package_yaml

LICENCE = ("Bandai Namco Research motion dataset: Creative Commons Attribution-NonCommercial 4.0 (CC BY-NC 4.0), "
           "credit Bandai Namco Research Inc., Bandai-Namco-Research-Motiondataset "
           "(github.com/BandaiNamcoResearchInc/Bandai-Namco-Research-Motiondataset); non-commercial use only")

# Action labels shared with the DeepMimic clips: a walk that turns left is the DeepMimic turn_left.
ACTION_ALIASES = {"walk_turn_left": "turn_left", "walk_turn_right": "turn_right"}
# Style labels for evaluation: the two recording sessions name the same style differently.
STYLE_LABELS = {"masculinity": "masculine", "old": "elderly", "tired": "exhausted"}


class BandaiCaptionError(ValueError):
    """bandai_captions.yaml or held_out_phrasings.yaml is malformed."""


@dataclass(frozen=True)
class ContentCaptions:
    content: str
    action: str
    activity: str
    captions: tuple[str, ...]


@dataclass(frozen=True)
class BandaiCaptionTable:
    contents: dict[str, ContentCaptions]
    styles: dict[str, tuple[str, ...]]
    speeds: dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class HeldOutPhrasings:
    actions: dict[str, tuple[str, ...]]
    styles: dict[str, tuple[str, ...]]
    speeds: dict[str, tuple[str, ...]]
    commands: tuple[tuple[str, tuple[str, ...]], ...]   # (spoken multi-step command, expected step actions)

    def for_action(self, action: str) -> tuple[str, ...]:
        """Held-out phrasings of an action label (a merged label takes the phrasings of each of its names)."""
        names = [action] + [alias for alias, target in ACTION_ALIASES.items() if target == action]
        phrasings = tuple(p for name in names for p in self.actions.get(name, ()))
        if not phrasings:
            raise BandaiCaptionError(f"held_out_phrasings.yaml: no phrasing for action {action!r}")
        return phrasings


def _read(name: str):
    try:
        return read_package_yaml(name)
    except CaptionError as error:
        raise BandaiCaptionError(str(error)) from error


def _strings(value, where: str, minimum: int) -> tuple[str, ...]:
    if isinstance(value, dict) and "phrases" in value:
        value = value["phrases"]
    if not isinstance(value, list) or len(value) < minimum:
        raise BandaiCaptionError(f"{where}: expected a list of at least {minimum} phrases")
    texts = tuple(str(v).strip() for v in value)
    if any(not t or "#" in t for t in texts):
        raise BandaiCaptionError(f"{where}: empty phrase or one containing '#'")
    return texts


def content_action(content: str, table_action: str) -> str:
    return ACTION_ALIASES.get(table_action, table_action)


@lru_cache(maxsize=1)
def bandai_caption_table() -> BandaiCaptionTable:
    data = _read("bandai_captions.yaml")
    if not isinstance(data, dict) or not {"contents", "styles", "speeds"} <= set(data):
        raise BandaiCaptionError("bandai_captions.yaml: needs 'contents', 'styles' and 'speeds'")
    contents = {}
    for content, entry in data["contents"].items():
        where = f"bandai_captions.yaml: contents.{content}"
        if not isinstance(entry, dict) or entry.get("activity") not in ("cyclic", "discrete"):
            raise BandaiCaptionError(f"{where}: needs 'action', 'activity' (cyclic|discrete) and 'captions'")
        captions = _strings(entry.get("captions"), where, 8)
        if any(augment.mentions_speed(c) for c in captions):
            raise BandaiCaptionError(f"{where}: a content caption names a speed")
        contents[str(content)] = ContentCaptions(str(content), content_action(content, str(entry["action"])),
                                                 entry["activity"], captions)
    styles = {str(k): _strings(v, f"bandai_captions.yaml: styles.{k}", 3) for k, v in data["styles"].items()}
    speeds = {str(k): _strings(v, f"bandai_captions.yaml: speeds.{k}", 3) for k, v in data["speeds"].items()}
    if set(speeds) != {"slow", "fast"}:
        raise BandaiCaptionError("bandai_captions.yaml: speeds needs exactly 'slow' and 'fast'")
    return BandaiCaptionTable(contents, styles, speeds)


def normalise(text: str) -> str:
    """A phrasing compared without case, punctuation or spacing: "Do a backflip." == "do a backflip"."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def training_phrasings() -> frozenset[str]:
    """Normalised content phrasings that train or val motions of either source may use (mirrored too):
    captions.yaml's captions and held_out (the DeepMimic val phrasings) and bandai_captions.yaml's contents."""
    from motiongpt.data.captions import caption_table

    texts = [c for entry in caption_table().values() for c in entry.captions + entry.held_out]
    texts += [c for entry in bandai_caption_table().contents.values() for c in entry.captions]
    return frozenset(normalise(t) for text in texts for t in (text, augment.mirror_text(text)))


def _unseen(phrases: dict[str, tuple[str, ...]], seen: frozenset[str]) -> dict[str, tuple[str, ...]]:
    kept = {name: tuple(p for p in texts if normalise(p) not in seen) for name, texts in phrases.items()}
    return {name: texts for name, texts in kept.items() if texts}


@lru_cache(maxsize=1)
def held_out_phrasings() -> HeldOutPhrasings:
    """The test phrasings of held_out_phrasings.yaml, less any that equals (ignoring case and punctuation,
    mirrored too) a phrasing train or val motions use: the file was written independently, and a short
    command such as "do a backflip" can coincide with a training caption."""
    data = _read("held_out_phrasings.yaml")
    if not isinstance(data, dict) or not {"actions", "styles", "speeds"} <= set(data):
        raise BandaiCaptionError("held_out_phrasings.yaml: needs 'actions', 'styles' and 'speeds'")
    actions = {str(k): _strings(v, f"held_out_phrasings.yaml: actions.{k}", 3) for k, v in data["actions"].items()}
    styles = {str(k): _strings(v, f"held_out_phrasings.yaml: styles.{k}", 1) for k, v in data["styles"].items()}
    speeds = {str(k): _strings(v, f"held_out_phrasings.yaml: speeds.{k}", 1) for k, v in data["speeds"].items()}
    commands = tuple((str(c["text"]), tuple(str(s) for s in c["steps"])) for c in data.get("commands") or ())
    table = bandai_caption_table()
    actions = _unseen(actions, training_phrasings())
    styles = _unseen(styles, frozenset(normalise(p) for texts in table.styles.values() for p in texts))
    speeds = _unseen(speeds, frozenset(normalise(p) for texts in table.speeds.values() for p in texts))
    return HeldOutPhrasings(actions, styles, speeds, commands)


def style_label(style: str) -> str:
    return STYLE_LABELS.get(style, style)


StylePhrases = tuple[tuple[str, str], ...]  # (normalised style phrase, style label), longest phrase first


@lru_cache(maxsize=1)
def _style_phrases() -> StylePhrases:
    """The caption table's style phrases."""
    return style_phrases({})


def style_phrases(more: Mapping[str, Sequence[str]]) -> StylePhrases:
    """The caption table's style phrases and ``more`` ({style: phrases}, styles by name or `style_label`), for
    `named_style`. A phrase of two styles, or a style the data does not have, is a BandaiCaptionError."""
    table = bandai_caption_table().styles
    known = {style_label(style) for style in table}
    labels: dict[str, str] = {}
    for style, phrases in [*table.items(), *more.items()]:
        if style_label(style) not in known:
            raise BandaiCaptionError(f"style phrases for {style!r}, which is not a style of the data: {sorted(known)}")
        for phrase in phrases:
            phrase = normalise(phrase)
            if not phrase or labels.setdefault(phrase, style_label(style)) != style_label(style):
                raise BandaiCaptionError(f"style phrase {phrase!r} of {style!r} is empty or names another style "
                                         f"({labels.get(phrase)!r})")
    return tuple(sorted(labels.items(), key=lambda item: (-len(item[0]), item[0])))


def named_style(text: str, phrases: StylePhrases | None = None) -> str | None:
    """The style (its `style_label`) a text names with one of ``phrases`` (`style_phrases`; by default the
    captions' own, bandai_captions.yaml: "wearily", "like a tired old man", "proudly"), or None when it names none
    or more than one. A phrase inside a longer one counts once ("stiffly like an old person" is one phrase, not
    two)."""
    words = f" {normalise(text)} "
    named = set()
    for phrase, label in _style_phrases() if phrases is None else phrases:
        if f" {phrase} " in words:
            named.add(label)
            words = words.replace(f" {phrase} ", " | ")
    return named.pop() if len(named) == 1 else None


def held_out_style_phrases(held: HeldOutPhrasings, style: str) -> tuple[str, ...]:
    for name in (style, style_label(style), {"masculinity": "masculine"}.get(style, style)):
        if name in held.styles:
            return held.styles[name]
    return ()


# ---------------------------------------------------------------------------------------------- planning
@dataclass(frozen=True)
class BandaiSettings:
    max_feature_frames: int = 196
    min_feature_frames: int = 40
    speed_probability: float = 0.5     # train takes that also appear resampled slower or faster
    slow_factor: float = 0.7
    fast_factor: float = 1.4
    val_phrasings: int = 2             # last training phrasings of each content kept for val motions only
    train_lines: int = 6               # caption lines per train motion
    eval_lines: int = 3                # caption lines per val / test motion
    style_probability: float = 0.7     # lines of a styled motion that name the style (train)
    normal_style_probability: float = 0.3


def _rng(seed: int, *keys: str) -> np.random.Generator:
    return np.random.default_rng([seed] + [zlib.crc32(key.encode()) for key in keys])


def assign_splits(takes: Sequence, seed: int) -> dict[str, str]:
    """{take path: "train"|"val"|"test"|"pieces"} ("pieces": a content with one take, split in time)."""
    groups: dict[tuple, list] = {}
    by_content: dict[tuple, list] = {}
    for take in takes:
        groups.setdefault((take.dataset, take.content, take.style), []).append(take)
        by_content.setdefault((take.dataset, take.content), []).append(take)
    splits: dict[str, str] = {}
    for (dataset, content), members in sorted(by_content.items()):
        members = sorted(members, key=lambda t: (t.style, t.take))
        if len(members) == 1:
            splits[str(members[0].path)] = "pieces"
            continue
        if dataset == 2 or any(len(groups[(dataset, content, t.style)]) >= 3 for t in members):
            for style in sorted({t.style for t in members}):
                group = sorted(groups[(dataset, content, style)], key=lambda t: t.take)
                for index, take in enumerate(group):
                    from_end = len(group) - index
                    split = "test" if from_end == 1 and len(group) >= 2 else (
                        "val" if from_end == 2 and len(group) >= 3 else "train")
                    splits[str(take.path)] = split
            continue
        # dataset 1: one take per style; one test take and (with >= 3 takes) one val take per content
        order = _rng(seed, "bandai-split", content).permutation(len(members))
        for rank, index in enumerate(order):
            split = "test" if rank == 0 else ("val" if rank == 1 and len(members) >= 3 else "train")
            splits[str(members[index].path)] = split
    return splits


def piece_count(joint_frames: int, settings: BandaiSettings) -> int:
    return max(1, math.ceil((joint_frames - 1) / settings.max_feature_frames))


def piece_split(piece: int, pieces: int) -> str:
    if pieces >= 3 and piece == pieces - 2:
        return "val"
    if pieces >= 2 and piece == pieces - 1:
        return "test"
    return "train"


def motion_name(take, speed: float, piece: int, pieces: int, mirrored: bool) -> str:
    return (f"bn{take.dataset}-{take.content}-{take.style}-{int(take.take):03d}-x{round(speed * 100):03d}"
            f"-p{piece + 1}of{pieces}" + ("-M" if mirrored else ""))


def cut_pieces(joints: np.ndarray, settings: BandaiSettings) -> list[np.ndarray]:
    """Equal pieces of at most ``max_feature_frames`` features (+1 joint frame each); short ones hold-padded."""
    pieces = piece_count(len(joints), settings)
    features = (len(joints) - 1) // pieces
    out = []
    for index in range(pieces):
        piece = joints[index * features: index * features + features + 1]
        missing = settings.min_feature_frames + 1 - len(piece)
        if missing > 0:
            piece = augment.hold_pad(piece, missing // 2, missing - missing // 2)
        out.append(piece)
    return out


def speeds_for(take, split: str, seed: int, settings: BandaiSettings) -> list[float]:
    if split != "train":
        return [1.0]
    rng = _rng(seed, "bandai-speed", str(take.path.name))
    if rng.random() >= settings.speed_probability:
        return [1.0]
    return [1.0, settings.slow_factor if rng.random() < 0.5 else settings.fast_factor]


def speed_name(speed: float, settings: BandaiSettings) -> str | None:
    if speed < 1.0 - 1e-6:
        return "slow"
    if speed > 1.0 + 1e-6:
        return "fast"
    return None


def _join(base: str, *phrases: str) -> str:
    text = base.strip()
    period = text.endswith(".")
    text = text.rstrip(" .!?")
    for phrase in phrases:
        if phrase:
            text = f"{text} {phrase.strip()}"
    return text + ("." if period else "")


def compose_captions(content: ContentCaptions, style: str, speed: str | None, split: str, rng: np.random.Generator,
                     table: BandaiCaptionTable, held: HeldOutPhrasings, settings: BandaiSettings) -> list[str]:
    """Caption lines of one (unmirrored) motion: content phrasing [+ style phrase] [+ speed phrase]."""
    reserve = settings.val_phrasings
    style_pool = table.styles.get(style, ())
    if split == "test":
        contents = held.for_action(content.action)
        styles = held_out_style_phrases(held, style)
        speeds = held.speeds.get(speed, ()) if speed else ()
        lines = settings.eval_lines
    elif split == "val":
        contents = content.captions[-reserve:]
        styles = style_pool[-1:]
        speeds = table.speeds[speed][-1:] if speed else ()
        lines = settings.eval_lines
    else:
        contents = content.captions[:-reserve]
        styles = style_pool[:-1]
        speeds = table.speeds[speed][:-1] if speed else ()
        lines = settings.train_lines
    probability = settings.normal_style_probability if style == "normal" else settings.style_probability
    texts: list[str] = []
    for _ in range(lines * 3):
        if len(texts) >= lines:
            break
        base = contents[int(rng.integers(len(contents)))]
        style_phrase = styles[int(rng.integers(len(styles)))] if styles and rng.random() < probability else ""
        speed_phrase = speeds[int(rng.integers(len(speeds)))] if speeds else ""
        text = _join(base, style_phrase, speed_phrase)
        if text not in texts:
            texts.append(text)
    return texts


def plan_take(take, joint_frames: int, split: str, seed: int, settings: BandaiSettings) -> list[tuple[float, int, int, str]]:
    """(speed, piece, pieces, split) of every unmirrored motion made from one take of ``joint_frames`` frames."""
    plans = []
    for speed in speeds_for(take, split, seed, settings):  # a take split in time is not resampled
        frames = int(np.floor((joint_frames - 1) / speed + 1e-9)) + 1
        pieces = piece_count(frames, settings)
        for piece in range(pieces):
            piece_split_name = piece_split(piece, pieces) if split == "pieces" else split
            if piece_split_name != "train" and speed != 1.0:
                continue
            plans.append((speed, piece, pieces, piece_split_name))
    return plans
