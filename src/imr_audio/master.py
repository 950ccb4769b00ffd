"""Mastering: measure loudness and true peak, then apply gain and a true-peak limiter.

Loudness follows ITU-R BS.1770 (pyloudnorm); true peak is measured on a 4x oversampled signal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.ndimage import minimum_filter1d, uniform_filter1d

from imr_audio.errors import MasteringError
from imr_audio.meter import LoudnessMeter, PeakStream, TruePeakMeter, as_2d

__all__ = [
    "LoudnessMeasurement",
    "MasterSettings",
    "StreamLimiter",
    "apply_gain",
    "gain_slope",
    "limit_true_peak",
    "master",
    "measure_loudness",
    "true_peak_dbtp",
]

Audio = npt.NDArray[np.float32]


@dataclass(frozen=True)
class MasterSettings:
    """Loudness targets of the finished track."""

    target_lufs: float = -18.0
    """Integrated loudness, LUFS (-16 to -20 for speech)."""
    true_peak_dbtp: float = -1.0
    """Highest allowed true peak, dBTP."""
    limiter_margin_db: float = 0.5
    """The limiter aims this far below ``true_peak_dbtp``, leaving room for lossy codecs, dB."""
    limiter_window_s: float = 0.005
    """Limiter look-ahead and smoothing window, in seconds."""


@dataclass(frozen=True)
class LoudnessMeasurement:
    """Loudness of a piece of audio."""

    integrated_lufs: float
    """Integrated, gated loudness, LUFS."""
    true_peak_dbtp: float
    """Highest 4x-oversampled sample magnitude, dBTP."""


def _oversampled_peaks(audio: Audio, sample_rate_hz: int) -> npt.NDArray[np.float32]:
    """Per frame, the largest magnitude among its 4x oversampled values (all channels)."""
    audio = as_2d(audio)
    stream = PeakStream(sample_rate_hz, audio.shape[1])
    block = 1 << 17
    parts = [stream.add(audio[start : start + block]) for start in range(0, len(audio), block)]
    parts.append(stream.finish())
    return np.concatenate(parts)


def true_peak_dbtp(samples: Audio, sample_rate_hz: int) -> float:
    """Return the true peak of ``samples`` in dBTP (4x oversampling with soxr)."""
    meter = TruePeakMeter(sample_rate_hz, as_2d(samples).shape[1])
    meter.add(samples)
    return meter.true_peak_dbtp()


def measure_loudness(samples: Audio, sample_rate_hz: int) -> LoudnessMeasurement:
    """Measure integrated loudness (LUFS, BS.1770 as pyloudnorm) and true peak (dBTP)."""
    audio = as_2d(samples)
    meter = LoudnessMeter(sample_rate_hz, (1.0,) * audio.shape[1])
    meter.add(audio)
    return LoudnessMeasurement(
        integrated_lufs=meter.integrated_lufs(),
        true_peak_dbtp=true_peak_dbtp(audio, sample_rate_hz),
    )


def apply_gain(samples: Audio, gain_db: float) -> Audio:
    """Return ``samples`` scaled by ``gain_db``."""
    return (samples * np.float32(10.0 ** (gain_db / 20.0))).astype(np.float32, copy=False)


def limit_true_peak(
    samples: Audio, sample_rate_hz: int, ceiling_dbtp: float, window_s: float = 0.005
) -> Audio:
    """Keep true peaks at or below ``ceiling_dbtp`` with a smooth look-ahead gain.

    The gain each oversampled peak needs is spread over a window on both sides (minimum
    filter), then smoothed with a moving average of the same width, so the gain is already down
    when the peak arrives and recovers over one window: no clipping, no clicks.
    """
    audio = as_2d(samples)
    ceiling = 10.0 ** (ceiling_dbtp / 20.0)
    peaks = _oversampled_peaks(audio, sample_rate_hz)
    if peaks.max(initial=0.0) <= ceiling:
        return samples
    needed = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-12))
    width = max(3, int(window_s * sample_rate_hz) | 1)
    gain = minimum_filter1d(needed, size=2 * width - 1, mode="nearest")
    gain = uniform_filter1d(gain, size=width, mode="nearest")
    limited = (audio * gain[:, None]).astype(np.float32)
    return limited[:, 0] if samples.ndim == 1 else limited


class StreamLimiter:
    """A gain, then :func:`limit_true_peak`, for audio that arrives in blocks.

    Gives the same samples as ``limit_true_peak(apply_gain(audio, gain_db), ...)`` on the whole
    signal, with a delay: :meth:`add` returns the frames whose look-ahead is complete (a few
    hundred fewer than fed, at first), :meth:`finish` the rest.
    """

    def __init__(
        self,
        sample_rate_hz: int,
        channels: int,
        gain_db: float,
        ceiling_dbtp: float,
        window_s: float = 0.005,
    ) -> None:
        """Prepare to apply ``gain_db`` and keep true peaks at or below ``ceiling_dbtp``."""
        self._gain_db = gain_db
        self._ceiling = 10.0 ** (ceiling_dbtp / 20.0)
        self._width = max(3, int(window_s * sample_rate_hz) | 1)
        # A frame's gain depends on the peaks this many frames either side of it.
        self._reach = (self._width - 1) + self._width // 2
        self._peaks = PeakStream(sample_rate_hz, channels)
        self._audio = np.zeros((0, channels), dtype=np.float32)  # gained, not yet given out
        self._needed = np.zeros(0)  # gain each frame's peak needs, from frame _first
        self._first = self._given = 0

    def _push(self, peaks: npt.NDArray[np.float32]) -> None:
        needed = np.minimum(1.0, self._ceiling / np.maximum(peaks, 1e-12))
        self._needed = np.concatenate([self._needed, needed])

    def _give(self, final: bool) -> Audio:
        known = self._first + len(self._needed)
        end = known if final else known - self._reach
        if end <= self._given:
            return np.zeros((0, self._audio.shape[1]), dtype=np.float32)
        count = end - self._given
        offset = self._given - self._first
        if self._needed.min(initial=1.0) >= 1.0:  # no peak near: the gain is 1 throughout
            out = self._audio[:count].copy()
        else:
            gain = minimum_filter1d(self._needed, size=2 * self._width - 1, mode="nearest")
            gain = uniform_filter1d(gain, size=self._width, mode="nearest")
            out = (self._audio[:count] * gain[offset : offset + count, None]).astype(np.float32)
        self._audio = self._audio[count:]
        self._given = end
        keep_from = max(0, end - self._reach)
        self._needed = self._needed[keep_from - self._first :]
        self._first = keep_from
        return out

    def add(self, block: Audio) -> Audio:
        """Feed the next block (frames x channels); return the frames now ready."""
        gained = apply_gain(as_2d(block), self._gain_db)
        self._audio = np.concatenate([self._audio, gained])
        # Frames whose peak cannot pass the ceiling need no gain: they are not oversampled.
        self._push(self._peaks.add(gained, floor=self._ceiling))
        return self._give(final=False)

    def finish(self) -> Audio:
        """Return the frames still held back."""
        self._push(self._peaks.finish(floor=self._ceiling))
        return self._give(final=True)


def gain_slope(step_db: float, gained_lu: float, slope: float) -> float:
    """How much of a gain step the limited loudness follows, learnt from the last step.

    A gain step of ``step_db`` raised the limited loudness by ``gained_lu``; the limiter takes
    part of any gain back (much of it when it works hard), so the next step is the shortfall
    divided by this slope, kept within 0.1-1. A step too small to learn from keeps ``slope``.
    Correcting by the bare shortfall converged too slowly for peaky speech and gave up short of
    reachable targets.
    """
    if abs(step_db) <= 1e-6:
        return slope
    return min(max(gained_lu / step_db, 0.1), 1.0)


def master(
    samples: Audio,
    sample_rate_hz: int,
    settings: MasterSettings,
    ceiling_offset_db: float = 0.0,
    loudness_offset_db: float = 0.0,
) -> tuple[Audio, LoudnessMeasurement]:
    """Bring ``samples`` to the target loudness with true peaks under the ceiling.

    Gain and limiting are applied in turn until both targets hold (the limiter lowers loudness a
    little, so the gain is corrected). ``ceiling_offset_db`` lowers the limiter's ceiling
    further, e.g. when an encoder was measured to overshoot; ``loudness_offset_db`` moves the
    loudness target, e.g. to correct what an encoder was measured to change. Returns the
    mastered audio and its measurement.
    """
    ceiling = settings.true_peak_dbtp - settings.limiter_margin_db - ceiling_offset_db
    target = settings.target_lufs + loudness_offset_db
    measured = measure_loudness(samples, sample_rate_hz)
    if not np.isfinite(measured.integrated_lufs):
        raise MasteringError("the mix is silent; there is nothing to master")
    gain_db, slope = 0.0, 1.0
    for _ in range(6):
        step = (target - measured.integrated_lufs) / slope  # see gain_slope
        out = apply_gain(samples, gain_db + step)
        out = limit_true_peak(out, sample_rate_hz, ceiling, settings.limiter_window_s)
        reached = measure_loudness(out, sample_rate_hz)
        slope = gain_slope(step, reached.integrated_lufs - measured.integrated_lufs, slope)
        gain_db, measured = gain_db + step, reached
        if (
            abs(measured.integrated_lufs - target) <= 0.1
            and measured.true_peak_dbtp <= ceiling + 0.05
        ):
            return out, measured
    raise MasteringError(
        f"could not reach {target:g} LUFS with true peak at most "
        f"{settings.true_peak_dbtp:g} dBTP (reached {measured.integrated_lufs:.1f} LUFS, "
        f"{measured.true_peak_dbtp:.1f} dBTP)"
    )
