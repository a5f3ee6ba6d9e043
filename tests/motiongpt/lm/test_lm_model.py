import numpy as np
import pytest
import torch

from motiongpt.lm.model import GenerationSettings, MotionLanguageModel, ModelLoadError
from motiongpt.lm.vocabulary import parse_motion


def test_motion_tokens_are_consecutive_single_tokens(tiny_model):
    voc = tiny_model.vocabulary
    ids = tiny_model.tokenizer(voc.codes_to_string([3, 4]), add_special_tokens=False)["input_ids"]
    first = tiny_model.first_motion_id
    assert ids == [first + voc.start_index, first + 3, first + 4, first + voc.end_index]
    assert tiny_model.t5.config.vocab_size == len(tiny_model.tokenizer)


def test_constrained_generation_gives_well_formed_motion_of_requested_length(tiny_model):
    out = tiny_model.generate(["Generate motion: a person walks"] * 3, motion_codes=(6, 6), seed=0)
    for text in out:
        parsed = parse_motion(text, tiny_model.vocabulary)
        assert len(parsed.codes) == 6 and parsed.warnings == []
        assert parsed.text == "<Motion_Placeholder>"


def test_sampling_is_reproducible_with_a_seed_and_greedy_is_deterministic(tiny_model):
    prompts = ["Generate motion: someone jumps"]
    a = tiny_model.generate(prompts, motion_codes=(2, 12), seed=5)
    b = tiny_model.generate(prompts, motion_codes=(2, 12), seed=5)
    assert a == b
    greedy = GenerationSettings(do_sample=False)
    assert tiny_model.generate(prompts, greedy, seed=1) == tiny_model.generate(prompts, greedy, seed=2)


def test_kv_cache_does_not_change_greedy_output(tiny_model):
    prompts = ["Generate motion: a person kicks", "Generate motion: someone jumps"]
    with_cache = tiny_model.generate(prompts, GenerationSettings(do_sample=False, use_cache=True), motion_codes=(4, 10))
    without = tiny_model.generate(prompts, GenerationSettings(do_sample=False, use_cache=False), motion_codes=(4, 10))
    assert with_cache == without


def test_training_step_lowers_the_loss(tiny_model):
    import copy
    model = copy.deepcopy(tiny_model)
    inputs = ["Generate motion: a person walks"] * 4
    targets = [model.vocabulary.codes_to_string([1, 2, 3, 4])] * 4
    optimizer = torch.optim.AdamW(model.t5.parameters(), lr=1e-2)
    model.t5.train()
    first = model.loss(inputs, targets)
    for _ in range(20):
        optimizer.zero_grad()
        loss = model.loss(inputs, targets)
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.5 * first.item()
    model.t5.eval()
    out = model.generate(inputs[:1], GenerationSettings(do_sample=False))
    np.testing.assert_array_equal(parse_motion(out[0], model.vocabulary).codes, [1, 2, 3, 4])


def test_loading_a_plain_t5_folder_adds_motion_tokens(sentences, tmp_path):
    """A Hugging Face T5 folder without motion tokens (like flan-t5-base) is extended and resized."""
    from motiongpt.lm.text_tokenizer import train_text_tokenizer
    plain_tokenizer = train_text_tokenizer(sentences, vocab_size=300)
    n_text = len(plain_tokenizer)
    from transformers import T5Config
    from motiongpt.lm.model import UntiedT5ForConditionalGeneration
    config = T5Config(vocab_size=n_text, d_model=16, d_kv=4, num_heads=4, d_ff=32, num_layers=1,
                      tie_word_embeddings=False)
    UntiedT5ForConditionalGeneration(config).save_pretrained(str(tmp_path / "plain"))
    plain_tokenizer.save_pretrained(str(tmp_path / "plain"))
    model = MotionLanguageModel.from_pretrained(tmp_path / "plain", code_num=512)
    assert len(model.tokenizer) == n_text + 515
    assert model.first_motion_id == n_text
    assert model.t5.get_input_embeddings().weight.shape[0] == n_text + 515
    assert model.t5.lm_head.weight.shape[0] == n_text + 515


def test_missing_folder_raises(tmp_path):
    with pytest.raises(ModelLoadError, match="not found"):
        MotionLanguageModel.from_pretrained(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match="config.json"):
        MotionLanguageModel.from_pretrained(tmp_path / "empty")


def test_interrupt_stops_generation_within_a_decoding_step(tiny_model):
    from motiongpt.lm.model import GenerationInterrupted

    decoder = tiny_model.t5.get_decoder()
    calls = {"n": 0}
    handle = decoder.register_forward_hook(lambda module, args, output: calls.update(n=calls["n"] + 1))
    try:
        tiny_model.interrupt = lambda: calls["n"] >= 3
        with pytest.raises(GenerationInterrupted):
            tiny_model.generate(["Generate motion: a person walks"], motion_codes=(20, 20), seed=0)
        assert calls["n"] == 3  # stopped in the step where the check turned True, not after 20 codes
        calls["n"] = 0
        tiny_model.interrupt = lambda: False
        tiny_model.generate(["Generate motion: a person walks"], motion_codes=(20, 20), seed=0)
        assert calls["n"] >= 20
    finally:
        tiny_model.interrupt = None
        handle.remove()
