"""A templates library: the templates on one search path and the one environment they fill in.

The search path is the therapist's own templates folder, if any, then the shipped one; a
template in the own folder replaces a shipped one of the same id. A library belongs to a
:class:`~imr_audio.workspace.Workspace`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2.meta
from jinja2.sandbox import SandboxedEnvironment

from imr_audio.authoring.environment import build_environment
from imr_audio.authoring.templates import (
    RenderedScript,
    TemplateSpec,
    load_template,
    profile_problems,
    render_script,
    template_ids,
)
from imr_audio.profile import ClientProfile

__all__ = ["TemplateLibrary"]


class TemplateLibrary:
    """The script templates along a search path."""

    def __init__(self, search_path: Sequence[Path]) -> None:
        """The templates in ``search_path``'s folders, the first folder winning."""
        self.search_path = tuple(Path(folder) for folder in search_path)

    def ids(self) -> list[str]:
        """Ids of every template, sorted."""
        return template_ids(self.search_path)

    def load(self, template_id: str) -> TemplateSpec:
        """A template's schema; an unknown id lists the valid ones."""
        return load_template(template_id, self.search_path)

    def specs(self) -> list[TemplateSpec]:
        """The schema of every template, sorted by id."""
        return [self.load(template_id) for template_id in self.ids()]

    def known_fields(self, specs: Sequence[TemplateSpec] | None = None) -> frozenset[str]:
        """Every dotted profile field that some template reads (``specs``: the schemas, if read)."""
        return frozenset(v.name for spec in (self.specs() if specs is None else specs)
                         for v in spec.variables)

    def value_problems(self, profile: ClientProfile, limits: bool = False,
                       specs: Sequence[TemplateSpec] | None = None) -> list[str]:
        """Every template's rules on the values ``profile`` gives, one problem line each.

        A field's value must be of the kind every template reading it takes: ``safe_place.sights``
        given as a mapping, not a list, is wrong whichever template is rendered. With ``limits``,
        each template's own limits too (lengths, choices: what the studio asks of a profile it
        saves, so that it suits every template); else those are the business of the template
        rendered, as is what a template needs but the profile leaves out. ``specs``: the
        schemas of :meth:`specs` if the caller has read them already.
        """
        problems: list[str] = []
        for spec in self.specs() if specs is None else specs:
            problems += [problem for problem in profile_problems(
                spec, profile, required=False, limits=limits) if problem not in problems]
        return problems

    @functools.cached_property
    def environment(self) -> SandboxedEnvironment:
        """The sandboxed environment the templates are filled in (made once per library)."""
        return build_environment(self.search_path)

    def fill(
        self, spec: TemplateSpec, profile: ClientProfile, extra: Mapping[str, Any] | None = None
    ) -> RenderedScript:
        """Validate ``profile`` against ``spec`` and fill the template with it (and ``extra``)."""
        return render_script(self.environment, spec, profile, extra)

    def sources(self, spec: TemplateSpec) -> dict[str, str]:
        """The template's schema and source and every template it extends, includes or imports."""
        env = self.environment
        sources = {
            spec.path.with_suffix(".yaml").name: spec.path.with_suffix(".yaml").read_text("utf-8"),
            spec.path.name: spec.path.read_text(encoding="utf-8"),
        }
        pending = [sources[spec.path.name]]
        while pending:
            for name in jinja2.meta.find_referenced_templates(env.parse(pending.pop())):
                if name is not None and name not in sources and env.loader is not None:
                    sources[name] = env.loader.get_source(env, name)[0]
                    pending.append(sources[name])
        return sources
