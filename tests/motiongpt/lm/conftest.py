"""Shared fixtures for the language-model tests: a tiny T5 with a tokenizer trained on the templates."""
from __future__ import annotations

import pytest
import torch

from motiongpt.lm.model import MotionLanguageModel, T5ArchitectureConfig
from motiongpt.lm.templates import load_templates
from motiongpt.lm.text_tokenizer import train_text_tokenizer
from motiongpt.lm.vocabulary import MotionVocabulary

TINY_ARCHITECTURE = T5ArchitectureConfig(d_model=32, d_kv=8, num_heads=4, d_ff=64, num_layers=1,
                                         num_decoder_layers=1, dropout_rate=0.0)
TINY_CODE_NUM = 32


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    torch.set_num_threads(1)


def tiny_sentences() -> list[str]:
    sentences = [t for task in load_templates("instructions") for t in task.inputs + task.outputs]
    return sentences + ["a person walks forward", "a person kicks with the right leg", "someone jumps"] * 5


@pytest.fixture(scope="session")
def sentences() -> list[str]:
    return tiny_sentences()


@pytest.fixture(scope="session")
def architecture() -> T5ArchitectureConfig:
    return TINY_ARCHITECTURE


@pytest.fixture(scope="session")
def tiny_model() -> MotionLanguageModel:
    tokenizer = train_text_tokenizer(tiny_sentences(), vocab_size=300)
    return MotionLanguageModel.build(TINY_ARCHITECTURE, tokenizer, MotionVocabulary(TINY_CODE_NUM), seed=0)


@pytest.fixture(scope="session")
def tiny_motiongpt(tiny_model):
    """A MotionGPT over the tiny T5 and a tiny (untrained, real) VQ-VAE with unit statistics."""
    import numpy as np

    from motiongpt.lm.api import MotionGPT
    from motiongpt.normalization import Normalizer
    from motiongpt.tokenizer import MotionTokenizer, VQVAEConfig

    config = VQVAEConfig(code_num=TINY_CODE_NUM, code_dim=16, output_emb_width=16, width=16, depth=1)
    torch.manual_seed(0)
    tokenizer = MotionTokenizer(config, Normalizer(np.zeros(263), np.ones(263)))
    with torch.no_grad():
        tokenizer.quantizer.codebook.normal_()
    return MotionGPT(tiny_model, tokenizer.eval(), max_codes=12)
