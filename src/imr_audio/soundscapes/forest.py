"""The ``forest`` beds: wind in the leaves with sparse, soft birdsong.

A soft wind (the :mod:`~imr_audio.soundscapes.wind` model, gentler and duller) moves through
the trees; its gusts drive the rustle of leaves: a dense stream of tiny bright noise ticks
(2-9 kHz) with a faint hiss, both following the gust envelope, so the leaves stir with each gust
and settle between. Now and then, at random times, a bird sings one short phrase
somewhere in the stereo field: a falling whistle, a quick trill, a warble or a two-note call,
each at its own pitch and distance, with a short stereo reverberation of the wood. The gaps
between phrases vary (gamma-distributed) but are never very long or very short.

``forest-light`` is a still wood with few birds; ``forest-heavy`` a breezier wood with a livelier
chorus.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from imr_audio.soundscapes.base import Intensity
from imr_audio.soundscapes.beds import BedDesign, BedParts, DesignedBed, intensity_beds
from imr_audio.soundscapes.dsp import (
    DropStyle,
    SwellStyle,
    butter,
    pink,
    substreams,
)
from imr_audio.soundscapes.events import Occurrences, drop_bank, poisson_draw
from imr_audio.soundscapes.spectral import layer, noise_band
from imr_audio.soundscapes.wind import WindDesign, wind_layers

__all__ = ["BEDS", "ForestDesign"]

_TICKS = DropStyle(
    rate_hz=250.0,
    level_db=(-20.0, -2.0),
    attack_ms=(0.1, 0.3),
    decay_ms=(0.4, 1.8),
    bands_hz=((2000.0, 6000.0), (3000.0, 9000.0)),
    pan=1.0,
    length_ms=9.0,
)
_HISS = 0.15  # leaf hiss RMS at a full gust (the ticks' is about 0.16)
_REVERB_S = 0.6  # reverberation tail kept after a phrase
_REVERB_T60_S = 0.9
_REVERB_WET = 0.35


@dataclass(frozen=True, kw_only=True)
class ForestDesign(BedDesign):
    """How a wood sounds at one intensity."""

    wind: WindDesign
    """The soft wind moving through the trees; its gusts stir the leaves."""
    wind_level: float
    """RMS of the wind against the rustle's at a full gust (linear)."""
    ticks_hz: float
    """Leaf ticks per second at a full gust, in Hz."""
    birds_hz: float
    """Bird phrases per second, on average, in Hz."""
    bird_level: float
    """Peak of a near bird against full-gust rustle peaks (linear)."""


def _wind(amp: tuple[float, float], period_s: tuple[float, float]) -> WindDesign:
    gusts = SwellStyle(
        period_s=period_s,
        length=(1.3, 1.6),
        skew_s=0.8,
        amp=amp,
        side_amp=(0.8, 1.0),
        decay=(2.0, 3.5),
        floor=0.3,
        lead_s=(25.0, 40.0),
    )
    # no howl in the wood
    return WindDesign(
        gusts=gusts,
        howl=0.0,
        centre_hz=(250.0, 450.0),
        flutter_db=1.5,
        design_lufs=0.0,
        description="",
    )


_STEADY = ForestDesign(
    wind=_wind(amp=(0.85, 1.0), period_s=(4.0, 9.0)),
    wind_level=0.12,
    ticks_hz=250.0,
    birds_hz=0.22,
    bird_level=0.6,
    design_lufs=-10.88,
    description="Wind in the leaves of a wood, with sparse, soft birdsong.",
)

# each intensity changes only what is written
_DESIGNS: dict[Intensity, ForestDesign] = {
    "light": replace(
        _STEADY,
        wind=_wind(amp=(0.5, 0.6), period_s=(5.0, 10.0)),
        wind_level=0.1,
        ticks_hz=120.0,
        birds_hz=0.1,
        design_lufs=-11.22,
        description="A still wood: leaves barely stirring, an occasional bird.",
    ),
    "steady": _STEADY,
    "heavy": replace(
        _STEADY,
        wind=_wind(amp=(1.05, 1.2), period_s=(3.5, 8.0)),
        wind_level=0.15,
        ticks_hz=400.0,
        birds_hz=0.45,
        design_lufs=-9.83,
        description="A breezy wood: rustling leaves and a lively chorus of birds.",
    ),
}


class _Birds:
    """Single bird phrases at random times, each with its own song, pitch, pan and distance.

    Each phrase is made when its time is drawn (in order, so the draws do not depend on the
    calls) and added at once into a buffer of the sound to come, from which calls are served.
    """

    def __init__(self, rng: np.random.Generator, sr: int, rate_hz: float, level: float) -> None:
        self._rng, self._sr, self._rate_hz, self._level = rng, sr, rate_hz, level
        self._clock_s = 0.0
        self._last = -1  # frame of the last phrase made (none yet)
        self._reverb = self._impulse_response().astype(np.float32)
        # the reverberation's spectrum at each FFT size a phrase may need, made when first used
        self._reverb_spectra: dict[int, NDArray[np.complex64]] = {}
        self._buffer = np.zeros((2, 0), dtype=np.float32)  # sound from frame self._first on
        self._first = 0

    def _impulse_response(self) -> NDArray[np.float64]:
        """A short stereo wood reverberation: decaying, darkening noise, different per side."""
        from scipy import signal  # at first use: scipy.signal takes ~1 s to import
        sr, n = self._sr, round(_REVERB_S * self._sr)
        t = np.arange(n) / sr
        noise = self._rng.standard_normal((2, n)) * np.exp(-6.9 * t / _REVERB_T60_S)
        noise = signal.sosfilt(butter(2, 4500.0, "lowpass", sr), noise, axis=-1)
        noise *= 0.5 - 0.5 * np.cos(np.pi * np.minimum(t / 0.01, 1.0))  # no direct sound
        noise[:, -round(0.05 * sr) :] *= np.linspace(1.0, 0.0, round(0.05 * sr))
        return np.asarray(noise / np.sqrt(np.sum(noise**2, axis=1, keepdims=True)))

    def events(self, start: int, frames: int) -> NDArray[np.float32]:
        """Return the ``(2, frames)`` birdsong from absolute frame ``start`` (calls in order)."""
        end = start + frames
        while self._last < end:
            # gamma gaps (shape 4): random, but without the long silences and bunches of Poisson
            self._clock_s += float(self._rng.gamma(4.0, 0.25 / self._rate_hz))
            self._last = round(self._clock_s * self._sr)
            self._add(self._last - self._first, self._phrase())
        # a view: later phrases are added after it, and a grown buffer is a new array
        out = self._buffer[:, start - self._first : end - self._first]
        self._buffer, self._first = self._buffer[:, end - self._first :], end
        return out

    def _add(self, at: int, phrase: NDArray[np.float32]) -> None:
        """Add ``phrase`` to the buffer ``at`` frames after its start."""
        width = at + phrase.shape[1]
        if self._buffer.shape[1] < width:  # room for this phrase and the next few
            grown = np.zeros((2, width + 2 * self._sr), dtype=np.float32)
            grown[:, : self._buffer.shape[1]] = self._buffer
            self._buffer = grown
        self._buffer[:, at:width] += phrase

    def _phrase(self) -> NDArray[np.float32]:
        """One phrase: a dry song, panned, at a distance, with the wood's reverberation."""
        import scipy.fft  # at first use: ~0.2 s to import, not needed to list beds
        from scipy import signal

        rng, sr = self._rng, self._sr
        song = _SONGS[int(rng.integers(len(_SONGS)))](rng, sr)
        distance = rng.uniform(0.0, 1.0)  # 0: near, 1: far (quieter, duller, wetter)
        angle = (rng.uniform(-0.8, 0.8) + 1.0) * np.pi / 4.0
        pans = np.sqrt(2.0) * np.array([math.cos(angle), math.sin(angle)])
        mix = _REVERB_WET * (0.6 + 0.8 * distance)
        # each side is the song through a first-order Butterworth low-pass (dry, panned) plus
        # that through the wood's reverberation: one FFT of the song, one inverse per side
        length = len(song) + self._reverb.shape[1] - 1
        size = _fft_size(length)
        if size not in self._reverb_spectra:
            self._reverb_spectra[size] = scipy.fft.rfft(self._reverb, size, axis=-1)
        reverb = self._reverb_spectra[size]
        k = math.tan(math.pi * (9000.0 - 5000.0 * distance) / sr)  # the bilinear low-pass
        b = np.array([k / (1.0 + k)] * 2, dtype=np.float32)
        a = np.array([1.0, (k - 1.0) / (k + 1.0)], dtype=np.float32)
        dry = scipy.fft.rfft(signal.lfilter(b, a, song.astype(np.float32)), size)
        direct = (pans * (1.0 - 0.5 * distance)).astype(np.float32)[:, None]
        out = scipy.fft.irfft(dry * (direct + np.float32(mix) * reverb), size)[:, :length]
        level = self._level * 10.0 ** (-12.0 * distance / 20.0)
        out *= level / max(float(out.max()), -float(out.min()), 1e-12)
        return out


_FFT_SIZES = (55296, 65536, 76800, 92160)  # 2, 3, 5-smooth sizes: 1.25 to 2.1 s at 44.1 kHz


def _fft_size(length: int) -> int:
    """The FFT size for a phrase of ``length`` frames: one of few (their spectra are kept)."""
    for size in _FFT_SIZES:
        if size >= length:
            return size
    size = _FFT_SIZES[-1]
    while size < length:  # a long song at a high rate: powers of two
        size *= 2
    return size


def _note(freq_hz: NDArray[np.float64], sr: int, harmonic: float = 0.12) -> NDArray[np.float64]:
    """A note following ``freq_hz`` per frame, in a sine-squared envelope, with a faint 2nd."""
    cycles = np.cumsum(freq_hz) / sr
    phase = (2.0 * np.pi * (cycles - np.floor(cycles))).astype(np.float32)  # float32 sines
    envelope = np.sin((np.pi * (np.arange(len(freq_hz)) + 0.5) / len(freq_hz)).astype(np.float32))
    envelope *= envelope
    return np.asarray(envelope * (np.sin(phase) + harmonic * np.sin(2.0 * phase)))


def _join(notes: list[NDArray[np.float64]], gaps: list[int]) -> NDArray[np.float64]:
    parts: list[NDArray[np.float64]] = []
    for note, gap in zip(notes, gaps, strict=True):
        parts += [note, np.zeros(gap, dtype=note.dtype)]
    return np.concatenate(parts)


def _whistle(rng: np.random.Generator, sr: int) -> NDArray[np.float64]:
    """One or two clear whistles, each sliding down a little."""
    count = int(rng.integers(1, 3))
    f0 = rng.uniform(2500.0, 4200.0)
    notes, gaps = [], []
    for i in range(count):
        n = round(rng.uniform(0.18, 0.4) * sr)
        glide = np.linspace(1.0, 1.0 - rng.uniform(0.1, 0.3), n)
        notes.append(_note(f0 * (1.0 - 0.06 * i) * glide, sr) * rng.uniform(0.7, 1.0))
        gaps.append(round(rng.uniform(0.08, 0.2) * sr))
    return _join(notes, gaps)


def _trill(rng: np.random.Generator, sr: int) -> NDArray[np.float64]:
    """A quick run of short falling chirps, 12-18 a second."""
    count = int(rng.integers(6, 15))
    period = 1.0 / rng.uniform(12.0, 18.0)
    f0, sweep = rng.uniform(3500.0, 5500.0), rng.uniform(600.0, 1500.0)
    n = round(0.6 * period * sr)
    note = _note(f0 + sweep * np.linspace(1.0, 0.0, n), sr)
    swell = np.sin(np.pi * (np.arange(count) + 0.5) / count) ** 0.5  # softer first and last
    return _join([note * s for s in swell], [round(0.4 * period * sr)] * count)


def _warble(rng: np.random.Generator, sr: int) -> NDArray[np.float64]:
    """One long note with a quick, irregular vibrato."""
    n = round(rng.uniform(0.5, 1.1) * sr)
    t = np.arange(n) / sr
    rate = rng.uniform(6.0, 11.0)
    depth = rng.uniform(300.0, 700.0)
    drift = np.cumsum(rng.standard_normal(n)) / math.sqrt(sr) * 300.0
    freq = rng.uniform(2800.0, 4200.0) + depth * np.sin(2 * np.pi * rate * t) + drift
    return _note(np.clip(freq, 1500.0, 8000.0), sr)


def _call(rng: np.random.Generator, sr: int) -> NDArray[np.float64]:
    """A two-note call ("tee-too"), twice."""
    high, low = rng.uniform(3800.0, 5000.0), rng.uniform(2600.0, 3500.0)
    n = round(rng.uniform(0.1, 0.16) * sr)
    tee, too = _note(np.full(n, high), sr), _note(np.linspace(low * 1.05, low, n), sr)
    repeats = 2
    gap, pause = round(0.05 * sr), round(rng.uniform(0.15, 0.3) * sr)
    return _join([tee, too] * repeats, [gap, pause] * repeats)


_SONGS = (_whistle, _trill, _warble, _call)


def _forest(sr: int, rng: np.random.Generator, design: ForestDesign) -> BedParts:
    """Wind and leaf hiss in one spectrum, moved by the gusts; ticks stirred by them too."""
    wind_rng, tick_rng, _, bird_rng = substreams(rng, 4)
    wind_gain = design.wind_level / design.wind.gusts.amp[1]
    layers, gusts = wind_layers(sr, wind_rng, design.wind, wind_gain)
    peak = design.wind.gusts.floor + design.wind.gusts.amp[1]

    def stir(centres: NDArray[np.int64]) -> NDArray[np.float64]:
        return gusts.frames(centres)[0] / peak  # leaves move with the gusts

    hiss = noise_band(pink(sr), 1500.0, 8000.0, sr)
    layers.append(layer(hiss, sr, 0.2, _HISS, gains=stir))
    ticks = replace(_TICKS, rate_hz=design.ticks_hz)
    bank = drop_bank(tick_rng, sr, ticks, 1024)
    draw = poisson_draw(
        tick_rng, sr, ticks.rate_hz, 1024, max(16, math.ceil(ticks.rate_hz)),
        ticks.level_db, ticks.pan,
    )

    def stirred() -> Occurrences:
        batch = draw()
        gains = batch.gains * gusts.envelope_at(batch.times) / peak
        return Occurrences(batch.times, batch.index, gains)

    birds = _Birds(bird_rng, sr, design.birds_hz, design.bird_level)

    def finish(start: int, frames: int, own: NDArray[np.float32]) -> NDArray[np.floating]:
        return birds.events(start, frames)

    return BedParts(substreams(wind_rng, 1)[0], layers, [(bank, stirred)], finish)


BEDS: tuple[DesignedBed[ForestDesign], ...] = intensity_beds(
    "forest", ("forest", "trees", "wind", "birds", "bird"), _forest, _DESIGNS
)
"""A wood, still to breezy: wind in the leaves, with sparse, soft birdsong."""
