"""The motion-language model: T5 over one text+motion vocabulary, its prompts, training, API and evaluation.

Heavy modules (torch, transformers) load on first use: ``from motiongpt.lm import MotionGPT``.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "MotionGPT": "motiongpt.lm.api",
    "MotionResult": "motiongpt.lm.api",
    "MotionLanguageModel": "motiongpt.lm.model",
    "MotionVocabulary": "motiongpt.lm.vocabulary",
    "NoMotionError": "motiongpt.lm.vocabulary",
    "parse_motion": "motiongpt.lm.vocabulary",
}


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'motiongpt.lm' has no attribute {name!r}")
