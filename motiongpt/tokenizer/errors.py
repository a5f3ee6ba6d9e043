"""Errors raised by the motion tokenizer for bad input (a ValueError subclass, per the team contract)."""
from __future__ import annotations


class TokenizerError(ValueError):
    """Bad input to the tokenizer: wrong shape, non-finite values, codes outside the codebook,
    or a missing/corrupt model folder or checkpoint. The message names the problem and the source."""
