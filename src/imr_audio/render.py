"""The render pipeline.

profile -> script -> timeline -> voice -> soundscape -> mix -> master -> export.
"""

from __future__ import annotations

import json
import logging
import math
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from imr_audio.audio import Clip
from imr_audio.authoring.templates import RenderedScript, TemplateSpec
from imr_audio.clipstore import ClipStore, StoredClip
from imr_audio.errors import TrackLengthError
from imr_audio.export import ExportSettings, check_export_settings, section_chapters
from imr_audio.length import (
    MAX_LENGTH_S,
    PauseScale,
    check_length_estimate,
    fit_to_length,
    parse_length,
)
from imr_audio.master import LoudnessMeasurement, MasterSettings
from imr_audio.mix import MixSettings, Placement, layout_speech
from imr_audio.mixdown import mixdown
from imr_audio.prepare import (
    PreparedScript,
    fill_script,
    length_phrase,
    prepare_script,
    require_lint_clean,
)
from imr_audio.profile import ClientProfile, check_eligibility
from imr_audio.progress import ProgressCallback, Tally
from imr_audio.provenance import (
    Provenance,
    bed_definition,
    build_provenance,
    inputs_sha256,
    sidecar_json,
)
from imr_audio.secret import keyed_hash
from imr_audio.soundscapes.bedcache import BedCache
from imr_audio.timeline import Timeline
from imr_audio.transcript import (
    companion_paths,
    publish_companions,
    remove_companions,
    transcript_text,
    webvtt_captions,
)
from imr_audio.voice import (
    SpeechEngine,
    SpeechRequest,
    VoiceSettings,
    resolve_voice,
)
from imr_audio.voice.cache import CachedEngine, SpeechCache
from imr_audio.voice.lexicon import Lexicon, speech_lexicon
from imr_audio.voice.recorded import RecordedEngine
from imr_audio.voice.registry import EngineSet

__all__ = ["RenderResult", "RenderSettings", "current_result", "output_path", "render_track"]

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
    skip_if_current: bool = False
    """Do not render when the track, its transcript, captions and sidecar exist and the
    sidecar's ``inputs_sha256`` equals this render's (see :func:`current_result`); not an
    input of the track."""


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
    skipped: bool = False
    """True when the track was up to date and not rendered again (``skip_if_current``): the
    measurements are then the sidecar's, ``timeline`` is the script as estimated before
    synthesis, ``placements`` is empty and ``bed_gain_db`` is NaN."""


def _loggable(name: str) -> str:
    """A soundscape name fit for a log line.

    A user's audio file (a bed recording) may be named after a client, so a name that is a
    file path is logged only as a keyed hash (see :mod:`imr_audio.secret`).
    """
    if "/" in name or "\\" in name or Path(name).suffix:
        return f"user-file-{keyed_hash('log-name', name.encode('utf-8'))[:12]}"
    return name


def output_path(out_dir: Path, client_id: str, template_id: str, fmt: str) -> Path:
    """Name of a track: the client's pseudonymous id and the template id, never a name."""
    return out_dir / f"{client_id}_{template_id}.{fmt}"


_SYNTHESIS_BATCH = 32
"""Requests per engine call: at most this many new clips are in memory before they are stored."""


def _synthesize(
    engine: SpeechEngine,
    timeline: Timeline,
    voice: VoiceSettings,
    known: dict[tuple[str, int], StoredClip],
    store: ClipStore,
    progress: ProgressCallback | None,
    lexicon: Lexicon | None = None,
) -> list[StoredClip]:
    """Clips for every speech event, synthesising each (text, rate) not already in ``known``.

    ``lexicon`` respells the text sent to the engine; the timeline's text stays as written.
    Clips go into ``store`` as they come, a batch at a time, so that a long script's speech is
    never all in memory.
    """
    wanted: dict[tuple[str, int], SpeechRequest] = {}
    keys = []
    for speech in timeline.speech:
        text = lexicon.apply(speech.text) if lexicon else speech.text
        key = (text, round(voice.rate_wpm * speech.rate_factor))
        keys.append(key)
        if key not in known and key not in wanted:
            wanted[key] = SpeechRequest(text, speech.line, rate_wpm=key[1])
    new_keys, requests = list(wanted), list(wanted.values())
    tally = Tally(progress, len(requests))
    for first in range(0, len(requests), _SYNTHESIS_BATCH):
        batch = slice(first, first + _SYNTHESIS_BATCH)
        clips = engine.synthesize(requests[batch], voice, tally.part())
        for key, clip in zip(new_keys[batch], clips, strict=True):
            known[key] = store.add(clip)
        tally.done += len(clips)
    return [known[key] for key in keys]


@dataclass(frozen=True)
class _Spoken:
    """The final script, its timeline, a clip per speech event, and the length it states."""

    script: RenderedScript
    timeline: Timeline
    clips: list[StoredClip]
    stated_length: str


def _script_and_clips(
    prepared: PreparedScript,
    voice: VoiceSettings,
    engine: SpeechEngine,
    settings: RenderSettings,
    progress: ProgressCallback | None,
    store: ClipStore,
    target_s: float | None = None,
) -> _Spoken:
    """Synthesise the script, and make the length its opening states match the real one.

    The opening says how long the track lasts; that is only known once the speech exists, so
    the script is filled again with the measured length and only changed sentences are redone.
    With a target length the opening states the target instead (the pauses are then fitted to it).
    """
    known: dict[tuple[str, int], StoredClip] = {}
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
        clips = _synthesize(engine, timeline, voice, known, store, progress, lexicon)
        return _Spoken(script, timeline, clips, phrase)
    for _ in range(_MAX_LENGTH_PASSES):
        clips = _synthesize(engine, timeline, voice, known, store, progress, lexicon)
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
        clips = _synthesize(engine, timeline, voice, known, store, progress, lexicon)
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
    # Speech goes to a nameless temporary file as it is synthesised (see imr_audio.clipstore)
    # and is read back block by block while mixing, so memory does not grow with the length.
    with ClipStore(settings.mix.sample_rate_hz) as store:
        # The engines, and their worker processes (Piper's holds onnxruntime's memory), are
        # stopped when this block ends: before the track is mixed.
        with EngineSet() as engines:
            if settings.recordings_dir is not None:
                engine = RecordedEngine(settings.recordings_dir, prepared.timeline)
                voice = engine.settings
            elif engine is None:
                engine, voice = engines.resolve(prepared.voice_profile)
            else:
                voice = resolve_voice(prepared.voice_profile, {engine.name: engine.voices()})
            # A recordings folder's path may name a client; an engine's voice id never does.
            shown = "own recordings" if voice.engine == "recorded" else voice.voice_id
            log.info("voice engine=%s voice=%s", voice.engine, shown)
            if settings.use_cache and settings.recordings_dir is None:
                engine = CachedEngine(engine, SpeechCache.default(), owner=prepared.profile.id)
            if settings.skip_if_current:
                current = current_result(prepared, settings, voice, str(engine.version), out_dir)
                if current is not None:
                    log.info("up to date, not rendered: inputs sha256=%s", current.inputs_sha256)
                    return current
            spoken = _script_and_clips(prepared, voice, engine, settings, progress, store,
                                       target_s)
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
    clips: Sequence[Clip | StoredClip],
    voice: VoiceSettings,
    bed_name: str,
    out_dir: Path,
    settings: RenderSettings,
    progress: ProgressCallback | None,
    companions: _Companions | None = None,
) -> RenderResult:
    """Mix, master and publish the track block by block (see :mod:`imr_audio.mixdown`)."""
    layout, placements = layout_speech(timeline, clips, settings.mix)
    path = output_path(out_dir, profile.id, spec.id, settings.export.format)
    chapters = section_chapters(
        timeline, placements, layout.frames / layout.sample_rate_hz
    )
    try:
        done = mixdown(
            layout,
            placements,
            bed_name,
            bed_definition(bed_name),
            settings.seed,
            path,
            (settings.mix, settings.master, settings.export),
            settings.export.tags(spec.title),
            chapters,
            beds=BedCache.default() if settings.use_cache else None,
            progress=progress,
        )
    except BaseException:
        remove_companions(path)
        raise
    if done.attempts > 1:
        log.info("%s took %d encodings to meet the loudness targets", spec.id, done.attempts)
    result = RenderResult(
        path=path,
        template_id=spec.id,
        client_id=profile.id,
        duration_s=done.exported.duration_s,
        loudness=done.exported.loudness,
        timeline=timeline,
        placements=placements,
        bed_gain_db=done.bed_gain_db,
        voice=voice,
    )
    if companions is not None:
        result = _publish_companions(result, companions, settings.export.format)
    return result


def _sidecar_number(data: dict[str, Any], *keys: str) -> float | None:
    """A number nested in the sidecar under ``keys``, or None."""
    value: Any = data
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def current_result(
    prepared: PreparedScript,
    settings: RenderSettings,
    voice: VoiceSettings,
    engine_version: str,
    out_dir: Path,
) -> RenderResult | None:
    """The published track in ``out_dir`` if it is up to date with these inputs, else None.

    Up to date means: the track and its transcript, captions and sidecar are regular files; the
    sidecar names the track and holds this render's ``inputs_sha256``; and the sidecar is not
    older than the other three. The sidecar is published last, so a render that was stopped
    after the track but before its sidecar (or that left an older sidecar beside a newer track)
    never counts as up to date. The result is marked ``skipped`` and measured by the sidecar.
    """
    target_s = _target_length_s(prepared, settings)
    path = output_path(out_dir, prepared.profile.id, prepared.spec.id, settings.export.format)
    sidecar, *others = (path.with_suffix(".json"), path, path.with_suffix(".txt"),
                        path.with_suffix(".vtt"))
    try:
        stats = {p: p.lstat() for p in (sidecar, *others)}
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not all(stat.S_ISREG(s.st_mode) for s in stats.values()) or not isinstance(data, dict):
        return None
    if any(stats[p].st_mtime_ns > stats[sidecar].st_mtime_ns for p in others):
        return None
    wanted = inputs_sha256(prepared, settings, voice, engine_version, target_s)
    duration_s = _sidecar_number(data, "duration_s")
    lufs = _sidecar_number(data, "loudness", "integrated_lufs")
    peak = _sidecar_number(data, "loudness", "true_peak_dbtp")
    if (
        data.get("inputs_sha256") != wanted
        or data.get("file") != path.name
        or duration_s is None
        or lufs is None
        or peak is None
    ):
        return None
    return RenderResult(
        path=path,
        template_id=prepared.spec.id,
        client_id=prepared.profile.id,
        duration_s=duration_s,
        loudness=LoudnessMeasurement(integrated_lufs=lufs, true_peak_dbtp=peak),
        timeline=prepared.timeline,
        placements=(),
        bed_gain_db=math.nan,
        voice=voice,
        target_duration_s=target_s,
        companions=companion_paths(path),
        inputs_sha256=wanted,
        skipped=True,
    )
