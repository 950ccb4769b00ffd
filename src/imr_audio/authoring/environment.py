r"""The one sandboxed Jinja environment that every script template is rendered in.

Client values are *escaped* on their way into a script: any character that the script markup
gives a meaning to (``[``, ``]`` and ``\\``) is backslash-escaped, so a value such as
``[pause 300]`` is spoken literally and never becomes a pause. Markup that a template means to
emit comes from the helpers below, which return :class:`Cue` strings that are not escaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedEnvironment

from imr_audio.authoring.budget import budget_of, budgeted_filter
from imr_audio.errors import TemplateSchemaError, TemplateVariableError

__all__ = ["Cue", "build_environment", "escape_markup", "format_seconds"]

_ESCAPES = str.maketrans({"\\": "\\\\", "[": "\\[", "]": "\\]"})


class Cue(str):
    """Markup emitted on purpose by a template helper; passed through unescaped."""

    __slots__ = ()


def escape_markup(value: object) -> str:
    """Return ``value`` as text in which no character has a markup meaning."""
    return str(value).translate(_ESCAPES)


def _finalize(value: object) -> str:
    if isinstance(value, Cue):
        return str(value)
    if value is None:
        return ""
    return escape_markup(value)


def format_seconds(seconds: float) -> str:
    """Format a duration for markup, e.g. ``5s`` or ``1.5s``."""
    text = f"{float(seconds):.3f}".rstrip("0").rstrip(".")
    return f"{text}s"


def _pause(seconds: float) -> Cue:
    return Cue(f"[pause {format_seconds(seconds)}]")


def _section(title: str) -> Cue:
    # Brackets and backslashes cannot stand inside a tag: leave them out of the title.
    clean = " ".join(str(title).translate({ord(c): " " for c in "[]\\"}).split())
    return Cue(f"[section {clean}]")


def _breath(
    in_s: float,
    out_s: float,
    cycles: int = 1,
    hold_s: float = 0,
    rest_s: float = 0,
    cue: str = "voice",
) -> Cue:
    """Emit ``[breath ...]`` markup; the timeline checks the limits and names the line."""
    cue_name = "tone" if str(cue) == "tone" else "voice"
    parts = [
        f"in={format_seconds(in_s)}",
        f"hold={format_seconds(hold_s)}",
        f"out={format_seconds(out_s)}",
        f"rest={format_seconds(rest_s)}",
        f"cycles={int(cycles)}",
        f"cue={cue_name}",
    ]
    return Cue(f"[breath {' '.join(parts)}]")


def _natural_join(items: Iterable[object], last: str = "and") -> str:
    """Join a list as a person says it: ``a, b and c``."""
    words = [str(item) for item in items]
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {last} {words[-1]}"


def _minutes(seconds: float) -> str:
    minutes = max(1, round(float(seconds) / 60))
    return "one minute" if minutes == 1 else f"{minutes} minutes"


class ProfileValue(dict[str, Any]):
    """A mapping from a client profile that knows its dotted path, for precise errors."""

    def __init__(self, path: str, data: Mapping[str, Any]) -> None:
        super().__init__(data)
        self.path = path


class _StrictUndefined(jinja2.StrictUndefined):
    """Undefined that raises :class:`TemplateVariableError` naming the full dotted variable."""

    __slots__ = ()

    def __init__(
        self,
        hint: str | None = None,
        obj: Any = jinja2.utils.missing,
        name: str | None = None,
        exc: type[Exception] = TemplateVariableError,
    ) -> None:
        super().__init__(hint, obj, name, exc)  # type: ignore[arg-type]

    @property
    def _undefined_message(self) -> str:
        if self._undefined_hint:
            return self._undefined_hint
        name = self._undefined_name or "?"
        owner = self._undefined_obj
        if isinstance(owner, ProfileValue):
            name = f"{owner.path}.{name}"
        elif owner is not jinja2.utils.missing:
            name = f"{type(owner).__name__}.{name}"
        return f"variable '{name}' is not provided"


class _TemplateLoader(jinja2.FileSystemLoader):
    """Loads templates along the search path; shared parts only from the shipped folder.

    Names starting with ``_`` (the ``_base.j2`` safety wrapper) come from the shipped folder,
    the last on the path, so a therapist's own folder cannot replace the wrapper.
    """

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Any]:
        # Normalise first: "./_base.j2" names the same file and must not slip past the check.
        shared = "/".join(jinja2.loaders.split_template_path(template)).startswith("_")
        try:
            if shared:
                shipped = jinja2.FileSystemLoader(self.searchpath[-1])
                return shipped.get_source(environment, template)
            return super().get_source(environment, template)
        except UnicodeDecodeError as exc:
            folders = self.searchpath[-1:] if shared else self.searchpath
            path = next((Path(f) / template for f in folders if (Path(f) / template).is_file()),
                        Path(template))
            raise TemplateSchemaError(
                f"{path}: byte {exc.start}: not UTF-8 text (save the template as UTF-8)"
            ) from None


class _BudgetedEnvironment(ImmutableSandboxedEnvironment):
    """The immutable sandbox, spending the fill's :class:`~.budget.Budget` as it goes."""

    intercepted_binops = frozenset({"*", "**"})

    def call(__self, __context: jinja2.runtime.Context, __obj: Any,
             *args: Any, **kwargs: Any) -> Any:
        budget = budget_of(__context)
        if budget is not None:
            budget.numbers((*args, *kwargs.values()))
        return super().call(__context, __obj, *args, **kwargs)

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any,
                   right: Any) -> Any:
        budget = budget_of(context)
        if budget is not None:
            budget.binop(operator, left, right)
        return super().call_binop(context, operator, left, right)


@jinja2.pass_context
def _range(context: jinja2.runtime.Context, *args: int) -> Iterator[int]:
    budget = budget_of(context)
    return budget.range(*args) if budget is not None else iter(range(*args))


def build_environment(search_path: Iterable[Path]) -> SandboxedEnvironment:
    """Build the sandboxed Jinja environment for templates found along ``search_path``.

    The sandbox is immutable: a template can read the client's values but never change them.

    Earlier folders win, so a therapist's own folder can hold new templates; they extend the
    shipped ``_base.j2`` wrapper, which only the shipped folder (the last) can provide.
    """
    env = _BudgetedEnvironment(
        loader=_TemplateLoader([str(p) for p in search_path]),
        undefined=_StrictUndefined,
        finalize=_finalize,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        pause=_pause,
        section=_section,
        breath=_breath,
        slow=lambda: Cue("[slow]"),
        end_slow=lambda: Cue("[/slow]"),
        chime=lambda: Cue("[chime]"),
        note=lambda text="": Cue(""),
    )
    env.filters.update(natural_join=_natural_join, minutes=_minutes)
    env.filters.update({name: budgeted_filter(f) for name, f in env.filters.items()})
    env.globals["range"] = _range
    return env
