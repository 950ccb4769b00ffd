"""Streaming meters: integrated loudness (ITU-R BS.1770-4) and true peak, block by block.

An hour of stereo is 1.3 GB of float samples, so long tracks are measured as they stream past.
:class:`LoudnessMeter` applies pyloudnorm's K-weighting filters with their state carried from
block to block and gates exactly as ``pyloudnorm.Meter.integrated_loudness`` does (400 ms
blocks, 75 % overlap, -70 LUFS absolute and -10 LU relative gates), in float32, so a whole
signal fed in any block sizes measures within 1e-3 LU of what pyloudnorm gives on it in one
piece (3e-5 LU measured). :class:`PeakStream` gives every frame's 4x-oversampled peak (soxr),
for the true-peak limiter and :class:`TruePeakMeter`, oversampling only the frames whose peak
could matter.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyloudnorm
import scipy.signal
import soxr

__all__ = [
    "CELL_HZ",
    "OVERSAMPLE",
    "GateSums",
    "KWeighting",
    "LoudnessMeter",
    "PeakStream",
    "TruePeakMeter",
    "as_2d",
    "cell_edges",
    "gate_cells",
    "gated_lufs",
    "oversampling_gain",
    "track_weights",
]

Audio = npt.NDArray[np.float32]
OVERSAMPLE = 4
"""Oversampling factor of the true-peak measurement."""

_BLOCK_S = 0.4
_STEP = 0.25  # 75 % overlap
_ABSOLUTE_GATE_LUFS = -70.0
_AT_REST = 1e-10  # a K-weighting state this small contributes nothing measurable
_RELATIVE_GATE_LU = -10.0


def track_weights(channels: int) -> tuple[float, ...]:
    """BS.1770 channel weights for a finished track of ``channels`` channels.

    A mono track is heard on both ears (headphones, a phone's two speakers), which is how
    BS.1770 hears a stereo track with two equal channels: it is measured as dual mono (weight
    2). A mono track mastered to -18 LUFS measured as one channel would play 3 LU louder than
    the same track in stereo.
    """
    return (2.0,) if channels == 1 else (1.0,) * channels


def as_2d(samples: Audio) -> Audio:
    """``samples`` as frames x channels (a mono vector becomes one column)."""
    return samples[:, None] if samples.ndim == 1 else samples


class KWeighting:
    """pyloudnorm's K-weighting filter, applied to blocks with its state carried between them.

    It filters in float32 with channels as rows (twice as fast as float64 frames x channels).
    Against pyloudnorm's float64 filtering the loudness differs by under 1e-4 LU (measured
    3e-5 LU on a mastered track, and the same at -57 LUFS); the tests hold it to 1e-3 LU.
    """

    def __init__(self, sample_rate_hz: int, channels: int) -> None:
        """Prepare the filter for ``channels`` channels at ``sample_rate_hz``."""
        meter = pyloudnorm.Meter(sample_rate_hz)
        # pyloudnorm's two stages (high shelf, then high pass), each a biquad with a gain after
        # it, as second-order sections (the gains folded into the numerators).
        sos = np.vstack([
            np.concatenate([stage.passband_gain * np.asarray(stage.b), np.asarray(stage.a)])
            for stage in meter._filters.values()
        ])
        self._sos = sos.astype(np.float32)
        self._state = np.zeros((len(sos), channels, 2), dtype=np.float32)

    def rows(self, samples: Audio) -> Audio:
        """The next block given as channels x frames, filtered (channels x frames, float32).

        A silent block once the filter has come to rest (its state under 1e-10, -200 dBFS) is
        not filtered: its output is taken as zero (a voice stem is silent half the time).
        """
        audio = np.ascontiguousarray(samples, dtype=np.float32)
        if not audio.any() and np.abs(self._state).max(initial=0.0) < _AT_REST:
            self._state[...] = 0.0
            return np.zeros_like(audio)
        filtered, self._state = scipy.signal.sosfilt(self._sos, audio, axis=-1, zi=self._state)
        return np.asarray(filtered, dtype=np.float32)

    def __call__(self, samples: Audio) -> Audio:
        """The next block (frames x channels, or a mono vector), filtered (frames x channels)."""
        return self.rows(as_2d(samples).T).T


class GateSums:
    """Per BS.1770 gating block (400 ms, 75 % overlap), the sums of per-frame energies.

    Energies (frames x columns, e.g. the squares of K-weighted channels) are fed in blocks of
    any size; :meth:`block_energies` gives each gating block's mean energy per column, with
    pyloudnorm's block edges (the same float operations, so the same frames).
    """

    def __init__(self, sample_rate_hz: int, columns: int) -> None:
        """Prepare for ``columns`` columns of energies at ``sample_rate_hz``."""
        self.sample_rate_hz = sample_rate_hz
        self.frames = 0
        """Frames fed so far."""
        self._total = np.zeros(columns)  # running sums
        # Per gating block, the running sums at its lower and upper edge, in chunks.
        self._sums: tuple[list[npt.NDArray[np.float64]], ...] = ([], [])
        self._next_block = [0, 0]  # the next gating block whose lower / upper edge is due

    def add(self, energies: npt.NDArray[np.floating]) -> None:
        """Feed the next frames' energies (frames x columns)."""
        self.add_rows(energies.T)

    def add_rows(self, energies: npt.NDArray[np.floating]) -> None:
        """Feed the next frames' energies given as columns x frames (any float type)."""
        if not energies.shape[1]:
            return
        start, end = self.frames, self.frames + energies.shape[1]
        hop = _BLOCK_S * _STEP * self.sample_rate_hz
        edges = []
        for edge in (0, 1):  # the block edges that fall within these frames
            first = self._next_block[edge]
            frames = _gate_edges(self.sample_rate_hz, first, int(end / hop) + 2, edge)
            frames = frames[frames <= end]
            self._next_block[edge] = first + len(frames)
            edges.append(frames)
        # Sums between consecutive edges (reduceat, summed in float64; no running sum over
        # every frame), then the running sums at the edges themselves.
        cuts = np.unique(np.concatenate([[start], *edges, [end]])) - start
        parts = np.add.reduceat(energies, cuts[:-1], axis=1, dtype=np.float64).T
        running = np.concatenate([[self._total], self._total + np.cumsum(parts, axis=0)])
        for edge, frames in enumerate(edges):
            if len(frames):
                self._sums[edge].append(running[np.searchsorted(cuts, frames - start)])
        self._total = running[-1]
        self.frames = end

    def block_energies(self) -> npt.NDArray[np.float64]:
        """Mean energy of every gating block per column (none if under 400 ms were fed)."""
        rate = self.sample_rate_hz
        count = _gate_count(self.frames, rate)
        if not count:
            return np.zeros((0, len(self._total)))
        lower, upper = (np.concatenate(sums) if sums else np.zeros((0, len(self._total)))
                        for sums in self._sums)
        # A last block reaching past the end is cut there (as a slice of the signal would be).
        upper = upper[:count]
        upper = np.concatenate([upper, np.repeat(self._total[None], count - len(upper), axis=0)])
        return np.asarray((upper - lower[:count]) / (_BLOCK_S * rate))


def _gate_edges(sample_rate_hz: int, first: int, last: int, edge: int) -> npt.NDArray[np.int64]:
    """Frames of the lower (0) or upper (1) edges of gating blocks ``first`` to ``last``.

    pyloudnorm's float operations, so the same frames.
    """
    blocks = np.arange(first, last + 1, dtype=np.float64)
    return (_BLOCK_S * (blocks * _STEP + edge) * sample_rate_hz).astype(np.int64)


def _gate_count(frames: int, sample_rate_hz: int) -> int:
    """Gating blocks in ``frames`` frames, as pyloudnorm counts them (none under 400 ms)."""
    duration_s = frames / sample_rate_hz
    if duration_s < _BLOCK_S:
        return 0
    return round((duration_s - _BLOCK_S) / (_BLOCK_S * _STEP)) + 1


CELL_HZ = 100
"""Cells per second of :func:`cell_edges` (10 ms, the bed's gain control rate)."""


def cell_edges(first: int, count: int, sample_rate_hz: int) -> npt.NDArray[np.int64]:
    """Frames where cells ``first`` to ``first + count`` start (``count + 1`` edges).

    Cell ``i`` holds frames ``i * rate // 100`` up to the next cell's first frame.
    """
    cells = np.arange(first, first + count + 1, dtype=np.int64)
    return cells * sample_rate_hz // CELL_HZ


def gate_cells(
    cells: npt.NDArray[np.float64], sample_rate_hz: int, frames: int
) -> npt.NDArray[np.float64]:
    """Each gating block's mean energy per column, from energies summed over 10 ms cells.

    ``cells`` (cells x columns) are per-frame energies summed over each cell of
    :func:`cell_edges` from frame 0, covering at least ``frames`` frames of which they count
    the first ``frames``. Gating blocks are pyloudnorm's, as :class:`GateSums` gives them; a
    block edge inside a cell takes that cell's energy pro rata (on 10 ms cells, gating edges
    fall on cell edges or one frame off them).
    """
    count = _gate_count(frames, sample_rate_hz)
    if not count:
        return np.zeros((0, cells.shape[1]))
    edges = cell_edges(0, len(cells), sample_rate_hz)
    if edges[-1] < frames:
        raise ValueError(f"{len(cells)} cells cover {edges[-1]} frames, not {frames}")
    running = np.concatenate([np.zeros((1, cells.shape[1])), np.cumsum(cells, axis=0)])

    def summed_to(frame: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        cell = np.minimum(np.searchsorted(edges, frame, side="right") - 1, len(cells) - 1)
        part = (frame - edges[cell]) / (edges[cell + 1] - edges[cell])
        return np.asarray(running[cell] + part[:, None] * cells[cell])

    lower = _gate_edges(sample_rate_hz, 0, count - 1, 0)
    upper = np.minimum(_gate_edges(sample_rate_hz, 0, count - 1, 1), frames)
    return (summed_to(upper) - summed_to(lower)) / (_BLOCK_S * sample_rate_hz)


def gated_lufs(energies: npt.NDArray[np.float64], weights: Sequence[float]) -> float:
    """Integrated loudness (LUFS) from gating blocks' mean K-weighted energies per channel.

    BS.1770-4 as pyloudnorm computes it: -70 LUFS absolute gate, then -10 LU relative gate;
    -inf when every block is gated away (or there is none).
    """
    weight = np.asarray(weights, dtype=np.float64)
    with np.errstate(divide="ignore"):
        block_lufs = -0.691 + 10.0 * np.log10(energies @ weight)
        above = energies[block_lufs >= _ABSOLUTE_GATE_LUFS]
        if not len(above):
            return float("-inf")
        relative = -0.691 + 10.0 * np.log10(above.mean(axis=0) @ weight) + _RELATIVE_GATE_LU
        gated = energies[(block_lufs > relative) & (block_lufs > _ABSOLUTE_GATE_LUFS)]
        if not len(gated):
            return float("-inf")
        return float(-0.691 + 10.0 * np.log10(gated.mean(axis=0) @ weight))


class LoudnessMeter:
    """Integrated, gated loudness (LUFS) of audio fed in blocks of any size.

    ``channel_weights`` are BS.1770's channel gains (1.0 for left, right and centre); a mono
    voice meant to be heard centred in stereo is measured with weight 2.0, as two equal channels.
    """

    def __init__(self, sample_rate_hz: int, channel_weights: Sequence[float] = (1.0, 1.0)) -> None:
        """Prepare a meter at ``sample_rate_hz`` for ``len(channel_weights)`` channels."""
        self.sample_rate_hz = sample_rate_hz
        self._weights = tuple(channel_weights)
        self._filter = KWeighting(sample_rate_hz, len(self._weights))
        self._sums = GateSums(sample_rate_hz, len(self._weights))

    def add(self, samples: Audio) -> None:
        """Feed the next block (frames x channels, or a mono vector for one channel)."""
        audio = as_2d(samples)
        if audio.shape[1] != len(self._weights):
            raise ValueError(f"expected {len(self._weights)} channels, got {audio.shape[1]}")
        if len(audio):
            filtered = self._filter.rows(audio.T)
            self._sums.add_rows(np.square(filtered, out=filtered))

    @property
    def frames(self) -> int:
        """Frames fed so far."""
        return self._sums.frames

    def integrated_lufs(self) -> float:
        """Integrated loudness of everything fed so far, LUFS.

        -inf when all of it is gated away, or when it is shorter than one 400 ms block.
        """
        return gated_lufs(self._sums.block_energies(), self._weights)


_CONTEXT = 256
"""Frames of context on either side of oversampled frames (soxr's HQ 4x filter reaches < 100)."""
_MERGE_GAP = 8192
"""Runs of frames to oversample that are closer than this are oversampled in one call."""


@functools.lru_cache(maxsize=8)
def oversampling_gain(sample_rate_hz: int) -> float:
    """The most by which 4x oversampling can raise a magnitude over the nearby samples' peak.

    Each oversampled value is a weighted sum of the samples within ``_CONTEXT`` frames (the
    oversampler is linear), so it is at most their peak times the sum of the weights' magnitudes:
    the largest such sum over the four phases of soxr's filter, read off its impulse response
    (2.8 for HQ, +9 dB), plus 1 % for rounding.
    """
    impulse = np.zeros(2 * _CONTEXT + 1, dtype=np.float32)
    impulse[_CONTEXT] = 1.0
    response = np.abs(soxr.resample(impulse, sample_rate_hz, sample_rate_hz * OVERSAMPLE,
                                    quality="HQ"))
    return 1.01 * float(max(response[phase::OVERSAMPLE].sum() for phase in range(OVERSAMPLE)))


def _runs(mask: npt.NDArray[np.bool_], gap: int) -> list[tuple[int, int]]:
    """The ``[start, stop)`` runs of True in ``mask``, runs closer than ``gap`` merged."""
    edges = np.flatnonzero(np.diff(np.concatenate([[False], mask, [False]]).astype(np.int8)))
    runs: list[tuple[int, int]] = []
    for start, stop in zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True):
        if runs and start - runs[-1][1] < gap:
            runs[-1] = (runs[-1][0], stop)
        else:
            runs.append((start, stop))
    return runs


def _channel_max(audio: Audio) -> Audio:
    """Per frame, the largest magnitude over the channels.

    Elementwise maxima over strided views: numpy's reductions along a short axis (``.max(axis=1)``
    over 2 channels or 4 phases) were 7x slower and took most of a render.
    """
    magnitude = np.abs(audio[:, 0])
    for channel in range(1, audio.shape[1]):
        np.maximum(magnitude, np.abs(audio[:, channel]), out=magnitude)
    return magnitude


def _nearby_peaks(magnitude: Audio) -> Audio:
    """Per frame, a peak of the magnitudes within ``_CONTEXT`` frames of it (or a little more).

    By units of ``_CONTEXT`` frames: a frame's unit and the units on either side. (scipy's
    maximum filter of that width took 0.6 s for 20 minutes; this takes a tenth of that.)
    """
    units = -(-len(magnitude) // _CONTEXT)
    padded = np.zeros(units * _CONTEXT, dtype=np.float32)
    padded[: len(magnitude)] = magnitude
    unit_peaks = padded.reshape(units, _CONTEXT).max(axis=1)
    nearby = unit_peaks.copy()
    np.maximum(nearby[1:], unit_peaks[:-1], out=nearby[1:])
    np.maximum(nearby[:-1], unit_peaks[1:], out=nearby[:-1])
    return np.repeat(nearby, _CONTEXT)[: len(magnitude)]


class PeakStream:
    """Per input frame, the largest magnitude of its 4x-oversampled values over all channels.

    Oversampling (soxr, high quality) needs ``_CONTEXT`` frames after a frame, so :meth:`add`
    returns the peaks of as many frames as are complete (fewer than fed) and :meth:`finish` the
    rest (the signal is taken as silent before its start and after its end).

    ``floor`` spares work where it cannot matter: a frame whose oversampled peak cannot exceed
    ``floor`` (the peak of the samples around it, times :func:`oversampling_gain`, is at most
    ``floor``) is not oversampled, and its peak is given as that bound instead, which is at most
    ``floor``. A limiter whose ceiling is ``floor``, or a meter whose running maximum is, gets
    the same result as with every frame oversampled; in quiet passages it is several times
    faster.
    """

    def __init__(self, sample_rate_hz: int, channels: int) -> None:
        """Prepare for ``channels`` channels at ``sample_rate_hz``."""
        self._rate = sample_rate_hz
        self._gain = oversampling_gain(sample_rate_hz)
        # Frames not yet given, after _CONTEXT frames of the past (silence at first).
        self._buffer = np.zeros((_CONTEXT, channels), dtype=np.float32)

    def _peaks(self, floor: float) -> npt.NDArray[np.float32]:
        buffer = self._buffer
        end = len(buffer) - _CONTEXT  # frames before this have their context after them
        if end <= _CONTEXT:
            return np.zeros(0, dtype=np.float32)
        peaks = _nearby_peaks(_channel_max(buffer))[_CONTEXT:end] * np.float32(self._gain)
        for start, stop in _runs(peaks > floor, _MERGE_GAP):
            first, last = _CONTEXT + start, _CONTEXT + stop
            up = soxr.resample(buffer[first - _CONTEXT : last + _CONTEXT], self._rate,
                               self._rate * OVERSAMPLE, quality="HQ")
            up = as_2d(np.asarray(up, dtype=np.float32))
            up = up[_CONTEXT * OVERSAMPLE : (_CONTEXT + stop - start) * OVERSAMPLE]
            magnitude = _channel_max(up)
            out = magnitude[0::OVERSAMPLE].copy()
            for phase in range(1, OVERSAMPLE):
                np.maximum(out, magnitude[phase::OVERSAMPLE], out=out)
            peaks[start:stop] = out
        self._buffer = buffer[end - _CONTEXT :]
        return peaks

    def add(self, samples: Audio, floor: float = 0.0) -> npt.NDArray[np.float32]:
        """Feed a block; return the peaks of the frames completed so far (oldest first)."""
        block = np.asarray(as_2d(samples), dtype=np.float32)
        self._buffer = np.concatenate([self._buffer, block])
        return self._peaks(floor)

    def finish(self, floor: float = 0.0) -> npt.NDArray[np.float32]:
        """Return the peaks of the frames still owed."""
        silence = np.zeros((_CONTEXT, self._buffer.shape[1]), dtype=np.float32)
        self._buffer = np.concatenate([self._buffer, silence])
        return self._peaks(floor)


class TruePeakMeter:
    """Highest 4x-oversampled magnitude of audio fed in blocks (true peak, dBTP).

    Only frames that could raise the highest peak found so far are oversampled (see
    :class:`PeakStream`); the result is the same as with every frame oversampled.
    """

    def __init__(self, sample_rate_hz: int, channels: int) -> None:
        """Prepare for ``channels`` channels at ``sample_rate_hz``."""
        self._stream = PeakStream(sample_rate_hz, channels)
        self._peak = 0.0

    def add(self, samples: Audio) -> None:
        """Feed the next block."""
        found = self._stream.add(samples, floor=self._peak)
        self._peak = max(self._peak, float(found.max(initial=0.0)))

    def true_peak_dbtp(self) -> float:
        """The true peak of everything fed, dBTP (call once, at the end)."""
        found = self._stream.finish(floor=self._peak)
        self._peak = max(self._peak, float(found.max(initial=0.0)))
        return float(20.0 * np.log10(max(self._peak, 1e-12)))
