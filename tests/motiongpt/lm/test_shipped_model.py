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
    last_stage = LMTrainingConfig.from_yaml(REPO / "models" / "configs" / "lm_small_cpu_continue39b.yaml")
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
    text = "a person walks forward carefully"
    meanings = model.meanings([text])
    assert meanings[0].action == "walk"
    [caption] = model.rephrase([text])
    assert caption != text and "walk" in caption  # a training caption of a walk
    model.command(text, seconds_per_step=2.0, seed=3)
    assert encoded == [[text], [caption]]
    # a request naming a speed the folder plays is rephrased without its speed words: that text is embedded
    encoded.clear()
    model.command("a person walks backwards quickly", seconds_per_step=2.0, seed=3)
    [quick_caption] = model.rephrase(["a person walks backwards quickly"])
    assert encoded[0] == ["a person walks backwards"]
    assert encoded == [[t] for t in dict.fromkeys(["a person walks backwards", quick_caption])]


def test_the_shipped_model_says_a_request_in_its_own_words_keeping_its_action(shipped):
    """rephrase: meaning (motiongpt.yaml): everyday requests become training captions of the action they ask for;
    a request naming a speed the folder plays (speed_factors) is rephrased without it, as the same request with no
    speed word is, and a caption naming no speed is never given one."""
    from motiongpt.data.augment import named_speed

    assert shipped.text_to_motion_settings.rephrase == "meaning"
    requests = {"walk forward slowly": "walk", "walk forward quickly": "walk", "walk forward": "walk",
                "walk backwards": "walk_back", "walk backwards quickly": "walk_back",
                "wave with the right hand": "wave_right_hand", "take a bow": "bow"}
    captions = shipped.rephrase(list(requests))
    meanings = shipped.meanings(captions)
    assert [m.action for m in meanings] == list(requests.values()), captions
    assert [named_speed(c) for c in captions] == [None] * len(captions), captions
    assert captions[0] == captions[1] == captions[2] and captions[3] == captions[4], captions


def test_the_shipped_model_plays_a_named_speed(shipped):
    """speed_factors (motiongpt.yaml, the data builder's factors): "quickly" is the plain request's motion played
    1.4 times as fast, "slowly" generated shorter and played in the length asked, "very quickly" 1.4^1.5 times as
    fast; the steps of a command follow."""
    from motiongpt.data.bandai_dataset import BandaiSettings

    assert shipped.text_to_motion_settings.speed_factors == {"slow": BandaiSettings().slow_factor,
                                                            "fast": BandaiSettings().fast_factor}
    plain = shipped.text_to_motion("walk forward", seed=4)
    quick = shipped.text_to_motion("walk forward quickly", seed=4)
    np.testing.assert_array_equal(quick.codes, plain.codes)  # the same motion, generated at the plain pace
    assert len(quick.joints) == round(len(plain.joints) / 1.4) and quick.segment == (0, len(quick.joints))
    def root_speed(joints):
        return np.linalg.norm(np.diff(joints[:, 0, [0, 2]], axis=0), axis=1).mean()
    assert root_speed(quick.joints) / root_speed(plain.joints) == pytest.approx(1.4, rel=0.02)
    assert shipped.played_speeds(["walk forward quickly", "take your time and bow", "walk forward", "run at 2x speed",
                                  "walk twice as slow"]) == [1.4, 0.7, 1.0, 2.0, 0.5]
    # how much: "very slowly" slower than "slowly", "a bit faster" less fast than "faster"
    assert shipped.played_speeds(["walk forward very slowly", "walk forward a bit faster"]) == pytest.approx(
        [0.7 ** 1.5, 1.4 ** 0.5])
    very = shipped.text_to_motion("walk forward very quickly", seed=4)
    np.testing.assert_array_equal(very.codes, plain.codes)
    assert root_speed(very.joints) / root_speed(plain.joints) == pytest.approx(1.4 ** 1.5, rel=0.02)
    slow = shipped.text_to_motion("walk backwards slowly", seconds=4.0, seed=4)
    assert slow.codes.size == 14 and slow.joints.shape == (80, 22, 3)  # 0.7 x 4 s generated, played in 4 s
    assert shipped.text_to_motion("walk backwards", seconds=4.0, seed=4).joints.shape == (80, 22, 3)
    command = shipped.command("walk forward quickly, then wave with your right hand", seed=4)
    (_, first, end), (_, second, last) = command.steps
    gap = 16  # the 0.8 s in-between (4 codes), played as generated, as is the wave
    walk_codes = command.codes.size - gap // 4 - (last - second) // 4
    assert first == 0 and end == round(4 * walk_codes / 1.4) and second - end == gap
    assert len(command.joints) == last == len(command.features) and np.isfinite(command.joints).all()


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


def test_the_shipped_model_reads_a_styled_requests_action_without_its_style_words(shipped):
    """Requests of the val phrasings whose whole sentence vector is read as another action (a nervous step forward
    as a crawl, a youthful nod as a beckoning, marching proudly as a dash) are read from their words without the
    style phrase; the style is still read from the whole request (and kept where the action has a caption in it)."""
    from motiongpt.data.bandai_dataset import named_style

    requests = {"Step forward nervously, as if the floor might break.": "walk", "give me a youthful nod": "respond",
                "Hey buddy, march ahead proudly like a soldier.": "walk"}
    assert [m.action for m in shipped.meanings(list(requests))] == list(requests.values())
    captions = shipped.rephrase(list(requests))
    assert [m.action for m in shipped.meanings(captions)] == list(requests.values()), captions
    assert [named_style(c) for c in captions[::2]] == ["not-confident", "proud"], captions  # no youthful nod caption


def test_a_request_is_read_for_its_meaning_as_it_is_generated(shipped):
    """The node's meaning check reads a step without the words that name its length and its played speed (what
    the model generates from), so a said length does not make a known action look unknown."""
    [generated] = shipped.meanings(["punch for 40 frames"])
    [said] = shipped.meanings(["punch for 40 frames"], as_said=True)
    [plain] = shipped.meanings(["punch"])
    assert generated.action == said.action == plain.action == "punch"
    assert generated.similarity == pytest.approx(plain.similarity) and generated.similarity > said.similarity


def test_the_shipped_index_refuses_near_misses_and_keeps_everyday_requests(shipped):
    """Stop 41: requests that share words with a known action but ask for a motion the model does not have are
    read as unknown (nearer to a request of out_of_vocabulary_phrasings.yaml than to anything the model knows),
    while everyday requests of its actions, near to such requests too, are not."""
    near_misses = ["look to the left", "turn your head left", "lean to the right", "sit down", "stop"]
    for meaning in shipped.meanings(near_misses):
        assert not meaning.known, meaning
    assert shipped.meanings(["look to the left"])[0].similarity >= shipped.meaning_index.threshold  # the new rule's
    everyday = ["walk forward", "wave with the right hand", "dance for me", "take a bow", "stand up", "turn left",
                "kick the ball", "hey robot, please walk forward"]
    for meaning in shipped.meanings(everyday):
        assert meaning.known and not meaning.read_as_unknown, meaning


def test_the_shipped_index_reads_styles_said_in_other_words_and_keeps_plain_requests_plain(shipped):
    """The meaning index's style classifier (stop 34): a style said in words on neither list is read; a request
    it reads as naming no style is rephrased as a caption naming none (stop 33 gave "walk forward sadly" and
    "lift both arms like a strong man")."""
    from motiongpt.data.bandai_dataset import named_style
    from motiongpt.lm.command_meaning import requested_style

    assert shipped.meaning_index.style_weights is not None
    styled = {"walk forward like your heart is broken": "sad", "walk forward in a foul temper": "angry"}
    assert [requested_style(t) for t in styled] == [None, None]  # on no list
    assert [named_style(c) for c in shipped.rephrase(list(styled))] == list(styled.values())
    plain = ["could you take a few steps forward", "raise both arms above your head"]
    assert [named_style(c) in (None, "normal") for c in shipped.rephrase(plain)] == [True, True]
    assert [m.action for m in shipped.meanings(plain)] == ["walk", "raise_up_both_hands"]
