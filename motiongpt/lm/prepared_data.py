"""The language model's training data, prepared once: motion codes, captions, action labels, sentence vectors.

    motiongpt train lm-data --config models/configs/lm_small_pretrain.yaml --out data/lm_train.npz

encodes every motion of the config's split with its frozen motion tokenizer (at the four offsets of the code
grid, `motiongpt.lm.dataset.encode_records`), keeps the captions and the action labels of ``actions.json``,
and, when the config has text conditioning, embeds every caption with the sentence encoder. A training config
with ``prepared_data: data/lm_train.npz`` then reads this file instead of the dataset: a training machine
(a rented GPU, every DDP worker) needs neither the motion features (hundreds of MB) nor the sentence encoder
package, and the codes are computed once, not once per stage and per worker. This is the "motion codes on
disk" step of the MotionGPT recipe (stage 1 output, read by stages 2 and 3).

The file records the motion tokenizer's fingerprint (the sha256 of its encoder, codebook and normalisation: what
decides the codes); training refuses a file made with another tokenizer, and a file whose vectors came from
another sentence encoder.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from motiongpt.lm.dataset import EncodedClip, encode_records

FORMAT_VERSION = 1
TOKENIZER_WEIGHTS = "model.safetensors"


class PreparedDataError(ValueError):
    """A prepared language-model data file is missing, corrupt, or made for another tokenizer or encoder."""


@dataclass
class PreparedData:
    clips: list[EncodedClip]
    actions: dict[str, str]                 # motion name -> action label (may be empty)
    tokenizer_sha256: str
    sentence_encoder: str | None = None     # the encoder of ``vectors``; None when the file has none
    vector_texts: tuple[str, ...] = ()
    vectors: np.ndarray | None = None       # (len(vector_texts), E) float32 unit vectors

    @property
    def captions(self) -> list[str]:
        return sorted({c for clip in self.clips for c in clip.captions})


def tokenizer_fingerprint(tokenizer_folder: str | Path) -> str:
    """sha256 of what decides a motion's codes: the tokenizer's encoder and codebook tensors and its
    normalisation (mean/std). A decoder fine-tuned on a frozen encoder and codebook keeps the fingerprint
    (the codes, and a file prepared with them, stay valid)."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    folder = Path(tokenizer_folder)
    path = folder / TOKENIZER_WEIGHTS
    if not path.is_file():
        raise PreparedDataError(f"{tokenizer_folder}: no {TOKENIZER_WEIGHTS} (not a motion tokenizer folder)")
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as error:
        raise PreparedDataError(f"{path}: cannot read the tokenizer weights ({error})") from error
    digest = hashlib.sha256()
    for name in sorted(k for k in tensors if not k.startswith("decoder.")):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(tensors[name]).tobytes())
    for name in ("mean.npy", "std.npy"):
        if (folder / name).is_file():
            digest.update(np.ascontiguousarray(np.load(folder / name)).tobytes())
    return digest.hexdigest()


def save_prepared(path: str | Path, data: PreparedData) -> Path:
    path = Path(path)
    captions = data.captions
    caption_index = {c: i for i, c in enumerate(captions)}
    variants = [v for clip in data.clips for v in clip.variants]
    arrays = {
        "format_version": np.array(FORMAT_VERSION),
        "tokenizer_sha256": np.array(data.tokenizer_sha256),
        "names": np.array([clip.name for clip in data.clips]),
        "actions": np.array([data.actions.get(clip.name, "") for clip in data.clips]),
        "captions": np.array(captions),
        "clip_caption_counts": np.array([len(clip.captions) for clip in data.clips], dtype=np.int32),
        "clip_captions": np.array([caption_index[c] for clip in data.clips for c in clip.captions], dtype=np.int32),
        "clip_variant_counts": np.array([len(clip.variants) for clip in data.clips], dtype=np.int32),
        "variant_lengths": np.array([len(v) for v in variants], dtype=np.int32),
        "codes": np.concatenate(variants).astype(np.int32),
    }
    if data.vectors is not None:
        arrays["sentence_encoder"] = np.array(data.sentence_encoder or "")
        arrays["vector_texts"] = np.array(list(data.vector_texts))
        arrays["vectors"] = np.asarray(data.vectors, dtype=np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        np.savez_compressed(handle, **arrays)
    return path


def load_prepared(path: str | Path, tokenizer_sha256: str | None = None,
                  sentence_encoder: str | None = None) -> PreparedData:
    """Read a prepared file; with ``tokenizer_sha256`` / ``sentence_encoder`` given, refuse a file made with
    another motion tokenizer or whose vectors came from another encoder (or that has no vectors)."""
    path = Path(path)
    if not path.is_file():
        raise PreparedDataError(f"prepared language-model data not found: {path} "
                                f"(write it with `motiongpt train lm-data --config CONFIG --out {path}`)")
    try:
        with np.load(path, allow_pickle=False) as file:
            arrays = {key: file[key] for key in file.files}
    except Exception as error:  # numpy raises several kinds on a corrupt archive
        raise PreparedDataError(f"{path}: not a prepared language-model data file: {error}") from error
    try:
        if int(arrays["format_version"]) != FORMAT_VERSION:
            raise PreparedDataError(f"{path}: format version {int(arrays['format_version'])}, "
                                    f"this code reads {FORMAT_VERSION}")
        clips = _unpack_clips(arrays)
    except KeyError as error:
        raise PreparedDataError(f"{path}: missing array {error}") from error
    except (IndexError, ValueError) as error:
        raise PreparedDataError(f"{path}: inconsistent arrays: {error}") from error
    file_sha = str(arrays["tokenizer_sha256"])
    if tokenizer_sha256 is not None and file_sha != tokenizer_sha256:
        raise PreparedDataError(f"{path}: made with another motion tokenizer (weights sha256 {file_sha[:12]}..., "
                                f"the config's is {tokenizer_sha256[:12]}...); prepare it again")
    encoder = str(arrays["sentence_encoder"]) if "vectors" in arrays else None
    if sentence_encoder is not None and encoder != sentence_encoder:
        raise PreparedDataError(f"{path}: its sentence vectors are by {encoder!r}, the config's text conditioning "
                                f"uses {sentence_encoder!r}; prepare it again with this config")
    actions = {str(n): str(a) for n, a in zip(arrays["names"], arrays["actions"]) if str(a)}
    vector_texts = tuple(str(t) for t in arrays.get("vector_texts", ()))
    vectors = arrays.get("vectors")
    if vectors is not None and vectors.shape[0] != len(vector_texts):
        raise PreparedDataError(f"{path}: {len(vector_texts)} texts but {vectors.shape[0]} vectors")
    return PreparedData(clips, actions, file_sha, encoder, vector_texts, vectors)


class StoredVectors:
    """The sentence vectors of an earlier prepared file, looked up by caption: ``encode`` as the sentence encoder
    that made them would answer (the same vectors), for a machine without that encoder (`motiongpt train lm-data
    --vectors-from`). The earlier file's motion tokenizer does not matter: only its captions' vectors are read."""

    def __init__(self, path: str | Path, sentence_encoder: str):
        data = load_prepared(path, sentence_encoder=sentence_encoder)
        if data.vectors is None:
            raise PreparedDataError(f"{path}: no sentence vectors in this prepared file")
        self.path = Path(path)
        self._rows = {text: row for row, text in enumerate(data.vector_texts)}
        self._vectors = data.vectors

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        missing = [text for text in texts if text not in self._rows]
        if missing:
            raise PreparedDataError(f"{self.path}: no vector for {len(missing)} of the {len(texts)} captions (first: "
                                    f"{missing[0]!r}); prepare the data where the sentence encoder is installed")
        return self._vectors[[self._rows[text] for text in texts]]


def _unpack_clips(arrays: dict[str, np.ndarray]) -> list[EncodedClip]:
    captions = [str(c) for c in arrays["captions"]]
    caption_ends = np.cumsum(arrays["clip_caption_counts"])
    variant_ends = np.cumsum(arrays["clip_variant_counts"])
    code_ends = np.cumsum(arrays["variant_lengths"])
    codes = arrays["codes"].astype(np.int64)
    names = arrays["names"]
    if not (len(caption_ends) == len(variant_ends) == len(names)) or code_ends[-1] != len(codes) \
            or caption_ends[-1] != len(arrays["clip_captions"]) or variant_ends[-1] != len(code_ends):
        raise ValueError("clip, caption and code counts disagree")
    clips = []
    for i, name in enumerate(names):
        first_caption = caption_ends[i - 1] if i else 0
        texts = tuple(captions[j] for j in arrays["clip_captions"][first_caption:caption_ends[i]])
        first_variant = variant_ends[i - 1] if i else 0
        variants = []
        for v in range(first_variant, variant_ends[i]):
            start = code_ends[v - 1] if v else 0
            variants.append(codes[start:code_ends[v]])
        clips.append(EncodedClip(str(name), texts, tuple(variants)))
    return clips


def prepare(records: Sequence, motion_tokenizer, tokenizer_folder: str | Path, actions: dict[str, str],
            sentence_encoder_name: str | None = None, encoder=None) -> PreparedData:
    """Encode ``records`` (and, with ``encoder``, embed their captions) into a `PreparedData`."""
    clips = encode_records(records, motion_tokenizer)
    data = PreparedData(clips, {c.name: actions[c.name] for c in clips if c.name in actions},
                        tokenizer_fingerprint(tokenizer_folder))
    if encoder is not None:
        texts = data.captions
        data.sentence_encoder = sentence_encoder_name
        data.vector_texts = tuple(texts)
        data.vectors = np.asarray(encoder.encode(texts), dtype=np.float32)
    return data
