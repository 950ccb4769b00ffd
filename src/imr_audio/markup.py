r"""The script markup: a filled script in, a :class:`~imr_audio.timeline.Timeline` out.

Understood here (see ``docs/authoring.md``):

* a blank line ends a paragraph; sentences within a paragraph are separate speech events;
* ``[pause 5s]``, ``[pause 1.5s]``, ``[pause 300ms]``: silence of exactly that length, which
  replaces the automatic gap at that point;
* ``[section Title]``: the start of a named section (a chapter);
* ``[slow]`` ... ``[/slow]``: slower speech and longer automatic gaps;
* ``[breath in=4 hold=7 out=8 rest=0 cycles=4 cue=voice|tone]``: paced breathing, expanded
  into exactly timed spoken cues or soft tones;
* ``[chime]``: a soft bell (3 s with its ring-out), e.g. at a change of section;
* ``[note: ...]``: a therapist's comment, never spoken;
* ``\[``, ``\]`` and ``\\`` stand for literal brackets and backslash (client values are
  always escaped this way, so they are spoken, never obeyed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from imr_audio.errors import ScriptMarkupError
from imr_audio.timeline import Event, Pacing, Pause, SectionStart, Speech, Timeline, Tone

__all__ = ["BREATH_LIMITS_S", "MAX_PAUSE_S", "parse_script"]

MAX_PAUSE_S = 600.0
BREATH_LIMITS_S = {"in": (1.0, 10.0), "hold": (0.0, 10.0), "out": (1.0, 12.0), "rest": (0.0, 10.0)}
"""Allowed seconds per breathing phase."""
MAX_BREATH_CYCLES = 30
_VOICE_CUES = {"in": "Breathe in", "hold": "Hold", "out": "And out", "rest": "Rest"}
_MIN_VOICE_SLOT_S = 1.5
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_SENTENCE_END = re.compile(r"(?<=[.!?…])([\"'”’)]*)\s+")  # group: closing quotes to keep
_PAUSE = re.compile(r"^pause\s+(-?\d+(?:\.\d+)?)\s*(ms|s)?$")
_SECTION = re.compile(r"^section\s+(\S.*)$")
_BREATH_ARG = re.compile(r"^(in|hold|out|rest|cycles|cue)=(\S+)$")
_KNOWN_TAGS = "pause, section, slow, /slow, breath, chime, note"
CHIME_S = 3.0
"""Length of a ``[chime]``: the bell and its ring-out, in seconds."""


@dataclass(frozen=True)
class _Breath:
    phases: tuple[tuple[str, float], ...]
    cycles: int
    cue: str


_Token = tuple[str, object, int]  # (kind, value, line)


def _pause(match: re.Match[str], line: int) -> _Token:
    seconds = float(match.group(1)) / (1000.0 if match.group(2) == "ms" else 1.0)
    if not 0.0 < seconds <= MAX_PAUSE_S:
        raise ScriptMarkupError(
            f"script line {line}: a pause must be longer than 0 and at most {MAX_PAUSE_S:g} seconds"
        )
    return ("pause", seconds, line)


def _breath(args: list[str], line: int) -> _Token:
    values: dict[str, str] = {}
    for arg in args:
        match = _BREATH_ARG.match(arg)
        if not match:
            raise ScriptMarkupError(
                f"script line {line}: breath takes in=, hold=, out=, rest=, cycles=, cue= "
                f"(got '{arg.split('=')[0]}')"
            )
        values[match.group(1)] = match.group(2)
    try:
        seconds = {p: float(values.get(p, "0").rstrip("s")) for p in ("in", "hold", "out", "rest")}
        cycles = int(values.get("cycles", "1"))
    except ValueError:
        raise ScriptMarkupError(f"script line {line}: breath timings must be numbers") from None
    for phase, (low, high) in BREATH_LIMITS_S.items():
        if not low <= seconds[phase] <= high:
            raise ScriptMarkupError(
                f"script line {line}: breath {phase}= must be between {low:g} and {high:g} seconds"
            )
    if not 1 <= cycles <= MAX_BREATH_CYCLES:
        raise ScriptMarkupError(
            f"script line {line}: breath cycles= must be between 1 and {MAX_BREATH_CYCLES}"
        )
    cue = values.get("cue", "voice")
    if cue not in ("voice", "tone"):
        raise ScriptMarkupError(f"script line {line}: breath cue= must be voice or tone")
    phases = tuple((p, seconds[p]) for p in ("in", "hold", "out", "rest") if seconds[p] > 0)
    if cue == "voice" and any(s < _MIN_VOICE_SLOT_S for _, s in phases):
        raise ScriptMarkupError(
            f"script line {line}: spoken breath cues need phases of at least "
            f"{_MIN_VOICE_SLOT_S:g} seconds (or cue=tone)"
        )
    return ("breath", _Breath(phases=phases, cycles=cycles, cue=cue), line)


def _tag(body: str, line: int) -> _Token:
    if body.lstrip().startswith("note:"):
        return ("note", None, line)
    body = " ".join(body.split())
    match = _PAUSE.match(body)
    if match:
        return _pause(match, line)
    match = _SECTION.match(body)
    if match:
        return ("section", match.group(1).strip(), line)
    if body in ("slow", "/slow"):
        return (body, None, line)
    if body == "chime":
        return ("chime", CHIME_S, line)
    words = body.split(" ")
    if words[0] == "breath":
        return _breath(words[1:], line)
    raise ScriptMarkupError(
        f"script line {line}: unknown markup [{words[0]}]; known tags: {_KNOWN_TAGS}"
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
            while end < len(text) and text[end] not in "[]\\":
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
    parts = _SENTENCE_END.split(text)
    # split() interleaves the captured closing quotes: put each back on its sentence.
    joined = [
        parts[i] + (parts[i + 1] if i + 1 < len(parts) else "") for i in range(0, len(parts), 2)
    ]
    cleaned = (" ".join(p.split()) for p in joined)
    return [p for p in cleaned if _WORD.search(p)]


@dataclass
class _Builder:
    """Accumulates events while the tokens are read."""

    pacing: Pacing
    events: list[Event] = field(default_factory=list)
    section: str | None = None
    gap: str | None = None  # automatic gap owed before the next speech: sentence/paragraph
    slow: bool = False
    explicit: list[tuple[float, int]] = field(default_factory=list)
    text: list[tuple[str, int]] = field(default_factory=list)
    sections: list[tuple[str, int]] = field(default_factory=list)
    spoken: bool = False

    def flush_text(self) -> None:
        if not self.text:
            return
        joined = "".join(part for part, _ in self.text)
        starts: list[tuple[int, int]] = []  # (offset in joined, script line)
        offset = 0
        for part, line in self.text:
            starts.append((offset, line))
            offset += len(part)
        self.text.clear()
        cursor = 0
        for sentence in _sentences(joined):
            first_word = _WORD.search(sentence)
            found = joined.find(first_word.group(0) if first_word else sentence, cursor)
            cursor = max(cursor, found)
            line = next(ln for off, ln in reversed(starts) if off <= cursor)
            self.emit_gap(line)
            self.emit_sections()
            factor = self.pacing.slow_rate_factor if self.slow else 1.0
            self.events.append(
                Speech(text=sentence, line=line, section=self.section, rate_factor=factor)
            )
            self.spoken = True
            self.gap = "sentence"

    def emit_sections(self) -> None:
        for title, title_line in self.sections:
            self.events.append(SectionStart(title=title, line=title_line))
        self.sections.clear()

    def emit_gap(self, line: int) -> None:
        scale = self.pacing.slow_gap_factor if self.slow else 1.0
        if self.explicit:
            total = sum(s for s, _ in self.explicit)
            self.events.append(Pause(total, "explicit", self.explicit[0][1]))
            self.explicit.clear()
        elif self.spoken and self.gap == "paragraph":
            self.events.append(Pause(self.pacing.paragraph_gap_s * scale, "paragraph", line))
        elif self.spoken and self.gap == "sentence":
            self.events.append(Pause(self.pacing.sentence_gap_s * scale, "sentence", line))
        self.gap = None

    def breath(self, breath: _Breath, line: int) -> None:
        self.emit_gap(line)
        self.emit_sections()
        for _ in range(breath.cycles):
            for phase, seconds in breath.phases:
                if breath.cue == "tone":
                    self.events.append(Tone(phase, seconds, line, self.section))  # type: ignore[arg-type]
                else:
                    self.events.append(
                        Speech(
                            text=_VOICE_CUES[phase], line=line, section=self.section, slot_s=seconds
                        )
                    )
        self.spoken = True
        self.gap = None  # the last phase already ends in its own silence

    def chime(self, seconds: float, line: int) -> None:
        self.emit_gap(line)
        self.events.append(Tone("chime", seconds, line, self.section))
        self.spoken = True
        self.gap = "sentence"

    def finish(self) -> Timeline:
        self.flush_text()
        self.emit_sections()
        if self.explicit:
            total = sum(s for s, _ in self.explicit)
            self.events.append(Pause(total, "explicit", self.explicit[0][1]))
        if not any(isinstance(e, (Speech, Tone)) for e in self.events):
            raise ScriptMarkupError("the script has no text to speak")
        return Timeline(events=tuple(self.events))


def parse_script(script: str, pacing: Pacing | None = None) -> Timeline:
    """Turn a filled script into a :class:`~imr_audio.timeline.Timeline`.

    Raises :class:`ScriptMarkupError` naming the script line of any malformed markup.
    """
    build = _Builder(pacing or Pacing())
    slow_line = 0
    for kind, value, line in _tokenize(script):
        if kind == "text":
            build.text.append((str(value), line))
            continue
        if kind == "note":
            continue
        build.flush_text()
        if kind == "para":
            if build.gap is not None:
                build.gap = "paragraph"
        elif kind == "pause":
            build.explicit.append((float(value), line))  # type: ignore[arg-type]
        elif kind == "section":
            if build.gap is not None:
                build.gap = "paragraph"
            build.section = str(value)
            build.sections.append((build.section, line))
        elif kind == "slow":
            if build.slow:
                raise ScriptMarkupError(f"script line {line}: [slow] inside [slow]")
            build.slow, slow_line = True, line
        elif kind == "/slow":
            if not build.slow:
                raise ScriptMarkupError(f"script line {line}: [/slow] without [slow]")
            build.slow = False
        elif kind == "breath":
            build.breath(value, line)  # type: ignore[arg-type]
        elif kind == "chime":
            build.chime(float(value), line)  # type: ignore[arg-type]
    if build.slow:
        raise ScriptMarkupError(f"script line {slow_line}: [slow] is never closed by [/slow]")
    return build.finish()
