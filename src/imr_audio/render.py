"""The render pipeline.

profile -> script -> timeline -> voice -> soundscape -> mix -> master -> export.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from imr_audio.authoring.templates import RenderedScript, TemplateSpec
from imr_audio.errors import MasteringError, TrackLengthError
from imr_audio.export import (
    ExportSettings,
    check_export_settings,
    conform_audio,
    decode_audio,
    export_track,
    section_chapters,
)
from imr_audio.length import (
    MAX_LENGTH_S,
    PauseScale,
    check_length_estimate,
    fit_to_length,
    parse_length,
)
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
from imr_audio.provenance import Provenance, build_provenance, sidecar_json
from imr_audio.soundscapes import render_soundscape
from imr_audio.timeline import Timeline
from imr_audio.transcript import (
    publish_companions,
    remove_companions,
    transcript_text,
    webvtt_captions,
)
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
    length_s: float | None = None
    """Target track length in seconds (``--length``), reached within 2 s by scaling the pauses;
    None uses the client's ``preferences.length``, else the script's own pacing."""


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
    target_duration_s: float | None = None
    """Length asked for, in seconds (``duration_s`` is the length achieved); None: none."""
    companions: tuple[Path, ...] = ()
    """Transcript (``.txt``), captions (``.vtt``) and provenance sidecar (``.json``)."""
    inputs_sha256: str = ""
    """Hash of every input of the track (the sidecar's ``inputs_sha256``)."""


def _loggable(name: str) -> str:
    """A name fit for a log line.

    A user's file path (a recording, a recordings folder) may carry a client's name, so it is
    logged only as a hash.
    """
    if "/" in name or "\\" in name or "." in Path(name).suffix:
        return f"user-file-{hashlib.sha256(name.encode()).hexdigest()[:12]}"
    return name


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


@dataclass(frozen=True)
class _Spoken:
    """The final script, its timeline, a clip per speech event, and the length it states."""

    script: RenderedScript
    timeline: Timeline
    clips: list[Clip]
    stated_length: str


def _script_and_clips(
    prepared: PreparedScript,
    voice: VoiceSettings,
    engine: SpeechEngine,
    settings: RenderSettings,
    progress: ProgressCallback | None,
    target_s: float | None = None,
) -> _Spoken:
    """Synthesise the script, and make the length its opening states match the real one.

    The opening says how long the track lasts; that is only known once the speech exists, so
    the script is filled again with the measured length and only changed sentences are redone.
    With a target length the opening states the target instead (the pauses are then fitted to it).
    """
    known: dict[tuple[str, int], Clip] = {}
    script, timeline = prepared.script, prepared.timeline
    phrase = length_phrase(prepared.estimated_duration_s)
    # Recordings are matched by the script's own text and were spoken right: no respelling.
    recorded = settings.recordings_dir is not None
    lexicon = None if recorded else speech_lexicon(prepared.profile.pronunciations)
    if target_s is not None:
        if recorded and length_phrase(target_s) != phrase:
            log.warning("the recorded opening says %s; the track lasts %s",
                        phrase, length_phrase(target_s))
        elif not recorded:
            phrase = length_phrase(target_s)
            script, timeline = fill_script(
                prepared.spec, prepared.profile, prepared.voice_profile, settings.templates_dir,
                phrase,
            )
        clips = _synthesize(engine, timeline, voice, known, progress, lexicon)
        return _Spoken(script, timeline, clips, phrase)
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
        script, timeline = fill_script(
            prepared.spec, prepared.profile, prepared.voice_profile, settings.templates_dir, phrase
        )
    else:
        # Out of passes (the stated length keeps flipping at a rounding edge): the clips must
        # still belong to the timeline that is returned.
        clips = _synthesize(engine, timeline, voice, known, progress, lexicon)
    return _Spoken(script, timeline, clips, phrase)


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
    check_export_settings(settings.export)  # a bad option or cover fails before any synthesis
    target_s = _target_length_s(prepared, settings)
    scale = PauseScale.narrowed(prepared.spec.pause_scale)
    if target_s is not None:  # refuse the obviously impossible before any synthesis
        check_length_estimate(
            prepared.timeline,
            prepared.voice_profile.spoken_wpm,
            target_s,
            lead_in_s=settings.mix.lead_in_s,
            tail_s=settings.mix.tail_s,
            template_id=prepared.spec.id,
            scale=scale,
        )
    log.info(
        "render template=%s voice=%s soundscape=%s",
        prepared.spec.id,
        prepared.voice_profile.id,
        _loggable(prepared.soundscape.name),
    )
    with EngineSet() as engines:
        if settings.recordings_dir is not None:
            engine = RecordedEngine(settings.recordings_dir, prepared.timeline)
            voice = engine.settings
        elif engine is None:
            engine, voice = engines.resolve(prepared.voice_profile)
        else:
            voice = resolve_voice(prepared.voice_profile, {engine.name: engine.voices()})
        log.info("voice engine=%s voice=%s", voice.engine, _loggable(voice.voice_id))
        if settings.use_cache and settings.recordings_dir is None:
            engine = CachedEngine(engine, SpeechCache.default(), owner=prepared.profile.id)
        spoken = _script_and_clips(prepared, voice, engine, settings, progress, target_s)
        engine_version = str(engine.version)
    timeline = spoken.timeline
    if target_s is not None:
        timeline = fit_to_length(
            timeline,
            [clip.duration_s for clip in spoken.clips],
            target_s,
            lead_in_s=settings.mix.lead_in_s,
            tail_s=settings.mix.tail_s,
            template_id=prepared.spec.id,
            scale=scale,
        )
    provenance = build_provenance(
        prepared, settings, voice, engine_version, target_s, spoken.stated_length
    )
    log.info("inputs sha256=%s", provenance.inputs_sha256)
    return _mix_master_export(
        prepared.spec,
        prepared.profile,
        timeline,
        spoken.clips,
        voice,
        prepared.soundscape.name,
        out_dir,
        settings,
        progress,
        _Companions(spoken.script.text, provenance),
    )


def _target_length_s(prepared: PreparedScript, settings: RenderSettings) -> float | None:
    """The length asked for: the render setting, else the client's ``preferences.length``."""
    if settings.length_s is not None:
        if not 0 < settings.length_s <= MAX_LENGTH_S:
            raise TrackLengthError(
                f"a length must be more than 0 and at most {MAX_LENGTH_S / 3600:g} hours"
            )
        return settings.length_s
    preferred = prepared.profile.preferences.get("length")
    return None if preferred is None else parse_length(str(preferred))


@dataclass(frozen=True)
class _Companions:
    """What the files beside the track are made from."""

    script_text: str
    """The filled script the timeline was parsed from (its blank lines end paragraphs)."""
    provenance: Provenance
    """The sidecar's facts."""


def _publish_companions(result: RenderResult, companions: _Companions, fmt: str) -> RenderResult:
    """Write the transcript, captions and sidecar beside the track; the result names them."""
    provenance = companions.provenance
    texts = {
        ".txt": transcript_text(companions.script_text, result.timeline),
        ".vtt": webvtt_captions(result.placements),
        ".json": sidecar_json(
            provenance,
            file_name=result.path.name,
            audio_format=fmt,
            duration_s=result.duration_s,
            loudness=result.loudness,
        ),
    }
    return replace(
        result,
        companions=publish_companions(result.path, texts),
        target_duration_s=provenance.target_duration_s,
        inputs_sha256=provenance.inputs_sha256,
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
    companions: _Companions | None = None,
) -> RenderResult:
    rate = settings.mix.sample_rate_hz
    report(progress, "mix", 0, 2)
    voice_stem, placements = place_speech(timeline, clips, settings.mix)
    bed = render_soundscape(bed_name, len(voice_stem) / rate, rate, settings.seed)
    levels = measure_stems(voice_stem, bed, rate)
    mixed, bed_gain_db = mix_stems(voice_stem, bed, placements, levels, settings.mix)
    del bed, voice_stem
    # Master exactly what is encoded: the channels and sample rate the export asks for.
    mixed, rate = conform_audio(mixed, rate, settings.export)
    report(progress, "mix", 2, 2)
    path = output_path(out_dir, profile.id, spec.id, settings.export.format)
    tags = settings.export.tags(spec.title)
    chapters = section_chapters(timeline, placements, len(mixed) / rate)
    # Measure the written file: a lossy encoder can raise true peaks a little or shift the
    # loudness. If it did, master again with the measured error taken off and encode again.
    ceiling_offset_db = loudness_offset_db = 0.0
    target = settings.master.target_lufs
    for attempt in range(3):
        report(progress, "master", attempt, 3)
        mastered, _ = master(mixed, rate, settings.master, ceiling_offset_db, loudness_offset_db)
        report(progress, "export", attempt, 3)
        export_track(mastered, rate, path, settings.export, tags, chapters)
        del mastered
        decoded, decoded_rate = decode_audio(path)
        measured = measure_loudness(decoded, decoded_rate)
        overshoot_db = measured.true_peak_dbtp - settings.master.true_peak_dbtp
        loudness_error_db = target - measured.integrated_lufs
        if overshoot_db <= 0 and abs(loudness_error_db) <= 0.2:
            report(progress, "export", 3, 3)
            result = RenderResult(
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
            if companions is not None:
                result = _publish_companions(result, companions, settings.export.format)
            return result
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
    remove_companions(path)
    raise MasteringError(
        f"{path.name}: the encoded track measured {measured.integrated_lufs:.1f} LUFS and "
        f"{measured.true_peak_dbtp:.1f} dBTP; targets {settings.master.target_lufs:g} LUFS and "
        f"at most {settings.master.true_peak_dbtp:g} dBTP"
    )
