"""Commands as people say them: address and politeness removed, split into steps, steps in the captions' form.

"Hey robot, could you please walk forward and then wave with your right hand" ->
steps ["walk forward", "wave with your right hand"] -> captions ["a person walks forward",
"a person waves with their right hand"].

- Address and politeness (`clean_step`): a leading "hey/hi/ok robot", "excuse me", "robot", "please",
  "could/can/would you (mind)", "I want you to", "I'd like you to", "go ahead and", "let's", "now", "first
  (thing)", "second,", "in a second,", "hold on (a sec)," and a trailing "please", "for me", "thanks" are
  dropped; they carry no motion.
- Steps (`split_command`), rules in order:
  - Separators (`STEP_SEPARATORS`) always separate steps, with a "," and an "and" before them and a ","
    after: "then", "after that", "afterwards", "followed by", "finally", "lastly", "next,", ";", sentence
    ends, "once/when/after you're done" (or "finished", "that's done", ...), "follow (it/that) (up) with",
    "finish/end (it/off) with/by", "start/begin (off) with/by" ("start with a wave and end with a bow" is
    two steps).
  - Time clauses keep the order of the motions (`_in_time_order`): "X before you Y" and "before you Y, X"
    are X then Y; "X after you Y" and "after you Y, X" are Y then X. A leading clause needs its comma.
  - "and" and "," separate steps only when the words after them start a new action (`_splits_at`): a verb
    of `ACTION_VERBS`, so "walk forward and wave" is two steps and "turn left and right", "walk forward and
    back", "jump up and down" or "wave with both hands, slowly" one; but not a verb whose object is "it" /
    "them", which acts on the previous step's object: "raise your left hand and wave it" and "pick up the
    box and put it down" are one clip each, as the training captions say them. After a noun-phrase step or
    "do"/"perform", a noun phrase is a new step too: "do a cartwheel and a backflip" is two.
  - Repetitions ("wave twice", "spin around three times") and simultaneous actions ("walk forward while
    waving") stay in their step.
  - A step that only says a speed or a length ("hurry up and walk backwards", "for 2 seconds, step left") is
    said of the next step ("walk backwards, hurry up"), or of the previous one when it is the last.
- Step forms (every step `split_command` returns): the sentence capital is dropped ("Walk" -> "walk"; "I"
  and all-capital words are kept); then, by `as_action`, a gerund becomes the imperative ("walking
  forward" -> "walk forward", "start dancing" -> "dance", as after "finish by" or "would you mind"); a
  noun phrase becomes "do" + the noun phrase ("finish with a spinning kick and a backflip" -> "do a
  spinning kick", "do a backflip"), unless it is a subject ("a person walks"). "twice" and the like are kept.
- Captions (`as_caption`): a bare imperative becomes the third-person sentence the captions are written
  in ("turn left" -> "a person turns left", "a backflip" -> "a person does a backflip"), with "your" ->
  "their", and an action verb after "and" in the same step in the third person too ("raise your hand and
  wave it" -> "a person raises their hand and waves it").
"""
from __future__ import annotations

import re

from motiongpt.lm.request_timing import names_only_timing

# Words and phrases that always separate steps (regexes, tried as whole words, case-insensitive); a "," and an
# "and" before them and a "," after them belong to the separator. "and" and "," alone are `_split_on_and`'s.
_SUBJECT_DONE = r"(?:you(?:'re|’re| are|'ve|’ve| have)|that(?:'s|’s| is| has been)|it(?:'s|’s| is))"
STEP_SEPARATORS = (
    r"then",
    r"after that",
    r"afterwards",
    r"followed by",
    r"finally",
    r"lastly",
    r"next(?=\s*,)",
    rf"(?:once|when|after)\s+(?:{_SUBJECT_DONE}\s+)?(?:all\s+)?(?:done|finished|through)"
    r"(?:\s+(?:with\s+)?(?:that|it|this))?",
    r"follow(?:\s+(?:it|that|this))?(?:\s+up)?\s+with",
    r"(?<!the\s)(?<!an\s)(?:finish|end)(?:\s+(?:it|off|up|things))?\s+(?:with|by)",
    r"(?<!the\s)(?:start|begin)(?:\s+(?:off|out))?\s+(?:with|by)",
)
_PUNCTUATION_SEPARATORS = (r"\s*;\s*", r"\s*[.!?]+\s+")
_SPLIT = re.compile("|".join([rf"(?:,?\s*\b(?:and\s+)?(?:{s})\b,?\s*)" for s in STEP_SEPARATORS]
                             + [f"(?:{s})" for s in _PUNCTUATION_SEPARATORS]), flags=re.IGNORECASE)
_AND_OR_COMMA = re.compile(r"(\s*,\s*(?:and\s+)?|\s+and\s+)", flags=re.IGNORECASE)
# "before you ..." / "after you ..." (not "after you're done", a separator): the clause is done first / second.
_TIME_CLAUSE = re.compile(r"\b(before|after)\s+you\b(?!['’])\s*", flags=re.IGNORECASE)
_MAX_CLAUSE_DEPTH = 8

# Verbs that start an action step (imperative form); used to decide whether "and" / "," start a new step.
# "start", "begin", "keep", "continue" take a gerund ("begin dancing"), "finish", "end", "follow" a phrase.
ACTION_VERBS = frozenset("""
walk run jog sprint dash stroll march go step move scoot shuffle sidestep strafe turn spin twirl rotate
pivot wave raise lift put hold bow nod salute greet beckon call point guide show jump hop leap kick punch
slash strike swing hit box dance crawl creep roll tumble cartwheel flip backflip somersault get stand sit
lie squat kneel crouch stop stay freeze say throw reach clap stretch do make take perform give bend lean
skip limp tiptoe sneak stomp climb come return look face shake touch collapse fall drop straighten
lunge wiggle shrug duck dodge block carry push pull pick grab celebrate cheer applaud flex balance rest
start begin keep continue finish end follow
""".split())
# Verbs whose object is the action itself: "do a cartwheel and a backflip" lists two steps.
DO_VERBS = frozenset({"do", "perform"})
# "... and wave it": a verb acting on the previous step's object continues that step.
_PRONOUN_OBJECT = re.compile(r"^\w+\s+(?:it|them)\b", flags=re.IGNORECASE)
_DETERMINERS = r"(?:a|an|the|some|another|one|two|three|four|five|six|seven|eight|nine|ten)"
_NOUN_PHRASE = re.compile(rf"^{_DETERMINERS}\s+\w", flags=re.IGNORECASE)
# A noun phrase that is a sentence's subject ("a person walks", "the tired old man waves") is no action.
_SUBJECT_PHRASE = re.compile(r"^(?:a|an|the|some)\s+(?:\w+\s+){0,2}?(?:person|man|woman|human|robot|guy|figure"
                             r"|boy|girl|kid|child|people|men|women|someone)\b", flags=re.IGNORECASE)
_GERUND_START = re.compile(r"^(?:start|begin|keep|continue|go on|carry on)\s+(?=\w+ing\b)", flags=re.IGNORECASE)
_FILLER_START = re.compile(
    r"^(?:(?:hey|hi|hello|ok|okay|yo|alright|all right)\b\s*,?\s*(?:(?:robot|buddy|there)\b)?\s*[,!]?\s*"
    r"|excuse me\b\s*,?\s*|robot\b\s*[,!:]?\s*"
    r"|please\b\s*,?\s*|kindly\s+|now\b\s*,?\s*|and\b\s*|so\b\s*,?\s*|first(?:ly|\s+thing)?\b\s*,?\s*"
    r"|(?:second|third|fourth|last)(?:ly)?\s*(?:,\s*|$)"
    r"|in\s+a\s+(?:sec|second|moment|minute|bit)\b\s*,?\s*"
    r"|hold\s+on(?:\s+a\s+(?:sec|second|moment|minute))?\b\s*,?\s*"
    r"|to start\b\s*,?\s*"
    r"|(?:could|can|would|will)\s+you\s+(?:please\s+)?(?:mind\s+)?"
    r"|i(?:\s+want|\s+need|\s+would like|'d like|’d like)\s+you\s+to\s+"
    r"|go ahead and\s+|let's\b\s*|let’s\b\s*|let me see you\s+|try to\s+|just\s+)",
    flags=re.IGNORECASE)
# One trailing filler; `clean_step` removes them one at a time from the text's end, looking only at its last
# _FILLER_END_REACH characters (a pattern with "+" and "$" searched over the whole text took time quadratic in
# its length: 21 s for a 32,000-character step).
_FILLER_END = re.compile(r"(?:\s*,?\s*\b(?:please|for me|thanks|thank you|now|if you can|if you could)|\s*,\s*robot)"
                         r"\s*[.!?]*$", flags=re.IGNORECASE)
_FILLER_END_REACH = 64


def clean_step(text: str) -> str:
    """One step without address, politeness and trailing punctuation ("" when nothing is left)."""
    step = text.strip(" ,.;:!?\"'")
    for _ in range(6):  # fillers can be stacked: "hey robot, please, could you ..."
        cleaned = _FILLER_START.sub("", step, count=1).strip(" ,")
        if cleaned == step:
            break
        step = cleaned
    while True:
        offset = max(0, len(step) - _FILLER_END_REACH)
        filler = _FILLER_END.search(step, offset)
        if not filler:
            break
        step = step[:filler.start()]
    return step.strip(" ,.;:!?\"'")


def _base_form(word: str) -> str | None:
    """The action verb a gerund is of ("waving" -> "wave", "running" -> "run", "lying" -> "lie"), else None."""
    word = word.lower()
    if not word.endswith("ing") or len(word) < 5:
        return None
    stem = word[:-3]
    candidates = [stem, stem + "e"]
    if len(stem) > 2 and stem[-1] == stem[-2]:
        candidates.append(stem[:-1])
    if stem.endswith("y"):
        candidates.append(stem[:-1] + "ie")
    return next((verb for verb in candidates if verb in ACTION_VERBS), None)


def _is_noun_phrase(step: str) -> bool:
    return bool(_NOUN_PHRASE.match(step)) and not _SUBJECT_PHRASE.match(step)


def as_action(step: str) -> str:
    """A step as an imperative: a gerund becomes the verb ("walking forward" -> "walk forward", "start dancing"
    -> "dance"), a noun phrase gets "do" ("a backflip" -> "do a backflip"); anything else is kept as it is."""
    gerund = _GERUND_START.match(step)
    if gerund and _base_form(step[gerund.end():].split()[0]):
        step = step[gerund.end():]
    words = step.split()
    if not words:
        return step
    base = _base_form(words[0])
    if base:
        return " ".join([base] + words[1:])
    if _is_noun_phrase(step):
        return f"do {step}"
    return step


def _drop_sentence_capital(step: str) -> str:
    """"Walk forward" -> "walk forward"; "I", "TV" and other capitalised words are kept."""
    first = step.split(maxsplit=1)[0] if step else ""
    if first and first != "I" and (len(first) == 1 or first[1:].islower()):
        return step[0].lower() + step[1:]
    return step


def _starts_action(text: str) -> bool:
    words = clean_step(text).lower().split()
    return bool(words) and words[0] in ACTION_VERBS


def _splits_at(start: str, piece: str) -> bool:
    """Whether `piece`, after an "and" or "," in a step that starts with `start` (cleaned, not empty), is a new
    step (see the module's rules)."""
    piece = clean_step(piece)
    if _starts_action(piece):
        return not _PRONOUN_OBJECT.match(piece)
    listed_after = start.split()[0].lower() in DO_VERBS or _is_noun_phrase(start)
    return listed_after and _is_noun_phrase(piece)


def _split_on_and(part: str) -> list[str]:
    """Split one separator-free part at "and" / "," where the next words start a new step."""
    pieces = _AND_OR_COMMA.split(part)  # text, separator, text, separator, ...
    steps = [pieces[0]]
    start = clean_step(pieces[0])  # the step's first piece with words left after cleaning: what may follow it
    for separator, piece in zip(pieces[1::2], pieces[2::2]):
        if start and _splits_at(start, piece):
            steps.append(piece)
            start = clean_step(piece)
        else:
            steps[-1] = f"{steps[-1]}{separator}{piece}"
            start = start or clean_step(piece)
    return steps


def _in_time_order(part: str, depth: int = 0) -> list[str]:
    """One separator-free part as clauses in the order of their motions ("wave before you sit" -> "wave", "sit";
    "after you jump, spin" -> "jump", "spin"); a part without "before/after you" is itself. Clauses nested
    deeper than `_MAX_CLAUSE_DEPTH` are left as they are (a long text stays cheap and within Python's recursion)."""
    clause = _TIME_CLAUSE.search(part) if depth < _MAX_CLAUSE_DEPTH else None
    if not clause:
        return [part]
    head, rest = part[:clause.start()], part[clause.end():]
    if clean_step(head):  # "X before you Y"
        main, subordinate = head, rest
    else:  # "before you Y, X": the clause ends at its comma
        subordinate, comma, main = rest.partition(",")
        if not comma:
            return [part]
    first, second = (main, subordinate) if clause.group(1).lower() == "before" else (subordinate, main)
    return _in_time_order(first, depth + 1) + _in_time_order(second, depth + 1)


def split_command(text: str) -> list[str]:
    """Steps of a command, in order, without the connecting and polite words. A single-step command gives one.

    >>> split_command("Hey robot, please walk forward and then wave with your right hand.")
    ['walk forward', 'wave with your right hand']
    >>> split_command("Do a cartwheel and a backflip before you sit down")
    ['do a cartwheel', 'do a backflip', 'sit down']
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("command: expected a non-empty text")
    steps = []
    for part in _SPLIT.split(text.strip()):
        for clause in _in_time_order(part.strip()):
            for piece in _split_on_and(clause.strip()):
                step = clean_step(piece)
                if step:  # a step that only says its timing ("Three seconds.") is not made an action
                    step = _drop_sentence_capital(step)
                    steps.append(step if names_only_timing(step) else as_action(step))
    if not steps:
        raise ValueError(f"command: no step found in {text!r}")
    return _with_timing_attached(steps)


def _with_timing_attached(steps: list[str]) -> list[str]:
    """A step that says nothing but a speed or a length ("hurry up and walk backwards", "for 2 seconds, step
    left") is said of the next step, or of the previous one when it is the last: "walk backwards, hurry up",
    "step left, for 2 seconds" (`motiongpt.lm.request_timing.names_only_timing`)."""
    attached: list[str] = []
    waiting: list[str] = []
    for step in steps:
        if names_only_timing(step):
            waiting.append(step)
        else:
            attached.append(", ".join([step, *waiting]))
            waiting = []
    if waiting and attached:
        attached[-1] = ", ".join([attached[-1], *waiting])
    return attached or steps


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
    sentence ("a backflip" and "walking" first become "do a backflip" and "walk", `as_action`), "your" becomes
    "their" ("wave your right hand" -> "a person waves their right hand"), and an action verb right after
    "and" is in the third person too ("raise your hand and wave it" -> "a person raises their hand and waves it")."""
    step = as_action(clean_step(step) or step.strip())
    words = step.split()
    if not words or words[0].lower() in SUBJECT_WORDS:
        return step
    rest = [_SECOND_PERSON.get(w.lower(), w) for w in words[1:]]
    rest = [_third_person(w.lower()) if before.lower() == "and" and w.lower() in ACTION_VERBS else w
            for before, w in zip([words[0]] + rest, rest)]
    return " ".join(["a", "person", _third_person(words[0].lower())] + rest)
