"""Rules read from the timeline: the wrapper, breathing limits, eligibility and pacing."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from imr_audio.authoring.templates import TemplateSpec
from imr_audio.instructions import is_imagery_instruction
from imr_audio.lint.findings import LintFinding, finding
from imr_audio.lint.sources import SourceMap
from imr_audio.profile import ELIGIBILITY_FLAGS, ClientProfile
from imr_audio.timeline import Pause, Speech, Timeline, Tone

__all__ = [
    "LONG_HOLD_S",
    "MAX_LONG_HOLD_CYCLES",
    "MIN_BREATH_CYCLE_S",
    "MIN_IMAGERY_PAUSE_S",
    "WPM_RANGE",
    "check_breathing",
    "check_eligibility",
    "check_pacing",
    "check_wrapper",
    "delivery_wpm",
    "estimate_duration_s",
]

_WRAPPER_LINES = {
    "Opening": ("never while driving",
                "stop at any time|stop any time|stop anytime|stop whenever|stop at any point"
                "|stop at any moment",
                "close your eyes"),
    "Returning": ("feet on the floor", "open your eyes"),
}
"""The lines each wrapper section must say; ``|`` separates wordings that say the same."""
_INVITED = ("close your eyes",)
"""Lines that must be offered, not ordered (a choice or a modal: "you can close your eyes, if you
like, or ..."); "close your eyes now, and keep them closed" takes the choice away."""
_INVITATIONS = frozenset({"can", "may", "might", "could", "or", "if", "prefer", "choose",
                          "like", "want", "wish", "welcome", "free"})
MIN_IMAGERY_PAUSE_S = 5.0
"""Shortest pause after an imagery instruction, in its paragraph, in seconds."""
WPM_RANGE = (80.0, 130.0)
"""Delivery rate the lint accepts, in words per minute."""
MAX_LONG_HOLD_CYCLES = 4
"""Most cycles with a hold of 7 s or more, unless the client is experienced."""
LONG_HOLD_S = 4.0
"""A hold this long or longer needs the light-headed line."""
MIN_BREATH_CYCLE_S = 6.0
"""Shortest paced breath (in, hold, out and rest), in seconds: at most 10 breaths a minute. The
calming patterns are slower (resonance 10 s, box 16 s, 4-7-8 19 s); faster is over-breathing."""
_HOLD_WORDS = re.compile(
    r"\bhold(?:ing)?\s+(?:it|(?:your|the|that|this)\s+breath|there|for)\b", re.I)
_BREATH_WORDS = re.compile(r"\b(?:breath|breathe|breathing|inhale)\b", re.I)
_HOLD_NEGATED = re.compile(r"\b(?:no need|don't|do not|never|not|without)\b[^.,;]*\bhold", re.I)
_RELEASE = re.compile(r"\b(?:let it go|let go|breathe out|out|release|exhale|sigh)\b", re.I)
_AS_LONG_AS = re.compile(r"\bas long as (?:you can|possible)\b", re.I)


def _spoken_hold(text: str, after: Sequence[object]) -> float | None:
    """Seconds of a breath hold asked for in words, not in ``[breath]`` markup.

    "Take a deep breath in, and hold it for a count of ten. [pause 10s]": the pause after the
    sentence is the hold. "Hold it for as long as you can" is a long hold whatever the pause.
    "There is no need to hold your breath" asks for none, "breathe in, and hold the feeling of
    calm" holds no breath, and "hold it, and let it go" lets it go before the pause.
    """
    if "hold" not in text.lower() or not _BREATH_WORDS.search(text) or _HOLD_NEGATED.search(
            text):
        return None
    held = _HOLD_WORDS.search(text)
    if held is None:
        return None
    if _RELEASE.search(text, held.end()) and not _AS_LONG_AS.search(text):
        return None  # "hold it, and let it go with a sigh": the pause after is not the hold
    seconds = 0.0
    for event in after:
        if not isinstance(event, Pause):
            break
        seconds += event.duration_s
    if _AS_LONG_AS.search(text):
        seconds = max(seconds, 7.0)
    return seconds


def _speaking_s(timeline: Timeline, spoken_wpm: float) -> float:
    return sum(
        s.word_count / (spoken_wpm * s.rate_factor) * 60.0 for s in timeline.speech if not s.slot_s
    )


def estimate_duration_s(
    timeline: Timeline, spoken_wpm: float, lead_in_s: float = 8.0, tail_s: float = 12.0
) -> float:
    """Estimated track length in seconds before synthesis, from word counts and pauses.

    ``spoken_wpm`` is the rate the voice really speaks at (see ``VoiceProfile.spoken_wpm``).
    """
    return _speaking_s(timeline, spoken_wpm) + timeline.pause_s + lead_in_s + tail_s


def delivery_wpm(timeline: Timeline, spoken_wpm: float) -> float:
    """Words per minute as the listener hears them within paragraphs.

    Speaking time plus the gaps between sentences, leaving out paragraph gaps, imagery pauses
    and breathing.
    """
    sentence_gaps = sum(
        e.duration_s for e in timeline.events if isinstance(e, Pause) and e.kind == "sentence"
    )
    minutes = (_speaking_s(timeline, spoken_wpm) + sentence_gaps) / 60.0
    words = sum(s.word_count for s in timeline.speech if not s.slot_s)
    return words / minutes if minutes > 0 else 0.0


def _place(source: SourceMap, line: int) -> str:
    origin = source.template_line(line)
    return origin.describe() if origin.template_file else f"line {line} of the filled script"


_NEGATIONS = frozenset({"not", "no", "never", "nobody", "without", "don't", "dont", "doesn't",
                        "mustn't", "shouldn't", "can't", "cannot", "won't", "needn't"})
_CLAUSE_BREAKS = frozenset({",", ";", ":", "-", "–", "—", ".", "!", "?"})
_PROHIBITION_HEDGES = frozenset({"ideally", "preferably", "try", "mostly", "usually", "generally",
                     "possible", "rather", "best", "avoid", "recommend", "recommended"})
"""Words that make a prohibition a preference ("ideally never while driving")."""
_EXCEPTIONS = frozenset({"unless", "except", "though", "although", "but", "however", "apart"})
"""Words after a prohibition that open an exception ("..., unless the road is quiet")."""
_CONTRASTS = frozenset({"but", "although", "though", "however", "yet", "except", "unless"})
_DISCOURAGING = frozenset({"best", "better", "ideally", "try", "should", "must", "important",
                           "recommend", "keep", "push", "finish", "stay", "rather", "shouldn't",
                           "mustn't", "wish", "hope", "prefer"})
"""After a contrast, words that ask the listener not to use a permission just given."""
_MAX_GAP = 2
"""Words a wrapper line's phrase may have inserted ("stop it at any time")."""


def _phrase_span(words: list[str], phrase: list[str]) -> tuple[int, int] | None:
    """Where ``phrase`` stands in ``words`` in order, each gap at most :data:`_MAX_GAP` words."""
    for start, word in enumerate(words):
        if word != phrase[0]:
            continue
        at, ok = start, True
        for part in phrase[1:]:
            window = words[at + 1 : at + 2 + _MAX_GAP]
            if part not in window:
                ok = False
                break
            at = at + 1 + window.index(part)
        if ok:
            return start, at
    return None


def _says(sentence: str, phrase: str) -> bool:
    """Whether ``sentence`` says ``phrase`` and its clause does not take it back.

    Words may be inserted ("stop it at any time"); a negation earlier in the clause takes the
    line back ("there is no need to open your eyes", "try not to stop at any time").
    """
    tokens = [t.lower().replace("’", "'") for t in re.findall(r"[\w'’]+|[^\w\s]", sentence)]
    span = _phrase_span(tokens, phrase.split())
    if span is None:
        return False
    clause: list[str] = []
    for token in tokens[: span[0]]:
        clause = [] if token in _CLAUSE_BREAKS else [*clause, token]
    after = tokens[span[1] + 1 :]
    if any(w in _NEGATIONS for w in phrase.split()):
        # the line is itself a prohibition ("never while driving"): a hedge before it or an
        # exception after it weakens it ("ideally never while driving, unless the road is quiet")
        return not (set(clause) & _PROHIBITION_HEDGES or set(after) & _EXCEPTIONS)
    if any(w in _NEGATIONS or w.endswith("n't") for w in clause):
        return False
    # the permission to stop taken back later in the sentence: "stop at any time, although it
    # works best if you don't", "..., but try to keep going"; "..., but you don't have to" keeps
    # it. (The eyes line may go on with a choice: "..., but you may prefer to keep them open".)
    if phrase.split()[0] != "stop":
        return True
    for at, word in enumerate(after):
        if word in _CONTRASTS:
            rest: list[str] = []
            for token in after[at + 1 :]:
                if token in _CLAUSE_BREAKS - {","}:
                    break
                rest.append(token)
            if set(rest) & _DISCOURAGING:
                return False
    return True


def _offered(sentence: str, phrase: str) -> bool:
    """Whether a line that must be an invitation (:data:`_INVITED`) is one in ``sentence``."""
    if phrase not in _INVITED:
        return True
    words = set(re.findall(r"[\w']+", sentence.lower().replace("’", "'")))
    return bool(words & _INVITATIONS)


def check_wrapper(timeline: Timeline) -> Iterator[LintFinding]:
    """The opening and closing lines of the safety wrapper, said and not taken back."""
    by_section: dict[str, list[str]] = {}
    for speech in timeline.speech:
        by_section.setdefault(speech.section or "", []).append(speech.text)
    for section, lines in _WRAPPER_LINES.items():
        said = by_section.get(section, [])
        for wordings in lines:
            phrase = wordings.split("|")[0]
            if not any(_says(text, wording) and _offered(text, wording)
                       for text in said for wording in wordings.split("|")):
                yield finding(
                    "wrapper", "error",
                    f"the {section.lower()} lacks the line with '{phrase}'",
                    check=section.lower(),
                )


def check_breathing(
    profile: ClientProfile, timeline: Timeline, source: SourceMap
) -> Iterator[LintFinding]:
    """4-7-8 style holds: at most 4 cycles unless experienced; the light-headed line."""
    experienced = bool(profile.preferences.get("experienced_breathing"))
    holds: dict[int, int] = {}
    long_hold = False
    paced: dict[int, list[float]] = {}  # a breath line: [seconds, breaths]
    events = timeline.events
    for index, event in enumerate(events):
        if isinstance(event, Speech) and event.slot_s is not None:
            phase = {"Hold": "hold", "Rest": "rest", "Breathe in": "in"}.get(event.text)
            seconds, line = event.slot_s, event.line
        elif isinstance(event, Tone):
            phase, seconds, line = event.phase, event.duration_s, event.line
        elif isinstance(event, Speech) and (held := _spoken_hold(event.text, events[index + 1:])):
            phase, seconds, line = "hold", held, event.line
        else:
            continue
        if phase != "chime":
            pace = paced.setdefault(line, [0.0, 0])
            pace[0] += seconds
            pace[1] += phase == "in"
        if phase in ("hold", "rest") and seconds >= LONG_HOLD_S:
            long_hold = True
            if seconds >= 7.0:
                holds[line] = holds.get(line, 0) + 1
    for line, (seconds, breaths) in paced.items():
        if breaths and seconds / breaths < MIN_BREATH_CYCLE_S:
            yield finding(
                "breathing", "error",
                f"{_place(source, line)}: {60.0 * breaths / seconds:.0f} breaths a minute; a "
                f"paced breath takes at least {MIN_BREATH_CYCLE_S:g} s (at most "
                f"{60.0 / MIN_BREATH_CYCLE_S:g} a minute)",
                source.template_line(line), line, check="pace",
            )
    if not experienced:
        for line, cycles in holds.items():
            if cycles > MAX_LONG_HOLD_CYCLES:
                origin = source.template_line(line)
                yield finding(
                    "breathing", "error",
                    f"{_place(source, line)}: {cycles} cycles with a hold of 7 s or more; at "
                    f"most {MAX_LONG_HOLD_CYCLES} unless the profile sets "
                    "preferences.experienced_breathing",
                    origin, line, check="cycles",
                )
    if long_hold:
        text = " ".join(s.text.lower() for s in timeline.speech)
        if not re.search(r"light[- ]?headed", text) or "breathe normally" not in text:
            yield finding(
                "breathing", "error",
                "long breath holds need the line 'If you feel light-headed ... breathe normally'",
                check="light-headed",
            )


def check_eligibility(profile: ClientProfile) -> Iterator[LintFinding]:
    """Eligibility flags that keep this material in session."""
    for flag in ELIGIBILITY_FLAGS:
        if profile.eligibility.get(flag):
            yield finding(
                "eligibility", "error",
                f"eligibility.{flag} is set: this material should be used in session with the "
                "therapist, not as a home track",
                field=f"eligibility.{flag}", check=flag,
            )


_HEDGES = frozenset({"you", "perhaps", "maybe", "it", "if", "as", "there", "and", "some"})
"""First words of an imagery sentence that goes on with the one before ("You might feel ...",
"Perhaps you notice ...") rather than giving a new instruction."""


def _new_instruction(speech: Speech, kind: str) -> bool:
    """Whether ``speech`` is an imagery instruction of its own ("Notice the colour ...")."""
    if speech.slot_s is not None or not is_imagery_instruction(speech.text, kind):
        return False
    first = re.findall(r"[\w']+", speech.text.lower())[:2]
    lead = first[1:] if first[:1] in (["now"], ["then"], ["next"]) else first[:1]
    return bool(lead) and lead[0] not in _HEDGES


def check_pacing(
    spec: TemplateSpec, timeline: Timeline, spoken_wpm: float, source: SourceMap
) -> Iterator[LintFinding]:
    """Delivery rate, length, and a long pause after each imagery instruction."""
    duration_s = estimate_duration_s(timeline, spoken_wpm)
    wpm = delivery_wpm(timeline, spoken_wpm)
    if not WPM_RANGE[0] <= wpm <= WPM_RANGE[1]:
        yield finding(
            "pacing", "warning",
            f"delivered at about {wpm:.0f} words per minute; aim for "
            f"{WPM_RANGE[0]:.0f}-{WPM_RANGE[1]:.0f}",
            check="rate",
        )
    if not spec.duration_min_s <= duration_s <= spec.duration_max_s:
        yield finding(
            "pacing", "warning",
            f"estimated length {duration_s / 60:.1f} min is outside the template's "
            f"{spec.duration_min_s / 60:.0f}-{spec.duration_max_s / 60:.0f} min",
            check="length",
        )
    events = timeline.events
    for index, event in enumerate(events):
        if not (
            isinstance(event, Speech)
            and event.slot_s is None
            and is_imagery_instruction(event.text, spec.kind)
        ):
            continue
        # The instruction's paragraph must give the listener a long pause somewhere: the
        # sentences after it often elaborate before the silence comes.
        longest = 0.0
        last_line = event.line
        explicit = False
        for later in events[index + 1 :]:
            if isinstance(later, Pause) and later.kind == "paragraph":
                break
            if isinstance(later, Speech) and later.line > last_line + 1:
                break  # a blank line: the paragraph ended in an explicit pause
            if not explicit and isinstance(later, Speech) and _new_instruction(later, spec.kind):
                break  # "Picture the lake. Notice the water.": each needs its own pause
            explicit = explicit or (isinstance(later, (Pause, Tone)) and (
                getattr(later, "kind", "") != "sentence"))
            last_line = max(last_line, later.line)
            if isinstance(later, (Pause, Tone)):
                longest = max(longest, later.duration_s)
            elif isinstance(later, Speech) and later.slot_s:
                longest = max(longest, later.slot_s)
        if longest < MIN_IMAGERY_PAUSE_S:
            yield finding(
                "pacing", "warning",
                f"{_place(source, event.line)}: an imagery instruction is followed by at most "
                f"{longest:g} s of pause (at least {MIN_IMAGERY_PAUSE_S:g} s)",
                source.template_line(event.line), event.line, check="imagery-pause",
            )
