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

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from imr_audio.soundscapes.base import Intensity
from imr_audio.soundscapes.beds import BedDesign, BedParts, DesignedBed, intensity_beds
from imr_audio.soundscapes.dsp import (
    SmoothCurve,
    Swells,
    SwellStyle,
    pink,
    substreams,
)
from imr_audio.soundscapes.spectral import (
    FRAME,
    HOP,
    OVERLAP,
    NoiseLayer,
    bin_hz,
    layer,
    noise_band,
)

__all__ = ["BEDS", "Gusts", "WindDesign", "wind_layers"]

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


_STEADY = WindDesign(
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
)

# each intensity changes only what is written
_DESIGNS: dict[Intensity, WindDesign] = {
    "light": replace(
        _STEADY,
        gusts=replace(_STEADY.gusts, period_s=(5.0, 9.0), amp=(0.5, 0.6), floor=0.45),
        howl=0.25,
        centre_hz=(200.0, 420.0),
        flutter_db=1.0,
        design_lufs=0.94,
        description="A gentle breeze in the open, rising and falling softly.",
    ),
    "steady": _STEADY,
    "heavy": replace(
        _STEADY,
        gusts=replace(
            _STEADY.gusts,
            period_s=(3.5, 7.0),
            skew_s=0.7,
            amp=(1.1, 1.25),
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


_FIRST_CENTRE = FRAME // 2 - OVERLAP  # the spectral noise's frame k is centred at this + k HOP
_GUST_BATCH = 8


class Gusts:
    """The gust envelope, flutter and howl wander, on the spectral noise's frame centres.

    Made in fixed batches of frames as the stream is read (so the draws do not depend on the
    calls); the recent frames are kept for :meth:`envelope_at`.
    """

    def __init__(
        self, sr: int, rngs: list[np.random.Generator], design: WindDesign
    ) -> None:
        """Start the gusts of ``design`` from four generators (gusts, left, right, wander)."""
        gust_rng, left_rng, right_rng, wander_rng = rngs
        self._swells = Swells(gust_rng, sr, design.gusts)
        self._flutter = [
            SmoothCurve(side_rng, sr, 0.4, -design.flutter_db, design.flutter_db)
            for side_rng in (left_rng, right_rng)
        ]
        self._wander = SmoothCurve(
            wander_rng, sr, 1.7, -_HOWL_WANDER_OCTAVES, _HOWL_WANDER_OCTAVES
        )
        self._first = 0  # frame index of the first kept row
        self._env = np.empty((0, 2))  # per frame and side
        self._flutter_gain = np.empty((0, 2))
        self._wander_octaves = np.empty(0)

    def _extend(self, last: int) -> None:
        while self._first + len(self._env) <= last:
            k = self._first + len(self._env) + np.arange(_GUST_BATCH)
            centres = _FIRST_CENTRE + k * HOP
            env = self._swells.at(centres).T
            flutter = np.stack([10.0 ** (c.at(centres) / 20.0) for c in self._flutter], axis=1)
            wander = self._wander.at(centres)
            drop = max(0, len(self._env) - 64)  # keep about 9 s
            self._first += drop
            self._env = np.concatenate((self._env[drop:], env))
            self._flutter_gain = np.concatenate((self._flutter_gain[drop:], flutter))
            self._wander_octaves = np.concatenate((self._wander_octaves[drop:], wander))

    def frames(
        self, centres: NDArray[np.int64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Envelope and flutter ``(n, 2)`` and wander ``(n,)`` at the frames centred there."""
        k = (centres - _FIRST_CENTRE) // HOP
        self._extend(int(k[-1]))
        rows = k - self._first
        return self._env[rows], self._flutter_gain[rows], self._wander_octaves[rows]

    def envelope_at(self, positions: NDArray[np.int64]) -> NDArray[np.float64]:
        """The envelope ``(n, 2)`` at frames ``positions`` (within the last few seconds)."""
        if positions.size == 0:
            return np.empty((0, 2))
        self._extend(int((positions.max() - _FIRST_CENTRE) // HOP) + 2)
        centres = _FIRST_CENTRE + (self._first + np.arange(len(self._env))) * HOP
        return np.stack(
            [np.interp(positions, centres, self._env[:, side]) for side in (0, 1)], axis=1
        )


def wind_layers(
    sr: int, rng: np.random.Generator, design: WindDesign, rms: float = 1.0
) -> tuple[list[NoiseLayer], Gusts]:
    """The wind's noise layers at ``rms`` (at a full gust), and the gusts that move them.

    The rush follows the gust envelope and flutter per side, a gain per frame (the gusts take
    seconds, the flutter 0.4 s steps); the howl is a narrow band (a second-order low-pass of
    half its bandwidth, shifted up) whose centre each frame takes from the gust.
    """
    gusts = Gusts(sr, substreams(rng, 6)[2:], design)
    rush = noise_band(pink(sr), 80.0, 900.0, sr)

    def rush_gains(centres: NDArray[np.int64]) -> NDArray[np.float64]:
        env, flutter, _ = gusts.frames(centres)
        return np.asarray(env * flutter)

    layers = [layer(rush, sr, 0.3, rms, gains=rush_gains)]
    if design.howl:
        freqs = np.arange(FRAME // 2 + 1) * bin_hz(sr)
        low, high = design.centre_hz
        floor, peak = design.gusts.floor, design.gusts.amp[1]
        corner = _HOWL_BANDWIDTH_HZ / 2

        def howl_shape(centres: NDArray[np.int64]) -> NDArray[np.float64]:
            env, flutter, wander = gusts.frames(centres)
            strength = np.clip((env - floor) / peak, 0.0, 1.0)
            octaves = strength * np.log2(high / low) + wander[:, None]
            centre_hz = low * np.exp(np.log(2.0) * octaves)  # (n, 2)
            offset = (freqs[None, None, :] - centre_hz[:, :, None]) / corner
            band = 1.0 / (1.0 + offset**4)  # the low-pass's power, shifted to the centre
            # a mean square of 2, as the I/Q model had: sqrt(2) (I cos - Q sin) of unit I and Q
            band /= band.sum(axis=2, keepdims=True) / FRAME
            level = rms * design.howl * env**1.5 * flutter
            return np.asarray(band * (level**2)[:, :, None])

        layers.append(NoiseLayer(np.zeros(FRAME // 2 + 1), 0.0, shape=howl_shape))
    return layers, gusts


def _wind(sr: int, rng: np.random.Generator, design: WindDesign) -> BedParts:
    layers, _ = wind_layers(sr, rng, design)
    return BedParts(substreams(rng, 1)[0], layers)


BEDS: tuple[DesignedBed[WindDesign], ...] = intensity_beds("wind", ("wind",), _wind, _DESIGNS)
"""Wind in the open, a breeze to a gusty wind: broad rush and a soft moving howl."""
