"""Target length: reach a chosen track length by stretching or shrinking the flexible pauses.

Only pauses move. Automatic sentence and paragraph gaps and explicit ``[pause]`` markup are
scaled, each within bounds; speech, breath-cue slots and breath tones keep their exact timings.

Bounds (our judgement, see ``docs/cli.md``):

* every flexible pause may shrink to 0.6x and stretch to 2x its written length
  (:data:`PAUSE_SCALE_LIMITS`); a template's ``pause_scale`` may narrow this per kind;
* no pause is shortened below :data:`MIN_PAUSE_S` for its kind (one already shorter stays);
* an explicit pause in a paragraph that gives an imagery instruction is never shortened below
  :data:`IMAGERY_MIN_PAUSE_S` (5 s, the clinical lint's pacing rule).

The same pause is never lengthened beyond :data:`~imr_audio.markup.MAX_PAUSE_S`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from imr_audio.errors import TrackLengthError
from imr_audio.instructions import is_imagery_instruction
from imr_audio.timeline import Pause, Speech, Timeline, Tone

__all__ = [
    "IMAGERY_MIN_PAUSE_S",
    "LENGTH_TOLERANCE_S",
    "MAX_LENGTH_S",
    "MIN_PAUSE_S",
    "PAUSE_SCALE_LIMITS",
    "PauseScale",
    "check_length_estimate",
    "fit_to_length",
    "format_clock",
    "length_range_s",
    "parse_length",
]

PAUSE_SCALE_LIMITS: Mapping[str, tuple[float, float]] = {
    "sentence": (0.6, 2.0),
    "paragraph": (0.6, 2.0),
    "explicit": (0.6, 2.0),
}
"""How far each kind of pause may shrink (first factor) and stretch (second factor)."""

MIN_PAUSE_S: Mapping[str, float] = {"sentence": 0.75, "paragraph": 1.5, "explicit": 1.0}
"""Shortest a pause of each kind is made by shrinking, in seconds (a shorter one stays as is)."""

IMAGERY_MIN_PAUSE_S = 5.0
"""Shortest an explicit pause after an imagery instruction is made by shrinking, in seconds."""

LENGTH_TOLERANCE_S = 2.0
"""A target at most this far outside the reachable range is met at the nearest end, in seconds."""

MAX_LENGTH_S = 3 * 3600.0
"""Longest target length accepted, in seconds."""

_MAX_STRETCHED_PAUSE_S = 600.0  # markup.MAX_PAUSE_S; not imported: markup is not needed here
_ESTIMATE_SPREAD = (0.7, 1.4)  # real speech time / estimated speech time, generously
_CLOCK = re.compile(r"^(?:(\d+):)?(\d+):([0-5]\d(?:\.\d+)?)$")
_UNITS = re.compile(
    r"^(?:(?P<h>\d+(?:\.\d+)?)\s*h)?\s*(?:(?P<m>\d+(?:\.\d+)?)\s*(?:m|min))?\s*"
    r"(?:(?P<s>\d+(?:\.\d+)?)\s*s)?$"
)


def parse_length(text: str) -> float:
    """A length written as ``10m``, ``600s``, ``1m30s``, ``1h``, ``12:30`` or ``1:02:30``, in s.

    Raises :class:`TrackLengthError` for anything else, or a length that is not more than 0 and
    at most :data:`MAX_LENGTH_S`.
    """
    written = str(text).strip().lower()
    clock = _CLOCK.match(written)
    units = _UNITS.match(written)
    if clock:
        hours, minutes, seconds = clock.groups()
        total = int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
    elif units and any(units.groupdict().values()):
        parts = units.groupdict()
        total = (
            float(parts["h"] or 0) * 3600 + float(parts["m"] or 0) * 60 + float(parts["s"] or 0)
        )
    else:
        raise TrackLengthError(
            f"length '{text}': write it as minutes (10m), seconds (600s) or minutes:seconds (12:30)"
        )
    if not 0 < total <= MAX_LENGTH_S:
        raise TrackLengthError(
            f"length '{text}': must be more than 0 and at most {format_clock(MAX_LENGTH_S)}"
        )
    return total


def format_clock(seconds: float) -> str:
    """A length as a clock reading: ``2:56``, ``12:30``, ``1:02:30``."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@dataclass(frozen=True)
class PauseScale:
    """How far ``--length`` may scale each kind of pause, as factors of its written length."""

    sentence: tuple[float, float] = PAUSE_SCALE_LIMITS["sentence"]
    """Shrink and stretch factors of the automatic gaps between sentences (0.6-2.0)."""
    paragraph: tuple[float, float] = PAUSE_SCALE_LIMITS["paragraph"]
    """Shrink and stretch factors of the automatic gaps between paragraphs (0.6-2.0)."""
    explicit: tuple[float, float] = PAUSE_SCALE_LIMITS["explicit"]
    """Shrink and stretch factors of ``[pause]`` markup (0.6-2.0)."""

    @classmethod
    def narrowed(cls, overrides: Sequence[tuple[str, float, float]]) -> PauseScale:
        """The default bounds with a template's ``pause_scale`` entries ``(kind, min, max)``."""
        return replace(cls(), **{kind: (low, high) for kind, low, high in overrides})

    def factors(self, kind: str) -> tuple[float, float]:
        """Shrink and stretch factors of one kind of pause."""
        return {"sentence": self.sentence, "paragraph": self.paragraph}.get(kind, self.explicit)


@dataclass(frozen=True)
class _Layout:
    """A timeline's length split into what is fixed and the pauses that may move."""

    fixed_s: float
    """Lead-in, speech, breath slots, tones, tail and pauses that cannot move, in seconds."""
    pauses: tuple[tuple[int, float, float, float], ...]
    """``(event index, written length, shortest, longest)`` of every movable pause."""

    @property
    def shortest_s(self) -> float:
        return self.fixed_s + sum(low for _, _, low, _ in self.pauses)

    @property
    def longest_s(self) -> float:
        return self.fixed_s + sum(high for _, _, _, high in self.pauses)

    def length_s(self, factor: float) -> float:
        return self.fixed_s + sum(_scaled(d, low, high, factor) for _, d, low, high in self.pauses)


def _scaled(written_s: float, low_s: float, high_s: float, factor: float) -> float:
    return min(max(written_s * factor, low_s), high_s)


def _imagery_pauses(timeline: Timeline) -> set[int]:
    """Indexes of explicit pauses in a paragraph that gives an imagery instruction."""
    found: set[int] = set()
    imagery = False
    for index, event in enumerate(timeline.events):
        if isinstance(event, Speech) and event.slot_s is None:
            imagery = imagery or is_imagery_instruction(event.text)
        elif isinstance(event, Pause):
            if event.kind == "explicit" and imagery:
                found.add(index)
            if event.kind != "sentence":
                imagery = False
        else:  # a section, a breath cue or tone: a new paragraph
            imagery = False
    return found


def _layout(
    timeline: Timeline, speech_s: Sequence[float], padding_s: float, scale: PauseScale
) -> _Layout:
    """Split the track length the way :func:`~imr_audio.mix.place_speech` lays it out.

    ``speech_s`` holds each speech event's clip length; pauses before the first speech or tone
    take no time there, so they neither count nor move.
    """
    durations = iter(speech_s)
    imagery = _imagery_pauses(timeline)
    fixed = padding_s
    pauses: list[tuple[int, float, float, float]] = []
    started = False
    for index, event in enumerate(timeline.events):
        if isinstance(event, Speech):
            spoken = next(durations)
            fixed += event.slot_s if event.slot_s is not None else spoken
            started = True
        elif isinstance(event, Tone):
            fixed += event.duration_s
            started = True
        elif isinstance(event, Pause) and started and event.duration_s > 0:
            shrink, stretch = scale.factors(event.kind)
            floor = MIN_PAUSE_S[event.kind]
            if index in imagery:
                floor = max(floor, IMAGERY_MIN_PAUSE_S)
            written = event.duration_s
            low = min(written, max(written * shrink, floor))
            high = max(written, min(written * stretch, _MAX_STRETCHED_PAUSE_S))
            pauses.append((index, written, low, high))
    return _Layout(fixed, tuple(pauses))


def length_range_s(
    timeline: Timeline,
    speech_s: Sequence[float],
    lead_in_s: float,
    tail_s: float,
    scale: PauseScale | None = None,
) -> tuple[float, float]:
    """Shortest and longest track the pauses can make, in seconds.

    ``speech_s`` holds the length of each speech event's clip, in timeline order.
    """
    layout = _layout(timeline, speech_s, lead_in_s + tail_s, scale or PauseScale())
    return layout.shortest_s, layout.longest_s


def _out_of_range(
    target_s: float, shortest_s: float, longest_s: float, template_id: str, estimated: bool
) -> TrackLengthError:
    roughly = "roughly " if estimated else ""
    when = " (estimated before synthesis)" if estimated else ""
    return TrackLengthError(
        f"a length of {format_clock(target_s)} cannot be reached: with this voice, template "
        f"'{template_id}' can last {roughly}from {format_clock(shortest_s)} to "
        f"{format_clock(longest_s)}{when} by shortening or lengthening its pauses"
    )


def fit_to_length(
    timeline: Timeline,
    speech_s: Sequence[float],
    target_s: float,
    *,
    lead_in_s: float,
    tail_s: float,
    template_id: str,
    scale: PauseScale | None = None,
) -> Timeline:
    """The timeline with its flexible pauses scaled so that the track lasts ``target_s``.

    All movable pauses take one common factor, each held within its own bounds, so the script
    keeps its rhythm. ``speech_s`` holds each speech event's clip length in timeline order.
    Raises :class:`TrackLengthError` stating the reachable range when the target lies more
    than :data:`LENGTH_TOLERANCE_S` outside it.
    """
    layout = _layout(timeline, speech_s, lead_in_s + tail_s, scale or PauseScale())
    shortest, longest = layout.shortest_s, layout.longest_s
    if not shortest - LENGTH_TOLERANCE_S <= target_s <= longest + LENGTH_TOLERANCE_S:
        raise _out_of_range(target_s, shortest, longest, template_id, estimated=False)
    target = min(max(target_s, shortest), longest)
    ratios = [r for _, d, low, high in layout.pauses for r in (low / d, high / d)]
    if not ratios:
        return timeline
    low_factor, high_factor = min(ratios), max(ratios)
    for _ in range(80):  # bisection: the length only grows with the factor
        middle = (low_factor + high_factor) / 2
        if layout.length_s(middle) < target:
            low_factor = middle
        else:
            high_factor = middle
    factor = (low_factor + high_factor) / 2
    events = list(timeline.events)
    for index, written, low, high in layout.pauses:
        pause = events[index]
        assert isinstance(pause, Pause)
        events[index] = replace(pause, duration_s=_scaled(written, low, high, factor))
    return Timeline(events=tuple(events))


def check_length_estimate(
    timeline: Timeline,
    spoken_wpm: float,
    target_s: float,
    *,
    lead_in_s: float,
    tail_s: float,
    template_id: str,
    scale: PauseScale | None = None,
) -> None:
    """Refuse, before any synthesis, a target far outside what the script could reach.

    Speech time is estimated from word counts at ``spoken_wpm`` and allowed to come out
    between 0.7 and 1.4 times the estimate; only a target outside even that is refused here.
    """
    speech = [
        0.0 if s.slot_s is not None else s.word_count / (spoken_wpm * s.rate_factor) * 60.0
        for s in timeline.speech
    ]
    low = [t * _ESTIMATE_SPREAD[0] for t in speech]
    high = [t * _ESTIMATE_SPREAD[1] for t in speech]
    shortest, _ = length_range_s(timeline, low, lead_in_s, tail_s, scale)
    _, longest = length_range_s(timeline, high, lead_in_s, tail_s, scale)
    if not math.isfinite(target_s) or not shortest <= target_s <= longest:
        raise _out_of_range(target_s, shortest, longest, template_id, estimated=True)

