"""Streaming meters and the streaming limiter agree with their whole-signal references."""

from __future__ import annotations

import numpy as np
import pyloudnorm
import pytest

from imr_audio.master import StreamLimiter, apply_gain, limit_true_peak, true_peak_dbtp
from imr_audio.meter import LoudnessMeter, PeakStream, TruePeakMeter, measure_blocks

RATE = 44100


def _signal(frames: int, channels: int = 2, seed: int = 0) -> np.ndarray:
    """Noise swelling from very quiet to loud, after a second of silence (exercises both gates)."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0.0005, 0.4, frames)[:, None]
    audio = (rng.standard_normal((frames, channels)) * ramp).astype(np.float32)
    audio[:RATE] = 0
    return audio


def _blocks(audio: np.ndarray, size: int) -> list[np.ndarray]:
    return [audio[start : start + size] for start in range(0, len(audio), size)]


@pytest.mark.parametrize("frames", [RATE * 3 + 123, RATE * 17 + 4409, RATE * 40])
@pytest.mark.parametrize("block", [997, 65536, 10**8])
def test_streamed_loudness_equals_pyloudnorm(frames: int, block: int) -> None:
    audio = _signal(frames)
    reference = pyloudnorm.Meter(RATE).integrated_loudness(audio.astype(np.float64))
    meter = LoudnessMeter(RATE)
    for part in _blocks(audio, block):
        meter.add(part)
    assert meter.integrated_lufs() == pytest.approx(reference, abs=1e-9)


def test_a_centred_mono_voice_measures_as_two_equal_channels() -> None:
    mono = _signal(RATE * 6, channels=1)[:, 0]
    reference = pyloudnorm.Meter(RATE).integrated_loudness(
        np.stack([mono, mono], axis=1).astype(np.float64)
    )
    meter = LoudnessMeter(RATE, (2.0,))
    meter.add(mono)
    assert meter.integrated_lufs() == pytest.approx(reference, abs=1e-9)
    # and 3 dB louder than the same signal measured as one channel
    single = LoudnessMeter(RATE, (1.0,))
    single.add(mono)
    assert meter.integrated_lufs() - single.integrated_lufs() == pytest.approx(3.01, abs=0.01)


def test_silence_and_too_short_audio_measure_minus_infinity() -> None:
    meter = LoudnessMeter(RATE)
    meter.add(np.zeros((RATE * 2, 2), dtype=np.float32))
    assert meter.integrated_lufs() == float("-inf")
    short = LoudnessMeter(RATE)
    short.add(_signal(RATE // 4))
    assert short.integrated_lufs() == float("-inf")


def test_peaks_stream_in_any_blocks_as_in_one() -> None:
    audio = _signal(RATE * 5 + 77)
    whole = PeakStream(RATE, 2)
    reference = np.concatenate([whole.add(audio), whole.finish()])
    assert len(reference) == len(audio)
    stream = PeakStream(RATE, 2)
    parts = [stream.add(part) for part in _blocks(audio, 4093)]
    parts.append(stream.finish())
    assert np.array_equal(np.concatenate(parts), reference)


def test_true_peak_finds_an_inter_sample_over() -> None:
    # A sine at a quarter of the rate, sampled 45 degrees off its crests: every sample is at
    # 0.707 of the true peak, so the sample peak reads 3 dB low.
    n = np.arange(RATE)
    audio = (0.5 * np.sin(2 * np.pi * n / 4 + np.pi / 4)).astype(np.float32)
    sample_peak_db = 20 * np.log10(np.abs(audio).max())
    meter = TruePeakMeter(RATE, 1)
    meter.add(audio)
    true_peak = meter.true_peak_dbtp()
    assert true_peak == pytest.approx(20 * np.log10(0.5), abs=0.1)
    assert true_peak - sample_peak_db == pytest.approx(3.01, abs=0.1)


def test_measure_blocks_matches_the_whole_signal_functions() -> None:
    audio = _signal(RATE * 4)
    lufs, peak = measure_blocks(_blocks(audio, 5000), RATE)
    assert lufs == pytest.approx(pyloudnorm.Meter(RATE).integrated_loudness(
        audio.astype(np.float64)), abs=1e-9)
    assert peak == pytest.approx(true_peak_dbtp(audio, RATE), abs=1e-6)


@pytest.mark.parametrize("block", [1000, 65536, 10**8])
def test_stream_limiter_equals_the_whole_signal_limiter(block: int) -> None:
    audio = _signal(RATE * 7 + 321, seed=3)
    reference = limit_true_peak(apply_gain(audio, 4.0), RATE, -1.5)
    limiter = StreamLimiter(RATE, 2, 4.0, -1.5)
    parts = [limiter.add(part) for part in _blocks(audio, block)]
    parts.append(limiter.finish())
    out = np.concatenate(parts)
    assert out.shape == reference.shape
    assert np.abs(out - reference).max() < 1e-6
    assert true_peak_dbtp(out, RATE) <= -1.5 + 0.05
    # it did limit: the gained signal alone goes well over the ceiling
    assert true_peak_dbtp(apply_gain(audio, 4.0), RATE) > 0


def test_stream_limiter_leaves_quiet_audio_exactly_gained() -> None:
    audio = _signal(RATE * 3) * np.float32(0.1)
    limiter = StreamLimiter(RATE, 2, 2.0, -1.0)
    out = np.concatenate([limiter.add(audio[:50000]), limiter.add(audio[50000:]),
                          limiter.finish()])
    assert np.array_equal(out, apply_gain(audio, 2.0))
