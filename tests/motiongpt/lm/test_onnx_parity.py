"""ONNX export and ONNX Runtime backend against the PyTorch path (`motiongpt.lm.onnx_export`, `onnx_runtime`)."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from motiongpt.lm.decoding import Guidance  # noqa: E402
from motiongpt.lm.model import GenerationSettings, MotionLanguageModel, ModelLoadError  # noqa: E402
from motiongpt.lm.onnx_export import MANIFEST_FILE, OPSET, export_onnx  # noqa: E402
from motiongpt.lm.onnx_runtime import (CUDA, OnnxLanguageModel, OnnxModelError, OnnxMotionTokenizer,  # noqa: E402
                                       providers_for)
from motiongpt.lm.text_conditioning import TextConditioningConfig  # noqa: E402
from motiongpt.lm.vocabulary import MotionVocabulary  # noqa: E402

from tests.motiongpt.lm.conftest import TINY_ARCHITECTURE, TINY_CODE_NUM, tiny_sentences  # noqa: E402

PROMPTS = ["Generate motion: a person walks forward", "Generate motion: someone jumps",
           "Generate motion: a person kicks with the right leg and then turns around slowly",
           "Describe the motion: <motion_id_32><motion_id_3><motion_id_7><motion_id_33>"]
REQUESTS = ["a person walks forward", "someone jumps", "a person kicks with the right leg and then turns around slowly",
            None]


@pytest.fixture(scope="module")
def plain_export(tiny_motiongpt, tmp_path_factory):
    folder = tmp_path_factory.mktemp("onnx_plain")
    export_onnx(tiny_motiongpt.language_model, tiny_motiongpt.motion_tokenizer, folder)
    return tiny_motiongpt, folder


@pytest.fixture(scope="module")
def conditioned(tmp_path_factory):
    from motiongpt.lm.text_tokenizer import train_text_tokenizer

    tokenizer = train_text_tokenizer(tiny_sentences(), vocab_size=300)
    model = MotionLanguageModel.build(TINY_ARCHITECTURE, tokenizer, MotionVocabulary(TINY_CODE_NUM), seed=1,
                                      conditioning=TextConditioningConfig(prefix_tokens=3))
    with torch.no_grad():  # a projection that matters (it starts at zero bias / small weights)
        model.projection.linear.bias.normal_(0.0, 1.0)
    folder = tmp_path_factory.mktemp("onnx_conditioned")
    export_onnx(model, None, folder)
    return model, folder


def torch_reference(model: MotionLanguageModel, prompts, requests):
    with torch.no_grad():
        encoded = model.encoder_inputs(prompts, requests)
        hidden = model.t5.encoder(**encoded).last_hidden_state
        start = torch.full((len(prompts), 1), model.t5.config.decoder_start_token_id, dtype=torch.long)
        logits = model.t5(**encoded, decoder_input_ids=start).logits[:, -1]
    return hidden.numpy(), logits.numpy()


def onnx_lm(folder, **kwargs) -> OnnxLanguageModel:
    return OnnxLanguageModel(folder, device="cpu", intra_op_num_threads=1, **kwargs)


@pytest.mark.parametrize("which", ["plain", "conditioned"])
def test_encoder_and_first_step_logits_match(which, plain_export, conditioned):
    model, folder = (plain_export[0].language_model, plain_export[1]) if which == "plain" else conditioned
    requests = REQUESTS if which == "conditioned" else None
    hidden, logits = torch_reference(model, PROMPTS, requests)
    runtime = onnx_lm(folder)
    state = runtime.encode(PROMPTS, requests)
    assert state.hidden.shape == hidden.shape
    assert np.abs(state.hidden - hidden).max() < 1e-4
    assert np.abs(runtime.first_step_logits(PROMPTS, requests) - logits).max() < 1e-4


@pytest.mark.parametrize("which", ["plain", "conditioned"])
@pytest.mark.parametrize("io_binding", [False, True])
def test_greedy_decoding_is_token_for_token_identical(which, io_binding, plain_export, conditioned):
    model, folder = (plain_export[0].language_model, plain_export[1]) if which == "plain" else conditioned
    requests = REQUESTS if which == "conditioned" else None
    runtime = onnx_lm(folder, io_binding=io_binding)
    greedy = GenerationSettings(do_sample=False, max_new_tokens=24)
    # text answers (captions) and motion answers of 1..12 codes, as a batch and one by one
    assert runtime.generate(PROMPTS, greedy, request_texts=requests) == model.generate(PROMPTS, greedy,
                                                                                       request_texts=requests)
    for low, high in ((1, 12), (4, 4), (7, 9)):
        expected = model.generate(PROMPTS, greedy, motion_codes=(low, high), request_texts=requests)
        assert runtime.generate(PROMPTS, greedy, motion_codes=(low, high), request_texts=requests) == expected
    for index, prompt in enumerate(PROMPTS):
        one = None if requests is None else [requests[index]]
        assert runtime.generate([prompt], greedy, (2, 6), request_texts=one) == model.generate([prompt], greedy, (2, 6),
                                                                                              request_texts=one)


@pytest.mark.parametrize("which", ["plain", "conditioned"])
@pytest.mark.parametrize("io_binding", [False, True])
def test_guided_decoding_is_token_for_token_identical(which, io_binding, plain_export, conditioned):
    """Classifier-free guidance: both backends pick the same tokens, greedy or seeded; scale 1 is Hugging Face
    generate without guidance; a larger scale changes the answers."""
    model, folder = (plain_export[0].language_model, plain_export[1]) if which == "plain" else conditioned
    prompts, requests = PROMPTS[:3], (REQUESTS[:3] if which == "conditioned" else None)
    runtime = onnx_lm(folder, io_binding=io_binding)
    greedy = GenerationSettings(do_sample=False)
    unguided = model.generate_ids(prompts, greedy, (2, 10), request_texts=requests)
    changed = 0
    for scale in (1.0, 3.0):
        guidance = Guidance(["Generate motion:"] * len(prompts), scale)
        expected = model.generate_ids(prompts, greedy, (2, 10), request_texts=requests, guidance=guidance)
        np.testing.assert_array_equal(runtime.generate_ids(prompts, greedy, (2, 10), request_texts=requests,
                                                           guidance=guidance), expected)
        if scale == 1.0:
            np.testing.assert_array_equal(expected, unguided)
        else:
            changed = sum(not np.array_equal(a, b) for a, b in zip(expected, unguided))
    assert changed > 0
    # both backends run the same sampling loop: a seed gives the same guided sample
    sample = GenerationSettings(do_sample=True, top_k=5, temperature=0.8)
    guidance = Guidance(["Generate motion:"] * len(prompts), 2.0)
    np.testing.assert_array_equal(
        runtime.generate_ids(prompts, sample, (2, 10), seed=4, request_texts=requests, guidance=guidance),
        model.generate_ids(prompts, sample, (2, 10), seed=4, request_texts=requests, guidance=guidance))
    for backend in (model, runtime):
        with pytest.raises(ValueError, match="unconditional prompts"):
            backend.generate_ids(prompts, greedy, (2, 10), guidance=Guidance(["Generate motion:"], 2.0))
        with pytest.raises(ValueError, match="scale"):
            backend.generate_ids(prompts, greedy, (2, 10), guidance=Guidance(["Generate motion:"] * 3, 0.5))


def test_sampling_is_seeded_and_well_formed(plain_export):
    model, folder = plain_export
    runtime = onnx_lm(folder)
    vocabulary = model.language_model.vocabulary
    sample = GenerationSettings(do_sample=True, top_k=5, temperature=0.8)
    first = runtime.generate(PROMPTS * 2, sample, motion_codes=(3, 8), seed=7)
    assert first == runtime.generate(PROMPTS * 2, sample, motion_codes=(3, 8), seed=7)
    assert first != runtime.generate(PROMPTS * 2, sample, motion_codes=(3, 8), seed=8)
    from motiongpt.lm.vocabulary import parse_motion
    for answer in first:
        assert 3 <= parse_motion(answer, vocabulary).codes.size <= 8
    # top-k 1 is greedy
    top1 = GenerationSettings(do_sample=True, top_k=1, temperature=1.0)
    greedy = GenerationSettings(do_sample=False)
    assert runtime.generate(PROMPTS, top1, (2, 6), seed=3) == runtime.generate(PROMPTS, greedy, (2, 6))


def test_log_likelihood_matches(plain_export):
    model, folder = plain_export
    lm = model.language_model
    targets = ["a person walks", "someone jumps up", "kick", "a person turns around"]
    expected = lm.target_log_likelihood(PROMPTS, targets).numpy()
    assert np.abs(onnx_lm(folder).target_log_likelihood(PROMPTS, targets).numpy() - expected).max() < 1e-3


def test_motion_tokenizer_matches(plain_export):
    model, folder = plain_export
    tokenizer = model.motion_tokenizer
    runtime = OnnxMotionTokenizer(folder, device="cpu", intra_op_num_threads=1)
    for length in (1, 5, 40):  # dynamic code lengths
        codes = (np.arange(length, dtype=np.int64) * 5) % TINY_CODE_NUM
        features = tokenizer.decode_to_features(codes)
        assert runtime.decode_to_features(codes).shape == features.shape == (4 * length, 263)
        assert np.abs(runtime.decode_to_features(codes) - features).max() < 1e-4
        assert np.abs(runtime.decode_to_joints(codes) - tokenizer.decode_to_joints(codes)).max() < 1e-4
        assert np.array_equal(runtime.encode_motion(features), tokenizer.encode_motion(features))


def test_motiongpt_runs_on_onnx(plain_export):
    from motiongpt.lm.api import MotionGPT

    model, folder = plain_export
    onnx_model = MotionGPT(onnx_lm(folder), OnnxMotionTokenizer(folder, device="cpu"), max_codes=12)
    expected = model.text_to_motion("a person walks forward", seconds=1.2, greedy=True)
    result = onnx_model.text_to_motion("a person walks forward", seconds=1.2, greedy=True)
    assert np.array_equal(result.codes, expected.codes)
    assert np.abs(result.joints - expected.joints).max() < 1e-4
    assert isinstance(onnx_model.motion_to_text(result.joints), str)


def test_manifest_describes_the_graphs(plain_export):
    _, folder = plain_export
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    assert manifest["opset"] == OPSET
    step = manifest["graphs"]["lm_decoder_step"]
    names = {i["name"]: i for i in step["inputs"]}
    assert names["past_key_0"]["shape"] == ["batch", TINY_ARCHITECTURE.num_heads, "past_length", TINY_ARCHITECTURE.d_kv]
    assert names["input_ids"]["dtype"] == "int64"
    assert {o["name"] for o in step["outputs"]} >= {"logits", "present_key_0", "present_value_0"}
    assert len(manifest["graphs"]["motion_decoder"]["sha256"]) == 64


def test_missing_or_corrupt_graph_gives_a_clear_error(plain_export, tmp_path):
    import shutil

    _, folder = plain_export
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    (copy / "lm_decoder_step.onnx").write_bytes(b"not an onnx graph")
    with pytest.raises(OnnxModelError, match="lm_decoder_step.onnx: corrupt graph file"):
        onnx_lm(copy)
    with pytest.raises(OnnxModelError, match="cannot load the graph"):
        onnx_lm(copy, verify=False)
    (copy / "motion_decoder.onnx").unlink()
    with pytest.raises(OnnxModelError, match="motion_decoder.onnx: missing graph file"):
        OnnxMotionTokenizer(copy, device="cpu")
    with pytest.raises(OnnxModelError, match="no ONNX export"):
        onnx_lm(tmp_path / "nowhere")
    (copy / MANIFEST_FILE).write_text("{not json")
    with pytest.raises(ModelLoadError, match="corrupt manifest"):
        onnx_lm(copy)


def test_cuda_provider(plain_export):
    """Runs on a machine whose onnxruntime has CUDAExecutionProvider (onnxruntime-gpu); skips elsewhere."""
    if CUDA not in ort.get_available_providers():
        with pytest.raises(OnnxModelError, match="no CUDAExecutionProvider"):
            providers_for("cuda")
        assert providers_for("auto") == ["CPUExecutionProvider"]
        pytest.skip("onnxruntime has no CUDAExecutionProvider here")
    model, folder = plain_export
    runtime = OnnxLanguageModel(folder, device="cuda")
    assert runtime.providers[0] == CUDA and runtime.graphs.io_binding
    hidden, logits = torch_reference(model.language_model, PROMPTS, None)
    assert np.abs(runtime.first_step_logits(PROMPTS) - logits).max() < 1e-3
    greedy = GenerationSettings(do_sample=False, max_new_tokens=24)
    assert runtime.generate(PROMPTS, greedy, (2, 8)) == model.language_model.generate(PROMPTS, greedy, (2, 8))
    tokenizer = OnnxMotionTokenizer(folder, device="cuda")
    codes = np.arange(10, dtype=np.int64) % TINY_CODE_NUM
    assert np.abs(tokenizer.decode_to_joints(codes) - model.motion_tokenizer.decode_to_joints(codes)).max() < 1e-3
