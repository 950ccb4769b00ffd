"""Mastering: measure loudness and true peak, then apply gain and a true-peak limiter.

Loudness follows ITU-R BS.1770 (pyloudnorm); true peak is measured on a 4x oversampled signal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyloudnorm
import soxr
from scipy.ndimage import minimum_filter1d, uniform_filter1d

from imr_audio.errors import MasteringError

__all__ = [
    "LoudnessMeasurement",
    "MasterSettings",
    "apply_gain",
    "limit_true_peak",
    "master",
    "measure_loudness",
    "true_peak_dbtp",
]

Audio = npt.NDArray[np.float32]
_OVERSAMPLE = 4


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


def _as_2d(samples: Audio) -> Audio:
    return samples[:, None] if samples.ndim == 1 else samples


def _frame_max(values: npt.NDArray[np.float32], width: int) -> npt.NDArray[np.float32]:
    """Maximum of each run of ``width`` values (``len(values)`` a multiple of ``width``)."""
    runs = values.reshape(-1, width)
    out = runs[:, 0].copy()
    for column in range(1, width):
        np.maximum(out, runs[:, column], out=out)
    return out


def _oversampled_peaks(
    audio: Audio, sample_rate_hz: int, block_frames: int = 1 << 17
) -> npt.NDArray[np.float32]:
    """Per input frame, the largest magnitude among its 4x oversampled values (all channels).

    Streams through soxr block by block so memory stays small on hour-long tracks.
    """
    audio = _as_2d(audio)
    frames, channels = audio.shape
    stream = soxr.ResampleStream(
        sample_rate_hz, sample_rate_hz * _OVERSAMPLE, channels, dtype="float32", quality="HQ"
    )
    peaks = np.zeros(frames, dtype=np.float32)
    carry = np.zeros(0, dtype=np.float32)
    filled = 0
    for start in range(0, max(frames, 1), block_frames):
        block = np.ascontiguousarray(audio[start : start + block_frames], dtype=np.float32)
        up = np.abs(stream.resample_chunk(block, last=start + block_frames >= frames))
        magnitude = up[:, 0].copy()
        for channel in range(1, channels):
            np.maximum(magnitude, up[:, channel], out=magnitude)
        magnitude = np.concatenate([carry, magnitude])
        usable = min(len(magnitude) // _OVERSAMPLE, frames - filled)
        peaks[filled : filled + usable] = _frame_max(magnitude[: usable * _OVERSAMPLE], _OVERSAMPLE)
        carry = magnitude[usable * _OVERSAMPLE :]
        filled += usable
    return peaks


def true_peak_dbtp(samples: Audio, sample_rate_hz: int) -> float:
    """Return the true peak of ``samples`` in dBTP (4x oversampling with soxr)."""
    peaks = _oversampled_peaks(samples, sample_rate_hz)
    peak = float(peaks.max()) if peaks.size else 0.0
    return float(20.0 * np.log10(max(peak, 1e-12)))


def measure_loudness(samples: Audio, sample_rate_hz: int) -> LoudnessMeasurement:
    """Measure integrated loudness (LUFS) and true peak (dBTP)."""
    meter = pyloudnorm.Meter(sample_rate_hz)
    with np.errstate(divide="ignore"):
        lufs = float(meter.integrated_loudness(_as_2d(samples).astype(np.float64)))
    return LoudnessMeasurement(
        integrated_lufs=lufs, true_peak_dbtp=true_peak_dbtp(samples, sample_rate_hz)
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
    audio = _as_2d(samples)
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
    # Each gain step is the shortfall divided by the loudness the last step actually gained
    # (the limiter takes part of it). Correcting by the bare shortfall, as before, converged too
    # slowly for peaky speech and gave up short of reachable targets.
    gain_db, slope = 0.0, 1.0
    for _ in range(6):
        step = (target - measured.integrated_lufs) / slope
        out = apply_gain(samples, gain_db + step)
        out = limit_true_peak(out, sample_rate_hz, ceiling, settings.limiter_window_s)
        reached = measure_loudness(out, sample_rate_hz)
        if abs(step) > 1e-6:
            slope = min(max((reached.integrated_lufs - measured.integrated_lufs) / step, 0.1), 1.0)
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
