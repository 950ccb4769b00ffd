"""Streaming building blocks shared by the beds: filters, smooth curves, swells and events.

Everything here works on ``(channels, frames)`` float64 arrays, keeps its state between calls and
draws random numbers in an order that depends only on the absolute frame position, never on how
the stream is cut into calls.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "DropStyle",
    "EventStream",
    "Filter",
    "SmoothCurve",
    "SwellStyle",
    "Swells",
    "butter",
    "leaky_integrator",
    "pink",
    "substreams",
    "unit_noise_gain",
]

Array = NDArray[np.float64]


def substreams(rng: np.random.Generator, count: int) -> list[np.random.Generator]:
    """Return ``count`` independent generators derived deterministically from ``rng``.

    Each is the PCG64 stream jumped ahead by a multiple of 2**127 draws, so the streams never
    overlap and each component of a bed draws in its own order.
    """
    bits = rng.bit_generator
    if not isinstance(bits, np.random.PCG64):
        raise TypeError(f"expected a PCG64 generator, got {type(bits).__name__}")
    return [np.random.Generator(bits.jumped(i + 1)) for i in range(count)]


def butter(order: int, cutoff_hz: float | tuple[float, float], btype: str, sr: int) -> Array:
    """Return a Butterworth SOS design, with cutoffs kept safely below Nyquist."""
    from scipy import signal  # at first use: scipy.signal takes ~1 s to import
    top = 0.45 * sr * (np.array([0.6, 1.0]) if isinstance(cutoff_hz, tuple) else 1.0)
    cut = np.minimum(np.asarray(cutoff_hz, dtype=float), top)
    return np.asarray(signal.butter(order, cut, btype=btype, fs=sr, output="sos"))


def pink(sr: int, low_hz: float = 25.0, high_hz: float = 16000.0) -> Array:
    """Return an SOS design with a -3 dB/octave slope between ``low_hz`` and ``high_hz``.

    Real poles two octaves apart, each followed by a zero one octave higher, designed in the
    analogue domain and mapped with the bilinear transform, so the slope does not depend on the
    sample rate.
    """
    from scipy import signal  # at first use: scipy.signal takes ~1 s to import
    poles = low_hz * 4.0 ** np.arange(math.ceil(math.log(high_hz / low_hz, 4)))
    z, p, k = signal.bilinear_zpk(-2 * np.pi * 2.0 * poles, -2 * np.pi * poles, 1.0, fs=sr)
    return np.asarray(signal.zpk2sos(z, p, k))


def leaky_integrator(corner_hz: float, sr: int) -> Array:
    """Return a one-pole low-pass SOS (-6 dB/octave above ``corner_hz``): white to brown noise."""
    a = math.exp(-2 * math.pi * corner_hz / sr)
    return np.array([[1.0 - a, 0.0, 0.0, 1.0, -a, 0.0]])


def unit_noise_gain(sos: Array, sr: int) -> float:
    """Return the factor that brings the filter's response to unit white noise back to unit RMS."""
    from scipy import signal  # at first use: scipy.signal takes ~1 s to import
    # the impulse response's energy over 2 s, read in blocks until what is left is far below
    # rounding (the beds' filters ring for well under a second)
    block = np.zeros(4096)
    block[0] = 1.0
    state = np.zeros((sos.shape[0], 2))
    energy = 0.0
    for _ in range(math.ceil(2 * sr / len(block))):
        response, state = signal.sosfilt(sos, block, zi=state)
        part = float(np.sum(response**2))
        energy += part
        block[0] = 0.0
        if part < 1e-24 * energy and np.max(np.abs(state)) < 1e-12:
            break
    return 1.0 / math.sqrt(energy)


class Filter:
    """SOS filter over ``(channels, frames)`` input that carries its state between calls."""

    def __init__(self, sos: Array, channels: int = 2) -> None:
        """Start the filter ``sos`` at rest for ``channels`` channels."""
        self._sos = sos
        self._zi = np.zeros((sos.shape[0], channels, 2))

    def __call__(self, x: Array) -> Array:
        """Filter the next frames of the stream."""
        from scipy import signal  # at first use: scipy.signal takes ~1 s to import
        y, self._zi = signal.sosfilt(self._sos, x, axis=-1, zi=self._zi)
        return np.asarray(y)


class SmoothCurve:
    """Smooth (C1) random curve through uniform values drawn every ``step_s`` seconds."""

    def __init__(
        self, rng: np.random.Generator, sr: int, step_s: float, low: float, high: float
    ) -> None:
        """Draw control values in ``[low, high)`` from ``rng`` as the curve is read."""
        self._rng, self._frames_per_step, self._low, self._high = rng, sr * step_s, low, high
        self._values = np.empty(0)
        self._first = 0  # index of self._values[0] among all control points

    def __call__(self, start: int, frames: int) -> Array:
        """Return the curve at absolute frames ``start`` to ``start + frames - 1``.

        The curve is worked out every 32 frames (on the absolute grid) and interpolated
        linearly between: its steps are thousands of frames long, so the difference is below
        1e-4 of its range, at a fraction of the cost.
        """
        first = start - start % 32
        grid = np.arange(first, start + frames + 32, 32)
        values = self.at(grid)
        slopes = (values[1:] - values[:-1]) / 32.0  # as np.interp works them out
        step = np.arange(32.0)[None, :]
        line = (slopes[:, None] * step + values[:-1, None]).ravel()
        return line[start - first : start - first + frames]

    def at(self, positions: NDArray[np.int64]) -> Array:
        """Return the curve at ascending absolute frames (no earlier than a previous call's)."""
        t = positions / self._frames_per_step
        k = np.floor(t).astype(np.int64)
        while self._first + self._values.size <= k[-1] + 1:
            more = self._rng.uniform(self._low, self._high, 32)
            self._values = np.concatenate((self._values, more))
        drop = int(k[0]) - self._first
        self._values, self._first = self._values[drop:], self._first + drop
        w = t - k
        v0, v1 = self._values[k - self._first], self._values[k - self._first + 1]
        return v0 + (v1 - v0) * (w * w * (3.0 - 2.0 * w))


@dataclass(frozen=True)
class DropStyle:
    """How a stream of drops sounds; ranges are sampled uniformly per drop."""

    rate_hz: float
    """Mean drops per second (Poisson arrivals), in Hz."""
    level_db: tuple[float, float]
    """Range of peak levels in dB (0 dB: a peak of 1.0), drawn uniformly in dB."""
    attack_ms: tuple[float, float]
    """Range of the raised-cosine attack times, in ms."""
    decay_ms: tuple[float, float]
    """Range of the exponential decay time constants, in ms."""
    bands_hz: tuple[tuple[float, float], ...]
    """Gentle first-order band-passes (low, high) in Hz; each drop is coloured by one at random."""
    pan: float
    """Pans are drawn uniformly in ``[-pan, pan]`` (equal power; 1 is hard left or right)."""
    length_ms: float
    """Length each burst is faded to zero within, in ms."""


class EventStream:
    """Overlap-adds events drawn in batches at absolute frames, with tails carried across calls.

    ``draw()`` returns the next batch: start frames (non-negative, ascending, after every earlier
    batch; at least one) and the events' ``(k, channels, length)`` waveforms, kept as float32
    until they sound. Batches are drawn as the stream is read, so the output does not depend on
    how it is cut into calls.
    """

    def __init__(
        self,
        draw: Callable[[], tuple[NDArray[np.int64], Array]],
        length: int,
        channels: int = 2,
    ) -> None:
        """Start an empty stream of events up to ``length`` frames long."""
        self._draw, self._length, self._channels = draw, length, channels
        self._times = np.empty(0, dtype=np.int64)
        self._events = np.empty((0, channels, length), dtype=np.float32)  # waiting: compact
        self._buffer = np.zeros((channels, 0), dtype=np.float32)  # sound from self._first on
        self._first = 0

    def __call__(self, start: int, frames: int) -> NDArray[np.float32]:
        """Return the events sounding at absolute frames ``start`` to ``start + frames - 1``."""
        end, length, channels = start + frames, self._length, self._channels
        times, events, last = [self._times], [self._events], self._times[-1:]
        while last.size == 0 or last[-1] < end:  # gathered, then joined once
            new_times, new_events = self._draw()
            times.append(new_times)
            events.append(new_events.astype(np.float32, copy=False))
            last = new_times if new_times.size else last
        if len(times) > 1:
            self._times, self._events = np.concatenate(times), np.concatenate(events)
        m = int(np.searchsorted(self._times, end))
        if m:
            width = int(self._times[m - 1]) + length - self._first
            if self._buffer.shape[1] < width:  # grown (rarely): the events are sparse
                grown = np.zeros((channels, width + frames), dtype=np.float32)
                grown[:, : self._buffer.shape[1]] = self._buffer
                self._buffer = grown
            for at, event in zip(self._times[:m] - self._first, self._events[:m], strict=True):
                self._buffer[:, at : at + length] += event
        out = np.zeros((channels, frames), dtype=np.float32)
        lo = start - self._first
        have = min(frames, self._buffer.shape[1] - lo)
        if have > 0:
            out[:, :have] = self._buffer[:, lo : lo + have]
        self._buffer, self._first = self._buffer[:, end - self._first :], end
        self._times, self._events = self._times[m:], self._events[m:]
        return out


@dataclass(frozen=True)
class SwellStyle:
    """Slow overlapping swells (waves, gusts); ranges are sampled uniformly per swell."""

    period_s: tuple[float, float]
    """Range of the time from one swell's start to the next, in seconds."""
    length: tuple[float, float]
    """Range of each swell's length as a multiple of its period (above 1: swells overlap)."""
    skew_s: float
    """Each side starts up to this many seconds early or late (mirrored): the width, in s."""
    amp: tuple[float, float]
    """Range of a swell's peak height (envelope units; about 1 is a full swell)."""
    side_amp: tuple[float, float]
    """Range of a further factor per side on the peak height."""
    decay: tuple[float, float]
    """Range of the shape exponent ``b`` of ``x^2 (1 - x)^b``: the peak is at ``2 / (2 + b)``."""
    floor: float
    """Envelope between swells (envelope units)."""
    lead_s: tuple[float, float]
    """Range of how long before frame 0 the first swell starts (the bed starts mid-stream), s."""


class Swells:
    """Irregular swells: overlapping smooth asymmetric bumps, timed slightly apart per side."""

    _BATCH = 16

    def __init__(self, rng: np.random.Generator, sr: int, style: SwellStyle) -> None:
        """Start a ``(2, frames)`` swell envelope drawing from ``rng``, at frame 0."""
        self._rng, self._sr, self._style = rng, sr, style
        self._next_s = -rng.uniform(*style.lead_s)  # earlier swells still sound at t = 0
        self._start_s = np.empty((0, 2))  # per swell, per side
        self._dur_s = np.empty(0)
        self._amp = np.empty((0, 2))
        self._decay = np.empty(0)

    def _more(self) -> None:
        rng, k, st = self._rng, self._BATCH, self._style
        period = rng.uniform(*st.period_s, k)
        start = self._next_s + np.cumsum(period) - period
        self._next_s = float(start[-1] + period[-1])
        skew = rng.uniform(-st.skew_s, st.skew_s, k)[:, None] * np.array([-1.0, 1.0])
        self._start_s = np.concatenate((self._start_s, start[:, None] + skew))
        self._dur_s = np.concatenate((self._dur_s, period * rng.uniform(*st.length, k)))
        amp = rng.uniform(*st.amp, k)[:, None] * rng.uniform(*st.side_amp, (k, 2))
        self._amp = np.concatenate((self._amp, amp))
        self._decay = np.concatenate((self._decay, rng.uniform(*st.decay, k)))

    def __call__(self, start: int, frames: int) -> Array:
        """Return the ``(2, frames)`` envelope from absolute frame ``start``."""
        return self.at(start + np.arange(frames))

    def at(self, positions: NDArray[np.int64]) -> Array:
        """Return the ``(2, n)`` envelope at ascending absolute frames ``positions``.

        Calls may overlap a little (by up to a second) but must not go further back.
        """
        t = positions / self._sr
        t0, t1 = float(t[0]), float(t[-1]) + 1.0 / self._sr
        while self._next_s - 1.0 < t1:
            self._more()
        # forget swells that ended a second before this call (they add nothing any more)
        ended = int(np.argmin(np.max(self._start_s, axis=1) + self._dur_s < t0 - 1.0))
        self._start_s, self._dur_s = self._start_s[ended:], self._dur_s[ended:]
        self._amp, self._decay = self._amp[ended:], self._decay[ended:]
        env = np.full((2, len(t)), self._style.floor)
        for i in np.flatnonzero(np.min(self._start_s, axis=1) < t1):
            # x^2 (1-x)^b: zero with zero slope at both ends, peak at 2 / (2 + b)
            b = self._decay[i]
            peak = (2.0 / (2.0 + b)) ** 2 * (b / (2.0 + b)) ** b
            for side in (0, 1):
                x = np.clip((t - self._start_s[i, side]) / self._dur_s[i], 0.0, 1.0)
                env[side] += (self._amp[i, side] / peak) * x * x * (1.0 - x) ** b
        return env
