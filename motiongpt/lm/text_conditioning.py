"""A pretrained sentence encoder inside the language model's text path.

The small T5 is trained from scratch on a few thousand captions and knows no English beyond them: an unseen
phrasing ("scoot over to your left", "give me a little bow") shares few tokens with its training captions.
all-MiniLM-L6-v2 (`motiongpt.lm.sentence_encoder`, trained on a billion sentence pairs) maps such phrasings
close to their meaning. With text conditioning, the request text of a prompt (the caption that fills a
text-to-motion template) is embedded by the frozen sentence encoder, projected by a trained linear layer to
``prefix_tokens`` vectors of the T5's width, and put in front of the prompt's own token embeddings at the
encoder input; the motion tokens and the template words keep their own T5 embeddings. Prompts without a
request text (motion-to-text, prediction, in-between) get a zero sentence vector, i.e. the layer's bias.

During training the request words are removed from the T5 tokens of a share ``caption_dropout`` of the
examples, so the model learns to read the meaning from the sentence vector and not only from the words.

The model folder records it in ``text_conditioning.json`` (encoder name, prefix length, dropout) and the
projection in ``text_projection.safetensors``; a T5 folder without them (flan-t5-base, the released
MotionGPT checkpoint) is the plain T5 path, unchanged.
"""
from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

CONDITIONING_FILE = "text_conditioning.json"
PROJECTION_FILE = "text_projection.safetensors"


class TextConditioningError(ValueError):
    """The text conditioning files of a model folder are missing, corrupt or inconsistent."""


@dataclass
class TextConditioningConfig:
    sentence_encoder: str = "all-MiniLM-L6-v2"  # packaged name, or a folder relative to the model folder
    prefix_tokens: int = 4
    embedding_dim: int = 384
    caption_dropout: float = 0.3                # training only

    def __post_init__(self) -> None:
        if int(self.prefix_tokens) < 1 or int(self.embedding_dim) < 1:
            raise TextConditioningError("text conditioning: prefix_tokens and embedding_dim must be >= 1")
        if not 0.0 <= float(self.caption_dropout) < 1.0:
            raise TextConditioningError(f"text conditioning: caption_dropout must be in [0, 1), got {self.caption_dropout}")

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> "TextConditioningConfig":
        from motiongpt.config_files import build_dataclass
        return build_dataclass(cls, dict(data or {}), "text_conditioning", TextConditioningError)


class PrefixProjection(nn.Module):
    """Sentence vectors (B, E) -> ``prefix_tokens`` encoder input vectors (B, P, d_model)."""

    def __init__(self, config: TextConditioningConfig, d_model: int):
        super().__init__()
        self.prefix_tokens = int(config.prefix_tokens)
        self.d_model = int(d_model)
        self.linear = nn.Linear(int(config.embedding_dim), self.prefix_tokens * self.d_model)
        nn.init.normal_(self.linear.weight, std=(int(config.embedding_dim)) ** -0.5)
        nn.init.zeros_(self.linear.bias)

    def forward(self, sentence_vectors: torch.Tensor) -> torch.Tensor:
        return self.linear(sentence_vectors).view(-1, self.prefix_tokens, self.d_model)

    def extend(self, token_embeddings: torch.Tensor, attention_mask: torch.Tensor, sentence_vectors: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """Encoder inputs with the prefix in front: (B, P + L, d_model) and the (B, P + L) mask."""
        prefix = self(sentence_vectors.to(token_embeddings.dtype))
        ones = torch.ones(attention_mask.shape[0], self.prefix_tokens, dtype=attention_mask.dtype,
                          device=attention_mask.device)
        return torch.cat([prefix, token_embeddings], dim=1), torch.cat([ones, attention_mask], dim=1)


class SentenceVectors:
    """Frozen sentence-encoder vectors of request texts, in a least-recently-used cache of ``cache_size``
    texts (bounded memory in a long-running node; training raises it to hold every training caption);
    ``None`` gives a zero vector.

    Give a `SentenceEncoder`, or ``load_encoder`` and ``dim``: the encoder is then loaded on the first text
    not already cached (training from prepared data, whose captions come with their vectors, needs none)."""

    def __init__(self, encoder=None, cache_size: int = 4096, *, load_encoder=None, dim: int | None = None):
        if (encoder is None) == (load_encoder is None) or (encoder is None and dim is None):
            raise ValueError("SentenceVectors: give an encoder, or load_encoder with dim")
        self._encoder, self._load_encoder = encoder, load_encoder
        self.cache_size = int(cache_size)
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self.dim = int(dim) if dim is not None else int(encoder.model.config.hidden_size)

    @property
    def loaded(self) -> bool:
        return self._encoder is not None

    @property
    def encoder(self):
        if self._encoder is None:
            self._encoder = self._load_encoder()
            dim = int(self._encoder.model.config.hidden_size)
            if dim != self.dim:
                raise TextConditioningError(f"sentence encoder gives {dim}-d vectors, expected {self.dim}")
        return self._encoder

    def __len__(self) -> int:
        return len(self._cache)

    def clear(self) -> None:
        """Forget every cached vector (the next texts are embedded anew, as a new request is)."""
        self._cache.clear()

    def prefill(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Cache vectors computed elsewhere (by the same encoder) for ``texts``; raises the cache size to
        hold them all."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.shape != (len(texts), self.dim):
            raise TextConditioningError(f"text conditioning: {len(texts)} texts need ({len(texts)}, {self.dim}) "
                                        f"vectors, got {vectors.shape}")
        self.cache_size = max(self.cache_size, len(self._cache) + len(texts))
        self._cache.update(zip(texts, vectors))

    def for_prompts(self, request_texts: Sequence[str | None] | None, count: int) -> torch.Tensor:
        """Vectors (count, E) for ``count`` prompts: their request texts (None: no text, or no list at all)."""
        texts = list(request_texts) if request_texts is not None else [None] * count
        if len(texts) != count:
            raise ValueError(f"text conditioning: {count} prompts but {len(texts)} request texts")
        return self(texts)

    def __call__(self, texts: Sequence[str | None]) -> torch.Tensor:
        missing = list(dict.fromkeys(t for t in texts if t and t not in self._cache))
        found = dict(zip(missing, self.encoder.encode(missing))) if missing else {}
        for text in texts:
            if text and text not in found:
                found[text] = self._cache[text]
                self._cache.move_to_end(text)
        for text in missing:
            self._cache[text] = found[text]
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        zero = np.zeros(self.dim, dtype=np.float32)
        return torch.from_numpy(np.stack([found[t] if t else zero for t in texts]).astype(np.float32))


def load_sentence_vectors(config: TextConditioningConfig, base: Path | None = None,
                          lazy: bool = False) -> SentenceVectors:
    """The encoder of ``config`` behind a vector cache; ``lazy``: loaded only when a text is not cached."""
    from motiongpt.lm.sentence_encoder import SentenceEncoder, resolve_encoder_folder

    def load():
        return SentenceEncoder(resolve_encoder_folder(config.sentence_encoder, base=base))

    if lazy:
        return SentenceVectors(load_encoder=load, dim=int(config.embedding_dim))
    vectors = SentenceVectors(load())
    if vectors.dim != int(config.embedding_dim):
        raise TextConditioningError(f"sentence encoder {config.sentence_encoder!r} gives {vectors.dim}-d vectors, "
                                    f"the projection expects {config.embedding_dim}")
    return vectors


def save_conditioning(folder: Path, config: TextConditioningConfig, projection: PrefixProjection) -> None:
    from safetensors.torch import save_file

    (folder / CONDITIONING_FILE).write_text(json.dumps(asdict(config), indent=1) + "\n")
    save_file({k: v.detach().contiguous().cpu() for k, v in projection.state_dict().items()},
              str(folder / PROJECTION_FILE))


def load_conditioning(folder: Path, d_model: int) -> tuple[TextConditioningConfig, PrefixProjection] | None:
    """The folder's text conditioning, or None when it has none (a plain T5 folder)."""
    path = folder / CONDITIONING_FILE
    if not path.is_file():
        return None
    try:
        config = TextConditioningConfig.from_dict(json.loads(path.read_text()))
    except (json.JSONDecodeError, OSError, TypeError) as error:
        raise TextConditioningError(f"{path}: corrupt text conditioning file: {error}") from error
    weights = folder / PROJECTION_FILE
    if not weights.is_file():
        raise TextConditioningError(f"{folder}: {CONDITIONING_FILE} is there but {PROJECTION_FILE} is missing")
    from safetensors.torch import load_file
    try:
        state = load_file(str(weights))
    except Exception as error:  # safetensors raises several kinds on a corrupt file
        raise TextConditioningError(f"{weights}: cannot read the projection: {error}") from error
    projection = PrefixProjection(config, d_model)
    try:
        projection.load_state_dict(state)
    except RuntimeError as error:
        raise TextConditioningError(f"{weights}: does not match a {config.prefix_tokens} x {d_model} prefix "
                                    f"from {config.embedding_dim}-d vectors: {error}") from error
    return config, projection
