"""The one error type of the retargeting package: bad input, named with its source."""
from __future__ import annotations


class RetargetError(ValueError):
    """A motion, robot description or motion file that cannot be used; the message names it."""
