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

from imr_audio.soundscapes.base import SoundscapeInfo
from imr_audio.soundscapes.beds import BedDesign, BedParts, DesignedBed
from imr_audio.soundscapes.dsp import Filter, butter, pink, substreams
from imr_audio.soundscapes.spectral import layer

__all__ = ["BEDS", "NoiseDesign"]

_CORRELATION = 0.4


@dataclass(frozen=True, kw_only=True)
class NoiseDesign(BedDesign):
    """How a masking noise sounds."""

    slope_db_per_octave: float
    """Spectral slope: -3 (pink) or -6 (brown), in dB per octave."""


_PINK = NoiseDesign(
    slope_db_per_octave=-3.0,
    design_lufs=9.93,
    description="Pink noise: a soft, even hiss with no imagery.",
)
_BROWN = NoiseDesign(
    slope_db_per_octave=-6.0,
    design_lufs=-32.51,
    description="Brown noise: a deep, warm rumble with no imagery.",
)


def _brown(sr: int, low_hz: float = 20.0) -> NDArray[np.float64]:
    """Return an SOS integrator: -6 dB/octave above ``low_hz`` (bilinear, so rate-independent)."""
    from scipy import signal  # at first use: scipy.signal takes ~1 s to import
    z, p, k = signal.bilinear_zpk([], [-2 * np.pi * low_hz], 2 * np.pi * low_hz, fs=sr)
    return np.asarray(signal.zpk2sos(z, p, k))


def _noise(sr: int, rng: np.random.Generator, design: NoiseDesign) -> BedParts:
    (noise_rng,) = substreams(rng, 1)
    colour = pink(sr, 20.0, 20000.0) if design.slope_db_per_octave == -3.0 else _brown(sr)
    sos = np.vstack((colour, butter(2, 20.0, "highpass", sr), butter(1, 16000.0, "lowpass", sr)))
    # the frames' crossfades leak a little of the deep end to DC: a gentle 2 Hz DC block
    # (-0.02 dB at 31.5 Hz) keeps brown noise's mean at zero
    dc = Filter(butter(1, 2.0, "highpass", sr))

    def finish(start: int, frames: int, own: NDArray[np.float32]) -> NDArray[np.floating]:
        return dc(own[0])

    return BedParts(noise_rng, [layer(sos, sr, _CORRELATION, normalise=False, group=1)],
                    finish=finish)


BEDS: tuple[DesignedBed[NoiseDesign], ...] = tuple(
    DesignedBed(SoundscapeInfo(name=name, description=design.description, themes=()), design,
                _noise)
    for name, design in (("brown-noise", _BROWN), ("pink-noise", _PINK))
)
"""Steady coloured noise with no imagery: ``brown-noise`` (-6 dB/octave) and ``pink-noise``."""
