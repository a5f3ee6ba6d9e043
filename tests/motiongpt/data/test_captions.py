"""The caption table and HumanML3D tokens."""
from __future__ import annotations

import pytest

from motiongpt.data import augment, deepmimic
from motiongpt.data.bandai_dataset import held_out_phrasings, normalise
from motiongpt.data.captions import CaptionError, caption_table, caption_words, lexicon, parse_caption_table, tag_caption


def test_every_clip_has_at_least_five_captions_and_held_out_phrasings():
    table = caption_table()
    assert set(table) == set(deepmimic.CLIP_FILES)
    training = [c for entry in table.values() if not entry.test_only for c in entry.captions]
    all_training = set(training) | {augment.mirror_text(c) for c in training}  # mirrored copies are trained on too
    for name, entry in table.items():
        assert len(entry.captions) >= 5, name
        assert len(entry.held_out) >= 1, name
        assert len(set(entry.captions)) == len(entry.captions), name
        # a held-out phrasing (a val phrasing now) is never a training caption of any clip
        assert not set(entry.held_out) & all_training, name
        # the test phrasings of its action (held_out_phrasings.yaml, as loaded) are neither
        test = {normalise(c) for c in held_out_phrasings().for_action(entry.action)}
        assert len(test) >= 3, name
        assert not test & {normalise(c) for c in all_training | set(entry.held_out)}, name
    actions = {entry.action for entry in table.values()}
    assert {"walk", "run", "jump", "backflip", "cartwheel", "crawl", "dance", "getup", "kick", "punch", "roll",
            "spin", "spinkick", "turn_left", "turn_right"} == actions


def test_turn_captions_name_their_direction():
    for entry in caption_table().values():
        if entry.action.startswith("turn_"):
            side = entry.action.removeprefix("turn_")
            other = augment.mirror_text(side)
            for caption in entry.captions + entry.held_out:
                assert side in caption_words(caption) and other not in caption_words(caption), caption


def test_every_word_is_in_the_lexicon_and_tokens_are_lemma_pos():
    words = lexicon()
    for entry in caption_table().values():
        for caption in entry.captions + entry.held_out:
            for text in (caption, augment.mirror_text(caption)):
                tokens = tag_caption(text, strict=True).split(" ")
                assert len(tokens) == len(caption_words(text))
                assert all(t.count("/") == 1 and t.split("/")[1].isupper() for t in tokens)
    assert all(isinstance(word, str) for word in words)  # YAML must not turn on/off/yes into booleans


def test_tagging_examples():
    assert tag_caption("A person walks forward.") == "a/DET person/NOUN walk/VERB forward/ADV"
    assert tag_caption("someone kicks with the right leg") == \
        "someone/PRON kick/VERB with/ADP the/DET right/ADJ leg/NOUN"
    assert tag_caption("a man turns to the left") == "a/DET man/NOUN turn/VERB to/ADP the/DET left/NOUN"
    assert tag_caption("a person turns left") == "a/DET person/NOUN turn/VERB left/ADV"
    with pytest.raises(CaptionError, match="moonwalks"):
        tag_caption("a person moonwalks", strict=True)
    assert tag_caption("a person moonwalks gracefully") == "a/DET person/NOUN moonwalks/NOUN gracefully/ADV"


def test_malformed_caption_tables_are_rejected():
    good = {"action": "walk", "activity": "cyclic", "captions": ["a"] * 5, "held_out": ["b"]}
    assert parse_caption_table({"clips": {"walk": good}})["walk"].action == "walk"
    with pytest.raises(CaptionError, match="needs >= 5 captions"):
        parse_caption_table({"clips": {"walk": good | {"captions": ["a"]}}})
    with pytest.raises(CaptionError, match="activity"):
        parse_caption_table({"clips": {"walk": good | {"activity": "sometimes"}}})
    with pytest.raises(CaptionError, match="both held out and in training"):
        parse_caption_table({"clips": {"walk": good | {"held_out": ["a"]}}})
    with pytest.raises(CaptionError, match="lacks"):
        parse_caption_table({"clips": {"walk": {"action": "walk"}}})
