r"""The timeline: a filled script turned into frozen, timed events.

Markup understood here (see ``docs/authoring.md``):

* a blank line ends a paragraph; sentences within a paragraph are separate speech events;
* ``[pause 5s]``, ``[pause 1.5s]``, ``[pause 300ms]``: silence of exactly that length, which
  replaces the automatic gap at that point;
* ``[section Title]``: the start of a named section (a chapter, later);
* ``\\[``, ``\\]`` and ``\\\\`` stand for literal brackets and backslash (client values are
  always escaped this way, so they are spoken, never obeyed).

Jinja comments (``{# ... #}``) are removed before the timeline sees the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from imr_audio.errors import ScriptMarkupError

__all__ = [
    "Event",
    "Pacing",
    "Pause",
    "SectionStart",
    "Speech",
    "Timeline",
    "parse_script",
]

MAX_PAUSE_S = 600.0
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_SENTENCE_END = re.compile(r"(?<=[.!?…])([\"'”’)]*)\s+")  # group: closing quotes to keep
_PAUSE = re.compile(r"^pause\s+(-?\d+(?:\.\d+)?)\s*(ms|s)?$")
_SECTION = re.compile(r"^section\s+(\S.*)$")


@dataclass(frozen=True)
class Speech:
    """A sentence (or part of one between two pauses) to be spoken."""

    text: str
    """Literal text to speak, markup already removed."""
    line: int
    """Line of the filled script it comes from (1-based)."""
    section: str | None = None
    """Title of the section it belongs to, if any."""

    @property
    def word_count(self) -> int:
        """Number of words in ``text``."""
        return len(_WORD.findall(self.text))


@dataclass(frozen=True)
class Pause:
    """Silence between speech events."""

    duration_s: float
    """Length of the silence in seconds."""
    kind: Literal["explicit", "sentence", "paragraph"]
    """``explicit`` pauses come from markup and are exact; the others are automatic gaps."""
    line: int
    """Line of the filled script where the pause stands."""


@dataclass(frozen=True)
class SectionStart:
    """The start of a named section; takes no time."""

    title: str
    """Section title as written in the template."""
    line: int
    """Line of the filled script."""


Event = Speech | Pause | SectionStart


@dataclass(frozen=True)
class Pacing:
    """Automatic gaps between speech events."""

    sentence_gap_s: float = 1.5
    """Silence between sentences of one paragraph, in seconds (0-10)."""
    paragraph_gap_s: float = 3.0
    """Silence between paragraphs, in seconds (0-20)."""


@dataclass(frozen=True)
class Timeline:
    """The ordered events of one script."""

    events: tuple[Event, ...]
    """Speech, pauses and section starts in order."""

    @property
    def speech(self) -> tuple[Speech, ...]:
        """The speech events only."""
        return tuple(e for e in self.events if isinstance(e, Speech))

    @property
    def word_count(self) -> int:
        """Words spoken in the whole script."""
        return sum(s.word_count for s in self.speech)

    @property
    def pause_s(self) -> float:
        """Total silence between speech events, in seconds."""
        return sum(e.duration_s for e in self.events if isinstance(e, Pause))

    @property
    def sections(self) -> tuple[SectionStart, ...]:
        """The section starts in order."""
        return tuple(e for e in self.events if isinstance(e, SectionStart))


# --- parsing -------------------------------------------------------------------------------

_Token = tuple[str, object, int]  # (kind, value, line): text / pause / section / para


def _tag(body: str, line: int) -> _Token:
    body = " ".join(body.split())
    match = _PAUSE.match(body)
    if match:
        seconds = float(match.group(1)) / (1000.0 if match.group(2) == "ms" else 1.0)
        if not 0.0 < seconds <= MAX_PAUSE_S:
            raise ScriptMarkupError(
                f"script line {line}: a pause must be longer than 0 "
                f"and at most {MAX_PAUSE_S:g} seconds"
            )
        return ("pause", seconds, line)
    match = _SECTION.match(body)
    if match:
        return ("section", match.group(1).strip(), line)
    name = body.split(" ", 1)[0] if body else ""
    raise ScriptMarkupError(
        f"script line {line}: unknown markup [{name}]; known tags: pause, section"
    )


def _tokenize_line(text: str, line: int) -> list[_Token]:
    tokens: list[_Token] = []
    buf: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and text[i + 1] in "[]\\":
            buf.append(text[i + 1])
            i += 2
            continue
        if char == "[":
            end = i + 1
            while end < len(text) and text[end] != "]":
                if text[end] in "[\\":
                    break
                end += 1
            if end >= len(text) or text[end] != "]":
                raise ScriptMarkupError(
                    f"script line {line}: '[' opens markup that is never closed"
                )
            if buf:
                tokens.append(("text", "".join(buf), line))
                buf = []
            tokens.append(_tag(text[i + 1 : end], line))
            i = end + 1
            continue
        if char == "]":
            raise ScriptMarkupError(f"script line {line}: ']' closes markup that was never opened")
        buf.append(char)
        i += 1
    if buf:
        tokens.append(("text", "".join(buf), line))
    return tokens


def _tokenize(script: str) -> list[_Token]:
    tokens: list[_Token] = []
    for number, raw in enumerate(script.splitlines(), start=1):
        if not raw.strip():
            tokens.append(("para", None, number))
            continue
        tokens.extend(_tokenize_line(raw.strip(), number))
        tokens.append(("text", " ", number))  # a line break inside a paragraph is a space
    return tokens


def _sentences(text: str) -> list[str]:
    pieces = _SENTENCE_END.split(text)  # sentence, its closing quotes, sentence, ...
    pairs = zip(pieces[::2], [*pieces[1::2], ""], strict=True)
    parts = (" ".join((sentence + closing).split()) for sentence, closing in pairs)
    return [p for p in parts if _WORD.search(p)]


def parse_script(script: str, pacing: Pacing | None = None) -> Timeline:
    """Turn a filled script into a :class:`Timeline`.

    Raises :class:`ScriptMarkupError` naming the script line of any malformed markup.
    """
    pacing = pacing or Pacing()
    events: list[Event] = []
    section: str | None = None
    gap: str | None = None  # automatic gap owed before the next speech: sentence/paragraph
    explicit: list[tuple[float, int]] = []
    text_parts: list[tuple[str, int]] = []
    pending_sections: list[tuple[str, int]] = []

    def flush_text() -> None:
        nonlocal gap
        if not text_parts:
            return
        joined = "".join(part for part, _ in text_parts)
        starts: list[tuple[int, int]] = []  # (offset in joined, script line)
        offset = 0
        for part, line in text_parts:
            starts.append((offset, line))
            offset += len(part)
        text_parts.clear()
        cursor = 0
        for sentence in _sentences(joined):
            first_word = _WORD.search(sentence)
            found = joined.find(first_word.group(0) if first_word else sentence, cursor)
            cursor = max(cursor, found)
            line = next(ln for off, ln in reversed(starts) if off <= cursor)
            emit_gap(line)
            for title, title_line in pending_sections:
                events.append(SectionStart(title=title, line=title_line))
            pending_sections.clear()
            events.append(Speech(text=sentence, line=line, section=section))
            gap = "sentence"

    def emit_gap(line: int) -> None:
        nonlocal gap
        has_speech = any(isinstance(e, Speech) for e in events)
        if explicit:
            events.append(Pause(sum(s for s, _ in explicit), "explicit", explicit[0][1]))
            explicit.clear()
        elif has_speech and gap == "paragraph":
            events.append(Pause(pacing.paragraph_gap_s, "paragraph", line))
        elif has_speech and gap == "sentence":
            events.append(Pause(pacing.sentence_gap_s, "sentence", line))
        gap = None

    for kind, value, line in _tokenize(script):
        if kind == "text":
            text_parts.append((str(value), line))
        elif kind == "para":
            flush_text()
            if gap is not None:
                gap = "paragraph"
        elif kind == "pause":
            flush_text()
            explicit.append((float(value), line))  # type: ignore[arg-type]
        elif kind == "section":
            flush_text()
            if gap is not None:
                gap = "paragraph"
            section = str(value)
            pending_sections.append((section, line))
    flush_text()
    events.extend(SectionStart(title=t, line=ln) for t, ln in pending_sections)
    if explicit:
        events.append(Pause(sum(s for s, _ in explicit), "explicit", explicit[0][1]))
    if not any(isinstance(e, Speech) for e in events):
        raise ScriptMarkupError("the script has no text to speak")
    return Timeline(events=tuple(events))
