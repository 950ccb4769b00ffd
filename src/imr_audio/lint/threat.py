"""Threats and retellings in consolidation and new-dream scripts (rule ``trauma-narrative``).

A home track of these kinds holds no threat (no threatening figure, no harm, not even one that
is overcome) and no account of what happened. Each sentence is read for:

- harm and perpetrator words in any form ("abused", "the attacker", "knives");
- an action against a person: a harm verb whose object is the listener, the younger self or a
  body part ("grabs you by the arm", "pushed you down", "lunges at you", "was dragged"), while
  the same verbs about things pass ("pushes the door open", "kick off your shoes");
- a threatening figure: someone who follows, chases or watches the listener, threatening
  descriptions and fear ("a hooded figure watches you menacingly", "you are not afraid");
- past-tense narration: finite past forms from the lexicon's tense tables, irregular ones
  included ("threw", "saw", "found"), so a recap of the rescripted scene is found. With harm it
  is an error; without, a warning.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import lemminflect

from imr_audio.lint.findings import Document, LintFinding, finding, new_place, where
from imr_audio.lint.text import Sentence, Token, is_participle, is_past_form, lemmas, phrase_lemmas
from imr_audio.lint_words import (
    BODY_PARTS,
    CONTACT_VERBS,
    FEAR_WORDS,
    FIGURE_WORDS,
    HARM_VERBS,
    HARM_WORDS,
    PERSON_NOUNS,
    PERSON_TARGETS,
    POSSESSIVES,
    PURSUIT_VERBS,
    THREAT_ADJECTIVES,
    THREAT_PHRASES,
)

__all__ = ["RESCRIPTING_KINDS", "check_home_harm", "check_threats"]

RESCRIPTING_KINDS = ("consolidation", "new-dream")
"""Template kinds whose home tracks hold no threat and no account of what happened."""

_RETELLING_PHRASES = ("what happened", "did to", "back then", "that night", "that day",
                      "used to")
_PREPOSITIONS = frozenset({"at", "on", "into", "against", "after", "over", "towards", "toward",
                           "upon", "onto", "around", "for"})
_ARTICLES = frozenset({"the", "a", "that", "this"})
_YOUNG = frozenset({"child", "girl", "boy", "kid", "dreamer", "baby", "toddler"})
_SUBJECTS = frozenset({"i", "you", "he", "she", "it", "we", "they", "who"})
_THIRD_PERSON = frozenset({"he", "she", "it", "who"})
_MODALS = frozenset({"might", "could", "would", "should", "must", "may", "ought"})
_BE_GET = frozenset({"was", "were", "been", "being", "got", "get", "gets", "is", "are", "be"})
_PARTICLES_DOWN = frozenset({"down", "back", "away", "under"})
_SINGLE_HARM = frozenset(w for w in HARM_WORDS if " " not in w)
_DONE_TO = tuple(phrase_lemmas(p) for p in ("did to", "done to", "happened to"))
_PHRASE_HARM = tuple(phrase_lemmas(w) for w in HARM_WORDS if " " in w)
_HOME_HARM = (_SINGLE_HARM | {"drown", "gunshot", "beating"}) - {
    # Words that in a stabilising script are mostly reassurance or ordinary speech ("nothing
    # can hurt you here", "safe from harm", "the wind dies down", "out of danger").
    "hurt", "harm", "danger", "dangerous", "threat", "threaten", "die", "nightmare", "monster",
    "demon",
}
_HOLDING_PARTS = frozenset({"hand", "finger", "arm", "fist", "knee", "palm", "foot"})
_RESTRAINED_PARTS = frozenset({"mouth", "throat", "nose", "neck"})
"""A hand over the mouth or nose, on the throat, round the neck: a restraint, told."""
_OVER = frozenset({"over", "around", "round", "on", "across", "against"})
_WORTH_VERBS = frozenset({"deserve", "matter"})
"""After "you": what the younger self was worth, not an event ("you deserved better")."""
_DEGREE = frozenset({"not", "so", "very", "really", "just", "such", "a", "an", "only", "still",
                     "too", "quite", "ever"})
"""Words between "you were" and what the younger self was ("you were only little")."""
_AGES = frozenset({"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                   "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "little",
                   "small", "young", "tiny"})
_EVALUATIONS = frozenset({"nothing", "no", "everything", "all", "enough", "your", "the"})
"""After "you did": an evaluation of the younger self ("you did nothing wrong", "you did your
best"), not a telling."""
_DREAM_WORDS = frozenset({"dream", "nightmare", "version", "ending"})
_OLD = frozenset({"old", "original", "first", "usual", "real", "previous", "bad", "other",
                  "former"})
_UNKNOWN_FIGURES = frozenset({"stranger", "someone", "somebody", "figure", "shadow", "intruder",
                              "man", "men", "silhouette", "shape"})
"""Who is not named: a figure that waits near the listener is a threat in a dream."""
_PRESENCE_VERBS = frozenset({"stand", "wait", "lurk", "loom", "hover", "linger", "stare", "watch",
                             "peer", "appear", "crouch"})
_LISTENERS_PLACES = frozenset({"bed", "bedside", "window", "door", "doorway", "landing", "stairs",
                               "staircase", "curtain", "wardrobe", "corner", "bedroom", "cot"})
_GENTLE_PRESENCE = frozenset({"smiling", "smile", "smiles", "waving", "waves", "wave", "friendly",
                              "kind", "kindly", "laughing", "laughs", "cheerful", "welcoming",
                              "warmly", "gently", "softly", "flowers", "gift", "present", "hug",
                              "welcome"})
_WIND_AFTER = frozenset({"through", "around", "round", "along", "down", "up", "between",
                         "past", "across", "over", "into", "its", "away", "back"})


def _target(words: Sequence[Token], start: int) -> int | None:
    """Index of the person an action at ``start - 1`` is done to, if there is one."""

    def at(i: int) -> str:
        return words[i].lower if i < len(words) else ""

    i = start
    if at(i) in _PREPOSITIONS:
        i += 1
    if at(i) in PERSON_TARGETS:
        return i
    if at(i) in POSSESSIVES and lemmas(at(i + 1)) & BODY_PARTS:
        return i + 1
    if at(i) in _ARTICLES:
        if lemmas(at(i + 1)) & _YOUNG:
            return i + 1
        if at(i + 1) in {"younger", "little", "small"} and at(i + 2) in {"you", "one", "self"}:
            return i + 2
    return None


def _indirect_target(words: Sequence[Token], start: int) -> int | None:
    """A person or body part after a thing: "threw a plate at them", "the door on your hand"."""
    for i in range(start, min(start + 5, len(words))):
        if words[i].lower in {"at", "on", "into", "against", "onto"}:
            return _target(words, i)
        if words[i].lower in {"and", "but", "then", "while", "to", "with"}:
            return None
    return None


def _restraint(words: Sequence[Token]) -> list[Token] | None:
    """His, her or their hand over, on or round someone's mouth, nose, throat or neck."""
    for i, word in enumerate(words[1:], start=1):
        if words[i - 1].lower not in {"his", "her", "their"} or not (
            lemmas(word.text) & _HOLDING_PARTS
        ):
            continue
        near = words[i + 1 : i + 5]
        for k, after in enumerate(near[:-1]):
            if after.lower in _OVER and lemmas(near[k + 1].text) & _RESTRAINED_PARTS:
                return [word, near[k + 1]]
            if after.lower in _OVER and near[k + 1].lower in POSSESSIVES and k + 2 < len(near) \
                    and lemmas(near[k + 2].text) & _RESTRAINED_PARTS:
                return [word, near[k + 2]]
    return None


def _presence(words: Sequence[Token]) -> list[Token] | None:
    """An unknown figure waiting near the listener.

    "A shadow is standing at the end of the bed", "someone lingers by the door", "a man waits
    outside the window".
    The figure is the subject (no person named), the verb one of standing or waiting, and the
    place the listener's (the bed, a window or door, behind or over them). A gentle word or a
    known person in the sentence makes it someone friendly ("a man stands at the door, smiling",
    "someone is waiting at the door, and it is my friend").
    """
    figures = [i for i, w in enumerate(words) if lemmas(w.text) & _UNKNOWN_FIGURES]
    if not figures:
        return None
    lowered = [w.lower for w in words]
    if set(lowered) & _GENTLE_PRESENCE or any(lemmas(w) & PERSON_NOUNS for w in lowered):
        return None  # "..., smiling", "someone is waiting at the door: it is my friend"
    for i in figures:
        word = words[i]
        j = i + 1
        while j < len(words) and j < i + 4 and lowered[j] in _BE_GET | {"still", "just",
                                                                        "silently", "quietly"}:
            j += 1
        if j >= len(words) or not lemmas(words[j].text) & _PRESENCE_VERBS:
            continue
        for k in range(j + 1, min(j + 8, len(words))):
            if lemmas(words[k].text) & _LISTENERS_PLACES or (
                    lowered[k] in {"behind", "over", "outside"} and k + 1 < len(words)
                    and (lowered[k + 1] in PERSON_TARGETS or lowered[k + 1] in POSSESSIVES
                         or lowered[k + 1] == "the")):
                return [word, words[j]]
    return None


def _old_dream(words: Sequence[Token]) -> tuple[str, list[Token]] | None:
    """The original nightmare, told in a new dream.

    "In the old dream ...", "it used to end with ...", "in the real nightmare ...". Only with a
    past-tense verb in the same sentence: "this is my new dream" and "the dream ends in the
    garden" tell nothing.
    """
    for i, word in enumerate(words):
        if lemmas(word.text) & _DREAM_WORDS and {w.lower for w in words[max(0, i - 2) : i]} & (
                _OLD):
            return "the original nightmare, told", [words[i - 1], word]
    if (at := _phrase_at(words, phrase_lemmas("used to"))) is not None:
        return "the original nightmare, told", list(words[at : at + 2])
    return None


def _evaluation(words: Sequence[Token], i: int) -> bool:
    """Whether the past verb at ``i`` judges the younger self rather than telling an event.

    "You did nothing wrong", "you were strong", "it was not your fault".
    """
    before = words[i - 1].lower if i else ""
    after = [w.lower for w in words[i + 1 : i + 4]]
    verb = lemmas(words[i].text)
    if before == "you" and verb & _WORTH_VERBS:
        return True  # "you deserved to be looked after", "you mattered"
    if before not in {"you", "it", "that", "they", "we"} or not verb & {"be", "do"}:
        return False
    if "do" in verb:
        return bool(after) and after[0] in _EVALUATIONS
    rest = [w for w in after if w not in _DEGREE]
    if rest[:2] in (["your", "fault"], ["my", "fault"]):
        return True
    if before == "you" and rest and (lemmas(rest[0]) & _YOUNG or rest[0] in _AGES
                                     or rest[0].isdigit()):
        return True  # "you were just a child", "you were only seven"
    return bool(rest) and "ADJ" in lemminflect.getAllLemmas(rest[0]) and not (
        is_past_form(rest[0])[0] or is_participle(rest[0]))


def _phrase_at(words: Sequence[Token], phrase: tuple[frozenset[str], ...]) -> int | None:
    size = len(phrase)
    for i in range(len(words) - size + 1):
        if all(phrase[k] & lemmas(words[i + k].text) for k in range(size)):
            return i
    return None


def _harm(sentence: Sentence) -> tuple[str, list[Token]] | None:
    """The first harm or threat in the sentence: what it is and its words."""
    words = sentence.words
    for i, word in enumerate(words):
        found = lemmas(word.text)
        if found & _SINGLE_HARM:
            after = words[i + 1].lower if i + 1 < len(words) else ""
            if "wound" in found and after in _WIND_AFTER:
                continue  # "the path wound through the trees"
            return "harm or perpetrator wording", [word]
        if found & (FEAR_WORDS | THREAT_ADJECTIVES):
            return "threat or fear wording", [word]
        verbs = found & (HARM_VERBS | PURSUIT_VERBS)
        if not verbs:
            continue
        target = _target(words, i + 1)
        if target is None and i + 2 < len(words) and words[i + 1].lower in {"and", "or"} and (
                lemmas(words[i + 2].text) & (HARM_VERBS | {"snap", "nip"})):
            target = _target(words, i + 3)  # "snarls and snaps at your ankles"
        if target is None and verbs & CONTACT_VERBS:
            target = _indirect_target(words, i + 1)  # "slammed the door on your fingers"
        if verbs & CONTACT_VERBS and target is not None:
            return "an action against a person", [word, words[target]]
        if target is not None and i + 1 < len(words):
            rest = {w.lower for w in words[target + 1 : target + 3]}
            if rest & _PARTICLES_DOWN or "by" in rest:
                return "an action against a person", [word, words[target]]  # "held you down"
        if verbs & PURSUIT_VERBS and target is not None:
            earlier = set().union(*(lemmas(w.text) for w in words[:i])) if i else set()
            if earlier & FIGURE_WORDS:
                return "a threatening figure", [word, words[target]]
        before = words[i - 1].lower if i else ""
        if verbs & CONTACT_VERBS and before in _BE_GET and is_participle(word.text):
            return "an action against a person", [word]  # "you were pushed"
    if (held := _restraint(words)) is not None:  # "his hand over your mouth"
        return "an action against a person", held
    if (there := _presence(words)) is not None:  # "a shadow is standing at the end of the bed"
        return "a threatening figure", there
    for phrase in _DONE_TO:  # "what she did to you", "what happened to them"
        if (at := _phrase_at(words, phrase)) is not None and _target(words, at + 2) is not None:
            return "what was done to a person", list(words[at : at + 3])
    for phrase in _PHRASE_HARM:
        if (at := _phrase_at(words, phrase)) is not None:
            return "harm or perpetrator wording", list(words[at : at + len(phrase)])
    for text in THREAT_PHRASES:
        if text in _RETELLING_PHRASES:
            continue
        if (at := _phrase_at(words, phrase_lemmas(text))) is not None:
            return "an escape from a threat", list(words[at : at + len(phrase_lemmas(text))])
    return None


def _past(sentence: Sentence) -> list[Token]:
    """The sentence's finite past-tense verbs (and retelling phrases such as "back then")."""
    words = sentence.words
    found: list[Token] = []
    for i, word in enumerate(words):
        can_be, only = is_past_form(word.text)
        if not can_be or word.lower in _MODALS:
            continue
        before = words[i - 1].lower if i else ""
        if _evaluation(words, i):
            continue
        if not only:  # "let", "hit": past only after he, she or it ("he hit", "you let")
            if before in _THIRD_PERSON:
                found.append(word)
        elif not is_participle(word.text) or before in _SUBJECTS:
            found.append(word)  # "threw", "saw"; "relaxed" only as "you relaxed"
    for text in _RETELLING_PHRASES:
        if (at := _phrase_at(words, phrase_lemmas(text))) is not None:
            found.append(words[at])
    return found


def _advice(kind: str) -> str:
    if kind == "new-dream":
        return "the new dream holds no threat at all, not even one that is overcome"
    return "stay with what is happening now, with no account of what happened"


def check_threats(doc: Document) -> Iterator[LintFinding]:
    """Threats, harm and retellings in a consolidation or new-dream script."""
    if doc.kind not in RESCRIPTING_KINDS:
        return
    reported: set[tuple[object, ...]] = set()
    for sentence in doc.sentences:
        harm = _harm(sentence)
        past = _past(sentence)
        if harm is None and past and doc.kind == "new-dream":
            harm = _old_dream(sentence.words)  # "in the old dream the water rose over my head"
        if past and harm is None:
            line_origin = doc.source.template_line(sentence.line)
            wrapper = line_origin.template_file is not None and (
                line_origin.template_file.name == "_base.j2")
            if wrapper and not doc.origin(sentence, past).field:
                past = []  # the shipped wrapper's own words ("if anything ... stirred up")
        if harm is None and not past:
            continue
        tokens = harm[1] if harm else past
        origin = doc.origin(sentence, tokens)
        place = where(origin) if origin.field or origin.template_file else (
            f"line {sentence.line} of the filled script")
        if harm is not None:
            what, check = harm[0], "threat"
            if past:
                what, check = f"a past-tense account of harm ({harm[0]})", "retelling"
            severity = "error"
        else:
            what, check, severity = "past-tense narration of an event", "retelling", "warning"
        key = (check, severity, origin.field or origin.template_file,
               None if origin.field else origin.template_line or sentence.line)
        if key in reported:
            continue
        reported.add(key)
        yield finding(
            "trauma-narrative", severity,  # type: ignore[arg-type]
            f"{place}: {what} in a {doc.kind} script; {_advice(doc.kind)}",
            origin, sentence.line, check=check,
        )


def check_home_harm(doc: Document) -> Iterator[LintFinding]:
    """Harm, injury and perpetrator words in a home track of any other kind.

    No home track holds the trauma memory or the perpetrator. Here the words mostly arrive in
    a client's value ("the weir where my brother drowned"); each field or template line is
    reported once.
    """
    if doc.kind in RESCRIPTING_KINDS:
        return  # check_threats reads these, with threats and retellings
    reported: set[object] = set()
    for sentence in doc.sentences:
        words = sentence.words
        hits = [w for w in words if lemmas(w.text) & _HOME_HARM]
        for phrase in _PHRASE_HARM:
            if (at := _phrase_at(words, phrase)) is not None:
                hits.extend(words[at : at + len(phrase)])
        hits = [w for w in hits if not _winding(words, w)]
        if not hits:
            continue
        origin = doc.origin(sentence, hits)
        place = new_place(reported, origin, sentence.line)
        if place is None:
            continue
        yield finding(
            "trauma-narrative", "error",
            f"{place}: harm, injury or perpetrator wording in a {doc.kind} script; a home "
            "track holds no trauma content (keep it for the session)",
            origin, sentence.line, check="trauma-content",
        )


def _winding(words: Sequence[Token], word: Token) -> bool:
    """Whether ``word`` is "wound" as in "the path wound through the trees"."""
    i = words.index(word)
    after = words[i + 1].lower if i + 1 < len(words) else ""
    return "wound" in lemmas(word.text) and after in _WIND_AFTER
