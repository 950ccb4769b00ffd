"""The render pipeline.

profile -> script -> timeline -> voice -> soundscape -> mix -> master -> export.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from imr_audio.authoring.templates import TemplateSpec
from imr_audio.errors import MasteringError
from imr_audio.export import ExportSettings, TrackTags, decode_audio, export_track
from imr_audio.master import LoudnessMeasurement, MasterSettings, master, measure_loudness
from imr_audio.mix import MixSettings, Placement, measure_stems, mix_stems, place_speech
from imr_audio.prepare import (
    PreparedScript,
    fill_script,
    length_phrase,
    prepare_script,
    require_lint_clean,
)
from imr_audio.profile import ClientProfile, check_eligibility
from imr_audio.progress import ProgressCallback, report
from imr_audio.soundscapes import render_soundscape
from imr_audio.timeline import Timeline
from imr_audio.voice import (
    Clip,
    SpeechEngine,
    SpeechRequest,
    VoiceSettings,
    resolve_voice,
)
from imr_audio.voice.cache import CachedEngine, SpeechCache
from imr_audio.voice.lexicon import Lexicon, speech_lexicon
from imr_audio.voice.recorded import RecordedEngine
from imr_audio.voice.registry import EngineSet

__all__ = ["RenderResult", "RenderSettings", "output_path", "render_track"]

log = logging.getLogger(__name__)

_MAX_LENGTH_PASSES = 3


@dataclass(frozen=True)
class RenderSettings:
    """Everything about a render except the client and the template."""

    soundscape: str | None = None
    """Bed name; None uses the client's preference, else ``rain``."""
    voice_profile: str | None = None
    """Voice profile id; None uses the client's preference, else ``calm``."""
    seed: int = 0
    """Seed of the procedural bed (same seed, same bed)."""
    templates_dir: Path | None = None
    """A therapist's own templates folder, searched before the shipped one."""
    mix: MixSettings = field(default_factory=MixSettings)
    """Placement, fades and ducking."""
    master: MasterSettings = field(default_factory=MasterSettings)
    """Loudness targets."""
    export: ExportSettings = field(default_factory=ExportSettings)
    """Format and encoder settings."""
    recordings_dir: Path | None = None
    """The therapist's own recordings (named as ``record-sheet`` says), used instead of the voice
    profile's engine; the opening's stated length is then the one recorded, not corrected."""
    use_cache: bool = True
    """Reuse clips from the speech cache and store new ones there (see ``imr-audio cache``)."""


@dataclass(frozen=True)
class RenderResult:
    """What a render produced, as measured from the written file."""

    path: Path
    """The published track."""
    template_id: str
    """Template rendered."""
    client_id: str
    """Pseudonymous client id."""
    duration_s: float
    """Length of the decoded file, in seconds."""
    loudness: LoudnessMeasurement
    """Loudness and true peak measured on the decoded file."""
    timeline: Timeline
    """The script's events."""
    placements: tuple[Placement, ...]
    """Where each speech event sits in the track."""
    bed_gain_db: float
    """Static gain applied to the bed before ducking, in dB."""
    voice: VoiceSettings
    """The voice actually used."""


def output_path(out_dir: Path, client_id: str, template_id: str, fmt: str) -> Path:
    """Name of a track: the client's pseudonymous id and the template id, never a name."""
    return out_dir / f"{client_id}_{template_id}.{fmt}"


def _synthesize(
    engine: SpeechEngine,
    timeline: Timeline,
    voice: VoiceSettings,
    known: dict[tuple[str, int], Clip],
    progress: ProgressCallback | None,
    lexicon: Lexicon | None = None,
) -> list[Clip]:
    """Clips for every speech event, synthesising each (text, rate) not already in ``known``.

    ``lexicon`` respells the text sent to the engine; the timeline's text stays as written.
    """
    wanted: dict[tuple[str, int], SpeechRequest] = {}
    keys = []
    for speech in timeline.speech:
        text = lexicon.apply(speech.text) if lexicon else speech.text
        key = (text, round(voice.rate_wpm * speech.rate_factor))
        keys.append(key)
        if key not in known and key not in wanted:
            wanted[key] = SpeechRequest(text, speech.line, rate_wpm=key[1])
    requests = list(wanted.values())
    for key, clip in zip(wanted, engine.synthesize(requests, voice, progress), strict=True):
        known[key] = clip
    return [known[key] for key in keys]


def _script_and_clips(
    prepared: PreparedScript,
    voice: VoiceSettings,
    engine: SpeechEngine,
    settings: RenderSettings,
    progress: ProgressCallback | None,
) -> tuple[Timeline, list[Clip]]:
    """Synthesise the script, and make the length its opening states match the real one.

    The opening says how long the track lasts; that is only known once the speech exists, so
    the script is filled again with the measured length and only changed sentences are redone.
    """
    known: dict[tuple[str, int], Clip] = {}
    timeline = prepared.timeline
    phrase = length_phrase(prepared.estimated_duration_s)
    # Recordings are matched by the script's own text and were spoken right: no respelling.
    recorded = settings.recordings_dir is not None
    lexicon = None if recorded else speech_lexicon(prepared.profile.pronunciations)
    for _ in range(_MAX_LENGTH_PASSES):
        clips = _synthesize(engine, timeline, voice, known, progress, lexicon)
        speech_s = sum(
            c.duration_s for c, s in zip(clips, timeline.speech, strict=True) if s.slot_s is None
        )
        measured_s = speech_s + timeline.pause_s + settings.mix.lead_in_s + settings.mix.tail_s
        if length_phrase(measured_s) == phrase:
            break
        if settings.recordings_dir is not None:  # recorded words cannot be changed
            log.warning("the recorded opening says %s; the track lasts %s",
                        phrase, length_phrase(measured_s))
            break
        phrase = length_phrase(measured_s)
        _, timeline = fill_script(
            prepared.spec, prepared.profile, prepared.voice_profile, settings.templates_dir, phrase
        )
    else:
        # Out of passes (the stated length keeps flipping at a rounding edge): the clips must
        # still belong to the timeline that is returned.
        clips = _synthesize(engine, timeline, voice, known, progress, lexicon)
    return timeline, clips


def render_track(
    template_id: str,
    client_file: Path,
    out_dir: Path,
    settings: RenderSettings | None = None,
    progress: ProgressCallback | None = None,
    engine: SpeechEngine | None = None,
) -> RenderResult:
    """Render one client's track from one template and publish it in ``out_dir``.

    The filled script must pass the clinical lint first (:class:`LintError` otherwise).
    Raises an :class:`~imr_audio.errors.ImrAudioError` subclass on any failure; nothing is left
    at the output path then.
    """
    settings = settings or RenderSettings()
    prepared = prepare_script(
        template_id,
        client_file,
        settings.templates_dir,
        settings.soundscape,
        settings.voice_profile,
    )
    check_eligibility(prepared.profile)  # first, and on its own: it outranks every other finding
    require_lint_clean(prepared)
    log.info(
        "render template=%s voice=%s soundscape=%s",
        prepared.spec.id,
        prepared.voice_profile.id,
        prepared.soundscape.name,
    )
    with EngineSet() as engines:
        if settings.recordings_dir is not None:
            engine = RecordedEngine(settings.recordings_dir, prepared.timeline)
            voice = engine.settings
        elif engine is None:
            engine, voice = engines.resolve(prepared.voice_profile)
        else:
            voice = resolve_voice(prepared.voice_profile, {engine.name: engine.voices()})
        log.info("voice engine=%s voice=%s", voice.engine, voice.voice_id)
        if settings.use_cache and settings.recordings_dir is None:
            engine = CachedEngine(engine, SpeechCache.default(), owner=prepared.profile.id)
        timeline, clips = _script_and_clips(prepared, voice, engine, settings, progress)
    return _mix_master_export(
        prepared.spec,
        prepared.profile,
        timeline,
        clips,
        voice,
        prepared.soundscape.name,
        out_dir,
        settings,
        progress,
    )


def _mix_master_export(
    spec: TemplateSpec,
    profile: ClientProfile,
    timeline: Timeline,
    clips: Sequence[Clip],
    voice: VoiceSettings,
    bed_name: str,
    out_dir: Path,
    settings: RenderSettings,
    progress: ProgressCallback | None,
) -> RenderResult:
    rate = settings.mix.sample_rate_hz
    report(progress, "mix", 0, 2)
    voice_stem, placements = place_speech(timeline, clips, settings.mix)
    bed = render_soundscape(bed_name, len(voice_stem) / rate, rate, settings.seed)
    levels = measure_stems(voice_stem, bed, rate)
    mixed, bed_gain_db = mix_stems(voice_stem, bed, placements, levels, settings.mix)
    del bed, voice_stem
    report(progress, "mix", 2, 2)
    path = output_path(out_dir, profile.id, spec.id, settings.export.format)
    tags = TrackTags(title=spec.title)
    # Measure the written file: a lossy encoder can raise true peaks a little or shift the
    # loudness. If it did, master again with the measured error taken off and encode again.
    ceiling_offset_db = loudness_offset_db = 0.0
    target = settings.master.target_lufs
    for attempt in range(3):
        report(progress, "master", attempt, 3)
        mastered, _ = master(mixed, rate, settings.master, ceiling_offset_db, loudness_offset_db)
        report(progress, "export", attempt, 3)
        export_track(mastered, rate, path, settings.export, tags)
        del mastered
        decoded, decoded_rate = decode_audio(path)
        measured = measure_loudness(decoded, decoded_rate)
        overshoot_db = measured.true_peak_dbtp - settings.master.true_peak_dbtp
        loudness_error_db = target - measured.integrated_lufs
        if overshoot_db <= 0 and abs(loudness_error_db) <= 0.2:
            report(progress, "export", 3, 3)
            return RenderResult(
                path=path,
                template_id=spec.id,
                client_id=profile.id,
                duration_s=len(decoded) / decoded_rate,
                loudness=measured,
                timeline=timeline,
                placements=placements,
                bed_gain_db=bed_gain_db,
                voice=voice,
            )
        log.info(
            "re-mastering %s: encoded loudness off by %.2f LU, true peak over by %.2f dB",
            spec.id,
            loudness_error_db,
            max(overshoot_db, 0.0),
        )
        loudness_offset_db += loudness_error_db
        if overshoot_db > 0:
            ceiling_offset_db += overshoot_db + 0.2
    path.unlink(missing_ok=True)
    raise MasteringError(
        f"{path.name}: the encoded track measured {measured.integrated_lufs:.1f} LUFS and "
        f"{measured.true_peak_dbtp:.1f} dBTP; targets {settings.master.target_lufs:g} LUFS and "
        f"at most {settings.master.true_peak_dbtp:g} dBTP"
    )
