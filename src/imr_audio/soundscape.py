"""Procedural soundscape beds: the public API, re-exported from :mod:`imr_audio.soundscapes`.

The implementation grew past one module and lives in the :mod:`imr_audio.soundscapes` package;
this module keeps the ``imr_audio.soundscape`` import path that the pipeline uses.
"""

from __future__ import annotations

from imr_audio.soundscapes import (
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
