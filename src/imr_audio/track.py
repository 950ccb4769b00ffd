"""The render pipeline: prepare -> speak -> plan the mix -> master and write.

:func:`render` composes the stages for one client's track; each stage is a function of its own
(:func:`~imr_audio.script.prepare`, :func:`~imr_audio.speech.speak`,
:func:`~imr_audio.mixplan.plan_mix`, :func:`write_track`) that takes the previous stage's frozen
value and its own settings.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import stat
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from imr_audio.clipstore import ClipStore
from imr_audio.errors import ExportError
from imr_audio.export import ExportSettings, check_export_settings
from imr_audio.files import writable_dir_problem
from imr_audio.master import LoudnessMeasurement, MasterSettings
from imr_audio.mix import MixSettings, Placement
from imr_audio.mixdown import VoiceLoudness, measure_voice, mixdown
from imr_audio.mixplan import BedChoice, MixPlan, bed_cache_key, bed_choice, plan_mix
from imr_audio.profile import ClientProfile
from imr_audio.progress import Progress, ProgressCallback, report
from imr_audio.provenance import (
    TrackInputs,
    build_provenance,
    inputs_sha256,
    sidecar_json,
)
from imr_audio.script import PreparedScript, ScriptChoices, prepare, require_renderable
from imr_audio.soundscapes.bedcache import segments_for
from imr_audio.speech import (
    SpeechSettings,
    SpokenScript,
    check_target_length,
    open_speaker,
    speak,
)
from imr_audio.timeline import Timeline
from imr_audio.trackset import companion_paths, legacy_companion_paths, staged_track_set
from imr_audio.transcript import transcript_text, webvtt_captions
from imr_audio.voice.base import SpeechEngine, VoiceSettings
from imr_audio.voice.registry import EngineSet
from imr_audio.workspace import Workspace

__all__ = [
    "RenderResult",
    "RenderSettings",
    "current_result",
    "current_track",
    "output_path",
    "render",
    "voice_change_notice",
    "write_track",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RenderSettings:
    """Everything about a render except the workspace, the client and the template."""

    soundscape: str | None = None
    """Bed name; None uses the client's preference, else ``rain``."""
    voice_profile: str | None = None
    """Voice profile id; None uses the client's preference, else ``calm``."""
    seed: int = 0
    """Seed of the procedural bed (same seed, same bed)."""
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
    """Reuse clips from the speech cache and beds from the bed cache, and store new ones."""
    length_s: float | None = None
    """Target track length in seconds (``--length``), reached within 2 s by scaling the pauses;
    None uses the client's ``preferences.length``, else the script's own pacing."""
    skip_if_current: bool = False
    """Do not render when the track, its transcript, captions and sidecar exist and the
    sidecar's ``inputs_sha256`` equals this render's (see :func:`current_result`); not an
    input of the track."""

    @property
    def choices(self) -> ScriptChoices:
        """What the preparing stage takes of these settings."""
        return ScriptChoices(self.soundscape, self.voice_profile, self.length_s)

    @property
    def speech(self) -> SpeechSettings:
        """What the speaking stage takes of these settings."""
        return SpeechSettings(recordings_dir=self.recordings_dir, use_cache=self.use_cache)


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
    notices: tuple[str, ...] = ()
    """What the therapist should know about this render: the voice profile fell back to
    another engine here, or the track it replaced was spoken by another voice."""


def _loggable(workspace: Workspace, name: str) -> str:
    """A soundscape name fit for a log line.

    A user's audio file (a bed recording) may be named after a client, so a name that is a
    file path is logged only as a keyed hash (see :mod:`imr_audio.secret`).
    """
    if "/" in name or "\\" in name or Path(name).suffix:
        return f"user-file-{workspace.key.hash('log-name', name.encode('utf-8'))[:12]}"
    return name


def output_path(output_dir: Path, client_id: str, template_id: str, fmt: str) -> Path:
    """Name of a track: the client's pseudonymous id and the template id, never a name."""
    return output_dir / f"{client_id}_{template_id}.{fmt}"


def render(
    workspace: Workspace,
    template_id: str,
    profile: ClientProfile,
    output_dir: Path,
    settings: RenderSettings | None = None,
    progress: ProgressCallback | None = None,
    engine: SpeechEngine | None = None,
) -> RenderResult:
    """Render one client's track from one template and publish it in ``output_dir``.

    The client must be eligible and the filled script must pass the clinical lint first
    (:func:`~imr_audio.script.require_renderable`). ``engine`` speaks instead of the voice
    profile's engines (a test's stand-in, say). Raises an
    :class:`~imr_audio.errors.ImrAudioError` subclass on any failure; nothing is left at the
    output path then.
    """
    settings = settings or RenderSettings()
    prepared = prepare(workspace, template_id, profile, settings.choices, settings.mix)
    require_renderable(prepared)
    check_export_settings(settings.export)  # a bad option or cover fails before any synthesis
    check_target_length(prepared)  # refuse the obviously impossible before any synthesis
    problem = writable_dir_problem(output_dir)
    if problem is not None:  # before any cost, not after the speech is made
        raise ExportError(f"{output_dir}: cannot write there ({problem})")
    cache_notice = ""
    if settings.use_cache and (problem := writable_dir_problem(workspace.config.cache_dir)):
        cache_notice = (f"the cache folder {workspace.config.cache_dir} cannot be written "
                        f"({problem}): this track is rendered without the cache")
        log.warning("%s", cache_notice)
        settings = replace(settings, use_cache=False)
    log.info(
        "render template=%s voice=%s soundscape=%s",
        prepared.spec.id,
        prepared.voice_profile.id,
        _loggable(workspace, prepared.soundscape.name),
    )
    bed = bed_choice(workspace, prepared.soundscape.name, settings.seed)
    # Speech goes to a nameless temporary file as it is synthesised (see imr_audio.clipstore)
    # and is read back block by block while mixing, so memory does not grow with the length.
    with ClipStore(settings.mix.sample_rate_hz) as store, contextlib.ExitStack() as ahead:
        # The bed is made ahead from before the engine starts (its worker processes take a
        # moment to start, in which this process is free), unless the track may turn out to
        # be up to date: then only once it is known not to be.
        bed_needed = (None if settings.skip_if_current else
                      ahead.enter_context(_bed_ahead(workspace, prepared, bed, settings,
                                                     progress)))
        # The engines, and their worker processes (Piper's holds onnxruntime's memory), are
        # stopped when this block ends: before the track is mixed, while a bed made ahead
        # may still be finishing.
        with EngineSet(workspace.engines) as engines:
            speaker = open_speaker(workspace, prepared, settings.speech, engines, engine)
            if bed_needed is None:
                inputs = TrackInputs(prepared, speaker.voice, speaker.version, bed,
                                     settings.mix, settings.master, settings.export)
                current = current_result(workspace, inputs, output_dir)
                if current is not None:
                    log.info("up to date, not rendered: inputs sha256=%s", current.inputs_sha256)
                    return current
                bed_needed = ahead.enter_context(_bed_ahead(workspace, prepared, bed, settings,
                                                            progress))
            spoken = speak(workspace, prepared, speaker, store, progress)
        plan = plan_mix(spoken, settings.mix, bed)
        bed_needed(plan.duration_s)
        voice = measure_voice(plan.layout)  # meanwhile a bed made ahead may be finishing
        ahead.close()  # waits for the bed made ahead: the mix reads what it stored
        path = output_path(output_dir, prepared.profile.id, prepared.spec.id,
                           settings.export.format)
        notices = tuple(n for n in (cache_notice, speaker.fallback,
                                    voice_change_notice(path, speaker.voice)) if n)
        result = write_track(workspace, spoken, plan, settings.master, settings.export,
                             output_dir, progress=progress, use_cache=settings.use_cache,
                             voice=voice)
    return replace(result, notices=notices)


def current_track(
    workspace: Workspace,
    template_id: str,
    profile: ClientProfile,
    output_dir: Path,
    settings: RenderSettings,
    engines: EngineSet,
) -> RenderResult | None:
    """The published track in ``output_dir`` if :func:`render` would skip it as up to date.

    What :func:`render` checks before any synthesis, without rendering: a cluster batch asks
    this on the submitting machine, with its engines (open in ``engines``), so that up-to-date
    tracks are never sent. Raises as :func:`render` does for a client or script that cannot be
    rendered.
    """
    prepared = prepare(workspace, template_id, profile, settings.choices, settings.mix)
    require_renderable(prepared)
    check_export_settings(settings.export)
    check_target_length(prepared)
    bed = bed_choice(workspace, prepared.soundscape.name, settings.seed)
    speaker = open_speaker(workspace, prepared, settings.speech, engines)
    inputs = TrackInputs(prepared, speaker.voice, speaker.version, bed, settings.mix,
                         settings.master, settings.export)
    return current_result(workspace, inputs, output_dir)


_SPEECH_SPREAD = 1.4
"""How much longer than its estimate speech may come out (see :mod:`imr_audio.length`)."""


@contextlib.contextmanager
def _bed_ahead(
    workspace: Workspace,
    prepared: PreparedScript,
    bed: BedChoice,
    settings: RenderSettings,
    progress: ProgressCallback | None = None,
) -> Iterator[Callable[[float], None]]:
    """Render the bed into the bed cache in a thread of its own while the speech is made.

    The speech is made in worker processes, so this process is free: a cold render then costs
    about the slower of the two instead of their sum. The bed is made long enough for the
    longest the speech may come out (the track's length is known only once it exists); its
    first frames do not depend on its length, so the mix reads what was made here. The caller
    says the track's length once it is known (the function yielded): the bed then stops at the
    last segment the track needs instead of making the margin too. A bed of which an earlier
    render stored the start is made (from its start) only if the track needs more than that.
    Without the bed cache there is nowhere to keep it: nothing is done ahead then. Once the
    speech is done, a bed still being made reports its progress as the stage ``soundscape``. A
    failure here is left to the mix, which makes the bed again and reports it.
    """
    needed_s: list[float] = []
    if not settings.use_cache:
        yield needed_s.append
        return
    expected_s = prepared.target_length_s or prepared.estimated_duration_s * _SPEECH_SPREAD
    speech_done, failed, known = threading.Event(), threading.Event(), threading.Event()
    latest: list[Progress] = []
    rate_hz = settings.mix.sample_rate_hz
    key = bed_cache_key(bed)
    stored_s = workspace.bed_cache.stored_s(key, rate_hz, bed.seed)

    def bed_progress(step: Progress) -> None:
        if failed.is_set():
            raise _BedNotNeeded  # the speech failed: the bed stops at its next segment
        if needed_s and step.done < step.total and step.done >= segments_for(needed_s[0],
                                                                            rate_hz):
            raise _BedNotNeeded  # every segment the track needs is made and stored
        latest[:] = [step]
        if speech_done.is_set():
            report(progress, "soundscape", step.done, step.total)

    def make() -> None:
        length_s = expected_s + 60.0
        if stored_s > 0.0:
            # An earlier render stored the start of this bed. A bed is made from its start,
            # so making more would make again what is stored: wait for the track's length,
            # which is most often within what is stored (a warm render).
            known.wait()
            if failed.is_set() or not needed_s or needed_s[0] <= stored_s:
                return
            length_s = needed_s[0]
        workspace.bed_cache.cells(key, bed.soundscape, length_s, rate_hz, bed.seed,
                                  bed_progress)

    def needed(duration_s: float) -> None:
        needed_s.append(duration_s)
        known.set()

    with ThreadPoolExecutor(1, thread_name_prefix="imr-bed-ahead") as pool:
        done = pool.submit(make)
        try:
            yield needed
        except BaseException:
            failed.set()
            raise
        finally:
            speech_done.set()
            known.set()
            if not failed.is_set() and not done.done() and latest:
                report(progress, "soundscape", latest[0].done, latest[0].total)
            error = done.exception()  # waits for it: the mix reads what it stored
            if error is not None and not isinstance(error, _BedNotNeeded):
                log.debug("the bed was not made ahead (%s)", type(error).__name__)


class _BedNotNeeded(Exception):
    """Ends a bed made ahead for speech that failed."""


def voice_change_notice(path: Path, voice: VoiceSettings) -> str:
    """A sentence when the track at ``path`` (its sidecar says) was spoken by another voice."""
    for sidecar in (companion_paths(path)[2], legacy_companion_paths(path)[2]):
        try:
            data = json.loads(sidecar.read_text(encoding="utf-8"))
            before = data["voice"]
            engine, voice_id = str(before["engine"]), str(before["voice_id"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if (engine, voice_id) != (voice.engine, voice.voice_id):
            return (f"{path.name} was spoken by {engine} ({voice_id}); it is now spoken by "
                    f"{voice.engine} ({voice.voice_id}) and sounds different")
        return ""
    return ""


def write_track(
    workspace: Workspace,
    spoken: SpokenScript,
    plan: MixPlan,
    master: MasterSettings,
    export: ExportSettings,
    output_dir: Path,
    *,
    progress: ProgressCallback | None = None,
    use_cache: bool = True,
    voice: VoiceLoudness | None = None,
) -> RenderResult:
    """Mix, master and encode ``plan`` block by block, and publish it with its companions.

    ``spoken`` is what the plan was made from: the companions' text and the track's inputs.

    The track, its transcript, captions and sidecar (``<track>.txt``, ``.vtt``, ``.json``) go
    into ``output_dir`` (see :func:`output_path`) together or not at all
    (:mod:`imr_audio.trackset`): a failed render leaves an earlier set as it was. The keyed
    client and inputs hashes go into the audio file's own metadata too. ``use_cache`` keeps
    the bed in the bed cache. ``voice`` is the plan's voice measured already
    (:func:`~imr_audio.mixdown.measure_voice`), else the mix measures it.
    """
    prepared = spoken.prepared
    inputs = TrackInputs(prepared, spoken.voice, spoken.engine_version, plan.bed, plan.mix,
                         master, export)
    provenance = build_provenance(workspace, inputs, spoken.stated_length)
    log.info("inputs sha256=%s", provenance.inputs_sha256)
    path = output_path(output_dir, prepared.profile.id, prepared.spec.id, export.format)
    tags = export.tags(prepared.spec.title, (("client_hash", provenance.client_hash),
                                             ("inputs_sha256", provenance.inputs_sha256)))
    with staged_track_set(path) as staged:
        done = mixdown(plan, master, export, staged.audio, tags,
                       beds=workspace.bed_cache if use_cache else None, progress=progress,
                       voice=voice)
        if done.attempts > 1:
            log.info("%s took %d encodings to meet the loudness targets", prepared.spec.id,
                     done.attempts)
        staged.write(".txt", transcript_text(spoken.script.text, spoken.timeline))
        staged.write(".vtt", webvtt_captions(plan.placements))
        staged.write(".json", sidecar_json(provenance, file_name=path.name,
                                           audio_format=export.format,
                                           duration_s=done.exported.duration_s,
                                           loudness=done.exported.loudness))
        companions = staged.publish()
    return RenderResult(
        path=path,
        template_id=prepared.spec.id,
        client_id=prepared.profile.id,
        duration_s=done.exported.duration_s,
        loudness=done.exported.loudness,
        timeline=spoken.timeline,
        placements=plan.placements,
        bed_gain_db=done.bed_gain_db,
        voice=spoken.voice,
        target_duration_s=provenance.target_duration_s,
        companions=companions,
        inputs_sha256=provenance.inputs_sha256,
    )


def _sidecar_number(data: dict[str, Any], *keys: str) -> float | None:
    """A number nested in the sidecar under ``keys``, or None."""
    value: Any = data
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def current_result(
    workspace: Workspace, inputs: TrackInputs, output_dir: Path
) -> RenderResult | None:
    """The published track in ``output_dir`` if it is up to date with ``inputs``, else None.

    Up to date means: the track and its transcript, captions and sidecar are regular files; the
    sidecar names the track and holds this render's ``inputs_sha256``; and the sidecar is not
    older than the other three. The sidecar is published last, so a render that was stopped
    after the track but before its sidecar (or that left an older sidecar beside a newer track)
    never counts as up to date. The result is marked ``skipped`` and measured by the sidecar.
    """
    prepared = inputs.prepared
    path = output_path(output_dir, prepared.profile.id, prepared.spec.id, inputs.export.format)
    txt, vtt, sidecar = companion_paths(path)
    others = (path, txt, vtt)
    try:
        stats = {p: p.lstat() for p in (sidecar, *others)}
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not all(stat.S_ISREG(s.st_mode) for s in stats.values()) or not isinstance(data, dict):
        return None
    if any(stats[p].st_mtime_ns > stats[sidecar].st_mtime_ns for p in others):
        return None
    wanted = inputs_sha256(workspace, inputs)
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
        voice=inputs.voice,
        target_duration_s=prepared.target_length_s,
        companions=companion_paths(path),
        inputs_sha256=wanted,
        skipped=True,
    )
