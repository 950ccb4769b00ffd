"""Reading the YAML files people write: profiles, schemas, presets, manifests and lexicons.

Every failure becomes one line naming the file (and line and column where YAML gives them).
Only ``true`` and ``false`` are booleans (YAML 1.2), so a cue word ``on`` or a name ``No``
stays text.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from imr_audio.errors import ClientProfileError, ImrAudioError

__all__ = [
    "MAX_DEPTH",
    "MAX_NODES",
    "MAX_YAML_BYTES",
    "did_you_mean",
    "read_text_file",
    "read_yaml",
]

MAX_YAML_BYTES = 1 << 20
"""Largest YAML file read (1 MiB): a profile, manifest or presets file is a few kilobytes."""
MAX_DEPTH = 64
"""Deepest nesting of lists and mappings read (deeper input would exhaust the parser's stack)."""
MAX_NODES = 100_000
"""Most values a document may hold once its aliases are expanded (an alias bomb has billions)."""


# libyaml's parser where PyYAML was built with it (its wheels are): the same documents, events
# and values as the pure-Python one (the constructor stays Python's safe one), about ten times
# faster. A profile is read about 8 ms -> 1 ms; the studio reads every profile per page view.
_Base: Any = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader


class _Loader(_Base):
    """Safe YAML loading with YAML 1.2 booleans."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def did_you_mean(name: str, candidates: Sequence[str]) -> str:
    """Return a ``; did you mean 'x'?`` hint for a near-miss name, or an empty string."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.75)
    return f"; did you mean '{close[0]}'?" if close else ""


def parse_yaml(text: str, where: str, error: type[ImrAudioError] = ClientProfileError) -> Any:
    """Parse YAML ``text``; a malformed document is one ``error`` naming ``where`` and the line.

    Size, nesting depth and alias expansion are bounded (:data:`MAX_YAML_BYTES`,
    :data:`MAX_DEPTH`, :data:`MAX_NODES`) before anything is built.
    """
    if len(text) > MAX_YAML_BYTES:
        raise error(f"{where}: too large for a YAML file here (at most {MAX_YAML_BYTES >> 20} MB)")
    try:
        _check_bounds(text, where, error)
        return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        if exc.problem == "exceeded maximum nesting depth":  # libyaml's scanner ran ahead of us
            raise error(f"{where}: nested more than {MAX_DEPTH} levels deep") from None
        mark = exc.problem_mark or exc.context_mark
        at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = exc.problem or exc.context or "invalid syntax"
        start = exc.context_mark  # e.g. where an unclosed bracket or quote was opened
        if exc.problem and exc.context and start and mark and start.line != mark.line:
            problem += f"; {exc.context} that starts on line {start.line + 1}"
        raise error(f"{where}: {at}malformed YAML ({problem})") from None
    except yaml.YAMLError:
        raise error(f"{where}: malformed YAML") from None


def _check_bounds(text: str, where: str, error: type[ImrAudioError]) -> None:
    """Walk the document's events (no recursion): no deep nesting, alias bomb or repeated key.

    A key given twice in one mapping is refused (YAML would keep the last one silently).

    Each value counts once, and an alias counts as many values as what it names, so the count
    is the size of the document once expanded. A repeated key is named by its dotted path
    unless it is under ``pronunciations``, whose keys are a client's words.
    """
    sizes: dict[str, int] = {}
    stack: list[tuple[str | None, int, _Keys | _Items]] = []  # open collections
    count = 0
    for event in yaml.parse(text, Loader=_Loader):
        keys = stack[-1][2] if stack else None
        if isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent, yaml.CollectionStartEvent)) \
                and keys is not None:
            keys.step(event, where, error)
        if isinstance(event, yaml.CollectionStartEvent):
            count += 1
            # keys are named by their path from the top ("jobs (item 2).templates")
            path = keys.child() if keys is not None else ""
            inner = _Keys(path) if isinstance(event, yaml.MappingStartEvent) else _Items(path)
            stack.append((event.anchor, count, inner))
            if len(stack) > MAX_DEPTH:
                raise error(f"{where}: nested more than {MAX_DEPTH} levels deep")
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, start, _ = stack.pop()
            if anchor is not None:
                sizes[anchor] = count - start + 1
        elif isinstance(event, yaml.ScalarEvent):
            count += 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.AliasEvent):
            count += sizes.get(event.anchor or "", 1)
        if count > MAX_NODES:
            raise error(f"{where}: holds more than {MAX_NODES} values once its aliases are "
                        "expanded (an alias or anchor repeated too often)")


class _Items:
    """The items of one sequence being read, so that a mapping in one is named by its place."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        """Path of the sequence ("" at the top), None where keys must not be named."""
        self.count = 0

    def step(self, event: yaml.Event, where: str, error: type[ImrAudioError]) -> None:
        """Take the next item."""
        self.count += 1

    def child(self) -> str | None:
        """Path of the current item."""
        if self.path is None:
            return None
        return f"{self.path} (item {self.count})" if self.path else f"item {self.count}"


class _Keys:
    """The keys seen so far in one mapping being read, to refuse a key given twice."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        """Dotted path of the mapping ("" at the top), None where keys must not be named."""
        self.seen: dict[str, int] = {}
        self.key_next = True
        self.key: str | None = None

    def step(self, event: yaml.Event, where: str, error: type[ImrAudioError]) -> None:
        """Take the next key or value event of this mapping."""
        if not self.key_next:
            self.key_next = True  # a value (a collection's value ends later; keys wait for it)
            return
        self.key_next = False
        self.key = event.value if isinstance(event, yaml.ScalarEvent) else None
        if self.key is None:
            return
        line = event.start_mark.line + 1 if event.start_mark else 0
        if self.key in self.seen:
            named = self.path is not None and not self.path.startswith("pronunciations")
            what = (f"{self.path + '.' if self.path else ''}{self.key}" if named
                    else f"a key{' of ' + self.path if self.path else ''}")
            raise error(f"{where}: line {line}: {what} is given twice (first on line "
                        f"{self.seen[self.key]}); keep one")
        self.seen[self.key] = line

    def child(self) -> str | None:
        """Path of a mapping that is the value of the current key."""
        if self.path is None or self.key is None:
            return None
        return f"{self.path}.{self.key}" if self.path else self.key


def read_text_file(path: Path, error: type[ImrAudioError], kind: str = "a YAML file",
                   encoding: str = "utf-8") -> str:
    """The text of a file a person wrote (a profile, manifest, presets or theme map).

    One line naming the file for each failure: missing, unreadable, not ``encoding``, or over
    :data:`MAX_YAML_BYTES` (``kind`` says what it is in that message), checked before reading.
    """
    try:
        if path.stat().st_size > MAX_YAML_BYTES:
            raise error(f"{path}: too large for {kind} here (at most {MAX_YAML_BYTES >> 20} MB)")
        return path.read_text(encoding=encoding)
    except FileNotFoundError:
        raise error(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot read file ({type(exc).__name__})") from None


def read_yaml(path: Path, error: type[ImrAudioError] = ClientProfileError) -> Any:
    """Read a YAML file, turning every failure into a one-line ``error`` naming file and line."""
    return parse_yaml(read_text_file(path, error), str(path), error)
