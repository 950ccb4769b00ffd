"""The ``ocean`` bed: slow waves rolling in and drawing back.

Two noise layers share one wave envelope: a low "body" (brown noise, 50-700 Hz) that follows the
envelope, and a brighter "wash" (pink noise, 250 Hz-3 kHz) that follows it more steeply, so each
swell gets louder and brighter, then recedes. Waves are smooth asymmetric bumps (rise ~40 %,
longer fall) at irregular periods of 6-12 s that overlap their neighbours, with slightly
different timing and size per channel, so the sea never loops and has width.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from imr_audio.soundscapes.base import (
    TARGET_LUFS,
    Engine,
    ProceduralSoundscape,
    SoundscapeInfo,
    register_soundscape,
)
from imr_audio.soundscapes.dsp import (
    Filter,
    butter,
    leaky_integrator,
    pink,
    stereo_noise,
    substreams,
    unit_noise_gain,
)

__all__ = ["OceanSoundscape"]

_FLOOR = 0.35  # envelope between waves, against wave peaks of ~1
_WASH = 0.7
_WASH_POWER = 1.5  # wash follows envelope ** 1.5: brighter at the crest
# Fixed output scale: the unscaled design measures +3.60 LUFS (pyloudnorm, 6 seeds x 400 s at
# 44.1 kHz; 48 kHz agrees within 0.07 LU).
_GAIN = 10.0 ** ((TARGET_LUFS - 3.60) / 20.0)


class _Waves:
    """Irregular swells: overlapping smooth asymmetric bumps, timed slightly apart per side."""

    _BATCH = 16

    def __init__(self, rng: np.random.Generator, sr: int) -> None:
        self._rng, self._sr = rng, sr
        self._next_s = -rng.uniform(20.0, 32.0)  # earlier waves are still receding at t = 0
        self._start_s = np.empty((0, 2))  # per wave, per side
        self._dur_s = np.empty(0)
        self._amp = np.empty((0, 2))
        self._decay = np.empty(0)

    def _more(self) -> None:
        rng, k = self._rng, self._BATCH
        period = rng.uniform(6.0, 12.0, k)
        start = self._next_s + np.cumsum(period) - period
        self._next_s = float(start[-1] + period[-1])
        skew = rng.uniform(-0.35, 0.35, k)[:, None] * np.array([-1.0, 1.0])
        self._start_s = np.concatenate((self._start_s, start[:, None] + skew))
        self._dur_s = np.concatenate((self._dur_s, period * rng.uniform(1.2, 1.45, k)))
        amp = rng.uniform(0.9, 1.0, k)[:, None] * rng.uniform(0.9, 1.0, (k, 2))
        self._amp = np.concatenate((self._amp, amp))
        self._decay = np.concatenate((self._decay, rng.uniform(2.5, 3.5, k)))

    def __call__(self, start: int, frames: int) -> NDArray[np.float64]:
        """Return the ``(2, frames)`` envelope from absolute frame ``start``."""
        t0, t1 = start / self._sr, (start + frames) / self._sr
        while self._next_s - 1.0 < t1:
            self._more()
        ended = int(np.argmin(np.max(self._start_s, axis=1) + self._dur_s < t0))
        self._start_s, self._dur_s = self._start_s[ended:], self._dur_s[ended:]
        self._amp, self._decay = self._amp[ended:], self._decay[ended:]
        t = (start + np.arange(frames)) / self._sr
        env = np.full((2, frames), _FLOOR)
        for i in np.flatnonzero(np.min(self._start_s, axis=1) < t1):
            # x^2 (1-x)^b: zero with zero slope at both ends, peak at 2 / (2 + b)
            b = self._decay[i]
            peak = (2.0 / (2.0 + b)) ** 2 * (b / (2.0 + b)) ** b
            for side in (0, 1):
                x = np.clip((t - self._start_s[i, side]) / self._dur_s[i], 0.0, 1.0)
                env[side] += (self._amp[i, side] / peak) * x * x * (1.0 - x) ** b
        return env


class _OceanEngine:
    def __init__(self, sr: int, rng: np.random.Generator) -> None:
        self._noise, wave_rng = substreams(rng, 2)
        body = np.vstack(
            (
                leaky_integrator(80.0, sr),
                butter(2, 50.0, "highpass", sr),
                butter(2, 700.0, "lowpass", sr),
            )
        )
        wash = np.vstack(
            (pink(sr), butter(2, 250.0, "highpass", sr), butter(2, 3000.0, "lowpass", sr))
        )
        self._body, self._body_gain = Filter(body), unit_noise_gain(body, sr)
        self._wash, self._wash_gain = Filter(wash), _WASH * unit_noise_gain(wash, sr)
        self._dc = Filter(butter(1, 15.0, "highpass", sr))
        self._waves = _Waves(wave_rng, sr)
        self._pos = 0

    def render(self, frames: int) -> NDArray[np.float64]:
        body_noise, wash_noise = stereo_noise(self._noise, frames, 0.6, 0.4)
        env = self._waves(self._pos, frames)
        body = self._body(body_noise) * self._body_gain
        wash = self._wash(wash_noise) * self._wash_gain
        self._pos += frames
        return self._dc(env * body + env**_WASH_POWER * wash) * _GAIN


class OceanSoundscape(ProceduralSoundscape):
    """Slow irregular waves: low noise swelling louder and brighter, then receding."""

    info = SoundscapeInfo(
        name="ocean",
        description="Slow waves rolling in and drawing back on a calm shore.",
        themes=("water", "sea", "ocean", "waves"),
    )

    def engine(self, sample_rate_hz: int, rng: np.random.Generator) -> Engine:
        """Return a fresh ocean engine positioned at frame 0."""
        return _OceanEngine(sample_rate_hz, rng)


register_soundscape(OceanSoundscape())
