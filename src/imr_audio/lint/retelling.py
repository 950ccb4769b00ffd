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

import lemminflect

from imr_audio.lint.findings import Document, LintFinding, finding, new_place
from imr_audio.lint.text import (
    Sentence,
    Token,
    compound_head,
    is_past_form,
    lemmas,
    phrase_lemmas,
)
from imr_audio.lint.threat import RESCRIPTING_KINDS

__all__ = [
    "ANCHORED_EVENTS", "EVENT_SHORTHAND", "EVENT_WORDS", "check_home_retelling", "retelling",
]

EVENT_WORDS = frozenset({
    "accident", "crash", "collision", "explosion", "bomb", "bombing", "shelling", "airstrike",
    "war", "soldier", "troops", "militia", "invasion", "gunfire", "earthquake", "tsunami",
    "funeral", "overdose", "miscarriage", "ambulance", "paramedic", "ceasefire", "raid",
})
"""Traumatic events and what comes with them: an error in a home track, as harm words are."""

EVENT_SHORTHAND = frozenset({"rta", "rtc", "mva", "mvc", "csa", "cse", "dv", "ipv", "gbh", "abh",
                             "fgm", "sa"})
"""Clinical shorthand for an event (road traffic accident, child sexual abuse, domestic
violence ...), counted only in capitals: "the RTA flashbacks"."""

ANCHORED_EVENTS = frozenset({"fire", "flood", "storm", "cyclone", "hurricane", "tornado",
                             "blaze", "fight", "accident", "quake", "landslide", "avalanche",
                             "riot", "siege", "break-in", "robbery", "mugging", "stabbing",
                             "shooting", "wreck", "sinking", "collapse", "fall", "drowning"})
"""Events that are ordinary words too ("a fire in the grate", "the storm has passed"): one counts
when a time is told by it ("before the bushfire", "after the flood", "since the fire"), the way
the script dates the place by the event."""
_ANCHORS = frozenset({"before", "after", "since", "during", "until", "till"})
_ANCHOR_DETERMINERS = frozenset({"the", "that", "our", "my", "your", "his", "her", "their", "a"})

_POINTERS = tuple(phrase_lemmas(p) for p in (
    "it happened", "what happened", "that night", "that day", "did to", "done to",
    "made you do", "made me do", "made us do", "hide from him", "hide from her",
    "hide from them", "away from him", "away from her", "safe from him", "safe from her",
))
"""Phrases that point at the event without telling it ("back then" alone is not one: "back then
you felt small; now you are strong" is a resource, not the event)."""
_UNNAMED_PRONOUNS = frozenset({"he", "his", "him", "she", "her", "hers"})
_PLACE_FIELDS = ("safe_place.",)
_ANIMAL_PARTS = frozenset({"fur", "paw", "tail", "whisker", "mane", "muzzle", "wing", "feather",
                           "purr", "bark", "hoof", "collar", "snout", "coat", "lead", "leash"})
"""What only an animal has: "her soft fur" is the client's pet, not someone from their story."""
"""The fields that describe the client's safe place, where nobody unnamed belongs."""
_THIRD_PERSON = frozenset({"he", "she", "they"})
_THIRD_OWNERS = frozenset({"his", "him", "her", "their", "them"})
_RELATIVES = frozenset({"that", "which", "who"})
_BETWEEN = frozenset({"always", "never", "often", "once", "still", "just", "then", "had"})
_EVENT_DETERMINERS = frozenset({"the", "a", "an", "that", "this", "after", "before", "since",
                                "during", "of", "our", "my", "your", "his", "her", "their"})


def _anchored(words: Sequence[Token], i: int) -> bool:
    """Whether the word at ``i`` is an event a time is told by ("before the bushfire")."""
    found = lemmas(words[i].text) | compound_head(words[i].text)
    if not found & ANCHORED_EVENTS:
        return False
    before = [w.lower for w in words[max(0, i - 3) : i]]
    return bool(before) and before[-1] in _ANCHOR_DETERMINERS and bool(set(before) & _ANCHORS)


def _event(words: Sequence[Token]) -> Token | None:
    for i, word in enumerate(words):
        if word.text.isupper() and word.lower in EVENT_SHORTHAND:
            return word
        if _anchored(words, i):
            return word
        if not lemmas(word.text) & EVENT_WORDS:
            continue
        before = words[i - 1].lower if i else ""
        after = words[i + 1].lower if i + 1 < len(words) else ""
        if "crash" in lemmas(word.text) and (before not in _EVENT_DETERMINERS or after == "of"):
            continue  # "waves crash", "the crash of the waves"
        return word
    return None


_BETWEEN_IT_HAPPENED = frozenset({"all", "first", "really", "actually", "last", "finally",
                                  "just", "ever", "had", "has", "have", "once"})
"""Words that may stand between "it" and "happened": "the room where it all happened"."""


def _pointer(words: Sequence[Token]) -> list[Token] | None:
    for i, word in enumerate(words[:-2]):  # "where it all happened", "when it first happened"
        if word.lower == "it":
            j = i + 1
            while j < min(len(words) - 1, i + 3) and words[j].lower in _BETWEEN_IT_HAPPENED:
                j += 1
            if j > i + 1 and words[j].lower == "happened":
                return list(words[i : j + 1])
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
        j = _verb_after(words, i)
        if j < len(words) and is_past_form(words[j].text)[0]:
            return [word, words[j]]
    # a relative clause in the past about what belongs to him, her or them: "the whisky on his
    # breath that meant trouble", "her footsteps, which always came at night"
    for i, word in enumerate(words):
        if word.lower not in _RELATIVES or not {w.lower for w in words[:i]} & _THIRD_OWNERS:
            continue
        j = _verb_after(words, i)
        if j < len(words) and is_past_form(words[j].text)[1]:
            return [word, words[j]]
    return None


def _verb_after(words: Sequence[Token], i: int) -> int:
    """Where the verb after ``words[i]`` stands: past at most two words of ``_BETWEEN``."""
    j = i + 1
    while j < len(words) and words[j].lower in _BETWEEN and j < i + 3:
        j += 1
    return j


def _unnamed(doc: Document, sentence: Sentence) -> tuple[str, str, list[Token]] | None:
    """He or she in a value of the client's safe place with nobody named before it in that value.

    "His car door slamming in the drive" among the sounds: someone from the client's story
    arrives in the safe place. "The lollipop man in his bright uniform" and "your dog, her tail
    wagging" name who it is first. A warning: the therapist knows who is meant.
    """
    words = sentence.words
    for i, word in enumerate(words):
        if word.text.lower() not in _UNNAMED_PRONOUNS:
            continue
        field = doc.source.origin(sentence.line, word.start, word.end).field
        if not field or not field.startswith(_PLACE_FIELDS):
            continue
        before = [w for w in words[:i]
                  if doc.source.origin(sentence.line, w.start, w.end).field == field]
        after = words[i + 1].text if i + 1 < len(words) else ""
        if lemmas(after) & _ANIMAL_PARTS:
            continue  # "her soft fur", "his tail": the client's pet
        if i + 2 < len(words) and lemmas(words[i + 2].text) & _ANIMAL_PARTS:
            continue  # "her soft fur under your hand"
        if not any(_can_be_named(w) for w in before):
            return "someone not named in the client's safe place", "warning", [word]
    return None


_SENSED = frozenset({"smell", "scent", "odour", "odor", "aroma", "fragrance", "whiff", "waft",
                    "sound", "noise", "echo", "sight", "glimpse", "feel", "feeling", "touch",
                    "taste", "trace", "hint", "memory", "thought", "sense"})
"""Nouns of what is sensed or recalled: "the smell of his aftershave" names nobody."""


def _can_be_named(word: Token) -> bool:
    """Whether a word can be who "he" or "she" is: a noun (not a sense), or a name."""
    if lemmas(word.text) & _SENSED:
        return False
    return word.capitalised or "NOUN" in lemminflect.getAllLemmas(word.lower)


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
        found = retelling(sentence, wrapper) or _unnamed(doc, sentence)
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
