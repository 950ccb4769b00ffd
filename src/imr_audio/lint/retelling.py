"""What happened, told in a home track of a stabilising kind (rule ``trauma-narrative``).

:func:`imr_audio.lint.threat.check_home_harm` finds harm, injury and perpetrator words; this
module finds the trauma told without them, as clients and therapists often write it:

- traumatic events and what comes with them ("after the crash", "before the soldiers came",
  "the ambulance"), an error like a harm word; "the crash of the waves" and "waves crash" pass;
- pointers to the event ("where it happened", "that night", "what he made you do", "hide from
  him"), an error: the listener is sent back to the memory;
- another person's actions told in the past tense in a client's value or the template's own
  words ("when he was drinking", "the belt he used"), a warning: a safe place is described as
  it is now, with no story of what others did there.

The shipped wrapper's own lines (``_base.j2``) are not read for the last two.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from imr_audio.lint.findings import Document, LintFinding, finding, new_place
from imr_audio.lint.text import Sentence, Token, is_past_form, lemmas, phrase_lemmas
from imr_audio.lint.threat import RESCRIPTING_KINDS

__all__ = ["EVENT_WORDS", "check_home_retelling", "retelling"]

EVENT_WORDS = frozenset({
    "accident", "crash", "collision", "explosion", "bomb", "bombing", "shelling", "airstrike",
    "war", "soldier", "troops", "militia", "invasion", "gunfire", "earthquake", "tsunami",
    "funeral", "overdose", "miscarriage", "ambulance", "paramedic", "ceasefire", "raid",
})
"""Traumatic events and what comes with them: an error in a home track, as harm words are."""

_POINTERS = tuple(phrase_lemmas(p) for p in (
    "it happened", "what happened", "that night", "that day", "did to", "done to",
    "made you do", "made me do", "made us do", "hide from him", "hide from her",
    "hide from them", "away from him", "away from her", "safe from him", "safe from her",
))
"""Phrases that point at the event without telling it ("back then" alone is not one: "back then
you felt small; now you are strong" is a resource, not the event)."""
_THIRD_PERSON = frozenset({"he", "she", "they"})
_BETWEEN = frozenset({"always", "never", "often", "once", "still", "just", "then", "had"})
_EVENT_DETERMINERS = frozenset({"the", "a", "an", "that", "this", "after", "before", "since",
                                "during", "of", "our", "my", "your", "his", "her", "their"})


def _event(words: Sequence[Token]) -> Token | None:
    for i, word in enumerate(words):
        if not lemmas(word.text) & EVENT_WORDS:
            continue
        before = words[i - 1].lower if i else ""
        after = words[i + 1].lower if i + 1 < len(words) else ""
        if "crash" in lemmas(word.text) and (before not in _EVENT_DETERMINERS or after == "of"):
            continue  # "waves crash", "the crash of the waves"
        return word
    return None


def _pointer(words: Sequence[Token]) -> list[Token] | None:
    for phrase in _POINTERS:
        size = len(phrase)
        for i in range(len(words) - size + 1):
            if all(phrase[k] & lemmas(words[i + k].text) for k in range(size)):
                if words[i].lower == "what" and i and words[i - 1].lower in {"no", "matter"}:
                    continue
                return list(words[i : i + size])
    return None


def _told(words: Sequence[Token]) -> list[Token] | None:
    """He, she or they and a verb in the past tense: another person's actions, told."""
    for i, word in enumerate(words):
        if word.lower not in _THIRD_PERSON:
            continue
        j = i + 1
        while j < len(words) and words[j].lower in _BETWEEN and j < i + 3:
            j += 1
        if j < len(words) and is_past_form(words[j].text)[0]:
            return [word, words[j]]
    return None


def retelling(sentence: Sentence, wrapper: bool) -> tuple[str, str, list[Token]] | None:
    """(what, severity, tokens) of the first event, pointer or telling in the sentence."""
    words = sentence.words
    if (word := _event(words)) is not None:
        return "a traumatic event", "error", [word]
    if wrapper:
        return None
    if (tokens := _pointer(words)) is not None:
        return "a pointer to what happened", "error", tokens
    if (tokens := _told(words)) is not None:
        return "another person's actions told in the past tense", "warning", tokens
    return None


def check_home_retelling(doc: Document) -> Iterator[LintFinding]:
    """Events, pointers and tellings in a home track of a stabilising kind."""
    if doc.kind in RESCRIPTING_KINDS:
        return  # check_threats reads these
    reported: set[object] = set()
    for sentence in doc.sentences:
        line_origin = doc.source.template_line(sentence.line)
        wrapper = line_origin.template_file is not None and line_origin.template_file.name == (
            "_base.j2")
        found = retelling(sentence, wrapper)
        if found is None:
            continue
        what, severity, tokens = found
        origin = doc.origin(sentence, tokens)
        if wrapper and not origin.field:
            continue
        place = new_place(reported, origin, sentence.line)
        if place is None:
            continue
        yield finding(
            "trauma-narrative", severity,  # type: ignore[arg-type]
            f"{place}: {what} in a {doc.kind} script; a home track holds no trauma content "
            "and no account of it (keep it for the session)",
            origin, sentence.line, check="retelling",
        )
