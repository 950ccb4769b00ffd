"""The avoid-list rule: each entry against the filled script's words and the soundscape.

Each entry is matched in any word form and with the words of its theme, against every word of
the filled script (the template's and the client's) and the soundscape's themes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Literal

import lemminflect

from imr_audio.lint.findings import Document, LintFinding, finding, where
from imr_audio.lint.sources import Origin
from imr_audio.lint.text import Sentence, Token, compound_head, lemmas, phrase_lemmas
from imr_audio.lint.themes import Term, ThemeMap
from imr_audio.soundscapes.base import SoundscapeInfo

__all__ = ["DEFAULT_SOUNDSCAPE", "SoundscapeOrigin", "check_avoid", "soundscape_origin"]

DEFAULT_SOUNDSCAPE = "rain"
"""The bed used when neither the render nor the profile chooses one."""

SoundscapeOrigin = Literal["option", "profile", "default"]
"""Who chose the bed: the render's option, the profile's ``preferences.soundscape``, or nobody."""

_ENTRY_FILLER = frozenset({
    "the", "a", "an", "of", "in", "on", "at", "to", "being", "be", "feel", "feeling", "get",
    "getting", "my", "your", "their", "near", "around", "by", "with", "and", "or", "any", "all",
    "anything", "about", "very", "too", "things", "thing", "lot", "lots",
})
_SUBJECTS = frozenset({"i", "you", "we", "they", "he", "she", "it", "to", "can", "will", "may",
                       "might", "would", "could", "should", "children", "people", "and"})
_DETERMINERS = frozenset({"the", "a", "an", "this", "that", "our", "your", "my", "its"})
_DIRECTIONS = frozenset({"down", "up", "through", "along", "across", "around", "round", "past",
                         "away", "off", "over", "back", "out", "high", "low", "by", "overhead",
                         "towards", "toward", "between", "beneath", "under", "ahead", "onward",
                         "onwards", "upward", "upwards", "downward", "downwards", "uphill",
                         "downhill", "inland", "skyward", "skywards"})
_VERB_NEXT = frozenset({"to", "at", "goodbye", "hello", "back", "your", "his", "her", "their",
                        "my", "our", "them", "him", "me", "us", "you", "bye"})


def _entry_phrase(entry: str) -> tuple[frozenset[str], ...]:
    words = phrase_lemmas(entry)
    kept = tuple(w for w in words if not (w & _ENTRY_FILLER))
    return kept or words


_ENTRY_SPLIT = re.compile(r"\s*(?:,|;|/|&|\+|\(|\)|\band\b|\bor\b|\bnor\b|\betc\b\.?)\s*",
                          re.I)


def _entry_parts(entry: str) -> list[str]:
    """An entry and, when it lists several things, each of them.

    "spiders and cobwebs", "snakes / lizards", "lifts (elevators)".
    """
    parts = [p for p in _ENTRY_SPLIT.split(entry) if p and p.strip()]
    return [entry, *parts] if len(parts) > 1 else [entry]


def _used_as_verb(words: Sequence[Token], index: int) -> bool:
    before = words[index - 1].lower if index > 0 else ""
    after = words[index + 1].lower if index + 1 < len(words) else ""
    return before in _SUBJECTS or after in _VERB_NEXT


def _moves_like(words: Sequence[Token], index: int) -> bool:
    """Whether the word at ``index`` is a verb of how something else moves.

    "The path snakes down to the beach", "the river snakes through the valley", "a kite flies
    high": a determiner and a singular noun before it (its subject), and a direction after it.
    "Grass snakes in the long grass" has no determiner before a compound noun's first word, and
    "the garden snakes sleep" no direction after it.
    """
    word = words[index].lower
    if index < 2 or index + 1 >= len(words) or not word.endswith("s"):
        return False
    subject, determiner = words[index - 1], words[index - 2].lower
    if determiner not in _DETERMINERS or not subject.is_word or subject.lower.endswith("s"):
        return False
    kinds = lemminflect.getAllLemmas(subject.lower)
    if "NOUN" not in kinds or "ADJ" in kinds:
        return False  # "the old dogs down by the river": an adjective, not a subject
    return words[index + 1].lower in _DIRECTIONS and "VERB" in lemminflect.getAllLemmas(word)


class _Read:
    """A sentence's words with their dictionary forms, read once for every entry and term."""

    __slots__ = ("forms", "heads", "words")

    def __init__(self, sentence: Sentence) -> None:
        self.words = sentence.words
        self.forms = [lemmas(w.text) for w in self.words]
        self.heads = [f | compound_head(w.text) for f, w in zip(self.forms, self.words,
                                                                strict=True)]


def _matches(read: _Read, term: Term) -> Iterator[list[Token]]:
    words, forms = read.words, read.forms
    size = len(term.phrase)
    if size == 1:  # a closed compound counts by its head too: "woodsmoke" is smoke
        forms = read.heads
    first = term.phrase[0]
    for i in range(len(words) - size + 1):
        if first & forms[i] and all(term.phrase[k] & forms[i + k] for k in range(1, size)):
            if term.noun_only and size == 1 and _used_as_verb(words, i):
                continue
            if size == 1 and _moves_like(words, i):
                continue  # "the path snakes down": the avoided animal is not there
            yield list(words[i : i + size])


def _same(a: Term, b: Term) -> bool:
    if len(a.phrase) != len(b.phrase):
        return False
    return all(x & y for x, y in zip(a.phrase, b.phrase, strict=True))


def _entry_terms(entry: str, themes: ThemeMap) -> tuple[Term, ...]:
    terms: list[Term] = []
    for part in _entry_parts(entry):
        own = _entry_phrase(part)
        noun_only = any(
            w.noun_only and _same(w, Term(own)) for t in themes.themes.values() for w in t.words
        )
        named = themes.entry_themes(part)
        for word in own if len(own) == 1 else ():
            for head in sorted(compound_head(min(word, key=len))):  # "thunderstorms" -> storm
                named |= themes.entry_themes(head)
        terms += [Term(own, noun_only), *themes.terms(named)]
    return tuple(dict.fromkeys(terms))


def _bed_conflict(entry: str, themes: ThemeMap, soundscape: SoundscapeInfo) -> bool:
    """Whether the bed evokes the entry's themes, or the entry's own word."""
    bed = themes.themes_of_tags(soundscape.themes)
    named = set().union(*(themes.with_parts(n) for n in themes.entry_themes(entry)))
    own = Term(_entry_phrase(entry))
    evoked = themes.evoked_by_tags(soundscape.themes)
    return bool(named & bed) or any(_same(own, w) for w in evoked)


def soundscape_origin(
    soundscape: SoundscapeInfo, preferred: object
) -> SoundscapeOrigin:
    """Guess who chose ``soundscape`` when the caller does not say."""
    if preferred and str(preferred) == soundscape.name:
        return "profile"
    if not preferred and soundscape.name == DEFAULT_SOUNDSCAPE:
        return "default"
    return "option"


def _bed_finding(number: int, soundscape: SoundscapeInfo, chosen: SoundscapeOrigin) -> LintFinding:
    if chosen == "default":
        text = (
            f"avoid-list entry {number} matches the themes of the default soundscape "
            f"'{soundscape.name}' (no soundscape was chosen); choose a soundscape for this client"
        )
        return finding("avoid-list", "error", text, check="soundscape")
    if chosen == "profile":
        text = (
            f"avoid-list entry {number} matches the themes of the soundscape in the profile's "
            "preferences.soundscape; choose another soundscape"
        )
        return finding("avoid-list", "error", text, check="soundscape",
                       field="preferences.soundscape")
    text = (
        f"avoid-list entry {number} matches the chosen soundscape's themes (the soundscape you "
        "chose for this render); choose another soundscape"
    )
    return finding("avoid-list", "error", text, check="soundscape")


def check_avoid(
    doc: Document,
    themes: ThemeMap,
    soundscape: SoundscapeInfo | None,
    chosen: SoundscapeOrigin | None = None,
) -> Iterator[LintFinding]:
    """Each avoid-list entry against the script's words and the soundscape's themes.

    A finding names the entry by its number and the place by template line or field; it never
    quotes the entry, the value or the matched word.
    """
    reads = [_Read(sentence) for sentence in doc.sentences] if doc.profile.avoid else []
    for number, entry in enumerate(doc.profile.avoid, start=1):
        terms = _entry_terms(entry, themes)
        reported: set[tuple[object, ...]] = set()
        for sentence, read in zip(doc.sentences, reads, strict=True):
            for term in terms:
                for hit in _matches(read, term):
                    origin = doc.origin(sentence, hit)
                    if origin.field == "preferred_name":
                        continue  # the client's own name ("Robin" is not a bird here)
                    key = _place_key(origin, sentence.line)
                    if key in reported:
                        continue
                    reported.add(key)
                    yield finding(
                        "avoid-list", "error",
                        f"avoid-list entry {number} matches {_place(origin, sentence.line)}",
                        origin, sentence.line, check="words",
                    )
        if soundscape and _bed_conflict(entry, themes, soundscape):
            origin_kind = chosen or soundscape_origin(
                soundscape, doc.profile.preferences.get("soundscape")
            )
            yield _bed_finding(number, soundscape, origin_kind)


def _place_key(origin: Origin, line: int) -> tuple[object, ...]:
    if origin.field:
        return ("field", origin.field)
    if origin.template_file is None:
        return ("line", line)
    return ("template", origin.template_file, origin.template_line)


def _place(origin: Origin, line: int) -> str:
    if origin.field or origin.template_file is not None:
        return where(origin)
    return f"line {line} of the filled script"
