"""The cue sounds: the section chime and the breath tones sit under the voice without clicks."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from imr_audio.cues import CHIME_PEAK, TONE_PEAK, breath_tone, chime

SR = 44100


def test_chime_is_a_soft_bell_at_its_pitch() -> None:
    bell = chime(3.0, SR)
    assert bell.dtype == np.float32 and bell.shape == (3 * SR,)
    assert np.abs(bell).max() == pytest.approx(CHIME_PEAK, rel=1e-4)
    assert CHIME_PEAK <= TONE_PEAK  # under the voice like the breath tones
    f, p = signal.welch(bell.astype(np.float64), SR, nperseg=16384)
    assert f[np.argmax(p)] == pytest.approx(523.25, abs=3.0)
    # a bell, not a beep: faint upper partials, none above the fundamental
    partial = (f > 1300) & (f < 1500)
    assert 1e-4 < p[partial].max() / p.max() < 0.5


def test_chime_rings_out_and_has_no_click() -> None:
    bell = chime(3.0, SR).astype(np.float64)
    assert bell[0] == 0.0 and bell[-1] == 0.0
    quarter = len(bell) // 4
    first, last = np.mean(bell[:quarter] ** 2), np.mean(bell[-quarter:] ** 2)
    assert 10 * np.log10(first / last) > 15.0  # it decays
    # no step larger than the partials themselves make: the steepest sine in it at full level
    assert np.abs(np.diff(bell)).max() < 2 * np.pi * 8.1 * 523.25 / SR * CHIME_PEAK
    attack = round(0.008 * SR)
    assert np.abs(bell[: attack // 4]).max() < 0.2 * CHIME_PEAK  # a soft mallet


def test_chime_is_the_same_every_time_and_fits_any_length() -> None:
    assert np.array_equal(chime(2.0, 48000), chime(2.0, 48000))
    assert chime(0.0, SR).shape == (0,)
    assert chime(0.01, SR).shape == (441,)
    assert chime(1.5, 22050, pitch_hz=392.0).shape == (33075,)
    with pytest.raises(ValueError):
        chime(-1.0, SR)
    with pytest.raises(ValueError):
        chime(1.0, 8000, pitch_hz=3000.0)


@pytest.mark.parametrize("phase", ["in", "hold", "out"])
def test_breath_tones_stay_under_the_tone_peak_without_clicks(phase: str) -> None:
    tone = breath_tone(phase, 4.0, SR).astype(np.float64)
    assert np.abs(tone).max() <= TONE_PEAK
    assert abs(tone[0]) < 1e-3 * TONE_PEAK and abs(tone[-1]) < 1e-3 * TONE_PEAK
    assert np.abs(np.diff(tone)).max() < 2 * np.pi * 2 * 293.7 / SR * TONE_PEAK
    assert not breath_tone("rest", 2.0, SR).any()
