"""A commented client-profile skeleton for one template: every field it needs, left blank.

``imr-audio templates show ID --skeleton`` prints it. Filled in (every ``''`` replaced, the
list items written), it validates against the template; left as it is, loading it lists every
blank at once. Optional fields are commented out with their default, so they can be switched on
by removing the ``#``.
"""

from __future__ import annotations

import textwrap
from typing import Any

import yaml

from imr_audio.authoring.templates import TemplateSpec, VariableSpec
from imr_audio.profile import ELIGIBILITY_FLAGS

__all__ = ["profile_skeleton"]

_WIDTH = 92

_HEADER = """\
Client profile for the template '{id}' ({title}).
Fill in every '' and every list item; lines starting with '#' are notes (optional fields
are commented out: remove the '#' to use one). Check it with:
  imr-audio preview {id} --client THIS-FILE
A profile is health data: keep it in the clinic's folder, readable by you only."""

_CORE = (
    ("id", "''", "Pseudonymous id, used in file names (never the client's name): 2-40 "
     "lower-case letters, digits, '-' or '_', e.g. c-017."),
    ("preferred_name", "''", "How the script addresses the client: a first or chosen name "
     "(1-60 characters)."),
    ("avoid", "[]", "Words and themes this client's tracks must not contain (trigger words), "
     "e.g. [water, heights]; the lint checks the script and the soundscape against them."),
)

_PREFERENCES = (
    ("voice", "calm", "voice profile ('imr-audio voices list')"),
    ("soundscape", "rain-light", "bed or preset ('imr-audio soundscapes list')"),
    ("length", "'10m'", "track length in quotes: '10m', '600s' or '12:30'"),
    ("experienced_breathing", "false", "true for a client used to paced breathing"),
)


def profile_skeleton(spec: TemplateSpec) -> str:
    """A commented YAML profile skeleton with every field ``spec`` reads."""
    lines = [_comment(_HEADER.format(id=spec.id, title=spec.title), ""), ""]
    for name, blank, note in _CORE:
        lines += [_comment(note, ""), f"{name}: {blank}"]
    lines += [
        _comment("Spoken respellings, optional, e.g. 'Siobhan: shiv-awn'.", ""),
        "pronunciations: {}",
        _comment("Set a flag to true when it applies: a home track is then refused (this "
                 "material belongs in session).", ""),
        "eligibility:",
        *(f"  {flag}: false" for flag in ELIGIBILITY_FLAGS),
        _comment("Optional preferences (remove the '#' to use one).", ""),
        "preferences:",
        *(f"  # {key}: {example}  # {note}" for key, example, note in _PREFERENCES),
    ]
    sections: dict[str, list[VariableSpec]] = {}
    for var in spec.variables:
        sections.setdefault(var.name.split(".", 1)[0], []).append(var)
    for section, variables in sections.items():
        lines += ["", f"{section}:"]
        for var in variables:
            lines += _variable_lines(var)
    return "\n".join(lines) + "\n"


def _variable_lines(var: VariableSpec) -> list[str]:
    """A variable's comment and its blank (commented out when it is optional)."""
    leaf = var.name.split(".", 1)[1] if "." in var.name else var.name
    indent = "  " if "." in var.name else ""
    notes = [" ".join(var.description.split()), _rule(var)]
    if var.example is not None:
        notes.append(f"Example: {_inline(var.example)}")
    lines = [_comment(" ".join(n for n in notes if n), indent)]
    if var.required:
        if var.type == "list":
            lines.append(f"{indent}{leaf}:")
            lines += [f"{indent}  - ''"] * max(var.min_length or 1, 1)
        else:
            lines.append(f"{indent}{leaf}: ''")
    else:
        lines.append(f"{indent}# {leaf}: {_inline(var.default if var.default is not None else '')}")
    return lines


def _rule(var: VariableSpec) -> str:
    """What the value must be, in words."""
    need = "Required" if var.required else "Optional"
    if var.type == "list":
        count = _between(var.min_length, var.max_length, "items")
        return f"{need}: a list{count} of short phrases."
    if var.type == "choice":
        return f"{need}: one of {', '.join(var.choices)}."
    if var.type == "number":
        return f"{need}: a number."
    return f"{need}: text{_between(var.min_length, var.max_length, 'characters')}."


def _between(low: int | None, high: int | None, unit: str) -> str:
    if low is not None and high is not None:
        return f" of {low}-{high} {unit}"
    if low is not None:
        return f" of at least {low} {unit}"
    if high is not None:
        return f" of at most {high} {unit}"
    return ""


def _inline(value: Any) -> str:
    """``value`` as one line of YAML flow style (text with its line breaks folded)."""
    if isinstance(value, str):
        value = " ".join(value.split())
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10**6)
    return text.strip().removesuffix("...").strip()


def _comment(text: str, indent: str) -> str:
    """``text`` as ``#`` comment lines at ``indent``, wrapped."""
    out: list[str] = []
    for paragraph in text.split("\n"):
        wrapped = textwrap.wrap(paragraph, _WIDTH - len(indent) - 2) or [""]
        out += [f"{indent}# {line}".rstrip() for line in wrapped]
    return "\n".join(out)
