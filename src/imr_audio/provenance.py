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
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2.meta

from imr_audio import __version__
from imr_audio.authoring.environment import build_environment
from imr_audio.authoring.templates import template_search_path, validate_profile
from imr_audio.master import LoudnessMeasurement
from imr_audio.secret import keyed_hash
from imr_audio.soundscapes import get_soundscape
from imr_audio.voice.base import VoiceSettings
from imr_audio.voice.cache import owner_hash
from imr_audio.voice.lexicon import global_lexicon

if TYPE_CHECKING:
    from imr_audio.prepare import PreparedScript
    from imr_audio.render import RenderSettings

__all__ = [
    "SIDECAR_VERSION",
    "Provenance",
    "bed_definition",
    "build_provenance",
    "inputs_sha256",
    "sidecar_json",
]

SIDECAR_VERSION = 2
"""Version of the sidecar's layout; bumped when a field changes meaning.

2: ``inputs_sha256`` is keyed per installation (HMAC-SHA256); ``client_hash`` added.
"""


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
    """Keyed hash of the pseudonymous client id (:func:`~imr_audio.voice.cache.owner_hash`)."""


def _template_sources(prepared: PreparedScript, templates_dir: Path | None) -> dict[str, str]:
    """The template's schema and source and every template it extends, includes or imports."""
    env = build_environment(template_search_path(templates_dir))
    spec = prepared.spec
    sources = {
        spec.path.with_suffix(".yaml").name: spec.path.with_suffix(".yaml").read_text("utf-8"),
        spec.path.name: spec.path.read_text(encoding="utf-8"),
    }
    pending = [sources[spec.path.name]]
    while pending:
        for name in jinja2.meta.find_referenced_templates(env.parse(pending.pop())):
            if name is not None and name not in sources and env.loader is not None:
                sources[name] = env.loader.get_source(env, name)[0]
                pending.append(sources[name])
    return sources


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _soundscape(name: str) -> tuple[str, dict[str, Any]]:
    """The bed's public name and what defines it (a recording by the hash of its bytes)."""
    scape = get_soundscape(name)
    path = getattr(scape, "path", None)
    if isinstance(path, Path) and path.is_file():
        return "audio file", {"file_sha256": _file_sha256(path)}
    layers = getattr(scape, "layers", ())
    return name, {
        "info": dataclasses.asdict(scape.info),
        "layers": [
            dataclasses.asdict(x)
            if dataclasses.is_dataclass(x) and not isinstance(x, type)
            else repr(x)
            for x in layers
        ],
    }


def bed_definition(name: str) -> dict[str, Any]:
    """What defines the bed called ``name`` (its key in the bed cache); no file path in it."""
    public, definition = _soundscape(name)
    return {"name": public, **definition}


def _jsonable(value: object) -> Any:
    """JSON for what ``json`` cannot encode; a file (e.g. cover art) counts by its content."""
    if isinstance(value, Path):
        return {"sha256": _file_sha256(value)} if value.is_file() else str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"cannot hash a {type(value).__name__}")


def inputs_sha256(
    prepared: PreparedScript,
    settings: RenderSettings,
    voice: VoiceSettings,
    engine_version: str,
    target_duration_s: float | None,
) -> str:
    """Keyed hash (HMAC-SHA256 hex, see :mod:`imr_audio.secret`) of everything a track is made from.

    Covers the tool version; the template's schema and source and the templates it extends;
    the profile values the template reads (with ``preferred_name``) and the client's
    pronunciations with the shipped lexicon; the voice profile, engine voice and engine
    version; the soundscape and seed; mix, master and export settings; the target length.
    Output folder, cache use and progress do not count. The same inputs give the same hash on
    this installation; another installation's key gives another hash.
    """
    bed_name, scape = _soundscape(prepared.soundscape.name)
    payload = {
        "tool_version": __version__,
        "template": {
            "id": prepared.spec.id,
            "version": prepared.spec.version,
            "sources": _template_sources(prepared, settings.templates_dir),
        },
        "profile": {
            "values": validate_profile(prepared.spec, prepared.profile),
            "pronunciations": dict(prepared.profile.pronunciations),
        },
        "lexicon": global_lexicon().entries,
        "voice": {
            "profile": dataclasses.asdict(prepared.voice_profile),
            "settings": dataclasses.asdict(voice),
            "engine_version": engine_version,
        },
        "soundscape": {"name": bed_name, **scape},
        "seed": settings.seed,
        "mix": dataclasses.asdict(settings.mix),
        "master": dataclasses.asdict(settings.master),
        "export": dataclasses.asdict(settings.export),
        "target_duration_s": target_duration_s,
    }
    encoded = json.dumps(
        payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_jsonable
    )
    return keyed_hash("track-inputs", encoded.encode("utf-8"))


def build_provenance(
    prepared: PreparedScript,
    settings: RenderSettings,
    voice: VoiceSettings,
    engine_version: str,
    target_duration_s: float | None,
    stated_length: str,
) -> Provenance:
    """Everything the sidecar says about a track's making, with the hash of its inputs."""
    return Provenance(
        template_id=prepared.spec.id,
        template_version=prepared.spec.version,
        voice_profile=prepared.voice_profile.id,
        voice=voice,
        engine_version=engine_version,
        soundscape=_soundscape(prepared.soundscape.name)[0],
        seed=settings.seed,
        target_lufs=settings.master.target_lufs,
        true_peak_limit_dbtp=settings.master.true_peak_dbtp,
        target_duration_s=target_duration_s,
        stated_length=stated_length,
        inputs_sha256=inputs_sha256(prepared, settings, voice, engine_version, target_duration_s),
        client_hash=owner_hash(prepared.profile.id),
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
