"""A T5 text tokenizer trained with SentencePiece on the project's own sentences.

No T5 SentencePiece model ships offline (assets.md), so the small model's text vocabulary is learned from
the captions and instruction templates it is trained on. The result is a regular transformers T5 tokenizer
(pad 0, eos 1, unk 2, like T5), saved and loaded with ``save_pretrained`` / ``AutoTokenizer``.
"""
from __future__ import annotations

import re
import string
import tempfile
from pathlib import Path
from typing import Iterable

PLACEHOLDER_PATTERN = re.compile(r"<[A-Za-z_0-9]+>")
# Every printable ASCII character becomes a piece of its own, so any English word, number (digits are
# split) or punctuation tokenises without the unknown token, however far from the training captions.
COVERAGE_SENTENCES = [" ".join(string.ascii_lowercase), " ".join(string.ascii_uppercase), " ".join(string.digits),
                      " ".join(string.punctuation)]


def train_text_tokenizer(sentences: Iterable[str], vocab_size: int = 1000, seed: int = 0):
    """Train a unigram SentencePiece model on ``sentences`` and wrap it as a T5 tokenizer.

    Digits are split into single-digit pieces and every printable ASCII character is in the vocabulary
    (`COVERAGE_SENTENCES`), so ordinary English text ("walk 80 frames", "zigzag") has no unknown token.
    Placeholders such as ``<Caption_Placeholder>`` are removed first (they never reach the model).
    ``vocab_size`` is an upper bound: a small corpus gets a smaller vocabulary.
    """
    import sentencepiece as spm
    from transformers import T5Tokenizer

    cleaned = [PLACEHOLDER_PATTERN.sub(" ", s).strip() for s in sentences]
    cleaned = [s for s in cleaned if s] + COVERAGE_SENTENCES
    if not cleaned:
        raise ValueError("text tokenizer: no sentences to train on")
    with tempfile.TemporaryDirectory() as folder:
        model_path = Path(folder) / "spiece.model"
        with open(model_path, "wb") as model_file:
            spm.SentencePieceTrainer.train(
                sentence_iterator=iter(cleaned), model_writer=model_file, vocab_size=int(vocab_size),
                model_type="unigram", character_coverage=1.0, hard_vocab_limit=False,
                pad_id=0, eos_id=1, unk_id=2, bos_id=-1, input_sentence_size=0,
                shuffle_input_sentence=False, minloglevel=2, split_digits=True,
                normalization_rule_name="nmt_nfkc",
            )
        tokenizer = T5Tokenizer.from_pretrained(folder, extra_ids=0, legacy=True)
    return tokenizer
