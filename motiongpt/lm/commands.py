"""Commands as people say them: address and politeness removed, split into steps, steps in the captions' form.

"Hey robot, could you please walk forward and then wave with your right hand" ->
steps ["walk forward", "wave with your right hand"] -> captions ["a person walks forward",
"a person waves with their right hand"].

- Address and politeness (`clean_step`): a leading "hey/hi/ok robot", "robot", "please", "could/can/would
  you", "I want you to", "I'd like you to", "go ahead and", "now", and a trailing "please", "for me",
  "thanks" are dropped; they carry no motion.
- Steps (`split_command`): "then", "and then", "after that", "afterwards", "followed by", "finally",
  "next", ";" and sentence ends always separate steps. "and" and "," separate steps only when the words
  after them start a new action (a verb of `ACTION_VERBS`): "walk forward and wave" is two steps, "turn left
  and right" or "wave with both hands, slowly" one.
- Captions (`as_caption`): a bare imperative becomes the third-person sentence the captions are written
  in ("turn left" -> "a person turns left"), with "your" -> "their".
"""
from __future__ import annotations

import re

# Separators between steps, tried as whole words; "and" and "," are handled by `_split_on_and`.
STEP_SEPARATORS = (
    r",?\s*\band then\b\s*",
    r",?\s*\bthen\b\s+",
    r",?\s*\bafter that\b,?\s*",
    r",?\s*\bafterwards\b,?\s*",
    r",?\s*\bfollowed by\b\s*",
    r",?\s*\bfinally\b,?\s*",
    r",?\s*\bnext\b,\s*",
    r"\s*;\s*",
    r"\s*[.!?]+\s+",
)
_SPLIT = re.compile("|".join(f"(?:{s})" for s in STEP_SEPARATORS), flags=re.IGNORECASE)
_AND_OR_COMMA = re.compile(r"(\s*,\s*(?:and\s+)?|\s+and\s+)", flags=re.IGNORECASE)

# Verbs that start an action step (imperative form); used to decide whether "and" / "," start a new step.
ACTION_VERBS = frozenset("""
walk run jog sprint dash stroll march go step move scoot shuffle sidestep strafe turn spin twirl rotate
pivot wave raise lift put hold bow nod salute greet beckon call point guide show jump hop leap kick punch
slash strike swing hit box dance crawl creep roll tumble cartwheel flip backflip somersault get stand sit
lie squat kneel crouch stop stay freeze say throw reach clap stretch do make take perform give bend lean
""".split())
_FILLER_START = re.compile(
    r"^(?:(?:hey|hi|hello|ok|okay|yo|alright|all right)\b\s*,?\s*(?:(?:robot|buddy|there)\b)?\s*[,!]?\s*"
    r"|robot\b\s*[,!:]?\s*"
    r"|please\b\s*,?\s*|kindly\s+|now\b\s*,?\s*|and\s+|so\b\s*,?\s*|first(?:ly)?\b\s*,?\s*"
    r"|to start\b\s*,?\s*|start by\s+"
    r"|(?:could|can|would|will)\s+you\s+(?:please\s+)?|i(?:\s+want|\s+need|\s+would like|'d like|’d like)\s+you\s+to\s+"
    r"|go ahead and\s+|let's\s+|let me see you\s+|try to\s+|just\s+)",
    flags=re.IGNORECASE)
_FILLER_END = re.compile(r"(?:\s*,?\s*\b(?:please|for me|thanks|thank you|now|if you can|if you could)|\s*,\s*robot)+"
                         r"\s*[.!?]*$",
                         flags=re.IGNORECASE)
_GERUND_START = re.compile(r"^(?:start|begin|keep|continue)\s+(\w+?)ing\b", flags=re.IGNORECASE)


def clean_step(text: str) -> str:
    """One step without address, politeness and trailing punctuation ("" when nothing is left)."""
    step = text.strip(" ,.;:!?\"'")
    for _ in range(6):  # fillers can be stacked: "hey robot, please, could you ..."
        cleaned = _FILLER_START.sub("", step, count=1).strip(" ,")
        if cleaned == step:
            break
        step = cleaned
    step = _FILLER_END.sub("", step).strip(" ,.;:!?\"'")
    return step


def _starts_action(text: str) -> bool:
    words = clean_step(text).lower().split()
    return bool(words) and words[0] in ACTION_VERBS


def _split_on_and(part: str) -> list[str]:
    """Split one separator-free part at "and" / "," where the next words start a new action."""
    pieces = _AND_OR_COMMA.split(part)  # text, separator, text, separator, ...
    steps = [pieces[0]]
    for separator, piece in zip(pieces[1::2], pieces[2::2]):
        if _starts_action(piece) and clean_step(steps[-1]):
            steps.append(piece)
        else:
            steps[-1] = f"{steps[-1]}{separator}{piece}"
    return steps


def split_command(text: str) -> list[str]:
    """Steps of a command, in order, without the connecting and polite words. A single-step command gives one.

    >>> split_command("Hey robot, please walk forward and then wave with your right hand.")
    ['walk forward', 'wave with your right hand']
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("command: expected a non-empty text")
    steps = []
    for part in _SPLIT.split(text.strip()):
        for piece in _split_on_and(part.strip()):
            step = clean_step(piece)
            if step:
                steps.append(step)
    if not steps:
        raise ValueError(f"command: no step found in {text!r}")
    return steps


SUBJECT_WORDS = frozenset({"a", "an", "the", "someone", "somebody", "he", "she", "they", "person", "man", "woman",
                           "human", "robot", "it", "i", "we", "you", "people", "guy", "figure"})
_IRREGULAR = {"do": "does", "go": "goes", "have": "has", "be": "is"}
_SECOND_PERSON = {"your": "their", "yours": "theirs", "yourself": "themself"}


def _third_person(verb: str) -> str:
    if verb in _IRREGULAR:
        return _IRREGULAR[verb]
    if verb.endswith("s") and not verb.endswith("ss"):
        return verb
    if verb.endswith(("ch", "sh", "x", "o", "ss", "z")):
        return verb + "es"
    if len(verb) > 1 and verb.endswith("y") and verb[-2] not in "aeiou":
        return verb[:-1] + "ies"
    return verb + "s"


def as_caption(step: str) -> str:
    """A step in the captions' own form: "turn left" / "turns left" -> "a person turns left".

    Training captions mostly have a subject ("a person walks forward."); a bare imperative becomes such a
    sentence, and "your" becomes "their" ("wave your right hand" -> "a person waves their right hand")."""
    step = clean_step(step) or step.strip()
    words = step.split()
    if not words or words[0].lower() in SUBJECT_WORDS:
        return step
    rest = [_SECOND_PERSON.get(w.lower(), w) for w in words[1:]]
    return " ".join(["a", "person", _third_person(words[0].lower())] + rest)
