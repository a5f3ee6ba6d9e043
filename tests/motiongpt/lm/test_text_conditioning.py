"""Text conditioning: the frozen sentence encoder's vector of the request text in front of the T5 encoder input."""
from __future__ import annotations

import json

import pytest
import torch

from motiongpt.lm.model import ModelLoadError, MotionLanguageModel
from motiongpt.lm.text_conditioning import CONDITIONING_FILE, PROJECTION_FILE, TextConditioningConfig
from motiongpt.lm.text_tokenizer import train_text_tokenizer
from motiongpt.lm.vocabulary import MotionVocabulary
from tests.motiongpt.lm.conftest import TINY_ARCHITECTURE, TINY_CODE_NUM, tiny_sentences


@pytest.fixture(scope="module")
def conditioned() -> MotionLanguageModel:
    tokenizer = train_text_tokenizer(tiny_sentences(), vocab_size=300)
    return MotionLanguageModel.build(TINY_ARCHITECTURE, tokenizer, MotionVocabulary(TINY_CODE_NUM), seed=0,
                                     conditioning=TextConditioningConfig(prefix_tokens=3))


def test_prefix_is_in_front_of_the_tokens_and_depends_on_the_request(conditioned):
    inputs = conditioned.encoder_inputs(["Generate motion: a person walks"], ["a person walks"])
    tokens = conditioned.tokenize(["Generate motion: a person walks"])
    assert inputs["inputs_embeds"].shape == (1, 3 + tokens["input_ids"].shape[1], TINY_ARCHITECTURE.d_model)
    assert inputs["attention_mask"].shape == (1, 3 + tokens["input_ids"].shape[1])
    token_part = conditioned.t5.get_input_embeddings()(tokens["input_ids"])
    torch.testing.assert_close(inputs["inputs_embeds"][:, 3:], token_part)
    other = conditioned.encoder_inputs(["Generate motion: a person walks"], ["someone does a backflip"])
    none = conditioned.encoder_inputs(["Generate motion: a person walks"], [None])
    assert not torch.allclose(inputs["inputs_embeds"][:, :3], other["inputs_embeds"][:, :3])
    # no request text: the projection's bias alone (zero sentence vector)
    bias = conditioned.projection.linear.bias.view(3, -1)
    torch.testing.assert_close(none["inputs_embeds"][0, :3], bias)
    with pytest.raises(ValueError, match="request texts"):
        conditioned.encoder_inputs(["a", "b"], ["a"])


def test_meaning_reaches_the_output_and_the_projection_trains(conditioned):
    prompts = ["Generate motion: a person walks"] * 2
    logits_a = conditioned.logits(prompts[:1], ["<motion_id_32>"], ["a person walks forward"])
    logits_b = conditioned.logits(prompts[:1], ["<motion_id_32>"], ["someone waves with the right hand"])
    assert not torch.allclose(logits_a, logits_b)
    conditioned.network.train()
    loss = conditioned.loss(prompts, ["<motion_id_32><motion_id_1><motion_id_33>"] * 2,
                            ["a person walks forward", None])
    loss.backward()
    assert conditioned.projection.linear.weight.grad is not None
    assert float(conditioned.projection.linear.weight.grad.abs().sum()) > 0
    conditioned.network.zero_grad()
    conditioned.network.eval()


def test_round_trip_and_load_errors(conditioned, tmp_path):
    folder = conditioned.save_pretrained(tmp_path / "lm")
    assert json.loads((folder / CONDITIONING_FILE).read_text())["prefix_tokens"] == 3
    loaded = MotionLanguageModel.from_pretrained(folder)
    assert loaded.conditioning == conditioned.conditioning
    prompt, request = ["Generate motion with 8 frames: wave"], ["wave"]
    torch.testing.assert_close(loaded.logits(prompt, ["<motion_id_32>"], request),
                               conditioned.logits(prompt, ["<motion_id_32>"], request))
    a = conditioned.generate(prompt, motion_codes=(2, 2), seed=3, request_texts=request)
    b = loaded.generate(prompt, motion_codes=(2, 2), seed=3, request_texts=request)
    assert a == b
    (folder / PROJECTION_FILE).write_bytes(b"not a safetensors file")
    with pytest.raises(ModelLoadError, match="projection"):
        MotionLanguageModel.from_pretrained(folder)
    (folder / PROJECTION_FILE).unlink()
    with pytest.raises(ModelLoadError, match="missing"):
        MotionLanguageModel.from_pretrained(folder)
    (folder / CONDITIONING_FILE).write_text("{not json")
    with pytest.raises(ModelLoadError, match="corrupt"):
        MotionLanguageModel.from_pretrained(folder)


def test_plain_t5_folders_have_no_conditioning(tiny_model, tmp_path):
    folder = tiny_model.save_pretrained(tmp_path / "plain")
    assert not (folder / CONDITIONING_FILE).exists()
    loaded = MotionLanguageModel.from_pretrained(folder)
    assert loaded.conditioning is None and loaded.projection is None
    assert set(loaded.encoder_inputs(["walk"], ["walk"])) == {"input_ids", "attention_mask"}


def test_config_validation():
    with pytest.raises(ValueError, match="caption_dropout"):
        TextConditioningConfig(caption_dropout=1.0)
    with pytest.raises(ValueError, match="prefix_tokens"):
        TextConditioningConfig(prefix_tokens=0)


def test_sentence_vector_cache_is_bounded_and_least_recently_used(conditioned):
    vectors = conditioned.sentence_vectors
    size = vectors.cache_size
    try:
        vectors.cache_size = 3
        first = vectors(["walk", "wave", None])
        vectors(["bow", "walk"])          # walk used again: wave is now the oldest
        vectors(["jump"])
        assert len(vectors) == 3 and "wave" not in vectors._cache and "walk" in vectors._cache
        torch.testing.assert_close(vectors(["walk"])[0], first[0])
        assert float(first[2].abs().sum()) == 0.0
    finally:
        vectors.cache_size = size
