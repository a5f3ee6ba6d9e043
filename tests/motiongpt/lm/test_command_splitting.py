"""The command splitter on its validation set (motiongpt/lm/command_splits_val.yaml), and its rules one by one."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import motiongpt.lm.commands as commands
from motiongpt.lm.commands import as_caption, split_command

VAL_FILE = Path(commands.__file__).with_name("command_splits_val.yaml")


def _entries() -> list:
    sets = yaml.safe_load(VAL_FILE.read_text())
    return [pytest.param(entry["text"], entry["steps"], id=f"{name}-{i}")
            for name, entries in sets.items() for i, entry in enumerate(entries)]


def test_val_set_is_well_formed():
    sets = yaml.safe_load(VAL_FILE.read_text())
    assert set(sets) == {"multi_step", "single_step"}
    assert all(len(e["steps"]) > 1 for e in sets["multi_step"])
    assert all(len(e["steps"]) == 1 for e in sets["single_step"])
    texts = [e["text"] for entries in sets.values() for e in entries]
    assert len(texts) == len(set(texts))


@pytest.mark.parametrize("text, steps", _entries())
def test_split_command_on_val_set(text, steps):
    assert split_command(text) == steps


@pytest.mark.parametrize("text, steps", [
    ("run, and when you're done, sit", ["run", "sit"]),
    ("run. Once that is finished, sit", ["run", "sit"]),
    ("walk when you reach the door", ["walk when you reach the door"]),  # only "done/finished/through" ends a step
])
def test_done_phrases_separate_steps(text, steps):
    assert split_command(text) == steps


@pytest.mark.parametrize("text, steps", [
    ("kick before you punch", ["kick", "punch"]),
    ("before you punch, kick", ["kick", "punch"]),
    ("kick after you punch", ["punch", "kick"]),
    ("after you punch, kick", ["punch", "kick"]),
    ("before you punch kick", ["before you punch kick"]),  # a leading clause needs its comma
])
def test_before_and_after_you_order_the_steps(text, steps):
    assert split_command(text) == steps


@pytest.mark.parametrize("text, steps", [
    ("jump and finish off with a spin", ["jump", "do a spin"]),
    ("jump and end it by spinning", ["jump", "spin"]),
    ("follow it up with a spin", ["do a spin"]),
    ("start off with a kick", ["do a kick"]),
])
def test_finish_follow_and_start_with(text, steps):
    assert split_command(text) == steps


def test_noun_phrase_lists_after_do_are_steps():
    assert split_command("do a cartwheel, a backflip and a bow") == ["do a cartwheel", "do a backflip", "do a bow"]
    # only after "do"/"perform" or another noun-phrase step: other verbs keep their list of objects
    assert split_command("wave at a man and a woman") == ["wave at a man and a woman"]
    assert split_command("walk like a robot and a cat") == ["walk like a robot and a cat"]


def test_a_pronoun_object_keeps_the_previous_step():
    assert split_command("lift your arms and shake them") == ["lift your arms and shake them"]
    assert split_command("lift your arms and shake your hips") == ["lift your arms", "shake your hips"]


def test_a_time_clause_orders_only_its_own_part():
    # "before you ..." reaches to the part's end; a separator ("and finish with") starts a new part
    assert split_command("before you sit, jump and finish with a bow") == ["jump", "sit", "do a bow"]


def test_words_after_and_that_are_no_action_stay_in_the_step():
    assert split_command("raise and lower your arms") == ["raise and lower your arms"]  # "lower" is no action verb
    assert split_command("walk forward, swinging your arms") == ["walk forward, swinging your arms"]


@pytest.mark.parametrize("step, action", [
    ("walking forward", "walk forward"), ("waving", "wave"), ("running fast", "run fast"), ("sitting down", "sit down"),
    ("lying down", "lie down"), ("keep walking", "walk"), ("start dancing happily", "dance happily"),
    ("swinging your arms", "swing your arms"), ("a backflip", "do a backflip"), ("the splits", "do the splits"),
    ("two squats", "do two squats"),
    ("a person walks", "a person walks"), ("the man waves", "the man waves"),  # captions already: kept
    ("bring the cup", "bring the cup"),  # "bring" is no gerund of an action verb
])
def test_step_forms_become_imperatives(step, action):
    assert commands.as_action(step) == action


@pytest.mark.parametrize("step, caption", [
    ("do a backflip", "a person does a backflip"), ("a backflip", "a person does a backflip"),
    ("walking forward", "a person walks forward"),
    ("raise your left hand and wave it", "a person raises their left hand and waves it"),
    ("turn left and right", "a person turns left and right"), ("a person walks", "a person walks"),
])
def test_new_step_forms_give_natural_captions(step, caption):
    assert as_caption(step) == caption


def test_every_trailing_filler_is_removed_however_many():
    """Trailing fillers are removed one at a time from the end (each search sees only the text's tail)."""
    assert commands.clean_step("walk forward" + ", please" * 200 + "!") == "walk forward"
    assert commands.clean_step("wave, thanks! please") == "wave"


@pytest.mark.parametrize("text, steps", [
    ("in a second, walk backwards", ["walk backwards"]), ("hold on a sec, now turn right", ["turn right"]),
    ("first thing, wave with your left hand", ["wave with your left hand"]), ("and second, turn left", ["turn left"]),
    ("cartwheel, take it easy and go slow", ["cartwheel, take it easy, go slow"]),
    ("walk forward and do it quickly", ["walk forward and do it quickly"]),
    ("walk for a second", ["walk for a second"]),  # a length, not a filler
])
def test_time_words_that_carry_no_motion_are_dropped_or_kept_with_their_step(text, steps):
    assert split_command(text) == steps
