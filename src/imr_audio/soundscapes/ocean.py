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

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from imr_audio.soundscapes.base import (
    INTENSITIES,
    Engine,
    Intensity,
    ProceduralSoundscape,
    SoundscapeInfo,
    level_gain,
    variant_name,
)
from imr_audio.soundscapes.dsp import (
    Filter,
    Swells,
    SwellStyle,
    butter,
    leaky_integrator,
    pink,
    stereo_noise,
    substreams,
    unit_noise_gain,
)

__all__ = ["OceanSoundscape"]


@dataclass(frozen=True)
class _Design:
    waves: SwellStyle
    wash: float  # wash RMS against the body's
    wash_power: float  # wash follows envelope ** power: brighter at the crest
    wash_top_hz: float
    design_lufs: float  # unscaled loudness, LUFS (steady: 6 seeds x 400 s; others 4 x 200 s)
    description: str


_DESIGNS: dict[Intensity, _Design] = {
    "light": _Design(
        SwellStyle((8.0, 14.0), (1.2, 1.45), 0.45, (0.55, 0.7), (0.9, 1.0), (2.5, 3.5), 0.5,
                   (24.0, 38.0)),
        0.5, 1.5, 2500.0, 1.67,
        "A calm sea: small, slow swells lapping on a quiet shore.",
    ),
    "steady": _Design(
        SwellStyle((6.0, 12.0), (1.2, 1.45), 0.35, (0.9, 1.0), (0.9, 1.0), (2.5, 3.5), 0.35,
                   (20.0, 32.0)),
        0.7, 1.5, 3000.0, 3.60,
        "Slow waves rolling in and drawing back on a calm shore.",
    ),
    "heavy": _Design(
        SwellStyle((6.0, 11.0), (1.15, 1.4), 0.3, (1.0, 1.15), (0.9, 1.0), (2.2, 3.2), 0.25,
                   (20.0, 32.0)),
        1.0, 2.0, 5000.0, 6.33,
        "Stronger surf: big swells breaking into a bright wash.",
    ),
}


class _OceanEngine:
    def __init__(self, sr: int, rng: np.random.Generator, design: _Design) -> None:
        self._noise, wave_rng = substreams(rng, 2)
        body = np.vstack(
            (
                leaky_integrator(80.0, sr),
                butter(2, 50.0, "highpass", sr),
                butter(2, 700.0, "lowpass", sr),
            )
        )
        wash = np.vstack(
            (
                pink(sr),
                butter(2, 250.0, "highpass", sr),
                butter(2, design.wash_top_hz, "lowpass", sr),
            )
        )
        self._design = design
        self._body, self._body_gain = Filter(body), unit_noise_gain(body, sr)
        self._wash, self._wash_gain = Filter(wash), design.wash * unit_noise_gain(wash, sr)
        self._dc = Filter(butter(1, 15.0, "highpass", sr))
        self._waves = Swells(wave_rng, sr, design.waves)
        self._gain = level_gain(design.design_lufs)
        self._pos = 0

    def render(self, frames: int) -> NDArray[np.float64]:
        body_noise, wash_noise = stereo_noise(self._noise, frames, 0.6, 0.4)
        env = self._waves(self._pos, frames)
        body = self._body(body_noise) * self._body_gain
        wash = self._wash(wash_noise) * self._wash_gain
        self._pos += frames
        return self._dc(env * body + env**self._design.wash_power * wash) * self._gain


class OceanSoundscape(ProceduralSoundscape):
    """Slow irregular waves: low noise swelling louder and brighter, then receding."""

    def __init__(self, intensity: Intensity = "steady") -> None:
        """Describe the ocean bed at ``intensity``."""
        self.intensity = intensity
        self.info = SoundscapeInfo(
            name=variant_name("ocean", intensity),
            description=_DESIGNS[intensity].description,
            themes=("water", "sea", "ocean", "waves"),
        )

    def engine(self, sample_rate_hz: int, rng: np.random.Generator) -> Engine:
        """Return a fresh ocean engine positioned at frame 0."""
        return _OceanEngine(sample_rate_hz, rng, _DESIGNS[self.intensity])


BEDS = tuple(OceanSoundscape(intensity) for intensity in INTENSITIES)
"""The ocean beds at every intensity (the soundscape catalog collects them)."""
