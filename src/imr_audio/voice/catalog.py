"""What the voice profiles resolve to on this machine, and short previews of them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from imr_audio.errors import ExportError, VoiceProfileError
from imr_audio.export import FORMATS, ExportSettings, TrackTags, export_track
from imr_audio.markup import parse_script
from imr_audio.master import MasterSettings, master
from imr_audio.mix import MixSettings, place_speech
from imr_audio.voice.base import SpeechRequest, VoiceInfo, VoiceSettings
from imr_audio.voice.registry import EngineSet
from imr_audio.workspace import Workspace

__all__ = ["PREVIEW_TEXT", "ProfileResolution", "VoiceCatalog", "preview_voice", "voice_catalog"]

PREVIEW_TEXT = (
    "Hello. This is how this voice sounds. "
    "Find a comfortable position, and let your shoulders soften. "
    "You can pause or stop at any time."
)


@dataclass(frozen=True)
class ProfileResolution:
    """A voice profile and what it resolves to here."""

    profile_id: str
    """Profile id, e.g. ``calm``."""
    description: str
    """The profile's one-line description."""
    voice: VoiceSettings | None
    """The voice a render would use here; None when none of its voices is available."""


@dataclass(frozen=True)
class VoiceCatalog:
    """Every profile's resolution, and (on request) every engine's own voices."""

    profiles: tuple[ProfileResolution, ...]
    """One entry per shipped profile, sorted by id."""
    engine_voices: Mapping[str, tuple[VoiceInfo, ...]]
    """Raw voices per available engine (empty unless asked for)."""


def voice_catalog(workspace: Workspace, include_engine_voices: bool = False) -> VoiceCatalog:
    """Resolve every voice profile of the workspace on this machine."""
    resolutions = []
    raw: dict[str, tuple[VoiceInfo, ...]] = {}
    with EngineSet(workspace.engines) as engines:
        for profile_id in workspace.voices.names():
            profile = workspace.voices.load(profile_id)
            try:
                _, voice = engines.resolve(profile)
            except VoiceProfileError:
                voice = None
            resolutions.append(ProfileResolution(profile_id, profile.description, voice))
        if include_engine_voices:
            for name in workspace.engines.names():
                engine = engines.get(name)
                if engine is not None:
                    raw[name] = tuple(engine.voices())
    return VoiceCatalog(profiles=tuple(resolutions), engine_voices=raw)


def preview_voice(
    workspace: Workspace, profile_id: str, out_path: Path, text: str = PREVIEW_TEXT
) -> VoiceSettings:
    """Speak a short sample with a voice profile into ``out_path`` (wav, flac or mp3).

    The sample goes through the same timeline, verification and mastering as a track (no bed).
    Returns the voice used.
    """
    fmt = out_path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ExportError(f"{out_path}: the file name must end in one of: {', '.join(FORMATS)}")
    profile = workspace.voices.load(profile_id)
    timeline = parse_script(text, profile.pacing)
    with EngineSet(workspace.engines) as engines:
        engine, voice = engines.resolve(profile)
        requests = [SpeechRequest(s.text, s.line) for s in timeline.speech]
        clips = engine.synthesize(requests, voice)
    mix = MixSettings(lead_in_s=0.5, tail_s=0.5)
    samples, _ = place_speech(timeline, clips, mix)
    mastered, _ = master(samples, mix.sample_rate_hz, MasterSettings())
    export_track(mastered, mix.sample_rate_hz, out_path, ExportSettings(format=fmt),
                 TrackTags(title=f"Voice preview: {profile_id}"))
    return voice
