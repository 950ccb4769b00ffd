"""Procedural nature soundscapes ("beds") that play quietly under the guided-imagery voice.

Each bed is synthesised on the fly from seeded noise, so a track of any length has no loop
point, and generating block by block never holds the whole bed in memory. The same name, seed
and sample rate always give the same samples, and the first N frames are the same whatever
duration is asked for. Every bed is scaled by a fixed design constant to about -30 LUFS.

>>> from imr_audio.soundscapes import render_soundscape
>>> render_soundscape("rain", 1.5, 48000, seed=7).shape
(72000, 2)

The beds: ``rain``, ``ocean``, ``stream``, ``forest``, ``wind``, ``night`` and ``fire``, each
also at ``-light`` and ``-heavy`` intensity (``rain-light``, ``rain-heavy``...), and
``pink-noise`` and ``brown-noise``. Presets layer beds at chosen gains (``forest-stream``,
``rain-on-fire``, and the user's own from a YAML file: :func:`use_presets`). A name that is the
path of an audio file gives the user's recording, looped without a seam
(:class:`RecordingSoundscape`).

To add a bed, write a module of this package with a frozen design per intensity and an engine
that plays one (see :mod:`~imr_audio.soundscapes.beds`), expose its beds as the module constant
``BEDS``, and add the module to the loop below that registers the built-in beds.
"""

from __future__ import annotations

from imr_audio.soundscapes import fire as fire
from imr_audio.soundscapes import forest as forest
from imr_audio.soundscapes import night as night
from imr_audio.soundscapes import noise as noise
from imr_audio.soundscapes import ocean as ocean
from imr_audio.soundscapes import rain as rain
from imr_audio.soundscapes import stream as stream
from imr_audio.soundscapes import wind as wind
from imr_audio.soundscapes.base import (
    INTENSITIES,
    Intensity,
    ProceduralSoundscape,
    Soundscape,
    SoundscapeInfo,
    get_soundscape,
    register_soundscape,
    render_soundscape,
    soundscape_infos,
    soundscape_names,
)
from imr_audio.soundscapes.recording import RecordingSoundscape
from imr_audio.soundscapes.writer import SoundscapeFile, write_soundscape

for _module in (fire, forest, night, noise, ocean, rain, stream, wind):
    for _bed in _module.BEDS:
        register_soundscape(_bed)

# the built-in presets are made at import and look up their layers among the beds above
from imr_audio.soundscapes import presets as presets  # noqa: E402
from imr_audio.soundscapes.presets import (  # noqa: E402
    PresetLayer,
    PresetSoundscape,
    default_presets_path,
    load_presets,
    use_presets,
)

__all__ = [
    "INTENSITIES",
    "Intensity",
    "PresetLayer",
    "PresetSoundscape",
    "ProceduralSoundscape",
    "RecordingSoundscape",
    "Soundscape",
    "SoundscapeFile",
    "SoundscapeInfo",
    "default_presets_path",
    "get_soundscape",
    "load_presets",
    "register_soundscape",
    "render_soundscape",
    "soundscape_infos",
    "soundscape_names",
    "use_presets",
    "write_soundscape",
]
