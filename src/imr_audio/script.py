"""The first stage: fill a template for a client, time it and lint it, before any audio.

:func:`prepare` gives a :class:`PreparedScript`; ``preview`` and ``lint`` stop there, and
:func:`~imr_audio.track.render` goes on to speak it. :func:`preview` times every line of a
prepared script for a page or a terminal to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from imr_audio.authoring.templates import RenderedScript, TemplateSpec
from imr_audio.errors import ClientProfileError, LintError, TrackLengthError
from imr_audio.length import MAX_LENGTH_S, format_clock, parse_length
from imr_audio.lint import (
    LintFinding,
    SoundscapeOrigin,
    delivery_wpm,
    estimate_duration_s,
    has_errors,
    lint_script,
)
from imr_audio.markup import parse_script
from imr_audio.mix_settings import MixSettings
from imr_audio.profile import ClientProfile, check_eligibility
from imr_audio.soundscapes.base import SoundscapeInfo
from imr_audio.timeline import Pause, Speech, Timeline, Tone
from imr_audio.voice.profiles import VoiceProfile
from imr_audio.workspace import Workspace

__all__ = [
    "DEFAULT_SOUNDSCAPE",
    "DEFAULT_VOICE",
    "PreparedScript",
    "PreviewLine",
    "ScriptChoices",
    "ScriptPreview",
    "fill_script",
    "length_phrase",
    "prepare",
    "preview",
    "preview_track",
    "require_renderable",
]

DEFAULT_SOUNDSCAPE = "rain"
"""The bed when neither the render nor the client's profile names one."""

DEFAULT_VOICE = "calm"
"""The voice profile when neither the render nor the client's profile names one."""


@dataclass(frozen=True)
class ScriptChoices:
    """What is chosen for a track besides the template and the client.

    Each None means the client's preference (``preferences.*``), else the default.
    """

    soundscape: str | None = None
    """Bed name, preset or audio file; None: the client's preference, else ``rain``."""
    voice_profile: str | None = None
    """Voice profile id; None: the client's preference, else ``calm``."""
    length_s: float | None = None
    """Target track length in seconds (up to 3 hours); None: the client's
    ``preferences.length``, else the script's own pacing."""


@dataclass(frozen=True)
class PreparedScript:
    """A filled, parsed and linted script, ready to be spoken."""

    spec: TemplateSpec
    """The template."""
    profile: ClientProfile
    """The validated client profile."""
    voice_profile: VoiceProfile
    """The voice profile chosen (render option, else the client's preference, else calm)."""
    soundscape: SoundscapeInfo
    """The bed chosen (render option, else the client's preference, else rain)."""
    soundscape_origin: SoundscapeOrigin
    """Who chose the bed: ``option`` (the render's), ``profile`` (the client's
    ``preferences.soundscape``) or ``default`` (nobody)."""
    script: RenderedScript
    """The filled script."""
    timeline: Timeline
    """Its events."""
    findings: tuple[LintFinding, ...]
    """What the clinical lint found."""
    target_length_s: float | None
    """The track length asked for (choice, else the client's preference), in seconds."""
    lead_in_s: float
    """Bed alone before the first word, in seconds (the mix's)."""
    tail_s: float
    """Bed alone after the last word, in seconds (the mix's)."""
    estimated_duration_s: float
    """Estimated length of the track in seconds, from the voice's measured speaking rate."""


def length_phrase(duration_s: float) -> str:
    """How the opening says a length: ``one minute``, ``10 minutes``."""
    minutes = max(1, round(duration_s / 60.0))
    return "one minute" if minutes == 1 else f"{minutes} minutes"


def fill_script(
    workspace: Workspace,
    spec: TemplateSpec,
    profile: ClientProfile,
    voice_profile: VoiceProfile,
    length: str,
) -> tuple[RenderedScript, Timeline]:
    """Fill ``spec`` for ``profile`` saying the track lasts ``length``, and parse it."""
    script = workspace.templates.fill(
        spec, profile, {"track_title": spec.title.lower(), "track_length": length}
    )
    return script, parse_script(script.text, voice_profile.pacing)


def _target_length_s(choices: ScriptChoices, profile: ClientProfile) -> float | None:
    """The length asked for: the choice, else the client's ``preferences.length``."""
    if choices.length_s is not None:
        if not 0 < choices.length_s <= MAX_LENGTH_S:
            raise TrackLengthError(
                f"a length must be more than 0 and at most {MAX_LENGTH_S / 3600:g} hours"
            )
        return choices.length_s
    preferred = profile.preferences.get("length")
    return None if preferred is None else parse_length(str(preferred))


def _preference_known(profile: ClientProfile, field: str, name: str, names: list[str],
                      is_file: bool = False) -> None:
    """Refuse a profile's preference that names no voice or soundscape, naming the field.

    The value is not quoted: it is the client's (a path in it could name them).
    """
    if name not in names and not is_file:
        raise ClientProfileError(
            f"{profile.source}: preferences.{field}: no {field} of that name here; choose one "
            f"of: {', '.join(names)}"
        )


def prepare(
    workspace: Workspace,
    template_id: str,
    profile: ClientProfile,
    choices: ScriptChoices | None = None,
    mix: MixSettings | None = None,
) -> PreparedScript:
    """Fill, time and lint ``template_id`` for ``profile``.

    The opening's length is estimated from the voice's measured speaking rate and the mix's
    lead-in and tail (``mix``); :func:`~imr_audio.speech.speak` corrects it once the real
    speech exists.
    """
    choices = choices or ScriptChoices()
    mix = mix or MixSettings()
    spec = workspace.templates.load(template_id)
    preferred_bed = profile.preferences.get("soundscape")
    bed_name = choices.soundscape or str(preferred_bed or DEFAULT_SOUNDSCAPE)
    origin: SoundscapeOrigin = (
        "option" if choices.soundscape else "profile" if preferred_bed else "default"
    )
    if origin == "profile":
        _preference_known(profile, "soundscape", bed_name, workspace.soundscapes.names(),
                          Path(bed_name).is_file())
    bed = workspace.soundscapes.get(bed_name).info
    voice_name = choices.voice_profile or str(profile.preferences.get("voice", DEFAULT_VOICE))
    if not choices.voice_profile and "voice" in profile.preferences:
        _preference_known(profile, "voice", voice_name, workspace.voices.names())
    voice = workspace.voices.load(voice_name)
    target_s = _target_length_s(choices, profile)

    def estimate(timeline: Timeline) -> float:
        return estimate_duration_s(timeline, voice.spoken_wpm, mix.lead_in_s, mix.tail_s)

    guess = length_phrase((spec.duration_min_s + spec.duration_max_s) / 2.0)
    _, timeline = fill_script(workspace, spec, profile, voice, guess)
    script, timeline = fill_script(
        workspace, spec, profile, voice, length_phrase(estimate(timeline))
    )
    findings = lint_script(spec, profile, script, timeline, voice.spoken_wpm, bed, origin,
                           workspace.config.themes_file)
    return PreparedScript(
        spec=spec,
        profile=profile,
        voice_profile=voice,
        soundscape=bed,
        soundscape_origin=origin,
        script=script,
        timeline=timeline,
        findings=tuple(findings),
        target_length_s=target_s,
        lead_in_s=mix.lead_in_s,
        tail_s=mix.tail_s,
        estimated_duration_s=estimate(timeline),
    )


def require_renderable(prepared: PreparedScript) -> None:
    """Refuse a home track for this script: eligibility first, then every lint error.

    Raises :class:`~imr_audio.errors.ClientProfileError` for a set eligibility flag (it
    outranks every other finding), :class:`TrackLengthError` for a script estimated longer than
    :data:`~imr_audio.length.MAX_LENGTH_S` (the hard cap of every render), else
    :class:`LintError`: its first line says how many lint errors follow, then one a line;
    warnings do not stop a render.
    """
    check_eligibility(prepared.profile)
    if prepared.estimated_duration_s > MAX_LENGTH_S:  # before any synthesis or bed
        raise TrackLengthError(
            f"template '{prepared.spec.id}' for {prepared.profile.source}: the script would last "
            f"about {format_clock(prepared.estimated_duration_s)}, longer than any track may "
            f"({format_clock(MAX_LENGTH_S)}); shorten its pauses or loops"
        )
    if has_errors(list(prepared.findings)):
        errors = [str(f) for f in prepared.findings if f.severity == "error"]
        count = f"{len(errors)} error{'s' if len(errors) > 1 else ''}"
        raise LintError(
            f"template '{prepared.spec.id}' did not pass the clinical lint for "
            f"{prepared.profile.source} ({count}, one a line below):\n  " + "\n  ".join(errors)
        )


@dataclass(frozen=True)
class PreviewLine:
    """One line of a preview: when it starts and what is heard."""

    start_s: float
    """Estimated start in the track, in seconds."""
    text: str
    """Spoken text, or a bracketed description of a pause, tone or section."""
    script_line: int
    """The line of the filled script it comes from (lint findings name these)."""


@dataclass(frozen=True)
class ScriptPreview:
    """A prepared script with estimated timings; no audio."""

    prepared: PreparedScript
    """The script and its lint findings."""
    lines: tuple[PreviewLine, ...]
    """Every event in order with its estimated start."""
    duration_s: float
    """Estimated length of the track, in seconds."""
    delivery_wpm: float
    """Words per minute within paragraphs (speech and sentence gaps)."""
    word_count: int
    """Words spoken."""


def preview(prepared: PreparedScript) -> ScriptPreview:
    """Time every event of a prepared script from the voice's measured speaking rate."""
    wpm = prepared.voice_profile.spoken_wpm
    lines: list[PreviewLine] = []
    clock = prepared.lead_in_s
    for event in prepared.timeline.events:
        if isinstance(event, Speech):
            lines.append(PreviewLine(clock, event.text, event.line))
            clock += event.slot_s or event.word_count / (wpm * event.rate_factor) * 60.0
        elif isinstance(event, Pause):
            if event.kind == "explicit":
                lines.append(PreviewLine(clock, f"[pause {event.duration_s:g}s]", event.line))
            clock += event.duration_s
        elif isinstance(event, Tone):
            label = "chime" if event.phase == "chime" else f"tone: breathe {event.phase}"
            lines.append(PreviewLine(clock, f"[{label}, {event.duration_s:g}s]", event.line))
            clock += event.duration_s
        else:
            lines.append(PreviewLine(clock, f"[section {event.title}]", event.line))
    return ScriptPreview(
        prepared=prepared,
        lines=tuple(lines),
        duration_s=clock + prepared.tail_s,
        delivery_wpm=delivery_wpm(prepared.timeline, wpm),
        word_count=prepared.timeline.word_count,
    )


def preview_track(
    workspace: Workspace,
    template_id: str,
    profile: ClientProfile,
    choices: ScriptChoices | None = None,
    mix: MixSettings | None = None,
) -> ScriptPreview:
    """Prepare ``template_id`` for ``profile`` and time it: the ``preview`` command."""
    return preview(prepare(workspace, template_id, profile, choices, mix))
