"""Mastering: loudness and true peak, checked against pyloudnorm and ffmpeg's ebur128."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyloudnorm as pyln
import pytest
import soundfile as sf

from imr_audio.errors import MasteringError
from imr_audio.master import (
    MasterSettings,
    gain_slope,
    limit_true_peak,
    master,
    measure_loudness,
    true_peak_dbtp,
)
from measure import ffmpeg_ebur128

SR = 44100
DURATION_S = 10.0
Signal = Callable[[], np.ndarray]


def _times() -> np.ndarray:
    return np.arange(round(DURATION_S * SR)) / SR


def _syllables(t: np.ndarray) -> np.ndarray:
    """A speech-like envelope: ~3 syllables a second, phrases separated by pauses."""
    phrases = np.sin(2 * np.pi * 0.25 * t) > -0.3
    return np.clip(np.sin(2 * np.pi * 3.1 * t), 0, None) ** 2 * phrases


def modulated_tones() -> np.ndarray:
    t = _times()
    x = _syllables(t) * (0.3 * np.sin(2 * np.pi * 180 * t) + 0.15 * np.sin(2 * np.pi * 360 * t + 1)
                         + 0.08 * np.sin(2 * np.pi * 2500 * t))
    return np.stack([x, 0.9 * x], axis=1)


def glottal_pulses() -> np.ndarray:
    """Voiced speech-like: an in-phase harmonic series (peaky pulses) at a wandering pitch."""
    t = _times()
    phase = 2 * np.pi * np.cumsum(120 * (1 + 0.1 * np.sin(2 * np.pi * 0.7 * t))) / SR
    pulses = sum(np.cos(k * phase) / k for k in range(1, 12))
    x = 0.05 * _syllables(t) * pulses
    return np.stack([x, x], axis=1)


def noise_with_transients() -> np.ndarray:
    rng = np.random.default_rng(1)
    x = 0.01 * rng.standard_normal((len(_times()), 2))
    decay = np.exp(-np.arange(30) / 5)[:, None]
    for start in rng.integers(0, len(x) - 30, 20):
        x[start : start + 30] += rng.choice([-1.0, 1.0]) * 0.95 * decay
    return x


def loud_square() -> np.ndarray:
    x = 0.99 * np.tanh(8 * np.sin(2 * np.pi * 220 * _times()))
    return np.stack([x, x], axis=1)


SIGNALS = [modulated_tones, glottal_pulses, noise_with_transients, loud_square]


def _write_float(path: Path, audio: np.ndarray, rate: int = SR) -> Path:
    sf.write(path, audio, rate, subtype="FLOAT")
    return path


@pytest.mark.parametrize("target", [-18.0, -16.0])
@pytest.mark.parametrize("make", SIGNALS, ids=lambda f: f.__name__)
def test_master_reaches_targets(make: Signal, target: float, tmp_path: Path) -> None:
    audio = make().astype(np.float32)
    out, measured = master(audio, SR, MasterSettings(target_lufs=target, true_peak_dbtp=-1.0))
    assert out.shape == audio.shape
    assert out.dtype == np.float32
    lufs = pyln.Meter(SR).integrated_loudness(out.astype(np.float64))
    assert lufs == pytest.approx(target, abs=0.1)
    assert measured.integrated_lufs == pytest.approx(lufs, abs=0.01)
    ff_lufs, ff_peak = ffmpeg_ebur128(_write_float(tmp_path / "m.wav", out))
    assert ff_lufs == pytest.approx(target, abs=0.3)
    assert ff_peak <= -1.0
    assert np.max(np.abs(out)) < 1.0


def test_master_reaches_loud_target_on_peaky_speech() -> None:
    # Regression: the gain was corrected by the bare loudness shortfall after each limiter pass;
    # on peaky speech the limiter took most of every step and mastering gave up at -16.2 LUFS.
    out, _ = master(glottal_pulses().astype(np.float32), SR, MasterSettings(target_lufs=-16.0))
    assert pyln.Meter(SR).integrated_loudness(out.astype(np.float64)) == pytest.approx(-16, abs=0.1)
    assert true_peak_dbtp(out, SR) <= -1.0


def test_limiter_leaves_quiet_audio_untouched() -> None:
    quiet = (0.5 * modulated_tones()).astype(np.float32)
    assert 20 * np.log10(np.max(np.abs(quiet))) < -3.0
    out = limit_true_peak(quiet, SR, ceiling_dbtp=-1.0)
    np.testing.assert_array_equal(out, quiet)
    assert out.dtype == quiet.dtype


def test_limiter_holds_the_ceiling_and_spares_the_rest() -> None:
    rng = np.random.default_rng(2)
    noisy = 0.05 * rng.standard_normal((round(DURATION_S * SR), 2))
    hits = [round(s * SR) for s in (2.0, 5.0, 8.0)]
    for hit in hits:
        noisy[hit : hit + 30] += 1.5 * np.exp(-np.arange(30) / 5)[:, None]
    loud = noisy.astype(np.float32)
    out = limit_true_peak(loud, SR, ceiling_dbtp=-1.5)
    assert true_peak_dbtp(out, SR) <= -1.5 + 0.05
    ceiling = 10 ** (-1.5 / 20)
    # Away from the transients the noise passes unchanged; at them the gain comes down to just
    # what the ceiling needs.
    calm = slice(round(0.5 * SR), round(1.5 * SR))
    np.testing.assert_allclose(out[calm], loud[calm], rtol=1e-5)
    for hit in hits:
        assert 0.8 * ceiling < np.max(np.abs(out[hit : hit + 30])) < ceiling


@pytest.mark.parametrize("rate", [44100, 48000])
def test_true_peak_finds_inter_sample_peak(rate: int, tmp_path: Path) -> None:
    # A sine at fs/4 sampled 45 degrees off its crests: every sample is at 0.707 of the peak.
    n = np.arange(2 * rate)
    ramp = np.minimum(1.0, np.minimum(n, n[::-1]) / (0.01 * rate))  # no onset overshoot
    x = (np.sin(np.pi / 2 * n + np.pi / 4) * ramp).astype(np.float32)
    assert 20 * np.log10(np.max(np.abs(x))) == pytest.approx(-3.01, abs=0.05)
    assert true_peak_dbtp(x, rate) == pytest.approx(0.0, abs=0.2)
    assert true_peak_dbtp(np.stack([0.5 * x, x], axis=1), rate) == pytest.approx(0.0, abs=0.2)
    _, ff_peak = ffmpeg_ebur128(_write_float(tmp_path / "tp.wav", x, rate))
    assert ff_peak == pytest.approx(0.0, abs=0.35)  # ffmpeg agrees it is an inter-sample peak


def test_measure_loudness_agrees_with_ffmpeg(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    noise = (0.05 * rng.standard_normal((round(DURATION_S * SR), 2))).astype(np.float32)
    ff_lufs, ff_peak = ffmpeg_ebur128(_write_float(tmp_path / "noise.wav", noise))
    measured = measure_loudness(noise, SR)
    assert measured.integrated_lufs == pytest.approx(ff_lufs, abs=0.2)
    assert measured.true_peak_dbtp == pytest.approx(ff_peak, abs=0.5)


@pytest.mark.parametrize("channels", [1, 2])
def test_silent_mix_is_an_error(channels: int) -> None:
    silent = np.zeros((SR * 5, channels), np.float32).squeeze()
    with pytest.raises(MasteringError, match="silent"):
        master(silent, SR, MasterSettings())


def test_the_gain_slope_is_what_the_last_step_gained_within_bounds() -> None:
    assert gain_slope(2.0, 1.0, 1.0) == 0.5  # the limiter took half of a 2 dB step
    assert gain_slope(-3.0, -3.0, 0.4) == 1.0  # a cut is followed fully
    assert gain_slope(2.0, 0.01, 1.0) == 0.1  # never below 0.1: steps stay bounded
    assert gain_slope(1.0, 1.5, 0.5) == 1.0  # nor above 1
    assert gain_slope(1e-9, 5.0, 0.3) == 0.3  # too small a step to learn from
