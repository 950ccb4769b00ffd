"""Provenance of a track: the ``.json`` sidecar beside it and the hash of its inputs.

The sidecar says what made the track (tool, template, voice, soundscape, settings) and what was
measured on it, and carries a sha256 of every input. The same inputs always give the same hash,
so a batch can skip tracks that are up to date. Nothing in the sidecar is a client's value:
the hash covers the profile's values without revealing them, and it is keyed per installation
(:mod:`imr_audio.secret`), so it cannot confirm a guess of a client's details either. The
sidecar also records the keyed hash of the client's id, by which ``imr-audio purge`` recognises
the client's tracks exactly.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imr_audio import __version__
from imr_audio.authoring.templates import validate_profile
from imr_audio.export.settings import ExportSettings
from imr_audio.files import file_sha256
from imr_audio.master import LoudnessMeasurement, MasterSettings
from imr_audio.mix import MixSettings
from imr_audio.mixplan import BedChoice
from imr_audio.script import PreparedScript
from imr_audio.voice.base import VoiceSettings
from imr_audio.workspace import Workspace

__all__ = [
    "SIDECAR_VERSION",
    "Provenance",
    "TrackInputs",
    "build_provenance",
    "inputs_sha256",
    "sidecar_json",
]

SIDECAR_VERSION = 2
"""Version of the sidecar's layout; bumped when a field changes meaning.

2: ``inputs_sha256`` is keyed per installation (HMAC-SHA256); ``client_hash`` added.
"""


@dataclass(frozen=True)
class TrackInputs:
    """Everything a track is made from, known before any speech is synthesised."""

    prepared: PreparedScript
    """The template, the client's profile, the voice profile and the target length."""
    voice: VoiceSettings
    """The engine voice that speaks it."""
    engine_version: str
    """The engine's version (for recordings: a fingerprint of the recordings)."""
    bed: BedChoice
    """The bed and its seed."""
    mix: MixSettings
    """Placement, fades and ducking."""
    master: MasterSettings
    """Loudness targets."""
    export: ExportSettings
    """Format and encoder settings."""


@dataclass(frozen=True)
class Provenance:
    """What went into a track, known before it is mixed (no client values)."""

    template_id: str
    """Template rendered."""
    template_version: int
    """The template's ``version``."""
    voice_profile: str
    """Voice profile id, e.g. ``calm``."""
    voice: VoiceSettings
    """The engine voice actually used."""
    engine_version: str
    """The engine's version (for recordings: a fingerprint of the recordings)."""
    soundscape: str
    """Bed name; ``audio file`` for a recording of the user's own (its path is not kept)."""
    seed: int
    """Seed of the procedural bed."""
    target_lufs: float
    """Integrated loudness aimed at, LUFS."""
    true_peak_limit_dbtp: float
    """Highest true peak allowed, dBTP."""
    target_duration_s: float | None
    """Length asked for (``--length`` or ``preferences.length``), in seconds; None: none."""
    stated_length: str
    """The length the opening says, e.g. ``10 minutes``."""
    inputs_sha256: str
    """Hash of every input (see :func:`inputs_sha256`)."""
    client_hash: str = ""
    """Keyed hash of the pseudonymous client id
    (:meth:`~imr_audio.secret.InstallationKey.client_hash`)."""


def _jsonable(value: object) -> Any:
    """JSON for what ``json`` cannot encode; a file (e.g. cover art) counts by its content."""
    if isinstance(value, Path):
        return {"sha256": file_sha256(value)} if value.is_file() else str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"cannot hash a {type(value).__name__}")


def inputs_sha256(workspace: Workspace, inputs: TrackInputs) -> str:
    """Keyed hash (HMAC-SHA256 hex, see :mod:`imr_audio.secret`) of everything a track is made from.

    Covers the tool version; the template's schema and source and the templates it extends;
    the profile values the template reads (with ``preferred_name``) and the client's
    pronunciations with the shipped lexicon; the voice profile, engine voice and engine
    version; the soundscape and seed; mix, master and export settings; the target length.
    Output folder, cache use and progress do not count. The same inputs give the same hash on
    this installation; another installation's key gives another hash.
    """
    prepared = inputs.prepared
    payload = {
        "tool_version": __version__,
        "template": {
            "id": prepared.spec.id,
            "version": prepared.spec.version,
            "sources": workspace.templates.sources(prepared.spec),
        },
        "profile": {
            "values": validate_profile(prepared.spec, prepared.profile),
            "pronunciations": dict(prepared.profile.pronunciations),
        },
        "lexicon": workspace.voices.lexicon.entries,
        "voice": {
            "profile": dataclasses.asdict(prepared.voice_profile),
            "settings": dataclasses.asdict(inputs.voice),
            "engine_version": inputs.engine_version,
        },
        "soundscape": {"name": inputs.bed.public_name, **inputs.bed.definition},
        "seed": inputs.bed.seed,
        "mix": dataclasses.asdict(inputs.mix),
        "master": dataclasses.asdict(inputs.master),
        "export": dataclasses.asdict(inputs.export),
        "target_duration_s": prepared.target_length_s,
    }
    encoded = json.dumps(
        payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_jsonable
    )
    return workspace.key.hash("track-inputs", encoded.encode("utf-8"))


def build_provenance(workspace: Workspace, inputs: TrackInputs, stated_length: str) -> Provenance:
    """Everything the sidecar says about a track's making, with the hash of its inputs."""
    prepared = inputs.prepared
    return Provenance(
        template_id=prepared.spec.id,
        template_version=prepared.spec.version,
        voice_profile=prepared.voice_profile.id,
        voice=inputs.voice,
        engine_version=inputs.engine_version,
        soundscape=inputs.bed.public_name,
        seed=inputs.bed.seed,
        target_lufs=inputs.master.target_lufs,
        true_peak_limit_dbtp=inputs.master.true_peak_dbtp,
        target_duration_s=prepared.target_length_s,
        stated_length=stated_length,
        inputs_sha256=inputs_sha256(workspace, inputs),
        client_hash=workspace.key.client_hash(prepared.profile.id),
    )


def _public_voice_id(voice: VoiceSettings) -> str:
    """The engine's voice id; never the path of the therapist's recordings folder."""
    return "own recordings" if voice.engine == "recorded" else voice.voice_id


def sidecar_json(
    provenance: Provenance,
    *,
    file_name: str,
    audio_format: str,
    duration_s: float,
    loudness: LoudnessMeasurement,
) -> str:
    """The sidecar's text: provenance plus what was measured on the written file."""
    voice = provenance.voice
    data: dict[str, Any] = {
        "sidecar_version": SIDECAR_VERSION,
        "tool": {"name": "imr-audio", "version": __version__},
        "file": file_name,
        "format": audio_format,
        "duration_s": round(duration_s, 3),
        "template": {"id": provenance.template_id, "version": provenance.template_version},
        "voice": {
            "profile": provenance.voice_profile,
            "engine": voice.engine,
            "engine_version": provenance.engine_version,
            "voice_id": _public_voice_id(voice),
            "rate_wpm": voice.rate_wpm,
            "pitch": voice.pitch,
            "volume": voice.volume,
        },
        "soundscape": {"name": provenance.soundscape, "seed": provenance.seed},
        "loudness": {
            "target_lufs": provenance.target_lufs,
            "integrated_lufs": round(loudness.integrated_lufs, 2),
            "true_peak_limit_dbtp": provenance.true_peak_limit_dbtp,
            "true_peak_dbtp": round(loudness.true_peak_dbtp, 2),
        },
        "length": {
            "target_s": provenance.target_duration_s,
            "stated": provenance.stated_length,
        },
        "inputs_sha256": provenance.inputs_sha256,
        "client_hash": provenance.client_hash,
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
