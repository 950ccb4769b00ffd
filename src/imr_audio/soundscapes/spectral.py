"""Steady filtered noise made in the frequency domain: many layers for one inverse FFT a frame.

A bed's steady noise layers (each white noise through an IIR filter, at a level, with a
correlation between the channels) are made together: each frame of ``FRAME`` samples gets, per
bin, the sum of the layers' exact power responses (``scipy.signal.sosfreqz``) times their
levels, and complex Gaussian values for its bins (drawn from a fixed table of 16384 by random
14-bit indices from the bed's generator: far cheaper than drawing Gaussians, and small enough to
stay in the processor's cache); one inverse real FFT gives the frame. Frames overlap by a
quarter and are crossfaded there with sine and cosine tapers whose squares sum to one, so the
noise keeps its level (an equal-power crossfade of independent frames).

A layer may take a gain per frame and side (a slow level drift, the swell of a wave): the
crossfade between frames interpolates it smoothly. Layers that need a faster modulation go to
their own group, returned separately, for the caller to multiply in the time domain.

Frames are drawn in fixed batches, in order, so the noise does not depend on how the stream is
cut into calls.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from imr_audio.soundscapes.dsp import SmoothCurve, butter, unit_noise_gain

__all__ = [
    "FRAME",
    "HOP",
    "OVERLAP",
    "FrameGains",
    "NoiseLayer",
    "SpectralNoise",
    "bin_hz",
    "db_gains",
    "layer",
    "noise_band",
    "power_response",
]

FRAME = 8192
"""Samples in one frame."""
OVERLAP = 2048
"""Samples each frame shares with the next (the crossfade)."""
HOP = FRAME - OVERLAP
"""Frames start this many samples apart."""
_BINS = FRAME // 2 + 1


def bin_hz(sr: int) -> float:
    """Spacing of the frame's bins, in Hz."""
    return sr / FRAME

_BATCH = 8  # frames made at a time (fixed: the draws do not depend on the calls)
_TABLE_BITS = 14

Array = NDArray[np.float64]
FrameGains = Callable[[NDArray[np.int64]], Array]
"""Given frame centres (absolute frames, ascending), return gains ``(len, 2)`` (left, right)."""
FrameShapes = Callable[[NDArray[np.int64]], Array]
"""Given frame centres (ascending), return power ``(len, 2, bins)`` per side and bin."""


def _table() -> NDArray[np.complex64]:
    """Two rows of independent complex Gaussian values, E|z|^2 = 1, from a fixed seed.

    A bin takes the values of both rows at one random column (one gather for both).
    """
    rng = np.random.Generator(np.random.PCG64(0x5EC7AA1))
    z = rng.standard_normal((4, 1 << _TABLE_BITS))
    z -= z.mean(axis=1, keepdims=True)
    z /= np.sqrt(2.0 * np.mean(z**2, axis=1, keepdims=True))
    return np.stack((z[0] + 1j * z[1], z[2] + 1j * z[3])).astype(np.complex64)


_GAUSS = _table()


def power_response(sos: Array, sr: int) -> Array:
    """Return ``|H|^2`` of the SOS filter at the frame's rfft bins (DC to Nyquist)."""
    from scipy import signal  # at first use: scipy.signal takes ~1 s to import
    freqs = np.arange(_BINS) * (sr / FRAME)
    _, h = signal.sosfreqz(sos, worN=freqs, fs=sr)
    return np.asarray(np.abs(h) ** 2)


def db_gains(curve: SmoothCurve) -> FrameGains:
    """Frame gains from a curve in dB, the same on both sides."""

    def gains(centres: NDArray[np.int64]) -> Array:
        g = 10.0 ** (curve.at(centres) / 20.0)
        return np.stack((g, g), axis=1)

    return gains


def noise_band(colour: Array, low_hz: float, high_hz: float, sr: int) -> Array:
    """Return ``colour`` (pink, brown...) then second-order high- and low-passes, as one SOS.

    The Butterworth high-pass is at ``low_hz`` and the low-pass at ``high_hz``, in Hz: the band
    a bed's noise layer keeps (see :func:`layer`).
    """
    return np.vstack(
        (colour, butter(2, low_hz, "highpass", sr), butter(2, high_hz, "lowpass", sr))
    )


def layer(
    sos: Array,
    sr: int,
    correlation: float,
    rms: float = 1.0,
    *,
    normalise: bool = True,
    group: int = 0,
    gains: FrameGains | None = None,
) -> NoiseLayer:
    """A layer of white noise through ``sos``, at ``rms`` (times the filter's unit-noise gain)."""
    gain = rms * (unit_noise_gain(sos, sr) if normalise else 1.0)
    return NoiseLayer(power_response(sos, sr) * gain**2, correlation, group, gains)


@dataclass(frozen=True)
class NoiseLayer:
    """One steady noise layer: unit white noise through a filter, at a level, in a group."""

    power: Array
    """Power response at the frame's bins (see :func:`power_response`), level included."""
    correlation: float
    """Correlation between the channels, 0 to 1."""
    group: int = 0
    """Which output the layer is summed into."""
    gains: FrameGains | None = None
    """Optional gain per frame and side (amplitude), applied to this layer's spectrum."""
    shape: FrameShapes | None = None
    """Optional power per frame, side and bin (replaces ``power``; the sides uncorrelated)."""


_SCALE = float(FRAME)  # irfft divides by FRAME: unit white noise keeps unit power
Coefficients = tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]


def _coefficients(
    left: NDArray[np.float32], right: NDArray[np.float32], shared: NDArray[np.float32]
) -> Coefficients:
    """Per bin: left = l g1, right = r1 g1 + r2 g2 (g1, g2 independent unit Gaussians).

    ``left`` and ``right`` are the power per side and bin, ``shared`` the power the channels
    share, each times ``_SCALE`` (the FFT's scale), in float32; they are overwritten.
    """
    a = np.sqrt(left, out=left)
    r1 = np.divide(shared, np.maximum(a, np.float32(1e-30)), out=shared)
    right -= r1 * r1
    r2 = np.sqrt(np.maximum(right, np.float32(0.0), out=right), out=right)
    return a, r1, r2


@dataclass(frozen=True)
class _Group:
    """One output: its layers gathered by the gains they share (None: steady)."""

    gains: list[FrameGains | None]
    total: NDArray[np.float32]  # (classes, bins): power of each class's layers, times _SCALE
    shared: NDArray[np.float32]  # (classes, bins): the part the channels share, times _SCALE
    shapes: list[FrameShapes]
    steady: tuple[NDArray[np.complexfloating], ...] | None = None


class _Source:
    """One bed's noise layers and generator: the spectra of its groups, frame by frame.

    A bed draws the same numbers whether it plays alone or mixed with others, so a mix of beds
    is, to rounding, the sum of the beds played alone.
    """

    def __init__(self, rng: np.random.Generator, layers: Sequence[NoiseLayer]) -> None:
        self._rng = rng
        self.groups: list[int] = sorted({layer.group for layer in layers})  # the outputs fed
        self._made: list[_Group] = []
        for g in self.groups:
            mine = [layer for layer in layers if layer.group == g]
            keys: list[FrameGains | None] = []
            for layer in mine:
                if layer.shape is None and not any(layer.gains is k for k in keys):
                    keys.append(layer.gains)
            total, shared = np.zeros((len(keys), _BINS)), np.zeros((len(keys), _BINS))
            for layer in mine:
                if layer.shape is None:
                    c = next(i for i, k in enumerate(keys) if k is layer.gains)
                    total[c] += layer.power
                    shared[c] += layer.power * layer.correlation
            total[:, 0] = shared[:, 0] = 0.0  # no DC
            shapes = [layer.shape for layer in mine if layer.shape is not None]
            steady = None
            total32 = (total * _SCALE).astype(np.float32)
            shared32 = (shared * _SCALE).astype(np.float32)
            if len(keys) == 1 and not shapes:  # one set of gains scales the whole spectrum
                # complex already: the products below need no conversion each frame
                left, right1, right2 = _coefficients(
                    total32.copy(), total32.copy(), shared32.copy()
                )
                steady = (
                    left.astype(np.complex64),
                    right1.astype(np.complex64),
                    right2.astype(np.complex64),
                )
            group = _Group(keys, total32, shared32, shapes, steady)
            self._made.append(group)

    def spectra(
        self,
        centres: NDArray[np.int64],
        out: NDArray[np.complex64],
        where: list[int],
        fresh: list[bool],
    ) -> None:
        """Add the bins of this source's groups, for frames centred there, to ``out``.

        ``out`` is ``(batch, outputs, 2, bins)``; group ``i`` goes to output ``where[i]``, and is
        written there rather than added if ``fresh[i]``.
        """
        batch, groups = len(centres), len(self._made)
        count = batch * groups * _BINS
        # random 16-bit numbers (the generator's 64-bit outputs cut in four), the top 14 bits
        bits = self._rng.bit_generator.random_raw(-(-count // 4)).view(np.uint16)[:count]
        index = np.right_shift(bits, 16 - _TABLE_BITS)
        noise = np.take(_GAUSS, index, axis=1).reshape(2, batch, groups, _BINS)
        scratch = None
        for i, group in enumerate(self._made):
            g1, g2 = noise[0, :, i], noise[1, :, i]
            coefficients: tuple[NDArray[np.floating] | NDArray[np.complexfloating], ...] = (
                group.steady if group.steady is not None else _moving(group, centres)
            )
            left, right1, right2 = coefficients
            if fresh[i]:
                target = out[:, where[i]]
            else:
                if scratch is None:
                    scratch = np.empty((batch, 2, _BINS), dtype=np.complex64)
                target = scratch
            np.multiply(left, g1, out=target[:, 0])
            np.multiply(right1, g1, out=target[:, 1])
            target[:, 1] += right2 * g2
            gains = group.gains[0] if group.steady is not None else None
            if gains is not None:  # one set of gains for the whole group
                g = gains(centres).astype(np.float32)
                target *= g[:, :, None]
            if target is scratch:
                out[:, where[i]] += scratch


def _moving(group: _Group, centres: NDArray[np.int64]) -> Coefficients:
    """The coefficients of a group whose layers move apart, for each frame (float32)."""
    weights = np.ones((3, len(centres), len(group.gains)))  # left^2, right^2, left right
    for c, gains in enumerate(group.gains):
        if gains is not None:
            g = gains(centres)
            weights[:, :, c] = (g[:, 0] ** 2, g[:, 1] ** 2, g[:, 0] * g[:, 1])
    w = weights.astype(np.float32)
    left, right = w[0] @ group.total, w[1] @ group.total
    for shape in group.shapes:
        power = shape(centres) * _SCALE
        left += power[:, 0]
        right += power[:, 1]
    return _coefficients(left, right, w[2] @ group.shared)


class SpectralNoise:
    """The sum of beds' steady noise layers, per group: call for the next frames.

    Each source is a bed's generator and layers; a layer's ``group`` is the output it goes to.
    The sources' spectra are summed before the inverse FFT (one per output group and frame).
    """

    def __init__(
        self, sources: Sequence[tuple[np.random.Generator, Sequence[NoiseLayer]]], groups: int
    ) -> None:
        """Start the noise of ``sources`` into ``groups`` outputs, at frame 0."""
        self._sources = [_Source(rng, layers) for rng, layers in sources if layers]
        self._groups = groups
        # outputs no layer feeds (a bed whose noise all goes to its finish) stay silent
        self._active = sorted({g for source in self._sources for g in source.groups})
        self._where = [
            [self._active.index(g) for g in source.groups] for source in self._sources
        ]
        # flat, with sine and cosine tapers over the overlaps: an equal-power crossfade
        taper = np.sin(0.5 * np.pi * (np.arange(OVERLAP) + 0.5) / OVERLAP)
        window = np.ones(FRAME)
        window[:OVERLAP], window[-OVERLAP:] = taper, taper[::-1]
        self._window32 = window.astype(np.float32)
        self._frame = 0  # next frame to make; frame k starts at k HOP - OVERLAP
        self._carry = np.zeros((len(self._active), 2, OVERLAP), dtype=np.float32)  # last tail
        self._ready = self._batch()[:, :, OVERLAP:]  # the first samples precede frame 0

    def __call__(self, frames: int) -> NDArray[np.float32]:
        """Return the next ``(groups, 2, frames)`` samples (float32)."""
        if self._ready.shape[2] >= frames:
            out = self._ready[:, :, :frames]
            self._ready = self._ready[:, :, frames:]
            return out
        out = np.empty((self._groups, 2, frames), dtype=np.float32)
        have = self._ready.shape[2]
        out[:, :, :have] = self._ready
        while True:
            batch = self._batch()
            take = min(frames - have, batch.shape[2])
            out[:, :, have : have + take] = batch[:, :, :take]
            have += take
            if have == frames:
                self._ready = batch[:, :, take:]
                return out

    def _spectra(self, centres: NDArray[np.int64]) -> NDArray[np.complex64]:
        """Bins ``(batch, active groups, 2, bins)``: every source's, summed."""
        out = np.empty((len(centres), len(self._active), 2, _BINS), dtype=np.complex64)
        written: set[int] = set()
        for source, where in zip(self._sources, self._where, strict=True):
            source.spectra(centres, out, where, [g not in written for g in where])
            written.update(where)
        return out

    def _batch(self) -> NDArray[np.float32]:
        """Make the next ``_BATCH`` frames; return the ``_BATCH * HOP`` samples they complete."""
        import scipy.fft  # at first use: ~0.2 s to import, not needed to list beds

        k = self._frame + np.arange(_BATCH)
        self._frame += _BATCH
        frames = scipy.fft.irfft(self._spectra(k * HOP - OVERLAP + FRAME // 2), FRAME, axis=-1)
        # the window is flat but for its tapers: only they need multiplying
        frames[..., :OVERLAP] *= self._window32[:OVERLAP]
        frames[..., HOP:] *= self._window32[HOP:]  # (batch, groups, 2, FRAME)
        if len(self._active) < self._groups:
            out = np.zeros((self._groups, 2, _BATCH * HOP), dtype=np.float32)
            made = out[self._active]
        else:  # every sample is written below
            out = made = np.empty((self._groups, 2, _BATCH * HOP), dtype=np.float32)
        hops = made.reshape(len(self._active), 2, _BATCH, HOP)
        hops[...] = np.moveaxis(frames[..., :HOP], 0, 2)
        hops[:, :, 0, :OVERLAP] += self._carry
        hops[:, :, 1:, :OVERLAP] += np.moveaxis(frames[:-1, :, :, HOP:], 0, 2)
        self._carry = frames[-1, :, :, HOP:].copy()
        if made is not out:
            out[self._active] = made
        return out
