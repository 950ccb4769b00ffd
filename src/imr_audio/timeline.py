"""The timeline: a filled script as frozen events (speech, pauses, breath tones, sections).

:mod:`imr_audio.markup` parses a filled script into a :class:`Timeline`; the voice stage
synthesises its speech and the mixer places every event at an exact time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "Event",
    "Pacing",
    "Pause",
    "SectionStart",
    "Speech",
    "Timeline",
    "Tone",
    "count_words",
]

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def count_words(text: str) -> int:
    """Count the words in ``text`` (letters or digits, with inner apostrophes)."""
    return len(_WORD.findall(text))


@dataclass(frozen=True)
class Speech:
    """A sentence (or part of one between two pauses) to be spoken."""

    text: str
    """Literal text to speak, markup already removed."""
    line: int
    """Line of the filled script it comes from (1-based)."""
    section: str | None = None
    """Title of the section it belongs to, if any."""
    rate_factor: float = 1.0
    """Speaking rate relative to the voice profile's (0.85 inside ``[slow]``)."""
    slot_s: float | None = None
    """For a breath cue: the exact time the cue and the silence after it take, in seconds."""

    @property
    def word_count(self) -> int:
        """Number of words in ``text``."""
        return count_words(self.text)


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
class Tone:
    """A soft breath tone that fills one breathing phase exactly."""

    phase: Literal["in", "hold", "out", "rest", "chime"]
    """Breathing phase: rising tone for ``in``, steady for ``hold``, falling for ``out``,
    silence for ``rest``; or ``chime``, a soft bell (from ``[chime]``)."""
    duration_s: float
    """Length of the phase in seconds."""
    line: int
    """Line of the filled script."""
    section: str | None = None
    """Title of the section it belongs to, if any."""


@dataclass(frozen=True)
class SectionStart:
    """The start of a named section; takes no time."""

    title: str
    """Section title as written in the template."""
    line: int
    """Line of the filled script."""


Event = Speech | Pause | Tone | SectionStart


@dataclass(frozen=True)
class Pacing:
    """Automatic gaps between speech events."""

    sentence_gap_s: float = 1.5
    """Silence between sentences of one paragraph, in seconds (0-10)."""
    paragraph_gap_s: float = 3.0
    """Silence between paragraphs, in seconds (0-20)."""
    slow_rate_factor: float = 0.85
    """Speaking rate inside ``[slow]`` relative to the voice's own (0.5-1)."""
    slow_gap_factor: float = 1.5
    """Automatic gaps inside ``[slow]`` are this many times longer (1-3)."""


@dataclass(frozen=True)
class Timeline:
    """The ordered events of one script."""

    events: tuple[Event, ...]
    """Speech, pauses, tones and section starts in order."""

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
        """Time that does not depend on the voice, in seconds.

        Pauses, tones and whole breath-cue slots (a cue's speech lies inside its slot).
        """
        fixed = sum(e.duration_s for e in self.events if isinstance(e, (Pause, Tone)))
        return fixed + sum(s.slot_s or 0.0 for s in self.speech)

    @property
    def sections(self) -> tuple[SectionStart, ...]:
        """The section starts in order."""
        return tuple(e for e in self.events if isinstance(e, SectionStart))
