"""Authoring: script templates, their schemas and the sandboxed Jinja environment."""

from imr_audio.authoring.environment import Cue, build_environment, escape_markup
from imr_audio.authoring.templates import (
    RenderedScript,
    TemplateSpec,
    VariableSpec,
    all_specs,
    example_profile_snippet,
    known_fields,
    list_templates,
    load_template,
    render_script,
    template_search_path,
    validate_profile,
)

__all__ = [
    "Cue",
    "RenderedScript",
    "TemplateSpec",
    "VariableSpec",
    "all_specs",
    "build_environment",
    "escape_markup",
    "example_profile_snippet",
    "known_fields",
    "list_templates",
    "load_template",
    "render_script",
    "template_search_path",
    "validate_profile",
]
