"""The ``wind`` beds: wind in the open, rising and falling in slow gusts.

Two noise paths share one gust envelope: a broad, dull pink "rush" (80-900 Hz) that follows
the envelope, and a narrow band of noise (about 100 Hz wide) whose centre glides up with the
gust (220-650 Hz, wandering a little), so each gust gets louder and higher (the soft howl of
wind), then falls back. Gusts are smooth irregular swells 4-8 s apart, timed a little apart per
side, with a faster flutter per side on top, so the wind never loops and moves across the
stereo field.

``wind-light`` is a gentle breeze; ``wind-heavy`` a strong, gusty wind with a clearer howl.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from imr_audio.soundscapes.base import Intensity
from imr_audio.soundscapes.beds import BedDesign, DesignedBed, intensity_beds
from imr_audio.soundscapes.dsp import (
    Filter,
    SmoothCurve,
    Swells,
    SwellStyle,
    butter,
    pink,
    stereo_noise,
    substreams,
    unit_noise_gain,
)

__all__ = ["BEDS", "Wind", "WindDesign"]

_HOWL_BANDWIDTH_HZ = 100.0
_HOWL_WANDER_OCTAVES = 0.25  # the howl's centre also wanders by up to this, slowly


@dataclass(frozen=True, kw_only=True)
class WindDesign(BedDesign):
    """How a wind sounds: its gusts, its howl and its level."""

    gusts: SwellStyle
    """Gust envelope (a peak of about 1 is a full gust)."""
    howl: float
    """RMS of the howl against the rush's, at a full gust."""
    centre_hz: tuple[float, float]
    """Centre of the howl between gusts and at a full gust, in Hz."""
    flutter_db: float
    """Fast level flutter per side, +/- this many dB, changing every 0.4 s."""


_DESIGNS: dict[Intensity, WindDesign] = {
    "light": WindDesign(
        gusts=SwellStyle(
            period_s=(5.0, 9.0),
            length=(1.3, 1.6),
            skew_s=0.6,
            amp=(0.5, 0.6),
            side_amp=(0.9, 1.0),
            decay=(2.5, 3.5),
            floor=0.45,
            lead_s=(25.0, 40.0),
        ),
        howl=0.25,
        centre_hz=(200.0, 420.0),
        flutter_db=1.0,
        design_lufs=0.94,
        description="A gentle breeze in the open, rising and falling softly.",
    ),
    "steady": WindDesign(
        gusts=SwellStyle(
            period_s=(4.0, 8.0),
            length=(1.3, 1.6),
            skew_s=0.6,
            amp=(0.85, 1.0),
            side_amp=(0.9, 1.0),
            decay=(2.5, 3.5),
            floor=0.4,
            lead_s=(25.0, 40.0),
        ),
        howl=0.35,
        centre_hz=(220.0, 650.0),
        flutter_db=1.5,
        design_lufs=3.66,
        description="Wind in the open, rising and falling in slow gusts.",
    ),
    "heavy": WindDesign(
        gusts=SwellStyle(
            period_s=(3.5, 7.0),
            length=(1.3, 1.6),
            skew_s=0.7,
            amp=(1.1, 1.25),
            side_amp=(0.9, 1.0),
            decay=(2.0, 3.0),
            floor=0.3,
            lead_s=(20.0, 32.0),
        ),
        howl=0.5,
        centre_hz=(250.0, 950.0),
        flutter_db=2.0,
        design_lufs=5.81,
        description="Strong, gusty wind with a soft howl.",
    ),
}


class Wind:
    """Unscaled wind: call with the next frames to get the sound and its gust envelope."""

    def __init__(self, sr: int, rng: np.random.Generator, design: WindDesign) -> None:
        """Start a wind of ``design`` drawing from ``rng``, at frame 0."""
        self._noise, howl_rng, gust_rng, left_rng, right_rng, wander_rng = substreams(rng, 6)
        self._howl_noise = howl_rng
        self._sr, self._design = sr, design
        rush = np.vstack(
            (pink(sr), butter(2, 80.0, "highpass", sr), butter(2, 900.0, "lowpass", sr))
        )
        self._rush, self._rush_gain = Filter(rush), unit_noise_gain(rush, sr)
        # I/Q noise, low-passed to half the howl's bandwidth, for a band that glides smoothly
        narrow = butter(2, _HOWL_BANDWIDTH_HZ / 2, "lowpass", sr)
        self._iq = Filter(narrow, channels=4)
        self._iq_gain = unit_noise_gain(narrow, sr)
        self._phase = np.zeros(2)  # carrier phase per side, in cycles
        self._gusts = Swells(gust_rng, sr, design.gusts)
        self._flutter = [
            SmoothCurve(side_rng, sr, 0.4, -design.flutter_db, design.flutter_db)
            for side_rng in (left_rng, right_rng)
        ]
        self._wander = SmoothCurve(
            wander_rng, sr, 1.7, -_HOWL_WANDER_OCTAVES, _HOWL_WANDER_OCTAVES
        )
        self._peak = design.gusts.amp[1]
        self._pos = 0

    def __call__(self, frames: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Return the next ``(2, frames)`` of wind and of its gust envelope (about 0.3-1)."""
        (white,) = stereo_noise(self._noise, frames, 0.3)
        env = self._gusts(self._pos, frames)
        flutter = np.stack([10.0 ** (c(self._pos, frames) / 20.0) for c in self._flutter])
        out = self._rush(white) * (self._rush_gain * env)
        if self._design.howl:
            out += self._howl(env, frames) * (self._design.howl * env**1.5)
        self._pos += frames
        return out * flutter, env

    def render(self, frames: int) -> NDArray[np.float64]:
        """Return the next ``(2, frames)`` of wind (the engine of the ``wind`` beds)."""
        return self(frames)[0]

    def _howl(self, env: NDArray[np.float64], frames: int) -> NDArray[np.float64]:
        """Narrow noise bands (one per side) centred on a frequency that rises with the gust."""
        iq = self._iq(self._howl_noise.standard_normal((frames, 4)).T) * self._iq_gain
        low, high = self._design.centre_hz
        strength = np.clip((env - self._design.gusts.floor) / self._peak, 0.0, 1.0)
        octaves = strength * np.log2(high / low) + self._wander(self._pos, frames)
        centre_hz = low * np.exp(np.log(2.0) * octaves)
        cycles = np.cumsum(centre_hz / self._sr, axis=1) + self._phase[:, None]
        self._phase = cycles[:, -1] % 1.0
        angle = 2.0 * np.pi * (cycles - centre_hz / self._sr)  # phase at each frame's start
        # sqrt(2) * (I cos - Q sin): unit-RMS noise in a band around the carrier
        return np.sqrt(2.0) * (iq[:2] * np.cos(angle) - iq[2:] * np.sin(angle))


BEDS: tuple[DesignedBed[WindDesign], ...] = intensity_beds("wind", ("wind",), Wind, _DESIGNS)
"""Wind in the open, a breeze to a gusty wind: broad rush and a soft moving howl."""
