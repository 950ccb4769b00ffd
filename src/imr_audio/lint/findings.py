"""What a lint finding is, and the filled script as the rules read it (sentences with origins)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from imr_audio.authoring.templates import RenderedScript, TemplateSpec
from imr_audio.lint.sources import Origin, SourceMap, build_source_map
from imr_audio.lint.text import Sentence, Token, sentences
from imr_audio.profile import ClientProfile

__all__ = ["Document", "LintFinding", "Severity", "finding", "has_errors"]

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class LintFinding:
    """One problem the lint found, and where a therapist can act on it."""

    rule: str
    """Rule name, e.g. ``avoid-list``."""
    severity: Severity
    """``error`` blocks rendering; ``warning`` is printed."""
    message: str
    """What is wrong and where (template file and line, or profile field); never a client's
    value."""
    template_file: str | None = None
    """The ``.j2`` template the text comes from (the script's own or the shipped ``_base.j2``),
    as a path; None when the finding is not about a line."""
    template_line: int | None = None
    """The line of ``template_file`` (1-based)."""
    field: str | None = None
    """The profile field at fault (``safe_place.sights[1]``, ``preferences.soundscape``)."""
    script_line: int | None = None
    """The line of the filled script (1-based), for tools that show the filled text."""
    check: str | None = None
    """Which check of the rule fired, e.g. ``threat``, ``retelling``, ``key``."""

    def __str__(self) -> str:
        return f"{self.severity}: {self.rule}: {self.message}"


def has_errors(findings: Iterable[LintFinding]) -> bool:
    """Whether any finding is an error."""
    return any(f.severity == "error" for f in findings)


def finding(
    rule: str,
    severity: Severity,
    message: str,
    origin: Origin | None = None,
    script_line: int | None = None,
    check: str | None = None,
    field: str | None = None,
) -> LintFinding:
    """A finding with the structured place of ``origin``."""
    return LintFinding(
        rule,
        severity,
        message,
        template_file=str(origin.template_file) if origin and origin.template_file else None,
        template_line=origin.template_line if origin else None,
        field=field or (origin.field if origin else None),
        script_line=script_line,
        check=check,
    )


def where(origin: Origin) -> str:
    """``the value of safe_place.sights[1]`` or ``safe-place.j2 line 40``."""
    return f"the value of {origin.field}" if origin.field else origin.describe()


def new_place(reported: set[object], origin: Origin, line: int) -> str | None:
    """Where ``origin`` is, for a message; None if ``reported`` holds that place already.

    A place is a profile field, else a template line (one finding each, however many sentences
    of the filled script come from it), else the filled script's ``line``. It is added to
    ``reported``.
    """
    key = origin.field or (origin.template_file, origin.template_line or line)
    if key in reported:
        return None
    reported.add(key)
    return where(origin) if origin.field or origin.template_file else (
        f"line {line} of the filled script")


@dataclass(frozen=True)
class Document:
    """The filled script split into sentences, each word traceable to its template or field."""

    spec: TemplateSpec
    """The template."""
    profile: ClientProfile
    """The client profile."""
    sentences: tuple[Sentence, ...]
    """Every sentence of the filled script, markup left out."""
    source: SourceMap
    """Where each filled line comes from."""

    @classmethod
    def read(
        cls, spec: TemplateSpec, profile: ClientProfile, script: RenderedScript
    ) -> Document:
        """Split and trace the filled ``script``."""
        declared = [v.name for v in spec.variables]
        values = {name: profile.detail(name) for name in declared}
        values["preferred_name"] = profile.preferred_name
        lines = list(enumerate(script.text.splitlines(), start=1))
        return cls(
            spec, profile, tuple(sentences(lines)),
            build_source_map(spec, script.text, values, declared),
        )

    def origin(self, sentence: Sentence, tokens: Sequence[Token]) -> Origin:
        """Where ``tokens`` of ``sentence`` come from: a field if any token is a value's."""
        origins = [self.source.origin(sentence.line, t.start, t.end) for t in tokens]
        with_field = [o for o in origins if o.field]
        if with_field:
            return with_field[0]
        return origins[0] if origins else self.source.template_line(sentence.line)

    @property
    def kind(self) -> str:
        """The template's kind (``stabilisation``, ``consolidation`` ...)."""
        return self.spec.kind
