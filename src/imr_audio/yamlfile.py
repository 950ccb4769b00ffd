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

__all__ = ["did_you_mean", "read_yaml"]


class _Loader(yaml.SafeLoader):
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
    """Parse YAML ``text``; a malformed document is one ``error`` naming ``where`` and the line."""
    try:
        return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = exc.problem or exc.context or "invalid syntax"
        start = exc.context_mark  # e.g. where an unclosed bracket or quote was opened
        if exc.problem and exc.context and start and mark and start.line != mark.line:
            problem += f"; {exc.context} that starts on line {start.line + 1}"
        raise error(f"{where}: {at}malformed YAML ({problem})") from None
    except yaml.YAMLError:
        raise error(f"{where}: malformed YAML") from None


def read_yaml(path: Path, error: type[ImrAudioError] = ClientProfileError) -> Any:
    """Read a YAML file, turning every failure into a one-line ``error`` naming file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot read file ({type(exc).__name__})") from None
    return parse_yaml(text, str(path), error)
