"""Client forms: the fields generated from the profile format and the templates' schemas.

A form's values become a profile mapping (:func:`profile_data`), which the library validates;
its one-line problems are put back next to the fields they name (:func:`problems_by_field`).
Nothing here holds or logs a value beyond the request that carries it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from imr_audio.authoring.templates import VariableSpec
from imr_audio.profile import ELIGIBILITY_FLAGS
from imr_audio.workspace import Workspace

__all__ = [
    "FieldGroup",
    "FormField",
    "FormValues",
    "client_groups",
    "form_values",
    "problems_by_field",
    "profile_data",
    "split_problems",
    "variable_field",
    "variables_data",
]

_WIDE_TEXT_CHARS = 80  # a text that may be longer than this gets a text area


class FormValues(Protocol):
    """What a parsed form offers (Starlette's ``FormData``)."""

    def get(self, key: str, /) -> Any:
        """The last value of ``key``, or None."""

    def getlist(self, key: str, /) -> list[Any]:
        """Every value of ``key``."""


@dataclass(frozen=True)
class FormField:
    """One control of a form."""

    name: str
    """The profile's dotted field name (also the control's name)."""
    label: str
    """Visible label."""
    kind: str
    """``text``, ``textarea``, ``list``, ``number``, ``choice``, ``flag`` or ``pairs``."""
    description: str = ""
    """What to write, from the template's schema."""
    example: str = ""
    """A fictional example value, as text."""
    choices: tuple[str, ...] = ()
    """Allowed values of a ``choice`` (the first may be blank: none chosen)."""
    required: bool = False
    """Whether a template needs it."""

    @property
    def dom_id(self) -> str:
        """An id for the control, from its name."""
        return "f-" + re.sub(r"[^a-z0-9_-]", "-", self.name.lower())


@dataclass(frozen=True)
class FieldGroup:
    """Fields shown together under a heading."""

    title: str
    """The heading."""
    fields: tuple[FormField, ...]
    """Its fields in order."""


def _example(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    return " ".join(str(value).split())


def variable_field(var: VariableSpec) -> FormField:
    """The control for a template variable."""
    kind = var.type
    if kind == "text" and (var.max_length is None or var.max_length > _WIDE_TEXT_CHARS):
        kind = "textarea"
    choices = ("", *var.choices) if var.type == "choice" else ()
    return FormField(var.name, var.name, kind, " ".join(var.description.split()),
                     _example(var.example), choices, var.required)


def client_groups(workspace: Workspace) -> tuple[FieldGroup, ...]:
    """Every field of a client form: the profile's own, then each section templates read."""
    voices = ("", *workspace.voices.names())
    beds = ("", *workspace.soundscapes.names())
    core = FieldGroup("Client", (
        FormField("id", "Pseudonymous id", "text",
                  "2-40 lower-case letters, digits, '-' or '_'; never the client's name. "
                  "Names the profile file and the tracks.", "c-017", required=True),
        FormField("preferred_name", "Preferred name", "text",
                  "How the scripts address the client.", "Alex", required=True),
        FormField("avoid", "Avoid-list", "list",
                  "Trigger words and themes no script or soundscape may contain.", "heights"),
        FormField("pronunciations", "Pronunciations", "pairs",
                  "A word and how it is said (a respelling).", "Siobhan = shiv awn"),
    ))
    flags = FieldGroup("Eligibility", tuple(
        FormField(f"eligibility.{flag}", flag.replace("_", " "), "flag",
                  "Set: no home track is rendered for this client.")
        for flag in ELIGIBILITY_FLAGS))
    preferences = FieldGroup("Preferences", (
        FormField("preferences.voice", "Voice", "choice", choices=voices),
        FormField("preferences.soundscape", "Soundscape", "choice", choices=beds),
        FormField("preferences.length", "Length", "text",
                  "Track length, e.g. 10m, 600s or 12:30.", "10m"),
        FormField("preferences.experienced_breathing", "Experienced with paced breathing",
                  "flag"),
    ))
    sections: dict[str, dict[str, FormField]] = {}
    for spec in workspace.templates.specs():
        for var in spec.variables:
            section = var.name.split(".")[0]
            fields = sections.setdefault(section, {})
            if var.name not in fields:
                fields[var.name] = variable_field(var)
    details = tuple(
        FieldGroup(section.replace("_", " ").capitalize(), tuple(fields.values()))
        for section, fields in sorted(sections.items())
    )
    return (core, flags, preferences, *details)


def _number(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text  # left as typed: the validation says it must be a number


def _put(data: dict[str, Any], name: str, value: Any) -> None:
    *sections, leaf = name.split(".")
    target = data
    for section in sections:
        inner = target.get(section)
        if not isinstance(inner, dict):
            inner = target[section] = {}
        target = inner
    target[leaf] = value


def _drop(data: dict[str, Any], name: str) -> None:
    *sections, leaf = name.split(".")
    target: Any = data
    for section in sections:
        target = target.get(section) if isinstance(target, dict) else None
    if isinstance(target, dict):
        target.pop(leaf, None)


def _field_value(form: FormValues, field: FormField) -> Any:
    """The field's value from the form; None when left blank."""
    if field.kind == "flag":
        return form.get(field.name) == "on"
    if field.kind == "list":
        items = [str(item).strip() for item in form.getlist(field.name)]
        return [item for item in items if item] or None
    text = str(form.get(field.name) or "").strip()
    if not text:
        return None
    return _number(text) if field.kind == "number" else text


def _set_fields(data: dict[str, Any], form: FormValues, fields: Iterable[FormField]) -> None:
    for field in fields:
        value = _field_value(form, field)
        if value is None or (value is False and field.name.startswith("preferences.")):
            _drop(data, field.name)
        else:
            _put(data, field.name, value)


def profile_data(form: FormValues, groups: Sequence[FieldGroup]) -> dict[str, Any]:
    """The profile mapping a client form describes."""
    data: dict[str, Any] = {}
    for group in groups:
        for field in group.fields:
            if field.kind == "pairs":
                words = form.getlist(f"{field.name}.word")
                spoken = form.getlist(f"{field.name}.spoken")
                pairs = {str(w).strip(): str(s).strip() for w, s in zip(words, spoken, strict=False)
                         if str(w).strip() or str(s).strip()}
                if pairs:
                    data[field.name] = pairs
            else:
                _set_fields(data, form, [field])
    return {key: value for key, value in data.items() if value != {}}


def variables_data(saved: Mapping[str, Any], form: FormValues,
                   fields: Sequence[FormField]) -> dict[str, Any]:
    """The client's saved profile with the template's variables as the form gives them."""
    data = _copy(saved)
    _set_fields(data, form, fields)
    return data


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def _lookup(data: Mapping[str, Any], name: str) -> Any:
    value: Any = data
    for part in name.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def form_values(data: Mapping[str, Any], fields: Iterable[FormField]) -> dict[str, Any]:
    """Each field's value in a profile mapping, as the form shows it (text, list or pairs)."""
    values: dict[str, Any] = {}
    for field in fields:
        value = _lookup(data, field.name)
        if field.kind in ("list",):
            values[field.name] = [str(item) for item in value] if isinstance(value, list) else []
        elif field.kind == "pairs":
            values[field.name] = list(value.items()) if isinstance(value, Mapping) else []
        elif field.kind == "flag":
            values[field.name] = value is True
        else:
            values[field.name] = "" if value is None else str(value)
    return values


def split_problems(message: str) -> list[str]:
    """The problem lines of a :class:`~imr_audio.errors.ClientProfileError`'s message."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return lines[1:] if len(lines) > 1 else lines


def problems_by_field(problems: Sequence[str], source: str,
                      names: Iterable[str]) -> tuple[dict[str, list[str]], list[str]]:
    """Problems keyed by the form field they name, and those naming no field of the form.

    Each problem reads ``<source>: <field>: <message>``; an ``eligibility.<flag>`` or a
    ``pronunciations (entry N)`` goes to its field.
    """
    known = set(names)
    found: dict[str, list[str]] = {}
    other: list[str] = []
    prefix = f"{source}: "
    for problem in problems:
        rest = problem[len(prefix):] if problem.startswith(prefix) else problem
        field, _, message = rest.partition(": ")
        field = field.split(" (")[0]
        if field not in known and field.startswith("eligibility."):
            field = "eligibility"
        if field in known and message:
            found.setdefault(field, []).append(message)
        else:
            other.append(problem)
    return found, other
