"""Script templates: their declared schema, validation of a profile against it, and rendering.

A template is a pair of files in a templates folder: ``<id>.j2`` (the Jinja script, extending
``_base.j2`` which owns the safety wrapper) and ``<id>.yaml`` (its schema: title, description,
duration range, variables).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import jinja2.nodes
import yaml
from jinja2.sandbox import SandboxedEnvironment

from imr_audio.authoring.budget import BUDGET_KEY, Budget
from imr_audio.authoring.environment import ProfileValue
from imr_audio.errors import (
    ImrAudioError,
    TemplateBudgetError,
    TemplateNotFoundError,
    TemplateSchemaError,
    TemplateSecurityError,
    TemplateVariableError,
)
from imr_audio.length import PAUSE_SCALE_LIMITS
from imr_audio.profile import ClientProfile, profile_error
from imr_audio.yamlfile import did_you_mean, read_yaml

__all__ = [
    "TEMPLATE_KINDS",
    "VARIABLE_TYPES",
    "RenderedScript",
    "TemplateSpec",
    "VariableSpec",
    "example_profile_snippet",
    "load_template",
    "profile_problems",
    "render_script",
    "template_ids",
    "validate_profile",
]

VARIABLE_TYPES = ("text", "list", "number", "choice")
TEMPLATE_KINDS = ("stabilisation", "breathing", "grounding", "consolidation", "new-dream")


@dataclass(frozen=True)
class VariableSpec:
    """One variable a template reads from the client profile."""

    name: str
    """Dotted path in the profile, e.g. ``safe_place.cue_word``."""
    type: str
    """One of :data:`VARIABLE_TYPES`."""
    description: str
    """What the therapist should write here."""
    required: bool = True
    """Whether the profile must provide it (else ``default`` is used)."""
    default: Any = None
    """Value used when the profile leaves an optional variable out."""
    example: Any = None
    """A fictional example value, shown by ``templates show``."""
    min_length: int | None = None
    """Fewest characters (text) or items (list)."""
    max_length: int | None = None
    """Most characters (text, each list item) or items (list)."""
    choices: tuple[str, ...] = ()
    """Allowed values for a ``choice`` variable."""


@dataclass(frozen=True)
class TemplateSpec:
    """A script template and its declared schema."""

    id: str
    """Template id, e.g. ``safe-place``."""
    title: str
    """Neutral title, used as the track's title tag."""
    description: str
    """One paragraph on what the script is for."""
    version: int
    """Bumped when the script's wording changes."""
    duration_min_s: float
    """Shortest intended track length in seconds."""
    duration_max_s: float
    """Longest intended track length in seconds."""
    variables: tuple[VariableSpec, ...]
    """Variables read from the client profile."""
    path: Path
    """The ``.j2`` file."""
    kind: str = "stabilisation"
    """One of :data:`TEMPLATE_KINDS`; the lint applies rules by kind."""
    sections: tuple[str, ...] = ()
    """Titles of the body's sections in order (they become chapters)."""
    pause_scale: tuple[tuple[str, float, float], ...] = ()
    """``(kind, min, max)``: narrower bounds than the defaults for how far ``--length`` may
    shrink or stretch one kind of pause (``sentence``, ``paragraph``, ``explicit``)."""


@dataclass(frozen=True)
class RenderedScript:
    """A template filled with one client's details: marked-up text, not yet a timeline."""

    template: TemplateSpec
    """The template it came from."""
    text: str
    """The filled script in imr-audio markup."""


def template_ids(search_path: Sequence[Path]) -> list[str]:
    """Ids of every template found along ``search_path``, sorted."""
    ids: set[str] = set()
    for folder in search_path:
        for schema in folder.glob("*.yaml"):
            if not schema.stem.startswith("_") and schema.with_suffix(".j2").is_file():
                ids.add(schema.stem)
    return sorted(ids)


def _schema_error(path: Path, field: str, message: str) -> TemplateSchemaError:
    return TemplateSchemaError(f"{path}: {field}: {message}")


def _parse_variable(path: Path, name: str, raw: Any) -> VariableSpec:
    if not isinstance(raw, dict):
        raise _schema_error(path, f"variables.{name}", "must be a mapping")
    var_type = raw.get("type", "text")
    if var_type not in VARIABLE_TYPES:
        raise _schema_error(path, f"variables.{name}.type", f"must be one of {VARIABLE_TYPES}")
    return VariableSpec(
        name=name,
        type=var_type,
        description=str(raw.get("description", "")),
        required=bool(raw.get("required", "default" not in raw)),
        default=raw.get("default"),
        example=raw.get("example"),
        min_length=raw.get("min_length"),
        max_length=raw.get("max_length"),
        choices=tuple(str(c) for c in raw.get("choices", ())),
    )


def _parse_pause_scale(path: Path, raw: Any) -> tuple[tuple[str, float, float], ...]:
    """Read ``pause_scale``: per kind of pause, ``[min, max]`` factors inside the defaults."""
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise _schema_error(path, "pause_scale", "must map kinds of pause to [min, max]")
    parsed = []
    for kind, bounds in raw.items():
        if kind not in PAUSE_SCALE_LIMITS:
            raise _schema_error(
                path, f"pause_scale.{kind}", f"must be one of: {', '.join(PAUSE_SCALE_LIMITS)}"
            )
        low_limit, high_limit = PAUSE_SCALE_LIMITS[kind]
        numbers = isinstance(bounds, list) and len(bounds) == 2 and all(
            isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds
        )
        if not numbers or not low_limit <= bounds[0] <= 1.0 <= bounds[1] <= high_limit:
            raise _schema_error(
                path,
                f"pause_scale.{kind}",
                f"must be [min, max] with {low_limit:g} <= min <= 1 <= max <= {high_limit:g}",
            )
        parsed.append((str(kind), float(bounds[0]), float(bounds[1])))
    return tuple(parsed)


def load_template(template_id: str, search_path: Sequence[Path]) -> TemplateSpec:
    """Load a template's schema by id from the first folder of ``search_path`` that has it.

    An unknown id lists the valid ones.
    """
    for folder in search_path:
        schema_path = folder / f"{template_id}.yaml"
        script_path = folder / f"{template_id}.j2"
        if schema_path.is_file() and script_path.is_file():
            break
        for path in (schema_path, script_path):  # there, but not a file: say so, not "unknown"
            if path.is_dir():
                raise TemplateSchemaError(f"{path}: a folder, not a template file")
            if path.is_symlink() and not path.exists():
                raise TemplateSchemaError(f"{path}: a link to a file that is not there")
    else:
        known = template_ids(search_path)
        hint = did_you_mean(template_id, known)
        names = hint or f"; choose one of: {', '.join(known) or 'none found'}"
        raise TemplateNotFoundError(f"unknown template '{template_id}'{names}")
    raw = read_yaml(schema_path, TemplateSchemaError)
    if not isinstance(raw, dict):
        raise _schema_error(schema_path, "(top)", "a template schema must be a mapping")
    if not isinstance(raw.get("variables") or {}, dict):
        raise _schema_error(schema_path, "variables", "must be a mapping of dotted names")
    try:
        version = int(raw.get("version", 1))
    except (TypeError, ValueError):
        raise _schema_error(schema_path, "version", "must be a whole number") from None
    kind = str(raw.get("kind", "stabilisation"))
    if kind not in TEMPLATE_KINDS:
        raise _schema_error(schema_path, "kind", f"must be one of: {', '.join(TEMPLATE_KINDS)}")
    sections = raw.get("sections") or []
    if not isinstance(sections, list) or not all(isinstance(t, str) for t in sections):
        raise _schema_error(schema_path, "sections", "must be a list of section titles")
    pause_scale = _parse_pause_scale(schema_path, raw.get("pause_scale"))
    try:
        duration = raw["duration_s"]
        spec = TemplateSpec(
            id=template_id,
            title=str(raw["title"]),
            description=str(raw.get("description", "")).strip(),
            version=version,
            duration_min_s=float(duration[0]),
            duration_max_s=float(duration[1]),
            variables=tuple(
                _parse_variable(schema_path, str(k), v)
                for k, v in (raw.get("variables") or {}).items()
            ),
            path=script_path,
            kind=kind,
            sections=tuple(sections),
            pause_scale=pause_scale,
        )
    except KeyError as exc:
        raise _schema_error(schema_path, str(exc.args[0]), "required field missing") from None
    except (TypeError, ValueError, IndexError):
        raise _schema_error(
            schema_path, "duration_s", "must be [min_seconds, max_seconds]"
        ) from None
    return spec


MAX_TEXT_CHARS = 3000
"""Longest text value (or list item) a template without its own ``max_length`` takes: a few
paragraphs; a value longer than this is a pasted document, not a script's words."""


def _kind_problem(var: VariableSpec, value: Any) -> str | None:
    """A problem with the kind of ``value`` for ``var`` (text, a list, a number), or None."""
    if var.type == "text":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return "must be text, not a bare number (put it in quotes if it is meant)"
        if not isinstance(value, str):
            return "must be text"
    elif var.type == "list":
        if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
            return "must be a list of short phrases"
    elif var.type == "number" and (not isinstance(value, (int, float)) or isinstance(value, bool)):
        return "must be a number"
    return None


def _check_value(var: VariableSpec, value: Any) -> str | None:
    """Return a problem with ``value`` for ``var``, or None when it is fine."""
    kind = _kind_problem(var, value)
    if kind:
        return kind
    if var.type == "text":
        size = len(str(value).strip())
        if size == 0:
            return "must not be empty"
        longest = var.max_length if var.max_length is not None else MAX_TEXT_CHARS
        if size > longest:
            return f"too long ({size} characters; at most {longest})"
        if var.min_length is not None and size < var.min_length:
            return f"too short ({size} characters; at least {var.min_length})"
    elif var.type == "list":
        long_item = [n for n, v in enumerate(value, start=1) if len(str(v)) > MAX_TEXT_CHARS]
        if long_item:
            return f"item {long_item[0]} is too long (at most {MAX_TEXT_CHARS} characters)"
        empty = [number for number, v in enumerate(value, start=1) if not str(v).strip()]
        if empty:
            return f"item {empty[0]} is empty"
        if var.min_length is not None and len(value) < var.min_length:
            return f"needs at least {var.min_length} items (has {len(value)})"
        if var.max_length is not None and len(value) > var.max_length:
            return f"has too many items ({len(value)}; at most {var.max_length})"
    elif var.type == "choice" and str(value) not in var.choices:
        return f"must be one of: {', '.join(var.choices)}"
    return None


def validate_profile(spec: TemplateSpec, profile: ClientProfile) -> dict[str, Any]:
    """Check ``profile`` against ``spec`` and return the template's context.

    Every problem is collected and reported at once, one ``file: field: message`` line each.
    """
    problems = profile_problems(spec, profile)
    if problems:
        raise profile_error(profile.source, problems)
    return _context(spec, profile)


def profile_problems(
    spec: TemplateSpec, profile: ClientProfile, *, required: bool = True, limits: bool = True
) -> list[str]:
    """Every problem of ``profile`` for ``spec``'s variables, one ``file: field: message`` each.

    With ``required`` false, only the values the profile gives are checked (a field the
    template needs but the profile leaves out is no problem); with ``limits`` false, only their
    kind (text, a list, a number), not the template's own limits (lengths, choices).
    """
    problems: list[str] = []
    for var in spec.variables:
        value = profile.detail(var.name)
        if value is None:
            if var.required and required:
                problems.append(f"{profile.source}: {var.name}: required by template '{spec.id}'")
            continue
        message = _check_value(var, value) if limits else _kind_problem(var, value)
        if message:
            problems.append(f"{profile.source}: {var.name}: {message}")
    return problems


def _wrap(path: str, value: Any) -> Any:
    if isinstance(value, Mapping):
        return ProfileValue(path, {k: _wrap(f"{path}.{k}", v) for k, v in value.items()})
    return value


def _context(spec: TemplateSpec, profile: ClientProfile) -> dict[str, Any]:
    """Build the template's context: only the variables it declares (or their defaults).

    A template that uses a field its schema does not declare fails, even when the profile
    happens to hold it: the schema is the whole contract between template and profile.
    """
    details: dict[str, Any] = {}
    for var in spec.variables:
        value = profile.detail(var.name)
        if value is None:
            value = var.default
        *sections, leaf = var.name.split(".")
        target = details
        for section in sections:
            target = target.setdefault(section, {})
        target[leaf] = value
    context = {key: _wrap(key, value) for key, value in details.items()}
    context["preferred_name"] = profile.preferred_name
    return context


def render_script(
    env: SandboxedEnvironment,
    spec: TemplateSpec,
    profile: ClientProfile,
    extra: Mapping[str, Any] | None = None,
) -> RenderedScript:
    """Validate ``profile`` against ``spec`` and fill the template with it in ``env``."""
    context = validate_profile(spec, profile)
    values = set(_strings(context))  # the client's, before the caller's extras join them
    context.update(extra or {})
    return RenderedScript(template=spec, text=_render(env, spec, context, values))


def _render(env: SandboxedEnvironment, spec: TemplateSpec, context: Mapping[str, Any],
            values: set[str]) -> str:
    """Fill ``spec``; an error whose text would quote a client's value says so without it.

    A template can build a name from a value (``{% include safe_place.cue_word %}``, a lookup
    keyed by one): Jinja's message then holds the value.
    """
    try:
        return _fill(env, spec, context)
    except ImrAudioError as exc:
        if any(re.search(rf"(?<!\w){re.escape(v)}(?!\w)", str(exc)) for v in values):
            raise type(exc)(
                f"template '{spec.id}': a name or lookup built from a client's value failed "
                "while the template was filled (the value is not shown)"
            ) from None
        raise


def _strings(value: Any) -> Iterator[str]:
    """Every text in a template context (the client's values), at least 2 characters long."""
    if isinstance(value, str):
        if len(value.strip()) >= 2:
            yield value.strip()
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def _fill(env: SandboxedEnvironment, spec: TemplateSpec, context: Mapping[str, Any]) -> str:
    where = f"template '{spec.id}'"
    budget = Budget(where)
    try:
        template = env.get_template(spec.path.name)
        _require_wrapper(env, spec, template)
        return budget.collect(template.generate({**context, BUDGET_KEY: budget}))
    except TemplateBudgetError as exc:  # a filter's check does not know the template
        raise TemplateBudgetError(f"{where}: {str(exc).split(': ', 1)[1]}") from None
    except TemplateVariableError as exc:
        raise TemplateVariableError(f"{where}: {exc}") from None
    except jinja2.exceptions.SecurityError:
        raise TemplateSecurityError(
            f"{where}: blocked an attempt to reach Python internals from the template sandbox"
        ) from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateSchemaError(
            f"{exc.filename or spec.path}: line {exc.lineno}: template syntax error ({exc.message})"
        ) from None
    except jinja2.TemplateNotFound as exc:
        raise TemplateNotFoundError(f"{where}: includes missing template '{exc.name}'") from None
    except jinja2.TemplateError as exc:
        raise TemplateVariableError(f"{where}: {exc.message}") from None
    except (ArithmeticError, TypeError, ValueError, LookupError, AttributeError,
            RecursionError) as exc:
        # The exception's own text may quote a client's value: report only its kind.
        raise TemplateSchemaError(
            f"{where}: the template failed while being filled ({type(exc).__name__})"
        ) from None


def _require_wrapper(
    env: SandboxedEnvironment, spec: TemplateSpec, template: jinja2.Template
) -> None:
    """Refuse a template that does not extend the shipped safety wrapper ``_base.j2``.

    Nor may it define a block the wrapper lacks (a block never shown: a misspelt ``body`` would
    leave only the wrapper, a track with no imagery in it), or leave out ``body``. The blocks
    come from the compiled templates, which the environment caches; the source is parsed once.
    """
    tree = env.parse(spec.path.read_text(encoding="utf-8"))
    extends = list(tree.find_all(jinja2.nodes.Extends))
    names = [posixpath.normpath(str(getattr(node.template, "value", ""))) for node in extends]
    if names != ["_base.j2"]:
        raise TemplateSchemaError(
            f'{spec.path}: every template must start with {{% extends "_base.j2" %}}, '
            "which adds the opening and closing safety wrapper"
        )
    known = list(env.get_template("_base.j2").blocks)
    for block in tree.find_all(jinja2.nodes.Block):
        if block.name not in known:
            raise TemplateSchemaError(
                f"{spec.path}: line {block.lineno}: block '{block.name}' is not one of "
                f"_base.j2's ({', '.join(known)}){did_you_mean(block.name, known)}"
            )
    if "body" not in template.blocks:
        raise TemplateSchemaError(
            f"{spec.path}: has no {{% block body %}}: the script's own words go in it"
        )


def example_profile_snippet(spec: TemplateSpec) -> str:
    """Return a YAML snippet of the profile fields ``spec`` reads, filled with its examples."""
    tree: dict[str, Any] = {}
    for var in spec.variables:
        *sections, leaf = var.name.split(".")
        target = tree
        for section in sections:
            target = target.setdefault(section, {})
        target[leaf] = var.example if var.example is not None else var.default
    return yaml.safe_dump(tree, allow_unicode=True, sort_keys=False, width=88)
