"""The ``ocean`` beds: slow waves rolling in and drawing back.

Two noise layers share one wave envelope: a low "body" (brown noise, 50-700 Hz) that follows the
envelope, and a brighter "wash" (pink noise, 250 Hz-3 kHz) that follows it more steeply, so each
swell gets louder and brighter, then recedes. Waves are smooth asymmetric bumps (rise ~40 %,
longer fall) at irregular periods of 6-12 s that overlap their neighbours, with slightly
different timing and size per channel, so the sea never loops and has width.

``ocean-light`` is a calmer sea (smaller, slower swells over a fuller floor); ``ocean-heavy`` a
stronger surf (bigger swells, a brighter wash reaching 5 kHz at the crest).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from imr_audio.soundscapes.base import Intensity
from imr_audio.soundscapes.beds import BedDesign, BedParts, DesignedBed, intensity_beds
from imr_audio.soundscapes.dsp import (
    Filter,
    Swells,
    SwellStyle,
    butter,
    leaky_integrator,
    pink,
    substreams,
)
from imr_audio.soundscapes.spectral import layer, noise_band

__all__ = ["BEDS", "OceanDesign"]


@dataclass(frozen=True, kw_only=True)
class OceanDesign(BedDesign):
    """How a sea sounds at one intensity."""

    waves: SwellStyle
    """The wave envelope shared by the body and the wash."""
    wash: float
    """RMS of the wash against the body's (linear)."""
    wash_power: float
    """The wash follows the envelope to this power: brighter at the crest."""
    wash_top_hz: float
    """Corner of the wash's second-order low-pass, in Hz."""


_STEADY = OceanDesign(
    waves=SwellStyle(
        period_s=(6.0, 12.0),
        length=(1.2, 1.45),
        skew_s=0.35,
        amp=(0.9, 1.0),
        side_amp=(0.9, 1.0),
        decay=(2.5, 3.5),
        floor=0.35,
        lead_s=(20.0, 32.0),
    ),
    wash=0.7,
    wash_power=1.5,
    wash_top_hz=3000.0,
    design_lufs=3.60,
    description="Slow waves rolling in and drawing back on a calm shore.",
)

# each intensity changes only what is written; design_lufs: the steady design measured over
# 6 seeds x 400 s, the others over 4 x 200 s
_DESIGNS: dict[Intensity, OceanDesign] = {
    "light": replace(
        _STEADY,
        waves=replace(
            _STEADY.waves,
            period_s=(8.0, 14.0),
            skew_s=0.45,
            amp=(0.55, 0.7),
            floor=0.5,
            lead_s=(24.0, 38.0),
        ),
        wash=0.5,
        wash_top_hz=2500.0,
        design_lufs=1.67,
        description="A calm sea: small, slow swells lapping on a quiet shore.",
    ),
    "steady": _STEADY,
    "heavy": replace(
        _STEADY,
        waves=replace(
            _STEADY.waves,
            period_s=(6.0, 11.0),
            length=(1.15, 1.4),
            skew_s=0.3,
            amp=(1.0, 1.15),
            decay=(2.2, 3.2),
            floor=0.25,
        ),
        wash=1.0,
        wash_power=2.0,
        wash_top_hz=5000.0,
        design_lufs=6.33,
        description="Stronger surf: big swells breaking into a bright wash.",
    ),
}


def _ocean(sr: int, rng: np.random.Generator, design: OceanDesign) -> BedParts:
    """Body and wash in one spectrum; the wave envelope is a gain per frame and side.

    The envelope changes over seconds, far slower than a frame (0.19 s), so the frames'
    crossfade follows it closely.
    """
    noise_rng, wave_rng = substreams(rng, 2)
    body = noise_band(leaky_integrator(80.0, sr), 50.0, 700.0, sr)
    wash = noise_band(pink(sr), 250.0, design.wash_top_hz, sr)
    waves = Swells(wave_rng, sr, design.waves)
    power = design.wash_power

    env = [np.empty((0, 2))]

    def body_gains(centres: NDArray[np.int64]) -> NDArray[np.float64]:
        env[0] = waves.at(centres).T  # (frames, 2); the wash's gains follow
        return env[0]

    def wash_gains(centres: NDArray[np.int64]) -> NDArray[np.float64]:
        return np.asarray(env[0] ** power)

    # the DC-blocking high-pass after the mix, as always: in the time domain, after the
    # frames' swells (their crossfades would otherwise leave a little energy near DC)
    dc = Filter(butter(1, 15.0, "highpass", sr))

    def finish(start: int, frames: int, own: NDArray[np.float32]) -> NDArray[np.floating]:
        return dc(own[0])

    layers = [
        layer(body, sr, 0.6, group=1, gains=body_gains),
        layer(wash, sr, 0.4, design.wash, group=1, gains=wash_gains),
    ]
    return BedParts(noise_rng, layers, finish=finish)


BEDS: tuple[DesignedBed[OceanDesign], ...] = intensity_beds(
    "ocean", ("water", "sea", "ocean", "waves"), _ocean, _DESIGNS
)
"""Slow irregular waves, calm, steady and strong: low noise swelling louder and brighter."""
