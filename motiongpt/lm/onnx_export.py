"""Export a MotionGPT model folder to ONNX: the language model (encoder; decoder step with a KV cache) and the
motion tokenizer (encoder and decoder), for inference on ONNX Runtime (`motiongpt.lm.onnx_runtime`).

    motiongpt export onnx --model models/motiongpt-small [--out models/motiongpt-small/onnx]

Graphs (TorchScript-based ``torch.onnx.export``, ``dynamo=False``, opset `OPSET`, float32):

``lm_encoder.onnx``
    input_ids (B, L) int64, attention_mask (B, L) int64 [, sentence_vectors (B, E) float32 with text
    conditioning] -> encoder_hidden_states (B, S, d), encoder_attention_mask (B, S) int64 (S = L, or P + L
    with the sentence-vector prefix), and for every decoder layer i the cross-attention keys/values
    cross_key_i / cross_value_i (B, H, S, d_kv): they are computed once per prompt batch.
``lm_decoder_step.onnx``
    input_ids (B, 1) int64 (the last token), encoder_attention_mask (B, S) int64, past_key_i / past_value_i
    (B, H, P, d_kv) (P = 0 at the first step), cross_key_i / cross_value_i -> logits (B, V) float32 and
    present_key_i / present_value_i (B, H, P + 1, d_kv): the self-attention cache grows by one per step.
``motion_decoder.onnx``
    codes (B, L) int64 -> features_normalized (B, 4L, 263) float32 (de-normalised with mean.npy / std.npy).
``motion_encoder.onnx``
    features_normalized (B, T, 263) float32, T a multiple of 4 -> codes (B, T/4) int64.

The T5 graphs are written from `T5EncoderGraph` / `T5DecoderStepGraph`, which run Hugging Face's own T5
sub-modules (layer norms, projections, feed-forward, relative position bias) with the attention and the
cache written out explicitly, so that the traced graph has plain tensors in and out (no Cache objects).
The folder also receives the text tokenizer files, ``motion_vocabulary.json``, the text conditioning config,
the normaliser's mean/std and ``onnx_manifest.json`` (opset, inputs/outputs with dtypes and shapes, the
sha256 of each graph and of the source weights).
"""
from __future__ import annotations

import hashlib
import json
import logging
import shutil
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

LOGGER = logging.getLogger(__name__)

OPSET = 17
ONNX_FOLDER = "onnx"
MANIFEST_FILE = "onnx_manifest.json"
FORMAT_NAME = "motiongpt-onnx"
FORMAT_VERSION = 1
LM_ENCODER = "lm_encoder.onnx"
LM_DECODER_STEP = "lm_decoder_step.onnx"
MOTION_DECODER = "motion_decoder.onnx"
MOTION_ENCODER = "motion_encoder.onnx"


def _additive_mask(mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """(B, K) 1/0 mask -> (B, 1, 1, K) additive bias (0 or the dtype's lowest value)."""
    return (1.0 - mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min


def _positions(reference: torch.Tensor) -> torch.Tensor:
    """0 .. n-1 (int64) for a 1-d ``reference`` of length n, from data (no traced shapes)."""
    return (torch.cumsum(torch.ones_like(reference, dtype=torch.float32), 0) - 1).to(torch.long)


def _attend(query, key, value, bias):
    scores = torch.matmul(query, key.transpose(2, 3)) + bias  # T5: no 1/sqrt(d) scaling
    weights = torch.softmax(scores.float(), dim=-1).to(query.dtype)
    return torch.matmul(weights, value)


class _T5Parts(nn.Module):
    def __init__(self, t5):
        super().__init__()
        config = t5.config
        self.heads = int(config.num_heads)
        self.d_kv = int(config.d_kv)
        self.buckets = int(config.relative_attention_num_buckets)
        self.max_distance = int(config.relative_attention_max_distance)

    def _split(self, x: torch.Tensor) -> torch.Tensor:  # (B, L, H*dk) -> (B, H, L, dk)
        return x.view(x.shape[0], -1, self.heads, self.d_kv).transpose(1, 2)

    def _merge(self, x: torch.Tensor) -> torch.Tensor:  # (B, H, L, dk) -> (B, L, H*dk)
        return x.transpose(1, 2).reshape(x.shape[0], -1, self.heads * self.d_kv)

    def _bias(self, attention, relative: torch.Tensor, bidirectional: bool) -> torch.Tensor:
        """(Q, K) relative positions -> (1, H, Q, K) learnt bias of ``attention`` (a T5Attention)."""
        buckets = attention._relative_position_bucket(relative, bidirectional=bidirectional,
                                                      num_buckets=self.buckets, max_distance=self.max_distance)
        return attention.relative_attention_bias(buckets).permute(2, 0, 1).unsqueeze(0)


class T5EncoderGraph(_T5Parts):
    """Token ids (+ sentence vectors) -> encoder states, the extended mask and every decoder layer's
    cross-attention keys/values."""

    def __init__(self, t5, projection=None):
        super().__init__(t5)
        self.embed = t5.get_input_embeddings()
        self.encoder = t5.encoder
        self.decoder_blocks = t5.decoder.block
        self.projection = projection

    def forward(self, input_ids, attention_mask, sentence_vectors=None):
        hidden = self.embed(input_ids)
        mask = attention_mask
        if self.projection is not None:
            hidden, mask = self.projection.extend(hidden, attention_mask, sentence_vectors)
        positions = _positions(mask[0])
        relative = positions[None, :] - positions[:, None]
        blocks = self.encoder.block
        bias = self._bias(blocks[0].layer[0].SelfAttention, relative, True) + _additive_mask(mask, hidden.dtype)
        for block in blocks:
            attention_layer, ff_layer = block.layer[0], block.layer[-1]
            attention = attention_layer.SelfAttention
            normed = attention_layer.layer_norm(hidden)
            output = _attend(self._split(attention.q(normed)), self._split(attention.k(normed)),
                             self._split(attention.v(normed)), bias)
            hidden = hidden + attention.o(self._merge(output))
            hidden = ff_layer(hidden)
        hidden = self.encoder.final_layer_norm(hidden)
        cross = []
        for block in self.decoder_blocks:
            attention = block.layer[1].EncDecAttention
            cross += [self._split(attention.k(hidden)), self._split(attention.v(hidden))]
        return (hidden, mask, *cross)


class T5DecoderStepGraph(_T5Parts):
    """One decoder step with the self-attention KV cache: last token + past -> logits + present."""

    def __init__(self, t5):
        super().__init__(t5)
        self.embed = t5.get_input_embeddings()
        self.decoder = t5.decoder
        self.lm_head = t5.lm_head
        self.scale = float(t5.config.d_model) ** -0.5 if getattr(t5.config, "scale_decoder_outputs", False) else None
        self.layers = len(t5.decoder.block)

    def forward(self, input_ids, encoder_attention_mask, *caches):
        n = self.layers
        past, cross = caches[:2 * n], caches[2 * n:]
        hidden = self.embed(input_ids)  # (B, 1, d)
        blocks = self.decoder.block
        presents = []
        cross_bias = _additive_mask(encoder_attention_mask, hidden.dtype)
        self_bias = None
        for i, block in enumerate(blocks):
            self_layer, cross_layer, ff_layer = block.layer[0], block.layer[1], block.layer[2]
            attention = self_layer.SelfAttention
            normed = self_layer.layer_norm(hidden)
            key = torch.cat([past[2 * i], self._split(attention.k(normed))], dim=2)
            value = torch.cat([past[2 * i + 1], self._split(attention.v(normed))], dim=2)
            presents += [key, value]
            if self_bias is None:
                memory = _positions(key[0, 0, :, 0])
                relative = (memory - memory[-1])[None, :]  # the query is the newest position
                self_bias = self._bias(blocks[0].layer[0].SelfAttention, relative, False)
            output = _attend(self._split(attention.q(normed)), key, value, self_bias)
            hidden = hidden + attention.o(self._merge(output))
            attention = cross_layer.EncDecAttention
            normed = cross_layer.layer_norm(hidden)
            output = _attend(self._split(attention.q(normed)), cross[2 * i], cross[2 * i + 1], cross_bias)
            hidden = hidden + attention.o(self._merge(output))
            hidden = ff_layer(hidden)
        hidden = self.decoder.final_layer_norm(hidden)
        if self.scale is not None:
            hidden = hidden * self.scale
        return (self.lm_head(hidden)[:, -1, :], *presents)


class MotionDecoderGraph(nn.Module):
    def __init__(self, tokenizer):
        super().__init__()
        self.codebook = tokenizer.quantizer.codebook.detach().clone()
        self.decoder = tokenizer.decoder

    def forward(self, codes):
        quantized = torch.nn.functional.embedding(codes, self.codebook).permute(0, 2, 1)
        return self.decoder(quantized).permute(0, 2, 1)


class MotionEncoderGraph(nn.Module):
    def __init__(self, tokenizer):
        super().__init__()
        self.codebook = tokenizer.quantizer.codebook.detach().clone()
        self.encoder = tokenizer.encoder

    def forward(self, features_normalized):
        latents = self.encoder(features_normalized.permute(0, 2, 1)).permute(0, 2, 1)  # (B, L, D)
        distance = (latents.pow(2).sum(dim=-1, keepdim=True) - 2.0 * torch.matmul(latents, self.codebook.t())
                    + self.codebook.pow(2).sum(dim=1)[None, None, :])
        return distance.argmin(dim=-1)


# ---------------------------------------------------------------------- export
def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _export(module: nn.Module, args: tuple, path: Path, inputs: list[str], outputs: list[str],
            dynamic: dict[str, dict[int, str]], opset: int) -> None:
    module.eval()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation and tracer warnings
        torch.onnx.export(module, args, str(path), input_names=inputs, output_names=outputs,
                          dynamic_axes=dynamic, opset_version=opset, dynamo=False, do_constant_folding=True)


def _describe(path: Path) -> dict[str, Any]:
    import onnx

    model = onnx.load(str(path), load_external_data=False)

    def tensors(values):
        described = []
        for value in values:
            kind = value.type.tensor_type
            shape = [d.dim_param or d.dim_value for d in kind.shape.dim]
            described.append({"name": value.name, "dtype": onnx.helper.tensor_dtype_to_np_dtype(kind.elem_type).name,
                              "shape": shape})
        return described

    return {"file": path.name, "sha256": sha256_file(path), "bytes": path.stat().st_size,
            "inputs": tensors(model.graph.input), "outputs": tensors(model.graph.output)}


def export_language_model(language_model, out: Path, opset: int = OPSET) -> dict[str, Any]:
    """Write the two T5 graphs of a `MotionLanguageModel` into ``out``; returns their manifest entries."""
    t5 = language_model.t5
    t5.eval()
    projection = language_model.projection
    if projection is not None:
        projection.eval()
    config = t5.config
    layers, heads, d_kv = len(t5.decoder.block), int(config.num_heads), int(config.d_kv)
    cpu = {"device": "cpu"}
    t5.to(**cpu)
    if projection is not None:
        projection.to(**cpu)
    ids = torch.tensor([[5, 6, 7, 1], [5, 6, 1, 0]], dtype=torch.long)
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]], dtype=torch.long)
    encoder = T5EncoderGraph(t5, projection)
    cross_names = [f"cross_{kind}_{i}" for i in range(layers) for kind in ("key", "value")]
    inputs = ["input_ids", "attention_mask"]
    args: tuple = (ids, mask)
    if projection is not None:
        inputs.append("sentence_vectors")
        args = (ids, mask, torch.randn(2, projection.linear.in_features))
    dynamic = {"input_ids": {0: "batch", 1: "prompt_length"}, "attention_mask": {0: "batch", 1: "prompt_length"},
               "encoder_hidden_states": {0: "batch", 1: "encoder_length"},
               "encoder_attention_mask": {0: "batch", 1: "encoder_length"}}
    if projection is not None:
        dynamic["sentence_vectors"] = {0: "batch"}
    dynamic.update({name: {0: "batch", 2: "encoder_length"} for name in cross_names})
    _export(encoder, args, out / LM_ENCODER, inputs, ["encoder_hidden_states", "encoder_attention_mask", *cross_names],
            dynamic, opset)
    with torch.no_grad():
        encoded = encoder(*args)
    enc_mask, cross = encoded[1], encoded[2:]
    past = [torch.randn(2, heads, 3, d_kv) for _ in range(2 * layers)]
    past_names = [f"past_{kind}_{i}" for i in range(layers) for kind in ("key", "value")]
    present_names = [f"present_{kind}_{i}" for i in range(layers) for kind in ("key", "value")]
    step_dynamic = {"input_ids": {0: "batch"}, "encoder_attention_mask": {0: "batch", 1: "encoder_length"},
                    "logits": {0: "batch"}}
    step_dynamic.update({name: {0: "batch", 2: "past_length"} for name in past_names})
    step_dynamic.update({name: {0: "batch", 2: "encoder_length"} for name in cross_names})
    step_dynamic.update({name: {0: "batch", 2: "present_length"} for name in present_names})
    _export(T5DecoderStepGraph(t5), (torch.tensor([[0], [0]]), enc_mask, *past, *cross), out / LM_DECODER_STEP,
            ["input_ids", "encoder_attention_mask", *past_names, *cross_names], ["logits", *present_names],
            step_dynamic, opset)
    return {"lm_encoder": _describe(out / LM_ENCODER), "lm_decoder_step": _describe(out / LM_DECODER_STEP)}


def export_motion_tokenizer(tokenizer, out: Path, opset: int = OPSET) -> dict[str, Any]:
    tokenizer = tokenizer.to("cpu").eval()
    nfeats = int(tokenizer.config.nfeats)
    _export(MotionDecoderGraph(tokenizer), (torch.tensor([[0, 1, 2]], dtype=torch.long),), out / MOTION_DECODER,
            ["codes"], ["features_normalized"],
            {"codes": {0: "batch", 1: "codes"}, "features_normalized": {0: "batch", 1: "frames"}}, opset)
    _export(MotionEncoderGraph(tokenizer), (torch.randn(1, 16, nfeats),), out / MOTION_ENCODER,
            ["features_normalized"], ["codes"],
            {"features_normalized": {0: "batch", 1: "frames"}, "codes": {0: "batch", 1: "codes"}}, opset)
    return {"motion_decoder": _describe(out / MOTION_DECODER), "motion_encoder": _describe(out / MOTION_ENCODER)}


def _copy_lm_files(lm_folder: Path, out: Path) -> list[str]:
    """The text tokenizer, vocabulary and conditioning config of the LM folder (everything but weights)."""
    copied = []
    for path in sorted(lm_folder.iterdir()):
        if path.is_file() and path.suffix not in (".safetensors", ".bin", ".pt", ".pth", ".onnx"):
            shutil.copy2(path, out / path.name)
            copied.append(path.name)
    return copied


def _source_hashes(paths: dict[str, Path]) -> dict[str, str]:
    return {name: sha256_file(path) for name, path in sorted(paths.items()) if path.is_file()}


def source_weight_files(model_folder: Path, lm_folder: Path, tokenizer_folder: Path) -> dict[str, Path]:
    """The weight files an export is made from (their sha256 go into the manifest), by their names in the folder."""
    files = [lm_folder / "model.safetensors", lm_folder / "text_projection.safetensors",
             tokenizer_folder / "model.safetensors", tokenizer_folder / "mean.npy", tokenizer_folder / "std.npy"]
    return {path.relative_to(model_folder).as_posix(): path for path in files}


def export_onnx(language_model, motion_tokenizer, out: str | Path, opset: int = OPSET,
                lm_folder: str | Path | None = None, source: dict[str, str] | None = None,
                max_codes: int | None = None) -> Path:
    """Export a language model and (optionally) a motion tokenizer into ``out`` with a manifest.

    ``lm_folder``: the saved language model folder whose tokenizer files are copied (default: the language
    model's tokenizer and vocabulary are saved into ``out`` directly)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MANIFEST_FILE).unlink(missing_ok=True)  # a half-written export is never recognised
    graphs = export_language_model(language_model, out, opset)
    if lm_folder is not None:
        copied = _copy_lm_files(Path(lm_folder), out)
    else:
        language_model.tokenizer.save_pretrained(str(out))
        (out / "motion_vocabulary.json").write_text(json.dumps({"code_num": language_model.vocabulary.code_num}) + "\n")
        if language_model.conditioning is not None:
            from dataclasses import asdict
            from motiongpt.lm.text_conditioning import CONDITIONING_FILE
            (out / CONDITIONING_FILE).write_text(json.dumps(asdict(language_model.conditioning), indent=1) + "\n")
        copied = sorted(p.name for p in out.iterdir() if p.suffix != ".onnx")
    tokenizer_entry = None
    if motion_tokenizer is not None:
        graphs.update(export_motion_tokenizer(motion_tokenizer, out, opset))
        if motion_tokenizer.normalizer is not None:
            motion_tokenizer.normalizer.save(out)
        tokenizer_entry = motion_tokenizer.config.to_dict()
    config = language_model.t5.config
    conditioning = language_model.conditioning
    manifest = {
        "format": FORMAT_NAME, "format_version": FORMAT_VERSION, "opset": opset,
        "exporter": f"torch.onnx.export (TorchScript, dynamo=False), torch {torch.__version__}",
        "dtype": "float32",
        "language_model": {
            "num_decoder_layers": len(language_model.t5.decoder.block), "num_heads": int(config.num_heads),
            "d_kv": int(config.d_kv), "d_model": int(config.d_model),
            "vocab_size": int(language_model.t5.get_input_embeddings().weight.shape[0]),
            "decoder_start_token_id": int(config.decoder_start_token_id),
            "pad_token_id": int(language_model.tokenizer.pad_token_id),
            "eos_token_id": int(language_model.tokenizer.eos_token_id),
            "first_motion_id": int(language_model.first_motion_id), "code_num": int(language_model.vocabulary.code_num),
            "max_input_length": int(language_model.max_input_length),
            "text_conditioning": None if conditioning is None else {
                "prefix_tokens": int(conditioning.prefix_tokens), "embedding_dim": int(conditioning.embedding_dim),
                "sentence_encoder": conditioning.sentence_encoder},
        },
        "motion_tokenizer": tokenizer_entry,
        "max_codes": max_codes,
        "graphs": graphs,
        "files": copied,
        "source": source or {},
    }
    (out / MANIFEST_FILE).write_text(json.dumps(manifest, indent=1) + "\n")
    return out


def export_model_folder(model_folder: str | Path, out: str | Path | None = None, opset: int = OPSET) -> Path:
    """Export a MotionGPT model folder (motiongpt.yaml, lm/, tokenizer/) into ``out`` (default: its onnx/)."""
    from motiongpt.lm.api import read_manifest
    from motiongpt.lm.model import MotionLanguageModel
    from motiongpt.tokenizer import MotionTokenizer

    model_folder = Path(model_folder)
    manifest, lm_folder, tokenizer_folder = read_manifest(model_folder)
    language_model = MotionLanguageModel.from_pretrained(lm_folder)
    motion_tokenizer = MotionTokenizer.from_pretrained(tokenizer_folder)
    out = Path(out) if out is not None else model_folder / ONNX_FOLDER
    return export_onnx(language_model, motion_tokenizer, out, opset, lm_folder=lm_folder,
                       source=_source_hashes(source_weight_files(model_folder, lm_folder, tokenizer_folder)),
                       max_codes=int(manifest.get("max_codes", 50)))
