"""Client profiles: the YAML file a therapist keeps for each client.

A profile is health data. Nothing here logs or echoes its values: errors name the file, the line
and the field, never what the field holds.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imr_audio.errors import ClientProfileError, TrackLengthError
from imr_audio.length import parse_length
from imr_audio.voice.lexicon import entry_problem
from imr_audio.yamlfile import did_you_mean, read_yaml

__all__ = [
    "ELIGIBILITY_FLAGS",
    "ClientProfile",
    "ProfileCheck",
    "check_eligibility",
    "load_client_profile",
    "profile_error",
]

CLIENT_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{1,39}$")
"""A pseudonymous client id: lower-case letters, digits, ``-`` and ``_``; 2-40 characters."""

ELIGIBILITY_FLAGS = ("psychosis", "severe_dissociation", "acute_suicidality", "acute_crisis")
"""Profile flags that block rendering a home track: this material belongs in session."""

_CORE_FIELDS = ("id", "preferred_name", "pronunciations", "avoid", "eligibility", "preferences")
_PREFERENCE_FIELDS = ("voice", "soundscape", "length", "experienced_breathing")
_PREFERENCE_TYPES: tuple[tuple[str, type | tuple[type, ...], str], ...] = (
    ("voice", str, "the name of a voice profile (imr-audio voices list)"),
    ("soundscape", str, "the name of a soundscape or preset, or an audio file"),
    ("experienced_breathing", bool, "true or false"),
)
"""The type each preference must have (``length`` has its own check)."""


@dataclass(frozen=True)
class ClientProfile:
    """A validated client profile."""

    id: str
    """Pseudonymous id, used in output file names (never the client's name)."""
    preferred_name: str
    """How the script addresses the client."""
    source: str
    """Where the profile came from, for messages: its YAML file, or a label (e.g. ``form``)."""
    avoid: tuple[str, ...] = ()
    """Trigger words and themes the script and soundscape must not contain."""
    pronunciations: Mapping[str, str] = field(default_factory=dict)
    """Spoken respellings of words, e.g. a name spelled as it sounds."""
    eligibility: Mapping[str, bool] = field(default_factory=dict)
    """Flags from :data:`ELIGIBILITY_FLAGS`; any set to true blocks rendering."""
    preferences: Mapping[str, Any] = field(default_factory=dict)
    """Voice, soundscape and length preferences."""
    details: Mapping[str, Any] = field(default_factory=dict)
    """Per-script sections (``safe_place``, ``container`` ...) that templates read."""

    @classmethod
    def from_mapping(
        cls,
        data: Any,
        source: str = "profile",
        known_fields: Collection[str] = (),
        also: ProfileCheck | None = None,
    ) -> ClientProfile:
        """Validate ``data`` (a profile's fields, e.g. from a form) into a profile.

        Every problem is reported at once, one ``<source>: <field>: <problem>`` line each (a
        :class:`ClientProfileError`). ``known_fields`` are the dotted fields that templates read
        (``safe_place.cue_word`` ...); when given, any other field is reported, with a "did you
        mean" hint for a near miss. ``also`` adds the problems of a further check (a template's
        variables), so that one unknown field does not hide the rest.
        """
        return _validated(data, source, known_fields, also)

    def detail(self, dotted: str) -> Any:
        """The value of the dotted field ``dotted`` (``safe_place.cue_word``); None if missing."""
        node: Any = self.details
        for part in dotted.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return None
            node = node[part]
        return node


ProfileCheck = Callable[["ClientProfile"], Sequence[str]]
"""A further check of a profile: its problems, one ``<source>: <field>: <problem>`` each."""


def load_client_profile(
    path: str | Path, known_fields: Collection[str] = (), also: ProfileCheck | None = None
) -> ClientProfile:
    """Read and validate a client profile file, reporting every problem at once.

    See :meth:`ClientProfile.from_mapping`; messages name the file.
    """
    path = Path(path)
    return _validated(read_yaml(path), str(path), known_fields, also)


def _validated(
    data: Any, path: str, known_fields: Collection[str], also: ProfileCheck | None = None
) -> ClientProfile:
    if not isinstance(data, dict):
        raise ClientProfileError(f"{path}: a client profile must be a mapping of fields")
    problems: list[str] = []

    def problem(field_name: str, message: str) -> None:
        problems.append(f"{path}: {field_name}: {message}")

    for field_name, char in _hidden_characters(data):
        problem(field_name, f"holds a control or text-direction character (U+{ord(char):04X}); "
                "retype the value")

    client_id = data.get("id")
    if client_id is None:
        problem("id", "required field missing")
    elif not isinstance(client_id, str) or not CLIENT_ID_PATTERN.match(client_id):
        problem("id", "must be a pseudonymous id of 2-40 lower-case letters, digits, '-' or '_'")
    name = data.get("preferred_name")
    if name is None:
        problem("preferred_name", "required field missing")
    elif not isinstance(name, str) or not name.strip() or len(name) > 60:
        problem("preferred_name", "must be text of 1-60 characters")
    avoid = data.get("avoid", [])
    if not isinstance(avoid, list) or not all(isinstance(a, str) and a.strip() for a in avoid):
        problem("avoid", "must be a list of words or themes")
        avoid = []
    pronunciations = data.get("pronunciations", {}) or {}
    if not isinstance(pronunciations, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in pronunciations.items()
    ):
        problem("pronunciations", "must map words to how they are said")
        pronunciations = {}
    for number, (word, spoken) in enumerate(pronunciations.items(), start=1):
        bad = entry_problem(word, spoken)
        if bad:  # the entry's number, not its word: the word may be the client's name
            problem(f"pronunciations (entry {number})", bad)
    eligibility = data.get("eligibility", {}) or {}
    if not isinstance(eligibility, dict):
        problem("eligibility", "must be a mapping of flags to true or false")
        eligibility = {}
    for flag, value in eligibility.items():
        if flag not in ELIGIBILITY_FLAGS:
            problem(
                f"eligibility.{flag}", "unknown flag" + did_you_mean(str(flag), ELIGIBILITY_FLAGS)
            )
        elif not isinstance(value, bool):
            problem(f"eligibility.{flag}", "must be true or false")
    preferences = data.get("preferences", {}) or {}
    if not isinstance(preferences, dict):
        problem("preferences", "must be a mapping")
        preferences = {}
    for key in preferences:
        if key not in _PREFERENCE_FIELDS:
            problem(
                f"preferences.{key}", "unknown field" + did_you_mean(str(key), _PREFERENCE_FIELDS)
            )
    for key, wanted, words in _PREFERENCE_TYPES:
        value = preferences.get(key)
        if value is not None and not isinstance(value, wanted):
            problem(f"preferences.{key}", f"must be {words}")
    if preferences.get("length") is not None and not _is_length(preferences["length"]):
        problem("preferences.length", "must be a length in quotes, e.g. '10m', '600s' or '12:30'")
    # A section left empty (every line under it commented out) holds nothing, as if left out.
    details = {str(k): v for k, v in data.items() if k not in _CORE_FIELDS and v is not None}
    if known_fields:
        _check_known(details, frozenset(known_fields), problem)
    profile = ClientProfile(
        id=str(client_id),
        preferred_name=str(name).strip(),
        source=path,
        avoid=tuple(a.strip() for a in avoid),
        pronunciations=dict(pronunciations),
        eligibility={str(k): bool(v) for k, v in eligibility.items()},
        preferences=dict(preferences),
        details=details,
    )
    if also is not None:
        problems.extend(p for p in also(profile) if p not in problems)
    if problems:
        raise profile_error(path, problems)
    return profile


def profile_error(source: str, problems: Sequence[str]) -> ClientProfileError:
    """One error for a profile's ``problems``.

    A lone problem is its own line; several get a first line saying how many follow, then one
    a line.
    """
    if len(problems) == 1:
        return ClientProfileError(problems[0])
    return ClientProfileError(
        f"{source}: {len(problems)} problems, one a line below:\n  " + "\n  ".join(problems)
    )


_ALLOWED_CONTROLS = frozenset("\t\n\r")
_DIRECTION_MARKS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    "\u2028\u2029\ufeff\ufff9\ufffa\ufffb"
)
"""Bidirectional overrides, embeddings, isolates and marks, line and paragraph separators, a
stray byte-order mark and interlinear annotation: invisible, and they reorder or hide text in
transcripts and captions."""


def _hidden_characters(data: Any, field_name: str = "") -> Iterator[tuple[str, str]]:
    """``(field, character)`` for the first control or direction character of each value.

    NUL and the other C0/C1 controls (tab and line breaks aside) and the characters of
    :data:`_DIRECTION_MARKS`; the field is named, never the value.
    """
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _hidden_characters(value, f"{field_name}.{key}" if field_name else str(key))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            yield from _hidden_characters(item, f"{field_name}[{index}]")
    elif isinstance(data, str):
        for char in data:
            if char in _DIRECTION_MARKS or (
                unicodedata.category(char) == "Cc" and char not in _ALLOWED_CONTROLS
            ):
                yield field_name, char
                return


def _is_length(value: object) -> bool:
    """Whether ``value`` is a track length as text (a bare YAML number has no clear unit)."""
    if not isinstance(value, str):
        return False
    try:
        parse_length(value)
    except TrackLengthError:
        return False
    return True


def _check_known(
    details: Mapping[str, Any], known: frozenset[str], problem: Callable[[str, str], None]
) -> None:
    """Report fields that no template reads, with a hint for near misses."""
    sections = sorted({name.split(".", 1)[0] for name in known})
    for key, value in details.items():
        if key not in sections:
            problem(key, "unknown field" + did_you_mean(key, (*_CORE_FIELDS, *sections)))
        elif isinstance(value, Mapping):
            fields = sorted(n.split(".", 1)[1] for n in known if n.startswith(f"{key}."))
            for sub in value:
                if f"{key}.{sub}" not in known:
                    problem(f"{key}.{sub}", "unknown field" + did_you_mean(str(sub), fields))
        else:
            problem(key, "must be a mapping of fields")


def check_eligibility(profile: ClientProfile) -> None:
    """Refuse a home track for a client whose profile sets an eligibility flag."""
    flagged = [flag for flag in ELIGIBILITY_FLAGS if profile.eligibility.get(flag)]
    if flagged:
        raise ClientProfileError(
            f"{profile.source}: eligibility.{flagged[0]} is set: this material should be used in "
            "session with the therapist, not rendered as a home track"
        )
