"""The container rule: a container script keeps its contents, and only the client holds the key.

A script is a container script by what it is, never by its id: it reads ``container.*`` fields,
a section names a container ("Building your container", "Your strongbox"), or its words keep
coming back to one container. Its text must say the contents are stored, must not destroy or
throw them away in any wording ("burn it", "it is gone for good", "no longer exists"; "nothing is
destroyed" and "not thrown away" are fine), and must give the key to the client alone.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from imr_audio.lint.findings import Document, LintFinding, finding, where
from imr_audio.lint.sources import Origin
from imr_audio.lint.text import Sentence, Token, lemmas, phrase_lemmas
from imr_audio.lint_words import (
    DESTROY_PARTICLES,
    DESTROY_PHRASES,
    DESTROY_VERBS,
    KEY_VERBS,
    PERSON_NOUNS,
    STORE_WORDS,
)

__all__ = ["CONTAINER_WORDS", "check_container", "is_container_script"]

CONTAINER_WORDS = frozenset({
    "container", "strongbox", "vault", "chest", "box", "locker", "trunk", "casket", "safe",
    "coffer", "crate", "cabinet",
})
"""Nouns that name the container."""

_NEGATORS = frozenset({"not", "never", "no", "nothing", "n't", "nor", "without", "cannot",
                       "don't", "doesn't", "isn't", "won't", "can't", "none", "neither"})
_CONTENTS = frozenset({"it", "them", "everything", "all", "contents", "whatever", "this",
                       "that", "those", "these", *CONTAINER_WORDS})
_AWAY = frozenset({"away", "off", "out"})
_REACH = frozenset({"see", "find", "open", "return", "come", "get", "hear", "look", "touch",
                    "reach", "surface", "resurface"})
"""Verbs of getting the contents back: "never to be seen again" is gone for good."""
_PASS_ON = frozenset({"give", "hand", "leave"})
_NEEDS_OBJECT = frozenset({"burn", "break up"})
_CLAUSE_BREAK = frozenset({",", ";", ":", "but", "—", "-"})
_OTHERS = frozenset({"anyone", "anybody", "someone", "somebody", "everyone", "everybody",
                     "others", "other", "we", "they", "he", "she", "people", "i", "us", "me",
                     *PERSON_NOUNS})


def is_container_script(doc: Document) -> bool:
    """Whether the script is a container script (by its fields, sections or words)."""
    if any(v.name.startswith("container.") for v in doc.spec.variables):
        return True
    titles = " ".join(doc.spec.sections).lower().replace("-", " ").split()
    if any(lemmas(word) & CONTAINER_WORDS - {"safe", "chest"} for word in titles):
        return True
    mentions = [
        w for s in doc.sentences for w in s.words if lemmas(w.text) & (CONTAINER_WORDS - {"safe"})
    ]
    distinct = {frozenset(lemmas(w.text) & CONTAINER_WORDS) for w in mentions}
    return len(mentions) >= 3 and len(distinct) == 1


def _clauses(sentence: Sentence) -> Iterator[list[Token]]:
    clause: list[Token] = []
    for token in sentence.tokens:
        if token.lower in _CLAUSE_BREAK:
            if clause:
                yield clause
            clause = []
        else:
            clause.append(token)
    if clause:
        yield clause


def _find(words: Sequence[Token], phrase: str) -> int | None:
    wanted = phrase_lemmas(phrase)
    size = len(wanted)
    for i in range(len(words) - size + 1):
        if all(wanted[k] & lemmas(words[i + k].text) for k in range(size)):
            return i
    return None


def _destroys(clause: list[Token]) -> list[Token] | None:
    """The words that destroy or dispose of the contents in this clause, if any."""
    words = [t for t in clause if t.is_word]
    for phrase in DESTROY_PHRASES:
        if (i := _find(words, phrase)) is not None:
            return words[i : i + len(phrase.split())]
    if (gone := _never_again(words)) is not None:
        return gone
    negated = False
    for i, word in enumerate(words):
        if word.lower in _NEGATORS or word.lower.endswith("n't"):
            negated = True
            continue
        found = lemmas(word.text)
        rest = [w.lower for w in words[i + 1 : i + 5]]
        if found & DESTROY_VERBS and not negated:
            needs_object = found & _NEEDS_OBJECT
            direct = rest[1:2] if rest[:1] == ["up"] else rest[:1]  # "burn it", "burn up all"
            subject = {w.lower for w in words[max(0, i - 2) : i]}  # "it all burns away"
            if not needs_object or set(direct) & _CONTENTS or (i and words[i - 1].lower in
                                                                 {"is", "are", "be", "been",
                                                                  "was", "were", "gets", "get"}):
                return [word]
            if subject & _CONTENTS and (set(rest[:1]) & (_AWAY | {"up"}) or _for_good(rest)):
                return [word]
        if found & DESTROY_PARTICLES and not negated and set(rest) & _AWAY:
            before = words[i - 1].lower if i else ""
            away = next(k for k, w in enumerate(rest) if w in _AWAY)
            between = set(rest[:away])
            if between & _CONTENTS or before in _CONTENTS:
                return [word]
        for phrase in DESTROY_VERBS:
            if " " in phrase and not negated and _find(words[i:i + 4], phrase) == 0:
                return [word]
    return None


def _never_again(words: Sequence[Token]) -> list[Token] | None:
    """"Never to be seen again", "never find it again", "no one will ever open it again".

    The contents are out of reach for good, not held until the next session; "again" after a
    verb of reaching them with "never" (or "no one ... ever") before it. "You can open it again
    whenever you choose" has no "never"; "you need never see it again until you choose" keeps
    it for later.
    """
    lowered = [w.lower for w in words]
    for i, word in enumerate(lowered):
        if word not in {"never", "ever"}:
            continue
        if word == "ever" and not {"no", "nobody", "noone", "nothing"} & set(lowered[:i]):
            continue
        rest = words[i + 1 : i + 7]
        verb = next((k for k, w in enumerate(rest) if lemmas(w.text) & _REACH), None)
        if verb is not None and "again" in lowered[i + 2 + verb : i + 9] and not (
                {"until", "till", "unless"} & set(lowered[i:])):  # "... until you choose"
            return [words[i], rest[verb]]
    return None


def _for_good(rest: Sequence[str]) -> bool:
    """Whether the words after a verb say it is for ever ("burns for good", "melts forever")."""
    text = " ".join(rest)
    return any(p in text for p in ("for good", "forever", "for ever", "permanently",
                                   "once and for all"))


def _key_holder(clause: list[Token]) -> str | None:
    """``client`` or ``other`` for a clause that says who has the key; None if it says not."""
    words = [t for t in clause if t.is_word]
    if not any("key" in lemmas(w.text) for w in words):
        return None
    lowered = [w.lower for w in words]
    key_at = next(i for i, w in enumerate(words) if "key" in lemmas(w.text))
    holder: list[str] = []
    for i, word in enumerate(words):
        if not lemmas(word.text) & KEY_VERBS:
            continue
        if lemmas(word.text) & _PASS_ON:  # "give the key to ...", "leave the key in the lock"
            after = lowered[key_at + 1 : key_at + 4]
            return "client" if after[:2] in (["to", "you"], ["with", "you"]) else "other"
        if i < key_at:  # "only you hold the key", "your therapist keeps the key"
            holder = lowered[max(0, i - 4) : i]
        elif i > key_at:  # "whose key your therapist keeps"
            holder = lowered[key_at + 1 : i]
        break
    else:
        if "yours" in lowered[key_at:] or "you" in lowered[key_at + 1 : key_at + 5]:
            return "client"  # "the key is yours", "the key stays with you"
        rest = set(lowered[key_at + 1 :])
        if {"with", "to"} & rest and rest & _OTHERS:
            return "other"  # "the key stays with your therapist", "give the key to ..."
        return None
    others = set().union(*(lemmas(w) for w in holder)) & _OTHERS if holder else set()
    if others:
        return "other"
    return "client" if "you" in holder else None


def _place(origin: Origin, line: int) -> str:
    if origin.field or origin.template_file is not None:
        return where(origin)
    return f"line {line} of the filled script"


def check_container(doc: Document) -> Iterator[LintFinding]:
    """Stored, not destroyed; only the client holds the key."""
    if not is_container_script(doc):
        return
    stored = False
    client_key = False
    for sentence in doc.sentences:
        line = doc.source.template_line(sentence.line)
        if line.template_file is not None and line.template_file.name == "_base.j2":
            continue  # the shipped wrapper ("somewhere safe to rest", "it stays here for you")
        for clause in _clauses(sentence):
            words = [t for t in clause if t.is_word]
            keyless = not any("key" in lemmas(w.text) for w in words)  # not "hold the key"
            if keyless and (any(lemmas(w.text) & STORE_WORDS for w in words) or any(
                _find(words, p) is not None for p in STORE_WORDS if " " in p
            )):
                stored = True
            destroyed = _destroys(clause)
            if destroyed:
                origin = doc.origin(sentence, destroyed)
                yield finding(
                    "container", "error",
                    f"{_place(origin, sentence.line)}: destroys or throws away what is in the "
                    "container; the material is held, not destroyed, until the next session",
                    origin, sentence.line, check="destroyed",
                )
            holder = _key_holder(clause)
            if holder == "client":
                client_key = True
            elif holder == "other":
                origin = doc.origin(sentence, [t for t in clause if t.is_word])
                yield finding(
                    "container", "error",
                    f"{_place(origin, sentence.line)}: gives the key to someone else; only "
                    "the client holds the key",
                    origin, sentence.line, check="key",
                )
    if not stored:
        yield finding("container", "error", "the script must say the material is stored",
                      check="stored")
    if not client_key:
        yield finding("container", "error", "the script must say the client holds the key",
                      check="key")
