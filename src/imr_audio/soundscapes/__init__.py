"""Procedural nature soundscapes ("beds") that play quietly under the guided-imagery voice.

Each bed is synthesised on the fly from seeded noise, so a track of any length has no loop
point, and generating block by block never holds the whole bed in memory. The same name, seed
and sample rate always give the same samples, and the first N frames are the same whatever
duration is asked for. Every bed is scaled by a fixed design constant to about -30 LUFS.

>>> from imr_audio.soundscapes import SoundscapeCatalog
>>> SoundscapeCatalog.builtin().render("rain", 1.5, 48000, seed=7).shape
(72000, 2)

The beds: ``rain``, ``ocean``, ``stream``, ``forest``, ``wind``, ``night`` and ``fire``, each
also at ``-light`` and ``-heavy`` intensity (``rain-light``, ``rain-heavy``...), and
``pink-noise`` and ``brown-noise``. Presets layer beds at chosen gains (``forest-stream``,
``rain-on-fire``, and the user's own from a YAML file). A name that is the path of an audio
file gives the user's recording, looped without a seam (:class:`AudioFileSoundscape`). A
workspace's :class:`SoundscapeCatalog` finds them all by name.

To add a bed, subclass :class:`ProceduralSoundscape` in a module of this package, list its
instances in the module's ``BEDS`` and the module in :mod:`imr_audio.soundscapes.catalog`.

The names below are imported on first use (PEP 562): the beds need numpy and scipy, which a
command that does not render should not have to load.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from imr_audio.soundscapes.audio_file import AudioFileSoundscape
    from imr_audio.soundscapes.base import (
        INTENSITIES,
        Intensity,
        ProceduralSoundscape,
        Soundscape,
        SoundscapeInfo,
    )
    from imr_audio.soundscapes.catalog import SoundscapeCatalog
    from imr_audio.soundscapes.presets import PresetLayer, PresetSoundscape
    from imr_audio.soundscapes.writer import SoundscapeFile, write_soundscape

_EXPORTS = {
    "AudioFileSoundscape": "imr_audio.soundscapes.audio_file",
    "INTENSITIES": "imr_audio.soundscapes.base",
    "Intensity": "imr_audio.soundscapes.base",
    "PresetLayer": "imr_audio.soundscapes.presets",
    "PresetSoundscape": "imr_audio.soundscapes.presets",
    "ProceduralSoundscape": "imr_audio.soundscapes.base",
    "Soundscape": "imr_audio.soundscapes.base",
    "SoundscapeCatalog": "imr_audio.soundscapes.catalog",
    "SoundscapeFile": "imr_audio.soundscapes.writer",
    "SoundscapeInfo": "imr_audio.soundscapes.base",
    "write_soundscape": "imr_audio.soundscapes.writer",
}

__all__ = [
    "INTENSITIES",
    "AudioFileSoundscape",
    "Intensity",
    "PresetLayer",
    "PresetSoundscape",
    "ProceduralSoundscape",
    "Soundscape",
    "SoundscapeCatalog",
    "SoundscapeFile",
    "SoundscapeInfo",
    "write_soundscape",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'imr_audio.soundscapes' has no attribute {name!r}")
