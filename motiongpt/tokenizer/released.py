"""Loading the tokenizer of the released MotionGPT checkpoint (`motiongpt_s3_h3d.tar`, code
release of Jiang et al., NeurIPS 2023): a `torch.save` zip whose `state_dict` holds the VQ-VAE under the prefix `vae.`
(next to the language model's `lm.*` tensors). The `vae.*` tensors load strictly into the default
(full-size) `VQVAEConfig`; the statistics are MotionGPT's official mean/std.
"""
from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import torch

from motiongpt.tokenizer.config import VQVAEConfig
from motiongpt.tokenizer.errors import TokenizerError
from motiongpt.tokenizer.model import MotionTokenizer

RELEASED_PREFIX = "vae."


def read_released_vae_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The `vae.*` tensors of a MotionGPT checkpoint, prefix stripped, as float32 CPU tensors."""
    path = Path(path)
    if not path.is_file():
        raise TokenizerError(f"{path}: checkpoint not found")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, pickle.UnpicklingError, zipfile.BadZipFile, EOFError, OSError) as error:
        raise TokenizerError(f"{path}: not a readable torch checkpoint ({error})") from error
    state = checkpoint.get("state_dict", checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict):
        raise TokenizerError(f"{path}: expected a dict with a 'state_dict', got {type(checkpoint).__name__}")
    vae = {k[len(RELEASED_PREFIX):]: v.float() for k, v in state.items()
           if isinstance(k, str) and k.startswith(RELEASED_PREFIX) and isinstance(v, torch.Tensor)}
    if not vae:
        raise TokenizerError(f"{path}: no '{RELEASED_PREFIX}*' tensors in the checkpoint's state_dict")
    return vae


def load_released_tokenizer(path: str | Path, config: VQVAEConfig | None = None,
                            normalizer=None) -> MotionTokenizer:
    """A `MotionTokenizer` with the released VQ-VAE weights (strict load) and, by default, the official
    MotionGPT normalisation statistics."""
    if normalizer is None:
        from motiongpt.normalization import Normalizer
        normalizer = Normalizer.official()
    model = MotionTokenizer(config or VQVAEConfig(), normalizer)
    model.load_weights(read_released_vae_state_dict(path), source=str(path))
    return model.eval()
