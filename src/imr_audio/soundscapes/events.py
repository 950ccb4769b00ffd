"""Short events (drops, ticks, bubbles, chirps) played from a bank made once per render.

Synthesising every drop of a rain as it falls costs more than the rest of the bed: here each
kind of event is synthesised a fixed number of times (the bank, 256-1024 events, each made
exactly as the old model made one), and every occurrence picks one at random and gets its own
time, level and pan. Occurrences start on a grid of ``GRID`` samples (0.7 ms at 44.1 kHz: far
below the random spacing of the events) and are overlap-added all at once by a sparse matrix
product: row ``m`` of the output (``GRID`` samples) takes row ``r`` of the event that starts at
row ``m - r``.

Occurrences are drawn in batches as the stream is read and each is added whole, its tail
carried, when the stream reaches the stretch of ``AHEAD`` frames it starts in (one product for
a few chunks), so the output does not depend on how the stream is cut into calls (to rounding:
where tails overlap, their sums are grouped by stretch).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from imr_audio.soundscapes.dsp import DropStyle, butter

__all__ = [
    "AHEAD",
    "GRID",
    "Occurrences",
    "Scatter",
    "Source",
    "drop_bank",
    "drops",
    "in_pieces",
    "on_grid",
    "poisson_draw",
    "stereo_gains",
]

GRID = 32
"""Occurrences start on multiples of this many samples."""
AHEAD = 65536
"""Occurrences are added this many frames at a time (on the absolute grid of its multiples)."""

Array = NDArray[np.float64]
Source = tuple[NDArray[np.floating], Callable[[], "Occurrences"]]
"""A bank of events ``(events, length)`` and the function that draws its next occurrences."""


@dataclass(frozen=True)
class Occurrences:
    """A batch of occurrences: start frames (ascending), bank rows, gains ``(n, 2)``."""

    times: NDArray[np.int64]
    index: NDArray[np.int64]
    gains: Array
    horizon: int | None = None
    """No later batch has an occurrence before this frame (default: the last time here)."""


class Scatter:
    """Overlap-adds occurrences of banks of events, tails carried across calls."""

    def __init__(self, sources: list[Source], gains: Sequence[float] | None = None) -> None:
        """Play each ``(events, length)`` bank at the occurrences its ``draw()`` gives in turn.

        ``draw`` returns the next batch (at least one occurrence, later than every earlier one).
        Each bank is scaled by its gain, if given, and copied into one table; ``sources`` is
        emptied as it is read, so that only one bank is held twice at a time.
        """
        gains = list(gains) if gains is not None else [1.0] * len(sources)
        shapes = [(bank.shape[0], math.ceil(bank.shape[1] / GRID)) for bank, _ in sources]
        self._bank = np.empty((sum(c * r for c, r in shapes), GRID), dtype=np.float32)
        self._sources: list[_Source] = []
        row = 0
        for (count, rows), gain in zip(shapes, gains, strict=True):
            bank, draw = sources.pop(0)
            table = self._bank[row : row + count * rows].reshape(count, rows * GRID)
            np.multiply(bank, gain, out=table[:, : bank.shape[1]], casting="unsafe")
            table[:, bank.shape[1] :] = 0.0  # each event padded to whole rows
            del bank
            self._sources.append(_Source(draw, row, rows))
            row += count * rows
        self._longest = max(source.rows for source in self._sources)
        self._buffer = np.zeros((2, 0), dtype=np.float32)  # sound from frame self._first on
        self._first = 0
        self._added = 0  # every occurrence before this frame is in the buffer

    def __call__(self, start: int, frames: int) -> NDArray[np.float32]:
        """Return the ``(2, frames)`` events sounding from absolute frame ``start``."""
        out = np.zeros((2, frames), dtype=np.float32)
        self.add_to(start, out)
        return out

    def add_to(self, start: int, out: NDArray[np.float32]) -> None:
        """Add the events sounding from absolute frame ``start`` to ``out`` ``(2, frames)``."""
        frames = out.shape[1]
        end = start + frames
        if end > self._added:  # a few chunks' occurrences at a time: fewer, larger products
            self._added = -(-end // AHEAD) * AHEAD
            due = [source.take(self._added) for source in self._sources]
            if any(times.size for times, _, _ in due):
                self._add(due)
        lo = start - self._first
        have = min(frames, self._buffer.shape[1] - lo)
        if have > 0:
            out[:, :have] += self._buffer[:, lo : lo + have]
        keep = end - self._first
        self._buffer, self._first = self._buffer[:, keep:], end

    def _add(self, due: list[tuple[NDArray[np.int64], NDArray[np.int64], Array]]) -> None:
        """Add occurrences (each at or after ``self._first``) to the buffer.

        ``due`` holds, per source, the occurrences' times, first rows in the bank and gains;
        each plays its source's rows of the bank.
        """
        from scipy import sparse  # at first use, like scipy.signal (~1 s to import)
        base = self._first - self._first % GRID  # occurrences are on the absolute grid
        starts = [(times - base) // GRID for times, _, _ in due]
        total_rows = max(int(s.max()) for s in starts if s.size) + self._longest
        sizes = [s.size * source.rows for s, source in zip(starts, self._sources, strict=True)]
        nnz = sum(sizes)
        # coordinates as they come (left rows, then right): a COO product needs no sorting;
        # int32 coordinates, as scipy would make them
        out_rows = np.empty(2 * nnz, dtype=np.int32)
        cols = np.empty(2 * nnz, dtype=np.int32)
        data = np.empty(2 * nnz, dtype=np.float32)
        at = 0
        for start_row, (_, first_row, gains), source, size in zip(
            starts, due, self._sources, sizes, strict=True
        ):
            if not size:
                continue
            within = np.arange(source.rows, dtype=np.int32)
            shape = (start_row.size, source.rows)
            np.add(start_row[:, None], within, out=out_rows[at : at + size].reshape(shape),
                   casting="unsafe")
            np.add(first_row[:, None], within, out=cols[at : at + size].reshape(shape),
                   casting="unsafe")
            for side in (0, 1):
                where = slice(side * nnz + at, side * nnz + at + size)
                data[where].reshape(shape)[...] = gains[:, side : side + 1]
            at += size
        out_rows[nnz:] = out_rows[:nnz]
        out_rows[nnz:] += total_rows
        cols[nnz:] = cols[:nnz]
        matrix = sparse.coo_matrix(
            (data, (out_rows, cols)), shape=(2 * total_rows, self._bank.shape[0])
        )
        sound = (matrix @ self._bank).reshape(2, total_rows * GRID)[:, self._first - base :]
        width = sound.shape[1]
        if self._buffer.shape[1] < width:
            grown = np.zeros((2, width), dtype=np.float32)
            grown[:, : self._buffer.shape[1]] = self._buffer
            self._buffer = grown
        self._buffer[:, :width] += sound


class _Source:
    """One bank's occurrences, drawn ahead as the stream is read."""

    def __init__(self, draw: Callable[[], Occurrences], first_row: int, rows: int) -> None:
        self._draw, self._first_row, self.rows = draw, first_row, rows
        self._pending: list[Occurrences] = []
        self._horizon = -1  # every occurrence before this frame has been drawn

    def take(self, end: int) -> tuple[NDArray[np.int64], NDArray[np.int64], Array]:
        """Times, first bank rows and gains of the occurrences before ``end``."""
        while self._horizon < end:
            batch = self._draw()
            self._pending.append(batch)
            if batch.horizon is not None:
                self._horizon = batch.horizon
            elif batch.times.size:
                self._horizon = int(batch.times[-1])
        if len(self._pending) == 1:
            joined = self._pending[0]
        else:
            times = np.concatenate([p.times for p in self._pending])
            order = np.argsort(times, kind="stable")  # batches may interleave a little
            joined = Occurrences(
                times[order],
                np.concatenate([p.index for p in self._pending])[order],
                np.concatenate([p.gains for p in self._pending])[order],
            )
        m = int(np.searchsorted(joined.times, end))
        rest = Occurrences(joined.times[m:], joined.index[m:], joined.gains[m:])
        self._pending = [rest] if rest.times.size else []
        return joined.times[:m], self._first_row + joined.index[:m] * self.rows, joined.gains[:m]


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


def in_pieces(
    count: int, make: Callable[[int], NDArray[np.floating]], piece: int = 128
) -> NDArray[np.float32]:
    """A bank of ``count`` events made ``piece`` at a time by ``make(k)`` (bounded memory)."""
    first = make(min(piece, count))
    bank = np.empty((count, first.shape[1]), dtype=np.float32)  # each piece copied in once
    bank[: len(first)] = first
    for i in range(len(first), count, piece):
        bank[i : i + piece] = make(min(piece, count - i))
    return bank


def drop_bank(
    rng: np.random.Generator, sr: int, style: DropStyle, count: int
) -> NDArray[np.float32]:
    """``count`` drops of ``style`` at a peak of 1, each made as the beds' drops always were.

    A drop is a burst of noise with a raised-cosine attack and an exponential decay, coloured
    by one of the style's band-passes at random, normalised to a peak of 1 and faded to zero
    within its length; its level and pan are drawn per occurrence.
    """
    length = max(8, round(style.length_ms * sr / 1000))
    n = np.arange(length)
    fade = np.clip((length - n) / (0.3 * length), 0.0, 1.0)
    fade = 0.5 - 0.5 * np.cos(np.pi * fade)  # every burst ends at exactly zero
    bands = [butter(1, band_hz, "bandpass", sr) for band_hz in style.bands_hz]

    def make(k: int) -> Array:
        from scipy import signal  # at first use: scipy.signal takes ~1 s to import
        attack = rng.uniform(*style.attack_ms, k)[:, None] * sr / 1000
        decay = rng.uniform(*style.decay_ms, k)[:, None] * sr / 1000
        band = rng.integers(0, len(bands), k)
        envelope = np.exp(-np.maximum(n[None, :] - attack, 0.0) / decay)
        rise = min(length, math.ceil(float(attack.max())) + 1)  # the ramp is 1 after this
        envelope[:, :rise] *= 0.5 - 0.5 * np.cos(np.pi * np.minimum(n[None, :rise] / attack, 1.0))
        burst = rng.standard_normal((k, length)) * envelope
        for b, sos in enumerate(bands):
            burst[band == b] = signal.sosfilt(sos, burst[band == b], axis=-1)
        burst *= fade / np.max(np.abs(burst), axis=1, keepdims=True)
        return np.asarray(burst)

    return in_pieces(count, make)


def drops(rng: np.random.Generator, sr: int, style: DropStyle, count: int) -> Source:
    """A stream of drops of ``style`` from a bank of ``count`` (Poisson times, levels, pans)."""
    bank = drop_bank(rng, sr, style, count)
    batch = max(16, math.ceil(style.rate_hz))
    return bank, poisson_draw(rng, sr, style.rate_hz, count, batch, style.level_db, style.pan)
