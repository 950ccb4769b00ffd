"""The clinical lint: checks a filled script against the rules in the clinical guidance.

Each finding names the rule, the field or script line, and never quotes a client's value: an
avoid-list match is reported by the avoid-list entry's position, not its word.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from imr_audio.authoring.templates import RenderedScript, TemplateSpec
from imr_audio.instructions import is_imagery_instruction
from imr_audio.lint_words import FAMILY_WORDS, THEME_WORDS, TRAUMA_WORDS
from imr_audio.profile import ELIGIBILITY_FLAGS, ClientProfile
from imr_audio.soundscapes.base import SoundscapeInfo
from imr_audio.timeline import Pause, Speech, Timeline, Tone

__all__ = [
    "THEME_WORDS",
    "LintFinding",
    "delivery_wpm",
    "estimate_duration_s",
    "has_errors",
    "is_imagery_instruction",
    "lint_script",
]

Severity = Literal["error", "warning"]


_PAST_NARRATION = re.compile(
    r"\b(happened|was done|did to|that (?:day|night|time)|back then|used to|when (?:you|i) "
    r"(?:was|were))\b",
    re.IGNORECASE,
)
_IDENTIFIERS = {
    "a date": re.compile(
        r"\b\d{1,2}[./-]\d{1,2}[./-]\d{2,4}\b|\b(?:19|20)\d\d\b|\bborn (?:on|in)\b", re.IGNORECASE
    ),
    "an address": re.compile(
        r"\b\d+\s+\w+\s+(?:street|st|road|rd|avenue|ave|lane|drive|crescent)\b"
        r"|\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b|\bflat\s+\d+",
        re.IGNORECASE,
    ),
    "a diagnosis": re.compile(
        r"\b(?:ptsd|c-ptsd|disorder|diagnos\w*|depression|bipolar|schizo\w*|borderline|"
        r"dsm|icd|psychosis|dissociative)\b",
        re.IGNORECASE,
    ),
    "a clinic or service name": re.compile(
        r"\b(?:clinic|hospital|nhs|therapy service|health centre|health center)\b", re.IGNORECASE
    ),
}
_WRAPPER_LINES = {
    "Opening": ("never while driving", "stop at any time", "close your eyes"),
    "Returning": ("feet on the floor", "open your eyes"),
}
MIN_IMAGERY_PAUSE_S = 5.0
WPM_RANGE = (80.0, 130.0)
MAX_LONG_HOLD_CYCLES = 4
LONG_HOLD_S = 4.0


@dataclass(frozen=True)
class LintFinding:
    """One problem the lint found."""

    rule: str
    """Rule name, e.g. ``avoid-list``."""
    severity: Severity
    """``error`` blocks rendering; ``warning`` is printed."""
    message: str
    """What is wrong and where (field or script line); never a client's value."""

    def __str__(self) -> str:
        return f"{self.severity}: {self.rule}: {self.message}"


def has_errors(findings: list[LintFinding]) -> bool:
    """Whether any finding is an error."""
    return any(f.severity == "error" for f in findings)


def _terms(entry: str) -> tuple[str, ...]:
    key = entry.strip().lower()
    return (key, *THEME_WORDS.get(key, ()))


def _contains(text: str, term: str) -> bool:
    pattern = r"\b" + r"\s+".join(re.escape(w) for w in term.split()) + r"(?:s|es)?\b"
    return re.search(pattern, text, re.IGNORECASE) is not None


def _values(node: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield from _values(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _values(item, f"{path}[{index}]")
    elif node is not None:
        yield path, str(node)


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


def _check_wrapper(timeline: Timeline) -> Iterator[LintFinding]:
    by_section: dict[str, str] = {}
    for speech in timeline.speech:
        key = speech.section or ""
        by_section[key] = by_section.get(key, "") + " " + speech.text.lower()
    for section, lines in _WRAPPER_LINES.items():
        text = by_section.get(section, "")
        for phrase in lines:
            if phrase not in text:
                yield LintFinding(
                    "wrapper", "error", f"the {section.lower()} lacks the line with '{phrase}'"
                )


def _check_avoid(
    profile: ClientProfile, spec: TemplateSpec, text: str, soundscape: SoundscapeInfo | None
) -> Iterator[LintFinding]:
    declared = {v.name for v in spec.variables}
    values = [(p, v) for p, v in _values(profile.details, "") if p.split("[")[0] in declared]
    for number, entry in enumerate(profile.avoid, start=1):
        terms = _terms(entry)
        for field_name, value in values:
            if any(_contains(value, term) for term in terms):
                yield LintFinding(
                    "avoid-list",
                    "error",
                    f"avoid-list entry {number} matches the value of {field_name}",
                )
        for speech in (s for s in _speech(text)):
            if any(_contains(speech[1], term) for term in terms):
                yield LintFinding(
                    "avoid-list",
                    "error",
                    f"avoid-list entry {number} matches script line {speech[0]}",
                )
        if soundscape and set(terms) & _expanded_themes(soundscape):
            yield LintFinding(
                "avoid-list",
                "error",
                f"avoid-list entry {number} matches the chosen soundscape's themes; "
                "choose another soundscape",
            )


def _expanded_themes(soundscape: SoundscapeInfo) -> set[str]:
    """Return a soundscape's themes with the words that stand for each (water: beach...)."""
    themes = {theme.lower() for theme in soundscape.themes}
    return themes.union(*(THEME_WORDS.get(theme, ()) for theme in themes))


def _speech(text: str) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield number, line


def _check_trauma_words(spec: TemplateSpec, timeline: Timeline) -> Iterator[LintFinding]:
    if spec.kind not in ("consolidation", "new-dream"):
        return
    for speech in timeline.speech:
        found = [w for w in TRAUMA_WORDS if _contains(speech.text, w)]
        if found:
            yield LintFinding(
                "trauma-narrative",
                "error",
                f"script line {speech.line}: trauma-narrative vocabulary "
                f"({len(found)} word{'s' if len(found) > 1 else ''}) in a "
                f"{spec.kind} script",
            )
        if _PAST_NARRATION.search(speech.text):
            yield LintFinding(
                "trauma-narrative",
                "warning",
                f"script line {speech.line}: reads like past-tense narration of "
                "an event; keep to what is happening now",
            )


def _check_breathing(profile: ClientProfile, timeline: Timeline) -> Iterator[LintFinding]:
    experienced = bool(profile.preferences.get("experienced_breathing"))
    holds: dict[int, int] = {}
    long_hold = False
    for speech_or_tone in timeline.events:
        if isinstance(speech_or_tone, Speech) and speech_or_tone.slot_s is not None:
            phase = {"Hold": "hold", "Rest": "rest"}.get(speech_or_tone.text)
            seconds = speech_or_tone.slot_s
            line = speech_or_tone.line
        elif isinstance(speech_or_tone, Tone):
            phase, seconds, line = (
                speech_or_tone.phase,
                speech_or_tone.duration_s,
                speech_or_tone.line,
            )
        else:
            continue
        if phase in ("hold", "rest") and seconds >= LONG_HOLD_S:
            long_hold = True
            if seconds >= 7.0:
                holds[line] = holds.get(line, 0) + 1
    if not experienced:
        for line, cycles in holds.items():
            if cycles > MAX_LONG_HOLD_CYCLES:
                yield LintFinding(
                    "breathing",
                    "error",
                    f"script line {line}: {cycles} cycles with a hold of 7 s or "
                    f"more; at most {MAX_LONG_HOLD_CYCLES} unless the profile sets "
                    "preferences.experienced_breathing",
                )
    if long_hold:
        text = " ".join(s.text.lower() for s in timeline.speech)
        if not re.search(r"light[- ]?headed", text) or "breathe normally" not in text:
            yield LintFinding(
                "breathing",
                "error",
                "long breath holds need the line 'If you feel light-headed ... breathe normally'",
            )


def _check_family(profile: ClientProfile, spec: TemplateSpec) -> Iterator[LintFinding]:
    if "safe_place.companion" not in {v.name for v in spec.variables}:
        return
    companion = profile.details.get("safe_place", {}).get("companion")
    if isinstance(companion, str) and any(_contains(companion, w) for w in FAMILY_WORDS):
        yield LintFinding(
            "family-companion",
            "warning",
            "safe_place.companion looks like a close family member; mixed "
            "associations can unsettle a safe place (a pet or neutral companion "
            "is better)",
        )


def _check_container(spec: TemplateSpec, timeline: Timeline) -> Iterator[LintFinding]:
    if spec.id != "container":
        return
    text = " ".join(s.text.lower() for s in timeline.speech)
    if not re.search(r"\b(stored|store|kept|keep)\b", text):
        yield LintFinding("container", "error", "the script must say the material is stored")
    if not re.search(r"\bkey\b", text):
        yield LintFinding("container", "error", "the script must say the client holds the key")
    if (
        re.search(r"\b(destroy|destroyed|burn|burned|gone forever|get rid)\b", text)
        and "not destroyed" not in text
    ):
        yield LintFinding(
            "container",
            "error",
            "the material is held, not destroyed: say so and do not destroy it",
        )


def _check_pacing(
    spec: TemplateSpec, timeline: Timeline, spoken_wpm: float
) -> Iterator[LintFinding]:
    duration_s = estimate_duration_s(timeline, spoken_wpm)
    wpm = delivery_wpm(timeline, spoken_wpm)
    if not WPM_RANGE[0] <= wpm <= WPM_RANGE[1]:
        yield LintFinding(
            "pacing",
            "warning",
            f"delivered at about {wpm:.0f} words per minute; aim for "
            f"{WPM_RANGE[0]:.0f}-{WPM_RANGE[1]:.0f}",
        )
    if not spec.duration_min_s <= duration_s <= spec.duration_max_s:
        yield LintFinding(
            "pacing",
            "warning",
            f"estimated length {duration_s / 60:.1f} min is outside the template's "
            f"{spec.duration_min_s / 60:.0f}-{spec.duration_max_s / 60:.0f} min",
        )
    events = timeline.events
    for index, event in enumerate(events):
        if not (
            isinstance(event, Speech)
            and event.slot_s is None
            and is_imagery_instruction(event.text)
        ):
            continue
        # The instruction's paragraph must give the listener a long pause somewhere: the
        # sentences after it often elaborate before the silence comes.
        longest = 0.0
        last_line = event.line
        for later in events[index + 1 :]:
            if isinstance(later, Pause) and later.kind == "paragraph":
                break
            if isinstance(later, Speech) and later.line > last_line + 1:
                break  # a blank line: the paragraph ended in an explicit pause
            last_line = max(last_line, later.line)
            if isinstance(later, (Pause, Tone)):
                longest = max(longest, later.duration_s)
            elif isinstance(later, Speech) and later.slot_s:
                longest = max(longest, later.slot_s)
        if longest < MIN_IMAGERY_PAUSE_S:
            yield LintFinding(
                "pacing",
                "warning",
                f"script line {event.line}: an imagery instruction is followed "
                f"by at most {longest:g} s of pause (at least "
                f"{MIN_IMAGERY_PAUSE_S:g} s)",
            )


def _check_identifiers(profile: ClientProfile, timeline: Timeline) -> Iterator[LintFinding]:
    if len(profile.preferred_name.split()) > 1:
        yield LintFinding(
            "identifiers",
            "warning",
            "preferred_name has more than one word: check it is not a surname",
        )
    for speech in timeline.speech:
        for what, pattern in _IDENTIFIERS.items():
            if pattern.search(speech.text):
                yield LintFinding(
                    "identifiers",
                    "error",
                    f"script line {speech.line}: looks like {what}; keep "
                    "identifying and clinical details out of home tracks",
                )


def _check_eligibility(profile: ClientProfile) -> Iterator[LintFinding]:
    for flag in ELIGIBILITY_FLAGS:
        if profile.eligibility.get(flag):
            yield LintFinding(
                "eligibility",
                "error",
                f"eligibility.{flag} is set: this material should be used in "
                "session with the therapist, not as a home track",
            )


def lint_script(
    spec: TemplateSpec,
    profile: ClientProfile,
    script: RenderedScript,
    timeline: Timeline,
    spoken_wpm: float,
    soundscape: SoundscapeInfo | None = None,
) -> list[LintFinding]:
    """Run every check and return the findings, errors first.

    ``spoken_wpm`` is the voice's real speaking rate, used to estimate timings.
    """
    findings = [
        *_check_eligibility(profile),
        *_check_wrapper(timeline),
        *_check_avoid(profile, spec, script.text, soundscape),
        *_check_trauma_words(spec, timeline),
        *_check_breathing(profile, timeline),
        *_check_family(profile, spec),
        *_check_container(spec, timeline),
        *_check_identifiers(profile, timeline),
        *_check_pacing(spec, timeline, spoken_wpm),
    ]
    return sorted(findings, key=lambda f: f.severity != "error")
