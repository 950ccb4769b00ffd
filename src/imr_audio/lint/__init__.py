"""The clinical lint: checks a filled script against the rules in the clinical guidance.

Each finding names the rule and where a therapist can act on it: the line of the ``.j2``
template the sentence comes from (the script's own or the shipped ``_base.j2``), or the profile
field (``safe_place.sights[1]``), and the avoid-list entry by number; it never quotes a client's
value. The same places are on the finding as fields (``template_file``, ``template_line``,
``field``, ``script_line``) for tools that mark lines.

Rules apply by the template's kind and sections, never by its id: a therapist's renamed copy of
a shipped script is checked like the shipped one. Words are matched in every form (see
:mod:`imr_audio.lint.text`) and themes through the theme map (:mod:`imr_audio.lint.themes`).
"""

from __future__ import annotations

from pathlib import Path

from imr_audio.authoring.templates import RenderedScript, TemplateSpec
from imr_audio.instructions import instruction_kind, is_imagery_instruction
from imr_audio.lint.avoid import SoundscapeOrigin, check_avoid
from imr_audio.lint.container import check_container, is_container_script
from imr_audio.lint.danger import check_home_danger
from imr_audio.lint.findings import Document, LintFinding, Severity, has_errors
from imr_audio.lint.people import check_family, check_identifiers
from imr_audio.lint.retelling import check_home_retelling
from imr_audio.lint.symbols import check_symbols
from imr_audio.lint.text import spoken_text
from imr_audio.lint.themes import ThemeMap, ThemeMapError, load_theme_map
from imr_audio.lint.threat import check_home_harm, check_threats
from imr_audio.lint.timing import (
    check_breathing,
    check_eligibility,
    check_pacing,
    check_wrapper,
    delivery_wpm,
    estimate_duration_s,
)
from imr_audio.profile import ClientProfile
from imr_audio.soundscapes.base import SoundscapeInfo
from imr_audio.timeline import Timeline

__all__ = [
    "LintFinding",
    "Severity",
    "SoundscapeOrigin",
    "ThemeMap",
    "ThemeMapError",
    "delivery_wpm",
    "estimate_duration_s",
    "has_errors",
    "instruction_kind",
    "is_container_script",
    "is_imagery_instruction",
    "lint_script",
    "load_theme_map",
]


def lint_script(
    spec: TemplateSpec,
    profile: ClientProfile,
    script: RenderedScript,
    timeline: Timeline,
    spoken_wpm: float,
    soundscape: SoundscapeInfo | None = None,
    soundscape_origin: SoundscapeOrigin | None = None,
    themes_file: Path | None = None,
) -> list[LintFinding]:
    """Run every check and return the findings, errors first.

    ``spoken_wpm`` is the voice's real speaking rate, used to estimate timings.
    ``soundscape_origin`` says who chose ``soundscape`` (``option``: the render's option,
    ``profile``: preferences.soundscape, ``default``: nobody); when None it is worked out from
    the profile. ``themes_file`` is the therapist's own theme map, added to the shipped one.
    Raises :class:`ThemeMapError` when that file cannot be read.
    """
    themes = load_theme_map(Path(themes_file) if themes_file else None)
    doc = Document.read(spec, profile, script)
    lines = {n: spoken_text(line) for n, line in enumerate(script.text.splitlines(), start=1)
             if line.strip()}
    findings = [
        *check_eligibility(profile),
        *check_wrapper(timeline),
        *check_avoid(doc, themes, soundscape, soundscape_origin),
        *check_threats(doc),
        *check_home_harm(doc),
        *check_home_retelling(doc),
        *check_home_danger(doc),
        *check_breathing(profile, timeline, doc.source),
        *check_family(doc),
        *check_container(doc),
        *check_identifiers(doc, lines),
        *check_symbols(doc),
        *check_pacing(spec, timeline, spoken_wpm, doc.source),
    ]
    return sorted(findings, key=lambda f: f.severity != "error")
