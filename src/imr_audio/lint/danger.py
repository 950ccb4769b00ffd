"""Danger told without harm words, in a home track of any kind (rule ``trauma-narrative``).

Clients and therapists often describe what was frightening without a word such as "attack" or
"abuse". This module reads each sentence for the structure of a threat rather than for its
vocabulary:

- confinement: a person who is trapped, stuck, locked or shut in, or kept somewhere ("they shut
  me in", "you are locked in here", "you can't get out"); a box or a door that locks passes;
- pursuit: a figure, a vehicle or footsteps behind the listener or keeping pace ("footsteps keep
  pace with yours", "a van stays on your tail"); a dog at your side passes;
- injury by an animal or a person: a biting or stinging verb whose object is a person or a part
  of the body ("snarls and snaps at your ankles", "stings your hands"); "bees hum" passes; a
  blow (hit, strike, beat, shove ...) when a person, a figure or a vehicle gives it ("he hit
  you", "the car hit you", "a van struck him"), while "the spray hits your face", "the smell of
  bread hits you" and "grandad beat you at chess" pass;
- a vehicle or boat in distress: a vehicle and a loss-of-control verb in one sentence ("the lorry
  swerving into your lane", "the ferry lurches"), or a verb of motion with where it ends ("the
  bus tips over", "the boat is sinking beneath you"); "a boat rocks at its mooring", "boats tip
  gently on the swell" and "the wheels spin lazily" pass;
- re-entry: an instruction to return in the mind to a definite time ("go back in your mind to the
  night of ...", "let yourself return to that day"); returning to a place passes, and a time
  named by what the listener did ("to the day you got your first puppy") is a warning;
- the perpetrator in a reassurance: he, she or they as the one who can no longer harm or reach
  the listener ("he can't get to you any more", "let him lay a finger on you").

Each field or template line is reported once, as an error (but for the re-entry warning). The
shipped wrapper's own lines (``_base.j2``) are not read.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import Literal

from imr_audio.lint.findings import Document, LintFinding, finding, new_place
from imr_audio.lint.text import Sentence, Token, is_participle, lemmas
from imr_audio.lint_words import BODY_PARTS, FIGURE_WORDS, PERSON_NOUNS, POSSESSIVES

__all__ = ["check_home_danger", "danger"]

_PEOPLE = frozenset({"you", "me", "i", "we", "us", "him", "her", "them", "yourself", "myself",
                     "ourselves", "themselves", "child", "kid", "girl", "boy", "baby", "one"})
_SUBJECT_PEOPLE = frozenset({"you", "i", "we", "they", "he", "she", "you're", "i'm", "we're"})
_BE_GET = frozenset({"am", "is", "are", "was", "were", "be", "been", "being", "get", "got",
                     "gets", "getting", "feel", "felt", "'re", "'m", "stay", "stayed", "remain",
                     "remained", "left", "become", "became"})
_CONFINED = frozenset({"trap", "stick", "confine", "cage", "imprison", "corner", "shut",
                       "lock", "keep", "wall", "board", "bolt", "lock up", "hem", "pin"})
_NEEDS_IN = frozenset({"shut", "lock", "keep", "wall", "board", "bolt", "pin"})
_IN = frozenset({"in", "inside", "up", "away", "indoors", "down"})
_DEGREE = frozenset({"so", "really", "completely", "totally", "utterly", "very", "still", "just",
                     "all", "a", "bit", "little", "kind", "sort", "of", "always", "again", "not",
                     "never", "n't", "quite", "too", "feeling", "getting", "becoming"})
"""Words between who is confined and the word that says so ("you feel a bit stuck")."""
_ESCAPE = frozenset({"out", "free", "away", "open", "loose"})
_ESCAPE_VERBS = frozenset({"get", "climb", "break", "open", "escape", "leave", "move"})
_EXITS = frozenset({"door", "gate", "window", "hatch", "exit"})
_CANNOT = frozenset({"can't", "cannot", "couldn't", "won't", "wouldn't", "can", "could", "will",
                     "would"})
_NOT = frozenset({"not", "never", "no", "n't"})

_PURSUERS = FIGURE_WORDS | frozenset({"something", "someone", "somebody", "footsteps",
                                      "presence", "shape", "follower"})
_PURSUIT_PLACES = (("keep", "pace", "with"), ("close", "behind"), ("on", "your", "heels"),
                   ("at", "your", "heels"), ("on", "your", "tail"), ("gain", "on"),
                   ("catch", "up", "with"), ("catch", "up", "on"), ("behind",), ("after",),
                   ("keep", "up", "with"))
_PURSUED = frozenset({"you", "yours", "me", "mine", "us", "your", "my", "him", "her", "them"})

_INJURE = frozenset({"bite", "sting", "nip", "snap", "claw", "maul", "gore", "peck", "savage",
                     "scratch", "stab", "trample", "knock", "whack", "thump", "smack", "slap",
                     "punch", "kick"})
_STRIKE = frozenset({"hit", "strike", "beat", "shove", "batter", "whip", "thrash", "wallop",
                     "clout", "belt", "headbutt"})
"""Blows that are also said of the weather, a smell or a thought ("the warmth hits you"): an
injury only when a person, a figure or a vehicle gives them."""
_SELF = frozenset({"you", "i", "we", "yourself"})
_LEAD = frozenset({"now", "then", "gently", "slowly", "just", "and", "softly", "perhaps"})
_ALL_BODY = BODY_PARTS | frozenset({"hand", "ankle", "knee", "heel", "wrist", "elbow", "hip",
                                    "thigh", "calf", "skin", "lip", "eye", "palm", "shin",
                                    "forearm", "ear", "leg", "toe"})
_ELEMENTS = frozenset({"frost", "cold", "chill", "wind", "breeze", "gust", "air", "sand", "spray",
                       "salt", "sea", "water", "wave", "foam", "surf", "sun", "sunlight", "heat",
                       "rain", "drizzle", "sleet", "snow", "snowflake", "ice", "hail", "mist",
                       "fog", "smoke", "grass", "current"})
"""What nips or stings in a safe place's weather ("the frost nips at your cheeks"): no injury."""

_VEHICLES = frozenset({"car", "van", "lorry", "truck", "bus", "coach", "train", "tram",
                       "motorbike", "motorcycle", "bike", "bicycle", "boat", "ferry", "ship",
                       "yacht", "dinghy", "canoe", "kayak", "plane", "aeroplane", "airplane",
                       "helicopter", "taxi", "cab", "vehicle", "jeep", "ute", "carriage", "raft",
                       "trailer", "caravan", "tractor"})
_STRIKERS = PERSON_NOUNS | FIGURE_WORDS | _VEHICLES | frozenset({
    "they", "woman", "women", "boy", "girl", "kid", "lad", "gang", "bully", "bullies", "driver",
    "rider"})
"""Who or what gives a blow that is an injury (with :data:`_STRIKE`)."""
_PLAY = frozenset({"gently", "softly", "lightly", "playfully", "laughing", "teasing", "jokingly",
                   "tenderly"})
_CONTEST = frozenset({"at", "to", "in", "by", "hands"})
"""After "beat you": a game or a race ("beat you at chess", "beat you to the top")."""
_DISTRESS = frozenset({"swerve", "skid", "lurch", "capsize", "overturn", "jackknife",
                       "collide", "crash", "smash", "careen", "derail", "aquaplane", "plummet",
                       "nosedive", "hurtle"})
"""Verbs that are a loss of control wherever a vehicle does them."""
_MOTION = frozenset({"spin", "sink", "tip", "flip", "keel", "plunge", "topple", "judder",
                     "founder", "veer"})
"""Verbs a boat or a bike also does gently ("the wheels spin", "boats tip at their moorings"):
distress only with where it ends ("tips over", "spins out", "sinking beneath you") and with no
gentle word beside them."""
_OUT_OF_CONTROL = frozenset({"over", "out", "off", "under", "into", "onto", "beneath", "down",
                             "sideways", "towards", "toward", "wildly", "violently",
                             "uncontrollably"})
_GENTLE = frozenset({"gently", "softly", "lazily", "slowly", "lightly", "slightly", "calmly",
                     "peacefully", "playfully", "idly", "mooring", "moorings"})
_NEAR = 4
"""Words at most between a vehicle and its loss-of-control verb ("the ferry lurches")."""

_RETURN = frozenset({"go", "come", "return", "travel", "take", "think", "cast", "bring", "step",
                     "drift", "send", "carry"})
_RELIVE = frozenset({"relive", "revisit", "replay", "re-live", "re-experience"})
_TIMES = frozenset({"night", "day", "evening", "morning", "afternoon", "moment", "time", "week",
                    "weekend", "summer", "winter", "year", "minute", "hour", "date", "birthday",
                    "christmas", "spring", "autumn", "fall", "holiday", "trip", "journey"})
_DEFINITE = frozenset({"the", "that", "those"})
_GOOD = frozenset({"safe", "calm", "happy", "peaceful", "loved", "content", "relaxed", "strong",
                   "proud", "joyful", "warm", "cared", "comfortable", "free", "at ease"})

_THIRD = frozenset({"he", "she", "they", "him", "her", "them"})
_REACH = (("get", "to"), ("get", "at"), ("lay", "a", "finger"), ("lay", "a", "hand"),
          ("lay", "hands"), ("get", "his", "hands"), ("get", "her", "hands"),
          ("get", "their", "hands"), ("come", "near"), ("come", "for"), ("reach", "you"))
_REASSURE_HARM = frozenset({"hurt", "harm", "hit", "beat", "kick", "punch", "slap", "smack",
                            "grab", "push", "shove", "drag", "attack", "abuse", "shout", "yell",
                            "scream", "swear", "frighten", "scare", "threaten", "catch", "take",
                            "touch"})
_BETWEEN = frozenset({"can't", "cannot", "won't", "will", "can", "could", "couldn't", "never",
                      "not", "ever", "again", "shall", "shan't", "mustn't", "wouldn't",
                      "doesn't", "didn't", "don't", "no", "longer", "any", "more", "n't"})
_LET = frozenset({"let", "allow", "make"})


def _low(words: Sequence[Token], i: int) -> str:
    return words[i].lower if 0 <= i < len(words) else ""


def _starts(words: Sequence[Token], i: int, phrase: Sequence[str]) -> bool:
    return all(k in lemmas(_low(words, i + n)) or _low(words, i + n) == k
               for n, k in enumerate(phrase))


def _confinement(words: Sequence[Token]) -> list[Token] | None:
    lowered = [w.lower for w in words]
    for i, word in enumerate(words):
        found = lemmas(word.text) & _CONFINED
        if not found or "if" in lowered[:i]:
            continue  # "if you feel stuck, open your eyes": a reassurance, not a scene
        after = _low(words, i + 1)
        # a person who is confined: "you are locked in", "I was stuck", "you feel trapped"
        passive = _low(words, i - 1) in _BE_GET or _low(words, i - 2) in _BE_GET
        confined = (passive and is_participle(word.text)) or word.lower in {"stuck", "trapped"}
        if confined and _confined_one(words, i) and (not found <= _NEEDS_IN or after in _IN):
            return [word]
        # someone confines a person: "they shut me in", "kept her in", "trapped you"
        if after in _PEOPLE and (not found <= _NEEDS_IN or _low(words, i + 2) in _IN):
            return [word, words[i + 1]]
    # a person who cannot get out: "you can't get out", "the doors won't open"
    for i, word in enumerate(words):
        if word.lower in _CANNOT and (_low(words, i + 1) in _NOT or word.lower.endswith("n't")
                                      or word.lower == "cannot"):
            rest = list(words[i + 1 : i + 5])
            verbs = [w for w in rest if lemmas(w.text) & _ESCAPE_VERBS]
            person = set(lowered[max(0, i - 3) : i]) & _SUBJECT_PEOPLE
            exit_ = set().union(*(lemmas(w) for w in lowered[max(0, i - 3) : i])) & _EXITS
            if person and verbs and any(w.lower in _ESCAPE for w in rest[rest.index(verbs[0]):]):
                return [word, verbs[0]]
            if exit_ and any(w.lower == "open" for w in rest[:2]):
                return [word]
    return None


def _confined_one(words: Sequence[Token], i: int) -> bool:
    """Whether who is confined at ``i`` is a person.

    The first word before it, past a verb of being and its adverbs, is one ("you feel so
    trapped", "I was stuck"); in "you notice morning light trapped in the dewdrops" it is the
    light.
    """
    j = i - 1
    while j >= 0 and j > i - 6 and (words[j].lower in _BE_GET or words[j].lower in _DEGREE):
        j -= 1
    if j < 0:
        return False
    return bool(({words[j].lower} | lemmas(words[j].text)) & (_SUBJECT_PEOPLE | _PEOPLE))


def _pursuit(words: Sequence[Token]) -> list[Token] | None:
    pursuer = next((i for i, w in enumerate(words) if lemmas(w.text) & _PURSUERS
                    and not (i and _low(words, i - 1) in {"your", "my", "our"})), None)
    if pursuer is None:
        return None
    for i in range(pursuer + 1, len(words)):
        for place in _PURSUIT_PLACES:
            if not _starts(words, i, place):
                continue
            target = _low(words, i + len(place))
            if place[-1] == "heels" or place[-1] == "tail" or target in _PURSUED:
                return [words[pursuer], words[i]]
    return None


def _injury(words: Sequence[Token]) -> list[Token] | None:
    for i, word in enumerate(words):
        found = lemmas(word.text)
        if not found & (_INJURE | _STRIKE) or set(w.lower for w in words[max(0, i - 3) : i]) & (
                _SELF) or all(w.lower in _LEAD for w in words[:i]):
            continue  # "you scratch your nose", "snap your fingers": the listener's own act
        if set().union(*(lemmas(w.text) for w in words[max(0, i - 4) : i])) & _ELEMENTS:
            continue  # the weather, the sea or the sand
        if not found & _INJURE and not _struck(words, i):
            continue
        k = i + 1
        if _low(words, k) in {"at", "into", "on", "onto"}:
            k += 1
        if _low(words, k) in _PEOPLE:
            return [word, words[k]]
        if _low(words, k) in POSSESSIVES and lemmas(_low(words, k + 1)) & _ALL_BODY:
            return [word, words[k + 1]]
    return None


def _struck(words: Sequence[Token], i: int) -> bool:
    """Whether the blow at ``i`` is given by a person, a figure or a vehicle, not in play."""
    before = set().union(*(lemmas(w.text) for w in words[max(0, i - 4) : i]))
    if not before & _STRIKERS or set().union(*(lemmas(w.text) for w in words[:i])) & _ELEMENTS:
        return False  # "the smell of bread hits you"; "the waves roll in; they hit your legs"
    if {w.lower for w in words} & _PLAY:
        return False  # "your friend hits you gently on the arm, laughing"
    rest = [w.lower for w in words[i + 2 : i + 4]]
    return not ("beat" in lemmas(words[i].text) and rest[:1] and rest[0] in _CONTEST)


def _distress(words: Sequence[Token]) -> list[Token] | None:
    for i, word in enumerate(words):
        if not lemmas(word.text) & _VEHICLES:
            continue
        for k in range(i + 1, min(i + 2 + _NEAR, len(words))):
            found = lemmas(words[k].text)
            if found & _DISTRESS:
                return [word, words[k]]
            around = [w.lower for w in words[max(k - 3, 0) : k + 4]]
            after = [w.lower for w in words[k + 1 : k + 4]]
            gentle = set(around) & _GENTLE or ("a", "little") in itertools.pairwise(after)
            if found & _MOTION and set(around) & _OUT_OF_CONTROL and not gentle:
                return [word, words[k]]
    return None


def _re_entry(words: Sequence[Token]) -> list[Token] | None:
    lowered = [w.lower for w in words]
    if set(lowered) & _GOOD:
        return None  # "think back to a time when you felt safe": a resource
    for i, word in enumerate(words):
        found = lemmas(word.text)
        if found & _RELIVE and _low(words, i + 1) in _DEFINITE | {"it", "what"}:
            return [word]
        if not found & _RETURN:
            continue
        window = lowered[i + 1 : i + 8]
        if "back" not in window[:4] and not found & {"return", "travel"}:
            continue
        for k, low in enumerate(window[:-1]):
            if low != "to":
                continue
            nxt = window[k + 1]
            if nxt == "when" or (nxt in _DEFINITE and k + 2 < len(window)
                                 and lemmas(window[k + 2]) & _TIMES):
                return [word, words[i + 1 + k + 1]]
    return None


def _reassured_from(words: Sequence[Token]) -> list[Token] | None:
    lowered = [w.lower for w in words]
    if not any(w in _NOT or w.endswith("n't") or w in {"cannot", "nobody"} for w in lowered):
        return None
    for i, low in enumerate(lowered):
        if low not in _THIRD:
            continue
        k = i + 1
        while k < len(words) and lowered[k] in _BETWEEN:
            k += 1
        agent = low in {"he", "she", "they"} or (i and lowered[i - 1] in _LET)
        if not agent or k >= len(words):
            continue
        if lemmas(words[k].text) & _REASSURE_HARM and _low(words, k + 1) in {"you", "your"}:
            return [words[i], words[k]]
        if any(_starts(words, k, reach) for reach in _REACH):
            return [words[i], words[k]]
    return None


_RE_ENTRY = "an instruction to go back into a memory"
_BE = frozenset({"am", "is", "are", "was", "were", "be", "been", "'re", "'m", "weren't",
                 "wasn't"})


def _named_by_deed(words: Sequence[Token], tokens: list[Token]) -> bool:
    """Whether a re-entry's time is named by what the listener did.

    "To the day you got your first puppy" is a resource memory, or a loss: worth a look by the
    therapist (a warning), not a block.
    """
    if len(tokens) < 2 or tokens[1].lower not in _DEFINITE:
        return False
    k = next(i for i, w in enumerate(words) if w is tokens[1]) + 2
    if _low(words, k) in {"that", "when"}:
        k += 1
    return _low(words, k) in {"you", "you'd"} and _low(words, k + 1) not in _BE | {""}


_CHECKS = (
    ("being trapped or confined", _confinement),
    ("being followed or pursued", _pursuit),
    ("an injury done to a person", _injury),
    ("a vehicle or boat in distress", _distress),
    (_RE_ENTRY, _re_entry),
    ("the perpetrator, in a reassurance", _reassured_from),
)


def danger(sentence: Sentence) -> tuple[str, list[Token]] | None:
    """What danger the sentence tells, and its words; None when it tells none."""
    words = sentence.words
    for what, check in _CHECKS:
        if (tokens := check(words)) is not None:
            return what, tokens
    return None


def check_home_danger(doc: Document) -> Iterator[LintFinding]:
    """Confinement, pursuit, injury, vehicles in distress, re-entry and the perpetrator."""
    reported: set[object] = set()
    for sentence in doc.sentences:
        found = danger(sentence)
        if found is None:
            continue
        what, tokens = found
        severity: Literal["error", "warning"] = "warning" if what == _RE_ENTRY and _named_by_deed(
            sentence.words, tokens) else "error"
        origin = doc.origin(sentence, tokens)
        line_origin = doc.source.template_line(sentence.line)
        if not origin.field and line_origin.template_file is not None and (
                line_origin.template_file.name == "_base.j2"):
            continue
        place = new_place(reported, origin, sentence.line)
        if place is None:
            continue
        advice = ("check that it is a memory the client chose as a resource" if severity ==
                  "warning" else "keep it for the session")
        yield finding(
            "trauma-narrative", severity,
            f"{place}: {what} in a {doc.kind} script; a home track holds no threat and no "
            f"trauma content ({advice})",
            origin, sentence.line, check="danger",
        )
