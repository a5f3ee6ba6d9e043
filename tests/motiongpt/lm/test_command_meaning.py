"""What a command means: the action its meaning classifier gives, the out-of-vocabulary threshold, the request in
the model's own words, the saved index."""
from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pytest
import yaml

from motiongpt.lm.api import MotionGPT
from motiongpt.lm.command_meaning import (MeaningIndex, MeaningIndexError, choose_threshold, choose_thresholds,
                                          choose_unknown_threshold,
                                          out_of_vocabulary_phrasings, out_of_vocabulary_requests, separation)
from motiongpt.lm.model import ModelLoadError
from motiongpt.lm.sentence_encoder import SentenceEncoder, resolve_encoder_folder

CAPTIONS = {
    "walk": ["a person walks forward", "walk ahead a few steps", "someone strolls straight on"],
    "wave_right_hand": ["a person waves with the right hand", "wave hello with your right hand"],
    "backflip": ["a person does a backflip", "flip over backwards"],
}


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return SentenceEncoder(resolve_encoder_folder("all-MiniLM-L6-v2"))


@pytest.fixture(scope="module")
def tiny_model_folder(tmp_path_factory):
    from tests.motiongpt_node.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny_motiongpt") / "model")


@pytest.fixture(scope="module")
def index(encoder) -> MeaningIndex:
    return MeaningIndex.build(CAPTIONS, encoder.encode, "all-MiniLM-L6-v2", threshold=0.45)


def test_unseen_phrasings_get_their_action_and_unrelated_requests_a_low_similarity(index, encoder):
    texts = ["go forward on foot", "greet me with your right hand", "do a back somersault", "make me a cup of coffee"]
    meanings = index.match(texts, encoder.encode(texts))
    assert [m.action for m in meanings[:3]] == ["walk", "wave_right_hand", "backflip"]
    assert all(m.known for m in meanings[:3])
    assert not meanings[3].known and meanings[3].similarity < min(m.similarity for m in meanings[:3])
    # the similarity is the nearest caption's: a training caption itself scores 1
    [exact] = index.match(["flip over backwards"], encoder.encode(["flip over backwards"]))
    assert exact.action == "backflip" and exact.similarity == pytest.approx(1.0, abs=1e-5)


def test_the_action_is_read_from_the_request_without_its_style_words(index, encoder):
    """A style phrase either list knows is left out of the text the action is read from; the similarity (known or
    not) and the rest stay the whole request's."""
    from motiongpt.lm.command_meaning import action_texts

    texts = ["Walk forward like a tired old man.", "walk forward grumpily", "give me a youthful nod", "wearily",
             "flip over backwards", "a person walks forward carefully"]
    assert action_texts(texts) == ["walk forward", "walk forward", "give me a nod", "wearily", "flip over backwards",
                                   "a person walks forward carefully"]  # "wearily" alone: nothing else is left
    # the action follows action_query's rows; the similarity the query's
    query, other = encoder.encode(["flip over backwards"]), encoder.encode(["walk ahead a few steps"])
    [meaning] = index.match(["flip over backwards"], query, action_query=other)
    assert meaning.action == "walk" and meaning.similarity == pytest.approx(1.0, abs=1e-5)
    [caption] = index.rephrase(["flip over backwards"], query, action_query=other)
    assert caption in CAPTIONS["walk"]


def test_threshold_separates_known_from_unknown():
    known, unknown = np.array([0.7, 0.8, 0.9, 0.55]), np.array([0.2, 0.3, 0.5, 0.6])
    threshold = choose_threshold(known, unknown)
    assert 0.5 < threshold <= 0.55
    assert separation(known, unknown, threshold) == {"known_accepted": 1.0, "unknown_refused": 0.75, "known": 4,
                                                     "unknown": 4}
    assert choose_threshold(np.array([0.9]), np.array([0.1])) == pytest.approx(0.5)
    with pytest.raises(MeaningIndexError):
        choose_threshold(np.array([]), unknown)


def test_out_of_vocabulary_lists_are_disjoint_and_not_empty():
    val, test = out_of_vocabulary_requests("val"), out_of_vocabulary_requests("test")
    assert len(val) >= 30 and len(test) >= 30 and not set(val) & set(test)


UNKNOWN_REQUESTS = ["look to your left", "turn your head to the right", "nod your head", "sit down on the chair"]


@pytest.fixture(scope="module")
def index_with_unknown(encoder) -> MeaningIndex:
    phrasings = {"walk": ["go to the left on foot"], "wave_right_hand": ["give me a wave with your right hand"]}
    captions = {**CAPTIONS, "walk": CAPTIONS["walk"] + ["go to the left"]}
    return MeaningIndex.build(captions, encoder.encode, "all-MiniLM-L6-v2", threshold=0.45, phrasings=phrasings,
                              unknown_requests=UNKNOWN_REQUESTS).with_unknown_threshold(0.0)


def test_a_request_nearer_to_something_the_model_cannot_do_is_unknown(index_with_unknown, encoder):
    """"look to the left" is near the walk caption "go to the left" but nearer still to "look to your left" (a
    request of nothing the model knows): read as unknown, naming that request; a known phrasing is not."""
    texts = ["look to the left", "walk ahead a bit", "wave with your right hand"]
    look, walk, wave = index_with_unknown.match(texts, encoder.encode(texts))
    assert look.read_as_unknown and not look.known and look.nearest_unknown == "look to your left"
    assert look.unknown_margin > 0 and look.similarity >= index_with_unknown.threshold  # near enough by similarity
    assert not walk.read_as_unknown and walk.known and walk.unknown_margin < 0
    assert not wave.read_as_unknown and wave.known
    # the margin compares with the action requests too, not only the captions
    [request] = index_with_unknown.match(["go to the left on foot"], encoder.encode(["go to the left on foot"]))
    assert request.known and request.unknown_margin < 0
    # an index without unknown requests never reads one as unknown (indexes exported before stop 41)
    [old] = dataclasses.replace(index_with_unknown, unknown_vectors=None, request_vectors=None,
                                unknown_texts=()).match(["look to the left"], encoder.encode(["look to the left"]))
    assert not old.read_as_unknown and old.unknown_margin == -2.0 and old.nearest_unknown == ""
    # without with_unknown_threshold nothing is read as unknown
    never = dataclasses.replace(index_with_unknown, unknown_threshold=np.inf)
    assert not never.match(["look to the left"], encoder.encode(["look to the left"]))[0].read_as_unknown


def test_unknown_requests_round_trip_and_a_broken_list_is_refused(index_with_unknown, encoder, tmp_path):
    index_with_unknown.save(tmp_path)
    loaded = MeaningIndex.load(tmp_path)
    assert loaded.unknown_texts == tuple(UNKNOWN_REQUESTS) and loaded.unknown_threshold == 0.0
    texts = ["look to the left", "walk ahead a bit"]
    assert [m.read_as_unknown for m in loaded.match(texts, encoder.encode(texts))] == [True, False]
    dataclasses.replace(index_with_unknown, unknown_texts=("look to your left",)).save(tmp_path)
    with pytest.raises(MeaningIndexError, match="inconsistent unknown requests"):
        MeaningIndex.load(tmp_path)


def test_unknown_threshold_is_chosen_with_the_similarity_threshold():
    # known: (similarity, margin); the last known request is refused by similarity whatever the margin
    known = (np.array([0.9, 0.8, 0.7, 0.3]), np.array([-0.5, -0.3, -0.25, -0.6]))
    unknown = (np.array([0.8, 0.7, 0.3, 0.2]), np.array([0.1, -0.2, -0.4, 0.2]))
    margin = choose_unknown_threshold(known, unknown, threshold=0.5)
    assert margin == pytest.approx(-0.225)  # accepts the 3 known above 0.5, refuses every unknown request
    # nothing to gain from the margin: never read as unknown (ties broken towards accepting)
    assert choose_unknown_threshold((np.array([0.9]), np.array([0.0])), (np.array([0.1]), np.array([-1.0])),
                                    threshold=0.5) == np.inf
    with pytest.raises(MeaningIndexError):
        choose_unknown_threshold((np.array([]), np.array([])), unknown, threshold=0.5)


def test_both_thresholds_are_chosen_together():
    """With the margin refusing what resembles a request the model cannot do, a lower similarity threshold accepts
    a known request far from every caption (0.4) that the similarity alone had to refuse to refuse 0.5."""
    known = (np.array([0.9, 0.8, 0.4]), np.array([-0.5, -0.4, -0.3]))
    unknown = (np.array([0.5, 0.3]), np.array([0.1, -0.2]))
    assert choose_threshold(known[0], unknown[0]) == pytest.approx(0.65)  # the similarity alone
    threshold, margin = choose_thresholds(known, unknown)
    assert threshold < 0.4 and margin == pytest.approx(-0.25)  # every request placed right
    assert threshold == pytest.approx(0.3, abs=1e-5)  # ties: the lowest threshold (below every similarity)
    with pytest.raises(MeaningIndexError):
        choose_thresholds((np.array([]), np.array([])), (np.array([]), np.array([])))


def test_unknown_requests_are_kept_apart_from_the_lists_that_choose_and_measure():
    import re

    def words(text):
        return " ".join(re.sub(r"[^a-z ]", "", text.lower()).split())

    held_out = {words(t) for split in ("val", "test") for t in out_of_vocabulary_requests(split)}
    fitted = [words(t) for t in out_of_vocabulary_phrasings()]
    assert len(fitted) >= 200 and len(set(fitted)) == len(fitted)
    assert not [t for t in fitted if any(h in t for h in held_out)]


def test_index_round_trips_and_a_model_folder_reads_it(index, encoder, tmp_path, tiny_model_folder):
    folder = tmp_path / "model"
    shutil.copytree(tiny_model_folder, folder)
    assert MotionGPT.from_pretrained(folder).meanings(["walk"]) is None  # no index: nothing known about meanings
    index.save(folder)
    loaded = MeaningIndex.load(folder)
    assert loaded.actions == index.actions and loaded.threshold == index.threshold and loaded.encoder == index.encoder
    assert loaded.captions == index.captions
    np.testing.assert_allclose(loaded.vectors, index.vectors, atol=1e-3)  # stored as float16
    model = MotionGPT.from_pretrained(folder)  # the tiny model has no text conditioning: the index brings its encoder
    [walk, coffee] = model.meanings(["stroll forward", "make me a cup of coffee"])
    assert walk.action == "walk" and walk.known and not coffee.known
    saved = model.save_pretrained(tmp_path / "saved")  # a loaded model is saved with its index
    assert (saved / "meaning_index.npz").read_bytes() == (folder / "meaning_index.npz").read_bytes()
    manifest = yaml.safe_load((folder / "motiongpt.yaml").read_text())  # rephrasing needs the caption texts
    manifest.setdefault("text_to_motion", {})["rephrase"] = "meaning"
    (folder / "motiongpt.yaml").write_text(yaml.safe_dump(manifest))
    assert MotionGPT.from_pretrained(folder).rephrase(["stroll forward"])[0] in CAPTIONS["walk"]
    dataclasses.replace(index, captions=()).save(folder)
    with pytest.raises(ModelLoadError, match="with its caption texts"):
        MotionGPT.from_pretrained(folder)
    (folder / "meaning_index.npz").write_bytes(b"not a zip file")
    with pytest.raises(ModelLoadError, match="unreadable meaning index"):
        MotionGPT.from_pretrained(folder)


def test_caption_grounding_reads_its_captions_and_vectors_from_the_index(index, encoder, tmp_path):
    """The grounding's neighbour captions come from the meaning index: same texts, same vectors, nothing
    embedded at load; an index made by another encoder is refused."""
    from motiongpt.lm.text_grounding import CaptionGrounding, GroundingConfigError, TextToMotionSettings

    index.save(tmp_path)
    settings = TextToMotionSettings(candidates=2, neighbours=1, sentence_encoder="all-MiniLM-L6-v2",
                                    captions="meaning_index.npz")
    grounding = CaptionGrounding.from_settings(settings, tmp_path, loaded={"all-MiniLM-L6-v2": encoder})
    assert grounding.captions == list(index.captions) and len(grounding.captions) == 7
    np.testing.assert_allclose(grounding.embeddings, index.vectors, atol=1e-3)
    assert grounding._cache == {}  # no caption was embedded
    assert grounding.nearest(["stroll forward"], 1) == [["someone strolls straight on"]]
    other = TextToMotionSettings(candidates=2, neighbours=1, sentence_encoder="other-encoder", captions="meaning_index.npz")
    with pytest.raises(GroundingConfigError, match="was embedded by 'all-MiniLM-L6-v2'"):
        CaptionGrounding.from_settings(other, tmp_path, loaded={"other-encoder": encoder})


STYLES = ("", " like a tired old man", " happily", " like a proud soldier")
STYLED_CAPTIONS = {  # every action in every style: a style word says nothing about the action
    action: [base + style for base in bases for style in STYLES]
    for action, bases in (("walk", ("a person walks forward", "walk ahead a few steps")),
                          ("turn_left", ("a person turns left", "turn to the left")),
                          ("wave_right_hand", ("a person waves with the right hand",
                                               "wave hello with your right hand")))}


@pytest.fixture(scope="module")
def styled_index(encoder) -> MeaningIndex:
    return MeaningIndex.build(STYLED_CAPTIONS, encoder.encode, "all-MiniLM-L6-v2")


def test_the_classifier_reads_the_action_where_the_nearest_caption_shares_only_a_style(styled_index, encoder):
    """"lift your right hand happily" is nearest to a happy left turn (the style word is most of what the two
    share); the classifier, fitted on every action in every style, has learnt that a style says nothing of the
    action."""
    text = "lift your right hand happily"
    vector = encoder.encode([text])
    nearest = styled_index.actions[int(styled_index.similarities(vector)[0].argmax())]
    assert nearest == "turn_left"
    [meaning] = styled_index.match([text], vector)
    assert meaning.action == "wave_right_hand"
    assert meaning.similarity == pytest.approx(float(styled_index.similarities(vector).max()))  # nearest of any action
    unsided = [""]  # the same vector without the side its text names: the classifier alone reads it right
    assert styled_index.actions[int(styled_index.action_ids_of(unsided, vector)[0])] == "wave_right_hand"
    # an index saved without a classifier (exported before it) answers with the nearest caption's action, among
    # the actions the side the text names allows ("right" rules out the left turn)
    plain = dataclasses.replace(styled_index, classifier_weights=None, classifier_bias=None)
    assert plain.actions[int(plain.action_ids_of(unsided, vector)[0])] == "turn_left"
    assert plain.match([text], vector)[0].action == "wave_right_hand"


def test_a_request_is_rephrased_as_the_nearest_caption_of_its_meaning_keeping_its_style(styled_index, encoder):
    texts = ["lift your right hand happily", "hang a left like a tired old man", "stroll on like a proud soldier"]
    assert styled_index.rephrase(texts, encoder.encode(texts)) == [
        "wave hello with your right hand happily", "turn to the left like a tired old man",
        "walk ahead a few steps like a proud soldier"]
    captionless = dataclasses.replace(styled_index, captions=())
    with pytest.raises(MeaningIndexError, match="no caption texts"):
        captionless.rephrase(texts[:1], encoder.encode(texts[:1]))


def test_a_rephrasing_names_the_speed_the_request_names_and_no_other(encoder):
    """The sentence encoder puts "slowly" next to "rapidly": the caption is chosen among those naming the same
    speed as the request (none for none), and among all of the action's captions when none names it."""
    index = MeaningIndex.build({"walk": ["walk forward", "walk forward rapidly", "walk forward at a slow pace",
                                         "a person walks forward quickly."],
                                "bow": ["bow", "take a bow"]}, encoder.encode, "all-MiniLM-L6-v2")
    texts = ["walk forward slowly", "walk forward fast", "walk ahead", "bow slowly"]
    vectors = encoder.encode(texts)
    assert index.captions[int(np.argmax(index.vectors @ vectors[0]))] == "walk forward rapidly"  # by meaning alone
    assert index.rephrase(texts, vectors) == ["walk forward at a slow pace", "walk forward rapidly", "walk forward",
                                              "bow"]


def test_the_classifier_round_trips_and_a_corrupt_one_is_refused(styled_index, encoder, tmp_path):
    styled_index.save(tmp_path)
    loaded = MeaningIndex.load(tmp_path)
    np.testing.assert_array_equal(loaded.classifier_weights, styled_index.classifier_weights)
    np.testing.assert_array_equal(loaded.classifier_bias, styled_index.classifier_bias)
    vectors = encoder.encode(["lift your right hand happily", "go forward like a tired old man"])
    assert [m.action for m in loaded.match(["a", "b"], vectors)] == ["wave_right_hand", "walk"]
    with np.load(tmp_path / "meaning_index.npz") as data:
        arrays = dict(data)
    arrays["classifier_weights"] = arrays["classifier_weights"][:, :5]  # not one row of D weights per action
    np.savez(tmp_path / "meaning_index.npz", **arrays)
    with pytest.raises(MeaningIndexError, match="inconsistent action classifier"):
        MeaningIndex.load(tmp_path)


def test_one_or_two_actions_have_a_meaning_too(encoder):
    index = MeaningIndex.build({"walk": ["a person walks forward"], "bow": [], "wave_right_hand": ["wave hello"]},
                               encoder.encode, "all-MiniLM-L6-v2")
    assert index.actions == ("walk", "wave_right_hand")  # an action without captions is not indexed at all
    texts = ["stroll forward slowly", "wave hello with your right hand"]  # two actions: scikit-learn's binary fit
    assert [m.action for m in index.match(texts, encoder.encode(texts))] == ["walk", "wave_right_hand"]
    one = MeaningIndex.build({"walk": ["a person walks forward", "walk ahead"]}, encoder.encode, "all-MiniLM-L6-v2")
    others = ["wave hello", "do a backflip"]
    assert [m.action for m in one.match(others, encoder.encode(others))] == ["walk", "walk"]


def test_the_phrasing_files_are_unseen_disjoint_and_name_known_actions():
    """Every action of the shipped index has independent val phrasings and classifier phrasings; none of them
    is a training caption (the index holds them all) or a test phrasing, and the two files share none."""
    from pathlib import Path

    from motiongpt.data.bandai_dataset import held_out_phrasings, normalise as norm
    from motiongpt.lm.command_meaning import classifier_phrasings, independent_val_phrasings

    shipped = MeaningIndex.load(Path(__file__).resolve().parents[3] / "models" / "motiongpt-small")
    captions = {norm(c) for c in shipped.captions}
    test = {norm(t) for texts in held_out_phrasings().actions.values() for t in texts}
    files = []
    for phrasings in (independent_val_phrasings(), classifier_phrasings()):
        assert set(phrasings) == set(shipped.actions) and min(map(len, phrasings.values())) >= 5
        texts = {norm(t) for texts in phrasings.values() for t in texts}
        assert not texts & captions and not texts & test
        files.append(texts)
    assert not files[0] & files[1]


def test_the_classifier_learns_from_phrasings_that_are_not_captions(encoder):
    """Phrasings widen what the classifier reads without becoming captions: never a rephrasing, and an action
    without captions cannot be given phrasings."""
    captions = {"turn_left": ["turn left", "a person turns to the left while walking"],
                "walk_left": ["move to the left", "a person steps to the left"]}
    phrasings = {"turn_left": ["face left", "rotate to your left", "swivel to the left", "look to your left and turn"],
                 "walk_left": ["shuffle sideways to the left", "side-step left"]}
    plain = MeaningIndex.build(captions, encoder.encode, "all-MiniLM-L6-v2")
    taught = MeaningIndex.build(captions, encoder.encode, "all-MiniLM-L6-v2", phrasings=phrasings)
    assert taught.captions == plain.captions and len(taught.vectors) == 4
    texts = ["face to your left", "pivot to your left", "sidestep to your left"]
    vectors = encoder.encode(texts)
    assert [m.action for m in plain.match(texts, vectors)] == ["walk_left", "walk_left", "walk_left"]
    assert [m.action for m in taught.match(texts, vectors)] == ["turn_left", "turn_left", "walk_left"]
    assert set(taught.rephrase(texts[:2], vectors[:2])) <= set(captions["turn_left"])
    with pytest.raises(MeaningIndexError, match="without captions: bow"):
        MeaningIndex.build(captions, encoder.encode, "all-MiniLM-L6-v2", phrasings={"bow": ["take a bow"]})


def test_a_named_side_rules_out_the_actions_and_captions_of_the_other_side(encoder):
    """The sentence encoder hardly tells left from right: the side a request names decides between actions (and
    between captions of one action) that differ by their side; a request that names no side, or both, is read as
    before."""
    captions = {"wave_left_hand": ["a person waves with the left hand", "wave your left hand",
                                   "give me a wave with your left hand please"],
                "wave_right_hand": ["a person waves with the right hand"],
                "bye": ["someone says a warm goodbye with a small wave of the left hand", "bye with the right hand"],
                "walk": ["a person walks forward"]}
    index = MeaningIndex.build(captions, encoder.encode, "all-MiniLM-L6-v2")
    texts = ["could you give me a wave with your right hand please", "wave with your right hand right now",
             "give me a wave please", "wave your left hand, then your right", "walk forward right away"]
    vectors = encoder.encode(texts)
    assert index.action_ids_of([""] * 5, vectors)[0] == index.actions.index("wave_left_hand")  # without the rule
    assert [index.actions[k] for k in index.action_ids_of(texts, vectors)][:2] == ["wave_right_hand"] * 2
    assert [m.action for m in index.match(texts, vectors)][1:] == [
        "wave_right_hand", *(index.actions[k] for k in index.action_ids_of([""] * 3, vectors[2:]))]
    with pytest.raises(MeaningIndexError, match="2 texts for 5"):
        index.action_ids_of(texts[:2], vectors)
    said = ["say a warm goodbye with a small wave of your right hand", "wave goodbye with your left hand"]
    vectors = encoder.encode(said)
    assert [m.action for m in index.match(said, vectors)] == ["bye", "bye"]
    assert index.rephrase(["", ""], vectors) == [captions["bye"][0]] * 2  # by the vectors alone: the left hand
    assert index.rephrase(said, vectors) == captions["bye"][::-1]


@pytest.mark.parametrize("raise_captions, bow_captions, said, in_the_captions_words", [
    # "wearily" sits next to "vigorously" for the sentence encoder; "wearily" is a caption style phrase (tired)
    (["raise your right hand vigorously", "put your right hand up like an exhausted person"],
     ["take a bow", "bow like an energetic person"], "wearily", True),
    # "grumpily" is a phrase of style_phrasings.yaml only (angry)
    (["raise your right hand happily", "put your right hand up angrily"],
     ["take a bow", "bow energetically"], "grumpily", False),
])
def test_a_rephrasing_keeps_the_style_the_request_names(encoder, raise_captions, bow_captions, said,
                                                        in_the_captions_words):
    """A request that names a style, with one of the captions' style phrases or one of style_phrasings.yaml, is
    rephrased as a caption of that style when the action has one, and as before when it has none or the request
    names no style; the captions' phrases alone read only the first kind, and a reader can be passed instead
    (benchmarks/style_words.py)."""
    from motiongpt.data.bandai_dataset import named_style

    index = MeaningIndex.build({"raise_up_right_hand": raise_captions, "bow": bow_captions},
                               encoder.encode, "all-MiniLM-L6-v2")
    texts = [f"raise your right hand {said}", "raise your right hand", f"bow {said}"]
    vectors = encoder.encode(texts)
    unnamed = index.rephrase([""] * 3, vectors)  # the same vectors, their texts naming nothing
    assert unnamed[0] == raise_captions[0]  # by meaning alone
    styled = [raise_captions[1], unnamed[1], unnamed[2]]
    assert index.rephrase(texts, vectors) == styled
    assert index.rephrase(texts, vectors, style_of=named_style) == (styled if in_the_captions_words else unnamed)


def test_a_style_said_in_other_words_is_read_from_the_style_phrasings():
    """style_phrasings.yaml: more ways of saying each style of the data, none naming a speed or a side, none a
    caption phrase (those are read anyway) nor a phrase of two styles (style_phrases checks that on loading)."""
    from motiongpt.data.augment import named_side, named_speed
    from motiongpt.data.bandai_dataset import bandai_caption_table, named_style, normalise, style_label
    from motiongpt.lm.command_meaning import STYLE_PHRASINGS_FILE, read_phrasings, requested_style

    more = read_phrasings(STYLE_PHRASINGS_FILE)
    table = bandai_caption_table().styles
    assert {style_label(s) for s in more} == {style_label(s) for s in table}  # every style of the data
    captions = {normalise(p) for phrases in table.values() for p in phrases}
    for style, phrases in more.items():
        assert len(phrases) >= 20, style
        for phrase in phrases:
            assert normalise(phrase) not in captions and not named_speed(phrase) and not named_side(phrase), phrase
            assert requested_style(f"please walk forward {phrase}") == style_label(style), phrase
    assert requested_style("walk forward the way my aunt does") is None  # not a phrase of the file
    assert named_style("raise your right hand grumpily") is None and requested_style(
        "raise your right hand grumpily") == "angry"
    assert requested_style("bow wearily") == "exhausted"  # and the captions' own phrases
    assert requested_style("walk forward") is None


def test_the_styled_val_requests_name_known_actions_and_styles():
    from motiongpt.data.bandai_dataset import bandai_caption_table, style_label
    from motiongpt.lm.command_meaning import style_val_requests

    rows = style_val_requests()
    styles = {style_label(s) for s in bandai_caption_table().styles}
    actions = {c.action for c in bandai_caption_table().contents.values()}
    assert len(rows) >= 150 and {r["style"] for r in rows} == styles
    assert {r["action"] for r in rows} <= actions


def test_the_styled_test_requests_name_every_action_and_style_and_are_in_no_other_list():
    from motiongpt.data.bandai_dataset import bandai_caption_table, style_label
    from motiongpt.lm.command_meaning import (classifier_phrasings, independent_val_phrasings, read_phrasings,
                                              STYLE_PHRASINGS_FILE, style_test_requests, style_val_requests)

    rows = style_test_requests()
    styles = {style_label(s) for s in bandai_caption_table().styles}
    assert len(rows) >= 300 and {r["style"] for r in rows} == styles
    assert {r["action"] for r in rows} == set(classifier_phrasings())  # every action, DeepMimic's too

    def said(text):
        return text.lower().strip(" .!?")

    others = {said(r["text"]) for r in style_val_requests()}
    for phrasings in (classifier_phrasings(), independent_val_phrasings(), read_phrasings(STYLE_PHRASINGS_FILE)):
        others |= {said(t) for texts in phrasings.values() for t in texts}
    assert not {said(r["text"]) for r in rows} & others


def _style_classifier(index: MeaningIndex, probabilities: dict[str, float]) -> MeaningIndex:
    """``index`` with a style classifier that gives every request these probabilities (zero weights, log biases)."""
    names = tuple(sorted(probabilities))
    return dataclasses.replace(index, style_names=names, style_weights=np.zeros((len(names), index.vectors.shape[1]),
                                                                                  np.float32),
                               style_bias=np.log([probabilities[n] for n in names]).astype(np.float32))


def test_a_request_is_cut_where_a_phrase_may_say_how_it_is_done():
    from motiongpt.lm.command_meaning import manner_splits

    assert manner_splits("jog on with a spring in your step") == [("jog on", "with a spring in your step"),
                                                                  ("jog on with a spring", "in your step")]
    assert manner_splits("walk on like a wave crashing, as if you were tired") == [
        ("as if you were tired", "walk on like a wave crashing"),  # the words before the first comma
        ("walk on", "like a wave crashing as if you were tired"), ("walk on like a wave crashing", "as if you were tired")]
    assert manner_splits("In a really good mood, sidestep") == [("sidestep", "In a really good mood")]
    # a phrase naming a body part or a side says what is done, not how; an opener needs a word before it
    assert manner_splits("wave with both hands") == manner_splits("step in to the right") == []
    assert manner_splits("with joy") == manner_splits("jump") == manner_splits("walk,") == []


def test_the_action_is_read_without_a_phrase_the_style_classifier_reads_as_a_style(styled_index, encoder):
    """An unknown way of saying how ("like a wave crashing") pulls the sentence vector towards the action that
    shares its words; read without it when the style classifier reads the phrase as a style and the action
    classifier is surer without it."""
    from motiongpt.lm.command_meaning import NO_STYLE, action_vectors

    text = ["stroll on like a wave crashing"]
    vector = encoder.encode(text)

    def action(index, query):
        return index.actions[int(index.action_ids_of(text, vector, query)[0])]

    styled = _style_classifier(styled_index, {"exhausted": 0.9, NO_STYLE: 0.05, "happy": 0.05})
    assert action(styled, action_vectors(encoder.encode, text, vector)) == "wave_right_hand"  # as read before
    assert action(styled, action_vectors(encoder.encode, text, vector, styled)) == "walk"
    np.testing.assert_allclose(styled.without_manner(text, vector, encoder.encode), encoder.encode(["stroll on"]))
    # a phrase read as saying some style, though none of them surely ("with a young person's bounce": youthful or
    # childish), says how too
    split = _style_classifier(styled_index, {"exhausted": 0.5, NO_STYLE: 0.05, "happy": 0.45})
    assert action(split, action_vectors(encoder.encode, text, vector, split)) == "walk"
    # the phrase read as naming no style, or not surely saying one, or no style classifier: the text as it is
    for index in (_style_classifier(styled_index, {"exhausted": 0.05, NO_STYLE: 0.9, "happy": 0.05}),
                  _style_classifier(styled_index, {"exhausted": 0.45, NO_STYLE: 0.3, "happy": 0.25}), styled_index):
        assert action(index, action_vectors(encoder.encode, text, vector, index)) == "wave_right_hand"
    # kept where the action classifier is surer with the phrase (here: a training caption's own vector)
    caption = encoder.encode(["walk ahead a few steps"])
    np.testing.assert_array_equal(styled.without_manner(text, caption, encoder.encode), caption)


def test_a_phrase_that_says_how_is_also_looked_for_in_the_request_as_said(styled_index, encoder):
    """Taking the known style words out of a request can break the phrase they stood in ("with a graceful womanly
    air" -> "with a air", `action_texts`): the cuts of the request as said are offered too."""
    from motiongpt.lm.command_meaning import NO_STYLE

    said = ["stroll on like a crashing wave"]
    stripped = ["stroll on a crashing wave"]  # as if "like" had been a known style word: no cut left
    styled = _style_classifier(styled_index, {"exhausted": 0.9, NO_STYLE: 0.05, "happy": 0.05})
    vector = encoder.encode(stripped)
    np.testing.assert_allclose(styled.without_manner(stripped, vector, encoder.encode, said=said),
                               encoder.encode(["stroll on"]), atol=1e-6)
    # the longest head of both texts' cuts is kept; with nothing to cut in either, the vector as it is
    np.testing.assert_array_equal(styled.without_manner(["jump"], vector, encoder.encode, said=["leap"]), vector)


def test_the_action_classifier_is_also_fitted_on_requests_said_with_a_style(encoder):
    """Each style phrase put into requests of an action that name no style, with their action; deterministic."""
    from motiongpt.lm.command_meaning import styled_action_requests

    phrasings = {"walk": ["walk forward", "take a few steps", "walk forward sadly"],
                 "backflip": ["flip backwards", "do a back flip"]}
    styles = {"childish": ["with a bounce", "like a kid"], "elderly": ["like a grandpa"]}
    texts, actions = styled_action_requests(phrasings, styles, per_phrase=2, seed=3)
    assert len(texts) == len(actions) == 6
    assert (texts, actions) == styled_action_requests(phrasings, styles, per_phrase=2, seed=3)
    plain = {"walk forward": "walk", "take a few steps": "walk", "flip backwards": "backflip",
             "do a back flip": "backflip"}
    for text, action in zip(texts, actions):
        phrase = next(p for ps in styles.values() for p in ps if p in text)
        request = text.replace(phrase, "").strip(" ,")
        assert plain[request] == action  # "walk forward sadly" names a style: never used
    # the index fits its action classifier on them too: another classifier, the same captions
    with_styles = MeaningIndex.build(CAPTIONS, encoder.encode, "all-MiniLM-L6-v2", phrasings=phrasings,
                                     style_phrasings=styles, styled_requests=2)
    without = MeaningIndex.build(CAPTIONS, encoder.encode, "all-MiniLM-L6-v2", phrasings=phrasings,
                                 style_phrasings=styles)
    assert with_styles.captions == without.captions
    assert not np.allclose(with_styles.classifier_weights, without.classifier_weights)


def test_the_style_classifier_reads_a_style_a_plain_request_or_nothing(styled_index, encoder):
    """Words first; then the classifier's style when it is sure enough (style_threshold), else "names none" when
    it gives NO_STYLE enough (plain_threshold), else not known. A request read as naming none is rephrased as a
    caption naming none; one not known as the nearest caption, whatever its style (as without a classifier)."""
    from motiongpt.lm.command_meaning import NO_STYLE

    texts = ["walk ahead", "walk ahead happily"]
    vectors = encoder.encode(texts)
    assert styled_index.styles_of(texts, vectors) == [None, "happy"]  # no classifier: the words alone
    nearest = styled_index.rephrase(texts[:1], vectors[:1])[0]
    sure = _style_classifier(styled_index, {"exhausted": 0.9, NO_STYLE: 0.05, "happy": 0.05})
    assert sure.styles_of(texts, vectors) == ["exhausted", "happy"]  # the words win over the classifier
    assert sure.rephrase(texts[:1], vectors[:1]) == ["walk ahead a few steps like a tired old man"]
    plain = _style_classifier(styled_index, {"exhausted": 0.5, NO_STYLE: 0.4, "happy": 0.1})
    assert plain.styles_of(texts[:1], vectors[:1]) == [NO_STYLE]
    assert plain.rephrase(texts[:1], vectors[:1]) == ["walk ahead a few steps"]
    unsure = _style_classifier(styled_index, {"exhausted": 0.5, NO_STYLE: 0.05, "happy": 0.45})
    assert unsure.styles_of(texts[:1], vectors[:1]) == [None]
    assert unsure.rephrase(texts[:1], vectors[:1]) == [nearest]


def test_the_style_classifier_is_fitted_on_captions_and_style_phrases_and_round_trips(styled_index, encoder,
                                                                                     tmp_path):
    from motiongpt.lm.command_meaning import NO_STYLE, fit_style_classifier

    phrases = {"sad": ["gloomily", "with a heavy heart", "heartbroken"],
               "happy": ["cheerfully", "full of joy", "beaming with delight"]}
    names, weights, bias = fit_style_classifier(styled_index.captions, styled_index.vectors, phrases, encoder.encode)
    assert set(names) == {"exhausted", "happy", "sad", NO_STYLE}  # "like a proud soldier" names no style of the data
    assert weights.shape == (4, styled_index.vectors.shape[1]) and bias.shape == (4,)
    index = dataclasses.replace(styled_index, style_names=names, style_weights=weights, style_bias=bias)
    texts = ["walk ahead a few steps with a heavy heart", "turn to the left beaming with delight"]
    logits = encoder.encode(texts) @ weights.T + bias
    assert [names[k] for k in logits.argmax(axis=1)] == ["sad", "happy"]
    again = fit_style_classifier(styled_index.captions, styled_index.vectors, phrases, encoder.encode)
    np.testing.assert_array_equal(again[1], weights)  # deterministic
    index.save(tmp_path)
    loaded = MeaningIndex.load(tmp_path)
    assert loaded.style_names == names and loaded.style_threshold == index.style_threshold
    np.testing.assert_array_equal(loaded.style_weights, weights)
    assert loaded.plain_threshold == index.plain_threshold
    with np.load(tmp_path / "meaning_index.npz") as data:
        arrays = dict(data)
    arrays["style_bias"] = arrays["style_bias"][:2]  # not one bias per class
    np.savez(tmp_path / "meaning_index.npz", **arrays)
    with pytest.raises(MeaningIndexError, match="inconsistent style classifier"):
        MeaningIndex.load(tmp_path)


def test_the_plain_val_requests_are_plain():
    from motiongpt.lm.command_meaning import plain_val_requests, requested_style

    plain = plain_val_requests()
    assert len(plain) >= 200 and len(set(plain)) == len(plain)
    assert not [text for text in plain if requested_style(text)]  # none names a style in the words of any list
