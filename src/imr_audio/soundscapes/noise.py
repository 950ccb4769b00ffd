"""The ``pink-noise`` and ``brown-noise`` beds: steady masking noise with no imagery.

Pink noise falls by 3 dB per octave (equal energy per octave: a soft, even "shh"); brown noise
by 6 dB per octave (a deep, warm rumble, like a distant waterfall or a plane's cabin). Both are
rolled off below 20 Hz and, gently, above 16 kHz, and are partly correlated between the
channels (about 0.4), so they fill the stereo field without sounding like two sources. They
have no intensity: nothing in them happens.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import signal

from imr_audio.soundscapes.base import (
    Engine,
    ProceduralSoundscape,
    SoundscapeInfo,
    level_gain,
)
from imr_audio.soundscapes.dsp import Filter, butter, pink, stereo_noise, substreams

__all__ = ["NoiseSoundscape"]

_CORRELATION = 0.4


@dataclass(frozen=True)
class _Design:
    slope_db_per_octave: float
    design_lufs: float  # unscaled loudness, LUFS (bench/soundscape_levels.py, 4+ seeds x 120+ s)
    description: str


_DESIGNS = {
    "pink-noise": _Design(-3.0, 9.93, "Pink noise: a soft, even hiss with no imagery."),
    "brown-noise": _Design(-6.0, -32.51, "Brown noise: a deep, warm rumble with no imagery."),
}


def _brown(sr: int, low_hz: float = 20.0) -> NDArray[np.float64]:
    """Return an SOS integrator: -6 dB/octave above ``low_hz`` (bilinear, so rate-independent)."""
    z, p, k = signal.bilinear_zpk([], [-2 * np.pi * low_hz], 2 * np.pi * low_hz, fs=sr)
    return np.asarray(signal.zpk2sos(z, p, k))


class _NoiseEngine:
    def __init__(self, sr: int, rng: np.random.Generator, design: _Design) -> None:
        (self._noise,) = substreams(rng, 1)
        colour = pink(sr, 20.0, 20000.0) if design.slope_db_per_octave == -3.0 else _brown(sr)
        sos = np.vstack(
            (colour, butter(2, 20.0, "highpass", sr), butter(1, 16000.0, "lowpass", sr))
        )
        self._filter = Filter(sos)
        self._gain = level_gain(design.design_lufs)

    def render(self, frames: int) -> NDArray[np.float64]:
        (white,) = stereo_noise(self._noise, frames, _CORRELATION)
        return self._filter(white) * self._gain


class NoiseSoundscape(ProceduralSoundscape):
    """Steady coloured noise: ``pink-noise`` (-3 dB/octave) or ``brown-noise`` (-6 dB/octave)."""

    def __init__(self, name: str) -> None:
        """Describe the noise bed called ``name`` (``pink-noise`` or ``brown-noise``)."""
        self.info = SoundscapeInfo(name=name, description=_DESIGNS[name].description, themes=())

    def engine(self, sample_rate_hz: int, rng: np.random.Generator) -> Engine:
        """Return a fresh noise engine positioned at frame 0."""
        return _NoiseEngine(sample_rate_hz, rng, _DESIGNS[self.info.name])


BEDS = tuple(NoiseSoundscape(name) for name in _DESIGNS)
"""The noise beds (the soundscape catalog collects them)."""
