"""A real MotionGPT with tiny random weights, built and saved by the LM code, for fast node tests.

It exercises the whole path (T5 generation with the motion vocabulary, VQ-VAE decoding, joints
recovery, captioning) in about a second on one CPU core; its motions are not meaningful, which is
fine for tests of the node's plumbing and safety. Tests of motion quality belong to the model.
"""
from __future__ import annotations

from pathlib import Path

TEXT = [
    "a person walks forward", "a person waves with the right hand", "someone jumps in place",
    "a person turns left", "a person kicks with the left leg", "a person raises both arms",
    "Generate motion", "Generate text", "Predict motion", "Complete the masked motion",
]


def build_tiny_model(folder: Path, code_num: int = 32, max_codes: int = 12) -> Path:
    import torch

    from motiongpt.lm.api import MotionGPT
    from motiongpt.lm.model import MotionLanguageModel, T5ArchitectureConfig
    from motiongpt.lm.templates import load_templates
    from motiongpt.lm.text_tokenizer import train_text_tokenizer
    from motiongpt.lm.vocabulary import MotionVocabulary
    from motiongpt.normalization import Normalizer
    from motiongpt.tokenizer import MotionTokenizer, VQVAEConfig

    torch.set_num_threads(1)
    sentences = [t for task in load_templates("instructions") for t in task.inputs + task.outputs] + TEXT * 5
    text_tokenizer = train_text_tokenizer(sentences, vocab_size=300)
    architecture = T5ArchitectureConfig(d_model=32, d_kv=8, num_heads=4, d_ff=64, num_layers=1,
                                        num_decoder_layers=1, dropout_rate=0.0)
    language_model = MotionLanguageModel.build(architecture, text_tokenizer, MotionVocabulary(code_num), seed=0)
    torch.manual_seed(0)
    config = VQVAEConfig(code_num=code_num, code_dim=16, output_emb_width=16, width=16, depth=1)
    motion_tokenizer = MotionTokenizer(config, Normalizer.official())
    return MotionGPT(language_model, motion_tokenizer.eval(), max_codes=max_codes).save_pretrained(folder)


if __name__ == "__main__":
    import sys

    print(build_tiny_model(Path(sys.argv[1])))
