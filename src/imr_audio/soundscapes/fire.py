"""The ``fire`` beds: a gentle fire in a hearth, softly crackling.

A low, flickering rumble of flame (brown noise, 50-400 Hz, its level fluttering every ~0.15 s)
with a breathier layer above it (300 Hz-1.5 kHz) and a faint hiss of gas and steam. Over it,
crackles come in small clusters, as wood does: a cluster every so often (Poisson), each of one
to a handful of tiny, bright noise ticks within a few tenths of a second, with a soft attack of
0.3-0.8 ms so that none is a hard click; now and then a deeper, fuller snap of a log.

``fire-light`` is embers: a low glow with sparse crackles; ``fire-heavy`` a lively blaze.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from imr_audio.soundscapes.base import Intensity
from imr_audio.soundscapes.beds import BedDesign, BedParts, DesignedBed, intensity_beds
from imr_audio.soundscapes.dsp import (
    EventStream,
    SmoothCurve,
    butter,
    leaky_integrator,
    pink,
    substreams,
)
from imr_audio.soundscapes.events import Occurrences, Source, in_pieces, on_grid, stereo_gains
from imr_audio.soundscapes.spectral import layer, noise_band

__all__ = ["BEDS", "FireDesign"]

_CLUSTER_S = 0.35  # longest cluster of crackles
_TICK_S = 0.012  # room for one crackle
_TICK_BANDS_HZ = ((1200.0, 3500.0), (1800.0, 5000.0), (2200.0, 6000.0))
_SNAP_S = 0.12


@dataclass(frozen=True, kw_only=True)
class FireDesign(BedDesign):
    """How a fire sounds at one intensity."""

    clusters_hz: float
    """Crackle clusters per second, in Hz."""
    per_cluster: float
    """Mean crackles in a cluster beyond the first (Poisson)."""
    snaps_hz: float
    """Deeper snaps of a log per second, in Hz."""
    crackle: float
    """Peak of the loudest crackle, against the flame's RMS (linear)."""


_DESIGNS: dict[Intensity, FireDesign] = {
    "light": FireDesign(
        clusters_hz=0.7,
        per_cluster=1.2,
        snaps_hz=0.05,
        crackle=2.0,
        design_lufs=2.72,
        description="Embers: a low glow with sparse, soft crackles.",
    ),
    "steady": FireDesign(
        clusters_hz=1.4,
        per_cluster=2.0,
        snaps_hz=0.12,
        crackle=2.2,
        design_lufs=2.73,
        description="A gentle fire in a hearth, softly crackling.",
    ),
    "heavy": FireDesign(
        clusters_hz=2.6,
        per_cluster=3.0,
        snaps_hz=0.25,
        crackle=2.6,
        design_lufs=2.76,
        description="A lively blaze: a fuller flame, busy crackling.",
    ),
}


def _crackles(rng: np.random.Generator, sr: int, design: FireDesign, count: int) -> Source:
    """Clusters of tiny noise ticks from a bank of ``count``, each with its level and pan."""
    tick = round(_TICK_S * sr)
    n = np.arange(tick)
    bands = [butter(1, band_hz, "bandpass", sr) for band_hz in _TICK_BANDS_HZ]

    def make(k: int) -> NDArray[np.float64]:
        from scipy import signal  # at first use: scipy.signal takes ~1 s to import
        attack = rng.uniform(0.3, 0.8, k)[:, None] * sr / 1000
        decay = rng.uniform(0.4, 2.5, k)[:, None] * sr / 1000
        envelope = np.exp(-np.maximum(n - attack, 0.0) / decay)
        envelope *= 0.5 - 0.5 * np.cos(np.pi * np.minimum(n / attack, 1.0))
        envelope *= 0.5 + 0.5 * np.cos(
            np.pi * np.clip((n - 0.7 * tick) / (0.3 * tick), 0.0, 1.0)
        )
        band = rng.integers(0, len(bands), k)
        ticks = rng.standard_normal((k, tick)) * envelope
        for b, sos in enumerate(bands):
            ticks[band == b] = signal.sosfilt(sos, ticks[band == b])
        return np.asarray(ticks / np.maximum(np.max(np.abs(ticks), axis=1, keepdims=True), 1e-12))

    bank = in_pieces(count, make)
    clock = [0.0]
    clusters = 16

    def draw() -> Occurrences:
        starts = clock[0] + np.cumsum(rng.exponential(1.0 / design.clusters_hz, clusters))
        clock[0] = float(starts[-1])
        extra = rng.poisson(design.per_cluster, clusters)
        which = np.repeat(np.arange(clusters), extra + 1)
        gaps = rng.exponential(0.05, len(which))
        first = np.cumsum(extra + 1) - (extra + 1)  # each cluster's first tick: no gap
        gaps[first] = 0.0
        offsets = np.cumsum(gaps)
        offsets -= np.repeat(offsets[first], extra + 1)
        keep = offsets < _CLUSTER_S
        which, offsets = which[keep], offsets[keep]
        centre = rng.uniform(-0.6, 0.6, clusters)[which]  # the cluster's place; ticks around it
        pan = np.clip(centre + rng.uniform(-0.2, 0.2, len(which)), -1.0, 1.0)
        level = design.crackle * 10.0 ** (rng.uniform(-18.0, 0.0, len(which)) / 20.0)
        times = on_grid(starts[which] + offsets, sr)
        order = np.argsort(times, kind="stable")
        index = rng.integers(0, count, len(which))
        return Occurrences(
            times[order], index[order], stereo_gains(level, pan)[order],
            horizon=int(on_grid(starts[-1:], sr)[0]),
        )

    return bank, draw


class _Snaps:
    """A log's deeper snap: a noise tick ringing through two low resonances."""

    _BATCH = 4

    def __init__(self, rng: np.random.Generator, sr: int, design: FireDesign) -> None:
        self._rng, self._sr, self._design = rng, sr, design
        self._clock_s = 0.0
        self._lowpass = butter(2, 6000.0, "lowpass", sr)
        self.events = EventStream(self._draw, round(_SNAP_S * sr))

    def _draw(self) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        from scipy import signal  # at first use: scipy.signal takes ~1 s to import
        rng, sr, k, d = self._rng, self._sr, self._BATCH, self._design
        times = self._clock_s + np.cumsum(rng.exponential(1.0 / d.snaps_hz, k))
        self._clock_s = float(times[-1])
        n = np.arange(round(_SNAP_S * sr))
        t = n / sr
        snaps = np.zeros((k, 2, len(n)))
        for c in range(k):
            attack = rng.uniform(0.3, 0.8) * sr / 1000
            body = np.zeros(len(n))
            for _ in range(2):
                hz, decay_s = rng.uniform(350.0, 1300.0), rng.uniform(0.01, 0.03)
                body += np.sin(2 * np.pi * hz * t + rng.uniform(0, 2 * np.pi)) * np.exp(
                    -t / decay_s
                )
            noise = rng.standard_normal(len(n)) * np.exp(-t / 0.004)
            wave = body + 1.5 * noise
            wave *= 0.5 - 0.5 * np.cos(np.pi * np.minimum(n / attack, 1.0))
            wave *= 0.5 + 0.5 * np.cos(np.pi * np.clip((t / _SNAP_S - 0.6) / 0.4, 0.0, 1.0))
            wave = signal.sosfilt(self._lowpass, wave)
            angle = (rng.uniform(-0.5, 0.5) + 1.0) * np.pi / 4
            pans = math.sqrt(2.0) * np.array([math.cos(angle), math.sin(angle)])
            level = d.crackle * 10.0 ** (rng.uniform(-6.0, 0.0) / 20.0)
            snaps[c] = pans[:, None] * wave * (level / max(float(np.max(np.abs(wave))), 1e-12))
        return np.round(times * sr).astype(np.int64), snaps


def _fire(sr: int, rng: np.random.Generator, design: FireDesign) -> BedParts:
    noise_rng, flicker_rng, breath_rng, crackle_rng, snap_rng = substreams(rng, 5)
    rumble = noise_band(leaky_integrator(80.0, sr), 50.0, 400.0, sr)
    breath = noise_band(pink(sr), 300.0, 1500.0, sr)
    hiss = noise_band(pink(sr), 2000.0, 8000.0, sr)
    breath_level = SmoothCurve(breath_rng, sr, 0.6, 0.6, 1.3)  # slow: a gain per frame

    def breath_gains(centres: NDArray[np.int64]) -> NDArray[np.float64]:
        g = breath_level.at(centres)
        return np.stack((g, g), axis=1)

    # the flame (group 1) flickers fast, so in the time domain; the hiss is steady
    layers = [
        layer(rumble, sr, 0.6, group=1),
        layer(breath, sr, 0.4, 0.6, group=1, gains=breath_gains),
        layer(hiss, sr, 0.3, 0.07),
    ]
    flicker = SmoothCurve(flicker_rng, sr, 0.15, 0.55, 1.35)
    snaps = _Snaps(snap_rng, sr, design)

    def finish(start: int, frames: int, own: NDArray[np.float32]) -> NDArray[np.floating]:
        flame = own[0]  # the noise's own output, consumed: made to flicker where it is
        flame *= flicker(start, frames).astype(np.float32)
        flame += snaps.events(start, frames)
        return flame

    return BedParts(noise_rng, layers, [_crackles(crackle_rng, sr, design, 512)], finish)


BEDS: tuple[DesignedBed[FireDesign], ...] = intensity_beds(
    "fire", ("fire", "fireplace"), _fire, _DESIGNS
)
"""A gentle fire, embers to a blaze: low flickering flame, soft hiss, clusters of crackles."""
