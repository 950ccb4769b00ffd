"""What kind of instruction a spoken sentence gives: the pause rules depend on it.

An imagery instruction ("imagine ...", "picture ...", "notice ...") asks the listener to turn
inward and is followed by a long pause (clinical check 7); the length fitter stretches the pauses
after it first. It sits low in the import graph so that the lint and the length fitter can both
use it.
"""

from __future__ import annotations

import re

__all__ = ["is_imagery_instruction"]

_IMAGERY = re.compile(
    r"^(?!(?:whatever|if|as|when|while)\b)(?:\S+\s+){0,3}?"
    r"(imagine|picture|notice|become aware|bring to mind|let yourself|allow yourself|"
    r"you might (?:see|hear|feel|sense|notice)|see if you can)\b",
    re.IGNORECASE,
)


def is_imagery_instruction(text: str) -> bool:
    """Whether a sentence asks the listener to imagine or notice something (pacing rule 7)."""
    return _IMAGERY.search(text) is not None
