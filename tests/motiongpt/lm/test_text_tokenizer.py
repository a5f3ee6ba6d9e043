"""The small model's text tokenizer reads any ordinary English: no unknown token for words or numbers."""
from __future__ import annotations

from motiongpt.lm.text_tokenizer import train_text_tokenizer

SENTENCES = [
    "Hey robot, please zigzag across the room for 80 frames!",
    "Could you twirl 3 times in 12.5 seconds? Thanks.",
    "Walk backwards slowly, like a tired old man (about 4 s).",
    "QUICKLY jump; then salute & bow #1",
    "x y z: 0123456789 ~ @ $ % ^ * + = [ ] { } | < > / \\ `",
]


def test_no_unknown_tokens_and_digits_are_split():
    tokenizer = train_text_tokenizer(["a person walks forward.", "someone waves with the right hand."] * 10,
                                     vocab_size=200)
    for sentence in SENTENCES:
        ids = tokenizer(sentence)["input_ids"]
        assert tokenizer.unk_token_id not in ids, sentence
    pieces = tokenizer.convert_ids_to_tokens(tokenizer("walk 80 frames")["input_ids"])
    assert "8" in pieces and "0" in pieces and "80" not in pieces and "▁80" not in pieces
    decoded = tokenizer.decode(tokenizer("zigzag 12.5 seconds")["input_ids"], skip_special_tokens=True)
    assert decoded == "zigzag 12.5 seconds"
