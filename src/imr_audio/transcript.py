"""Transcript and captions of a track: the ``.txt`` and ``.vtt`` files beside it.

Both hold the text as written in the script (the timeline's text): pronunciation respellings
go only to the speech engine and never appear here. Captions are timed from where the mixer
actually placed each sentence, so they follow the finished audio.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from imr_audio.mix import Placement
from imr_audio.timeline import SectionStart, Speech, Timeline, Tone

__all__ = [
    "CAPTION_LINES",
    "CAPTION_LINE_CHARS",
    "CAPTION_MAX_S",
    "CAPTION_MIN_S",
    "transcript_text",
    "webvtt_captions",
]

CAPTION_LINE_CHARS = 42
"""Longest caption line, in characters."""
CAPTION_LINES = 2
"""Most lines in one caption."""
CAPTION_MAX_S = 7.0
"""Longest time one caption stays up while its sentence is spoken, in seconds."""
CAPTION_MIN_S = 1.0
"""Shortest time a caption stays up, when the next one leaves room, in seconds."""
def _blank_between(lines: Sequence[str], first: int, second: int) -> bool:
    """Whether a blank script line lies between two (1-based) lines."""
    return any(not lines[n - 1].strip() for n in range(first + 1, min(second, len(lines) + 1)))


def transcript_text(script_text: str, timeline: Timeline) -> str:
    """The spoken text, one paragraph of the script per paragraph, breath cues as sentences.

    ``script_text`` is the filled script the timeline was parsed from; its blank lines say
    where paragraphs end. Sections, pauses and tones are not spoken and not shown.
    """
    lines = script_text.splitlines()
    paragraphs: list[list[str]] = []
    previous: Speech | None = None
    for event in timeline.events:
        if isinstance(event, (SectionStart, Tone)):
            previous = None
            continue
        if not isinstance(event, Speech):
            continue
        cue = event.slot_s is not None
        new = (
            previous is None
            or cue != (previous.slot_s is not None)
            or (cue and event.line != previous.line)
            or (not cue and _blank_between(lines, previous.line, event.line))
        )
        if new:
            paragraphs.append([])
        paragraphs[-1].append(f"{event.text}." if cue else event.text)
        previous = event
    return "\n\n".join(" ".join(words) for words in paragraphs) + "\n"


def _timestamp(seconds: float) -> str:
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _wrap(words: Sequence[str]) -> list[str]:
    """Words as lines of at most :data:`CAPTION_LINE_CHARS` (a longer word stands alone)."""
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + 1 + len(word) <= CAPTION_LINE_CHARS:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def _split_even(words: Sequence[str], pieces: int) -> list[list[str]]:
    """Words in at most ``pieces`` runs of about equal length in characters."""
    total = sum(len(word) + 1 for word in words)
    chunks: list[list[str]] = [[]]
    used = 0.0
    for word in words:
        boundary = total * len(chunks) / pieces
        if chunks[-1] and len(chunks) < pieces and used + (len(word) + 1) / 2 > boundary:
            chunks.append([])
        chunks[-1].append(word)
        used += len(word) + 1
    return chunks


def _chunks(text: str, duration_s: float) -> list[list[str]]:
    """A sentence's words as even captions of at most two lines and about seven seconds."""
    words = text.split()
    per_caption = CAPTION_LINES * CAPTION_LINE_CHARS
    pieces = max(math.ceil(len(text) / per_caption), math.ceil(duration_s / CAPTION_MAX_S), 1)
    while True:
        chunks = _split_even(words, min(pieces, len(words)))
        if pieces >= len(words) or all(len(_wrap(c)) <= CAPTION_LINES for c in chunks):
            return chunks
        pieces += 1


def webvtt_captions(placements: Sequence[Placement]) -> str:
    """WebVTT captions: each placed sentence, split into readable cues timed by its speech.

    A sentence's cues share its clip's time in proportion to their characters; a breath cue's
    caption stays up for its whole breathing phase. Cues never overlap.
    """
    cues: list[tuple[float, float, str]] = []
    for index, placement in enumerate(placements):
        following = placements[index + 1].start_s if index + 1 < len(placements) else None
        spoken_s = placement.speech.slot_s or placement.duration_s
        chunks = _chunks(placement.speech.text, placement.duration_s)
        sizes = [len(" ".join(chunk)) + 1 for chunk in chunks]
        total = sum(sizes)
        start = placement.start_s
        for chunk, size in zip(chunks, sizes, strict=True):
            share = spoken_s if len(chunks) == 1 else placement.duration_s * size / total
            cues.append((start, start + share, "\n".join(_wrap(chunk))))
            start += share
        if following is not None:  # nothing may run into the next sentence's first cue
            last_start, last_end, last_text = cues[-1]
            cues[-1] = (last_start, min(last_end, following), last_text)
    blocks = ["WEBVTT\n"]
    for number, (start, end, text) in enumerate(cues, start=1):
        later = cues[number][0] if number < len(cues) else None
        shown = max(end, start + CAPTION_MIN_S)
        if later is not None:
            shown = min(shown, later)
        shown = max(shown, end)
        blocks.append(f"{number}\n{_timestamp(start)} --> {_timestamp(shown)}\n{_escape(text)}\n")
    return "\n".join(blocks)
