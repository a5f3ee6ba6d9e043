"""`motiongpt export onnx` on a saved (plain layout) model folder, and loading the export as a MotionGPT."""
from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from motiongpt.cli import main  # noqa: E402
from motiongpt.lm.onnx_export import MANIFEST_FILE  # noqa: E402
from motiongpt.lm.onnx_runtime import OnnxModelError, find_onnx_folder, load_onnx_motiongpt  # noqa: E402


@pytest.fixture(scope="module")
def exported(tiny_motiongpt, tmp_path_factory):
    folder = tiny_motiongpt.save_pretrained(tmp_path_factory.mktemp("model") / "motiongpt")
    assert main(["export", "onnx", "--model", str(folder), "--check"]) == 0
    return tiny_motiongpt, folder


def test_export_writes_a_recognised_folder(exported, capsys):
    _, folder = exported
    assert find_onnx_folder(folder) == folder / "onnx"
    manifest = json.loads((folder / "onnx" / MANIFEST_FILE).read_text())
    assert set(manifest["graphs"]) == {"lm_encoder", "lm_decoder_step", "motion_decoder", "motion_encoder"}
    assert "lm/model.safetensors" in manifest["source"] and "tokenizer/model.safetensors" in manifest["source"]
    assert manifest["language_model"]["text_conditioning"] is None
    for name in ("tokenizer.json", "motion_vocabulary.json", "mean.npy", "std.npy"):
        assert (folder / "onnx" / name).is_file()


def test_check_reports_parity(tiny_motiongpt, tmp_path, capsys):
    folder = tiny_motiongpt.save_pretrained(tmp_path / "m")
    assert main(["export", "onnx", "--model", str(folder), "--out", str(tmp_path / "out"), "--check"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["opset"] == 17 and report["check"]["greedy_t2m_identical"]
    assert report["check"]["first_step_logits_max_abs_diff"] < 1e-4
    assert report["check"]["joints_max_abs_diff_m"] < 1e-4


def test_load_as_motiongpt_and_stale_export(exported, tmp_path):
    import shutil

    model, folder = exported
    onnx_model = load_onnx_motiongpt(folder, device="cpu", intra_op_num_threads=1)
    result = onnx_model.text_to_motion("a person walks forward", seconds=0.8, greedy=True)
    reference = model.text_to_motion("a person walks forward", seconds=0.8, greedy=True)
    assert np.array_equal(result.codes, reference.codes)
    stale = tmp_path / "stale"
    shutil.copytree(folder, stale)
    (stale / "tokenizer" / "std.npy").write_bytes((stale / "tokenizer" / "mean.npy").read_bytes())
    with pytest.raises(OnnxModelError, match="exported from other weights"):
        load_onnx_motiongpt(stale, device="cpu")


def test_export_of_a_folder_that_is_not_a_model(tmp_path, capsys):
    assert main(["export", "onnx", "--model", str(tmp_path)]) == 2
    assert "not a MotionGPT model folder" in capsys.readouterr().err


def test_auto_backend_picks_onnxruntime_only_where_an_export_exists(exported, tmp_path):
    from motiongpt.lm.api import MotionGPT, resolve_backend
    from motiongpt.lm.onnx_runtime import OnnxLanguageModel

    tiny, folder = exported
    plain = tiny.save_pretrained(tmp_path / "plain")
    assert resolve_backend(folder) == "onnxruntime" and resolve_backend(plain) == "torch"
    assert resolve_backend(folder, "torch") == "torch"
    with pytest.raises(ValueError, match="backend"):
        resolve_backend(folder, "tensorrt")
    loaded = MotionGPT.from_pretrained(folder, backend="auto")
    assert isinstance(loaded.language_model, OnnxLanguageModel)
    a = loaded.text_to_motion("a person walks", seconds=1.0, greedy=True)
    b = tiny.text_to_motion("a person walks", seconds=1.0, greedy=True)
    np.testing.assert_array_equal(a.codes, b.codes)


def test_onnx_generation_stops_at_the_step_the_interrupt_turns_true(exported):
    from motiongpt.lm.model import GenerationInterrupted

    _, folder = exported
    model = load_onnx_motiongpt(folder, device="cpu")
    checks = {"n": 0}

    def interrupt():
        checks["n"] += 1
        return checks["n"] > 4

    model.set_interrupt(interrupt)
    with pytest.raises(GenerationInterrupted):
        model.text_to_motion("a person walks", seconds=2.4, seed=0)
    assert checks["n"] == 5  # the check before encoding, then one per decoding step until it turned True
    model.set_interrupt(None)
    assert model.text_to_motion("a person walks", seconds=2.4, seed=0).codes.size == 12
