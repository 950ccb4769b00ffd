"""Everything before synthesis: load and check the inputs, fill the script, lint it, preview it.

``preview`` and ``lint`` stop here; ``render`` goes on to synthesis with the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from imr_audio.authoring import all_specs, known_fields, load_template, render_script
from imr_audio.authoring.templates import RenderedScript, TemplateSpec
from imr_audio.errors import LintError
from imr_audio.lint import LintFinding, delivery_wpm, estimate_duration_s, has_errors, lint_script
from imr_audio.markup import parse_script
from imr_audio.mix import MixSettings
from imr_audio.profile import ClientProfile, load_client_profile
from imr_audio.soundscapes import SoundscapeInfo, get_soundscape
from imr_audio.timeline import Pause, Speech, Timeline, Tone
from imr_audio.voice.profiles import VoiceProfile, load_voice_profile

__all__ = [
    "PreparedScript",
    "PreviewLine",
    "ScriptPreview",
    "fill_script",
    "length_phrase",
    "prepare_script",
    "preview_script",
    "preview_track",
    "require_lint_clean",
]

LEAD_IN_S = MixSettings().lead_in_s
TAIL_S = MixSettings().tail_s


@dataclass(frozen=True)
class PreparedScript:
    """A filled, parsed and linted script, ready for synthesis."""

    spec: TemplateSpec
    """The template."""
    profile: ClientProfile
    """The validated client profile."""
    voice_profile: VoiceProfile
    """The voice profile chosen (render option, else the client's preference, else calm)."""
    soundscape: SoundscapeInfo
    """The bed chosen (render option, else the client's preference, else rain)."""
    script: RenderedScript
    """The filled script."""
    timeline: Timeline
    """Its events."""
    findings: tuple[LintFinding, ...]
    """What the clinical lint found."""

    @property
    def estimated_duration_s(self) -> float:
        """Estimated length of the track in seconds, before synthesis."""
        return estimate_duration_s(self.timeline, self.voice_profile.spoken_wpm, LEAD_IN_S, TAIL_S)


def length_phrase(duration_s: float) -> str:
    """How the opening says a length: ``one minute``, ``10 minutes``."""
    minutes = max(1, round(duration_s / 60.0))
    return "one minute" if minutes == 1 else f"{minutes} minutes"


def fill_script(
    spec: TemplateSpec,
    profile: ClientProfile,
    voice_profile: VoiceProfile,
    templates_dir: Path | None,
    length: str,
) -> tuple[RenderedScript, Timeline]:
    """Fill ``spec`` for ``profile`` saying the track lasts ``length``, and parse it."""
    script = render_script(
        spec,
        profile,
        templates_dir,
        extra={"track_title": spec.title.lower(), "track_length": length},
    )
    return script, parse_script(script.text, voice_profile.pacing)


def prepare_script(
    template_id: str,
    client_file: Path,
    templates_dir: Path | None = None,
    soundscape: str | None = None,
    voice_profile: str | None = None,
) -> PreparedScript:
    """Load, validate, fill and lint one template for one client.

    The opening's length is estimated from the voice's measured speaking rate; ``render``
    corrects it once the real speech exists.
    """
    specs = all_specs(templates_dir)
    profile = load_client_profile(client_file, known_fields(specs))
    spec = load_template(template_id, templates_dir)
    bed = get_soundscape(soundscape or str(profile.preferences.get("soundscape", "rain"))).info
    voice = load_voice_profile(voice_profile or str(profile.preferences.get("voice", "calm")))
    guess = length_phrase((spec.duration_min_s + spec.duration_max_s) / 2.0)
    _, timeline = fill_script(spec, profile, voice, templates_dir, guess)
    estimate = estimate_duration_s(timeline, voice.spoken_wpm, LEAD_IN_S, TAIL_S)
    script, timeline = fill_script(spec, profile, voice, templates_dir, length_phrase(estimate))
    findings = lint_script(spec, profile, script, timeline, voice.spoken_wpm, bed)
    return PreparedScript(spec, profile, voice, bed, script, timeline, tuple(findings))


def require_lint_clean(prepared: PreparedScript) -> None:
    """Raise :class:`LintError` listing every lint error; warnings do not stop a render."""
    if has_errors(list(prepared.findings)):
        errors = [str(f) for f in prepared.findings if f.severity == "error"]
        raise LintError(
            f"template '{prepared.spec.id}' did not pass the clinical lint for "
            f"{prepared.profile.source}:\n  " + "\n  ".join(errors)
        )


@dataclass(frozen=True)
class PreviewLine:
    """One line of a preview: when it starts and what is heard."""

    start_s: float
    """Estimated start in the track, in seconds."""
    text: str
    """Spoken text, or a bracketed description of a pause, tone or section."""


@dataclass(frozen=True)
class ScriptPreview:
    """A filled script with estimated timings; no audio."""

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


def preview_track(
    template_id: str,
    client_file: Path,
    templates_dir: Path | None = None,
    soundscape: str | None = None,
    voice_profile: str | None = None,
) -> ScriptPreview:
    """Prepare one template for one client and time it: the ``preview`` command."""
    prepared = prepare_script(template_id, client_file, templates_dir, soundscape, voice_profile)
    return preview_script(prepared)


def preview_script(prepared: PreparedScript) -> ScriptPreview:
    """Time every event of a prepared script from the voice's measured speaking rate."""
    wpm = prepared.voice_profile.spoken_wpm
    lines: list[PreviewLine] = []
    clock = LEAD_IN_S
    for event in prepared.timeline.events:
        if isinstance(event, Speech):
            lines.append(PreviewLine(clock, event.text))
            clock += event.slot_s or event.word_count / (wpm * event.rate_factor) * 60.0
        elif isinstance(event, Pause):
            if event.kind == "explicit":
                lines.append(PreviewLine(clock, f"[pause {event.duration_s:g}s]"))
            clock += event.duration_s
        elif isinstance(event, Tone):
            label = "chime" if event.phase == "chime" else f"tone: breathe {event.phase}"
            lines.append(PreviewLine(clock, f"[{label}, {event.duration_s:g}s]"))
            clock += event.duration_s
        else:
            lines.append(PreviewLine(clock, f"[section {event.title}]"))
    return ScriptPreview(
        prepared=prepared,
        lines=tuple(lines),
        duration_s=clock + TAIL_S,
        delivery_wpm=delivery_wpm(prepared.timeline, wpm),
        word_count=prepared.timeline.word_count,
    )
