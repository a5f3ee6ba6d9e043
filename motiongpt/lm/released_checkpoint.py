"""The released MotionGPT checkpoint layout of Jiang et al., NeurIPS 2023 (the public OpenMotionLab/MotionGPT release: one file holding the VQ-VAE and the T5).

One ``torch.save`` file whose ``state_dict`` holds ``lm.language_model.*`` (a T5, vocabulary 32,615 for
flan-t5-base, untied ``lm_head``) and ``vae.*`` (the motion tokenizer), plus evaluator copies and loss
buffers that are ignored here. The file carries no T5 config and no tokenizer: those come from the base
T5 folder the checkpoint was trained from (``google/flan-t5-base``). Without a folder the architecture is
inferred from the tensor shapes, but a tokenizer is still needed.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoTokenizer, T5Config

from motiongpt.lm.model import (
    MotionLanguageModel,
    ModelLoadError,
    UntiedT5ForConditionalGeneration,
    add_motion_tokens,
    lm_head_is_tied,
)
from motiongpt.lm.vocabulary import MotionVocabulary

LOGGER = logging.getLogger(__name__)

LM_PREFIX = "lm.language_model."
VAE_PREFIX = "vae."
EMBEDDING_ALIASES = ("encoder.embed_tokens.weight", "decoder.embed_tokens.weight")


@dataclass
class ReleasedCheckpoint:
    language_model: MotionLanguageModel
    vae_state_dict: dict[str, torch.Tensor]  # keys without the "vae." prefix


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(f"checkpoint not found: {path}")
    try:
        # weights_only refuses arbitrary pickled objects; Lightning hyper-parameters that are not plain
        # containers would need the caller to convert the file first.
        payload = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as error:
        raise ModelLoadError(f"{path}: cannot read the checkpoint (torch.load, weights only): {error}") from error
    state = payload.get("state_dict", payload) if isinstance(payload, dict) else None
    if not isinstance(state, dict) or not any(k.startswith(LM_PREFIX) for k in state):
        raise ModelLoadError(f"{path}: no '{LM_PREFIX}*' tensors: not a MotionGPT checkpoint")
    return state


def infer_t5_config(lm_state: dict[str, torch.Tensor]) -> T5Config:
    """Rebuild a T5 v1.1 config from tensor shapes (used when no base T5 folder is given)."""
    try:
        vocab_size, d_model = lm_state["shared.weight"].shape
        n_enc = 1 + max(int(k.split(".")[2]) for k in lm_state if k.startswith("encoder.block."))
        n_dec = 1 + max(int(k.split(".")[2]) for k in lm_state if k.startswith("decoder.block."))
        buckets, heads = lm_state["encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"].shape
        inner = lm_state["encoder.block.0.layer.0.SelfAttention.q.weight"].shape[0]
        gated = "encoder.block.0.layer.1.DenseReluDense.wi_0.weight" in lm_state
        d_ff = lm_state[f"encoder.block.0.layer.1.DenseReluDense.{'wi_0' if gated else 'wi'}.weight"].shape[0]
    except (KeyError, ValueError) as error:
        raise ModelLoadError(f"cannot infer the T5 architecture from the checkpoint: missing {error}") from error
    return T5Config(
        vocab_size=int(vocab_size), d_model=int(d_model), d_kv=int(inner) // int(heads), num_heads=int(heads),
        d_ff=int(d_ff), num_layers=n_enc, num_decoder_layers=n_dec, relative_attention_num_buckets=int(buckets),
        feed_forward_proj="gated-gelu" if gated else "relu", tie_word_embeddings=False,
        pad_token_id=0, eos_token_id=1, decoder_start_token_id=0,
    )


def load_released_checkpoint(path: str | Path, base_t5_folder: str | Path | None = None,
                             tokenizer_folder: str | Path | None = None,
                             code_num: int | None = None) -> ReleasedCheckpoint:
    """Load ``lm.language_model.*`` into an untied T5 and return it with the ``vae.*`` tensors.

    ``base_t5_folder`` (flan-t5-base) gives the config and the tokenizer; ``tokenizer_folder`` overrides
    the tokenizer. The motion vocabulary size comes from ``code_num`` or the ``vae.quantizer.codebook``.
    """
    state = read_state_dict(path)
    lm_state = {k[len(LM_PREFIX):]: v for k, v in state.items() if k.startswith(LM_PREFIX)}
    vae_state = {k[len(VAE_PREFIX):]: v for k, v in state.items() if k.startswith(VAE_PREFIX)}
    if "lm_head.weight" not in lm_state or "shared.weight" not in lm_state:
        raise ModelLoadError(f"{path}: needs both lm.language_model.shared.weight and lm_head.weight")
    if code_num is None:
        codebook = vae_state.get("quantizer.codebook")
        code_num = int(codebook.shape[0]) if codebook is not None else 512
    vocabulary = MotionVocabulary(code_num)
    if base_t5_folder is not None:
        config = T5Config.from_pretrained(str(base_t5_folder))
        config.tie_word_embeddings = False
        config.vocab_size = int(lm_state["shared.weight"].shape[0])
    else:
        config = infer_t5_config(lm_state)
    token_source = tokenizer_folder or base_t5_folder
    if token_source is None:
        raise ModelLoadError(
            f"{path}: the checkpoint has no tokenizer; pass the base T5 folder (google/flan-t5-base)"
        )
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(token_source), legacy=True)
    except Exception as error:
        raise ModelLoadError(f"{token_source}: cannot load the tokenizer: {error}") from error
    add_motion_tokens(tokenizer, vocabulary)
    rows = int(lm_state["shared.weight"].shape[0])
    if len(tokenizer) != rows:
        raise ModelLoadError(
            f"{path}: the checkpoint embeds {rows} tokens but the tokenizer plus {vocabulary.size} motion "
            f"tokens has {len(tokenizer)}"
        )
    t5 = UntiedT5ForConditionalGeneration(config)
    for alias in EMBEDDING_ALIASES:
        lm_state.setdefault(alias, lm_state["shared.weight"])
    expected = set(t5.state_dict())
    missing, unexpected = expected - set(lm_state), set(lm_state) - expected
    if missing or unexpected:
        raise ModelLoadError(
            f"{path}: T5 tensors do not match the architecture: missing {sorted(missing)[:5]}, "
            f"unexpected {sorted(unexpected)[:5]}"
        )
    for name, tensor in t5.state_dict().items():
        if tuple(tensor.shape) != tuple(lm_state[name].shape):
            raise ModelLoadError(f"{path}: {LM_PREFIX}{name} has shape {tuple(lm_state[name].shape)}, "
                                 f"expected {tuple(tensor.shape)}")
    t5.load_state_dict(lm_state, strict=True)
    if lm_head_is_tied(t5) or not torch.equal(t5.lm_head.weight, lm_state["lm_head.weight"]):
        raise ModelLoadError(f"{path}: lm_head was not loaded as a separate tensor")
    t5.eval()
    return ReleasedCheckpoint(MotionLanguageModel(t5, tokenizer, vocabulary), vae_state)


def save_released_layout(model: MotionLanguageModel, path: str | Path,
                         vae_state_dict: dict[str, torch.Tensor] | None = None) -> Path:
    """Write ``model`` (and optional VAE tensors) in the released single-file layout."""
    state = {LM_PREFIX + k: v.detach().clone() for k, v in model.t5.state_dict().items()}
    for k, v in (vae_state_dict or {}).items():
        state[VAE_PREFIX + k] = v.detach().clone()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": state}, str(path))
    return path
