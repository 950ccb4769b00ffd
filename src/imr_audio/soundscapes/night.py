"""The ``night`` beds: crickets chirping on a still summer night.

A few field crickets, each at its own place, distance and pitch (3.8-5.2 kHz), chirp on their
own slightly irregular rhythm: a chirp is a train of 3-5 pure-tone pulses at 26-36 pulses a
second, repeated every 0.45-1 s, and now and then a cricket pauses for a few seconds. Under them
a far-off chorus (a narrow band of noise around 4.5 kHz) and the soft low air of the night.
The crickets' levels are scaled per seed to a fixed total, so every seed is equally loud.

``night-light`` has two crickets and a fainter chorus; ``night-heavy`` seven and a fuller one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from imr_audio.soundscapes.base import Intensity
from imr_audio.soundscapes.beds import BedDesign, BedParts, DesignedBed, intensity_beds
from imr_audio.soundscapes.dsp import (
    SmoothCurve,
    butter,
    leaky_integrator,
    substreams,
)
from imr_audio.soundscapes.events import Occurrences, Source, on_grid
from imr_audio.soundscapes.spectral import db_gains, layer, noise_band

__all__ = ["BEDS", "NightDesign"]

_CARRIER_HZ = (3800.0, 5200.0)
_PULSE_RATE_HZ = (26.0, 36.0)
_PULSES = (3, 6)  # 3 to 5 pulses a chirp
_CHIRP_PERIOD_S = (0.45, 1.0)
_PAUSE_CHANCE = 0.015  # per chirp: a rest of 1.5-4 s follows
_DUTY = 0.6  # a pulse fills this much of its period
_CHORUS_BAND_HZ = (3900.0, 5000.0)


@dataclass(frozen=True, kw_only=True)
class NightDesign(BedDesign):
    """How a night sounds at one intensity."""

    crickets: int
    """How many crickets chirp, each at its own place, distance and pitch."""
    chorus: float
    """RMS of the far-off chorus, against the crickets' total RMS (linear)."""
    air: float
    """RMS of the soft low air, against the crickets' total RMS (linear)."""


_STEADY = NightDesign(
    crickets=4,
    chorus=0.25,
    air=0.5,
    design_lufs=6.88,
    description="Crickets chirping on a still summer night.",
)

# each intensity changes only what is written
_DESIGNS: dict[Intensity, NightDesign] = {
    "light": replace(
        _STEADY,
        crickets=2,
        chorus=0.15,
        design_lufs=7.01,
        description="A quiet night: two crickets chirping, far apart.",
    ),
    "steady": _STEADY,
    "heavy": replace(
        _STEADY,
        crickets=7,
        chorus=0.35,
        design_lufs=7.1,
        description="A warm night full of crickets, near and far.",
    ),
}


class _Cricket:
    """One cricket: a pure tone gated by chirps of pulses, at a fixed place."""

    _BATCH = 32
    _VARIANTS = 32  # chirps in the bank: each a little faster or slower, at its own phase

    def __init__(self, rng: np.random.Generator, sr: int) -> None:
        self._rng, self._sr = rng, sr
        self.hz = rng.uniform(*_CARRIER_HZ)
        self._pulse_s = 1.0 / rng.uniform(*_PULSE_RATE_HZ)
        self._pulses = int(rng.integers(*_PULSES))
        self._period_s = rng.uniform(*_CHIRP_PERIOD_S)
        angle = (rng.uniform(-0.9, 0.9) + 1.0) * np.pi / 4.0
        self.pans = np.sqrt(2.0) * np.array([np.cos(angle), np.sin(angle)])
        self.distance = rng.uniform(0.0, 1.0)
        self._clock_s = -rng.uniform(0.0, self._period_s)
        self._length = round((_PULSES[1] * 1.03 * self._pulse_s) * sr) + 8

    def mean_square(self) -> float:
        """Expected mean square of this cricket's sound at level 1, over pauses and all."""
        pulses = self._pulses - 1 + 0.6**2  # the first pulse is softer
        on = pulses * self._pulse_s * _DUTY * 3.0 / 8.0  # sin^4 averages 3/8 over a pulse
        period = self._period_s + _PAUSE_CHANCE * 2.75  # pauses of 2.75 s on average
        return on / period * 0.5 * (1.0 + 0.08**2) * 0.8133  # the sine; levels 0.8-1

    def source(self, level: float) -> Source:
        """The cricket's chirps, at ``level``: a bank of chirps and their times."""
        rng, sr, k = self._rng, self._sr, self._VARIANTS
        pulse = self._pulse_s * rng.uniform(0.98, 1.02, k)  # per chirp: a little faster or slower
        t = np.arange(self._length) / sr
        index = t[None, :] / pulse[:, None]  # pulse number and position in it
        which, where = np.floor(index), index - np.floor(index)
        on = (which < self._pulses) & (where < _DUTY)
        shape = np.sin(np.pi * np.minimum(where / _DUTY, 1.0)) ** 2
        first = np.where(which == 0, 0.6, 1.0)  # the first pulse is softer
        envelope = np.where(on, shape * first, 0.0)
        angle = 2.0 * np.pi * (self.hz * t[None, :] + rng.uniform(0.0, 1.0, (k, 1)))
        bank = envelope * (np.sin(angle) + 0.08 * np.sin(2.0 * angle))
        return bank, lambda: self._draw(level)

    def _draw(self, level: float) -> Occurrences:
        rng, k, sr = self._rng, self._BATCH, self._sr
        gaps = self._period_s * rng.uniform(0.96, 1.04, k)
        gaps += np.where(rng.uniform(0.0, 1.0, k) < _PAUSE_CHANCE, rng.uniform(1.5, 4.0, k), 0.0)
        times = self._clock_s + np.cumsum(gaps)
        self._clock_s = float(times[-1])
        variant = rng.integers(0, self._VARIANTS, k)
        gains = rng.uniform(0.8, 1.0, k)[:, None] * (level * self.pans)[None, :]
        keep = times >= 0.0  # chirps before frame 0 are dropped (at most the first)
        return Occurrences(
            on_grid(times[keep], sr), variant[keep], gains[keep],
            horizon=int(on_grid(times[-1:], sr)[0]),
        )


def _night(sr: int, rng: np.random.Generator, design: NightDesign) -> BedParts:
    streams = substreams(rng, 3 + design.crickets)
    noise_rng, chorus_rng, drift_rng = streams[:3]
    crickets = [_Cricket(r, sr) for r in streams[3:]]
    # nearer crickets louder (up to 15 dB); the total scaled to a fixed power of 1, each
    # cricket's power taken from how much of the time it sounds
    levels = np.array([10.0 ** (-15.0 * c.distance / 20.0) for c in crickets])
    powers = np.array([c.mean_square() for c in crickets])
    levels = levels / np.sqrt(np.sum(levels**2 * powers))
    sources = [
        cricket.source(float(level)) for cricket, level in zip(crickets, levels, strict=True)
    ]
    chorus = butter(2, _CHORUS_BAND_HZ, "bandpass", sr)
    air = noise_band(leaky_integrator(100.0, sr), 40.0, 600.0, sr)
    # both drifts are slow (1.5 and 3 s steps): gains per frame
    chorus_drift = db_gains(SmoothCurve(chorus_rng, sr, 1.5, -2.0, 2.0))
    air_drift = db_gains(SmoothCurve(drift_rng, sr, 3.0, -1.5, 1.5))
    layers = [
        layer(chorus, sr, 0.2, design.chorus, gains=chorus_drift),
        layer(air, sr, 0.5, design.air, gains=air_drift),
    ]
    return BedParts(noise_rng, layers, sources)


BEDS: tuple[DesignedBed[NightDesign], ...] = intensity_beds(
    "night", ("night", "dark", "crickets", "insects"), _night, _DESIGNS
)
"""Crickets on a still night, near and far, over soft low air."""
