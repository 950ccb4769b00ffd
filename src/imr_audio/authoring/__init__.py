"""Authoring: script templates, their schemas and the sandboxed Jinja environment."""

from imr_audio.authoring.environment import Cue, build_environment, escape_markup
from imr_audio.authoring.library import TemplateLibrary
from imr_audio.authoring.templates import (
    RenderedScript,
    TemplateSpec,
    VariableSpec,
    example_profile_snippet,
    load_template,
    render_script,
    template_ids,
    validate_profile,
)

__all__ = [
    "Cue",
    "RenderedScript",
    "TemplateLibrary",
    "TemplateSpec",
    "VariableSpec",
    "build_environment",
    "escape_markup",
    "example_profile_snippet",
    "load_template",
    "render_script",
    "template_ids",
    "validate_profile",
]
