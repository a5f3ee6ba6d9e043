"""`MotionTokenizer`: the VQ-VAE that turns normalised HumanML3D features into discrete motion codes and back
(Jiang et al., "MotionGPT: Human Motion as a Foreign Language", NeurIPS 2023). Submodule names (`encoder`,
`decoder`, `quantizer`) match the released checkpoint's `vae.*` keys, so `load_state_dict` of those tensors
(prefix stripped) is strict.

Lengths: the encoder maps T frames to T // 4 codes (one code per `frames_per_code` = 4 frames). Frames
beyond the last multiple of 4 are dropped before encoding (they would only be half-seen by the strided
convolutions and the decoder never reconstructs them); so encode -> decode returns 4 * (T // 4) frames.
Fewer than 4 frames is an error.

A saved model is one folder: `model.safetensors` (weights, fp32 or fp16), `config.yaml` (the VQVAEConfig
under `model:`), and the normalisation statistics written by `Normalizer.save` (mean/std).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import yaml
from torch import nn

from motiongpt.tokenizer.config import VQVAEConfig
from motiongpt.tokenizer.encoder_decoder import Decoder, Encoder
from motiongpt.tokenizer.errors import TokenizerError
from motiongpt.tokenizer.quantizer import EMAResetQuantizer

if TYPE_CHECKING:
    from motiongpt.normalization import Normalizer

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.yaml"
FORMAT_NAME = "motiongpt-vqvae"


@dataclass
class TokenizerOutput:
    reconstruction: torch.Tensor    # (B, 4*(T//4), nfeats), normalised
    codes: torch.Tensor             # (B, T//4) int64
    commitment_loss: torch.Tensor   # scalar
    perplexity: torch.Tensor        # scalar


def motion_features(motion: np.ndarray, nfeats: int) -> np.ndarray:
    """The features a tokenizer encodes: joints (T, 22, 3) through `joints_to_features` (T - 1 frames), features
    (T, nfeats) as they are."""
    motion = np.asarray(motion)
    if motion.ndim == 3:
        from motiongpt.features import joints_to_features
        from motiongpt.validation import check_joints
        return joints_to_features(check_joints(motion, source="encode_motion"))
    if motion.ndim == 2:
        return motion
    raise TokenizerError(f"encode_motion: expected joints (T,22,3) or features (T,{nfeats}), got shape {motion.shape}")


class MotionTokenizer(nn.Module):
    def __init__(self, config: VQVAEConfig | None = None, normalizer: "Normalizer | None" = None) -> None:
        super().__init__()
        self.config = config or VQVAEConfig()
        self.encoder = Encoder(self.config)
        self.quantizer = EMAResetQuantizer(self.config.code_num, self.config.code_dim, self.config.mu)
        self.decoder = Decoder(self.config)
        self.normalizer = normalizer

    # ------------------------------------------------------------------ properties
    @property
    def frames_per_code(self) -> int:
        return self.config.frames_per_code

    @property
    def device(self) -> torch.device:
        return self.quantizer.codebook.device

    def num_parameters(self) -> int:
        """Learnt parameters, frozen ones included (the codebook is a buffer and is not counted)."""
        return sum(p.numel() for p in self.parameters())

    # ------------------------------------------------------------------ training forward
    def forward(self, features_normalized: torch.Tensor) -> TokenizerOutput:
        """(B, T, nfeats) normalised features -> reconstruction, codes, commitment loss, perplexity."""
        x = self._crop(features_normalized)
        latents = self.encoder(x.permute(0, 2, 1))
        quantized = self.quantizer(latents)
        reconstruction = self.decoder(quantized.quantized).permute(0, 2, 1)
        return TokenizerOutput(reconstruction, quantized.codes, quantized.commitment_loss, quantized.perplexity)

    def _crop(self, x: torch.Tensor) -> torch.Tensor:
        usable = (x.shape[1] // self.frames_per_code) * self.frames_per_code
        return x[:, :usable]

    # ------------------------------------------------------------------ inference API
    @torch.no_grad()
    def encode(self, features_normalized: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Normalised features (B, T, nfeats) (or (T, nfeats) as a batch of one) -> int64 codes (B, T // 4)."""
        x = self._check_features(features_normalized)
        latents = self.encoder(self._crop(x).permute(0, 2, 1))
        flat = latents.permute(0, 2, 1).reshape(-1, latents.shape[1])
        return self.quantizer.nearest_codes(flat).view(x.shape[0], -1)

    @torch.no_grad()
    def decode(self, codes: torch.Tensor | np.ndarray | list) -> torch.Tensor:
        """Codes (B, L) or (L,) -> normalised features (B, 4L, nfeats) (float32, on the model's device)."""
        codes = self._check_codes(codes)
        quantized = self.quantizer.dequantize(codes).permute(0, 2, 1)
        return self.decoder(quantized).permute(0, 2, 1)

    def encode_motion(self, motion: np.ndarray) -> np.ndarray:
        """Joints (T, 22, 3) (metres, Y up) or un-normalised features (T, nfeats) -> codes (T' // 4,) int64.
        Joints are converted with `joints_to_features` (which yields T - 1 feature frames)."""
        features = motion_features(motion, self.config.nfeats)
        normalized = self._require_normalizer().normalize(np.asarray(features, dtype=np.float32))
        return self.encode(normalized[None]).cpu().numpy()[0]

    def decode_to_features(self, codes: torch.Tensor | np.ndarray | list) -> np.ndarray:
        """Codes (L,) -> un-normalised features (4L, nfeats) as float32 numpy."""
        normalized = self.decode(codes).float().cpu().numpy()
        if normalized.shape[0] != 1:
            raise TokenizerError(f"decode_to_features: expected one sequence of codes, got a batch of {normalized.shape[0]}")
        return np.asarray(self._require_normalizer().denormalize(normalized[0]), dtype=np.float32)

    def decode_to_joints(self, codes: torch.Tensor | np.ndarray | list) -> np.ndarray:
        """Codes (L,) -> joint positions (4L, 22, 3), metres, Y up, 20 fps."""
        from motiongpt.features import recover_from_ric
        return np.asarray(recover_from_ric(self.decode_to_features(codes)), dtype=np.float32)

    # ------------------------------------------------------------------ input checks
    def _check_features(self, features: Any) -> torch.Tensor:
        if isinstance(features, np.ndarray):
            features = torch.from_numpy(np.ascontiguousarray(features))
        if not isinstance(features, torch.Tensor):
            raise TokenizerError(f"encode: expected a tensor of normalised features, got {type(features).__name__}")
        if features.ndim == 2:
            features = features[None]
        if features.ndim != 3 or features.shape[-1] != self.config.nfeats:
            raise TokenizerError(f"encode: expected normalised features of shape (B, T, {self.config.nfeats}), "
                                 f"got {tuple(features.shape)}")
        if not features.is_floating_point():
            raise TokenizerError(f"encode: features must be floating point, got {features.dtype}")
        if features.shape[1] < self.frames_per_code:
            raise TokenizerError(f"encode: need at least {self.frames_per_code} frames (one code), "
                                 f"got {features.shape[1]}")
        if not torch.isfinite(features).all():
            raise TokenizerError("encode: features contain NaN or infinite values")
        return features.to(device=self.device, dtype=self.quantizer.codebook.dtype)

    def _check_codes(self, codes: Any) -> torch.Tensor:
        if isinstance(codes, (list, tuple)):
            codes = np.asarray(codes)
        if isinstance(codes, np.ndarray):
            if codes.dtype.kind not in "iu":
                raise TokenizerError(f"decode: codes must be integers, got dtype {codes.dtype}")
            codes = torch.from_numpy(codes.astype(np.int64))
        if not isinstance(codes, torch.Tensor):
            raise TokenizerError(f"decode: expected integer codes, got {type(codes).__name__}")
        if codes.is_floating_point() or codes.is_complex() or codes.dtype == torch.bool:
            raise TokenizerError(f"decode: codes must be integers, got {codes.dtype}")
        if codes.ndim == 1:
            codes = codes[None]
        if codes.ndim != 2 or codes.shape[1] == 0:
            raise TokenizerError(f"decode: expected codes of shape (B, L) or (L,) with L >= 1, got {tuple(codes.shape)}")
        low, high = int(codes.min()), int(codes.max())
        if low < 0 or high >= self.config.code_num:
            bad = codes[(codes < 0) | (codes >= self.config.code_num)].unique()[:8].tolist()
            raise TokenizerError(f"decode: codes must lie in [0, {self.config.code_num - 1}] (codebook size "
                                 f"{self.config.code_num}); got out-of-range values {bad}")
        return codes.to(device=self.device, dtype=torch.long)

    def _require_normalizer(self) -> "Normalizer":
        if self.normalizer is None:
            raise TokenizerError("this tokenizer has no normalizer (mean/std); construct it with one or load a saved folder")
        return self.normalizer

    # ------------------------------------------------------------------ save / load
    def save_pretrained(self, folder: str | Path, dtype: torch.dtype = torch.float32,
                        metadata: dict[str, Any] | None = None) -> Path:
        """Write weights (safetensors, `dtype`), config.yaml and the normaliser's mean/std into `folder`."""
        from safetensors.torch import save_file
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        tensors = {k: v.detach().to("cpu", dtype if v.is_floating_point() else v.dtype).contiguous()
                   for k, v in self.state_dict().items()}
        save_file(tensors, str(folder / WEIGHTS_FILE), metadata={"format": FORMAT_NAME})
        document = {"format": FORMAT_NAME, "model": self.config.to_dict(),
                    "frames_per_code": self.frames_per_code, "num_parameters": self.num_parameters()}
        if metadata:
            document["metadata"] = metadata
        (folder / CONFIG_FILE).write_text(yaml.safe_dump(document, sort_keys=False))
        if self.normalizer is not None:
            self.normalizer.save(folder)
        return folder

    @classmethod
    def from_pretrained(cls, folder: str | Path, device: str | torch.device = "cpu") -> "MotionTokenizer":
        """Load a folder written by `save_pretrained` (weights in float32 on `device`, eval mode)."""
        from safetensors import SafetensorError
        from safetensors.torch import load_file
        folder = Path(folder)
        if not folder.is_dir():
            raise TokenizerError(f"{folder}: tokenizer folder not found")
        for name in (CONFIG_FILE, WEIGHTS_FILE):
            if not (folder / name).is_file():
                raise TokenizerError(f"{folder / name}: missing (a tokenizer folder needs {CONFIG_FILE} and {WEIGHTS_FILE})")
        config = VQVAEConfig.from_yaml(folder / CONFIG_FILE)
        try:
            tensors = load_file(str(folder / WEIGHTS_FILE))
        except (SafetensorError, OSError, ValueError) as error:
            raise TokenizerError(f"{folder / WEIGHTS_FILE}: cannot read safetensors weights ({error})") from error
        normalizer = None
        if any((folder / name).exists() for name in ("mean.npy", "Mean.npy", "std.npy", "Std.npy")):
            from motiongpt.normalization import Normalizer
            normalizer = Normalizer.load(folder)
        model = cls(config, normalizer)
        model.load_weights({k: v.float() for k, v in tensors.items()}, source=str(folder / WEIGHTS_FILE))
        return model.to(device).eval()

    def load_weights(self, state_dict: dict[str, torch.Tensor], source: str) -> None:
        """Strict load with a clear error listing missing/unexpected keys and shape mismatches."""
        expected = self.state_dict()
        missing = sorted(set(expected) - set(state_dict))
        unexpected = sorted(set(state_dict) - set(expected))
        mismatched = [f"{k}: file {tuple(state_dict[k].shape)} vs model {tuple(v.shape)}"
                      for k, v in expected.items() if k in state_dict and tuple(state_dict[k].shape) != tuple(v.shape)]
        if missing or unexpected or mismatched:
            parts = []
            if missing:
                parts.append(f"missing keys {missing[:5]}{' ...' if len(missing) > 5 else ''}")
            if unexpected:
                parts.append(f"unexpected keys {unexpected[:5]}{' ...' if len(unexpected) > 5 else ''}")
            if mismatched:
                parts.append(f"shape mismatches {mismatched[:3]}{' ...' if len(mismatched) > 3 else ''}")
            raise TokenizerError(f"{source}: weights do not fit this tokenizer config: " + "; ".join(parts))
        for key, value in state_dict.items():
            if not torch.isfinite(value).all():
                raise TokenizerError(f"{source}: tensor {key} contains NaN or infinite values")
        self.load_state_dict(state_dict, strict=True)
