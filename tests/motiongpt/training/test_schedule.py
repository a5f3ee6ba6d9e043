from __future__ import annotations

import pytest

from motiongpt.training import LRScheduleConfig, TrainingError, lr_factor, resolve_device


def test_warmup_then_cosine_to_floor():
    config = LRScheduleConfig("cosine", warmup_steps=10, min_lr_ratio=0.1)
    assert lr_factor(0, 110, config) == pytest.approx(0.1)
    assert lr_factor(9, 110, config) == pytest.approx(1.0)
    assert lr_factor(10, 110, config) == pytest.approx(1.0)
    assert lr_factor(60, 110, config) == pytest.approx(0.55)  # half-way: 0.1 + 0.9 * 0.5
    assert lr_factor(110, 110, config) == pytest.approx(0.1)
    assert lr_factor(500, 110, config) == pytest.approx(0.1)  # no restart past the end


def test_step_linear_constant():
    assert lr_factor(250, 1000, LRScheduleConfig("step", milestones=(100, 200), gamma=0.5)) == pytest.approx(0.25)
    assert lr_factor(50, 100, LRScheduleConfig("linear")) == pytest.approx(0.5)
    assert lr_factor(99, 100, LRScheduleConfig("constant")) == 1.0


def test_bad_settings_are_errors():
    with pytest.raises(TrainingError, match="schedule name"):
        LRScheduleConfig("exponential")
    with pytest.raises(TrainingError, match="device"):
        resolve_device("tpu")
