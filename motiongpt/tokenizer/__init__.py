"""Motion tokenizer: a VQ-VAE over HumanML3D features (one code per 4 frames), compatible with the
released MotionGPT `vae.*` weights. See `MotionTokenizer` and `VQVAEConfig`."""
from motiongpt.tokenizer.config import VQVAEConfig
from motiongpt.tokenizer.errors import TokenizerError
from motiongpt.tokenizer.model import MotionTokenizer, TokenizerOutput

__all__ = ["MotionTokenizer", "TokenizerError", "TokenizerOutput", "VQVAEConfig"]
