"""The shipped language model (models/motiongpt-small): a complete folder whose decoding settings are those of
its training config, with the sentence encoder in its text path, whose text vocabulary reads any English, and
which answers every task, spoken multi-step commands included."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from motiongpt.lm.api import MotionGPT
from motiongpt.lm.training import LMTrainingConfig

REPO = Path(__file__).resolve().parents[3]
MODEL_DIR = REPO / "models" / "motiongpt-small"


@pytest.fixture(scope="module")
def shipped() -> MotionGPT:
    return MotionGPT.from_pretrained(MODEL_DIR)


def test_settings_come_from_the_training_configs(shipped):
    last_stage = LMTrainingConfig.from_yaml(REPO / "models" / "configs" / "lm_small_gpu_balance.yaml")
    pretrain = LMTrainingConfig.from_yaml(REPO / "models" / "configs" / "lm_small_gpu_pretrain.yaml")
    assert shipped.text_to_motion_settings == last_stage.text_to_motion
    assert shipped.language_model.conditioning.sentence_encoder == pretrain.text_conditioning.sentence_encoder
    assert shipped.language_model.conditioning.prefix_tokens == pretrain.text_conditioning.prefix_tokens
    assert shipped.language_model.t5.config.d_model == pretrain.architecture.d_model


def test_text_vocabulary_reads_numbers_and_unseen_words(shipped):
    tokenizer = shipped.language_model.tokenizer
    for text in ("hey robot, please zigzag for 80 frames", "twirl 3 times in 12.5 seconds, quickly!"):
        assert tokenizer.unk_token_id not in tokenizer(text)["input_ids"], text


def test_the_onnx_export_is_current_and_agrees(shipped):
    pytest.importorskip("onnxruntime")
    from motiongpt.lm.api import resolve_backend
    onnx = MotionGPT.from_pretrained(MODEL_DIR, backend="onnxruntime")  # refuses an export of other weights
    assert resolve_backend(MODEL_DIR) == "onnxruntime"
    a = shipped.text_to_motion("take a bow", seconds=2.0, greedy=True)
    b = onnx.text_to_motion("take a bow", seconds=2.0, greedy=True)
    np.testing.assert_array_equal(a.codes, b.codes)


def test_every_task_answers(shipped):
    walk = shipped.text_to_motion("someone goes forward on foot", seconds=2.0, seed=0)
    assert walk.joints.shape == (40, 22, 3) and np.isfinite(walk.joints).all()
    assert shipped.motion_to_text(walk.joints).strip()
    given = shipped.encode(walk.joints).size * 4  # the given motion, cut to the 4-frame code grid
    assert shipped.predict(walk.joints, seconds=1.0, seed=0).joints.shape == (given + 20, 22, 3)
    plan = shipped.command("Hey robot, please walk forward, then wave with your right hand", seconds_per_step=1.6,
                           seed=0)
    assert [s[0] for s in plan.steps] == ["walk forward", "wave with your right hand"]
    assert np.isfinite(plan.joints).all()


@pytest.mark.parametrize("backend", ["torch", "onnxruntime"])
def test_a_command_is_embedded_once_for_its_meaning_and_its_generation(backend, monkeypatch):
    """The meaning index shares the text conditioning's sentence encoder and its cache: a one-step command's
    text goes through the encoder once, not once to find its meaning and again to rephrase it; the training
    caption it is rephrased as (``text_to_motion.rephrase: meaning``) is embedded once more, for the generation."""
    from motiongpt.lm.sentence_encoder import SentenceEncoder

    model = MotionGPT.from_pretrained(MODEL_DIR, backend=backend)
    encoded = []
    encode = SentenceEncoder.encode
    monkeypatch.setattr(SentenceEncoder, "encode", lambda self, texts: encoded.append(list(texts)) or encode(self, texts))
    text = "a person walks forward slowly and carefully"
    meanings = model.meanings([text])
    assert meanings[0].action == "walk"
    [caption] = model.rephrase([text])
    assert caption != text and "walk" in caption  # a training caption of a walk
    model.command(text, seconds_per_step=2.0, seed=3)
    assert encoded == [[text], [caption]]


def test_the_shipped_model_says_a_request_in_its_own_words_keeping_its_action_and_speed(shipped):
    """rephrase: meaning (motiongpt.yaml): everyday requests become training captions of the action they ask for,
    naming the speed the request names and no other."""
    from motiongpt.data.augment import named_speed

    assert shipped.text_to_motion_settings.rephrase == "meaning"
    requests = {"walk forward slowly": ("walk", "slow"), "walk forward quickly": ("walk", "fast"),
                "walk forward": ("walk", None), "walk backwards": ("walk_back", None),
                "wave with the right hand": ("wave_right_hand", None), "take a bow": ("bow", None)}
    captions = shipped.rephrase(list(requests))
    meanings = shipped.meanings(captions)
    assert [(m.action, named_speed(c)) for m, c in zip(meanings, captions)] == list(requests.values()), captions


def test_the_shipped_model_keeps_a_style_said_in_other_words(shipped):
    """The README's examples: a style named with a phrase of style_phrasings.yaml is rephrased as a caption of
    that style (the nearest caption alone names none); where the action has no caption of that style it is not."""
    from motiongpt.data.bandai_dataset import named_style

    requests = ["walk forward grumpily", "walk forward like a troll", "raise your right hand grumpily"]
    captions = shipped.rephrase(requests)
    assert [named_style(c) for c in captions[:2]] == ["angry", "giant"], captions
    assert [m.action for m in shipped.meanings(captions)] == ["walk", "walk", "raise_up_right_hand"], captions
    assert named_style(captions[2]) != "angry", captions
    plain = shipped.meaning_index.rephrase(requests[:2], shipped._meaning_vectors(requests[:2]).numpy(),
                                           style_of=named_style)
    assert [named_style(c) for c in plain] == [None, None], plain
