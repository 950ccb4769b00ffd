"""Procedural nature soundscapes ("beds") that play quietly under the guided-imagery voice.

Each bed is synthesised on the fly from seeded noise, so a track of any length has no loop
point, and generating block by block never holds the whole bed in memory. The same name, seed
and sample rate always give the same samples, and the first N frames are the same whatever
duration is asked for. Every bed is scaled by a fixed design constant to about -30 LUFS.

>>> from imr_audio.soundscapes import render_soundscape
>>> render_soundscape("rain", 1.5, 48000, seed=7).shape
(72000, 2)

To add a bed, subclass :class:`ProceduralSoundscape` in a module of this package, pass an
instance to :func:`register_soundscape`, and import the module below.
"""

from __future__ import annotations

from imr_audio.soundscapes import ocean as ocean
from imr_audio.soundscapes import rain as rain
from imr_audio.soundscapes.base import (
    ProceduralSoundscape,
    Soundscape,
    SoundscapeInfo,
    get_soundscape,
    register_soundscape,
    render_soundscape,
    soundscape_names,
)

__all__ = [
    "ProceduralSoundscape",
    "Soundscape",
    "SoundscapeInfo",
    "get_soundscape",
    "register_soundscape",
    "render_soundscape",
    "soundscape_names",
]
