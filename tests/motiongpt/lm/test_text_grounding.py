"""Text-to-motion grounding and reranking: the sentence encoder, nearest captions, settings, and the choice
of the best candidate motion."""
from __future__ import annotations

import numpy as np
import pytest
import yaml

from motiongpt.lm.api import MotionGPT
from motiongpt.lm.model import ModelLoadError
from motiongpt.lm.sentence_encoder import SentenceEncoder, SentenceEncoderError, resolve_encoder_folder
from motiongpt.lm.text_conditioning import SentenceVectors
from motiongpt.lm.text_grounding import (CaptionGrounding, GroundingConfigError, TextToMotionSettings,
                                         read_caption_file)

CAPTIONS = ["a person walks forward.", "someone runs straight ahead.", "a person does a backflip.",
            "a person kicks high with the right leg.", "a person walks forward and turns left."]


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return SentenceEncoder(resolve_encoder_folder("all-MiniLM-L6-v2"))


def test_sentence_encoder_embeds_meaning(encoder):
    vectors = encoder.encode(["a person walks forward", "someone is walking ahead", "a gymnast does a backflip"])
    assert vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2
    assert encoder.encode([]).shape == (0, 384)


def test_unknown_sentence_encoder_is_a_clear_error(tmp_path):
    with pytest.raises(SentenceEncoderError, match="not a Hugging Face model folder"):
        resolve_encoder_folder("no-such-encoder", base=tmp_path)


def test_nearest_captions_by_meaning_exclude_the_request(encoder):
    grounding = CaptionGrounding(encoder, CAPTIONS)
    [near] = grounding.nearest(["someone goes forward on foot"], 1)
    assert near == ["a person walks forward."]
    [near] = grounding.nearest(["A person walks forward."], 2)  # the request itself is never a neighbour
    assert "a person walks forward." not in near and len(near) == 2
    assert grounding.nearest(["anything"], 0) == [[]]
    similarity = grounding.similarity("a man flips backward", CAPTIONS)
    assert int(np.argmax(similarity)) == 2


@pytest.mark.parametrize("bad", [{"candidates": 0}, {"candidates": "2"}, {"candidates": True},
                                 {"neighbours": -1}, {"neighbours": 2}, {"beams": 3}, {"rerank": "best"},
                                 {"rerank": "similarity"}, {"temperature": 0}, {"temperature": -0.5},
                                 {"temperature": "hot"}, {"temperature": True}, {"guidance": 0.5},
                                 {"guidance": "2"}, {"guidance": True}, {"guidance": 11}, {"rephrase": "nearest"},
                                 {"rephrase": True}, {"rephrase": "meaning", "speed_factors": {"fast": 0.5}},
                                 {"rephrase": "meaning", "speed_factors": {"slow": 1.5}},
                                 {"rephrase": "meaning", "speed_factors": {"quick": 1.5}},
                                 {"rephrase": "meaning", "speed_factors": {"fast": "2"}},
                                 {"rephrase": "meaning", "speed_factors": {}},
                                 {"rephrase": "meaning", "speed_factors": [1.4]},
                                 {"speed_factors": {"fast": 1.4}}])
def test_settings_are_validated(bad):
    with pytest.raises(GroundingConfigError):
        TextToMotionSettings.from_dict(bad)


def test_speed_factors_say_how_fast_a_named_speed_is_played():
    settings = TextToMotionSettings(rephrase="meaning", speed_factors={"slow": 0.7, "fast": 1.4})
    assert [settings.played_speed(s) for s in ("slow", "fast", None)] == [0.7, 1.4, 1.0]
    only_fast = TextToMotionSettings(rephrase="meaning", speed_factors={"fast": 1.4})
    assert only_fast.played_speed("slow") == 1.0 and only_fast.played_speed("fast") == 1.4
    assert TextToMotionSettings(rephrase="meaning").played_speed("fast") == 1.0
    # a factor the request says ("2x speed"), within the ranges; none for a speed the folder does not play
    assert [settings.played_speed(s, f) for s, f in (("fast", 2.0), ("slow", 0.5), ("fast", 10.0), ("slow", 0.1))] \
        == [2.0, 0.5, 4.0, 0.25]
    assert only_fast.played_speed("slow", 0.5) == 1.0
    # said with an intensifier or a softener: the factor to the power 1.5 or 0.5; a multiple is taken as said
    assert settings.played_speed("slow", degree="more") == pytest.approx(0.7 ** 1.5)
    assert settings.played_speed("fast", degree="less") == pytest.approx(1.4 ** 0.5)
    assert settings.played_speed("fast", 2.0, "more") == 2.0 and settings.played_speed(None, degree="more") == 1.0
    strong = TextToMotionSettings(rephrase="meaning", speed_factors={"slow": 0.3, "fast": 3.0})
    assert [strong.played_speed(s, degree="more") for s in ("slow", "fast")] == [0.25, 4.0]  # within the ranges


def test_the_model_folders_temperature_is_the_text_to_motion_default(tiny_motiongpt, monkeypatch):
    """text_to_motion.temperature decides the sampling unless a call gives its own."""
    used = []
    original = tiny_motiongpt._generate_codes

    def recording(prompts, low, high, settings, seed, requests=None, guidance=None):
        used.append(settings.temperature)
        return original(prompts, low, high, settings, seed, requests, guidance)

    monkeypatch.setattr(tiny_motiongpt, "_generate_codes", recording)
    tiny_motiongpt.text_to_motion("a person walks forward", seconds=1.0, seed=0)
    monkeypatch.setattr(tiny_motiongpt, "text_to_motion_settings", TextToMotionSettings(temperature=0.7))
    tiny_motiongpt.text_to_motion("a person walks forward", seconds=1.0, seed=0)
    tiny_motiongpt.text_to_motion("a person walks forward", seconds=1.0, seed=0, temperature=1.3)
    assert used == [1.0, 0.7, 1.3]
    assert TextToMotionSettings.from_dict({"temperature": 0.8}).to_dict()["temperature"] == 0.8


def test_guidance_sets_each_request_against_the_prompt_without_it(tiny_motiongpt, monkeypatch):
    """text_to_motion.guidance (or a call's own) guides every prompt of a batch against the same template with
    no caption: the unconditional input the model saw when its caption words were dropped."""
    used = []
    original = tiny_motiongpt._generate_codes

    def recording(prompts, low, high, settings, seed, requests=None, guidance=None):
        used.append((list(prompts), guidance))
        return original(prompts, low, high, settings, seed, requests, guidance)

    monkeypatch.setattr(tiny_motiongpt, "_generate_codes", recording)
    tiny_motiongpt.text_to_motion("a person walks forward", seed=0)
    assert used[-1][1] is None  # the folder's default: no guidance
    monkeypatch.setattr(tiny_motiongpt, "text_to_motion_settings", TextToMotionSettings(candidates=2, guidance=2.0))
    tiny_motiongpt.text_to_motion(["a person walks forward", "a person jumps"], seed=0)
    prompts, guidance = used[-1]
    assert prompts == ["Generate motion: a person walks forward"] * 2 + ["Generate motion: a person jumps"] * 2
    assert guidance.scale == 2.0 and list(guidance.unconditional_prompts) == ["Generate motion:"] * 4
    tiny_motiongpt.text_to_motion("a person walks forward", seconds=1.0, seed=0, guidance=3.0)
    prompts, guidance = used[-1]
    assert prompts[0] == "Generate motion with 20 frames: a person walks forward"
    assert guidance.scale == 3.0 and set(guidance.unconditional_prompts) == {"Generate motion with 20 frames:"}
    unguided = tiny_motiongpt.text_to_motion("a person walks forward", seconds=1.0, seed=0, guidance=1.0)
    assert used[-1][1] is None and unguided.joints.shape == (20, 22, 3)
    with pytest.raises(ValueError, match="guidance"):
        tiny_motiongpt.text_to_motion("a person walks forward", guidance=0.5)


def test_target_log_likelihood_matches_the_training_loss(tiny_motiongpt):
    lm = tiny_motiongpt.language_model
    inputs, targets = ["Generate text: <motion_id_32><motion_id_3><motion_id_33>"], ["a person walks forward"]
    log_likelihood = float(lm.target_log_likelihood(inputs, targets)[0])
    tokens = int(lm.tokenize(targets)["attention_mask"].sum())
    assert log_likelihood == pytest.approx(-lm.loss(inputs, targets).item() * tokens, rel=1e-4)


def test_candidates_are_reranked_by_caption_likelihood(tiny_motiongpt):
    text, seconds, seed = "a person walks forward", 1.2, 5
    chosen = tiny_motiongpt.text_to_motion(text, seconds=seconds, seed=seed, candidates=4)
    prompt = chosen.prompt
    # the same batch, drawn again: the chosen motion is the one the model finds the text most likely for
    drawn = tiny_motiongpt._generate_codes([prompt] * 4, 6, 6, tiny_motiongpt._settings(False, None, None), seed)
    codes = [c for c, _ in drawn]
    scores = tiny_motiongpt.caption_log_likelihood(codes, [text] * 4)  # one text: per-token mean = sum order
    np.testing.assert_array_equal(chosen.codes, codes[int(np.argmax(scores))])
    assert len({tuple(c) for c in codes}) > 1  # the candidates differ, so the choice mattered
    with pytest.raises(ValueError, match="candidates"):
        tiny_motiongpt.text_to_motion(text, candidates=0)


@pytest.mark.parametrize("rerank", ["likelihood", "similarity"])
def test_grounded_model_folder_round_trip(tiny_motiongpt, encoder, tmp_path, rerank):
    settings = TextToMotionSettings(candidates=2, neighbours=1, sentence_encoder="all-MiniLM-L6-v2",
                                    captions="grounding_captions.txt", rerank=rerank)
    model = MotionGPT(tiny_motiongpt.language_model, tiny_motiongpt.motion_tokenizer, max_codes=12,
                      text_to_motion=settings, grounding=CaptionGrounding(encoder, CAPTIONS))
    folder = model.save_pretrained(tmp_path / "grounded")
    assert read_caption_file(folder / "grounding_captions.txt") == sorted(CAPTIONS)
    loaded = MotionGPT.from_pretrained(folder)
    assert loaded.text_to_motion_settings == settings and loaded.grounding.captions == sorted(CAPTIONS)
    result = loaded.text_to_motion("someone goes forward on foot", seconds=1.0, seed=0)
    # the motion comes from the request or from its nearest training caption
    assert result.prompt.endswith(("someone goes forward on foot", "a person walks forward."))
    assert result.joints.shape == (20, 22, 3)
    batch = loaded.text_to_motion(["a man does a backflip", "someone walks"], seconds=0.8, seed=1)
    assert [r.joints.shape[0] for r in batch] == [16, 16]


@pytest.mark.parametrize("entry, message", [
    ({"candidates": 0}, "candidates"),
    ({"neighbours": 1, "sentence_encoder": "all-MiniLM-L6-v2", "captions": "missing.txt"}, "caption file not found"),
    ({"sentence_encoder": "no/such/folder"}, "not a Hugging Face model folder"),
])
def test_bad_grounding_in_a_model_folder_is_a_load_error(tiny_motiongpt, tmp_path, entry, message):
    folder = tiny_motiongpt.save_pretrained(tmp_path / "model")
    manifest = yaml.safe_load((folder / "motiongpt.yaml").read_text())
    manifest["text_to_motion"] = entry
    (folder / "motiongpt.yaml").write_text(yaml.safe_dump(manifest))
    with pytest.raises(ModelLoadError, match=message):
        MotionGPT.from_pretrained(folder)


def test_cached_embeddings_equal_fresh_ones(encoder):
    grounding = CaptionGrounding(encoder, CAPTIONS, cache_size=8)
    sentences = ["someone walks ahead", CAPTIONS[0], "a gymnast flips", "someone walks ahead"]
    np.testing.assert_allclose(grounding.encode(sentences), encoder.encode(sentences), atol=1e-6)
    many = [f"a person walks {i} steps" for i in range(10)]  # more than the cache holds: it is emptied, not wrong
    np.testing.assert_allclose(grounding.encode(many), encoder.encode(many), atol=1e-6)
    assert len(grounding._cache) <= 10 and grounding.encode([]).shape == (0, 384)


def test_meaning_rerank_keeps_the_candidate_whose_caption_names_the_requested_action(tiny_motiongpt, encoder,
                                                                                     monkeypatch):
    from motiongpt.lm.command_meaning import MeaningIndex

    index = MeaningIndex.build({"walk": CAPTIONS[:2], "backflip": [CAPTIONS[2]], "kick": [CAPTIONS[3]]},
                               encoder.encode, "all-MiniLM-L6-v2")
    monkeypatch.setattr(tiny_motiongpt, "meaning_index", index)
    monkeypatch.setattr(tiny_motiongpt, "_meaning_vectors", SentenceVectors(encoder), raising=False)
    monkeypatch.setattr(tiny_motiongpt, "text_to_motion_settings", TextToMotionSettings(candidates=3, rerank="meaning"))
    captions = ["a man strolls ahead slowly", "someone flips over backwards", "a person kicks with one leg"]
    monkeypatch.setattr(tiny_motiongpt, "captions_for_codes", lambda codes: captions[:len(codes)])
    options = [(np.array([i]), "") for i in range(3)]
    assert tiny_motiongpt._choose(["robot, do a back flip"], options) == 1
    assert tiny_motiongpt._choose(["boot the ball"], options) == 2
    assert tiny_motiongpt._choose(["go forward on foot"], options) == 0


@pytest.mark.parametrize("setting", [{"candidates": 2, "rerank": "meaning"}, {"rephrase": "meaning"}])
def test_meaning_settings_without_a_meaning_index_are_a_load_error(tiny_motiongpt, tmp_path, setting):
    folder = tiny_motiongpt.save_pretrained(tmp_path / "model")
    manifest = yaml.safe_load((folder / "motiongpt.yaml").read_text())
    manifest["text_to_motion"] = setting
    (folder / "motiongpt.yaml").write_text(yaml.safe_dump(manifest))
    with pytest.raises(ModelLoadError, match="meaning_index.npz"):
        MotionGPT.from_pretrained(folder)


def test_a_rephrased_request_is_generated_from_the_training_caption_of_its_meaning(tiny_motiongpt, encoder,
                                                                                   monkeypatch):
    """With rephrase: meaning, each request's prompt (and its sentence vector) is the index caption of its
    meaning nearest to it; without, the request itself. Likelihood reranking then reads the caption too."""
    from motiongpt.lm.command_meaning import MeaningIndex

    index = MeaningIndex.build({"walk": [CAPTIONS[0], "a person walks forward happily"], "backflip": [CAPTIONS[2]],
                                "kick": [CAPTIONS[3]]}, encoder.encode, "all-MiniLM-L6-v2")
    monkeypatch.setattr(tiny_motiongpt, "meaning_index", index)
    monkeypatch.setattr(tiny_motiongpt, "_meaning_vectors", SentenceVectors(encoder), raising=False)
    used = []
    original = tiny_motiongpt._generate_codes

    def recording(prompts, low, high, settings, seed, requests=None, guidance=None):
        used.append((list(prompts), None if requests is None else list(requests)))
        return original(prompts, low, high, settings, seed, requests, guidance)

    monkeypatch.setattr(tiny_motiongpt, "_generate_codes", recording)
    requests = ["stroll ahead cheerfully", "robot, do a back flip"]
    tiny_motiongpt.text_to_motion(requests, seconds=1.0, seed=0)
    assert used[-1][1] == requests  # the folder's default: the requests as given
    monkeypatch.setattr(tiny_motiongpt, "text_to_motion_settings", TextToMotionSettings(rephrase="meaning"))
    assert tiny_motiongpt.rephrase(requests) == ["a person walks forward happily", "a person does a backflip."]
    result = tiny_motiongpt.text_to_motion(requests, seconds=1.0, seed=0)
    prompts, texts = used[-1]
    assert texts == ["a person walks forward happily", "a person does a backflip."]
    assert prompts == [f"Generate motion with 20 frames: {t}" for t in texts]
    assert [r.prompt for r in result] == prompts
    # a command's steps are rephrased as said (the text whose meaning the node's allow-list checks), the steps
    # keeping their own words in the result
    read = []
    vectors = SentenceVectors(encoder)
    monkeypatch.setattr(tiny_motiongpt, "_meaning_vectors", lambda texts: read.append(list(texts)) or vectors(texts),
                        raising=False)
    command = tiny_motiongpt.command("stroll ahead cheerfully, then do a back flip", seconds_per_step=1.0, seed=0)
    # the steps as said, then the one naming a style without its style words, for its action (action_texts)
    assert read[-2:] == [["stroll ahead cheerfully", "do a back flip"], ["stroll ahead"]]
    assert used[-2][1] == ["a person walks forward happily", "a person does a backflip."]  # [-1]: the in-between
    assert [text for text, _, _ in command.steps] == ["stroll ahead cheerfully", "do a back flip"]
    [step] = tiny_motiongpt.meanings(["do a back flip"])
    assert step.action == "backflip" and read[-1] == ["do a back flip"]
    # not rephrased, a step is generated in the captions' form, as before
    monkeypatch.setattr(tiny_motiongpt, "text_to_motion_settings", TextToMotionSettings())
    tiny_motiongpt.command("stroll ahead cheerfully, then do a back flip", seconds_per_step=1.0, seed=0)
    assert used[-2][1] == ["a person strolls ahead cheerfully", "a person does a back flip"]
