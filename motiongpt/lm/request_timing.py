"""What a request says of its timing: the speed it names and how long it asks the motion to last.

- Speed (`read_timing(...).speed`): "slow" or "fast" when the request names that speed, in the data's own speed
  words (`motiongpt.data.augment.SPEED_WORDS`: "slowly", "briskly") or in one of the ways of saying a speed of
  ``speed_phrasings.yaml`` ("take your time", "at a snail's pace", "hurry up", "on the double"); None when it
  names none, or both. A phrase inside a longer one counts once ("don't rush" is slow, not "rush"); a negation
  in the three words before a phrase turns it round ("not too fast", "don't go too fast" are slow).
- Degree (`read_timing(...).degree`): "more" when the speed is said with an intensifier ("very slowly", "really
  fast", "much quicker"), "less" with a softener ("a bit faster", "a little slower", "slightly quicker"); None
  otherwise, and for a negated speed ("not very fast" is slow, no more).
- Factor (`read_timing(...).factor`): a speed said as a multiple of the usual one ("2x speed", "at 0.5x", "twice as
  fast", "half speed", "three times faster"); "fast" above 1, "slow" below. A bare "3x" names none (it is as often
  a count).
- Length (`read_timing(...).seconds`): a definite length of time for the motion, in seconds, minutes or frames (at
  the model's frame rate, `motiongpt.skeleton.FPS`: "80 frames" is 4 s), in digits or words, after "for",
  "during", "over", "lasting", "make it last" and the like, as a clause or a sentence of its own (", 3 seconds",
  "2 seconds long", "Turn left. 2 s."), or in numbers straight after the movement ("wave 3 seconds", "hold five
  second", "walk 10 secs then stop"): "for three seconds" 3.0, "for half a second" 0.5, "for two and a half seconds" 2.5, "for a second" 1.0.
  A vague length ("a while", "a few seconds", "a moment"), a count ("twice", "3 steps"), a time said as a moment
  rather than a length ("in a second", "wait a second", "in 3 seconds", "every 2 seconds") name none, nor do two
  different lengths.
- `RequestTiming.without` gives the request without those words: what its motion is generated from, the speed
  and length being given to the generation otherwise (`motiongpt.lm.api.MotionGPT`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from motiongpt.data.augment import FAST_WORDS, SLOW_WORDS
from motiongpt.skeleton import FPS

SPEED_FILE = Path(__file__).with_name("speed_phrasings.yaml")
SPEEDS = ("slow", "fast")
TIMING_REQUEST_FILES = {split: Path(__file__).with_name(f"timing_{split}_requests.yaml") for split in ("val", "test")}


class SpeedPhrasesError(ValueError):
    """``speed_phrasings.yaml`` is malformed."""


@lru_cache(maxsize=1)
def speed_phrases() -> tuple[tuple[str, str], ...]:
    """(phrase, speed) of every way of saying a speed: the data's speed words and ``speed_phrasings.yaml``,
    longest phrase first. A phrase of both speeds is a SpeedPhrasesError."""
    data = yaml.safe_load(SPEED_FILE.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or set(data) != set(SPEEDS) or not all(
            isinstance(v, list) and all(isinstance(p, str) and p.strip() for p in v) for v in data.values()):
        raise SpeedPhrasesError(f"{SPEED_FILE.name}: expected {{slow: [phrases], fast: [phrases]}}")
    speeds: dict[str, str] = {}
    for speed, phrases in [("slow", sorted(SLOW_WORDS)), ("fast", sorted(FAST_WORDS)), *data.items()]:
        for phrase in phrases:
            phrase = _normalise(phrase)
            if speeds.setdefault(phrase, speed) != speed:
                raise SpeedPhrasesError(f"{SPEED_FILE.name}: {phrase!r} is both a slow and a fast phrase")
    return tuple(sorted(speeds.items(), key=lambda item: (-len(item[0]), item[0])))


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u2019", "'").lower()).strip()


def _phrase_key(text: str) -> str:  # spaces and hyphens alike: "slow-mo" is "slow mo"
    return re.sub(r"[\s-]+", " ", _normalise(text))


@lru_cache(maxsize=1)
def _speed_pattern() -> re.Pattern:
    phrases = "|".join(r"[\s-]+".join(map(re.escape, phrase.split(" "))) for phrase, _ in speed_phrases())
    return re.compile(rf"(?<![\w'-])(?:{phrases})(?![\w'-])", re.IGNORECASE)  # "slow" is not in "slow-motion"


_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
         "seventeen eighteen nineteen").split()
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90}
_WORD_NUMBER = (rf"(?:(?:{'|'.join(_TENS)})(?:[\s-]+(?:{'|'.join(_ONES[1:10])}))?|{'|'.join(_ONES)}"
                rf"|a|an|a\s+hundred|one\s+hundred)")
_NUMBER = rf"(?:\d+(?:\.\d+)?|\.\d+|{_WORD_NUMBER})"
_AND_A_HALF = r"(?:[\s-]+and[\s-]+a[\s-]+half)?"
_AMOUNT = rf"(?:half[\s-]+(?:a|an)|{_NUMBER}{_AND_A_HALF})"
_COUNTED = rf"(?:(?!(?:a|an)(?![\w'-])){_NUMBER}{_AND_A_HALF})"  # an amount in numbers, not "a" nor "half a"
_UNIT_SECONDS = {"second": 1.0, "seconds": 1.0, "sec": 1.0, "secs": 1.0, "s": 1.0, "minute": 60.0,
                 "minutes": 60.0, "min": 60.0, "mins": 60.0, "frame": 1.0 / FPS, "frames": 1.0 / FPS}
_UNIT = r"(?:seconds?|secs?|minutes?|mins?|frames?|s)"
_QUALIFIER = (r"(?:(?:about|around|roughly|approximately|exactly|just|only|nearly|almost|another|like|a\s+full"
              r"|a\s+good|a\s+whole|full|the\s+next)\s+)?")
_CUE = (r"(?:for|during|over|within|lasting|lasts?|last|that\s+lasts?|which\s+lasts?|make\s+it\s+last"
        r"|taking|takes?|holding\s+it|hold\s+it)")
_LENGTH = rf"(?P<amount>{_AMOUNT})\s*(?P<unit>{_UNIT})(?![\w'])"
_AFTER = r"(?:\s+(?:straight|long|in\s+a\s+row|in\s+total|total))?"
_TIMES = {"twice": 2.0, "double": 2.0, "thrice": 3.0, "triple": 3.0, "half": 0.5, "quarter": 0.25}
_HOW_FAST = (r"(?:as\s+fast|as\s+quick(?:ly)?|as\s+slow(?:ly)?|the\s+speed|(?:the\s+)?(?:normal\s+|usual\s+)?speed"
             r"|faster|quicker|slower|slow[\s-]*mo(?:tion)?|slow\s+motion)")
_MULTIPLIER_PATTERNS = (  # a speed said as a multiple of the usual one: "2x speed", "at 0.5x", "twice as fast"
    re.compile(rf"(?<![\w'.])(?:at\s+)?(?P<number>\d+(?:\.\d+)?|\.\d+)\s*[x\u00d7]\s+{_HOW_FAST}(?![\w'])",
               re.IGNORECASE),
    re.compile(r"(?<![\w'.])at\s+(?P<number>\d+(?:\.\d+)?|\.\d+)\s*[x\u00d7](?![\w'])", re.IGNORECASE),
    re.compile(rf"(?<![\w'])(?:at\s+)?(?P<word>twice|double|thrice|triple|half|quarter|(?P<count>\d+(?:\.\d+)?|"
               rf"{'|'.join(_ONES[2:11])})\s+times)\s+{_HOW_FAST}(?![\w'])", re.IGNORECASE),
)
_LENGTH_PATTERNS = (
    re.compile(rf"(?<![\w'])(?:{_CUE})\s+{_QUALIFIER}{_LENGTH}{_AFTER}", re.IGNORECASE),  # "for 3 seconds"
    re.compile(rf"(?<![\w']){_QUALIFIER}{_LENGTH}\s+long(?![\w'])", re.IGNORECASE),  # "2 seconds long"
    re.compile(rf"(?<=,)\s*{_QUALIFIER}{_LENGTH}(?=\s*(?:[,.!?]|$))", re.IGNORECASE),  # "kick, 2 seconds"
    re.compile(rf"^\s*{_QUALIFIER}{_LENGTH}{_AFTER}(?=\s*[.!]*\s*$)", re.IGNORECASE),  # a step of its own: "2 s."
    # said straight after the movement, with no word before it ("wave 3 seconds", "hold five second"): a number
    # (not "a": "wait a second" is no length), at the end of the request or of a clause (or before "and", "then"),
    # not after "in" ("in 3 seconds" may mean "3 seconds from now"), "after", "every" or "per"
    re.compile(rf"(?<=\w\s)(?<!\bin\s)(?<!\bafter\s)(?<!\bevery\s)(?<!\bper\s){_QUALIFIER}"
               rf"(?P<amount>{_COUNTED})\s*(?P<unit>{_UNIT}){_AFTER}(?=\s*(?:[,.;!?]|$)|\s+(?:and|then)(?![\w'-]))",
               re.IGNORECASE),
)


def _amount(text: str) -> float | None:
    text = _normalise(text).replace("-", " ")
    half = 0.5 if text.endswith(" and a half") else 0.0
    text = text.removesuffix(" and a half")
    if text in ("half a", "half an"):
        return 0.5
    if re.fullmatch(r"\d+(?:\.\d+)?|\.\d+", text):
        return float(text) + half
    if text in ("a", "an"):
        return 1.0 + half
    if text in ("a hundred", "one hundred"):
        return 100.0 + half
    words = text.split()
    value = _TENS.get(words[0], _ONES.index(words[0]) if words[0] in _ONES else None)
    if value is None:
        return None
    if len(words) == 2:
        value += _ONES.index(words[1])
    return float(value) + half


@dataclass(frozen=True)
class RequestTiming:
    text: str
    speed: str | None                          # "slow", "fast" or None
    seconds: float | None                      # the length the request names, or None
    speed_spans: tuple[tuple[int, int], ...]   # where the text names its speed
    length_spans: tuple[tuple[int, int], ...]  # where it names its length
    factor: float | None = None                # the speed as a multiple of the usual one ("2x speed"), or None
    degree: str | None = None                  # "more" ("very slowly"), "less" ("a bit faster") or None

    def without(self, speed: bool = True, length: bool = True) -> str:
        """The request without the words that name its speed (``speed``) and its length (``length``), tidied
        ("walk backwards, take your time" -> "walk backwards"); the request itself when nothing would be left."""
        return self.left(speed, length) or self.text

    def left(self, speed: bool = True, length: bool = True) -> str:
        """As `without`, but "" when nothing is left."""
        spans = sorted((self.speed_spans if speed else ()) + (self.length_spans if length else ()))
        if not spans:
            return self.text
        kept, position = [], 0
        for start, end in spans:
            kept.append(self.text[position:start])
            position = max(position, end)
        kept.append(self.text[position:])
        return _tidy(" ".join(kept))


def _tidy(text: str) -> str:
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    text = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", text)
    for _ in range(3):  # connectors and punctuation left hanging at either end
        text = re.sub(r"^(?:\s*(?:,|;|:|and\b|then\b|but\b))+", "", text, flags=re.IGNORECASE).strip()
        text = re.sub(r"(?:\s*(?:,|;|:|\band|\bthen|\bbut))+(\s*[.!?]*)$", r"\1", text, flags=re.IGNORECASE).strip()
    return text if re.search(r"[A-Za-z]", text) else ""


@lru_cache(maxsize=4096)  # a command's steps are read by the node, for their meaning and again to generate
def read_timing(text: str) -> RequestTiming:
    """The speed and the length ``text`` names, and where (see the module's docstring)."""
    text = str(text)
    searched = text.replace("\u2019", "'")
    length_spans, lengths = [], set()
    for pattern in _LENGTH_PATTERNS:
        for match in pattern.finditer(searched):
            if any(start < match.end() and match.start() < end for start, end in length_spans):
                continue
            amount, unit = _amount(match.group("amount")), match.group("unit").lower()
            if amount is None or (unit == "s" and not re.fullmatch(r"[\d.]+", match.group("amount").strip())):
                continue
            length_spans.append(match.span())
            lengths.add(round(amount * _UNIT_SECONDS[unit], 6))
    speed_spans, speeds, factors = [], set(), set()
    for pattern in _MULTIPLIER_PATTERNS:
        for match in pattern.finditer(searched):
            if any(start < match.end() and match.start() < end for start, end in length_spans + speed_spans):
                continue
            factor = _multiplier(match)
            if factor is None or factor <= 0 or factor == 1:
                continue
            speed_spans.append(match.span())
            factors.add(factor)
            speeds.add("fast" if factor > 1 else "slow")
    by_phrase = {_phrase_key(phrase): speed for phrase, speed in speed_phrases()}
    degrees = set()
    for match in _speed_pattern().finditer(searched):
        if not any(start < match.end() and match.start() < end for start, end in length_spans + speed_spans):
            speed = by_phrase[_phrase_key(match.group(0))]
            before = max(0, match.start() - _NEGATION_REACH)
            negated = _NEGATED.search(searched, before, match.start())
            degree = None
            if negated:  # "not too fast": slow
                speed = "slow" if speed == "fast" else "fast"
                speed_spans.append((negated.start(), match.start()))
            elif said := _DEGREE_INSIDE.match(match.group(0)):  # a phrase of its own: "very slowly"
                degree = "less" if _LESS.fullmatch(said.group("word")) else "more"
            elif said := _DEGREE_BEFORE.search(searched, 0, match.start()):  # "a bit" + "faster"
                degree = "less" if _LESS.fullmatch(said.group("word")) else "more"
                speed_spans.append((said.start(), match.start()))
            speed_spans.append(match.span())
            speeds.add(speed)
            degrees.add(degree)
    speed = speeds.pop() if len(speeds) == 1 else None
    factor = factors.pop() if len(factors) == 1 and speed else None
    degree = degrees.pop() if len(degrees) == 1 and speed and factor is None else None
    return RequestTiming(text, speed, lengths.pop() if len(lengths) == 1 else None, tuple(speed_spans),
                         tuple(length_spans), factor, degree)


def _multiplier(match: re.Match) -> float | None:
    """The factor a multiplier match says: "2x" 2, "twice as fast" 2, "half speed" 0.5, "3 times faster" 3, "2
    times slower" 0.5."""
    groups = match.groupdict()
    count = _normalise(groups.get("count") or "")
    if groups.get("number"):
        factor = float(groups["number"])
    elif _normalise(groups["word"]) in _TIMES:
        factor = _TIMES[_normalise(groups["word"])]
    elif re.fullmatch(r"[\d.]+", count):
        factor = float(count)
    elif count in _ONES:
        factor = float(_ONES.index(count))
    else:
        return None
    slower = "slow" in match.group(0).lower()
    return 1.0 / factor if slower and factor > 1 else factor


# a negation in the words just before a speed phrase, in the same clause: "not too fast", "nothing too quick",
# "don't go too fast" (a phrase with its own negation, "don't rush", "no hurry", is read whole, as written)
_NEGATION_REACH = 80  # characters before a speed phrase searched for its negation (three words and more)
_NEGATED = re.compile(r"(?<![\w'])(?:not|never|nothing|no|\w+n't)(?:\s+[\w']+){0,3}?\s+(?:too\s+|so\s+|very\s+)?$",
                      re.IGNORECASE)
# how much: an intensifier or a softener just before a speed phrase, or at its start ("very slowly" is a phrase)
_MORE_WORDS = r"very|really|extremely|super|incredibly|so|way|much|even"
_LESS_WORDS = r"a\s+(?:little\s+)?bit|a\s+little|a\s+tad|slightly|somewhat|kind\s+of|sort\s+of"
_LESS = re.compile(_LESS_WORDS, re.IGNORECASE)
_DEGREE_BEFORE = re.compile(rf"(?<![\w'])(?P<word>{_LESS_WORDS}|{_MORE_WORDS})\s+$", re.IGNORECASE)
_DEGREE_INSIDE = re.compile(rf"(?P<word>{_LESS_WORDS}|{_MORE_WORDS})\s", re.IGNORECASE)
_ANY_MOVE = re.compile(r"(?:go|move|do\s+it|do\s+that|make\s+it|keep\s+it)[.!]?", re.IGNORECASE)


def names_only_timing(step: str) -> bool:
    """Whether a step of a command says nothing but a speed or a length ("hurry up", "for 2 seconds", "take your
    time", "go slow", "do it quickly"): it belongs to the step next to it (`motiongpt.lm.commands.split_command`)."""
    timing = read_timing(step)
    left = timing.left()
    return bool(timing.speed_spans or timing.length_spans) and (not left or bool(_ANY_MOVE.fullmatch(left)))


def timing_requests(split: str = "val") -> list[dict]:
    """The labelled requests of ``timing_{split}_requests.yaml`` (val: the reader was written looking at them; test:
    read once, after): [{text, speed ("slow", "fast" or "none"), seconds (or None)}]."""
    if split not in TIMING_REQUEST_FILES:
        raise ValueError(f"split must be one of {sorted(TIMING_REQUEST_FILES)}, got {split!r}")
    path = TIMING_REQUEST_FILES[split]
    rows = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(rows, list) or not all(
            isinstance(r, dict) and set(r) == {"text", "speed", "seconds"} and isinstance(r["text"], str)
            and r["speed"] in ("slow", "fast", "none")
            and (r["seconds"] is None or isinstance(r["seconds"], (int, float))) for r in rows):
        raise ValueError(f"{path.name}: expected a list of {{text, speed: slow|fast|none, seconds: number|null}}")
    return [{"text": r["text"], "speed": r["speed"], "seconds": None if r["seconds"] is None else float(r["seconds"])}
            for r in rows]
