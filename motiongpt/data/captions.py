"""Captions of the DeepMimic clips (``captions.yaml``) and HumanML3D-style ``lemma/POS`` token strings.

HumanML3D text lines read ``caption#tokens#from#to`` where tokens are ``lemma/POS`` pairs produced by
spaCy. spaCy models cannot be installed here, so the tokens of the project's own captions come from a
hand-written lexicon (``lexicon.yaml``) with two context rules (see :func:`tag_caption`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

ACTIVITIES = ("cyclic", "discrete")
_WORD = re.compile(r"[A-Za-z]+")


class CaptionError(ValueError):
    """The caption table or lexicon is malformed, or a caption uses a word the lexicon lacks."""


@dataclass(frozen=True)
class ClipCaptions:
    clip: str
    action: str
    activity: str             # "cyclic" (repeat the loop for longer motions) or "discrete" (one event)
    captions: tuple[str, ...]  # training phrasings
    held_out: tuple[str, ...]  # test-only phrasings
    test_only: bool = False    # the whole clip (all variants) belongs to the test split


def read_package_yaml(name: str):
    resource = resources.files("motiongpt.data").joinpath(name)
    try:
        return yaml.safe_load(resource.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise CaptionError(f"{resource}: cannot read ({error})") from error


def parse_caption_table(data, source: str = "captions.yaml") -> dict[str, ClipCaptions]:
    """Validate the parsed ``captions.yaml`` structure ``{"clips": {name: {...}}}``."""
    if not isinstance(data, dict) or not isinstance(data.get("clips"), dict):
        raise CaptionError(f"{source}: expected a mapping with a 'clips' mapping")
    table = {}
    for clip, entry in data["clips"].items():
        clip = str(clip)
        if not isinstance(entry, dict):
            raise CaptionError(f"{source}: clip {clip!r} must be a mapping")
        missing = {"action", "activity", "captions", "held_out"} - set(entry)
        if missing:
            raise CaptionError(f"{source}: clip {clip!r} lacks {', '.join(sorted(missing))}")
        if entry["activity"] not in ACTIVITIES:
            raise CaptionError(f"{source}: clip {clip!r} activity must be one of {ACTIVITIES}, got {entry['activity']!r}")
        captions = tuple(str(c).strip() for c in entry["captions"] or ())
        held_out = tuple(str(c).strip() for c in entry["held_out"] or ())
        if len(captions) < 5 or len(held_out) < 1:
            raise CaptionError(f"{source}: clip {clip!r} needs >= 5 captions and >= 1 held-out caption")
        overlap = set(captions) & set(held_out)
        if overlap:
            raise CaptionError(f"{source}: clip {clip!r} has captions both held out and in training: {sorted(overlap)}")
        if any("#" in c or not c for c in captions + held_out):
            raise CaptionError(f"{source}: clip {clip!r} has an empty caption or one containing '#'")
        table[clip] = ClipCaptions(clip=clip, action=str(entry["action"]), activity=entry["activity"],
                                   captions=captions, held_out=held_out, test_only=bool(entry.get("test_only", False)))
    return table


@lru_cache(maxsize=1)
def caption_table() -> dict[str, ClipCaptions]:
    """The shipped caption table, keyed by DeepMimic clip name."""
    return parse_caption_table(read_package_yaml("captions.yaml"))


@lru_cache(maxsize=1)
def lexicon() -> dict[str, tuple[str, tuple[str, ...]]]:
    """word -> (lemma, POS tags in order of preference)."""
    data = read_package_yaml("lexicon.yaml")
    if not isinstance(data, dict):
        raise CaptionError("lexicon.yaml: expected a mapping word -> [lemma, POS, ...]")
    table = {}
    for word, value in data.items():
        if not isinstance(value, list) or len(value) < 2:
            raise CaptionError(f"lexicon.yaml: entry {word!r} must be [lemma, POS, ...]")
        table[str(word)] = (str(value[0]), tuple(str(v) for v in value[1:]))
    return table


def caption_words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def _guess(word: str) -> tuple[str, tuple[str, ...]]:
    """(lemma, tags) of a word the lexicon lacks, from its ending (a user's or a composed caption)."""
    if word.endswith("ly") and len(word) > 4:
        return word, ("ADV",)
    if word.endswith("ing") and len(word) > 5:
        return word[:-3], ("VERB",)
    if word.endswith("ed") and len(word) > 4:
        return word[:-2], ("VERB",)
    return word, ("NOUN",)


def tag_caption(text: str, strict: bool = False) -> str:
    """HumanML3D token string for a caption, e.g. ``a/DET person/NOUN walk/VERB forward/ADV``.

    Context rules for words with several tags: ADJ when the next word can be a noun, else NOUN after a
    determiner or adjective, else the lexicon's first tag. Words missing from the lexicon are tagged from
    their ending (-ly ADV, -ing/-ed VERB, else NOUN), or raise `CaptionError` when ``strict``.
    """
    words = caption_words(text)
    table = lexicon()
    unknown = sorted({w for w in words if w not in table})
    if unknown and strict:
        raise CaptionError(f"caption {text!r}: words missing from lexicon.yaml: {', '.join(unknown)}")
    tokens = []
    previous_tag = None
    for i, word in enumerate(words):
        lemma, tags = table[word] if word in table else _guess(word)
        tag = tags[0]
        if len(tags) > 1:
            following = (table[words[i + 1]][1] if words[i + 1] in table else _guess(words[i + 1])[1]
                         ) if i + 1 < len(words) else ()
            if "ADJ" in tags and "NOUN" in following:
                tag = "ADJ"
            elif "NOUN" in tags and previous_tag in ("DET", "ADJ"):
                tag = "NOUN"
        tokens.append(f"{lemma}/{tag}")
        previous_tag = tag
    return " ".join(tokens)
