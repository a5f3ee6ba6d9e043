"""The released-checkpoint layout (lm.language_model.* + vae.*) must load with lm_head untied."""
import pytest
import torch
from transformers import T5ForConditionalGeneration

from motiongpt.lm.model import MotionLanguageModel, ModelLoadError, lm_head_is_tied
from motiongpt.lm.released_checkpoint import load_released_checkpoint, save_released_layout
from motiongpt.lm.text_tokenizer import train_text_tokenizer
from motiongpt.lm.vocabulary import MotionVocabulary


PROMPTS = ["Generate motion: a person walks forward", "Generate text: <motion_id_32><motion_id_3><motion_id_33>"]
TARGETS = ["<motion_id_32><motion_id_1><motion_id_2><motion_id_33>", "a person kicks"]


@pytest.fixture(scope="module")
def released(tmp_path_factory, sentences, architecture):
    folder = tmp_path_factory.mktemp("released")
    # A "base T5" folder as a user would bring (flan-t5-base): config + tokenizer without motion tokens.
    base_tokenizer = train_text_tokenizer(sentences, vocab_size=300)
    base_folder = folder / "base-t5"
    base_tokenizer.save_pretrained(str(base_folder))
    model = MotionLanguageModel.build(architecture, train_text_tokenizer(sentences, vocab_size=300),
                                      MotionVocabulary(32), seed=3)
    model.t5.config.save_pretrained(str(base_folder))
    with torch.no_grad():  # make lm_head clearly different from the input embeddings
        model.t5.lm_head.weight.normal_(0.0, 3.0)
    vae = {"quantizer.codebook": torch.randn(32, 8)}
    path = save_released_layout(model, folder / "motiongpt_s3_h3d.tar", vae)
    return model, path, base_folder


def test_written_layout_has_reference_key_names(released):
    _, path, _ = released
    state = torch.load(path, map_location="cpu", weights_only=True)["state_dict"]
    assert "lm.language_model.lm_head.weight" in state and "lm.language_model.shared.weight" in state
    assert "vae.quantizer.codebook" in state
    assert not torch.equal(state["lm.language_model.lm_head.weight"], state["lm.language_model.shared.weight"])


def test_loaded_checkpoint_gives_identical_logits(released):
    model, path, base_folder = released
    loaded = load_released_checkpoint(path, base_t5_folder=base_folder)
    assert not lm_head_is_tied(loaded.language_model.t5)
    assert loaded.language_model.vocabulary.code_num == 32
    written = torch.load(path, map_location="cpu", weights_only=True)["state_dict"]
    assert torch.equal(loaded.vae_state_dict["quantizer.codebook"], written["vae.quantizer.codebook"])
    model.t5.eval()
    with torch.no_grad():
        expected = model.logits(PROMPTS, TARGETS)
        actual = loaded.language_model.logits(PROMPTS, TARGETS)
    torch.testing.assert_close(actual, expected, rtol=0, atol=1e-6)


def test_architecture_inferred_without_base_config(released):
    model, path, base_folder = released
    loaded = load_released_checkpoint(path, tokenizer_folder=base_folder)
    with torch.no_grad():
        torch.testing.assert_close(loaded.language_model.logits(PROMPTS, TARGETS), model.logits(PROMPTS, TARGETS),
                                   rtol=0, atol=1e-6)


def test_tying_would_change_the_logits(released):
    """Sanity of the check above: a tied lm_head (transformers 5 default) gives different outputs."""
    model, _, _ = released
    tied = T5ForConditionalGeneration(model.t5.config)
    tied.load_state_dict(model.t5.state_dict(), strict=False)
    tied.eval()
    assert lm_head_is_tied(tied)
    encoded = model.tokenize(PROMPTS)
    labels = model.tokenize(TARGETS)["input_ids"]
    with torch.no_grad():
        reference = model.t5(**encoded, labels=labels).logits
        wrong = tied(**encoded, labels=labels).logits
    assert (reference - wrong).abs().max() > 1e-2


def test_saved_model_round_trip_keeps_lm_head(released, tmp_path):
    model, _, _ = released
    model.save_pretrained(tmp_path / "m")
    again = MotionLanguageModel.from_pretrained(tmp_path / "m")
    assert not lm_head_is_tied(again.t5)
    torch.testing.assert_close(again.t5.lm_head.weight, model.t5.lm_head.weight)
    with torch.no_grad():
        torch.testing.assert_close(again.logits(PROMPTS, TARGETS), model.logits(PROMPTS, TARGETS), rtol=0, atol=1e-6)


def test_bad_checkpoints_raise_clear_errors(released, tmp_path):
    _, _, base_folder = released
    with pytest.raises(ModelLoadError, match="not found"):
        load_released_checkpoint(tmp_path / "nope.tar", base_folder)
    corrupt = tmp_path / "corrupt.tar"
    corrupt.write_bytes(b"not a torch file")
    with pytest.raises(ModelLoadError, match="corrupt.tar"):
        load_released_checkpoint(corrupt, base_folder)
    other = tmp_path / "other.tar"
    torch.save({"state_dict": {"vae.x": torch.zeros(1)}}, other)
    with pytest.raises(ModelLoadError, match="not a MotionGPT checkpoint"):
        load_released_checkpoint(other, base_folder)


def test_from_released_with_a_full_size_vq_vae(tmp_path, sentences, architecture):
    """MotionGPT.from_released on a file in the released layout: the full-size VQ-VAE (512 codes, the
    released configuration) under vae.*, a T5 over 512 codes under lm.language_model.*."""
    import numpy as np

    from motiongpt.lm.api import MotionGPT
    from motiongpt.normalization import Normalizer
    from motiongpt.tokenizer import MotionTokenizer, VQVAEConfig

    torch.manual_seed(7)
    vq_vae = MotionTokenizer(VQVAEConfig(), Normalizer.official()).eval()
    assert vq_vae.config.code_num == 512 and sum(p.numel() for p in vq_vae.parameters()) > 19_000_000
    base_folder = tmp_path / "base-t5"
    train_text_tokenizer(sentences, vocab_size=300).save_pretrained(str(base_folder))
    lm = MotionLanguageModel.build(architecture, train_text_tokenizer(sentences, vocab_size=300),
                                   MotionVocabulary(512), seed=5)
    lm.t5.config.save_pretrained(str(base_folder))
    path = save_released_layout(lm, tmp_path / "motiongpt_s3_h3d.tar", vq_vae.state_dict())

    model = MotionGPT.from_released(path, base_folder)
    assert model.vocabulary.code_num == 512 and not lm_head_is_tied(model.language_model.t5)
    codes = np.array([3, 500, 17, 42, 511, 0], dtype=np.int64)
    np.testing.assert_allclose(model.motion_tokenizer.decode_to_features(codes), vq_vae.decode_to_features(codes),
                               rtol=0, atol=1e-5)
    result = model.text_to_motion("a person walks forward", seconds=1.2, seed=0)
    assert result.joints.shape == (24, 22, 3) and np.isfinite(result.joints).all()
