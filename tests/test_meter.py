"""Streaming meters and the streaming limiter agree with their whole-signal references."""

from __future__ import annotations

import numpy as np
import pyloudnorm
import pytest
import soxr

from imr_audio.master import StreamLimiter, apply_gain, limit_true_peak, true_peak_dbtp
from imr_audio.meter import (
    OVERSAMPLE,
    GateSums,
    LoudnessMeter,
    PeakStream,
    TruePeakMeter,
    cell_edges,
    gate_cells,
    oversampling_gain,
)

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
    assert meter.integrated_lufs() == pytest.approx(reference, abs=1e-3)


def test_a_centred_mono_voice_measures_as_two_equal_channels() -> None:
    mono = _signal(RATE * 6, channels=1)[:, 0]
    reference = pyloudnorm.Meter(RATE).integrated_loudness(
        np.stack([mono, mono], axis=1).astype(np.float64)
    )
    meter = LoudnessMeter(RATE, (2.0,))
    meter.add(mono)
    assert meter.integrated_lufs() == pytest.approx(reference, abs=1e-3)
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


def _oversampled_reference(audio: np.ndarray) -> np.ndarray:
    """Per frame, the 4x-oversampled peak over all channels: soxr on the whole signal at once."""
    up = np.abs(soxr.resample(audio, RATE, RATE * OVERSAMPLE, quality="HQ"))
    return up.reshape(len(audio), OVERSAMPLE, -1).max(axis=(1, 2))


def test_peaks_stream_in_any_blocks_as_soxr_gives_them_on_the_whole_signal() -> None:
    audio = _signal(RATE * 5 + 77)
    reference = _oversampled_reference(audio)
    for block in (4093, 65536, len(audio)):
        stream = PeakStream(RATE, 2)
        parts = [stream.add(part) for part in _blocks(audio, block)]
        parts.append(stream.finish())
        peaks = np.concatenate(parts)
        assert len(peaks) == len(audio)
        assert np.abs(peaks - reference).max() < 1e-6


def test_the_oversampling_gain_bounds_every_inter_sample_peak_and_is_reached() -> None:
    gain = oversampling_gain(RATE)
    assert 2.0 < gain < 4.0  # soxr HQ: 2.83 (+9 dB)
    rng = np.random.default_rng(5)
    for _ in range(20):
        audio = (rng.standard_normal((4000, 1)) * rng.uniform(0.01, 0.5)).astype(np.float32)
        assert _oversampled_reference(audio).max() <= gain * np.abs(audio).max()
    # The worst case: samples of full magnitude whose signs follow the filter's taps for the
    # phase with the largest sum. It comes within 1 % of the bound, so the bound is not loose.
    impulse = np.zeros(513, dtype=np.float32)
    impulse[256] = 1.0
    response = soxr.resample(impulse, RATE, RATE * OVERSAMPLE, quality="HQ")
    phase = max(range(OVERSAMPLE), key=lambda p: np.abs(response[p::OVERSAMPLE]).sum())
    taps = response[phase::OVERSAMPLE]
    worst = np.sign(taps[::-1]).astype(np.float32)[:, None] * np.float32(0.25)
    assert _oversampled_reference(worst).max() == pytest.approx(0.25 * gain / 1.01, rel=0.02)


def test_peaks_with_a_floor_differ_only_where_they_cannot_pass_it() -> None:
    # Loud bursts between long quiet stretches: the quiet frames are not oversampled.
    audio = _signal(RATE * 6, seed=4) * np.float32(0.05)
    for start in range(RATE, len(audio), 2 * RATE):
        audio[start : start + RATE // 4] *= 20
    reference = _oversampled_reference(audio)
    floor = 0.4
    stream = PeakStream(RATE, 2)
    parts = [stream.add(part, floor=floor) for part in _blocks(audio, 65536)]
    parts.append(stream.finish(floor=floor))
    screened = np.concatenate(parts)
    above = reference > floor
    assert above.any() and (~above).any()
    assert np.abs(screened[above] - reference[above]).max() < 1e-6
    assert screened[~above].max() <= floor
    assert (screened[~above] != reference[~above]).mean() > 0.5  # most were spared


def test_true_peak_meter_with_screening_equals_the_whole_signal_peak() -> None:
    audio = _signal(RATE * 6, seed=6) * np.float32(0.05)
    audio[RATE * 4 : RATE * 4 + 300] *= 30  # the loudest moment comes late
    meter = TruePeakMeter(RATE, 2)
    for part in _blocks(audio, 8192):
        meter.add(part)
    expected = 20 * np.log10(_oversampled_reference(audio).max())
    assert meter.true_peak_dbtp() == pytest.approx(expected, abs=1e-5)


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


def test_the_stream_meters_match_the_whole_signal_functions() -> None:
    audio = _signal(RATE * 4)
    loudness, peak = LoudnessMeter(RATE), TruePeakMeter(RATE, 2)
    for block in _blocks(audio, 5000):
        loudness.add(block)
        peak.add(block)
    assert loudness.integrated_lufs() == pytest.approx(pyloudnorm.Meter(RATE).integrated_loudness(
        audio.astype(np.float64)), abs=1e-3)
    assert peak.true_peak_dbtp() == pytest.approx(true_peak_dbtp(audio, RATE), abs=1e-6)


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


def test_loudness_with_silences_between_sounds_equals_pyloudnorm() -> None:
    # After each burst the filter rings down; once at rest, silent blocks are not filtered.
    audio = np.zeros((RATE * 12, 2), dtype=np.float32)
    rng = np.random.default_rng(8)
    for start in (RATE, RATE * 5, RATE * 9):
        audio[start : start + RATE] = rng.standard_normal((RATE, 2)).astype(np.float32) * 0.2
    reference = pyloudnorm.Meter(RATE).integrated_loudness(audio.astype(np.float64))
    for block in (4096, 65536):
        meter = LoudnessMeter(RATE)
        for part in _blocks(audio, block):
            meter.add(part)
        assert meter.integrated_lufs() == pytest.approx(reference, abs=1e-3)


def _cells(energies: np.ndarray, rate: int) -> np.ndarray:
    """Per-frame energies (columns x frames) summed over 10 ms cells, padded to whole cells."""
    count = -(-energies.shape[1] * 100 // rate) + 1
    edges = cell_edges(0, count, rate)
    padded = np.pad(energies, ((0, 0), (0, edges[-1] - energies.shape[1])))
    return np.add.reduceat(padded, edges[:-1], axis=1).T


@pytest.mark.parametrize("rate", [44100, 48000, 22050, 16000])
@pytest.mark.parametrize("seconds", [0.3, 0.4, 7.0, 37.33])
def test_gating_from_10ms_cells_equals_gating_every_frame(rate: int, seconds: float) -> None:
    rng = np.random.default_rng(rate)
    frames = int(rate * seconds)
    energies = rng.random((2, frames)) ** 4 * np.linspace(0.0, 1.0, frames)
    whole = GateSums(rate, 2)
    whole.add_rows(energies)
    expected = whole.block_energies()
    got = gate_cells(_cells(energies, rate), rate, frames)
    assert got.shape == expected.shape
    # at these rates the gating edges fall on cell edges: the same sums, added differently
    np.testing.assert_allclose(got, expected, rtol=1e-9)


def test_a_gating_edge_inside_a_cell_takes_the_cell_pro_rata() -> None:
    rate = 44123  # 441.23 frames per cell: gating edges fall inside cells
    frames = rate * 6
    rng = np.random.default_rng(3)
    steady = np.full((1, frames), 0.25) + rng.random((1, frames)) * 1e-3
    whole = GateSums(rate, 1)
    whole.add_rows(steady)
    np.testing.assert_allclose(gate_cells(_cells(steady, rate), rate, frames),
                               whole.block_energies(), rtol=1e-5)
    with pytest.raises(ValueError, match="cells cover"):
        gate_cells(_cells(steady, rate)[:-50], rate, frames)
