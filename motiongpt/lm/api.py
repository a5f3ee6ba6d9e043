"""The Python API: one object that turns words into motion and motion into words.

    from motiongpt.lm import MotionGPT
    model = MotionGPT.from_pretrained("models/motiongpt-small")
    walk = model.text_to_motion("a person walks forward", seconds=3, seed=0)   # walk.joints: (60, 22, 3)
    caption = model.motion_to_text(walk.joints)
    longer = model.predict(walk.joints, seconds=2)
    bridge = model.inbetween(walk.joints, other.joints, seconds=1)
    plan = model.command("walk forward, then turn left, then wave")

Every motion result carries ``joints`` (T, 22, 3) at 20 fps (metres, Y up), ``features`` (T, 263) and the
``codes`` it was decoded from. A model folder holds ``motiongpt.yaml`` naming the language model folder
and the motion tokenizer folder (relative paths).
"""
from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import yaml

from motiongpt.lm.commands import as_caption, split_command
from motiongpt.lm.decoding import Guidance
from motiongpt.lm.model import GenerationSettings, MotionLanguageModel, ModelLoadError
from motiongpt.lm.request_timing import read_timing
from motiongpt.lm.sentence_encoder import SentenceEncoderError
from motiongpt.lm.text_grounding import (CaptionGrounding, GroundingConfigError, TextToMotionSettings,
                                         write_caption_file)
from motiongpt.lm.templates import (
    CAPTION,
    FRAMES,
    FRAMES_PER_CODE,
    INBETWEEN_PROMPT,
    M2T_PROMPT,
    MOTION,
    MOTION_HEAD,
    MOTION_MASKED,
    PREDICT_PROMPT,
    T2M_PROMPT,
    T2M_PROMPT_FRAMES,
)
from motiongpt.lm.vocabulary import MOTION_TOKEN_PATTERN, NoMotionError, codes_from_ids
from motiongpt.features import facing_yaw
from motiongpt.skeleton import FPS

LOGGER = logging.getLogger(__name__)

MANIFEST_FILE = "motiongpt.yaml"
BACKENDS = ("torch", "onnxruntime")


def read_manifest(folder: str | Path) -> tuple[dict, Path, Path]:
    """A model folder's manifest (``motiongpt.yaml``) and the language model and motion tokenizer folders it names;
    a ModelLoadError when it has none or they are not named."""
    folder = Path(folder)
    manifest_path = folder / MANIFEST_FILE
    if not manifest_path.is_file():
        raise ModelLoadError(f"{folder}: not a MotionGPT model folder ({MANIFEST_FILE} missing)")
    try:
        manifest = yaml.safe_load(manifest_path.read_text()) or {}
        return manifest, folder / str(manifest["language_model"]), folder / str(manifest["motion_tokenizer"])
    except (yaml.YAMLError, KeyError, TypeError) as error:
        raise ModelLoadError(f"{manifest_path}: needs 'language_model' and 'motion_tokenizer' entries "
                             f"({error})") from error


def language_model_parts(folder: str | Path) -> tuple[Path, Path | None]:
    """The language model folder of ``folder`` and its motion tokenizer folder: those its manifest names for a model
    folder, or ``folder`` itself and None for a bare language model folder (a Hugging Face T5 folder)."""
    if (Path(folder) / MANIFEST_FILE).is_file():
        _, lm_folder, tokenizer_folder = read_manifest(folder)
        return lm_folder, tokenizer_folder
    return Path(folder), None


def resolve_backend(folder: str | Path, backend: str = "auto") -> str:
    """"auto": onnxruntime when the folder has an ONNX export (``onnx/``) and onnxruntime is installed (it
    decodes several times faster than eager torch on CPU, see the model card), else torch."""
    if backend == "auto":
        import importlib.util

        if importlib.util.find_spec("onnxruntime") is None:
            return "torch"
        from motiongpt.lm.onnx_runtime import find_onnx_folder
        return "onnxruntime" if find_onnx_folder(folder) is not None else "torch"
    if backend not in BACKENDS:
        raise ValueError(f"backend must be auto or one of {BACKENDS}, got {backend!r}")
    return backend
MAX_COMMAND_STEPS = 8  # steps of one multi-step command (each generated and joined): bounds the work per message


@dataclass
class MotionResult:
    """A generated motion. ``segment`` = (first, end) frames of the newly generated part."""

    joints: np.ndarray          # (T, 22, 3)
    features: np.ndarray        # (T, 263), un-normalised
    codes: np.ndarray           # (L,) with T = 4 L, unless a step naming a speed was played at it (speed_factors)
    prompt: str = ""
    response: str = ""
    segment: tuple[int, int] = (0, 0)
    steps: list[tuple[str, int, int]] = field(default_factory=list)  # multi-step: (step text, first, end)

    @property
    def seconds(self) -> float:
        return self.joints.shape[0] / FPS


def seconds_to_codes(seconds: float, what: str = "seconds") -> int:
    value = float(seconds)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{what} must be a positive number, got {seconds!r}")
    return max(1, int(round(value * FPS / FRAMES_PER_CODE)))


def rigid_placement(motion: np.ndarray, source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Rotate ``motion`` about +Y and shift it in the ground plane so that pose ``source`` lands on
    ``target`` (root position on the ground plane, heading); heights are kept."""
    angle = facing_yaw(target) - facing_yaw(source)
    cos, sin = np.cos(angle), np.sin(angle)
    rotation = np.array([[cos, 0.0, sin], [0.0, 1.0, 0.0], [-sin, 0.0, cos]])
    pivot = np.array([source[0, 0], 0.0, source[0, 2]])
    placed = (motion - pivot) @ rotation.T
    placed[..., 0] += target[0, 0]
    placed[..., 2] += target[0, 2]
    return placed


def join_mismatch(decoded: np.ndarray, before: np.ndarray, after: np.ndarray, start: int, stop: int) -> float:
    """How badly a decoded in-between fits the given motions (joints (T, 22, 3), one frame): at each join, the
    mean per-joint distance (m) between the decoded and the given pose, plus the mean per-joint difference of
    their velocities (m/s, i.e. the distance they drift apart in one second). ``before`` ends at frame
    ``start`` and ``after`` starts at frame ``stop`` of ``decoded``.

    Velocities count because the in-between is corrected by the offsets at the joins: a gap that arrives at
    the right pose moving the wrong way still jumps at the join. On the val split (8 candidates per window)
    choosing by positions and velocities gave in-between ADE/FDE 0.833/0.150 m against 0.903/0.183 by
    positions alone (linear interpolation: 0.922/0.158)."""
    def velocity(motion, frame):
        return (motion[frame + 1] - motion[frame]) * FPS

    positions = (np.linalg.norm(before[start - 1] - decoded[start - 1], axis=1).mean()
                 + np.linalg.norm(after[0] - decoded[stop], axis=1).mean())
    if start < 2 or len(after) < 2:
        return float(positions)
    velocities = (np.linalg.norm(velocity(before, start - 2) - velocity(decoded, start - 2), axis=1).mean()
                  + np.linalg.norm(velocity(after, 0) - velocity(decoded, stop), axis=1).mean())
    return float(positions + velocities)


class MotionGPT:
    """Text-to-motion, motion-to-text, prediction, in-between and multi-step commands on one model."""

    def __init__(self, language_model: MotionLanguageModel, motion_tokenizer, max_codes: int = 50,
                 sampling: GenerationSettings | None = None,
                 text_to_motion: TextToMotionSettings | None = None, grounding: CaptionGrounding | None = None):
        if motion_tokenizer.config.code_num != language_model.vocabulary.code_num:
            raise ModelLoadError(
                f"motion tokenizer has {motion_tokenizer.config.code_num} codes but the language model's "
                f"vocabulary has {language_model.vocabulary.code_num}"
            )
        if motion_tokenizer.normalizer is None:
            raise ModelLoadError("the motion tokenizer has no normalizer (mean/std)")
        self.language_model = language_model
        self.motion_tokenizer = motion_tokenizer.eval()
        self.max_codes = int(max_codes)
        self.sampling = sampling or GenerationSettings()
        self.grounding = grounding
        self.meaning_index = None  # motiongpt.lm.command_meaning.MeaningIndex, read by from_pretrained
        self.set_text_to_motion(text_to_motion or TextToMotionSettings())

    def meanings(self, texts: list[str], as_said: bool = False):
        """The known action each text asks for and whether the model knows the request at all
        (`motiongpt.lm.command_meaning`), read from what its motion is generated from (the text without the words
        that name its length, and its speed where played: "kick for 40 frames" is read as "kick"), or from the text
        as said (``as_said``); None when the model folder has no meaning index."""
        if self.meaning_index is None:
            return None
        texts = [str(t) if as_said else self._generation_of(str(t))[0] for t in texts]
        vectors = self._meaning_vectors(texts).numpy()
        return self.meaning_index.match(texts, vectors, self._action_vectors(texts, vectors))

    def load_meaning_index(self, folder: str | Path) -> None:
        """Read ``folder``'s meaning index, if it has one (a ModelLoadError when the text-to-motion settings need
        one and it has none), with the sentence encoder that made it. When that is
        the text conditioning's encoder, its vectors come through the conditioning's cache: a command's steps,
        embedded to find their meaning, are then not embedded again to generate them."""
        from motiongpt.lm.command_meaning import INDEX_FILE, MeaningIndex, MeaningIndexError
        from motiongpt.lm.sentence_encoder import SentenceEncoder, resolve_encoder_folder
        from motiongpt.lm.text_conditioning import SentenceVectors

        try:
            index = MeaningIndex.load(folder)
            if index is None:
                settings = self.text_to_motion_settings
                for name, value in (("rerank", settings.rerank), ("rephrase", settings.rephrase)):
                    if value == "meaning":
                        raise ModelLoadError(f"{folder}: text_to_motion.{name} 'meaning' needs "
                                             f"{Path(folder) / INDEX_FILE} (motiongpt export meaning-index)")
                return
            if self.text_to_motion_settings.rephrase == "meaning" and not index.captions:
                raise MeaningIndexError(f"{folder}: text_to_motion.rephrase 'meaning' needs a meaning index with its "
                                        "caption texts (motiongpt export meaning-index)")
            if index.encoder in self.language_model.loaded_encoders():
                vectors = self.language_model.sentence_vectors
            else:
                vectors = SentenceVectors(SentenceEncoder(resolve_encoder_folder(index.encoder, base=Path(folder))))
            if vectors.dim != index.vectors.shape[1]:
                raise MeaningIndexError(f"{folder}: meaning index vectors of size {index.vectors.shape[1]}, "
                                        f"its encoder {index.encoder!r} gives {vectors.dim}")
        except (MeaningIndexError, SentenceEncoderError) as error:
            raise ModelLoadError(str(error)) from error
        self.meaning_index, self._meaning_vectors = index, vectors

    def set_interrupt(self, check) -> None:
        """``check()`` -> True stops the generation in progress at the next decoding step with
        `motiongpt.lm.model.GenerationInterrupted` (None: never). Used by the node for newer commands and cancel."""
        self.language_model.interrupt = check

    def set_text_to_motion(self, settings: TextToMotionSettings) -> None:
        """Use other text-to-motion decoding settings; settings without a sentence encoder drop the grounding."""
        if not settings.sentence_encoder:
            self.grounding = None
        if settings.neighbours and self.grounding is None:
            raise ModelLoadError("text_to_motion.neighbours is set but no caption grounding was given")
        self.text_to_motion_settings = settings

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_pretrained(cls, folder: str | Path, device: str = "cpu", backend: str = "torch",
                        threads: int | None = None) -> "MotionGPT":
        """A model folder on ``backend`` "torch" or "onnxruntime" (its ``onnx/`` export, `motiongpt export
        onnx`), on ``device`` "cpu", "cuda" or "auto" (CUDA when there is one). ``threads``: ONNX Runtime
        intra-op threads (torch uses ``torch.set_num_threads``)."""
        from motiongpt.tokenizer import MotionTokenizer

        backend = resolve_backend(folder, backend)
        if device not in ("cpu", "cuda", "auto") and not str(device).startswith("cuda:"):
            raise ValueError(f"device must be cpu, cuda or auto, got {device!r}")
        if backend == "onnxruntime":
            from motiongpt.lm.onnx_runtime import load_onnx_motiongpt
            return load_onnx_motiongpt(folder, device=device, intra_op_num_threads=threads)
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        elif str(device).startswith("cuda") and not torch.cuda.is_available():
            raise ModelLoadError("device 'cuda' asked for but torch sees no CUDA device")
        folder = Path(folder)
        manifest, lm_folder, tokenizer_folder = read_manifest(folder)
        manifest_path = folder / MANIFEST_FILE
        language_model = MotionLanguageModel.from_pretrained(lm_folder)
        language_model.network.to(device)
        motion_tokenizer = MotionTokenizer.from_pretrained(tokenizer_folder, device=device)
        try:
            settings = TextToMotionSettings.from_dict(manifest.get("text_to_motion"))
            grounding = CaptionGrounding.from_settings(settings, folder, loaded=language_model.loaded_encoders())
        except (GroundingConfigError, SentenceEncoderError, TypeError) as error:
            raise ModelLoadError(f"{manifest_path}: text_to_motion: {error}") from error
        model = cls(language_model, motion_tokenizer, max_codes=int(manifest.get("max_codes", 50)),
                    text_to_motion=settings, grounding=grounding)
        model.load_meaning_index(folder)  # refuses settings that need an index the folder does not have
        return model

    @classmethod
    def from_released(cls, checkpoint: str | Path, base_t5_folder: str | Path, device: str = "cpu") -> "MotionGPT":
        """The released ``motiongpt_s3_h3d.tar`` with the flan-t5-base folder it was trained from."""
        from motiongpt.normalization import Normalizer
        from motiongpt.lm.released_checkpoint import load_released_checkpoint
        from motiongpt.tokenizer import MotionTokenizer, VQVAEConfig

        released = load_released_checkpoint(checkpoint, base_t5_folder)
        tokenizer = MotionTokenizer(VQVAEConfig(), Normalizer.official())
        tokenizer.load_weights({k: v.float() for k, v in released.vae_state_dict.items()}, source=str(checkpoint))
        released.language_model.network.to(device)
        return cls(released.language_model, tokenizer.to(device))

    def save_pretrained(self, folder: str | Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.language_model.save_pretrained(folder / "lm")
        self.motion_tokenizer.save_pretrained(folder / "tokenizer")
        settings = self.text_to_motion_settings
        if settings.captions and self.grounding is not None:
            write_caption_file(folder / settings.captions, self.grounding.captions)
        (folder / MANIFEST_FILE).write_text(yaml.safe_dump(
            {"format": "motiongpt", "language_model": "lm", "motion_tokenizer": "tokenizer",
             "max_codes": self.max_codes, "text_to_motion": settings.to_dict()}, sort_keys=False))
        if self.meaning_index is not None:  # read from the folder the model was loaded from: it reads text only
            self.meaning_index.save(folder)
        return folder

    # ------------------------------------------------------------------ motion <-> codes
    @property
    def vocabulary(self):
        return self.language_model.vocabulary

    def encode(self, motion: np.ndarray, source: str = "motion") -> np.ndarray:
        """Joints (T, 22, 3) or un-normalised features (T, 263) -> codes (one per 4 frames)."""
        array = np.asarray(motion)
        if array.ndim == 3:
            from motiongpt.validation import check_joints
            check_joints(array, source=source, min_frames=FRAMES_PER_CODE + 1)
        elif array.ndim == 2:
            from motiongpt.validation import check_features
            check_features(array, source=source, min_frames=FRAMES_PER_CODE)
        else:
            raise ValueError(f"{source}: expected joints (T, 22, 3) or features (T, 263), got shape {array.shape}")
        return np.asarray(self.motion_tokenizer.encode_motion(array), dtype=np.int64)

    def _real_joints(self, motion: np.ndarray) -> np.ndarray:
        """The motion as given, in the caller's frame: joints as they are, features through recover_from_ric."""
        array = np.asarray(motion, dtype=np.float64)
        if array.ndim == 3:
            return array
        from motiongpt.features import recover_from_ric
        return np.asarray(recover_from_ric(array), dtype=np.float64)

    def decode(self, codes: Sequence[int] | np.ndarray, prompt: str = "", response: str = "",
               segment: tuple[int, int] | None = None) -> MotionResult:
        codes = self.vocabulary.check_codes(codes, "codes to decode")
        if codes.size == 0:
            raise NoMotionError("no codes to decode")
        features = self.motion_tokenizer.decode_to_features(codes)
        from motiongpt.features import recover_from_ric
        joints = np.asarray(recover_from_ric(features), dtype=np.float32)
        return MotionResult(joints, features, codes, prompt, response,
                            segment if segment is not None else (0, joints.shape[0]))

    # ------------------------------------------------------------------ sampling
    def text_to_motion_temperature(self, temperature: float | None = None) -> float:
        """The temperature text-to-motion samples at: ``temperature`` when given, else the model folder's
        ``text_to_motion.temperature``, else the sampling default (1)."""
        for value in (temperature, self.text_to_motion_settings.temperature):
            if value is not None:
                return value
        return self.sampling.temperature

    def _settings(self, greedy: bool, top_k: int | None, temperature: float | None) -> GenerationSettings:
        settings = GenerationSettings(**vars(self.sampling))
        settings.do_sample = not greedy
        if top_k is not None:
            settings.top_k = int(top_k)
        if temperature is not None:
            if not float(temperature) > 0:
                raise ValueError(f"temperature must be > 0, got {temperature}")
            settings.temperature = float(temperature)
        return settings

    def _generate_codes(self, prompts: list[str], min_codes: int, max_codes: int, settings: GenerationSettings,
                        seed: int | None, request_texts: list[str] | None = None,
                        guidance: Guidance | None = None) -> list[tuple[np.ndarray, str]]:
        # The constrained decoding guarantees start, codes, end: the codes are read from the token ids (the
        # response text is kept for MotionResult.response only).
        ids = self.language_model.generate_ids(prompts, settings, motion_codes=(min_codes, max_codes), seed=seed,
                                               request_texts=request_texts, guidance=guidance)
        responses = self.language_model.tokenizer.batch_decode(np.asarray(ids).tolist(), skip_special_tokens=True)
        return [(codes_from_ids(row, self.language_model.first_motion_id, self.vocabulary,
                                source=f"response to {prompt[:60]!r}"), response)
                for prompt, row, response in zip(prompts, ids, responses)]

    # ------------------------------------------------------------------ tasks
    def _m2t_prompts(self, codes: Sequence[np.ndarray]) -> list[str]:
        return [M2T_PROMPT.replace(MOTION, self.vocabulary.codes_to_string(c)) for c in codes]

    def caption_log_likelihood(self, codes: Sequence[np.ndarray], captions: Sequence[str]) -> np.ndarray:
        """log p(caption | motion codes) under the motion-to-text task, one value per (codes, caption) pair."""
        return self.language_model.target_log_likelihood(self._m2t_prompts(codes),
                                                         [c.strip() for c in captions]).cpu().numpy()

    def captions_for_codes(self, codes: Sequence[np.ndarray], greedy: bool = True, seed: int | None = None,
                           max_new_tokens: int = 40) -> list[str]:
        """Motion-to-text captions of code sequences (batched; greedy by default)."""
        settings = self._settings(greedy, None, None)
        settings.max_new_tokens = int(max_new_tokens)
        responses = self.language_model.generate(self._m2t_prompts(codes), settings, seed=seed)
        # training quotes half of the captions (PromptFiller.quote_probability): a caption is returned without them
        return [MOTION_TOKEN_PATTERN.sub("", r).strip().strip('"').strip() for r in responses]

    def _choose(self, texts: list[str], options: list[tuple[np.ndarray, str]]) -> int:
        """Index of the candidate motion that fits the request ``texts[0]`` (and its neighbour captions
        ``texts[1:]``) best (see `motiongpt.lm.text_grounding`)."""
        if len(options) == 1:
            return 0
        codes = [c for c, _ in options]
        if self.text_to_motion_settings.rerank == "meaning":
            scores = self._meaning_scores(texts[0], self.captions_for_codes(codes))
        elif self.text_to_motion_settings.rerank == "similarity" and self.grounding is not None:
            scores = self.grounding.similarity(texts[0], self.captions_for_codes(codes))
        else:
            lengths = np.asarray([int(self.language_model.tokenize([t])["attention_mask"].sum()) for t in texts])
            pairs_codes = [c for c in codes for _ in texts]
            per_text = self.caption_log_likelihood(pairs_codes, texts * len(codes)).reshape(len(codes), len(texts))
            scores = (per_text / lengths[None]).mean(axis=1)
        return int(np.argmax(scores))

    def _index_for(self, setting: str):
        if self.meaning_index is None:
            raise ModelLoadError(f"text_to_motion.{setting} 'meaning' needs the model folder's meaning index "
                                 "(motiongpt export meaning-index)")
        return self.meaning_index

    def _meaning_scores(self, request: str, captions: Sequence[str]) -> np.ndarray:
        """For each caption, its similarity to the nearest training caption of the request's meaning."""
        index = self._index_for("rerank")
        vectors = self._meaning_vectors([request, *captions]).numpy()
        action = index.action_ids_of([request], vectors[:1], self._action_vectors([request], vectors[:1]))[0]
        return index.similarities(vectors[1:])[:, int(action)]

    def _action_vectors(self, texts: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        """The vectors each text's action is read from (`motiongpt.lm.command_meaning.action_vectors`): those of
        the text without its style words, and without a phrase the meaning index reads as saying how."""
        from motiongpt.lm.command_meaning import action_vectors

        return action_vectors(lambda some: self._meaning_vectors(list(some)).numpy(), texts, vectors,
                              self.meaning_index)

    def rephrase(self, texts: Sequence[str]) -> list[str]:
        """Each request said in the model's own words: the training caption of its meaning nearest to it
        (`motiongpt.lm.command_meaning.MeaningIndex.rephrase`), of the request without the words that name its
        length, and its speed where that speed is played (``speed_factors``). Needs the model folder's meaning
        index."""
        return self._rephrased([self._generation_of(str(t))[0] for t in texts])

    def _rephrased(self, texts: list[str]) -> list[str]:
        if not texts:
            return []
        vectors = self._meaning_vectors(texts).numpy()
        return self._index_for("rephrase").rephrase(texts, vectors, action_query=self._action_vectors(texts, vectors))

    def _generation_of(self, text: str) -> tuple[str, float, float | None]:
        """What the motion of a request is generated from: the request without the words that name its length
        (given to the generation as a length) and its speed where that speed is played (``speed_factors``); how
        many times as fast the motion is played; the length the request names (s, or None).
        `motiongpt.lm.request_timing` reads them."""
        timing = read_timing(text)
        factor = self.text_to_motion_settings.played_speed(timing.speed, timing.factor, timing.degree)
        return timing.without(speed=factor != 1.0), factor, timing.seconds

    def played_speeds(self, steps: Sequence[str]) -> list[float]:
        """How many times as fast each step's motion is played: the factor of the speed it names where the folder
        plays it (``text_to_motion.speed_factors``), else 1 (as generated)."""
        return [self._generation_of(str(step))[1] for step in steps]

    def generated_from(self, steps: Sequence[str]) -> list[str] | None:
        """The training caption each step of a command is generated from when the model folder rephrases
        requests (``text_to_motion.rephrase: meaning``); None when the steps are generated from themselves."""
        return self.rephrase(steps) if self.text_to_motion_settings.rephrase == "meaning" else None

    def text_to_motion(self, text: str | Sequence[str], seconds: float | None = None, seed: int | None = None,
                       top_k: int | None = None, temperature: float | None = None, greedy: bool = False,
                       candidates: int | None = None, guidance: float | None = None
                       ) -> MotionResult | list[MotionResult]:
        """Motion for a caption (or a batch of captions). A caption that names its length ("for 3 seconds", "for
        80 frames") is that long; otherwise ``seconds`` fixes the duration; without it the model chooses, up to
        ``max_codes`` codes (lengths rounded to 0.2 s). A caption that names a speed the folder plays
        (``text_to_motion.speed_factors``: "slowly", "hurry up") is generated at its plain pace and played at it.

        ``candidates`` motions per prompt (default: the model folder's ``text_to_motion.candidates``; one
        with greedy decoding) are sampled in one batch, from the text and, with grounding, from its nearest
        training captions, and the best fit to the text is kept (`motiongpt.lm.text_grounding`). ``guidance``:
        the classifier-free guidance scale (default: the model folder's ``text_to_motion.guidance``; 1: none)."""
        texts = [text] if isinstance(text, str) else list(text)
        chosen = self._text_to_codes(texts, seconds, seed, top_k, temperature, greedy, candidates, guidance)
        results = [self._played(self.decode(codes, prompt, response), [(codes.size * FRAMES_PER_CODE, frames)])
                   for codes, prompt, response, frames in chosen]
        return results[0] if isinstance(text, str) else results

    def _text_to_codes(self, texts: list[str], seconds: float | None, seed: int | None, top_k: int | None,
                       temperature: float | None, greedy: bool, candidates: int | None,
                       guidance: float | None = None, max_seconds: float | None = None
                       ) -> list[tuple[np.ndarray, str, str, int | None]]:
        """The chosen motion codes of each text, with the prompt and response they came from and the frames their
        motion is played in (None: as generated, 4 per code; see ``speed_factors`` in
        `motiongpt.lm.text_grounding`). Nothing is decoded: `command` joins the codes of its steps and decodes them
        once. Lengths: a text that names one ("for 3 seconds", `motiongpt.lm.request_timing`) is that long; the
        others ``seconds`` long, or, when ``seconds`` is None, of the model's choice, at most ``max_seconds``."""
        if not texts or any(not isinstance(t, str) or not t.strip() for t in texts):
            raise ValueError("text_to_motion: expected non-empty text")
        texts = texts_as_given = [t.strip() for t in texts]
        settings = self.text_to_motion_settings
        overrides = {name: value for name, value in (("candidates", candidates), ("guidance", guidance))
                     if value is not None}
        if overrides:  # validated like the model folder's values (GroundingConfigError: a ValueError)
            settings = dataclasses.replace(settings, **overrides)
        count = 1 if greedy else settings.candidates
        generation = [self._generation_of(t) for t in texts]
        texts = [text for text, _, _ in generation]
        neighbours = (self.grounding.nearest(texts, settings.neighbours)
                      if self.grounding is not None else [[] for _ in texts])
        if settings.rephrase == "meaning":
            texts = self._rephrased(texts)
        sources = [[t, *near] for t, near in zip(texts, neighbours)]
        high = self.max_codes
        if max_seconds is not None:
            high = min(self.max_codes, seconds_to_codes(max_seconds, "max_seconds"))
        batches: dict[tuple[int, int, int | None], list[int]] = {}
        asked: list[int | None] = []
        for index, (text, factor, named) in enumerate(generation):
            length = named if named is not None else seconds
            if length is None:  # the model chooses the length; played, it stays within the bound
                asked.append(None)
                top = max(1, min(self.max_codes, int(np.floor(high * factor + 1e-9))))
                batches.setdefault((1, top, None), []).append(index)
                continue
            codes = seconds_to_codes(length, f"{texts_as_given[index]!r}: the length it says" if named is not None
                                     else "seconds")
            if codes > self.max_codes:
                said = f"{texts_as_given[index]!r} asks for " if named is not None else "seconds="
                raise ValueError(f"{said}{length:g} s: this model generates at most {self.max_codes} codes "
                                 f"({self.max_codes * FRAMES_PER_CODE / FPS:g} s) per motion, the longest it was "
                                 f"trained on; ask for several steps instead")
            asked.append(codes)  # generated that many times as long (within what the model can), played in it
            generated = max(1, min(self.max_codes, int(round(codes * factor))))
            batches.setdefault((generated, generated, generated), []).append(index)
        chosen: list = [None] * len(texts)
        for (low, top, frames_named), members in batches.items():  # one batch when all steps are alike
            template = (T2M_PROMPT if frames_named is None
                        else T2M_PROMPT_FRAMES.replace(FRAMES, str(frames_named * FRAMES_PER_CODE)))
            for member, codes, prompt, response in self._sample_codes(
                    [sources[i] for i in members], template, low, top, count, settings, greedy, top_k, temperature,
                    seed):
                index = members[member]
                frames, factor = codes.size * FRAMES_PER_CODE, generation[index][1]
                played = (asked[index] * FRAMES_PER_CODE if asked[index] is not None
                          else max(2, int(round(frames / factor))))
                chosen[index] = (codes, prompt, response, None if played == frames else played)
        return chosen

    def _sample_codes(self, sources: list[list[str]], template: str, low: int, high: int, count: int,
                      settings: TextToMotionSettings, greedy: bool, top_k: int | None, temperature: float | None,
                      seed: int | None) -> list[tuple[int, np.ndarray, str, str]]:
        """``count`` motions of ``low``..``high`` codes sampled in one batch for each text of each source (a request
        and its neighbour captions), and for each source the one `_choose` keeps: (source index, codes, prompt,
        response)."""
        prompts = [[template.replace(CAPTION, s) for s in group for _ in range(count)] for group in sources]
        requests = [s for group in sources for s in group for _ in range(count)]
        guided = None
        if settings.guidance != 1:  # each prompt against the same prompt with no request (the caption dropped)
            guided = Guidance([template.replace(CAPTION, "").strip()] * len(requests), settings.guidance)
        generated = self._generate_codes([p for group in prompts for p in group], low, high,
                                         self._settings(greedy, top_k, self.text_to_motion_temperature(temperature)),
                                         seed, requests, guided)
        chosen, position = [], 0
        for index, (source, group) in enumerate(zip(sources, prompts)):
            options = generated[position:position + len(group)]
            position += len(group)
            best = self._choose(source, options)
            codes, response = options[best]
            chosen.append((index, codes, group[best], response))
        return chosen

    def _played(self, result: MotionResult, pieces: list[tuple[int, int | None]]) -> MotionResult:
        """``result`` with its motion, cut in consecutive pieces of (rows, frames to play them in; None: as they
        are), played piece by piece (`motiongpt.features.retime_features`); ``steps`` and ``segment`` follow."""
        if all(frames is None for _, frames in pieces):
            return result
        from motiongpt.features import recover_from_ric, retime_features
        played, moved, old, new = [], {0: 0}, 0, 0  # moved: each piece boundary, as it was -> as played
        for rows, frames in pieces:
            piece = result.features[old:old + rows]
            played.append(piece if frames is None else retime_features(piece, frames))
            old, new = old + rows, new + len(played[-1])
            moved[old] = new
        features = np.concatenate(played).astype(result.features.dtype)
        steps = [(text, moved[first], moved[end]) for text, first, end in result.steps]
        joints = np.asarray(recover_from_ric(features), dtype=np.float32)
        return dataclasses.replace(result, joints=joints, features=features, segment=(0, len(features)), steps=steps)

    def motion_to_text(self, motion: np.ndarray | Sequence[np.ndarray], greedy: bool = True, seed: int | None = None,
                       max_new_tokens: int = 40) -> str | list[str]:
        """A caption for a motion given as joints (T, 22, 3) or features (T, 263), or for a list of them."""
        single = isinstance(motion, np.ndarray)
        motions = [motion] if single else list(motion)
        codes = [self.encode(m, f"motion {i}") for i, m in enumerate(motions)]
        captions = self.captions_for_codes(codes, greedy=greedy, seed=seed, max_new_tokens=max_new_tokens)
        return captions[0] if single else captions

    def predict(self, motion: np.ndarray, seconds: float, seed: int | None = None, top_k: int | None = None,
                temperature: float | None = None, greedy: bool = False, context_codes: int = 10) -> MotionResult:
        """Continue ``motion`` (joints (T, 22, 3) or features (T, 263)) for ``seconds``.

        The given motion's codes and the new ones are decoded together; the result is the given motion
        (cut to the 4-frame code grid) followed by the continuation, placed (heading and ground position)
        where the given motion really ends. ``segment`` marks the new frames."""
        given = self.encode(motion, "motion to continue")
        real = self._real_joints(motion)
        needed = seconds_to_codes(seconds)
        settings = self._settings(greedy, top_k, temperature)
        new: list[int] = []
        step_seed = seed
        while len(new) < needed:
            context = np.concatenate([given, np.asarray(new, dtype=np.int64)])[-int(context_codes):]
            prompt = PREDICT_PROMPT.replace(MOTION_HEAD, self.vocabulary.codes_to_string(context))
            chunk = min(needed - len(new), self.max_codes)
            [(codes, _)] = self._generate_codes([prompt], chunk, chunk, settings, step_seed)
            new.extend(codes.tolist())
            step_seed = None if step_seed is None else step_seed + 1
        codes = np.concatenate([given, np.asarray(new, dtype=np.int64)])
        start = given.size * FRAMES_PER_CODE
        result = self.decode(codes, "predict", "", (start, codes.size * FRAMES_PER_CODE))
        decoded = result.joints.astype(np.float64)
        continuation = rigid_placement(decoded[start:], decoded[start - 1], real[start - 1])
        result.joints = np.concatenate([real[:start], continuation]).astype(np.float32)
        return result

    def _fill_gaps(self, pairs: list[tuple[np.ndarray, np.ndarray]], gap_codes: int, settings: GenerationSettings,
                   seed: int | None, context_codes: int) -> list[np.ndarray]:
        """Batched in-between on codes: for each (before, after) the ``gap_codes`` codes that join them."""
        prompts, heads = [], []
        for before, after in pairs:
            head, tail = before[-context_codes:], after[:context_codes]
            masked = self.vocabulary.masked_string(head, gap_codes, tail)
            prompts.append(INBETWEEN_PROMPT.replace(MOTION_MASKED, masked))
            heads.append((head.size, tail.size))
        total = [h + gap_codes + t for h, t in heads]
        generated = self._generate_codes(prompts, min(total), max(total), settings, seed)
        gaps = []
        for (codes, _), (n_head, _) in zip(generated, heads):
            gap = codes[n_head:n_head + gap_codes]
            if gap.size < gap_codes:  # a shorter answer: pad with the last code of the answer
                gap = np.concatenate([gap, np.full(gap_codes - gap.size, codes[-1], dtype=np.int64)])
            gaps.append(gap)
        return gaps

    def inbetween(self, before: np.ndarray, after: np.ndarray, seconds: float, seed: int | None = None,
                  top_k: int | None = None, temperature: float | None = None, greedy: bool = False,
                  context_codes: int = 12, candidates: int = 1) -> MotionResult:
        """Fill ``seconds`` of motion between ``before`` and ``after`` (joints (T, 22, 3) in one frame, or
        features (T, 263)). The result is ``before``, the generated gap and ``after`` (each cut to the
        4-frame code grid); ``segment`` marks the gap.

        The codes of before + gap + after are decoded together; the decoded gap is placed at the real end
        of ``before`` and its per-joint mismatch with the real start of ``after`` is spread linearly over the
        gap, so the motion is continuous at both joins. With ``candidates`` > 1, that many gaps are sampled
        in one batch and the one that fits the given motions best is kept (`join_mismatch`: how far, and how
        differently moving, the decoded motion is from the given one at both joins). Features given for
        ``after`` carry no placement: it is then put where the decoded motion has it."""
        if int(candidates) < 1:
            raise ValueError(f"candidates must be >= 1, got {candidates}")
        head = self.encode(before, "motion before the gap")
        tail = self.encode(after, "motion after the gap")
        real_before, real_after_given = self._real_joints(before), self._real_joints(after)
        gap_codes = seconds_to_codes(seconds)
        gaps = self._fill_gaps([(head, tail)] * int(candidates), gap_codes,
                               self._settings(greedy, top_k, temperature), seed, int(context_codes))
        start = head.size * FRAMES_PER_CODE
        stop = start + gap_codes * FRAMES_PER_CODE
        best = None
        for gap in gaps:
            result = self.decode(np.concatenate([head, gap, tail]), "inbetween", "", (start, stop))
            decoded = rigid_placement(result.joints.astype(np.float64), result.joints[start - 1],
                                      real_before[start - 1])
            real_after = real_after_given
            if np.asarray(after).ndim != 3:  # features: no placement of their own
                real_after = rigid_placement(real_after, real_after[0], decoded[stop])
            real_after = real_after[: tail.size * FRAMES_PER_CODE]
            offset_start = real_before[start - 1] - decoded[start - 1]
            offset_end = real_after[0] - decoded[stop]
            mismatch = join_mismatch(decoded, real_before[:start], real_after, start, stop)
            if best is None or mismatch < best[0]:
                weights = (np.arange(1, stop - start + 1) / (stop - start + 1))[:, None, None]
                filled = decoded[start:stop] + (1 - weights) * offset_start + weights * offset_end
                result.joints = np.concatenate([real_before[:start], filled, real_after]).astype(np.float32)
                best = (mismatch, result)
        return best[1]

    def command(self, text: str, seconds_per_step: float | None = None, transition_seconds: float = 0.8,
                seed: int | None = None, top_k: int | None = None, temperature: float | None = None,
                greedy: bool = False, context_codes: int = 8, candidates: int | None = None,
                guidance: float | None = None, max_seconds_per_step: float | None = None) -> MotionResult:
        """A multi-step command ("walk forward, then turn left, then wave"): each step is generated (in one
        batch; rephrased as the training caption of its meaning with ``rephrase: meaning``, else rewritten in the
        captions' form by `as_caption`), consecutive steps are joined by generated
        in-between transitions, and the whole code sequence is decoded at once into one continuous motion.
        ``steps`` lists each step's frames. Step lengths: the length a step names ("wave for 2 seconds"), else
        ``seconds_per_step``, else chosen by the model, at most ``max_seconds_per_step`` when given. A step that
        names a speed the folder plays is played at it (see `text_to_motion`)."""
        if seconds_per_step is not None and max_seconds_per_step is not None:
            raise ValueError("command: give seconds_per_step or max_seconds_per_step, not both")
        steps = split_command(text)
        if len(steps) > MAX_COMMAND_STEPS:
            raise ValueError(f"command: {len(steps)} steps, more than {MAX_COMMAND_STEPS}; send fewer at a time")
        settings = self._settings(greedy, top_k, temperature)
        # rephrased, a step is read as said (the meaning the node's allow-list checked); otherwise in the
        # captions' form, which the model reads better than an imperative
        texts = steps if self.text_to_motion_settings.rephrase == "meaning" else [as_caption(s) for s in steps]
        chosen = self._text_to_codes(texts, seconds_per_step, seed, top_k, temperature, greedy, candidates, guidance,
                                     max_seconds=max_seconds_per_step)
        step_codes = [codes for codes, _, _, _ in chosen]  # decoded once, joined, below
        gaps: list[np.ndarray] = []
        if len(step_codes) > 1:
            gap_codes = seconds_to_codes(transition_seconds, "transition_seconds")
            pairs = list(zip(step_codes[:-1], step_codes[1:]))
            gaps = self._fill_gaps(pairs, gap_codes, settings, None if seed is None else seed + 1, context_codes)
        pieces, played, spans, position = [], [], [], 0
        for index, codes in enumerate(step_codes):
            spans.append((steps[index], position * FRAMES_PER_CODE, (position + codes.size) * FRAMES_PER_CODE))
            pieces.append(codes)
            played.append((codes.size * FRAMES_PER_CODE, chosen[index][3]))
            position += codes.size
            if index < len(gaps):
                pieces.append(gaps[index])
                played.append((gaps[index].size * FRAMES_PER_CODE, None))
                position += gaps[index].size
        result = self.decode(np.concatenate(pieces), text, "")
        result.steps = spans
        return self._played(result, played)
