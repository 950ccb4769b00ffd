"""People in a home track: close family (a warning) and identifiers (errors).

Both are looked for in any field and in the template's own words.

Family words count where they name a person ("your grandmother's kitchen", "Mum"), not in
idioms or about animals ("a family of ducks", "the rabbits and their mother"). Identifiers are
surnames (a capitalised word after the client's first name, a full name, a name after a title),
phone numbers (the ``phonenumbers`` library), e-mail and street addresses, postcodes, practice
and clinic names, dates (of birth) and diagnoses.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

import phonenumbers

from imr_audio.lint.findings import Document, LintFinding, finding, where
from imr_audio.lint.sources import Origin
from imr_audio.lint.text import Sentence, Token, is_dictionary_word, lemmas
from imr_audio.lint_words import (
    ANIMAL_WORDS,
    CLINICAL_PLACES,
    DIAGNOSES,
    FAMILY_IDIOMS,
    FAMILY_WORDS,
    NAME_PLACE_WORDS,
    PERSON_NOUNS,
    PRACTICE_WORDS,
    STREET_WORDS,
    TITLES,
)

__all__ = ["check_family", "check_identifiers"]

_NEAR_POSSESSIVES = frozenset({"your", "my", "our", "yours", "mine"})
_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_ORDINALS = (
    r"\d{1,2}(?:st|nd|rd|th)?|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|"
    r"eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|"
    r"nineteenth|twentieth|twenty-\w+|thirtieth|thirty-first"
)
_STREETS = "|".join(STREET_WORDS)
_AT = r"(?:@|\s*[(\[<{]\s*at\s*[)\]>}]\s*|\s+at\s+)"
_DOT = r"(?:\.|\s*[(\[<{]\s*dot\s*[)\]>}]\s*|\s+dot\s+)"
_TLD = r"(?:com|org|net|edu|gov|info|io|me|co|uk|ie|de|fr|nl|au|ca|us|nhs)"
_PLATFORMS = ("instagram|insta|facebook|tiktok|snapchat|snap|twitter|threads|whatsapp|telegram|"
              "discord|linkedin|bluesky|reddit|youtube")
_PARTICLES = r"(?:van|von|der|den|de|del|della|di|da|du|la|le|dos|das|ter|ten|bin|ibn|al|el)"
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("an e-mail address", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    # spelled out against spam filters: "sam dot taylor at gmail dot com", "jo (at) x (dot) org"
    ("an e-mail address", re.compile(
        rf"\b[\w+-]+(?:{_DOT}[\w+-]+)*{_AT}[\w-]+(?:{_DOT}[\w-]+)*{_DOT}{_TLD}\b", re.I)),
    # a user name: "@jo_kay", "sam_k", "jordan.kay88" (three letters or more joined by an
    # underscore, or by dots and ending in a digit; not "No.5"), or a name given "on Instagram"
    ("a user name", re.compile(r"(?<![\w@])@[A-Za-z0-9_.]{2,}")),
    ("a user name", re.compile(r"\b[A-Za-z][A-Za-z0-9]{2,}(?:_\w+|(?:\.[A-Za-z0-9]+)+(?<=\d))\b")),
    ("a user name", re.compile(
        rf"\b(?:am|is|at|me|as|called|named|username|handle)\s+\S+\s+on\s+(?:{_PLATFORMS})\b",
        re.I)),
    ("a date", re.compile(r"\b\d{1,2}[./-]\d{1,2}[./-]\d{2,4}\b")),
    ("a date", re.compile(r"\b(?:19|20)\d\d[./-]\d{1,2}[./-]\d{1,2}\b")),  # ISO 2019-11-02
    ("a date", re.compile(rf"\b(?:the\s+)?(?:{_ORDINALS})\s+(?:of\s+)?(?:{_MONTHS})\b", re.I)),
    ("a date", re.compile(rf"\b(?:{_MONTHS})\s+(?:the\s+)?\d{{1,2}}(?:st|nd|rd|th)?\b", re.I)),
    ("a date", re.compile(
        rf"\b(?:in|since|of|from|born|year|summer|winter|spring|autumn|fall|until|before|after|"
        rf"around|circa|back|{_MONTHS}),?\s+(?:19|20)\d\d\b|\b(?:in|since|from|until|during|"
        rf"back in|through)\s+(?:the\s+)?(?:early\s+|late\s+|mid[- ])?(?:19|20)\d\d['’]?s\b",
        re.I)),  # a decade only as a time ("in the 1990s"), not "the 1930s clock"
    ("a date of birth", re.compile(r"\bborn\s+(?:on|in)\b|\bdate of birth\b|\bd\.?o\.?b\b", re.I)),
    ("an address", re.compile(
        rf"\b\d+[A-Za-z]?,?\s+(?:[A-Za-z][\w'’-]*\s+){{1,3}}(?:{_STREETS})\b\.?", re.I)),
    ("an address", re.compile(
        r"(?<![.!?]\s)\b(?:[A-Z][\w'’-]+\s+){1,3}(?:Street|St|Road|Rd|Lane|Avenue|Ave|Drive|"
        r"Close|Crescent|Way|Gardens|Terrace|Place|Grove|Court|Square|Row|Mews|Parade|"
        r"Boulevard)\b")),
    ("an address", re.compile(r"\b(?:flat|apartment|apt|unit)\s+\d+\w?\b", re.I)),
    # a house number and a street named without its type: "at 14 Kirkgate", "from 3 Hollin Bank"
    ("an address", re.compile(
        r"\b(?:at|from|to|on|in|number|no\.?)\s+\d{1,4}[a-zA-Z]?,?\s+(?!(?:" + _MONTHS
        + r")\b)[A-Z][a-z'’]+(?:-[A-Za-z]+)?\b")),
    ("a postcode", re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b|\b[A-Z]{2}\s+\d{5}\b")),
    ("a postcode", re.compile(r"\b[a-z]{1,2}\d[a-z\d]?\s+\d[a-z]{2}\b", re.I)),  # ls6 2qt
    # a name with a particle: "Anna van der Berg", "Maria de la Cruz"
    ("a full name", re.compile(rf"\b[A-Z][\w'’-]+\s+(?:{_PARTICLES}\s+){{1,2}}[A-Z][\w'’-]+")),
    ("a practice or clinic name", re.compile(
        r"\b(?:[A-Z][\w'’&-]*\s+){1,4}(?:" + "|".join(w.title() for w in PRACTICE_WORDS) + r")\b"
    )),
    ("a clinic or service name", re.compile(
        r"\b(?:" + "|".join(re.escape(w) for w in CLINICAL_PLACES) + r")\b", re.I)),
    ("a practitioner's name", re.compile(
        r"\b(?:" + "|".join(t.title() for t in TITLES) + r")\.?\s+[A-Z][\w'’-]+")),
)
_DEPRESSION_CUES = frozenset({
    "your", "my", "his", "her", "their", "clinical", "major", "postnatal", "chronic", "severe",
    "with", "from", "for", "of", "manic",
})


# --- family ------------------------------------------------------------------------------


def _idiom_at(words: Sequence[Token], index: int) -> bool:
    lowered = [w.lower for w in words]
    for idiom in FAMILY_IDIOMS:
        parts = idiom.split()
        for start in range(max(0, index - len(parts) + 1), index + 1):
            if lowered[start : start + len(parts)] == parts:
                return True
    return False


def _family_person(sentence: Sentence, index: int) -> bool:
    """Whether the family word at ``index`` of the sentence's words names a person."""
    words = sentence.words
    word = words[index]
    before = words[index - 1].lower if index else ""
    if _idiom_at(words, index) or before in {"like", "as"}:
        return False  # an idiom, or a simile: "side by side like sisters"
    possessed = before in _NEAR_POSSESSIVES
    if "family" in lemmas(word.text) and not possessed:
        return False  # "a family of ducks", "a family picnic"
    if possessed or (word.capitalised and index > 0):
        return True  # "your dad", "... and Mum"
    animals = any(lemmas(w.text) & ANIMAL_WORDS for w in words)
    return not animals


def check_family(doc: Document) -> Iterator[LintFinding]:
    """Close family anywhere in the filled script or its values (a warning)."""
    reported: set[tuple[object, ...]] = set()
    for sentence in doc.sentences:
        for index, word in enumerate(sentence.words):
            if not (lemmas(word.text) & FAMILY_WORDS) or not _family_person(sentence, index):
                continue
            origin = doc.origin(sentence, [word])
            if origin.field == "preferred_name":
                continue
            key = (origin.field or origin.template_file,
                   None if origin.field else origin.template_line)
            if key in reported:
                continue
            reported.add(key)
            yield finding(
                "family-companion", "warning",
                f"{_place(origin, sentence.line)} names a close family member; mixed "
                "associations can unsettle a home track (a pet, an imagined figure or a neutral "
                "companion is better)",
                origin, sentence.line, check="family",
            )


# --- identifiers -------------------------------------------------------------------------


def _place(origin: Origin, line: int) -> str:
    if origin.field or origin.template_file is not None:
        return where(origin)
    return f"line {line} of the filled script"


def _phones(text: str) -> Iterator[tuple[int, int]]:
    for region in ("GB", "US"):
        for leniency in (phonenumbers.Leniency.VALID, phonenumbers.Leniency.POSSIBLE):
            for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=leniency):
                digits = sum(c.isdigit() for c in match.raw_string)
                if leniency == phonenumbers.Leniency.VALID or digits >= 9:
                    yield match.start, match.end


def _names(sentence: Sentence, first_name: str) -> Iterator[tuple[str, list[Token]]]:
    """Surnames, full names and named people among the sentence's words."""
    words = sentence.words
    for index in range(len(words) - 1):
        a, b = words[index], words[index + 1]
        if not (a.capitalised and b.capitalised) or b.start - a.end != 1:
            continue
        if {a.lower, b.lower} & NAME_PLACE_WORDS or f"{a.lower} {b.lower}" in FAMILY_IDIOMS:
            continue
        if a.lower in TITLES:
            continue  # the title pattern reports it
        if b.lower == "no" or a.lower == "no":
            continue  # a number, not a name: "Chanel No.5", "the No.9 tram"
        if a.text == first_name:
            yield "a surname next to the client's first name", [a, b]
        elif not is_dictionary_word(a.text) or index > 0:
            yield "a full name", [a, b]
    for index in range(len(words) - 1):
        noun, name = words[index], words[index + 1]
        if (noun.lower in PERSON_NOUNS - FAMILY_WORDS and not noun.capitalised and name.capitalised
                and name.lower not in NAME_PLACE_WORDS and name.start - noun.end == 1):
            yield "a named person", [noun, name]


def _diagnoses(sentence: Sentence) -> Iterator[Token]:
    words = sentence.words
    for index, word in enumerate(words):
        found = lemmas(word.text) & DIAGNOSES
        if not found:
            continue
        if len(word.text) <= 5 and word.text.lower() in DIAGNOSES and not word.text.isupper():
            continue  # acronyms only in capitals: "did", "add"
        if found == {"depression"}:
            near = {w.lower for w in words[max(0, index - 2) : index]}
            if not near & _DEPRESSION_CUES:
                continue  # "a soft depression in the moss"
        yield word


def check_identifiers(doc: Document, lines: dict[int, str]) -> Iterator[LintFinding]:
    """Identifying and clinical details in the filled script (errors; a named person warns)."""
    profile = doc.profile
    if len(profile.preferred_name.split()) > 1:
        yield finding(
            "identifiers", "warning",
            "preferred_name has more than one word: check it is not a surname",
            field="preferred_name", check="surname",
        )
    first_name = profile.preferred_name.split()[0] if profile.preferred_name.split() else ""
    reported: set[tuple[object, ...]] = set()

    def report(what: str, line: int, start: int, end: int, severity: str = "error"):
        origin = doc.source.origin(line, start, end)
        if origin.field == "preferred_name":
            return None
        key = (origin.field or origin.template_file,
               None if origin.field else origin.template_line or line)
        if key in reported:
            return None
        reported.add(key)
        advice = ("keep identifying and clinical details out of home tracks"
                  if severity == "error" else "check it is not someone from the client's life")
        return finding(
            "identifiers", "error" if severity == "error" else "warning",
            f"{_place(origin, line)} looks like {what}; {advice}",
            origin, line, check=what,
        )

    for number, text in lines.items():
        for what, pattern in _PATTERNS:
            for match in pattern.finditer(text):
                if (found := report(what, number, match.start(), match.end())) is not None:
                    yield found
        for start, end in _phones(text):
            if (found := report("a phone number", number, start, end)) is not None:
                yield found
    for sentence in doc.sentences:
        for what, tokens in _names(sentence, first_name):
            severity = "warning" if what == "a named person" else "error"
            found = report(what, sentence.line, tokens[-1].start, tokens[-1].end, severity)
            if found is not None:
                yield found
        for word in _diagnoses(sentence):
            if (found := report("a diagnosis", sentence.line, word.start, word.end)) is not None:
                yield found
