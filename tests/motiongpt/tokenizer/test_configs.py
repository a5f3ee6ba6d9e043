"""The shipped tokenizer configs load and describe what they claim."""
from __future__ import annotations

from pathlib import Path

import pytest

from motiongpt.tokenizer import MotionTokenizer, VQVAEConfig
from motiongpt.tokenizer.training_config import TokenizerTrainingConfig

CONFIG_DIR = Path(__file__).resolve().parents[3] / "models" / "configs"


@pytest.mark.parametrize("name", ["tokenizer_full.yaml", "tokenizer_small.yaml", "tokenizer_small_gpu.yaml"])
def test_configs_load(name):
    config = TokenizerTrainingConfig.from_yaml(CONFIG_DIR / name)
    assert config.loop.max_steps > 0 and config.optim.batch_size > 0
    assert config.data.window_frames % config.model.frames_per_code == 0


def test_full_config_is_the_release():
    config = TokenizerTrainingConfig.from_yaml(CONFIG_DIR / "tokenizer_full.yaml")
    assert config.model == VQVAEConfig()
    assert MotionTokenizer(config.model).num_parameters() == 19_436_807
    assert (config.optim.batch_size, config.optim.lr, config.optim.betas) == (256, 2e-4, (0.9, 0.99))
    assert (config.loss.lambda_feature, config.loss.lambda_velocity, config.loss.lambda_commit) == (1.0, 0.5, 0.02)
    assert config.data.window_frames == 64


def test_the_gpu_recipe_trains_the_small_tokenizers_model():
    """scripts/train_tokenizer_gpu.sh's config: the shipped small model (256 codes, what the language-model configs'
    vocabulary expects), trained from scratch (no init, every part trainable)."""
    small = TokenizerTrainingConfig.from_yaml(CONFIG_DIR / "tokenizer_small.yaml")
    gpu = TokenizerTrainingConfig.from_yaml(CONFIG_DIR / "tokenizer_small_gpu.yaml")
    assert gpu.model == small.model and gpu.model.code_num == 256
    assert gpu.run.init_from is None and gpu.optim.trainable == "all" and gpu.run.device == "auto"
