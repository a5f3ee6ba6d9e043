"""Carry a trained language model over to a new motion tokenizer, so that it is fine-tuned rather than retrained.

A new tokenizer's codes mean nothing to a language model trained on another's. But both tokenizers encode the same
training motions on the same grid (4 frames a code, the same 4 offsets): each position of a motion has one old and
one new code. Counting those pairs over the whole training set gives, for every new code, how often it stands where
each old code stood, P(old | new). The new code's rows of the input embedding and of the output head become the
P(old | new)-weighted means of the old codes' rows, so the model starts out reading and writing each new code as the
old codes it replaces; a new code the training motions never use gets the mean row of all codes. Every other
weight (the text vocabulary, the transformer, the sentence-vector projection) is kept as it is. Fine-tuning on the
new codes (`motiongpt train lm --init` the remapped folder) then only has to learn what the new codes add.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


class CodeRemapError(ValueError):
    """The two prepared files do not hold the same motions, or the model does not fit them."""


@dataclass(frozen=True)
class CodeCorrespondence:
    counts: np.ndarray  # (new codes, old codes): how often a new code stands where an old code stood

    @property
    def old_given_new(self) -> np.ndarray:
        """(new, old) P(old | new); the rows of new codes never used are uniform over the old codes."""
        totals = self.counts.sum(axis=1, keepdims=True)
        uniform = np.full(self.counts.shape, 1.0 / self.counts.shape[1])
        return np.where(totals > 0, self.counts / np.maximum(totals, 1), uniform)

    @property
    def used_new_codes(self) -> int:
        return int((self.counts.sum(axis=1) > 0).sum())

    @property
    def agreement(self) -> float:
        """The share of positions whose old code is the one its new code most often stands with."""
        return float(self.counts.max(axis=1).sum() / max(self.counts.sum(), 1))


def code_correspondence(old_prepared, new_prepared, old_code_num: int, new_code_num: int) -> CodeCorrespondence:
    """Count (new, old) code pairs over two prepared training files of the same motions
    (`motiongpt.lm.prepared_data.PreparedData`, one per tokenizer)."""
    if [c.name for c in old_prepared.clips] != [c.name for c in new_prepared.clips]:
        raise CodeRemapError("the two prepared files do not hold the same motions (names differ)")
    old_variants = [v for clip in old_prepared.clips for v in clip.variants]
    new_variants = [v for clip in new_prepared.clips for v in clip.variants]
    if [len(v) for v in old_variants] != [len(v) for v in new_variants]:
        raise CodeRemapError("the two prepared files encode their motions with different lengths (another code grid)")
    old_codes = np.concatenate(old_variants) if old_variants else np.zeros(0, dtype=np.int64)
    new_codes = np.concatenate(new_variants) if new_variants else np.zeros(0, dtype=np.int64)
    for codes, num, which in ((old_codes, old_code_num, "old"), (new_codes, new_code_num, "new")):
        if codes.size and (codes.min() < 0 or codes.max() >= num):
            raise CodeRemapError(f"the {which} codes run outside a codebook of {num}")
    counts = np.zeros((new_code_num, old_code_num), dtype=np.int64)
    np.add.at(counts, (new_codes, old_codes), 1)
    return CodeCorrespondence(counts)


def remap_rows(weight: np.ndarray, code_ids: np.ndarray, old_given_new: np.ndarray) -> np.ndarray:
    """``weight`` with the row of each code's token (``code_ids[k]``: code k) replaced by the
    ``old_given_new[k]``-weighted mean of the codes' rows as they were; the other rows as they are."""
    remapped = np.array(weight, copy=True)
    remapped[code_ids] = old_given_new @ weight[code_ids]
    return remapped


def remap_language_model(model, correspondence: CodeCorrespondence):
    """Remap ``model`` (a `motiongpt.lm.model.MotionLanguageModel` built for the old codebook) in place to a new
    codebook of the same size, its motion-code rows of the input embedding and of the output head."""
    import torch

    old_given_new = correspondence.old_given_new
    code_num = model.vocabulary.code_num
    if old_given_new.shape != (code_num, code_num):
        raise CodeRemapError(f"the model has {code_num} codes, the correspondence is {old_given_new.shape[1]} old "
                             f"-> {old_given_new.shape[0]} new (a remap keeps the codebook size)")
    ids = np.asarray(model.tokenizer.convert_tokens_to_ids([model.vocabulary.token(k) for k in range(code_num)]))
    with torch.no_grad():
        for layer in (model.t5.get_input_embeddings(), model.t5.get_output_embeddings()):
            weight = layer.weight.detach().cpu().numpy().astype(np.float64)
            layer.weight.copy_(torch.from_numpy(remap_rows(weight, ids, old_given_new)).to(layer.weight))
    return model


def remap_model_folder(model_folder: str | Path, old_data: str | Path, new_data: str | Path, out: str | Path
                       ) -> tuple[Path, CodeCorrespondence]:
    """`motiongpt train lm-remap`: the language model of ``model_folder`` (a model folder, whose tokenizer must have
    made ``old_data``, or a bare language model folder), trained on the codes of ``old_data``, written to ``out`` as a
    language model folder for the codes of ``new_data``."""
    from motiongpt.lm.api import language_model_parts
    from motiongpt.lm.model import MotionLanguageModel
    from motiongpt.lm.prepared_data import load_prepared, tokenizer_fingerprint

    lm_folder, tokenizer_folder = language_model_parts(model_folder)
    model = MotionLanguageModel.from_pretrained(lm_folder, lazy_encoder=True)
    old, new = load_prepared(old_data), load_prepared(new_data)
    if old.tokenizer_sha256 == new.tokenizer_sha256:
        raise CodeRemapError(f"{old_data} and {new_data} come from the same motion tokenizer: nothing to remap")
    if tokenizer_folder is not None and tokenizer_fingerprint(tokenizer_folder) != old.tokenizer_sha256:
        raise CodeRemapError(f"{old_data} was not made with the motion tokenizer of {model_folder} (its codes are not "
                             f"the ones the model was trained on): prepare it with `motiongpt train lm-data "
                             f"--motion-tokenizer {tokenizer_folder}`")
    code_num = model.vocabulary.code_num
    correspondence = code_correspondence(old, new, code_num, code_num)
    remap_language_model(model, correspondence)
    return model.save_pretrained(out), correspondence
