"""Characters a voice reads aloud as symbols, in a client's values (rule ``symbols``).

eSpeak NG and Piper speak ``<`` as "less than", ``*`` as "asterisk", ``_`` as "underscore":
in a value (a name typed as ``<Sam>``, a description pasted from a document with ``*emphasis*``)
they become words nobody wrote, and the sentence runs long. Each field holding one is an error
that names the field and the kind of character, never the value. Punctuation that reads as a
pause or not at all (apostrophes, hyphens, dashes, quotes, parentheses, ``&``, ellipses) passes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from imr_audio.lint.findings import Document, LintFinding, finding

__all__ = ["READ_ALOUD", "check_symbols"]

READ_ALOUD = {
    "<": "less-than sign", ">": "greater-than sign", "{": "brace", "}": "brace",
    "[": "square bracket", "]": "square bracket", "*": "asterisk", "#": "hash sign",
    "|": "vertical bar", "\\": "backslash", "~": "tilde", "^": "caret", "_": "underscore",
    "=": "equals sign", "/": "slash", "+": "plus sign", "@": "at sign", "`": "backtick",
}
"""Characters a voice reads aloud, with the name a message gives them."""

_DIGIT_SLASH = re.compile(r"(?<=\d)/(?=\d)")
"""A slash between digits (a date, a fraction): the identifiers rule reads dates."""


def check_symbols(doc: Document) -> Iterator[LintFinding]:
    """One error per field (the preferred name, each value the template reads) with a symbol."""
    values: list[tuple[str, Any]] = [("preferred_name", doc.profile.preferred_name)]
    for var in doc.spec.variables:
        values.append((var.name, doc.profile.detail(var.name)))
    for field, value in values:
        for name, text in _texts(field, value):
            found = sorted({READ_ALOUD[c] for c in _DIGIT_SLASH.sub("", text) if c in READ_ALOUD})
            if found:
                yield finding(
                    "symbols", "error",
                    f"the value of {name} holds a character the voice reads aloud "
                    f"({', '.join(found)}); write it in words or leave it out",
                    field=name,
                )


def _texts(field: str, value: Any) -> Iterator[tuple[str, str]]:
    """The text values under ``field``: itself, or its list items as ``field[i]``."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, str):
                yield f"{field}[{index}]", item
    elif isinstance(value, str):
        yield field, value

