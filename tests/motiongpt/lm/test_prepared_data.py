"""Prepared language-model data (`motiongpt train lm-data`): codes, captions, labels and caption vectors written
once, and a training run that reads only that file (no dataset, no sentence encoder loaded)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from motiongpt.cli import main
from motiongpt.lm.prepared_data import PreparedDataError, load_prepared, save_prepared, tokenizer_fingerprint
from motiongpt.lm.text_conditioning import SentenceVectors
from motiongpt.lm.training import LMConfigError, LMTrainingConfig, train_language_model
from motiongpt.skeleton import FEATURE_DIM

CAPTIONS = {"clip0": ["a person walks forward", "walk ahead"], "clip1": ["a person waves the right hand"],
            "clip2": ["someone jumps", "jump up", "a person walks forward"]}
ACTIONS = {"clip0": "walk", "clip1": "wave_right", "clip2": "jump"}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """A HumanML3D-layout tree of three clips with actions.json, and a tiny motion tokenizer."""
    from motiongpt.normalization import Normalizer
    from motiongpt.tokenizer import MotionTokenizer, VQVAEConfig

    root = tmp_path_factory.mktemp("prepared")
    data = root / "data"
    (data / "new_joint_vecs").mkdir(parents=True)
    (data / "texts").mkdir()
    rng = np.random.default_rng(0)
    for i, (name, captions) in enumerate(CAPTIONS.items()):
        np.save(data / "new_joint_vecs" / f"{name}.npy", rng.normal(size=(60 + 8 * i, FEATURE_DIM)).astype(np.float32))
        (data / "texts" / f"{name}.txt").write_text("".join(f"{c}.#{c}#0.0#0.0\n" for c in captions))
    (data / "train.txt").write_text("\n".join(CAPTIONS) + "\n")
    np.save(data / "Mean.npy", np.zeros(FEATURE_DIM, dtype=np.float32))
    np.save(data / "Std.npy", np.ones(FEATURE_DIM, dtype=np.float32))
    (data / "actions.json").write_text(json.dumps(ACTIONS))
    torch.manual_seed(0)
    tokenizer = MotionTokenizer(VQVAEConfig(code_num=16, code_dim=8, output_emb_width=8, width=8, depth=1),
                                Normalizer(np.zeros(FEATURE_DIM), np.ones(FEATURE_DIM)))
    with torch.no_grad():
        tokenizer.quantizer.codebook.normal_()
    tokenizer.save_pretrained(root / "vq")
    return root


def write_config(root: Path, stage: str, **extra) -> Path:
    config = {"stage": stage, "data_root": str(root / "data"), "motion_tokenizer": str(root / "vq"),
              "output_dir": str(root / f"run-{stage}"), "text_vocab_size": 200, "batch_size": 4,
              "learning_rate": 3e-3, "warmup_steps": 1, "max_steps": 4, "checkpoint_every": 2, "log_every": 2,
              "progress_bar": False, "device": "cpu", "action_balance": 1.0,
              "templates": "pretrain" if stage == "pretrain" else "instructions",
              "architecture": {"d_model": 16, "d_kv": 4, "num_heads": 4, "d_ff": 32, "num_layers": 1,
                               "num_decoder_layers": 1, "dropout_rate": 0.0}, **extra}
    path = root / f"{stage}-{len(extra)}.yaml"
    import yaml
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def prepared(dataset):
    config = write_config(dataset, "pretrain", text_conditioning={"sentence_encoder": "all-MiniLM-L6-v2",
                                                                  "prefix_tokens": 2})
    out = dataset / "lm_train.npz"
    assert main(["train", "lm-data", "--config", str(config), "--out", str(out)]) == 0
    return out


def test_the_file_holds_codes_captions_labels_and_vectors(dataset, prepared):
    from motiongpt.data.humanml3d import load_split
    from motiongpt.lm.dataset import encode_records
    from motiongpt.lm.sentence_encoder import SentenceEncoder, resolve_encoder_folder
    from motiongpt.tokenizer import MotionTokenizer

    data = load_prepared(prepared, tokenizer_fingerprint(dataset / "vq"), "all-MiniLM-L6-v2")
    expected = encode_records(load_split(dataset / "data", "train"), MotionTokenizer.from_pretrained(dataset / "vq"))
    assert [c.name for c in data.clips] == [c.name for c in expected] == list(CAPTIONS)
    for got, want in zip(data.clips, expected):
        assert got.captions == want.captions
        assert len(got.variants) == len(want.variants) == 4
        for a, b in zip(got.variants, want.variants):
            np.testing.assert_array_equal(a, b)
    assert data.actions == ACTIONS
    assert list(data.vector_texts) == sorted({c for clip in expected for c in clip.captions})
    assert len(data.vector_texts) == 5  # "a person walks forward" of two clips embedded once
    encoder = SentenceEncoder(resolve_encoder_folder("all-MiniLM-L6-v2"))
    np.testing.assert_allclose(data.vectors, encoder.encode(list(data.vector_texts)), atol=1e-5)


def test_training_reads_only_the_file_and_loads_no_encoder(dataset, prepared, monkeypatch):
    import motiongpt.lm.sentence_encoder as sentence_encoder

    def refuse(*args, **kwargs):
        raise AssertionError("the sentence encoder was loaded although every caption vector was prepared")

    monkeypatch.setattr(sentence_encoder, "SentenceEncoder", refuse)
    moved = dataset / "data-moved"
    (dataset / "data").rename(moved)  # the dataset is not on the training machine
    try:
        pretrain = LMTrainingConfig.from_yaml(write_config(
            dataset, "pretrain", prepared_data=str(prepared),
            text_conditioning={"sentence_encoder": "all-MiniLM-L6-v2", "prefix_tokens": 2}))
        model_dir = train_language_model(pretrain)
        instruct = LMTrainingConfig.from_yaml(write_config(dataset, "instruct", prepared_data=str(prepared),
                                                           init=str(model_dir)))
        instruct_dir = train_language_model(instruct)
    finally:
        moved.rename(dataset / "data")
    assert (instruct_dir / "lm" / "text_conditioning.json").is_file()
    assert (instruct_dir / "motiongpt.yaml").is_file()


def test_a_file_for_another_tokenizer_or_encoder_or_a_corrupt_one_is_refused(dataset, prepared, tmp_path):
    with pytest.raises(PreparedDataError, match="another motion tokenizer"):
        load_prepared(prepared, tokenizer_sha256="0" * 64)
    with pytest.raises(PreparedDataError, match="sentence vectors are by"):
        load_prepared(prepared, sentence_encoder="some-other-encoder")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not an archive")
    with pytest.raises(PreparedDataError, match="not a prepared"):
        load_prepared(bad)
    with pytest.raises(PreparedDataError, match="lm-data"):
        load_prepared(tmp_path / "missing.npz")
    data = load_prepared(prepared)
    data.vectors, data.sentence_encoder = None, None
    no_vectors = save_prepared(tmp_path / "codes_only.npz", data)
    config = LMTrainingConfig.from_yaml(write_config(
        dataset, "pretrain", prepared_data=str(no_vectors), output_dir=str(tmp_path / "run"),
        text_conditioning={"sentence_encoder": "all-MiniLM-L6-v2"}))
    with pytest.raises(LMConfigError, match="sentence vectors are by None"):
        train_language_model(config)


def test_sentence_vectors_prefill_and_lazy_encoder():
    loads = []

    class Encoder:
        class model:
            class config:
                hidden_size = 3

        def encode(self, texts):
            return np.ones((len(texts), 3), dtype=np.float32)

    def load():
        loads.append(1)
        return Encoder()

    vectors = SentenceVectors(cache_size=1, load_encoder=load, dim=3)
    vectors.prefill(["a", "b"], np.eye(3, dtype=np.float32)[:2])
    assert vectors.cache_size >= 2 and not vectors.loaded
    np.testing.assert_array_equal(vectors(["b", None, "a"]).numpy(), [[0, 1, 0], [0, 0, 0], [1, 0, 0]])
    assert not loads
    np.testing.assert_array_equal(vectors(["c"]).numpy(), [[1, 1, 1]])
    assert loads == [1] and vectors.loaded
    with pytest.raises(ValueError, match="vectors"):
        vectors.prefill(["x"], np.zeros((1, 4)))


def test_the_fingerprint_follows_the_codes_not_the_decoder(dataset, tmp_path):
    """A decoder fine-tuned on the frozen encoder and codebook decodes the same codes: the prepared file stays
    valid. Any change to the encoder, the codebook or the normalisation makes other codes: it does not."""
    import shutil

    import torch

    from motiongpt.tokenizer import MotionTokenizer

    original = tokenizer_fingerprint(dataset / "vq")
    tokenizer = MotionTokenizer.from_pretrained(dataset / "vq")
    for part, expected_same in (("decoder", True), ("encoder", False), ("quantizer", False)):
        changed = MotionTokenizer.from_pretrained(dataset / "vq")
        with torch.no_grad():
            for name, tensor in changed.state_dict().items():
                if name.startswith(part + ".") and tensor.is_floating_point():
                    tensor.add_(0.01)
        changed.save_pretrained(tmp_path / part)
        assert (tokenizer_fingerprint(tmp_path / part) == original) == expected_same, part
    tokenizer.save_pretrained(tmp_path / "same")
    assert tokenizer_fingerprint(tmp_path / "same") == original
    shutil.copytree(tmp_path / "same", tmp_path / "other_mean")
    np.save(tmp_path / "other_mean" / "mean.npy", np.load(tmp_path / "same" / "mean.npy") + 1.0)
    assert tokenizer_fingerprint(tmp_path / "other_mean") != original


def test_vectors_from_an_earlier_file_with_another_tokenizer_make_the_same_file_without_the_encoder(
        dataset, prepared, tmp_path, monkeypatch, capsys):
    """The recipe of a training machine without the sentence encoder: a new motion tokenizer, the captions' vectors
    taken from the file prepared with the old one."""
    import motiongpt.lm.sentence_encoder as sentence_encoder
    from motiongpt.tokenizer import MotionTokenizer

    def refuse(*args, **kwargs):
        raise AssertionError("the sentence encoder was loaded although --vectors-from gives every vector")

    retrained = MotionTokenizer.from_pretrained(dataset / "vq")
    with torch.no_grad():
        retrained.quantizer.codebook.copy_(retrained.quantizer.codebook.flip(0))  # other codes for each motion
    retrained.save_pretrained(tmp_path / "vq2")
    config = write_config(dataset, "pretrain", text_conditioning={"sentence_encoder": "all-MiniLM-L6-v2",
                                                                  "prefix_tokens": 2})
    monkeypatch.setattr(sentence_encoder, "SentenceEncoder", refuse)
    out = tmp_path / "lm_train.npz"
    assert main(["train", "lm-data", "--config", str(config), "--out", str(out), "--vectors-from", str(prepared),
                 "--motion-tokenizer", str(tmp_path / "vq2")]) == 0  # the config's own tokenizer is the old one
    old, new = load_prepared(prepared), load_prepared(out, tokenizer_fingerprint(tmp_path / "vq2"), "all-MiniLM-L6-v2")
    assert new.tokenizer_sha256 != old.tokenizer_sha256
    assert any(not np.array_equal(a, b) for x, y in zip(old.clips, new.clips) for a, b in zip(x.variants, y.variants))
    assert new.vector_texts == old.vector_texts
    np.testing.assert_array_equal(new.vectors, old.vectors)

    fewer = load_prepared(prepared)
    keep = [i for i, text in enumerate(fewer.vector_texts) if text != "jump up."]
    fewer.vector_texts, fewer.vectors = tuple(fewer.vector_texts[i] for i in keep), fewer.vectors[keep]
    save_prepared(tmp_path / "fewer.npz", fewer)
    assert main(["train", "lm-data", "--config", str(config), "--out", str(tmp_path / "x.npz"),
                 "--vectors-from", str(tmp_path / "fewer.npz")]) == 2
    assert "no vector for 1 of the 5 captions (first: 'jump up.')" in capsys.readouterr().err
    assert not (tmp_path / "x.npz").exists()
    plain = write_config(dataset, "pretrain", motion_tokenizer=str(tmp_path / "vq2"), output_dir=str(tmp_path / "p"))
    assert main(["train", "lm-data", "--config", str(plain), "--out", str(tmp_path / "x.npz"),
                 "--vectors-from", str(prepared)]) == 2
    assert "this config has no text_conditioning" in capsys.readouterr().err and not (tmp_path / "x.npz").exists()
