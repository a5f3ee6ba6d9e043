"""A T5 text tokenizer trained with SentencePiece on the project's own sentences.

No T5 SentencePiece model ships offline (assets.md), so the small model's text vocabulary is learned from
the captions and instruction templates it is trained on. The result is a regular transformers T5 tokenizer
(pad 0, eos 1, unk 2, like T5), saved and loaded with ``save_pretrained`` / ``AutoTokenizer``.
"""
from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Iterable

PLACEHOLDER_PATTERN = re.compile(r"<[A-Za-z_0-9]+>")


def train_text_tokenizer(sentences: Iterable[str], vocab_size: int = 1000, seed: int = 0):
    """Train a unigram SentencePiece model on ``sentences`` and wrap it as a T5 tokenizer.

    Placeholders such as ``<Caption_Placeholder>`` are removed first (they never reach the model).
    ``vocab_size`` is an upper bound: a small corpus gets a smaller vocabulary.
    """
    import sentencepiece as spm
    from transformers import T5Tokenizer

    cleaned = [PLACEHOLDER_PATTERN.sub(" ", s).strip() for s in sentences]
    cleaned = [s for s in cleaned if s]
    if not cleaned:
        raise ValueError("text tokenizer: no sentences to train on")
    with tempfile.TemporaryDirectory() as folder:
        model_path = Path(folder) / "spiece.model"
        with open(model_path, "wb") as model_file:
            spm.SentencePieceTrainer.train(
                sentence_iterator=iter(cleaned), model_writer=model_file, vocab_size=int(vocab_size),
                model_type="unigram", character_coverage=1.0, hard_vocab_limit=False,
                pad_id=0, eos_id=1, unk_id=2, bos_id=-1, input_sentence_size=len(cleaned),
                shuffle_input_sentence=False, minloglevel=2,
                normalization_rule_name="nmt_nfkc",
            )
        tokenizer = T5Tokenizer.from_pretrained(folder, extra_ids=0, legacy=True)
    return tokenizer
