"""Words of a filled script as the lint reads them: tokens with places, dictionary forms, tense.

Dictionary forms come from LemmInflect (MIT; the NIH SPECIALIST lexicon), chosen over simplemma
and the Snowball stemmer because it relates irregular forms too ("threw" -> throw, "children"
-> child) and knows each form's part of speech and tense, which the retelling check needs
(measured in bench/lint_corpus_bench.py --lemmatisers). A word is matched by the set of its
dictionary forms over every part of speech, so an entry and a text meet in any form.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

import lemminflect

__all__ = [
    "Sentence",
    "Token",
    "compound_head",
    "is_dictionary_word",
    "is_past_form",
    "lemmas",
    "phrase_lemmas",
    "sentences",
    "spoken_text",
    "tokenize",
]

_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*|\d+(?:[.,:/]\d+)*|\S")
_MARKUP = re.compile(r"(?<!\\)\[[^\]]*(?<!\\)\]")
_SENTENCE_END = re.compile(r"[.!?]+['\"’”)]*(?=\s|$)")
_POSSESSIVE = re.compile(r"['’]s$")


@dataclass(frozen=True)
class Token:
    """A word, number or punctuation mark, with where it stands in its line."""

    text: str
    """The token as written."""
    start: int
    """Offset of its first character in the line."""
    end: int
    """Offset just past its last character in the line."""

    @property
    def lower(self) -> str:
        """The token in lower case, a possessive ``'s`` removed."""
        return _POSSESSIVE.sub("", self.text.lower())

    @property
    def is_word(self) -> bool:
        """Whether it is a word (letters), not a number or a mark."""
        return self.text[:1].isalpha()

    @property
    def capitalised(self) -> bool:
        """Whether it starts with a capital letter."""
        return self.text[:1].isupper()


@dataclass(frozen=True)
class Sentence:
    """One sentence of a line of the filled script."""

    line: int
    """Line of the filled script (1-based)."""
    tokens: tuple[Token, ...]
    """Its tokens, with offsets in the line."""

    @property
    def words(self) -> tuple[Token, ...]:
        """Its word tokens only."""
        return tuple(t for t in self.tokens if t.is_word)

    @property
    def text(self) -> str:
        """The sentence's words joined by spaces, in lower case."""
        return " ".join(t.lower for t in self.tokens)


def spoken_text(line: str) -> str:
    """Return ``line`` with markup blanked out and escapes undone, keeping every offset."""
    blanked = _MARKUP.sub(lambda m: " " * len(m.group(0)), line)
    return re.sub(r"\\([\[\]\\])", r" \1", blanked)


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into word, number and punctuation tokens with their offsets."""
    return [Token(m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def sentences(lines: Sequence[tuple[int, str]]) -> Iterator[Sentence]:
    """Split each ``(line number, text)`` into sentences; markup is not part of any sentence."""
    for number, raw in lines:
        text = spoken_text(raw)
        start = 0
        for end_match in [*_SENTENCE_END.finditer(text), None]:
            end = end_match.end() if end_match else len(text)
            found = tokenize(text[start:end])
            shifted = tuple(Token(t.text, t.start + start, t.end + start) for t in found)
            if any(t.is_word for t in shifted):
                yield Sentence(number, shifted)
            start = end


@lru_cache(maxsize=65536)
def lemmas(word: str) -> frozenset[str]:
    """The word itself (lower case) and its dictionary forms over every part of speech."""
    lower = _POSSESSIVE.sub("", word.lower()).strip("'’")
    found = {lower}
    for forms in lemminflect.getAllLemmas(lower).values():
        found.update(f.lower() for f in forms)
    if len(found) == 1 and lower.endswith("s") and len(lower) > 3:
        for forms in lemminflect.getAllLemmasOOV(lower, "NOUN").values():
            found.update(f.lower() for f in forms)
    return frozenset(found)


@lru_cache(maxsize=65536)
def compound_head(word: str) -> frozenset[str]:
    """The dictionary forms of the last part of a closed compound, or nothing.

    "woodsmoke" -> smoke, "seagulls" -> gull, "underwater" -> water.

    English compounds put their head last; a split counts when both parts are words of at
    least three letters the lexicon knows.
    """
    lower = _POSSESSIVE.sub("", word.lower()).strip("'’")
    for cut in range(3, len(lower) - 2):
        first, head = lower[:cut], lower[cut:]
        if is_dictionary_word(first) and is_dictionary_word(head):
            return lemmas(head)
    return frozenset()


def phrase_lemmas(phrase: str) -> tuple[frozenset[str], ...]:
    """The dictionary forms of each word of ``phrase``, in order (``high up`` -> two sets)."""
    return tuple(lemmas(t.text) for t in tokenize(phrase) if t.is_word)


@lru_cache(maxsize=65536)
def is_dictionary_word(word: str) -> bool:
    """Whether ``word`` (any case) is an English word the lexicon knows, not a proper name."""
    return bool(lemminflect.getAllLemmas(_POSSESSIVE.sub("", word.lower())))


@lru_cache(maxsize=65536)
def _verb_forms(word: str) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(past tense, past participle, present) forms of every verb ``word`` may be a form of."""
    past: set[str] = set()
    participle: set[str] = set()
    present: set[str] = set()
    for lemma in lemminflect.getAllLemmas(word).get("VERB", ()):
        past.update(f.lower() for f in lemminflect.getInflection(lemma, tag="VBD"))
        participle.update(f.lower() for f in lemminflect.getInflection(lemma, tag="VBN"))
        for tag in ("VB", "VBP", "VBZ"):
            present.update(f.lower() for f in lemminflect.getInflection(lemma, tag=tag))
    return frozenset(past), frozenset(participle), frozenset(present)


def is_past_form(word: str) -> tuple[bool, bool]:
    """Whether ``word`` can be a past tense, and whether it is one only (not also a present)."""
    lower = word.lower()
    past, _, present = _verb_forms(lower)
    return lower in past, lower in past and lower not in present


def is_participle(word: str) -> bool:
    """Whether ``word`` can be a past participle (``pushed``, ``thrown``)."""
    lower = word.lower()
    return lower in _verb_forms(lower)[1]
