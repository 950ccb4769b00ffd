"""Transcript and captions of a track: the ``.txt`` and ``.vtt`` files beside it.

Both hold the text as written in the script (the timeline's text): pronunciation respellings
go only to the speech engine and never appear here. Captions are timed from where the mixer
actually placed each sentence, so they follow the finished audio.

Captions follow common subtitle practice (the BBC Subtitle Guidelines, with the figures of
Netflix's English timed-text style guide where the BBC gives none):

* **One placed speech event, one or more cues.** A cue never spans two events (each is its own
  clip, with silence between). An event is cut into cues at sentence ends first (one sentence
  per cue where the timing allows), then at clause boundaries: ``;``, ``:`` and dashes, then
  commas (so a conjunction after a comma opens the next cue); inside a clause only when the
  clause alone is too long for a cue. Each possible cut is ranked (see ``_GAP_COSTS``):
  between cues, a sentence end costs 0, a clause end 1, a comma 2, before a subordinating
  conjunction (``while``, ``that``, ``until`` ...) 6, before ``and``/``or`` without a comma 8,
  before a preposition that opens a phrase 10, before a determiner 12, after a verb's particle
  16, anywhere else 20; each further cue costs 3, and the cheapest cuts of the whole event win.
* **Never inside a short phrase.** A clause (words between two punctuation marks) of at most
  :data:`CAPTION_LINE_CHARS` characters is never cut between cues, and a cut inside a longer
  clause leaves at least three of its words on each side (no ``... and never`` /
  ``while driving ...``). No cue or line ends on an article, determiner, possessive,
  preposition, conjunction, auxiliary or modal verb, subject pronoun, ``not`` or ``never``, nor
  inside a compound preposition (``in front of``); a preposition followed by a conjunction or
  preposition is a particle and may end one (``breathe in | and out``, ``carry on | in``). A
  one-word cue (an orphan) or a lone word on a line is avoided. The splitter knows words, not
  grammar: an adjective and its noun can still land on two lines when nothing better fits.
* **Layout.** At most :data:`CAPTION_LINES` (2) lines of at most :data:`CAPTION_LINE_CHARS`
  (42) characters; a cue that fits on one line has one. Two lines break at the most natural
  point by the same ranking (punctuation 0-1, before a conjunction 3-5, a preposition 4, a
  determiner 5, elsewhere 8), then the more even pair of lines (0.05 a character of
  difference), a shorter top line preferred.
* **Timing follows the speech.** An event's cues share its clip (:class:`Placement` start and
  duration) in proportion to their characters, each comma, semicolon or colon counting as
  :data:`_PAUSE_CHARS` characters more (the engines pause 0.25-0.6 s there, measured), so a cue
  appears when its words begin. A cue spans at most :data:`CAPTION_MAX_S` (7 s) of speech.
* **Display time.** A cue stays up at least :data:`CAPTION_MIN_S` (1 s) and long enough to be
  read at :data:`CAPTION_READING_CPS` (17 characters a second, about the BBC's 160-180 words a
  minute), and an event's last cue lingers :data:`CAPTION_HANG_S` (1 s) after the speech stops
  (the BBC allows up to 1.5 s); none of these runs into the next cue, and no extension makes a
  cue longer than :data:`CAPTION_MAX_S`. A breath cue's caption stays up for its whole
  breathing phase (it says what to do for that long). Cues are in order and never overlap.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from imr_audio.mix import Placement
from imr_audio.timeline import SectionStart, Speech, Timeline, Tone

__all__ = [
    "CAPTION_HANG_S",
    "CAPTION_LINES",
    "CAPTION_LINE_CHARS",
    "CAPTION_MAX_S",
    "CAPTION_MIN_S",
    "CAPTION_READING_CPS",
    "transcript_text",
    "webvtt_captions",
]

CAPTION_LINE_CHARS = 42
"""Longest caption line, in characters (the usual limit for captions on a 16:9 screen)."""
CAPTION_LINES = 2
"""Most lines in one caption."""
CAPTION_MAX_S = 7.0
"""Most speech one caption spans, and longest it stays up (a breath cue: its phase), seconds."""
CAPTION_MIN_S = 1.0
"""Shortest time a caption stays up, when the next one leaves room, in seconds."""
CAPTION_READING_CPS = 17.0
"""Reading speed a caption's display time allows for, in characters a second."""
CAPTION_HANG_S = 1.0
"""Time an event's last caption stays up after its speech ends, room allowing, in seconds."""
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


# --- where a caption may be cut -------------------------------------------------------------

_CLOSERS = "\"')]»’”"
_DASHES = ("—", "–", "--")

def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


_COORDINATORS = _word_set("and but or nor")
_CONJUNCTIONS = _COORDINATORS | _word_set(
    "so yet because while when whenever where wherever until till as if though although "
    "unless since before after that which who whom whose whether than then how what why"
)
_PREPOSITIONS = _word_set(
    "about above across against along among around at behind below beneath beside between "
    "beyond by down during for from in inside into like near of off on onto out outside over "
    "past through throughout to toward towards under underneath up upon with within without"
)
_DETERMINERS = _word_set(
    "a an the this these those your my his her its our their each every some any no another "
    "whichever whatever such"
)
_BINDS_FORWARD = _CONJUNCTIONS | _DETERMINERS | _word_set(
    # auxiliaries and modals, subject pronouns, and words that lean on the next one
    "can could may might will would shall should must is are am was were be been being do "
    "does did has have had let i we they he she not never very"
)
_LEANS_FORWARD = {"you": 30.0, "it": 15.0, "all": 20.0, "just": 10.0}
"""Words that usually, not always, belong with the next one: a cut after them costs this."""
_LEANS_BACK = {"them": 6.0, "him": 6.0, "me": 6.0, "us": 6.0}
"""Object pronouns, which belong with the verb before them: a cut before them costs this."""
_OBJECTS = _DETERMINERS | _word_set(
    "you it them him her me us yourself themselves everything anything something nothing"
)
"""Words that open a noun phrase: a preposition before one is surely a preposition."""
_COMPOUND_HEADS = _word_set("front top instead because out next close away apart ahead")
"""First words of compound prepositions (``in front of``, ``out of``, ``close to``)."""

_SENTENCE, _CLAUSE, _COMMA, _NONE = "sentence", "clause", "comma", "none"
_GAP_COSTS = {  # (between lines, between cues); lower is more natural
    _SENTENCE: (0.0, 0.0),
    _CLAUSE: (1.0, 1.0),
    _COMMA: (1.0, 2.0),
    "conjunction": (3.0, 6.0),  # before one that opens a clause
    "coordinator": (5.0, 8.0),  # before "and", "or" without a comma: often inside a phrase
    "preposition": (4.0, 10.0),  # before one that opens a phrase (not a verb's particle)
    "determiner": (5.0, 12.0),
    "particle": (6.0, 16.0),  # after a preposition that ends a phrase: "breathe in | and out"
    "other": (8.0, 20.0),
}
_NEVER = 100.0
_CUE_COST = 3.0  # each cue more: fewer, fuller cues unless a better cut is worth it
_INNER_SENTENCE_COST = 4.0  # a sentence end inside a cue: one sentence per cue when it can be
_ORPHAN_COST = 30.0
_SHORT_CUE_COST = 40.0
_FRAGMENT_WORDS = 3
_PAUSE_CHARS = 4
"""Characters a comma, semicolon or colon counts for in timing (the engine's short pause)."""


def _core(word: str) -> str:
    """A word without surrounding punctuation, lower case."""
    return word.strip(_CLOSERS + "\"'‘“([«.,;:!?…—–-").lower()


def _punctuation(word: str) -> str:
    """What ends ``word``: a sentence, a clause (``;``, ``:``, dash), a comma, or nothing."""
    tail = word.rstrip(_CLOSERS)
    if tail.endswith(_DASHES) or tail.endswith(("...", "…")) or tail[-1:] in (";", ":"):
        return _CLAUSE
    if tail[-1:] in (".", "!", "?"):
        return _SENTENCE
    return _COMMA if tail.endswith(",") else _NONE


class _Words:
    """One speech event's words with what is known about each gap between them."""

    def __init__(self, text: str) -> None:
        self.words = text.split()
        count = len(self.words)
        self.ends = [_punctuation(word) for word in self.words]
        self.cores = [_core(word) for word in self.words]
        # characters up to word i, counting one space after each word
        self.chars = [0]
        self.weights = [0]
        for word, end in zip(self.words, self.ends, strict=True):
            self.chars.append(self.chars[-1] + len(word) + 1)
            self.weights.append(self.weights[-1] + len(word) + 1
                                + (_PAUSE_CHARS if end in (_CLAUSE, _COMMA) else 0))
        # the clause each word belongs to: [first, last) word indices
        self.clause: list[tuple[int, int]] = []
        first = 0
        for index in range(count):
            if self.ends[index] != _NONE or index == count - 1:
                self.clause.extend([(first, index + 1)] * (index + 1 - first))
                first = index + 1

    def length(self, first: int, stop: int) -> int:
        """Characters of words ``first`` to ``stop`` (exclusive) joined by spaces."""
        return self.chars[stop] - self.chars[first] - 1

    def gap_cost(self, after: int, line: bool) -> float:
        """Cost of a cut after word ``after``: between cues, or between lines (``line``)."""
        end = self.ends[after]
        if end != _NONE:
            return _GAP_COSTS[end][not line]
        left, right = self.cores[after], self.cores[after + 1]
        then = self.cores[after + 2] if after + 2 < len(self.cores) else ""
        if self.words[after + 1] in _DASHES:
            return _NEVER  # a dash ends the words before it
        if left in _PREPOSITIONS and right not in _CONJUNCTIONS | _PREPOSITIONS:
            return _NEVER
        if left in _BINDS_FORWARD - _PREPOSITIONS or (
            left in _COMPOUND_HEADS and right in ("of", "to", "from")
        ):
            return _NEVER
        kind = (
            "particle" if left in _PREPOSITIONS
            else "coordinator" if right in _COORDINATORS
            else "conjunction" if right in _CONJUNCTIONS
            else "preposition" if right in _PREPOSITIONS and (right == "to" or then in _OBJECTS)
            else "determiner" if right in _DETERMINERS
            else "other"
        )
        cost = _GAP_COSTS[kind][not line] + _LEANS_FORWARD.get(left, 0.0)
        cost += _LEANS_BACK.get(right, 0.0)
        if not line:  # never inside a short phrase, nor leaving a fragment of one
            first, stop = self.clause[after]
            if self.length(first, stop) <= CAPTION_LINE_CHARS or min(
                after + 1 - first, stop - after - 1
            ) < _FRAGMENT_WORDS:
                cost += _NEVER
        return cost

    def layout(self, first: int, stop: int) -> tuple[float, int] | None:
        """The best lines for words ``first`` to ``stop``: (cost, words on the top line).

        One line when they fit on one (all of them on top); None when two lines cannot hold
        them (a single word too long for a line still stands alone).
        """
        if self.length(first, stop) <= CAPTION_LINE_CHARS or stop - first == 1:
            return 0.0, stop - first
        best: tuple[float, int] | None = None
        for cut in range(first + 1, stop):
            top, bottom = self.length(first, cut), self.length(cut, stop)
            if top > CAPTION_LINE_CHARS or bottom > CAPTION_LINE_CHARS:
                continue
            cost = (self.gap_cost(cut - 1, line=True) + 0.05 * abs(top - bottom)
                    + 0.03 * max(top - bottom, 0))
            if min(cut - first, stop - cut) == 1:
                cost += 15.0  # a lone word on a line
            if best is None or cost < best[0]:
                best = (cost, cut - first)
        return best

    def cue_cost(self, first: int, stop: int, duration_s: float) -> float | None:
        """Cost of words ``first`` to ``stop`` as one cue of an event lasting ``duration_s``."""
        layout = self.layout(first, stop)
        if layout is None:
            return None
        count = len(self.words)
        share_s = duration_s * (self.weights[stop] - self.weights[first]) / self.weights[count]
        if share_s > CAPTION_MAX_S and stop - first > 1:
            return None
        cost = _CUE_COST + layout[0]
        if any(self.ends[i] == _SENTENCE for i in range(first, stop - 1)):
            cost += _INNER_SENTENCE_COST
        if stop - first < count:
            if stop - first == 1:
                cost += _ORPHAN_COST
            if share_s < CAPTION_MIN_S:
                cost += _SHORT_CUE_COST
        return cost


@dataclass(frozen=True)
class _Cue:
    """One caption of an event."""

    lines: tuple[str, ...]
    """Its one or two lines."""
    weight: int
    """Its share of the event's time, in characters (pauses counted, see :class:`_Words`)."""


def _cue_words(text: str, duration_s: float) -> list[_Cue]:
    """An event's words, cut into cues by the module's rules (none when it has no words).

    The cuts are the cheapest by :meth:`_Words.cue_cost` and :meth:`_Words.gap_cost` over the
    event (dynamic programming over the gaps between words; ties go to the earlier cut).
    """
    words = _Words(text)
    count = len(words.words)
    best: list[tuple[float, int]] = [(0.0, 0)] + [(math.inf, 0)] * count
    for stop in range(1, count + 1):
        for first in range(stop):
            if best[first][0] == math.inf:
                continue
            cost = words.cue_cost(first, stop, duration_s)
            if cost is None:
                continue
            total = best[first][0] + cost
            if first > 0:
                total += words.gap_cost(first - 1, line=False)
            if total < best[stop][0]:
                best[stop] = (total, first)
    cuts = [count]
    while cuts[-1] > 0:
        cuts.append(best[cuts[-1]][1])
    cues = []
    for first, stop in itertools.pairwise(reversed(cuts)):
        layout = words.layout(first, stop)
        top = first + (layout[1] if layout is not None else stop - first)
        lines = [" ".join(words.words[first:top]), " ".join(words.words[top:stop])]
        cues.append(_Cue(tuple(line for line in lines if line),
                         words.weights[stop] - words.weights[first]))
    return cues


def webvtt_captions(placements: Sequence[Placement]) -> str:
    """WebVTT captions: each placed speech event, cut into readable cues timed by its speech.

    See the module's docstring for the rules and their figures.
    """
    timed: list[tuple[float, float, str]] = []  # start, shown until, text
    for placement in placements:
        cues = _cue_words(placement.speech.text, placement.duration_s)
        total = sum(cue.weight for cue in cues)
        start = placement.start_s
        for index, cue in enumerate(cues):
            spoken_s = placement.duration_s * cue.weight / total
            text = "\n".join(cue.lines)
            read_s = max(CAPTION_MIN_S, len(text) / CAPTION_READING_CPS)
            if placement.speech.slot_s is not None:  # a breath cue: up for its phase
                shown = start + max(placement.speech.slot_s, spoken_s)
            elif index == len(cues) - 1:
                shown = start + min(max(spoken_s + CAPTION_HANG_S, read_s),
                                    max(CAPTION_MAX_S, spoken_s))
            else:
                shown = start + spoken_s
            timed.append((start, shown, text))
            start += spoken_s
    blocks = ["WEBVTT\n"]
    for number, (start, shown, text) in enumerate(timed, start=1):
        end = min(shown, timed[number][0]) if number < len(timed) else shown
        blocks.append(f"{number}\n{_timestamp(start)} --> {_timestamp(end)}\n{_escape(text)}\n")
    return "\n".join(blocks)
