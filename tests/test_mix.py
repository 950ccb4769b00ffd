"""Mixing: speech placement, the ducking curve and the stem mix, on synthetic clips and beds."""

from __future__ import annotations

import numpy as np
import pyloudnorm as pyln
import pytest

from imr_audio.audio import Clip
from imr_audio.meter import LoudnessMeter, cell_edges
from imr_audio.mix import (
    MixSettings,
    Placement,
    StemLevels,
    bed_gain,
    bed_level_db,
    bed_power,
    duck_gain_db,
    mix_block,
    place_speech,
)
from imr_audio.timeline import Pause, SectionStart, Speech, Timeline
from measure import rms_db, segment

SR = 44100
CONTROL_HZ = 100  # duck_gain_db's documented control rate


def _burst(duration_s: float, sr: int = SR, seed: int = 0) -> Clip:
    """A noise burst whose every sample is non-zero, so its extent is easy to find."""
    rng = np.random.default_rng(seed)
    n = round(duration_s * sr)
    samples = rng.uniform(0.05, 0.5, n) * rng.choice([-1.0, 1.0], n)
    return Clip(samples=samples.astype(np.float32), sample_rate_hz=sr)


def _tone_clip(duration_s: float, sr: int = SR, freq_hz: float = 440.0, amp: float = 0.3
               ) -> Clip:
    t = np.arange(round(duration_s * sr)) / sr
    return Clip(samples=(amp * np.sin(2 * np.pi * freq_hz * t + 0.3)).astype(np.float32),
                sample_rate_hz=sr)


def _runs(x: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) sample indices of the runs of non-zero samples."""
    nonzero = np.concatenate([[0], (x != 0).astype(np.int8), [0]])
    edges = np.flatnonzero(np.diff(nonzero))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def _lufs(audio: np.ndarray) -> float:
    stereo = audio if audio.ndim == 2 else np.stack([audio, audio], axis=1)
    return float(pyln.Meter(SR).integrated_loudness(np.asarray(stereo, dtype=np.float64)))


TIMELINE = Timeline(events=(
    Pause(2.0, "explicit", 1),  # before the first word: the lead-in stands in for it
    Speech("One two three.", 2),
    Pause(1.5, "sentence", 2),
    Speech("Four five.", 2),
    Pause(3.0, "paragraph", 4),
    SectionStart("Middle", 5),
    Pause(0.25, "explicit", 6),
    Speech("Six.", 6),
    Pause(5.0, "explicit", 7),
))
GAPS_S = [1.5, 3.25]
TRAILING_S = 5.0


# --- placement -----------------------------------------------------------------------------


def test_place_speech_lays_clips_on_the_timeline() -> None:
    settings = MixSettings(lead_in_s=8.0, tail_s=12.0)
    clips = [_burst(1.3, seed=1), _burst(0.77, seed=2), _burst(2.01, seed=3)]
    voice, placements = place_speech(TIMELINE, clips, settings)
    runs = _runs(voice)
    assert len(runs) == 3
    assert runs[0][0] == round(8.0 * SR)
    for (start, end), clip in zip(runs, clips):
        np.testing.assert_array_equal(voice[start:end], clip.samples)
    for (_, end), (start, _), gap_s in zip(runs, runs[1:], GAPS_S):
        assert start - end == round(gap_s * SR)
    assert len(voice) == runs[-1][1] + round(TRAILING_S * SR) + round(12.0 * SR)
    assert [round(p.start_s * SR) for p in placements] == [s for s, _ in runs]
    assert [p.speech.text for p in placements] == ["One two three.", "Four five.", "Six."]
    assert placements[2].speech.section is None
    assert voice.dtype == np.float32


@pytest.mark.parametrize("rate", [22050, 48000])
def test_place_speech_resamples_to_the_output_rate(rate: int) -> None:
    clips = [_tone_clip(1.0, rate, 1000.0), _tone_clip(0.5, rate, 1000.0),
             _tone_clip(2.0, rate, 1000.0)]
    voice, placements = place_speech(TIMELINE, clips, MixSettings(lead_in_s=1.0, tail_s=1.0))
    for placement, clip in zip(placements, clips):
        assert placement.duration_s == pytest.approx(clip.duration_s, abs=1.5 / SR)
    runs = _runs(voice)
    assert [(end - start) / SR for start, end in runs] == pytest.approx(
        [c.duration_s for c in clips], abs=2 / SR)
    # Still a 1 kHz tone at 44.1 kHz.
    start, end = runs[2]
    spectrum = np.abs(np.fft.rfft(voice[start:end] * np.hanning(end - start)))
    peak_hz = np.argmax(spectrum) * SR / (end - start)
    assert peak_hz == pytest.approx(1000.0, abs=2.0)


@pytest.mark.parametrize("count", [0, 2, 4])
def test_place_speech_needs_one_clip_per_speech(count: int) -> None:
    # Regression: too few clips raised IndexError from inside the loop instead of ValueError.
    with pytest.raises(ValueError, match="one clip per speech"):
        place_speech(TIMELINE, [_burst(1.0)] * count, MixSettings())


# --- ducking -------------------------------------------------------------------------------


def _at(curve: np.ndarray, t_s: float) -> float:
    return float(curve[round(t_s * CONTROL_HZ)])


def _speech(start_s: float, duration_s: float) -> Placement:
    return Placement(Speech("words", 1), start_s, duration_s)


@pytest.mark.parametrize("attack_s", [0.3, 1.0])
def test_duck_follows_attack_and_release(attack_s: float) -> None:
    settings = MixSettings(duck_attack_s=attack_s, duck_release_s=1.8, duck_depth_db=14.0)
    start, end, total = 8.0, 12.0, 20.0
    curve = duck_gain_db([_speech(start, end - start)], total, settings)
    times = np.arange(len(curve)) / CONTROL_HZ
    assert len(curve) >= total * CONTROL_HZ
    # Untouched well before speech.
    assert np.all(curve[times < start - attack_s - 0.02] == 0.0)
    # Fully down from the first word to the last.
    during = (times >= start) & (times <= end)
    np.testing.assert_allclose(curve[during], -14.0, atol=1e-9)
    # Halfway down at the middle of the attack, and going down monotonically.
    attack = (times > start - attack_s - 0.02) & (times < start)
    assert np.all(np.diff(curve[attack]) <= 1e-12)
    crossing = times[np.flatnonzero(curve <= -7.0)[0]]
    assert crossing == pytest.approx(start - attack_s / 2, abs=0.03)
    # Back up within the release, gradually.
    assert -13.0 < _at(curve, end + 0.9) < -1.0
    assert np.all(curve[times >= end + 1.8 + 0.01] > -0.01)


@pytest.mark.parametrize(("gap_s", "bridged"), [(1.0, True), (3.0, True), (4.5, False),
                                                (12.0, False)])
def test_duck_bridges_short_gaps(gap_s: float, bridged: bool) -> None:
    settings = MixSettings(duck_bridge_s=3.5, duck_depth_db=14.0)
    first = _speech(8.0, 3.0)
    second = _speech(first.end_s + gap_s, 3.0)
    curve = duck_gain_db([first, second], second.end_s + 10.0, settings)
    gap = curve[round(first.end_s * CONTROL_HZ) : round(second.start_s * CONTROL_HZ) + 1]
    if bridged:
        np.testing.assert_allclose(gap, -14.0, atol=1e-9)
    else:
        assert gap.max() > -0.01  # the bed comes back between the runs
        np.testing.assert_allclose(_at(curve, second.start_s), -14.0, atol=1e-9)


# --- the mix -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mixed() -> dict[str, object]:
    """A tone voice (two 4 s sentences 10 s apart) over a white-noise bed, mixed twice."""
    settings = MixSettings()
    timeline = Timeline(events=(Speech("a", 1), Pause(10.0, "explicit", 2), Speech("b", 3)))
    voice, placements = place_speech(timeline, [_tone_clip(4.0), _tone_clip(4.0)], settings)
    rng = np.random.default_rng(7)
    bed = (0.1 * rng.standard_normal((len(voice) + SR, 2))).astype(np.float32)
    voice_meter, bed_meter = LoudnessMeter(SR, (2.0,)), LoudnessMeter(SR)  # voice centred
    voice_meter.add(voice)
    bed_meter.add(bed[: len(voice)])
    levels = StemLevels(voice_meter.integrated_lufs(), bed_meter.integrated_lufs())
    bed_gain_db = bed_level_db(levels, settings)
    control = duck_gain_db(placements, len(voice) / SR, settings) + bed_gain_db
    gain = bed_gain(control, 0, len(voice), len(voice), settings)
    full = mix_block(voice, bed[: len(voice)], gain)
    bed_only = mix_block(np.zeros_like(voice), bed[: len(voice)], gain)
    return {"settings": settings, "voice": voice, "placements": placements, "full": full,
            "bed_only": bed_only, "bed_gain_db": bed_gain_db}


def test_mix_adds_the_voice_unchanged_and_centred(mixed: dict) -> None:
    full, bed_only, voice = mixed["full"], mixed["bed_only"], mixed["voice"]
    assert full.shape == (len(voice), 2)
    assert full.dtype == np.float32
    np.testing.assert_allclose(full - bed_only, np.stack([voice, voice], axis=1), atol=1e-6)


def test_bed_alone_sits_bed_level_under_the_voice(mixed: dict) -> None:
    settings: MixSettings = mixed["settings"]
    voice_lufs = _lufs(mixed["voice"])
    first, second = mixed["placements"]
    lead_in = segment(mixed["bed_only"], SR, settings.fade_in_s + 0.2,
                      first.start_s - settings.duck_attack_s - 0.1)
    between = segment(mixed["bed_only"], SR, first.end_s + settings.duck_release_s + 0.1,
                      second.start_s - settings.duck_attack_s - 0.1)
    for alone in (lead_in, between):
        assert _lufs(alone) - voice_lufs == pytest.approx(settings.bed_level_db, abs=0.5)


def test_bed_under_speech_is_far_below_the_voice(mixed: dict) -> None:
    for placement in mixed["placements"]:
        bed = segment(mixed["bed_only"], SR, placement.start_s, placement.end_s)
        voice = segment(mixed["full"], SR, placement.start_s, placement.end_s) - bed
        assert _lufs(voice) - _lufs(bed) >= 20.0
        assert rms_db(voice) - rms_db(bed) >= 20.0


def test_fades_at_both_ends(mixed: dict) -> None:
    settings: MixSettings = mixed["settings"]
    full = mixed["full"]
    total_s = len(full) / SR
    steady_db = rms_db(segment(full, SR, 5.0, 7.0))
    assert rms_db(segment(full, SR, 0.0, 0.05)) < steady_db - 40
    assert rms_db(segment(full, SR, total_s - 0.05, total_s)) < steady_db - 40
    fade_in = [rms_db(segment(full, SR, t, t + 0.5))
               for t in np.arange(0.0, settings.fade_in_s, 0.5)]
    assert np.all(np.diff(fade_in) > 0), fade_in
    fade_out = [rms_db(segment(full, SR, t, t + 0.5))
                for t in np.arange(total_s - settings.fade_out_s, total_s - 0.25, 0.5)]
    assert np.all(np.diff(fade_out) < 0), fade_out
    # The fade-out starts where it should: full level just before it.
    before = rms_db(segment(full, SR, total_s - settings.fade_out_s - 1.0,
                            total_s - settings.fade_out_s))
    assert before == pytest.approx(steady_db, abs=0.3)


@pytest.mark.parametrize("rate", [44100, 48000])
def test_bed_power_is_the_mean_square_of_the_bed_gain_per_cell(rate: int) -> None:
    settings = MixSettings(sample_rate_hz=rate, fade_in_s=2.0, fade_out_s=3.0, tail_s=4.0,
                           duck_attack_s=0.3, duck_release_s=0.8)
    duration_s = 20.0
    frames = round(duration_s * rate)
    placements = [Placement(Speech("One.", 1), 3.0, 4.5), Placement(Speech("Two.", 2), 9.0, 5.0)]
    control = duck_gain_db(placements, duration_s, settings) - 12.0
    gain = bed_gain(control, 0, frames, frames, settings).astype(np.float64)
    cells = int(duration_s * 100) + 2  # two past the end: they hold the last gain
    power = bed_power(control, cells, frames, settings)
    edges = cell_edges(0, cells, rate)
    padded = np.concatenate([gain, np.full(edges[-1] - frames, gain[-1])])
    expected = np.add.reduceat(padded**2, edges[:-1]) / np.diff(edges)
    inside = slice(0, frames * 100 // rate)
    # The ducking is linear between points (the mean square differs from the frames' only as
    # a continuous ramp from its 441 samples), the fades by Simpson's rule over each cell;
    # atol: 60 dB under the bed's level. 1e-3 is 0.004 dB.
    np.testing.assert_allclose(power[inside], expected[inside], rtol=1e-3,
                               atol=1e-6 * expected.max())
    assert np.all(power[inside.stop + 1 :] == power[inside.stop + 1])
    # past the end, without a fade-out to hide it: the last control point's gain, squared
    no_fade = MixSettings(sample_rate_hz=rate, fade_in_s=2.0, fade_out_s=0.0, tail_s=4.0)
    held = bed_power(control, cells, frames, no_fade)
    last_gain = 10.0 ** (control[-1] / 20.0)
    assert held[-1] == pytest.approx(last_gain**2, rel=1e-12) and last_gain > 0.1
