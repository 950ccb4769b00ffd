"""The second stage: speak a prepared script.

:func:`open_speaker` picks the engine and voice (the voice profile's first voice available
here, or the therapist's own recordings) and wraps it in the speech cache; :func:`speak`
synthesises every sentence into a :class:`~imr_audio.clipstore.ClipStore`, makes the length
the opening states match the real one, and fits the pauses to a target length. The result, a
:class:`SpokenScript`, is what the mix is planned from.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from imr_audio.authoring.templates import RenderedScript
from imr_audio.clipstore import ClipStore, StoredClip
from imr_audio.length import PauseScale, check_length_estimate, fit_to_length
from imr_audio.progress import ProgressCallback, Tally
from imr_audio.script import PreparedScript, fill_script, length_phrase
from imr_audio.timeline import Timeline
from imr_audio.voice.base import SpeechEngine, SpeechRequest, VoiceSettings
from imr_audio.voice.cache import CachedEngine
from imr_audio.voice.lexicon import Lexicon
from imr_audio.voice.profiles import VoiceProfile, resolve_voice
from imr_audio.voice.recorded import RecordedEngine
from imr_audio.voice.registry import EngineSet
from imr_audio.workspace import Workspace

__all__ = [
    "Speaker",
    "SpeechSettings",
    "SpokenScript",
    "fallback_notice",
    "open_speaker",
    "speak",
]

log = logging.getLogger(__name__)

_MAX_LENGTH_PASSES = 3
_SYNTHESIS_BATCH = 32
"""Requests per engine call: at most this many new clips are in memory before they are stored."""


@dataclass(frozen=True)
class SpeechSettings:
    """How a script is spoken."""

    recordings_dir: Path | None = None
    """The therapist's own recordings of the lines (named as ``record-sheet`` says), used
    instead of the voice profile's engine; the opening's stated length is then the one
    recorded, not corrected."""
    use_cache: bool = True
    """Reuse clips from the speech cache and store new ones there (see ``imr-audio cache``)."""


@dataclass(frozen=True)
class Speaker:
    """The engine that speaks a script, the voice it speaks in, and the engine's version."""

    engine: SpeechEngine
    """The engine (the speech cache's, when the cache is used)."""
    voice: VoiceSettings
    """The voice."""
    version: str
    """The engine's version: part of a track's inputs."""
    fallback: str = ""
    """When the voice profile's first voice for this platform is not available here and
    another one speaks instead, a sentence saying so (for the therapist); else empty."""


def fallback_notice(profile: VoiceProfile, voice: VoiceSettings) -> str:
    """What to tell the therapist when ``voice`` is not ``profile``'s first choice here."""
    wanted = next((c for c in profile.choices if c.platform in ("any", sys.platform)), None)
    if wanted is None or wanted.engine == voice.engine:
        return ""
    return (f"voice profile '{profile.id}': {wanted.engine} is not available here, so it speaks "
            f"with {voice.engine} ({voice.voice_id}); tracks sound different from those made "
            f"with {wanted.engine}")


@dataclass(frozen=True)
class SpokenScript:
    """A script with a clip for every sentence, its timeline fitted to the target length."""

    prepared: PreparedScript
    """What was spoken."""
    script: RenderedScript
    """The final filled script (its opening states the real length)."""
    timeline: Timeline
    """The final script's events, the pauses fitted to the target length if there is one."""
    clips: tuple[StoredClip, ...]
    """One clip per speech event, in timeline order."""
    voice: VoiceSettings
    """The voice that spoke."""
    engine_version: str
    """The engine's version."""
    stated_length: str
    """The length the opening says, e.g. ``10 minutes``."""


def open_speaker(
    workspace: Workspace,
    prepared: PreparedScript,
    settings: SpeechSettings,
    engines: EngineSet,
    engine: SpeechEngine | None = None,
) -> Speaker:
    """The engine and voice for ``prepared``: the recordings, ``engine``, or the profile's.

    Engines are opened in ``engines`` (which stops them when it closes).
    """
    if settings.recordings_dir is not None:
        recorded = RecordedEngine(settings.recordings_dir, prepared.timeline)
        # A recordings folder's path may name a client; an engine's voice id never does.
        log.info("voice engine=recorded voice=own recordings")
        return Speaker(recorded, recorded.settings, str(recorded.version))
    if engine is None:
        engine, voice = engines.resolve(prepared.voice_profile)
    else:
        voice = resolve_voice(prepared.voice_profile, {engine.name: engine.voices()})
    log.info("voice engine=%s voice=%s", voice.engine, voice.voice_id)
    if settings.use_cache:
        engine = CachedEngine(engine, workspace.speech_cache, owner=prepared.profile.id)
    return Speaker(engine, voice, str(engine.version),
                   fallback_notice(prepared.voice_profile, voice))


def _synthesize(
    speaker: Speaker,
    timeline: Timeline,
    known: dict[tuple[str, int], StoredClip],
    store: ClipStore,
    progress: ProgressCallback | None,
    lexicon: Lexicon | None,
) -> list[StoredClip]:
    """Clips for every speech event, synthesising each (text, rate) not already in ``known``.

    ``lexicon`` respells the text sent to the engine; the timeline's text stays as written.
    Clips go into ``store`` as they come, a batch at a time, so that a long script's speech is
    never all in memory.
    """
    voice = speaker.voice
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
        clips = speaker.engine.synthesize(requests[batch], voice, tally.part())
        for key, clip in zip(new_keys[batch], clips, strict=True):
            known[key] = store.add(clip)
        tally.done += len(clips)
    return [known[key] for key in keys]


def check_target_length(prepared: PreparedScript) -> None:
    """Refuse, before any synthesis, a target length the script obviously cannot reach."""
    if prepared.target_length_s is not None:
        check_length_estimate(
            prepared.timeline,
            prepared.voice_profile.spoken_wpm,
            prepared.target_length_s,
            lead_in_s=prepared.lead_in_s,
            tail_s=prepared.tail_s,
            template_id=prepared.spec.id,
            scale=PauseScale.narrowed(prepared.spec.pause_scale),
        )


def speak(
    workspace: Workspace,
    prepared: PreparedScript,
    speaker: Speaker,
    store: ClipStore,
    progress: ProgressCallback | None = None,
) -> SpokenScript:
    """Synthesise ``prepared`` into ``store``, and make the length its opening states true.

    The opening says how long the track lasts; that is only known once the speech exists, so
    the script is filled again with the measured length and only changed sentences are redone.
    With a target length the opening states the target instead, and the pauses are fitted to
    it (:class:`~imr_audio.errors.TrackLengthError` when it cannot be reached).
    """
    known: dict[tuple[str, int], StoredClip] = {}
    script, timeline = prepared.script, prepared.timeline
    phrase = length_phrase(prepared.estimated_duration_s)
    # Recordings are matched by the script's own text and were spoken right: no respelling.
    recorded = speaker.voice.engine == "recorded"
    lexicon = None if recorded else workspace.voices.speech_lexicon(prepared.profile.pronunciations)
    target_s = prepared.target_length_s

    def refill(length: str) -> tuple[RenderedScript, Timeline]:
        return fill_script(workspace, prepared.spec, prepared.profile, prepared.voice_profile,
                           length)

    if target_s is not None:
        if recorded and length_phrase(target_s) != phrase:
            log.warning("the recorded opening says %s; the track lasts %s",
                        phrase, length_phrase(target_s))
        elif not recorded:
            phrase = length_phrase(target_s)
            script, timeline = refill(phrase)
        clips = _synthesize(speaker, timeline, known, store, progress, lexicon)
        timeline = fit_to_length(
            timeline,
            [clip.duration_s for clip in clips],
            target_s,
            lead_in_s=prepared.lead_in_s,
            tail_s=prepared.tail_s,
            template_id=prepared.spec.id,
            scale=PauseScale.narrowed(prepared.spec.pause_scale),
        )
        return SpokenScript(prepared, script, timeline, tuple(clips), speaker.voice,
                            speaker.version, phrase)
    for _ in range(_MAX_LENGTH_PASSES):
        clips = _synthesize(speaker, timeline, known, store, progress, lexicon)
        speech_s = sum(
            c.duration_s for c, s in zip(clips, timeline.speech, strict=True) if s.slot_s is None
        )
        measured_s = speech_s + timeline.pause_s + prepared.lead_in_s + prepared.tail_s
        if length_phrase(measured_s) == phrase:
            break
        if recorded:  # recorded words cannot be changed
            log.warning("the recorded opening says %s; the track lasts %s",
                        phrase, length_phrase(measured_s))
            break
        phrase = length_phrase(measured_s)
        script, timeline = refill(phrase)
    else:
        # Out of passes (the stated length keeps flipping at a rounding edge): the clips must
        # still belong to the timeline that is returned.
        clips = _synthesize(speaker, timeline, known, store, progress, lexicon)
    return SpokenScript(prepared, script, timeline, tuple(clips), speaker.voice, speaker.version,
                        phrase)
