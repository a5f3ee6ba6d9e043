"""How text-to-motion turns one request into several candidate motions and keeps the best.

A model trained on a few hundred captions reads a phrasing it has never seen ("someone goes forward on
foot") poorly, while the same request in a phrasing it knows ("a person walks forward.") works. With
grounding, a request is answered from several prompts: the request itself and the ``neighbours`` training
captions nearest to it in meaning (a pretrained sentence encoder, `motiongpt.lm.sentence_encoder`, over the
captions the model was trained on, shipped in the model folder). ``candidates`` motions are sampled per
prompt, and the one to keep is chosen by reading each candidate back (``rerank``):

- ``likelihood``: the model's own motion-to-text task scores each candidate by how likely it finds the
  request and its neighbour captions for that motion (mean over those texts of log p(text | motion) per
  token). The neighbours are phrasings the model was trained on, so it reads them reliably, left and right
  included.
- ``similarity``: the model captions each candidate (greedy motion-to-text) and the caption closest in
  meaning to the request (sentence encoder) wins. Needs the sentence encoder.
- ``meaning``: the model captions each candidate, and the one whose caption is closest to the training
  captions of the request's meaning (its action by the folder's meaning index,
  `motiongpt.lm.command_meaning`) wins: a candidate is judged by which action its caption names, not by
  how it is worded. Needs the folder's ``meaning_index.npz``.

With ``rephrase: meaning``, the request is first said in the model's own words: the training caption of the
request's meaning nearest to it (`motiongpt.lm.command_meaning.MeaningIndex.rephrase`; needs the folder's
``meaning_index.npz``), and that caption is the prompt. A small model reads its training captions far better
than a phrasing it has never seen, while the sentence encoder and the meaning classifier read the phrasing
well; the caption is chosen among those naming the speed, side and style the request names
(`motiongpt.lm.command_meaning.MeaningIndex.rephrase`).

With ``speed_factors`` (needs ``rephrase: meaning``), a request that names a speed ("slowly", "take your time",
"hurry up": `motiongpt.lm.request_timing`) is rephrased without its speed words (as a caption that names no
speed), generated at that plain pace and played ``speed_factors[speed]`` times as fast
(`motiongpt.features.retime_features`; for a fixed length, generated that many times as long first). That is how
the training data's speed words were made (the Bandai takes resampled 0.7 and 1.4 times as fast), so the motion
gets the speed the request names even where the model learned the words unevenly (from the words alone, "walk
backwards quickly" was no faster than "walk backwards").

Each candidate can be sampled with classifier-free guidance (``guidance`` > 1, `motiongpt.lm.decoding.Guidance`):
at every step the next-token log-probabilities of the prompt are pushed away from those of the same prompt
without its caption, which sharpens what the words add (their action and style) over what any motion would do.

The settings live in the model folder's ``motiongpt.yaml`` under ``text_to_motion`` (see
`TextToMotionSettings`); a folder without them samples one motion from the request, as the reference does.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from motiongpt.config_files import build_dataclass
from motiongpt.lm.sentence_encoder import SentenceEncoder, resolve_encoder_folder

MAX_CANDIDATES = 64
SPEED_FACTOR_RANGES = {"slow": (0.25, 1.0), "fast": (1.0, 4.0)}  # a played speed, times the generated one
# a speed said with an intensifier ("very slowly") or a softener ("a bit faster"): its factor to this power
# (slow 0.7: 0.59 / 0.84; fast 1.4: 1.66 / 1.18). Not learnt: the data names one degree of each speed.
DEGREE_EXPONENTS = {"more": 1.5, "less": 0.5}
MAX_GUIDANCE = 10.0
RERANKERS = ("likelihood", "similarity", "meaning")
REPHRASINGS = ("none", "meaning")


class GroundingConfigError(ValueError):
    """The ``text_to_motion`` settings of a model folder are invalid."""


@dataclass
class TextToMotionSettings:
    candidates: int = 1                 # motions sampled per prompt
    neighbours: int = 0                 # nearest training captions used as extra prompts (needs the two below)
    sentence_encoder: str | None = None  # "all-MiniLM-L6-v2" (packaged) or a folder, relative to the model folder
    captions: str | None = None         # caption file in the model folder, one per line
    rerank: str = "likelihood"          # "likelihood", "similarity" or "meaning" (see the module docstring)
    temperature: float | None = None    # sampling temperature of text-to-motion (None: the model's sampling default, 1)
    guidance: float = 1.0               # classifier-free guidance scale (1: none; `motiongpt.lm.decoding.Guidance`)
    rephrase: str = "none"              # "meaning": generate from the request said in training words (see above)
    speed_factors: dict[str, float] | None = None  # {"slow": 0.7, "fast": 1.4}: speeds played (see above)

    def __post_init__(self) -> None:
        for name in ("candidates", "neighbours"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise GroundingConfigError(f"text_to_motion.{name} must be an integer, got {value!r}")
        if not 1 <= self.candidates <= MAX_CANDIDATES:
            raise GroundingConfigError(f"text_to_motion.candidates must be in 1..{MAX_CANDIDATES}, "
                                       f"got {self.candidates}")
        if self.neighbours < 0:
            raise GroundingConfigError(f"text_to_motion.neighbours must be >= 0, got {self.neighbours}")
        if self.temperature is not None and (isinstance(self.temperature, bool)
                                             or not isinstance(self.temperature, (int, float))
                                             or not self.temperature > 0):
            raise GroundingConfigError(f"text_to_motion.temperature must be a number > 0, got {self.temperature!r}")
        if isinstance(self.guidance, bool) or not isinstance(self.guidance, (int, float)) \
                or not 1 <= self.guidance <= MAX_GUIDANCE:
            raise GroundingConfigError(f"text_to_motion.guidance must be a number in 1..{MAX_GUIDANCE} (1: no "
                                       f"guidance), got {self.guidance!r}")
        if self.rerank not in RERANKERS:
            raise GroundingConfigError(f"text_to_motion.rerank must be one of {RERANKERS}, got {self.rerank!r}")
        if self.rephrase not in REPHRASINGS:
            raise GroundingConfigError(f"text_to_motion.rephrase must be one of {REPHRASINGS}, got {self.rephrase!r}")
        if self.speed_factors is not None:
            self._check_speed_factors()
        if self.rerank == "similarity" and not self.sentence_encoder:
            raise GroundingConfigError("text_to_motion.rerank 'similarity' needs a 'sentence_encoder'")
        if self.neighbours and not (self.sentence_encoder and self.captions):
            raise GroundingConfigError("text_to_motion.neighbours needs both 'sentence_encoder' and 'captions'")

    def _check_speed_factors(self) -> None:
        factors = self.speed_factors
        if not isinstance(factors, dict) or not factors or not set(factors) <= set(SPEED_FACTOR_RANGES):
            raise GroundingConfigError(f"text_to_motion.speed_factors must map some of {tuple(SPEED_FACTOR_RANGES)} "
                                       f"to a factor, got {factors!r}")
        for name, factor in factors.items():
            low, high = SPEED_FACTOR_RANGES[name]
            if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not low <= factor <= high:
                raise GroundingConfigError(f"text_to_motion.speed_factors.{name} must be a number in {low}..{high}, "
                                           f"got {factor!r}")
        if self.rephrase != "meaning":
            raise GroundingConfigError("text_to_motion.speed_factors needs rephrase 'meaning' (the request's own "
                                       "speed words would reach the model too)")

    def played_speed(self, speed: str | None, factor: float | None = None, degree: str | None = None) -> float:
        """How many times as fast a motion whose request names ``speed`` ("slow", "fast" or None,
        `motiongpt.lm.request_timing`) is played: the ``factor`` the request says ("2x speed"), or else the speed's
        factor in ``speed_factors``, to the power DEGREE_EXPONENTS[``degree``] when the request says how much ("very
        slowly": "more", "a bit faster": "less"), within SPEED_FACTOR_RANGES; 1 (as generated) for a speed the
        folder does not play."""
        if not speed or speed not in (self.speed_factors or {}):
            return 1.0
        if factor is None:
            factor = float(self.speed_factors[speed]) ** DEGREE_EXPONENTS.get(degree, 1.0)
        low, high = SPEED_FACTOR_RANGES[speed]
        return float(min(max(factor, low), high))

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> "TextToMotionSettings":
        return build_dataclass(cls, {} if data is None else data, "text_to_motion", GroundingConfigError)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    def motions_per_request(self, greedy: bool = False) -> int:
        """Motions sampled for one text: ``candidates`` (one when greedy) for the text and each neighbour."""
        return (1 if greedy else self.candidates) * (1 + self.neighbours)


def read_caption_file(path: Path) -> list[str]:
    if not path.is_file():
        raise GroundingConfigError(f"caption file not found: {path}")
    captions = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not captions:
        raise GroundingConfigError(f"{path}: no captions")
    return captions


def write_caption_file(path: Path, captions: Sequence[str]) -> Path:
    unique = sorted({c.strip() for c in captions if c.strip()})
    if not unique:
        raise GroundingConfigError("no captions to write")
    path.write_text("\n".join(unique) + "\n", encoding="utf-8")
    return path


class CaptionGrounding:
    """Nearest captions to a request, and similarity of captions to a request, by sentence embeddings.

    Embeddings are cached by sentence (the model's back-captions are mostly its training captions, and a
    request is embedded once for its neighbours and once for the ranking): up to ``cache_size`` sentences."""

    def __init__(self, encoder: SentenceEncoder, captions: Sequence[str], cache_size: int = 4096,
                 embeddings: np.ndarray | None = None):
        """``embeddings``: the captions' unit vectors by the same encoder, when already computed (the meaning
        index); else they are embedded here."""
        self.encoder = encoder
        self.captions = list(captions)
        self.cache_size = int(cache_size)
        self._cache: dict[str, np.ndarray] = {}
        if embeddings is not None and len(embeddings) != len(self.captions):
            raise GroundingConfigError(f"{len(embeddings)} caption vectors for {len(self.captions)} captions")
        if embeddings is not None:
            self.embeddings = np.asarray(embeddings, dtype=np.float32) if self.captions else None
        else:
            self.embeddings = self.encode(self.captions) if self.captions else None

    def encode(self, sentences: Sequence[str]) -> np.ndarray:
        """Unit sentence vectors (N, D), from the cache where possible."""
        sentences = [str(s) for s in sentences]
        missing = list(dict.fromkeys(s for s in sentences if s not in self._cache))
        if missing:
            if len(self._cache) + len(missing) > self.cache_size:
                self._cache.clear()
            self._cache.update(zip(missing, self.encoder.encode(missing)))
        if not sentences:
            return self.encoder.encode([])
        return np.stack([self._cache[s] for s in sentences])

    @classmethod
    def build(cls, settings: TextToMotionSettings, captions: Sequence[str], base: Path | None = None,
              loaded: dict[str, SentenceEncoder] | None = None,
              embeddings: np.ndarray | None = None) -> "CaptionGrounding | None":
        """The grounding the settings ask for (None without a sentence encoder), over ``captions``.
        ``loaded``: encoders already in memory by name (the language model's own), used instead of a second copy."""
        if not settings.sentence_encoder:
            return None
        encoder = (loaded or {}).get(settings.sentence_encoder)
        if encoder is None:
            encoder = SentenceEncoder(resolve_encoder_folder(settings.sentence_encoder, base=base))
        if not settings.captions:
            return cls(encoder, [])
        return cls(encoder, captions, embeddings=embeddings)

    @classmethod
    def from_settings(cls, settings: TextToMotionSettings, model_folder: Path,
                      loaded: dict[str, SentenceEncoder] | None = None) -> "CaptionGrounding | None":
        """The grounding of a model folder: its caption file (one caption per line), or its meaning index
        (``.npz``: captions with their vectors, nothing embedded at load), and an encoder folder relative to it."""
        embeddings = None
        if settings.captions and str(settings.captions).endswith(".npz"):
            from motiongpt.lm.command_meaning import MeaningIndex, MeaningIndexError

            try:
                index = MeaningIndex.load(model_folder / settings.captions)
            except MeaningIndexError as error:
                raise GroundingConfigError(str(error)) from error
            if index is None or not index.captions:
                raise GroundingConfigError(f"{model_folder / settings.captions}: not a meaning index with captions")
            if index.encoder != settings.sentence_encoder:
                raise GroundingConfigError(f"{settings.captions} was embedded by {index.encoder!r}, the grounding "
                                           f"uses {settings.sentence_encoder!r}")
            captions, embeddings = list(index.captions), index.vectors
        else:
            captions = read_caption_file(model_folder / settings.captions) if settings.captions else []
        return cls.build(settings, captions, base=model_folder, loaded=loaded, embeddings=embeddings)

    def nearest(self, texts: Sequence[str], count: int) -> list[list[str]]:
        """For each text, the ``count`` most similar captions other than the text itself."""
        if count <= 0 or self.embeddings is None:
            return [[] for _ in texts]
        queries = self.encode(texts)
        result = []
        for text, query in zip(texts, queries):
            order = np.argsort(-(self.embeddings @ query), kind="stable")
            same = text.strip().lower()
            result.append([self.captions[i] for i in order if self.captions[i].lower() != same][:count])
        return result

    def similarity(self, text: str, others: Sequence[str]) -> np.ndarray:
        """Cosine similarity of each of ``others`` to ``text``."""
        vectors = self.encode([text, *others])
        return vectors[1:] @ vectors[0]
