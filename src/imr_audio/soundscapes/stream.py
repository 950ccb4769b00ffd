"""The ``stream`` beds: a small stream babbling over stones.

The babble is made of many small bubbles, each a short sine whose pitch rises as it decays
(after van den Doel's model of liquid sounds, 2005): a bubble of resonance ``f0`` decays at
``0.043 f0 + 0.0014 f0^1.5`` per second and rises by 10-40 % over its decay. Small, high bubbles
(1.2-3.5 kHz) come thick and fast; larger, lower ones (500 Hz-1.2 kHz) less often and a little
louder; every bubble carries about the same energy before its random level. Under them the
water's steady rush (pink noise, 200 Hz-5 kHz, drifting by +/-1 dB) and a faint low gurgle;
over them a light spray of tiny bright ticks. Bubbles are scattered across the stereo field,
and the noises are partly correlated between the channels.

``stream-light`` is a trickle; ``stream-heavy`` a fuller, faster brook with more rush.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from imr_audio.soundscapes.base import Intensity
from imr_audio.soundscapes.beds import BedDesign, BedParts, DesignedBed, intensity_beds
from imr_audio.soundscapes.dsp import (
    DropStyle,
    SmoothCurve,
    leaky_integrator,
    pink,
    substreams,
)
from imr_audio.soundscapes.events import Source, drops, in_pieces, poisson_draw
from imr_audio.soundscapes.spectral import db_gains, layer, noise_band

__all__ = ["BEDS", "StreamDesign"]

_SPRAY = DropStyle(
    rate_hz=120.0,
    level_db=(-24.0, -8.0),
    attack_ms=(0.1, 0.3),
    decay_ms=(0.3, 1.2),
    bands_hz=((3000.0, 9000.0),),
    pan=1.0,
    length_ms=6.0,
)


@dataclass(frozen=True)
class _BubbleKind:
    """One size of bubble."""

    low_hz: float
    """Lowest resonance, in Hz (resonances are drawn log-uniformly)."""
    high_hz: float
    """Highest resonance, in Hz."""
    length_s: float
    """Room for one bubble, in seconds; it is faded to zero within it."""
    level_db: tuple[float, float]
    """Range of random levels, in dB, on top of equal energy whatever the decay."""


_SMALL = _BubbleKind(low_hz=1200.0, high_hz=3500.0, length_s=0.025, level_db=(-14.0, 0.0))
_LARGE = _BubbleKind(low_hz=500.0, high_hz=1200.0, length_s=0.06, level_db=(-8.0, 2.0))


@dataclass(frozen=True, kw_only=True)
class StreamDesign(BedDesign):
    """How a stream sounds at one intensity."""

    small_hz: float
    """Small, high bubbles per second, in Hz."""
    large_hz: float
    """Larger, lower bubbles per second, in Hz."""
    rush: float
    """RMS of the water's rush, against a loud bubble's peak of 1 (linear)."""
    gurgle: float
    """RMS of the faint low gurgle, on the same scale."""


_DESIGNS: dict[Intensity, StreamDesign] = {
    "light": StreamDesign(
        small_hz=70.0,
        large_hz=12.0,
        rush=0.05,
        gurgle=0.03,
        design_lufs=-9.89,
        description="A trickle of water over stones.",
    ),
    "steady": StreamDesign(
        small_hz=180.0,
        large_hz=35.0,
        rush=0.09,
        gurgle=0.05,
        design_lufs=-5.69,
        description="A small stream babbling over stones.",
    ),
    "heavy": StreamDesign(
        small_hz=380.0,
        large_hz=70.0,
        rush=0.16,
        gurgle=0.09,
        design_lufs=-2.32,
        description="A full, fast brook rushing over stones.",
    ),
}


def _bubbles(
    rng: np.random.Generator, sr: int, kind: _BubbleKind, rate_hz: float, count: int
) -> Source:
    """Poisson bubbles of one kind from a bank of ``count``, each with its level and pan."""
    length = round(kind.length_s * sr)
    n = np.arange(length)
    fade = np.clip((length - n) / (0.3 * length), 0.0, 1.0)
    fade = (0.5 - 0.5 * np.cos(np.pi * fade)).astype(np.float32)

    def make(k: int) -> NDArray[np.float32]:
        f0 = np.exp(rng.uniform(math.log(kind.low_hz), math.log(kind.high_hz), k))
        decay = 0.043 * f0 + 0.0014 * f0**1.5  # 1/s
        rise = rng.uniform(0.1, 0.4, k) * decay  # f(t) = f0 (1 + rise t)
        # equal energy whatever the decay (slow low bubbles would boom); the random level is
        # drawn per occurrence
        level = np.sqrt(decay / 200.0)
        attack = rng.uniform(0.4, 1.0, k) * sr / 1000  # frames
        start_phase = rng.uniform(0.0, 2.0 * np.pi, k)
        t = (n.astype(np.float32) / sr)[None, :]
        f0_, rise_, decay_ = (x.astype(np.float32)[:, None] for x in (f0, rise, decay))
        phase = 2.0 * np.pi * f0_ * (t + 0.5 * rise_ * t * t)
        wave = np.sin(phase + start_phase.astype(np.float32)[:, None]) * np.exp(-decay_ * t)
        ramp_end = math.ceil(float(attack.max())) + 1  # the ramp is 1 after this
        ramp = np.minimum(n[None, :ramp_end] / attack[:, None], 1.0)
        wave[:, :ramp_end] *= (0.5 - 0.5 * np.cos(np.pi * ramp)).astype(np.float32)
        wave *= fade * level.astype(np.float32)[:, None]
        return np.asarray(wave, dtype=np.float32)

    wave = in_pieces(count, make)
    batch = max(16, math.ceil(rate_hz))
    return wave, poisson_draw(rng, sr, rate_hz, count, batch, kind.level_db, 0.9)


def _stream(sr: int, rng: np.random.Generator, design: StreamDesign) -> BedParts:
    noise_rng, small_rng, large_rng, spray_rng, drift_rng = substreams(rng, 5)
    sources = [
        _bubbles(small_rng, sr, _SMALL, design.small_hz, 1024),
        _bubbles(large_rng, sr, _LARGE, design.large_hz, 512),
        drops(spray_rng, sr, _SPRAY, 512),
    ]
    rush = noise_band(pink(sr), 200.0, 5000.0, sr)
    gurgle = noise_band(leaky_integrator(80.0, sr), 60.0, 350.0, sr)
    drift = db_gains(SmoothCurve(drift_rng, sr, 2.0, -1.0, 1.0))  # slow: a gain per frame
    layers = [layer(rush, sr, 0.4, design.rush, gains=drift), layer(gurgle, sr, 0.6, design.gurgle)]
    return BedParts(noise_rng, layers, sources)


BEDS: tuple[DesignedBed[StreamDesign], ...] = intensity_beds(
    "stream", ("water", "river", "stream"), _stream, _DESIGNS
)
"""A small stream, a trickle to a brook: babbling bubbles over a steady rush of water."""
