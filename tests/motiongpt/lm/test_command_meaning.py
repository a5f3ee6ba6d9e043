"""What a command means: the nearest known action, the out-of-vocabulary threshold, the saved index."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from motiongpt.lm.api import MotionGPT
from motiongpt.lm.command_meaning import (MeaningIndex, MeaningIndexError, choose_threshold, out_of_vocabulary_requests,
                                          separation)
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
