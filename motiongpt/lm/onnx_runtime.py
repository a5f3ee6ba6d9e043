"""Inference on ONNX Runtime: the language model and the motion tokenizer exported by `motiongpt.lm.onnx_export`.

    from motiongpt.lm.onnx_runtime import load_onnx_motiongpt
    model = load_onnx_motiongpt("models/motiongpt-small", device="auto")   # a `MotionGPT` on ONNX Runtime
    walk = model.text_to_motion("a person walks forward", seconds=3, seed=0)

`OnnxLanguageModel` has the ``generate`` contract of `MotionLanguageModel.generate` (greedy, top-k sampling with
temperature and a seed, the motion constraint of `MotionConstraintProcessor`, a batch of prompts, text
conditioning) and `OnnxMotionTokenizer` the decode/encode methods of `MotionTokenizer` that `MotionGPT` uses,
so a `MotionGPT` can be built on them unchanged. Greedy decoding gives the same tokens as the PyTorch path;
sampling is reproducible for a seed (numpy's generator) but does not draw the same tokens as torch's.

Sessions use CUDAExecutionProvider when it is available (``device="auto"`` or ``"cuda"``), else the CPU.
On CUDA the KV cache stays on the GPU between steps (IO binding); only the logits come back.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from motiongpt.lm.decoding import Guidance, decode_tokens
from motiongpt.lm.model import GenerationSettings, ModelLoadError, motion_answer_limits, raise_if_interrupted
from motiongpt.lm.onnx_export import FORMAT_NAME, MANIFEST_FILE, ONNX_FOLDER, sha256_file
from motiongpt.lm.vocabulary import MotionVocabulary

LOGGER = logging.getLogger(__name__)

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"
DEVICES = ("auto", "cpu", "cuda")


class OnnxModelError(ModelLoadError):
    """An ONNX export folder is missing, incomplete, corrupt or cannot run on the requested device."""


def find_onnx_folder(folder: str | Path) -> Path | None:
    """The export folder of ``folder``: itself when it holds a manifest, else its onnx/ sub-folder, else None."""
    folder = Path(folder)
    for candidate in (folder, folder / ONNX_FOLDER):
        if (candidate / MANIFEST_FILE).is_file():
            return candidate
    return None


def read_manifest(folder: str | Path) -> tuple[Path, dict[str, Any]]:
    found = find_onnx_folder(folder)
    if found is None:
        raise OnnxModelError(f"{folder}: no ONNX export ({MANIFEST_FILE} not found there or in {ONNX_FOLDER}/); "
                             f"run `motiongpt export onnx --model {folder}`")
    path = found / MANIFEST_FILE
    try:
        manifest = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise OnnxModelError(f"{path}: corrupt manifest: {error}") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME or "graphs" not in manifest:
        raise OnnxModelError(f"{path}: not a {FORMAT_NAME} manifest")
    return found, manifest


def providers_for(device: str = "auto") -> list[str]:
    """Execution providers for ``device`` (auto: CUDA when ONNX Runtime has it, then the CPU)."""
    import onnxruntime as ort

    if device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
    available = ort.get_available_providers()
    if device == "cpu":
        return [CPU]
    if CUDA in available:
        return [CUDA, CPU]
    if device == "cuda":
        raise OnnxModelError(f"device 'cuda': this onnxruntime has no {CUDA} (available: {available}); install the "
                             f"GPU build (pip install onnxruntime-gpu, the 'gpu' extra) on a machine with CUDA")
    return [CPU]


def check_stale(model_folder: str | Path, manifest: dict[str, Any]) -> list[str]:
    """Source weight files that changed since the export (empty when the export is current)."""
    model_folder = Path(model_folder)
    return [name for name, digest in (manifest.get("source") or {}).items()
            if (model_folder / name).is_file() and sha256_file(model_folder / name) != digest]


class _Graphs:
    """The ONNX Runtime sessions of one export folder, checked against the manifest."""

    def __init__(self, folder: Path, manifest: dict[str, Any], device: str = "auto",
                 intra_op_num_threads: int | None = None, verify: bool = True, io_binding: bool | None = None):
        import onnxruntime as ort

        self.folder, self.manifest = folder, manifest
        self.providers = providers_for(device)
        self.options = ort.SessionOptions()
        self.options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if intra_op_num_threads:
            self.options.intra_op_num_threads = int(intra_op_num_threads)
            self.options.inter_op_num_threads = 1
        self.verify = verify
        self.device_type = "cuda" if self.providers[0] == CUDA else "cpu"
        self.io_binding = self.device_type == "cuda" if io_binding is None else bool(io_binding)
        self._sessions: dict[str, Any] = {}

    def has(self, key: str) -> bool:
        return key in self.manifest["graphs"]

    def session(self, key: str):
        if key in self._sessions:
            return self._sessions[key]
        import onnxruntime as ort

        entry = self.manifest["graphs"].get(key)
        if entry is None:
            raise OnnxModelError(f"{self.folder}: the export has no {key} graph")
        path = self.folder / entry["file"]
        if not path.is_file():
            raise OnnxModelError(f"{path}: missing graph file (listed in {MANIFEST_FILE}); "
                                 f"re-run `motiongpt export onnx`")
        if self.verify and entry.get("sha256") and sha256_file(path) != entry["sha256"]:
            raise OnnxModelError(f"{path}: corrupt graph file (sha256 differs from {MANIFEST_FILE}); "
                                 f"re-run `motiongpt export onnx`")
        try:
            session = ort.InferenceSession(str(path), self.options, providers=self.providers)
        except Exception as error:  # onnxruntime raises its own Fail / InvalidGraph / InvalidProtobuf kinds
            raise OnnxModelError(f"{path}: ONNX Runtime cannot load the graph: {error}") from error
        self._sessions[key] = session
        return session


@dataclass
class _EncoderState:
    mask: Any                 # (B, S) int64, numpy or OrtValue
    cross: list[Any]          # cross keys/values per layer, numpy or OrtValue
    hidden: np.ndarray | None = None


class OnnxLanguageModel:
    """`MotionLanguageModel`'s inference side on ONNX Runtime (generate, tokenize, log-likelihoods)."""

    def __init__(self, folder: str | Path, device: str = "auto", intra_op_num_threads: int | None = None,
                 verify: bool = True, io_binding: bool | None = None):
        from transformers import AutoTokenizer

        from motiongpt.lm.model import check_motion_token_ids

        self.folder, self.manifest = read_manifest(folder)
        self.graphs = _Graphs(self.folder, self.manifest, device, intra_op_num_threads, verify, io_binding)
        spec = self.manifest["language_model"]
        self.spec = spec
        self.layers = int(spec["num_decoder_layers"])
        self.heads, self.d_kv = int(spec["num_heads"]), int(spec["d_kv"])
        self.max_input_length = int(spec["max_input_length"])
        self.vocabulary = MotionVocabulary(int(spec["code_num"]))
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(self.folder), legacy=True)
        except Exception as error:  # transformers raises many kinds here
            raise OnnxModelError(f"{self.folder}: cannot load the text tokenizer: {error}") from error
        self.first_motion_id = check_motion_token_ids(self.tokenizer, self.vocabulary)
        if self.first_motion_id != int(spec["first_motion_id"]):
            raise OnnxModelError(f"{self.folder}: tokenizer's motion tokens start at {self.first_motion_id}, the "
                                 f"export at {spec['first_motion_id']}")
        self.conditioning = None
        self.sentence_vectors = None
        self.interrupt = None  # see MotionLanguageModel.interrupt
        if spec.get("text_conditioning"):
            from motiongpt.lm.text_conditioning import (CONDITIONING_FILE, TextConditioningConfig,
                                                        TextConditioningError, load_sentence_vectors)
            try:
                self.conditioning = TextConditioningConfig.from_dict(
                    json.loads((self.folder / CONDITIONING_FILE).read_text()))
                self.sentence_vectors = load_sentence_vectors(self.conditioning, base=self.folder)
            except (OSError, json.JSONDecodeError, TextConditioningError, ValueError) as error:
                raise OnnxModelError(f"{self.folder}: text conditioning: {error}") from error
        self.encoder_session = self.graphs.session("lm_encoder")
        self.step_session = self.graphs.session("lm_decoder_step")
        self._cross_names = [f"cross_{k}_{i}" for i in range(self.layers) for k in ("key", "value")]
        self._past_names = [f"past_{k}_{i}" for i in range(self.layers) for k in ("key", "value")]
        self._present_names = [f"present_{k}_{i}" for i in range(self.layers) for k in ("key", "value")]

    @property
    def providers(self) -> list[str]:
        return self.step_session.get_providers()

    @property
    def device(self) -> str:
        return self.graphs.device_type

    # ------------------------------------------------------------------ text
    def tokenize(self, texts: Sequence[str], max_length: int | None = None) -> dict[str, Any]:
        import torch

        batch = self.tokenizer(list(texts), padding=True, truncation=True,
                               max_length=max_length or self.max_input_length, return_tensors="np")
        return {k: torch.from_numpy(np.asarray(batch[k], dtype=np.int64)) for k in ("input_ids", "attention_mask")}

    def loaded_encoders(self) -> dict:
        """{name: SentenceEncoder} of the text conditioning's encoder, for sharing with the caption grounding."""
        if self.conditioning is None or self.sentence_vectors is None:
            return {}
        return {self.conditioning.sentence_encoder: self.sentence_vectors.encoder}

    def text_vectors(self, request_texts: Sequence[str | None] | None, count: int) -> np.ndarray | None:
        if self.sentence_vectors is None:
            return None
        return self.sentence_vectors.for_prompts(request_texts, count).numpy().astype(np.float32)

    # ------------------------------------------------------------------ graphs
    def encode(self, prompts: Sequence[str], request_texts: Sequence[str | None] | None = None) -> _EncoderState:
        encoded = self.tokenize(prompts)
        feeds = {"input_ids": encoded["input_ids"].numpy(), "attention_mask": encoded["attention_mask"].numpy()}
        vectors = self.text_vectors(request_texts, len(prompts))
        if vectors is not None:
            feeds["sentence_vectors"] = vectors
        names = ["encoder_hidden_states", "encoder_attention_mask", *self._cross_names]
        if not self.graphs.io_binding:
            outputs = self.encoder_session.run(names, feeds)
            return _EncoderState(outputs[1], outputs[2:], outputs[0])
        binding = self.encoder_session.io_binding()
        for name, value in feeds.items():
            binding.bind_cpu_input(name, value)
        binding.bind_output("encoder_hidden_states", "cpu")
        for name in names[1:]:
            binding.bind_output(name, self.graphs.device_type)
        self.encoder_session.run_with_iobinding(binding)
        outputs = binding.get_outputs()
        return _EncoderState(outputs[1], list(outputs[2:]), outputs[0].numpy())

    def _empty_past(self, batch: int) -> list[Any]:
        empty = np.zeros((batch, self.heads, 0, self.d_kv), dtype=np.float32)
        if not self.graphs.io_binding:
            return [empty] * (2 * self.layers)
        import onnxruntime as ort
        return [ort.OrtValue.ortvalue_from_numpy(empty, self.graphs.device_type, 0) for _ in range(2 * self.layers)]

    def step(self, tokens: np.ndarray, state: _EncoderState, past: list[Any]) -> tuple[np.ndarray, list[Any]]:
        """One decoder step: tokens (B,) int64 -> logits (B, V) float32 and the grown cache."""
        tokens = np.ascontiguousarray(tokens, dtype=np.int64)[:, None]
        if not self.graphs.io_binding:
            feeds = {"input_ids": tokens, "encoder_attention_mask": state.mask,
                     **dict(zip(self._past_names, past)), **dict(zip(self._cross_names, state.cross))}
            outputs = self.step_session.run(None, feeds)
            return outputs[0], outputs[1:]
        binding = self.step_session.io_binding()
        binding.bind_cpu_input("input_ids", tokens)
        binding.bind_ortvalue_input("encoder_attention_mask", state.mask)
        for name, value in zip(self._past_names + self._cross_names, list(past) + list(state.cross)):
            binding.bind_ortvalue_input(name, value)
        binding.bind_output("logits", "cpu")
        for name in self._present_names:
            binding.bind_output(name, self.graphs.device_type)
        self.step_session.run_with_iobinding(binding)
        outputs = binding.get_outputs()
        return outputs[0].numpy(), list(outputs[1:])

    def first_step_logits(self, prompts: Sequence[str],
                          request_texts: Sequence[str | None] | None = None) -> np.ndarray:
        state = self.encode(prompts, request_texts)
        start = np.full(len(prompts), int(self.spec["decoder_start_token_id"]), dtype=np.int64)
        logits, _ = self.step(start, state, self._empty_past(len(prompts)))
        return logits

    # ------------------------------------------------------------------ decoding
    def generate_ids(self, prompts: Sequence[str], settings: GenerationSettings | None = None,
                     motion_codes: tuple[int, int] | None = None, seed: int | None = None,
                     request_texts: Sequence[str | None] | None = None,
                     guidance: Guidance | None = None) -> np.ndarray:
        """Token ids (B, 1 + n) starting with the decoder start token, finished rows padded (as HF generate).
        ``guidance``: classifier-free guidance (`motiongpt.lm.decoding.Guidance`): the prompts and their
        unconditional rows run as one batch of 2B."""
        settings = settings or GenerationSettings()
        if settings.num_beams != 1:
            raise ValueError("the ONNX Runtime backend decodes with num_beams=1 only")
        if settings.do_sample and not float(settings.temperature) > 0:  # before the encoder runs
            raise ValueError(f"temperature must be > 0, got {settings.temperature}")
        texts, requests = (prompts, request_texts) if guidance is None else guidance.rows(prompts, request_texts)
        eos = int(self.spec["eos_token_id"])
        max_new, allowed = motion_answer_limits(settings.max_new_tokens, motion_codes, self.first_motion_id,
                                                self.vocabulary, eos)
        raise_if_interrupted(self.interrupt)
        state = self.encode(texts, requests)
        cache = [self._empty_past(len(texts))]

        def step(tokens: np.ndarray) -> np.ndarray:
            logits, cache[0] = self.step(tokens, state, cache[0])
            return logits

        return decode_tokens(step, len(prompts), int(self.spec["decoder_start_token_id"]),
                             int(self.spec["pad_token_id"]), eos, max_new, settings.do_sample,
                             float(settings.temperature), int(settings.top_k), seed, allowed,
                             None if guidance is None else guidance.scale, lambda: raise_if_interrupted(self.interrupt))

    def generate(self, prompts: Sequence[str], settings: GenerationSettings | None = None,
                 motion_codes: tuple[int, int] | None = None, seed: int | None = None,
                 request_texts: Sequence[str | None] | None = None) -> list[str]:
        """One answer per prompt (batched); the contract of `MotionLanguageModel.generate`."""
        if not prompts:
            return []
        ids = self.generate_ids(prompts, settings, motion_codes, seed, request_texts)
        return self.tokenizer.batch_decode(ids.tolist(), skip_special_tokens=True)

    def target_log_likelihood(self, inputs: Sequence[str], targets: Sequence[str],
                              request_texts: Sequence[str | None] | None = None):
        """Summed log-probability of each target given its input (teacher forcing through the step graph)."""
        import torch

        if len(inputs) != len(targets):
            raise ValueError(f"log-likelihood: {len(inputs)} inputs but {len(targets)} targets")
        labels = self.tokenize(targets)
        ids, mask = labels["input_ids"].numpy(), labels["attention_mask"].numpy()
        state = self.encode(inputs, request_texts)
        past = self._empty_past(len(inputs))
        tokens = np.full(len(inputs), int(self.spec["decoder_start_token_id"]), dtype=np.int64)
        total = np.zeros(len(inputs), dtype=np.float64)
        for position in range(ids.shape[1]):
            logits, past = self.step(tokens, state, past)
            logits = logits.astype(np.float64)
            peak = logits.max(axis=1, keepdims=True)
            log_probs = logits - peak - np.log(np.exp(logits - peak).sum(axis=1, keepdims=True))
            picked = log_probs[np.arange(len(inputs)), ids[:, position]]
            total += picked * mask[:, position]
            tokens = ids[:, position]
        return torch.from_numpy(total.astype(np.float32))


class OnnxMotionTokenizer:
    """The motion tokenizer's inference methods on ONNX Runtime (those `MotionGPT` uses)."""

    def __init__(self, folder: str | Path, device: str = "auto", intra_op_num_threads: int | None = None,
                 verify: bool = True):
        from motiongpt.normalization import Normalizer
        from motiongpt.tokenizer import VQVAEConfig

        self.folder, self.manifest = read_manifest(folder)
        if not self.manifest.get("motion_tokenizer"):
            raise OnnxModelError(f"{self.folder}: the export has no motion tokenizer")
        self.config = VQVAEConfig.from_dict(self.manifest["motion_tokenizer"], source=str(self.folder / MANIFEST_FILE))
        self.graphs = _Graphs(self.folder, self.manifest, device, intra_op_num_threads, verify, io_binding=False)
        try:
            self.normalizer = Normalizer.load(self.folder)
        except Exception as error:  # missing or malformed mean/std
            raise OnnxModelError(f"{self.folder}: cannot load the normaliser (mean.npy/std.npy): {error}") from error
        self.decoder_session = self.graphs.session("motion_decoder")
        self.encoder_session = self.graphs.session("motion_encoder")

    @property
    def frames_per_code(self) -> int:
        return self.config.frames_per_code

    def eval(self) -> "OnnxMotionTokenizer":
        return self

    def to(self, *_args, **_kwargs) -> "OnnxMotionTokenizer":
        return self

    def decode(self, codes) -> np.ndarray:
        """Codes (B, L) or (L,) -> normalised features (B, 4L, nfeats) float32."""
        codes = np.asarray(codes)
        if codes.dtype.kind not in "iu":
            raise ValueError(f"decode: codes must be integers, got dtype {codes.dtype}")
        if codes.ndim == 1:
            codes = codes[None]
        if codes.ndim != 2 or codes.shape[1] == 0:
            raise ValueError(f"decode: expected codes of shape (B, L) or (L,) with L >= 1, got {codes.shape}")
        if codes.min() < 0 or codes.max() >= self.config.code_num:
            raise ValueError(f"decode: codes must lie in [0, {self.config.code_num - 1}]")
        return self.decoder_session.run(None, {"codes": codes.astype(np.int64)})[0]

    def decode_to_features(self, codes) -> np.ndarray:
        normalized = self.decode(codes)
        if normalized.shape[0] != 1:
            raise ValueError(f"decode_to_features: expected one sequence of codes, "
                             f"got a batch of {normalized.shape[0]}")
        return np.asarray(self.normalizer.denormalize(normalized[0]), dtype=np.float32)

    def decode_to_joints(self, codes) -> np.ndarray:
        from motiongpt.features import recover_from_ric
        return np.asarray(recover_from_ric(self.decode_to_features(codes)), dtype=np.float32)

    def encode(self, features_normalized) -> np.ndarray:
        """Normalised features (B, T, nfeats) or (T, nfeats) -> codes (B, T // 4) int64."""
        x = np.asarray(features_normalized, dtype=np.float32)
        if x.ndim == 2:
            x = x[None]
        if x.ndim != 3 or x.shape[-1] != self.config.nfeats or x.shape[1] < self.frames_per_code:
            raise ValueError(f"encode: expected normalised features (B, T >= 4, {self.config.nfeats}), got {x.shape}")
        usable = (x.shape[1] // self.frames_per_code) * self.frames_per_code
        return self.encoder_session.run(None, {"features_normalized": np.ascontiguousarray(x[:, :usable])})[0]

    def encode_motion(self, motion: np.ndarray) -> np.ndarray:
        from motiongpt.tokenizer.model import motion_features

        features = motion_features(motion, self.config.nfeats)
        normalized = self.normalizer.normalize(np.asarray(features, dtype=np.float32))
        return self.encode(normalized[None])[0]


def load_onnx_motiongpt(folder: str | Path, device: str = "auto", intra_op_num_threads: int | None = None,
                        verify: bool = True, check_source: bool = True):
    """A `MotionGPT` on ONNX Runtime from a model folder with an onnx/ export (the grounding and the
    text-to-motion settings come from the folder's motiongpt.yaml, as `MotionGPT.from_pretrained`)."""
    import yaml

    from motiongpt.lm.api import MANIFEST_FILE as MODEL_MANIFEST, MotionGPT
    from motiongpt.lm.sentence_encoder import SentenceEncoderError
    from motiongpt.lm.text_grounding import CaptionGrounding, GroundingConfigError, TextToMotionSettings

    folder = Path(folder)
    onnx_folder, manifest = read_manifest(folder)
    if check_source:
        stale = check_stale(folder, manifest)
        if stale:
            raise OnnxModelError(f"{onnx_folder}: exported from other weights than {folder} has now ({stale}); "
                                 f"re-run `motiongpt export onnx --model {folder}`")
    language_model = OnnxLanguageModel(onnx_folder, device, intra_op_num_threads, verify)
    tokenizer = OnnxMotionTokenizer(onnx_folder, device, intra_op_num_threads, verify)
    settings, grounding, max_codes = TextToMotionSettings(), None, manifest.get("max_codes") or 50
    model_manifest = folder / MODEL_MANIFEST
    if model_manifest.is_file():
        document = yaml.safe_load(model_manifest.read_text()) or {}
        max_codes = int(document.get("max_codes", max_codes))
        try:
            settings = TextToMotionSettings.from_dict(document.get("text_to_motion"))
            grounding = CaptionGrounding.from_settings(settings, folder, loaded=language_model.loaded_encoders())
        except (GroundingConfigError, SentenceEncoderError, TypeError) as error:
            raise ModelLoadError(f"{model_manifest}: text_to_motion: {error}") from error
    model = MotionGPT(language_model, tokenizer, max_codes=int(max_codes), text_to_motion=settings, grounding=grounding)
    model.load_meaning_index(folder)
    return model


CHECK_PROMPTS = ("a person walks forward", "someone jumps up high", "a person kicks with the right leg")


def compare_with_torch(model_folder: str | Path, onnx_folder: str | Path | None = None,
                       prompts: Sequence[str] = CHECK_PROMPTS) -> dict[str, Any]:
    """ONNX Runtime (CPU) against PyTorch on fixed inputs: encoder states, first-step logits, greedy
    text-to-motion tokens, decoded features and joints (max abs differences)."""
    import torch
    import yaml

    from motiongpt.features import recover_from_ric
    from motiongpt.lm.model import MotionLanguageModel
    from motiongpt.lm.templates import CAPTION, T2M_PROMPT
    from motiongpt.tokenizer import MotionTokenizer

    model_folder = Path(model_folder)
    document = yaml.safe_load((model_folder / "motiongpt.yaml").read_text()) or {}
    reference = MotionLanguageModel.from_pretrained(model_folder / str(document["language_model"]))
    onnx_lm = OnnxLanguageModel(onnx_folder or model_folder, device="cpu")
    texts = [T2M_PROMPT.replace(CAPTION, p) for p in prompts]
    requests = list(prompts)
    with torch.no_grad():
        encoded = reference.encoder_inputs(texts, requests)
        hidden = reference.t5.encoder(**encoded).last_hidden_state
        start = torch.full((len(texts), 1), int(reference.t5.config.decoder_start_token_id), dtype=torch.long)
        logits = reference.t5(**encoded, decoder_input_ids=start).logits[:, -1]
    state = onnx_lm.encode(texts, requests)
    greedy = GenerationSettings(do_sample=False)
    torch_tokens = reference.generate(texts, greedy, motion_codes=(5, 20), request_texts=requests)
    onnx_tokens = onnx_lm.generate(texts, greedy, motion_codes=(5, 20), request_texts=requests)
    report = {
        "encoder_max_abs_diff": float(np.abs(hidden.numpy() - state.hidden).max()),
        "first_step_logits_max_abs_diff": float(np.abs(logits.numpy()
                                                       - onnx_lm.first_step_logits(texts, requests)).max()),
        "greedy_t2m_identical": torch_tokens == onnx_tokens,
    }
    tokenizer = MotionTokenizer.from_pretrained(model_folder / str(document["motion_tokenizer"]))
    onnx_tokenizer = OnnxMotionTokenizer(onnx_folder or model_folder, device="cpu")
    codes = np.arange(20, dtype=np.int64) * 7 % tokenizer.config.code_num
    features = tokenizer.decode_to_features(codes)
    onnx_features = onnx_tokenizer.decode_to_features(codes)
    report["features_max_abs_diff"] = float(np.abs(features - onnx_features).max())
    report["joints_max_abs_diff_m"] = float(np.abs(np.asarray(recover_from_ric(features))
                                                   - np.asarray(recover_from_ric(onnx_features))).max())
    report["encoder_codes_identical"] = bool(np.array_equal(tokenizer.encode_motion(features),
                                                            onnx_tokenizer.encode_motion(features)))
    return report
