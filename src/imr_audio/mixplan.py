"""The third stage: plan the mix of a spoken script.

:func:`plan_mix` lays the clips and breath tones out on the timeline after the lead-in, places
every sentence, cuts the track into chapters by section and takes the bed. The
:class:`MixPlan` is all that mixing and mastering need (:func:`~imr_audio.mixdown.mixdown`);
writing the track (:func:`~imr_audio.track.write_track`) takes it with the spoken script.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imr_audio.export.chapters import section_chapters
from imr_audio.export.settings import Chapter
from imr_audio.files import file_sha256
from imr_audio.mix import MixSettings, Placement, SpeechLayout, layout_speech
from imr_audio.soundscapes.base import Soundscape
from imr_audio.speech import SpokenScript
from imr_audio.workspace import Workspace

__all__ = ["BedChoice", "MixPlan", "bed_cache_key", "bed_choice", "bed_key", "plan_mix"]


@dataclass(frozen=True)
class BedChoice:
    """The bed under a track: the soundscape, its seed, and what defines it."""

    soundscape: Soundscape
    """The soundscape."""
    seed: int
    """Seed of the procedural bed (same seed, same bed)."""
    public_name: str
    """Its name for the sidecar: ``audio file`` for a file of the user's (no path is kept)."""
    definition: dict[str, Any]
    """What defines it (JSON-able, no file path): its cache key and part of a track's inputs."""


def bed_choice(workspace: Workspace, name: str, seed: int) -> BedChoice:
    """The bed called ``name`` (a recording is defined by the hash of its bytes)."""
    scape = workspace.soundscapes.get(name)
    path = getattr(scape, "path", None)
    if isinstance(path, Path) and path.is_file():
        return BedChoice(scape, seed, "audio file", {"file_sha256": file_sha256(path)})
    layers = getattr(scape, "layers", ())
    return BedChoice(scape, seed, name, {
        "info": dataclasses.asdict(scape.info),
        "layers": [
            dataclasses.asdict(x)
            if dataclasses.is_dataclass(x) and not isinstance(x, type)
            else repr(x)
            for x in layers
        ],
    })


def bed_key(definition: object) -> str:
    """Key of a bed in the bed cache: the hash of what defines it (JSON-able)."""
    text = json.dumps(definition, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def bed_cache_key(bed: BedChoice) -> str:
    """The bed's key in the bed cache: its definition and name (the seed is added there)."""
    return bed_key({"name": bed.public_name, **bed.definition})


@dataclass(frozen=True)
class MixPlan:
    """Where everything goes in a track, before any of it is mixed."""

    layout: SpeechLayout
    """The voice stem: clips and tones placed (lead-in and tail included)."""
    placements: tuple[Placement, ...]
    """Where each speech event sits in the track."""
    chapters: tuple[Chapter, ...]
    """One chapter per section, covering the track."""
    bed: BedChoice
    """The bed."""
    mix: MixSettings
    """Fades, ducking and levels."""

    @property
    def duration_s(self) -> float:
        """Length of the track, in seconds."""
        return self.layout.frames / self.layout.sample_rate_hz

    @property
    def bed_cache_key(self) -> str:
        """The bed's key in the bed cache (see :func:`bed_cache_key`)."""
        return bed_cache_key(self.bed)


def plan_mix(spoken: SpokenScript, mix: MixSettings, bed: BedChoice) -> MixPlan:
    """Lay ``spoken`` out over ``bed`` (see :func:`bed_choice`)."""
    prepared = spoken.prepared
    if (mix.lead_in_s, mix.tail_s) != (prepared.lead_in_s, prepared.tail_s):
        raise ValueError("the mix's lead-in and tail are not those the script was prepared with")
    layout, placements = layout_speech(spoken.timeline, spoken.clips, mix)
    duration_s = layout.frames / layout.sample_rate_hz
    chapters = section_chapters(spoken.timeline, placements, duration_s)
    return MixPlan(layout, placements, tuple(chapters), bed, mix)
