"""The motion-language model: a T5 encoder-decoder over one text+motion vocabulary (Jiang et al., "MotionGPT: Human Motion as a Foreign Language", NeurIPS 2023).

`MotionLanguageModel` couples a Hugging Face T5 (with an untied output layer) and its tokenizer extended by
the motion tokens of `MotionVocabulary`. It can be built from a config (the small model trained here),
loaded from any Hugging Face T5 folder (flan-t5-base, say: the motion tokens are added and the embeddings
resized), or loaded from a folder it saved itself.

transformers 5 forces ``tie_word_embeddings=True`` on every T5Config and ties ``lm_head`` to ``shared``,
which silently breaks checkpoints (flan-t5, the released MotionGPT) whose output layer differs from the
input embeddings. `UntiedT5ForConditionalGeneration` ties only the encoder/decoder input embeddings to
``shared`` and keeps ``lm_head`` a parameter of its own; loading checks that it stayed that way.
"""
from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from transformers import (AutoTokenizer, LogitsProcessor, LogitsProcessorList, StoppingCriteria,
                          StoppingCriteriaList, T5Config, T5ForConditionalGeneration)

from motiongpt.lm.decoding import Guidance, decode_tokens
from motiongpt.lm.text_conditioning import (PrefixProjection, SentenceVectors, TextConditioningConfig,
                                            TextConditioningError, load_conditioning, load_sentence_vectors,
                                            save_conditioning)
from motiongpt.lm.vocabulary import MotionVocabulary

LOGGER = logging.getLogger(__name__)

VOCABULARY_FILE = "motion_vocabulary.json"


class ModelLoadError(ValueError):
    """A model folder or checkpoint is missing, corrupt, or does not match the expected layout."""


class GenerationInterrupted(RuntimeError):
    """Generation stopped because the model's ``interrupt`` check returned True (a newer command, a cancel)."""


class InterruptCheck(StoppingCriteria):
    """Ends ``generate`` after the decoding step in which ``check()`` becomes True."""

    def __init__(self, check):
        self.check = check

    def __call__(self, input_ids, scores, **kwargs):
        return torch.full((input_ids.shape[0],), bool(self.check()), dtype=torch.bool, device=input_ids.device)


def raise_if_interrupted(check) -> None:
    if check is not None and check():
        raise GenerationInterrupted("generation interrupted")


class UntiedT5ForConditionalGeneration(T5ForConditionalGeneration):
    """T5 whose ``lm_head`` is never tied to the input embeddings (only encoder/decoder embeddings are)."""

    _tied_weights_keys = {
        "encoder.embed_tokens.weight": "shared.weight",
        "decoder.embed_tokens.weight": "shared.weight",
    }


def lm_head_is_tied(t5: T5ForConditionalGeneration) -> bool:
    return t5.lm_head.weight.data_ptr() == t5.shared.weight.data_ptr()


@dataclass
class T5ArchitectureConfig:
    """Size of a T5 built from scratch (the shipped small model). Defaults: a small T5 v1.1 (gated GELU)."""

    d_model: int = 256
    d_kv: int = 32
    num_heads: int = 8
    d_ff: int = 768
    num_layers: int = 4
    num_decoder_layers: int = 4
    dropout_rate: float = 0.1
    feed_forward_proj: str = "gated-gelu"
    relative_attention_num_buckets: int = 32
    relative_attention_max_distance: int = 128

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> "T5ArchitectureConfig":
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown T5 architecture keys: {sorted(unknown)} (known: {sorted(known)})")
        return cls(**data)


class MotionConstraintProcessor(LogitsProcessor):
    """Keeps a motion answer well formed while decoding: start token, then codes, then end, then EOS.

    ``min_codes`` / ``max_codes`` bound the number of codes (the end token is forbidden before ``min_codes``
    and forced at ``max_codes``), which is how a requested duration is honoured. Used for tasks whose
    answer is a motion (text-to-motion, prediction, in-between).
    """

    def __init__(self, first_motion_id: int, vocabulary: MotionVocabulary, eos_id: int,
                 min_codes: int = 1, max_codes: int = 50):
        self.first = int(first_motion_id)
        self.vocabulary = vocabulary
        self.eos_id = int(eos_id)
        self.min_codes = max(1, int(min_codes))
        self.max_codes = max(self.min_codes, int(max_codes))

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        generated = [sequence[1:] for sequence in input_ids.tolist()]  # the decoder start token comes first
        allowed = allowed_motion_tokens(generated, self.first, self.vocabulary, self.eos_id, self.min_codes,
                                        self.max_codes, scores.shape[1])
        return scores.masked_fill(~torch.from_numpy(allowed).to(scores.device), float("-inf"))


def allowed_motion_tokens(sequences: Sequence[Sequence[int]], first_motion_id: int, vocabulary: MotionVocabulary,
                          eos_id: int, min_codes: int, max_codes: int, vocab_size: int):
    """(B, V) bool: the tokens each generated sequence may take next to stay a well-formed motion answer
    (start, ``min_codes``..``max_codes`` codes, end, then EOS). Shared by both backends."""
    import numpy as np

    som, eom = first_motion_id + vocabulary.start_index, first_motion_id + vocabulary.end_index
    min_codes = max(1, int(min_codes))
    max_codes = max(min_codes, int(max_codes))
    allowed = np.zeros((len(sequences), vocab_size), dtype=bool)
    for row, generated in enumerate(sequences):
        generated = list(generated)
        if eom in generated:
            allowed[row, eos_id] = True
        elif som not in generated:
            allowed[row, som] = True
        else:
            n_codes = len(generated) - generated.index(som) - 1
            if n_codes < max_codes:
                allowed[row, first_motion_id:first_motion_id + vocabulary.code_num] = True
            if n_codes >= min_codes:
                allowed[row, eom] = True
    return allowed


def motion_answer_limits(max_new_tokens: int, motion_codes: tuple[int, int] | None, first_motion_id: int,
                         vocabulary: MotionVocabulary, eos_id: int):
    """(token budget, allowed-tokens function or None) of `motiongpt.lm.decoding.decode_tokens` for an answer that
    must be a motion of ``motion_codes = (min, max)`` codes (None: any answer): the budget grows to fit the codes,
    start, end and EOS, and the function is `allowed_motion_tokens` for those bounds."""
    if motion_codes is None:
        return int(max_new_tokens), None
    low, high = motion_codes

    def allowed(generated, vocab_size: int):
        return allowed_motion_tokens(generated, first_motion_id, vocabulary, eos_id, low, high, vocab_size)

    return max(int(max_new_tokens), int(high) + 3), allowed


@dataclass
class GenerationSettings:
    """Sampling controls. Motion defaults: top-k 50, temperature 1, as in MotionGPT."""

    do_sample: bool = True
    top_k: int = 50
    temperature: float = 1.0
    max_new_tokens: int = 128
    num_beams: int = 1
    use_cache: bool = True


class ConditionedSeq2Seq(torch.nn.Module):
    """The trainable modules of a model: the T5 and, with text conditioning, the sentence-vector projection.

    ``forward`` takes a tokenised batch and optional ``text_vectors`` (B, E) and returns the T5 output (the
    loss when ``labels`` are given). This is what the trainer optimises and checkpoints."""

    def __init__(self, t5: T5ForConditionalGeneration, projection: PrefixProjection | None = None):
        super().__init__()
        self.t5 = t5
        self.projection = projection

    def encoder_inputs(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                       text_vectors: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        if self.projection is None:
            return {"input_ids": input_ids, "attention_mask": attention_mask}
        if text_vectors is None:
            text_vectors = torch.zeros(input_ids.shape[0], self.projection.linear.in_features,
                                       device=input_ids.device)
        embeds, mask = self.projection.extend(self.t5.get_input_embeddings()(input_ids), attention_mask,
                                              text_vectors.to(input_ids.device))
        return {"inputs_embeds": embeds, "attention_mask": mask}

    def forward(self, input_ids, attention_mask, labels=None, decoder_attention_mask=None, text_vectors=None):
        return self.t5(**self.encoder_inputs(input_ids, attention_mask, text_vectors), labels=labels,
                       decoder_attention_mask=decoder_attention_mask)


class MotionLanguageModel:
    """A T5 and its tokenizer, extended by the motion vocabulary (and optionally text conditioning,
    `motiongpt.lm.text_conditioning`)."""

    def __init__(self, t5: T5ForConditionalGeneration, tokenizer, vocabulary: MotionVocabulary,
                 max_input_length: int = 256, conditioning: TextConditioningConfig | None = None,
                 projection: PrefixProjection | None = None, sentence_vectors: SentenceVectors | None = None):
        self.t5 = t5
        self.tokenizer = tokenizer
        self.vocabulary = vocabulary
        self.max_input_length = int(max_input_length)
        if (conditioning is None) != (projection is None) or (projection is not None and sentence_vectors is None):
            raise ModelLoadError("text conditioning needs its config, its projection and a sentence encoder")
        self.conditioning = conditioning
        self.sentence_vectors = sentence_vectors
        self.network = ConditionedSeq2Seq(t5, projection)
        # a callable returning True when the generation in progress should stop (GenerationInterrupted is raised
        # at the end of the decoding step in which it turns True); set by MotionGPT.set_interrupt
        self.interrupt = None
        self.first_motion_id = check_motion_token_ids(tokenizer, vocabulary)
        if len(tokenizer) > t5.get_input_embeddings().weight.shape[0]:
            raise ModelLoadError(
                f"tokenizer has {len(tokenizer)} tokens but the model embeds only "
                f"{t5.get_input_embeddings().weight.shape[0]}"
            )
        if lm_head_is_tied(t5):
            raise ModelLoadError("lm_head is tied to the input embeddings; it must stay untied")

    # ------------------------------------------------------------------ construction
    @property
    def projection(self) -> PrefixProjection | None:
        return self.network.projection

    def loaded_encoders(self) -> dict:
        """{name: SentenceEncoder} of the sentence encoder this model holds (text conditioning), for sharing."""
        if self.conditioning is None or self.sentence_vectors is None or not self.sentence_vectors.loaded:
            return {}
        return {self.conditioning.sentence_encoder: self.sentence_vectors.encoder}

    @classmethod
    def build(cls, architecture: T5ArchitectureConfig, tokenizer, vocabulary: MotionVocabulary,
              max_input_length: int = 256, seed: int | None = None,
              conditioning: TextConditioningConfig | None = None, lazy_encoder: bool = False
              ) -> "MotionLanguageModel":
        """A randomly initialised T5 over ``tokenizer`` (motion tokens are added if missing), with a new
        sentence-vector projection when ``conditioning`` is given (``lazy_encoder``: the sentence encoder is
        loaded only for a text whose vector is not cached, see `SentenceVectors.prefill`)."""
        add_motion_tokens(tokenizer, vocabulary)
        config = T5Config(
            vocab_size=len(tokenizer),
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
            decoder_start_token_id=tokenizer.pad_token_id,
            tie_word_embeddings=False,
            **asdict(architecture),
        )
        if seed is not None:
            torch.manual_seed(seed)
        t5 = UntiedT5ForConditionalGeneration(config)
        with torch.no_grad():
            # T5's own init draws lm_head with std 1, which (without output scaling) starts training at a
            # loss of ~50; std d_model**-0.5 gives unit-scale logits (loss ~ log(vocabulary size)).
            t5.lm_head.weight.normal_(0.0, config.d_model ** -0.5)
        if conditioning is None:
            return cls(t5, tokenizer, vocabulary, max_input_length)
        try:
            vectors = load_sentence_vectors(conditioning, lazy=lazy_encoder)
        except (TextConditioningError, ValueError) as error:
            raise ModelLoadError(f"text conditioning: {error}") from error
        return cls(t5, tokenizer, vocabulary, max_input_length, conditioning,
                   PrefixProjection(conditioning, config.d_model), vectors)

    @classmethod
    def from_pretrained(cls, folder: str | Path, code_num: int | None = None,
                        max_input_length: int = 256, lazy_encoder: bool = False) -> "MotionLanguageModel":
        """Load a folder written by `save_pretrained`, or any Hugging Face T5 folder (model + tokenizer).

        For a plain T5 folder (flan-t5-base, for instance) the motion tokens are added to the tokenizer
        (``code_num`` codes, 512 by default) and the embeddings and ``lm_head`` are resized.
        """
        folder = Path(folder)
        if not folder.is_dir():
            raise ModelLoadError(f"language model folder not found: {folder}")
        if not (folder / "config.json").is_file():
            raise ModelLoadError(f"{folder}: no config.json (not a Hugging Face T5 folder)")
        saved_code_num = read_code_num(folder)
        if code_num is not None and saved_code_num is not None and code_num != saved_code_num:
            raise ModelLoadError(f"{folder}: saved for {saved_code_num} codes, asked for {code_num}")
        vocabulary = MotionVocabulary(saved_code_num or code_num or 512)
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(folder), legacy=True)
        except Exception as error:  # transformers raises many kinds here
            raise ModelLoadError(f"{folder}: cannot load the tokenizer: {error}") from error
        add_motion_tokens(tokenizer, vocabulary)
        try:
            t5 = UntiedT5ForConditionalGeneration.from_pretrained(str(folder))
        except Exception as error:
            raise ModelLoadError(f"{folder}: cannot load the T5 weights: {error}") from error
        if t5.get_input_embeddings().weight.shape[0] < len(tokenizer):
            t5.resize_token_embeddings(len(tokenizer))
        t5.eval()
        try:
            loaded = load_conditioning(folder, t5.config.d_model)
            if loaded is None:
                return cls(t5, tokenizer, vocabulary, max_input_length)
            conditioning, projection = loaded
            vectors = load_sentence_vectors(conditioning, base=folder, lazy=lazy_encoder)
        except (TextConditioningError, ValueError) as error:
            raise ModelLoadError(f"{folder}: text conditioning: {error}") from error
        projection.eval()
        return cls(t5, tokenizer, vocabulary, max_input_length, conditioning, projection, vectors)

    def save_pretrained(self, folder: str | Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.t5.save_pretrained(str(folder))
        self.tokenizer.save_pretrained(str(folder))
        (folder / VOCABULARY_FILE).write_text(json.dumps({"code_num": self.vocabulary.code_num}) + "\n")
        if self.conditioning is not None:
            save_conditioning(folder, self.conditioning, self.projection)
        return folder

    # ------------------------------------------------------------------ use
    @property
    def device(self) -> torch.device:
        return next(self.t5.parameters()).device

    def tokenize(self, texts: Sequence[str], max_length: int | None = None) -> dict[str, torch.Tensor]:
        batch = self.tokenizer(
            list(texts), padding=True, truncation=True, max_length=max_length or self.max_input_length,
            return_tensors="pt",
        )
        return {k: v.to(self.device) for k, v in batch.items() if k in ("input_ids", "attention_mask")}

    def text_vectors(self, request_texts: Sequence[str | None] | None, count: int) -> torch.Tensor | None:
        """Sentence vectors of the request texts of ``count`` prompts (None without text conditioning)."""
        if self.sentence_vectors is None:
            return None
        return self.sentence_vectors.for_prompts(request_texts, count).to(self.device)

    def encoder_inputs(self, inputs: Sequence[str], request_texts: Sequence[str | None] | None = None
                       ) -> dict[str, torch.Tensor]:
        """Keyword arguments for the T5 encoder: token ids, or embeddings with the sentence-vector prefix.

        ``request_texts``: per prompt, the request it carries (the caption of a text-to-motion prompt) or
        None; only used with text conditioning."""
        encoded = self.tokenize(inputs)
        return self.network.encoder_inputs(encoded["input_ids"], encoded["attention_mask"],
                                           self.text_vectors(request_texts, len(inputs)))

    def loss(self, inputs: Sequence[str], targets: Sequence[str],
             request_texts: Sequence[str | None] | None = None) -> torch.Tensor:
        """Token-level cross-entropy of ``targets`` given ``inputs``; pads are ignored."""
        labels = self.tokenize(targets)
        label_ids = labels["input_ids"].masked_fill(labels["attention_mask"] == 0, -100)
        output = self.t5(**self.encoder_inputs(inputs, request_texts), labels=label_ids,
                         decoder_attention_mask=labels["attention_mask"])
        return output.loss

    def logits(self, inputs: Sequence[str], targets: Sequence[str],
               request_texts: Sequence[str | None] | None = None) -> torch.Tensor:
        labels = self.tokenize(targets)
        output = self.t5(**self.encoder_inputs(inputs, request_texts), labels=labels["input_ids"])
        return output.logits

    @torch.no_grad()
    def target_log_likelihood(self, inputs: Sequence[str], targets: Sequence[str],
                              request_texts: Sequence[str | None] | None = None) -> torch.Tensor:
        """Summed log-probability of each target given its input, shape (N,); pads are ignored."""
        if len(inputs) != len(targets):
            raise ValueError(f"log-likelihood: {len(inputs)} inputs but {len(targets)} targets")
        labels = self.tokenize(targets)
        label_ids = labels["input_ids"].masked_fill(labels["attention_mask"] == 0, -100)
        self.network.eval()
        logits = self.t5(**self.encoder_inputs(inputs, request_texts), labels=label_ids,
                         decoder_attention_mask=labels["attention_mask"]).logits
        log_probs = torch.log_softmax(logits.float(), dim=-1)
        picked = log_probs.gather(-1, label_ids.clamp(min=0).unsqueeze(-1)).squeeze(-1)
        return (picked * (label_ids != -100)).sum(dim=1)

    @torch.no_grad()
    def generate(self, prompts: Sequence[str], settings: GenerationSettings | None = None,
                 motion_codes: tuple[int, int] | None = None, seed: int | None = None,
                 request_texts: Sequence[str | None] | None = None) -> list[str]:
        """Generate one answer per prompt (batched), as text. ``motion_codes=(min, max)`` constrains the answer
        to a well-formed motion with that many codes (see `MotionConstraintProcessor`)."""
        if not prompts:
            return []
        ids = self.generate_ids(prompts, settings, motion_codes, seed, request_texts)
        return self.tokenizer.batch_decode(ids.tolist(), skip_special_tokens=True)

    def generate_ids(self, prompts: Sequence[str], settings: GenerationSettings | None = None,
                     motion_codes: tuple[int, int] | None = None, seed: int | None = None,
                     request_texts: Sequence[str | None] | None = None,
                     guidance: Guidance | None = None) -> np.ndarray:
        """Token ids (B, 1 + n) of one answer per prompt, starting with the decoder start token, finished rows
        padded (as Hugging Face generate returns them). ``guidance``: classifier-free guidance (`Guidance`)."""
        settings = settings or GenerationSettings()
        if not prompts:
            return np.zeros((0, 1), dtype=np.int64)
        raise_if_interrupted(self.interrupt)
        if seed is not None:
            torch.manual_seed(int(seed))
        if guidance is not None:
            return self._guided_generate_ids(prompts, settings, motion_codes, seed, request_texts, guidance)
        encoded = self.encoder_inputs(prompts, request_texts)
        processors = LogitsProcessorList()
        max_new_tokens, _ = motion_answer_limits(settings.max_new_tokens, motion_codes, self.first_motion_id,
                                                 self.vocabulary, self.tokenizer.eos_token_id)
        if motion_codes is not None:
            low, high = motion_codes
            processors.append(MotionConstraintProcessor(
                self.first_motion_id, self.vocabulary, self.tokenizer.eos_token_id, low, high))
        kwargs: dict[str, Any] = dict(
            max_new_tokens=max_new_tokens, num_beams=settings.num_beams, do_sample=settings.do_sample,
            use_cache=settings.use_cache, logits_processor=processors,
            pad_token_id=self.tokenizer.pad_token_id, eos_token_id=self.tokenizer.eos_token_id,
            decoder_start_token_id=self.t5.config.decoder_start_token_id,
        )
        if settings.do_sample:
            kwargs.update(top_k=int(settings.top_k), temperature=float(settings.temperature))
        else:
            kwargs.update(top_k=None, temperature=None, top_p=None)
        if self.interrupt is not None:
            kwargs["stopping_criteria"] = StoppingCriteriaList([InterruptCheck(self.interrupt)])
        self.network.eval()
        output = self.t5.generate(**encoded, **kwargs)
        raise_if_interrupted(self.interrupt)
        return output.cpu().numpy()

    @torch.no_grad()
    def _guided_generate_ids(self, prompts: Sequence[str], settings: GenerationSettings,
                             motion_codes: tuple[int, int] | None, seed: int | None,
                             request_texts: Sequence[str | None] | None, guidance: Guidance) -> np.ndarray:
        """`generate_ids` with classifier-free guidance, in the decoding loop the ONNX Runtime backend runs
        (`motiongpt.lm.decoding.decode_tokens`): the prompts and their unconditional rows go through the T5 as
        one batch of 2B, one encoder pass, then one decoder step per token with the key/value cache."""
        if settings.num_beams != 1:
            raise ValueError("guidance decodes with num_beams=1 only")
        self.network.eval()
        encoded = self.encoder_inputs(*guidance.rows(prompts, request_texts))
        encoder_outputs = self.t5.get_encoder()(**encoded)
        cache = [None]

        def step(tokens: np.ndarray) -> np.ndarray:
            output = self.t5(encoder_outputs=encoder_outputs, attention_mask=encoded["attention_mask"],
                             decoder_input_ids=torch.from_numpy(tokens[:, None]).to(self.device),
                             past_key_values=cache[0], use_cache=True)
            cache[0] = output.past_key_values
            return output.logits[:, -1].float().cpu().numpy()

        eos = self.tokenizer.eos_token_id
        max_new, allowed = motion_answer_limits(settings.max_new_tokens, motion_codes, self.first_motion_id,
                                                self.vocabulary, eos)
        ids = decode_tokens(step, len(prompts), self.t5.config.decoder_start_token_id, self.tokenizer.pad_token_id,
                            eos, max_new, settings.do_sample, float(settings.temperature), int(settings.top_k), seed,
                            allowed, guidance.scale, lambda: raise_if_interrupted(self.interrupt))
        raise_if_interrupted(self.interrupt)
        return ids


def add_motion_tokens(tokenizer, vocabulary: MotionVocabulary) -> int:
    """Add the motion tokens (as ordinary added tokens) unless present; returns how many were added."""
    missing = [t for t in vocabulary.tokens() if tokenizer.convert_tokens_to_ids(t) in (None, tokenizer.unk_token_id)]
    if not missing:
        return 0
    if len(missing) != vocabulary.size:
        raise ModelLoadError(
            f"tokenizer holds only some motion tokens ({vocabulary.size - len(missing)} of {vocabulary.size})"
        )
    return tokenizer.add_tokens(vocabulary.tokens())


def check_motion_token_ids(tokenizer, vocabulary: MotionVocabulary) -> int:
    """The motion tokens must have consecutive ids; returns the id of ``<motion_id_0>``."""
    ids = tokenizer.convert_tokens_to_ids(vocabulary.tokens())
    first = ids[0]
    if first is None or first == tokenizer.unk_token_id or ids != list(range(first, first + vocabulary.size)):
        raise ModelLoadError("the tokenizer's motion tokens are missing or not consecutive")
    return int(first)


def read_code_num(folder: Path) -> int | None:
    path = folder / VOCABULARY_FILE
    if not path.is_file():
        return None
    try:
        return int(json.loads(path.read_text())["code_num"])
    except (ValueError, KeyError, TypeError, json.JSONDecodeError) as error:
        raise ModelLoadError(f"{path}: corrupt motion vocabulary file: {error}") from error
