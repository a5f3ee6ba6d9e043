"""What a request says of its timing: the speed it names, the length it asks for, and the request without them."""
from __future__ import annotations

import pytest
import yaml

from motiongpt.data.augment import named_speed
from motiongpt.lm import request_timing
from motiongpt.lm.commands import split_command
from motiongpt.lm.request_timing import SPEED_FILE, names_only_timing, read_timing, speed_phrases


@pytest.mark.parametrize("text, speed", [
    ("walk forward slowly", "slow"), ("Walk SLOWLY", "slow"), ("take your time and walk backwards", "slow"),
    ("kick at a snail\u2019s pace", "slow"), ("turn in slow-mo", "slow"), ("don't rush, bow", "slow"),
    ("hurry up and wave", "fast"), ("throw a lightning-fast punch", "fast"), ("run at top speed", "fast"),
    ("step right, chop chop", "fast"), ("walk briskly", "fast"),
    ("walk slowly, then run fast", None),  # both: no one speed
    ("walk forward", None), ("do a slow-motion kick", None),  # "slow" inside "slow-motion" is no speed word
    ("wave in a rush", "fast"),
    ("run at max speed", "fast"), ("sprint flat out", "fast"), ("go turbo", "fast"), ("walk at minimum speed", "slow"),
    ("walk backwards, but not too fast", "slow"), ("dance, nothing too quick", "slow"), ("not so slowly", "fast"),
])
def test_the_speed_a_request_names(text, speed):
    assert read_timing(text).speed == speed


@pytest.mark.parametrize("text, seconds", [
    ("please walk forward for three seconds", 3.0), ("walk backwards for 5 seconds", 5.0),
    ("for 2 seconds, step to the left", 2.0), ("step right for half a second", 0.5), ("turn for 1.5 secs", 1.5),
    ("wave for two and a half seconds", 2.5), ("wave for two-and-a-half seconds", 2.5), ("bow for a second", 1.0),
    ("wave with your left hand for 80 frames", 4.0), ("kick, 2 seconds long", 2.0), ("backflip, 1.5 seconds", 1.5),
    ("do a backflip that lasts 3 seconds", 3.0), ("turn right, make it last four seconds", 4.0),
    ("dance for twenty-five seconds", 25.0), ("run for a minute", 60.0), ("walk for 3s", 3.0),
    ("punch for six seconds straight", 6.0), ("walk for about 4 seconds", 4.0),
    # no definite length: vague, a count, a time that is not the motion's length, two lengths
    ("wave for a while", None), ("walk for a few seconds", None), ("take 3 steps forward", None),
    ("jump twice", None), ("in a second, walk backwards", None), ("wait a second then bow", None),
    ("wave for a moment", None), ("wave for 2 seconds and then for 3 seconds", None), ("walk for three s", None),
])
def test_the_length_a_request_asks_for(text, seconds):
    assert read_timing(text).seconds == seconds


@pytest.mark.parametrize("text, seconds, without", [
    ("wave 3 seconds", 3.0, "wave"), ("hold five second", 5.0, "hold"), ("walk 10 secs then stop", 10.0,
                                                                           "walk then stop"),
    ("bow two and a half seconds, please", 2.5, "bow, please"), ("kick 2 s", 2.0, "kick"),
    ("march in place 40 frames.", 2.0, "march in place."),
    # a moment, a count or a rate, not a length
    ("wave in 3 seconds", None, "wave in 3 seconds"), ("jump every 2 seconds", None, "jump every 2 seconds"),
    ("wait a second", None, "wait a second"), ("walk 3 steps", None, "walk 3 steps"),
    ("turn 90 degrees", None, "turn 90 degrees"), ("walk three s", None, "walk three s"),
])
def test_a_length_said_straight_after_the_movement(text, seconds, without):
    timing = read_timing(text)
    assert (timing.seconds, timing.without()) == (seconds, without)


@pytest.mark.parametrize("text, speed, factor", [
    ("step right, 2x speed", "fast", 2.0), ("walk back at 0.75x", "slow", 0.75), ("walk twice as fast", "fast", 2.0),
    ("dance at double speed", "fast", 2.0), ("turn at half speed", "slow", 0.5), ("walk three times faster", "fast", 3.0),
    ("walk 2 times slower", "slow", 0.5), ("bow in 0.5x slow-mo", "slow", 0.5), ("walk at quarter speed", "slow", 0.25),
    ("walk forward quickly", "fast", None),  # a speed, no multiple
    ("wave 3x", None, None), ("jump twice", None, None),  # counts, not speeds
    ("walk at 2x speed, then slowly", None, None),  # two speeds: none
])
def test_a_speed_said_as_a_multiple(text, speed, factor):
    timing = read_timing(text)
    assert (timing.speed, timing.factor) == (speed, factor)


@pytest.mark.parametrize("text, speed, degree, without", [
    ("walk forward very slowly", "slow", "more", "walk forward"),  # a phrase of its own
    ("walk really fast", "fast", "more", "walk"), ("walk forward much quicker", "fast", "more", "walk forward"),
    ("so slowly, walk back", "slow", "more", "walk back"),
    ("walk a bit faster", "fast", "less", "walk"), ("wave, a little bit slower this time", "slow", "less",
                                                   "wave, this time"),
    ("walk slightly quicker", "fast", "less", "walk"),
    ("walk forward slowly", "slow", None, "walk forward"),
    ("not very fast, please", "slow", None, "please"),  # negated: slow, no more
    ("walk forward slowly, really slowly", "slow", None, "walk forward"),  # two degrees: none
    ("walk at 2x speed, very fast", "fast", None, "walk"),  # a multiple says how much itself
    ("walk forward a bit", None, None, "walk forward a bit"), ("kick really high", None, None, "kick really high"),
])
def test_how_much_slower_or_faster(text, speed, degree, without):
    timing = read_timing(text)
    assert (timing.speed, timing.degree, timing.without()) == (speed, degree, without)


def test_a_request_without_its_timing_words():
    timing = read_timing("walk forward slowly for 4 seconds, please")
    assert (timing.speed, timing.seconds) == ("slow", 4.0)
    assert timing.without() == "walk forward, please"
    assert timing.without(speed=False) == "walk forward slowly, please"
    assert timing.without(length=False) == "walk forward for 4 seconds, please"
    assert read_timing("take your time and walk backwards").without() == "walk backwards"
    assert read_timing("for 2 seconds, step to the left").without() == "step to the left"
    assert read_timing("walk forward").without() == "walk forward"  # nothing to take out
    assert read_timing("quickly!").without() == "quickly!"  # nothing else would be left: as it is
    assert read_timing("quickly!").left() == ""
    assert names_only_timing("hurry up") and names_only_timing("for 3 seconds")
    assert not names_only_timing("walk forward") and not names_only_timing("walk quickly")


def test_a_step_that_only_says_a_speed_or_a_length_belongs_to_the_next_step():
    assert split_command("hurry up and walk backwards") == ["walk backwards, hurry up"]
    assert split_command("for 2 seconds, step to the left") == ["step to the left, for 2 seconds"]
    assert split_command("take your time and walk backwards, then wave") == ["walk backwards, take your time",
                                                                             "wave"]
    assert split_command("walk forward, then hurry up") == ["walk forward, hurry up"]  # the last: the previous's
    assert split_command("walk forward for 3 seconds, then wave for 2 seconds") == [
        "walk forward for 3 seconds", "wave for 2 seconds"]
    assert split_command("quickly") == ["quickly"]  # nothing else said
    # a length said as a sentence of its own: the last step's (not made an action: "do three seconds")
    assert split_command("Turn left. 2 s.") == ["turn left, 2 s"]
    assert split_command("Wave. Three seconds.") == ["wave, three seconds"]
    assert split_command("Walk forward. Then wave. About 4 seconds.") == ["walk forward", "wave, about 4 seconds"]
    assert [read_timing(step).seconds for step in ("turn left, 2 s", "wave, three seconds", "2 s.", "two s",
                                                   "3 seconds of waving")] == [2.0, 3.0, 2.0, None, None]


def test_the_speed_phrases_read_as_their_speed_and_the_datas_words_are_among_them():
    data = yaml.safe_load(SPEED_FILE.read_text(encoding="utf-8"))
    assert set(data) == {"slow", "fast"} and all(len(phrases) >= 50 for phrases in data.values())
    for speed, phrases in data.items():
        for phrase in phrases:
            assert read_timing(f"walk forward {phrase}").speed == speed, phrase
    table = dict(speed_phrases())
    for word in ("slowly", "leisurely", "briskly", "quickly"):
        assert table[word] == named_speed(word)


def test_a_malformed_speed_file_is_a_clear_error(tmp_path, monkeypatch):
    bad = tmp_path / "speed_phrasings.yaml"
    monkeypatch.setattr(request_timing, "SPEED_FILE", bad)
    for text in ("slow: [slowly]\n", "slow: [slowly]\nfast: [3]\n", "slow: [at a crawl]\nfast: [At a crawl]\n"):
        bad.write_text(text)
        request_timing.speed_phrases.cache_clear()
        with pytest.raises(request_timing.SpeedPhrasesError, match="speed_phrasings.yaml"):
            speed_phrases()
    request_timing.speed_phrases.cache_clear()
    monkeypatch.undo()
    request_timing.speed_phrases.cache_clear()
    assert speed_phrases()
