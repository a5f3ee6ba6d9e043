"""`motiongpt train lm-remap`: a language model carried over to a new motion tokenizer through the codes both
tokenizers give the same training motions."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from motiongpt.cli import main
from motiongpt.lm.code_remap import (CodeRemapError, code_correspondence, remap_language_model, remap_rows)
from motiongpt.lm.dataset import EncodedClip
from motiongpt.lm.prepared_data import PreparedData, save_prepared

from tests.motiongpt.lm.conftest import TINY_CODE_NUM


def prepared(codes_per_clip: dict[str, list[np.ndarray]], sha: str) -> PreparedData:
    clips = [EncodedClip(name, ("a person walks forward",), tuple(np.asarray(v, dtype=np.int64) for v in variants))
             for name, variants in codes_per_clip.items()]
    return PreparedData(clips, {name: "walk" for name in codes_per_clip}, sha)


def random_clips(rng, code_num: int) -> dict[str, list[np.ndarray]]:
    return {f"clip{i}": [rng.integers(0, code_num, size=rng.integers(3, 9)) for _ in range(4)] for i in range(20)}


def test_counts_pair_each_position_and_unused_codes_spread_evenly():
    old = prepared({"a": [[0, 1, 1], [2]], "b": [[3, 3]]}, "old")
    new = prepared({"a": [[1, 0, 0], [0]], "b": [[0, 2]]}, "new")
    correspondence = code_correspondence(old, new, old_code_num=4, new_code_num=4)
    assert correspondence.counts.tolist() == [[0, 2, 1, 1], [1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]]
    given = correspondence.old_given_new
    np.testing.assert_allclose(given[0], [0, 0.5, 0.25, 0.25])
    np.testing.assert_allclose(given[3], [0.25] * 4)  # never used: the mean of every old code
    assert correspondence.used_new_codes == 3
    assert correspondence.agreement == pytest.approx(4 / 6)


def test_remapped_rows_are_weighted_means_of_the_old_rows_and_other_rows_stay():
    weight = np.arange(12, dtype=np.float64).reshape(6, 2)
    ids = np.array([2, 3, 4])
    given = np.array([[0, 1, 0], [0.5, 0, 0.5], [1, 0, 0]], dtype=np.float64)
    remapped = remap_rows(weight, ids, given)
    np.testing.assert_array_equal(remapped[[0, 1, 5]], weight[[0, 1, 5]])
    np.testing.assert_array_equal(remapped[2], weight[3])
    np.testing.assert_array_equal(remapped[3], (weight[2] + weight[4]) / 2)
    np.testing.assert_array_equal(remapped[4], weight[2])


def test_a_permuted_codebook_gives_the_same_model_on_the_permuted_codes(tiny_model):
    """New code perm[j] always stands where old code j stood: the remapped model reads and predicts the permuted
    codes exactly as the old model does the old ones."""
    rng = np.random.default_rng(0)
    permutation = rng.permutation(TINY_CODE_NUM)
    old_clips = random_clips(rng, TINY_CODE_NUM)
    new_clips = {name: [permutation[v] for v in variants] for name, variants in old_clips.items()}
    correspondence = code_correspondence(prepared(old_clips, "old"), prepared(new_clips, "new"),
                                         TINY_CODE_NUM, TINY_CODE_NUM)
    remapped = remap_language_model(copy.deepcopy(tiny_model), correspondence)

    vocabulary = tiny_model.vocabulary
    ids = np.asarray(tiny_model.tokenizer.convert_tokens_to_ids([vocabulary.token(k) for k in range(TINY_CODE_NUM)]))
    old_codes = rng.integers(0, TINY_CODE_NUM, size=10)

    def logits(model, codes):
        prompt = model.tokenize(["Describe the motion: " + "".join(vocabulary.token(c) for c in codes)])
        labels = torch.as_tensor(ids[codes])[None]
        with torch.no_grad():
            return model.t5(input_ids=prompt["input_ids"], attention_mask=prompt["attention_mask"],
                            labels=labels).logits[0].numpy()

    before, after = logits(tiny_model, old_codes), logits(remapped, permutation[old_codes])
    np.testing.assert_allclose(after[:, ids[permutation]], before[:, ids], atol=1e-5)
    text_ids = np.setdiff1d(np.arange(before.shape[1]), ids)
    np.testing.assert_allclose(after[:, text_ids], before[:, text_ids], atol=1e-5)
    assert not np.allclose(logits(remapped, old_codes), before, atol=1e-3)  # the old codes now mean other things


def test_files_of_other_motions_or_another_grid_are_refused():
    old = prepared({"a": [[0, 1]], "b": [[2]]}, "old")
    with pytest.raises(CodeRemapError, match="same motions"):
        code_correspondence(old, prepared({"a": [[0, 1]], "c": [[2]]}, "new"), 4, 4)
    with pytest.raises(CodeRemapError, match="different lengths"):
        code_correspondence(old, prepared({"a": [[0, 1, 1]], "b": [[2]]}, "new"), 4, 4)
    with pytest.raises(CodeRemapError, match="outside a codebook of 4"):
        code_correspondence(old, prepared({"a": [[0, 7]], "b": [[2]]}, "new"), 4, 4)


def test_cli_writes_a_loadable_model_and_refuses_one_tokenizer_twice(tiny_model, tmp_path, capsys):
    from motiongpt.lm.model import MotionLanguageModel

    rng = np.random.default_rng(1)
    old_clips = random_clips(rng, TINY_CODE_NUM)
    new_clips = {name: [(v + 1) % TINY_CODE_NUM for v in variants] for name, variants in old_clips.items()}
    tiny_model.save_pretrained(tmp_path / "old")
    save_prepared(tmp_path / "old.npz", prepared(old_clips, "a" * 64))
    save_prepared(tmp_path / "new.npz", prepared(new_clips, "b" * 64))
    assert main(["train", "lm-remap", "--model", str(tmp_path / "old"), "--old-data", str(tmp_path / "old.npz"),
                 "--new-data", str(tmp_path / "new.npz"), "--out", str(tmp_path / "new")]) == 0
    assert f"{TINY_CODE_NUM} new codes used" in capsys.readouterr().out
    loaded = MotionLanguageModel.from_pretrained(tmp_path / "new")
    ids = tiny_model.tokenizer.convert_tokens_to_ids([tiny_model.vocabulary.token(k) for k in range(TINY_CODE_NUM)])
    old_rows = tiny_model.t5.get_input_embeddings().weight.detach()[ids]
    new_rows = loaded.t5.get_input_embeddings().weight.detach()[ids]
    torch.testing.assert_close(new_rows, torch.roll(old_rows, 1, dims=0))  # new code k + 1 was old code k

    assert main(["train", "lm-remap", "--model", str(tmp_path / "old"), "--old-data", str(tmp_path / "old.npz"),
                 "--new-data", str(tmp_path / "old.npz"), "--out", str(tmp_path / "same")]) != 0
    assert "same motion tokenizer" in capsys.readouterr().err
    assert not (tmp_path / "same").exists()


def test_old_codes_of_another_tokenizer_than_the_models_are_refused(tiny_model, tmp_path, capsys):
    """A model folder names its tokenizer: the old file must hold that tokenizer's codes."""
    from motiongpt.lm.prepared_data import tokenizer_fingerprint
    from motiongpt.normalization import Normalizer
    from motiongpt.skeleton import FEATURE_DIM
    from motiongpt.tokenizer import MotionTokenizer, VQVAEConfig

    tiny_model.save_pretrained(tmp_path / "model" / "lm")
    (tmp_path / "model" / "motiongpt.yaml").write_text("language_model: lm\nmotion_tokenizer: tokenizer\n")
    tokenizer = MotionTokenizer(VQVAEConfig(code_num=TINY_CODE_NUM, code_dim=8, output_emb_width=8, width=8, depth=1),
                                Normalizer(np.zeros(FEATURE_DIM), np.ones(FEATURE_DIM)))
    tokenizer.save_pretrained(tmp_path / "model" / "tokenizer")
    rng = np.random.default_rng(2)
    old_clips = random_clips(rng, TINY_CODE_NUM)
    save_prepared(tmp_path / "new.npz", prepared(old_clips, "b" * 64))
    args = ["train", "lm-remap", "--model", str(tmp_path / "model"), "--new-data", str(tmp_path / "new.npz")]
    save_prepared(tmp_path / "other.npz", prepared(old_clips, "a" * 64))
    assert main(args + ["--old-data", str(tmp_path / "other.npz"), "--out", str(tmp_path / "refused")]) != 0
    assert "was not made with the motion tokenizer" in capsys.readouterr().err
    assert not (tmp_path / "refused").exists()
    save_prepared(tmp_path / "old.npz", prepared(old_clips, tokenizer_fingerprint(tmp_path / "model" / "tokenizer")))
    assert main(args + ["--old-data", str(tmp_path / "old.npz"), "--out", str(tmp_path / "remapped")]) == 0
    assert (tmp_path / "remapped" / "config.json").is_file()
