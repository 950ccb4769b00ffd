"""Short events (drops, ticks, bubbles, chirps) played from a bank made once per render.

Synthesising every drop of a rain as it falls costs more than the rest of the bed: here each
kind of event is synthesised a fixed number of times (the bank, 256-1024 events, each made
exactly as the old model made one), and every occurrence picks one at random and gets its own
time, level and pan. Occurrences start on a grid of ``GRID`` samples (0.7 ms at 44.1 kHz: far
below the random spacing of the events) and are overlap-added all at once by a sparse matrix
product: row ``m`` of the output (``GRID`` samples) takes row ``r`` of the event that starts at
row ``m - r``.

Occurrences are drawn in batches as the stream is read and each is added whole when first due,
its tail carried, so the output does not depend on how the stream is cut into calls.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import signal, sparse

from imr_audio.soundscapes.dsp import DropStyle, butter

__all__ = [
    "GRID",
    "Occurrences",
    "Scatter",
    "drop_bank",
    "drops",
    "on_grid",
    "poisson_draw",
    "stereo_gains",
]

GRID = 32
"""Occurrences start on multiples of this many samples."""

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Occurrences:
    """A batch of occurrences: start frames (ascending), bank rows, gains ``(n, 2)``."""

    times: NDArray[np.int64]
    index: NDArray[np.int64]
    gains: Array


class Scatter:
    """Overlap-adds occurrences of a bank's events, tails carried across calls."""

    def __init__(self, bank: NDArray[np.floating], draw: Callable[[], Occurrences]) -> None:
        """Play the ``(events, length)`` ``bank`` at the occurrences ``draw()`` gives in turn.

        ``draw`` returns the next batch (at least one occurrence, later than every earlier one).
        """
        count, length = bank.shape
        self._rows = math.ceil(length / GRID)
        padded = np.zeros((count, self._rows * GRID), dtype=np.float32)
        padded[:, :length] = bank
        self._bank = padded.reshape(count * self._rows, GRID)
        self._draw = draw
        self._pending: list[Occurrences] = []
        self._horizon = -1  # every occurrence before this frame has been drawn
        self._buffer = np.zeros((2, 0))  # sound from frame self._first on
        self._first = 0

    def __call__(self, start: int, frames: int) -> Array:
        """Return the ``(2, frames)`` events sounding from absolute frame ``start``."""
        end = start + frames
        while self._horizon < end:
            batch = self._draw()
            self._pending.append(batch)
            self._horizon = int(batch.times[-1]) if batch.times.size else self._horizon
        due = self._take(end)
        if due is not None:
            self._add(due)
        lo = start - self._first
        out = np.zeros((2, frames))
        have = min(frames, self._buffer.shape[1] - lo)
        if have > 0:
            out[:, :have] = self._buffer[:, lo : lo + have]
        keep = end - self._first
        self._buffer, self._first = self._buffer[:, keep:], end
        return out

    def _take(self, end: int) -> Occurrences | None:
        """Remove and return the pending occurrences that start before ``end``."""
        if not self._pending:
            return None
        joined = Occurrences(
            np.concatenate([p.times for p in self._pending]),
            np.concatenate([p.index for p in self._pending]),
            np.concatenate([p.gains for p in self._pending]),
        )
        m = int(np.searchsorted(joined.times, end))
        rest = Occurrences(joined.times[m:], joined.index[m:], joined.gains[m:])
        self._pending = [rest] if rest.times.size else []
        if m == 0:
            return None
        return Occurrences(joined.times[:m], joined.index[:m], joined.gains[:m])

    def _add(self, due: Occurrences) -> None:
        """Add ``due`` (each starting at or after ``self._first``) to the buffer."""
        rows = self._rows
        # occurrences are on the absolute grid; the buffer may start off it
        base = -(self._first % GRID)
        start_row = (due.times - self._first - base) // GRID
        total_rows = int(start_row[-1]) + rows + 1
        r = np.arange(rows)
        out_rows = (start_row[:, None] + r[None, :]).ravel()
        cols = (due.index[:, None] * rows + r[None, :]).ravel()
        data = np.repeat(due.gains.T.astype(np.float32), rows, axis=1).ravel()  # left, then right
        matrix = sparse.csr_matrix(
            (
                data,
                (np.concatenate((out_rows, out_rows + total_rows)), np.tile(cols, 2)),
            ),
            shape=(2 * total_rows, self._bank.shape[0]),
        )
        sound = (matrix @ self._bank).reshape(2, total_rows * GRID)[:, -base:]
        width = sound.shape[1]
        if self._buffer.shape[1] < width:
            grown = np.zeros((2, width))
            grown[:, : self._buffer.shape[1]] = self._buffer
            self._buffer = grown
        self._buffer[:, :width] += sound


def on_grid(times_s: Array, sr: int) -> NDArray[np.int64]:
    """Round times in seconds to the nearest grid frame."""
    return np.round(times_s * (sr / GRID)).astype(np.int64) * GRID


def stereo_gains(level: Array, pan: Array) -> Array:
    """Equal-power gains ``(n, 2)`` for levels and pans in ``[-1, 1]`` (sqrt 2 at the centre)."""
    angle = (pan + 1.0) * np.pi / 4.0
    return np.sqrt(2.0) * level[:, None] * np.stack((np.cos(angle), np.sin(angle)), axis=1)


def poisson_draw(
    rng: np.random.Generator, sr: int, rate_hz: float, count: int, batch: int,
    level_db: tuple[float, float], pan: float,
) -> Callable[[], Occurrences]:
    """Poisson occurrences of a bank of ``count`` events: levels uniform in dB, pans uniform."""
    clock = [0.0]

    def draw() -> Occurrences:
        times = clock[0] + np.cumsum(rng.exponential(1.0 / rate_hz, batch))
        clock[0] = float(times[-1])
        index = rng.integers(0, count, batch)
        level = 10.0 ** (rng.uniform(*level_db, batch) / 20.0)
        gains = stereo_gains(level, rng.uniform(-pan, pan, batch))
        return Occurrences(on_grid(times, sr), index, gains)

    return draw


def drop_bank(rng: np.random.Generator, sr: int, style: DropStyle, count: int) -> Array:
    """``count`` drops of ``style`` at a peak of 1, each made as :class:`~.dsp.Drops` makes one."""
    length = max(8, round(style.length_ms * sr / 1000))
    n = np.arange(length)
    fade = np.clip((length - n) / (0.3 * length), 0.0, 1.0)
    fade = 0.5 - 0.5 * np.cos(np.pi * fade)  # every burst ends at exactly zero
    attack = rng.uniform(*style.attack_ms, count)[:, None] * sr / 1000
    decay = rng.uniform(*style.decay_ms, count)[:, None] * sr / 1000
    band = rng.integers(0, len(style.bands_hz), count)
    envelope = np.exp(-np.maximum(n[None, :] - attack, 0.0) / decay)
    envelope *= 0.5 - 0.5 * np.cos(np.pi * np.minimum(n[None, :] / attack, 1.0))
    burst = rng.standard_normal((count, length)) * envelope
    for b, band_hz in enumerate(style.bands_hz):
        sos = butter(1, band_hz, "bandpass", sr)
        burst[band == b] = signal.sosfilt(sos, burst[band == b], axis=-1)
    burst *= fade / np.max(np.abs(burst), axis=1, keepdims=True)
    return np.asarray(burst)


def drops(rng: np.random.Generator, sr: int, style: DropStyle, count: int) -> Scatter:
    """A stream of drops of ``style`` from a bank of ``count`` (Poisson times, levels, pans)."""
    bank = drop_bank(rng, sr, style, count)
    batch = max(16, math.ceil(style.rate_hz))
    return Scatter(bank, poisson_draw(rng, sr, style.rate_hz, count, batch, style.level_db,
                                      style.pan))
