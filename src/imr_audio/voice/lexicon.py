"""Pronunciations: respellings applied to the text an engine speaks, never to the script itself.

A lexicon maps words (or phrases) to how the engine should be told to say them. The shipped
lexicon (``voices/lexicon.yaml``) holds the few words eSpeak NG was measured to say badly; a
client profile's ``pronunciations`` are merged over it, the client's entries winning (see
:meth:`~imr_audio.voice.profiles.VoiceLibrary.speech_lexicon`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from imr_audio.errors import VoiceProfileError
from imr_audio.yamlfile import read_yaml

__all__ = [
    "LEXICON_FILE",
    "Lexicon",
    "entry_problem",
    "load_lexicon",
]

LEXICON_FILE = "lexicon.yaml"
"""Name of the shipped lexicon in the ``voices`` folder."""

_MAX_ENTRY_CHARS = 80
_EDGE = re.compile(r"^\w.*\w$|^\w$", re.DOTALL)


def entry_problem(word: object, spoken: object) -> str | None:
    """What is wrong with one lexicon entry, or None when it is usable.

    A word is text of 1-80 characters that starts and ends with a letter or digit (so that
    "whole word" has a meaning); a respelling is non-empty text of at most 80 characters.
    """
    if not isinstance(word, str) or not isinstance(spoken, str):
        return "must map a word to how it is said, both as text"
    if not _EDGE.match(word) or len(word) > _MAX_ENTRY_CHARS or "\n" in word:
        return "the word must be 1-80 characters on one line, starting and ending with a letter"
    if not spoken.strip() or len(spoken) > _MAX_ENTRY_CHARS or "\n" in spoken:
        return "the respelling must be 1-80 characters on one line"
    return None


def _pattern(word: str) -> str:
    """Regex for one entry: its words with any run of spaces between them."""
    body = r"\s+".join(re.escape(part) for part in word.split())
    return f"(?i:{body})" if word == word.lower() else body


@dataclass(frozen=True)
class Lexicon:
    """Word respellings for the speech engine; apply with :meth:`apply`."""

    entries: tuple[tuple[str, str], ...] = ()
    """``(word, respelling)`` pairs. A word all in lower case matches any capitalisation; one
    with capitals matches only that exact spelling. Multi-word entries are allowed."""

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, str]) -> Lexicon:
        """A lexicon of ``mapping``'s entries (checked with :func:`entry_problem` by callers)."""
        return cls(tuple((" ".join(w.split()), s.strip()) for w, s in mapping.items()))

    def merged(self, over: Lexicon) -> Lexicon:
        """A lexicon with ``over``'s entries added to these; they replace those for the same word.

        "The same word" ignores case: ``over``'s ``Zoë`` replaces this lexicon's ``zoë`` too.
        """
        replaced = {word.casefold() for word, _ in over.entries}
        kept = tuple(e for e in self.entries if e[0].casefold() not in replaced)
        return Lexicon(kept + over.entries)

    def __len__(self) -> int:
        return len(self.entries)

    @functools.cached_property
    def _regex(self) -> re.Pattern[str] | None:
        if not self.entries:
            return None
        # Longest first; at equal length an exact-case entry before a lower-case one.
        words = [word for word, _ in self.entries]
        order = sorted(
            range(len(words)), key=lambda i: (-len(words[i]), words[i] == words[i].lower())
        )
        alternatives = "|".join(f"(?P<e{i}>{_pattern(words[i])})" for i in order)
        return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")

    def apply(self, text: str) -> str:
        """``text`` with every whole-word occurrence of an entry replaced by its respelling."""
        regex = self._regex
        if regex is None:
            return text

        def replace(match: re.Match[str]) -> str:
            index = int(str(match.lastgroup)[1:])
            return self.entries[index][1]

        return regex.sub(replace, text)


def load_lexicon(path: Path) -> Lexicon:
    """Read a lexicon file: a ``pronunciations`` mapping of words to respellings.

    Every problem is reported at once, as a :class:`VoiceProfileError` naming file and entry.
    """
    raw = read_yaml(path, VoiceProfileError)
    if raw is None:
        return Lexicon()
    if not isinstance(raw, dict) or set(raw) - {"pronunciations"}:
        raise VoiceProfileError(f"{path}: a lexicon holds one mapping, 'pronunciations'")
    entries = raw.get("pronunciations") or {}
    if not isinstance(entries, dict):
        raise VoiceProfileError(f"{path}: pronunciations: must map words to how they are said")
    problems = []
    for word, spoken in entries.items():
        problem = entry_problem(word, spoken)
        if problem:
            problems.append(f"{path}: pronunciations.{word}: {problem}")
    if problems:
        raise VoiceProfileError("\n".join(problems))
    return Lexicon.from_mapping(entries)
