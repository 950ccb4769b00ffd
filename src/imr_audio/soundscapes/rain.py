"""The ``rain`` beds: rain on leaves, light, steady or heavy.

A bright pink hiss rolled off below ~450 Hz stands for the distant rain, with a slow +/-0.6 dB
drift. Over it fall two streams of soft noise-burst drops with random times, levels, colours and
pans: a dense, quiet, bright patter and a sparser stream of nearer, fuller drops. The hiss is
partly correlated between the channels (about 0.45), so the rain is wide but one space.

``rain-light`` has a quieter hiss and few drops (a drizzle where single drops stand out);
``rain-heavy`` a fuller, lower hiss with a soft low roar under it and many more drops.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from imr_audio.soundscapes.base import Intensity
from imr_audio.soundscapes.beds import BedDesign, BedParts, DesignedBed, intensity_beds
from imr_audio.soundscapes.dsp import (
    DropStyle,
    SmoothCurve,
    leaky_integrator,
    pink,
    substreams,
)
from imr_audio.soundscapes.events import drops
from imr_audio.soundscapes.spectral import db_gains, layer, noise_band

__all__ = ["BEDS", "RainDesign"]

_NEAR = DropStyle(
    rate_hz=14.0,
    level_db=(-14.0, 3.0),
    attack_ms=(0.5, 1.5),
    decay_ms=(3.0, 10.0),
    bands_hz=((900.0, 2500.0), (1500.0, 4000.0), (2000.0, 5000.0)),
    pan=0.9,
    length_ms=45.0,
)
_PATTER = DropStyle(
    rate_hz=180.0,
    level_db=(-20.0, -4.0),
    attack_ms=(0.1, 0.4),
    decay_ms=(0.6, 2.5),
    bands_hz=((2500.0, 7000.0), (3500.0, 9000.0)),
    pan=1.0,
    length_ms=12.0,
)
_HISS_CORRELATION = 0.45


@dataclass(frozen=True, kw_only=True)
class RainDesign(BedDesign):
    """How a rain sounds at one intensity."""

    near: DropStyle
    """The sparser stream of nearer, fuller drops."""
    patter: DropStyle
    """The dense stream of quiet, bright drops."""
    hiss: float
    """RMS of the distant hiss, against drop peaks of up to 10 ** (3 / 20) (linear)."""
    hiss_low_hz: float
    """Corner of the hiss's second-order high-pass, in Hz."""
    roar: float
    """RMS of a soft low brown-noise roar under the hiss (linear; 0: none)."""


_STEADY = RainDesign(
    near=_NEAR,
    patter=_PATTER,
    hiss=0.2,
    hiss_low_hz=450.0,
    roar=0.0,
    design_lufs=-7.80,
    description="Steady light rain on leaves, soft drops in stereo.",
)

# each intensity changes only what is written; design_lufs: the steady design measured over
# 6 seeds x 400 s, the others over 4 x 200 s
_DESIGNS: dict[Intensity, RainDesign] = {
    "light": replace(
        _STEADY,
        near=replace(_NEAR, rate_hz=5.0),
        patter=replace(_PATTER, rate_hz=60.0),
        hiss=0.09,
        hiss_low_hz=600.0,
        design_lufs=-13.93,
        description="Light rain: a soft drizzle with single drops on leaves.",
    ),
    "steady": _STEADY,
    "heavy": replace(
        _STEADY,
        near=replace(_NEAR, rate_hz=40.0, bands_hz=((600.0, 2000.0), *_NEAR.bands_hz)),
        patter=replace(_PATTER, rate_hz=400.0),
        hiss=0.45,
        hiss_low_hz=300.0,
        roar=0.25,
        design_lufs=-1.08,
        description="Heavy rain: a full downpour with a soft low roar.",
    ),
}


def _rain(sr: int, rng: np.random.Generator, design: RainDesign) -> BedParts:
    noise_rng, level_rng, near_rng, patter_rng, _ = substreams(rng, 5)
    sos = noise_band(pink(sr), design.hiss_low_hz, 11000.0, sr)
    level = db_gains(SmoothCurve(level_rng, sr, 2.5, -0.6, 0.6))  # a slow drift
    layers = [layer(sos, sr, _HISS_CORRELATION, design.hiss, gains=level)]
    if design.roar:
        roar = noise_band(leaky_integrator(60.0, sr), 40.0, 500.0, sr)
        layers.append(layer(roar, sr, 0.5, design.roar, gains=level))
    sources = [drops(near_rng, sr, design.near, 384), drops(patter_rng, sr, design.patter, 768)]
    return BedParts(noise_rng, layers, sources)


BEDS: tuple[DesignedBed[RainDesign], ...] = intensity_beds(
    "rain", ("water", "rain"), _rain, _DESIGNS
)
"""Rain on leaves, light, steady and heavy: bright hiss plus soft, sparse stereo drops."""
