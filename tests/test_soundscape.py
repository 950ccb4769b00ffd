"""Tests for the procedural soundscape beds (imr_audio.soundscape / imr_audio.soundscapes)."""

from __future__ import annotations

import functools
import tracemalloc

import numpy as np
import pyloudnorm as pyln
import pytest
from numpy.typing import NDArray
from scipy import signal, stats

from imr_audio.errors import UnknownSoundscapeError
from imr_audio.soundscapes import base
from imr_audio.soundscapes.base import SoundscapeInfo
from imr_audio.soundscapes.catalog import SoundscapeCatalog

CATALOG = SoundscapeCatalog.builtin()
get_soundscape, render_soundscape, soundscape_names = CATALOG.get, CATALOG.render, CATALOG.names

NAMES = ["ocean", "rain"]
# Every bed at its default intensity, and the built-in presets: the fast suite's full battery.
BEDS = ["brown-noise", "fire", "forest", "night", "ocean", "pink-noise", "rain", "stream", "wind"]
PRESETS = ["forest-stream", "rain-on-fire"]
STEADY = BEDS + PRESETS
# The light and heavy intensities: the same battery, in the slow suite.
VARIANTS = [
    f"{bed}-{intensity}"
    for bed in ("fire", "forest", "night", "ocean", "rain", "stream", "wind")
    for intensity in ("light", "heavy")
]
EVERY = [
    *STEADY,
    *(pytest.param(name, marks=pytest.mark.slow) for name in VARIANTS),
]
LONG_S = {"ocean": 60.0, "rain": 60.0}  # the original beds' character tests use a minute
SR = 44100
Audio = NDArray[np.float32]


@functools.cache
def _render(name: str, duration_s: float, seed: int = 0, sr: int = SR) -> Audio:
    audio = render_soundscape(name, duration_s, sr, seed)
    audio.flags.writeable = False  # shared between tests
    return audio


def _long(name: str) -> Audio:
    """The shared render of ``name`` (seed 0) most tests measure: 30 s (a minute for two)."""
    return _render(name, LONG_S.get(name, 30.0))


def _frame_rms(audio: Audio, frame_s: float, sr: int = SR) -> NDArray[np.float64]:
    """RMS of the mono-summed power in consecutive frames of ``frame_s`` seconds."""
    n = round(frame_s * sr)
    k = len(audio) // n
    power = (audio[: k * n].astype(np.float64) ** 2).mean(axis=1)
    return np.sqrt(power.reshape(k, n).mean(axis=1))


def _smoothed_range_db(audio: Audio) -> float:
    """Max/min ratio in dB of the 1 s moving-average power (100 ms hops)."""
    power = _frame_rms(audio, 0.1) ** 2
    smooth = np.convolve(power, np.ones(10) / 10, mode="valid")
    return float(10 * np.log10(smooth.max() / smooth.min()))


def _centroid_hz(audio: Audio, sr: int = SR) -> float:
    f, p = signal.welch(audio.astype(np.float64).mean(axis=1), sr, nperseg=8192)
    return float((f * p).sum() / p.sum())


# --- API -----------------------------------------------------------------------------------------


def test_names_are_sorted_and_include_every_bed_intensity_and_preset() -> None:
    names = soundscape_names()
    assert names == sorted(names)
    assert set(NAMES) <= set(names)
    assert set(STEADY) | set(VARIANTS) == set(names)


@pytest.mark.parametrize("name", [*STEADY, *VARIANTS])
def test_every_name_has_a_one_line_description_and_lowercase_themes(name: str) -> None:
    info = get_soundscape(name).info
    assert info.name == name
    assert info.description and "\n" not in info.description
    assert all(t == t.lower() for t in info.themes)
    assert bool(info.layers) == (name in PRESETS)


@pytest.mark.parametrize("name", NAMES)
def test_info_describes_the_bed(name: str) -> None:
    info = get_soundscape(name).info
    assert isinstance(info, SoundscapeInfo)
    assert info.name == name
    assert info.description and "\n" not in info.description
    assert "water" in info.themes and all(t == t.lower() for t in info.themes)


def test_unknown_name_lists_valid_names() -> None:
    with pytest.raises(UnknownSoundscapeError) as caught:
        get_soundscape("x")
    assert str(caught.value) == (
        f"unknown soundscape 'x'; choose one of: {', '.join(soundscape_names())}, "
        "or give an audio file"
    )
    assert "ocean, ocean-heavy" in str(caught.value)
    with pytest.raises(UnknownSoundscapeError):
        render_soundscape("thunder", 1.0)


def test_a_name_taken_twice_fails() -> None:
    rain = get_soundscape("rain")
    with pytest.raises(ValueError, match="given twice: rain"):
        SoundscapeCatalog([rain, rain])
    with pytest.raises(ValueError, match="already taken: rain"):
        SoundscapeCatalog([rain], [rain])


@pytest.mark.parametrize(
    ("duration_s", "sr", "block_frames", "seed"),
    [
        (-1.0, SR, 1024, 0),
        (float("nan"), SR, 1024, 0),
        (1.0, 4000, 1024, 0),
        (1.0, SR, 0, 0),
        (1.0, SR, 1024, -1),
    ],
)
def test_bad_arguments_raise_at_call(
    duration_s: float, sr: int, block_frames: int, seed: int
) -> None:
    with pytest.raises(ValueError):
        get_soundscape("rain").blocks(duration_s, sr, seed, block_frames)


# --- shape, determinism, seamlessness ------------------------------------------------------------


@pytest.mark.parametrize("sr", [44100, 48000])
@pytest.mark.parametrize("name", EVERY)
def test_shape_dtype_and_frame_count(name: str, sr: int) -> None:
    audio = render_soundscape(name, 3.3, sr, seed=5)
    assert audio.dtype == np.float32
    assert audio.shape == (round(3.3 * sr), 2)
    assert np.isfinite(audio).all()
    blocks = list(get_soundscape(name).blocks(3.3, sr, 5, block_frames=10000))
    assert all(b.dtype == np.float32 and b.ndim == 2 and b.shape[1] == 2 for b in blocks)
    assert [len(b) for b in blocks[:-1]] == [10000] * (len(blocks) - 1)
    assert sum(len(b) for b in blocks) == round(3.3 * sr)
    assert render_soundscape(name, 0.0, sr).shape == (0, 2)


@pytest.mark.parametrize("name", EVERY)
def test_deterministic_for_a_seed_and_different_across_seeds(name: str) -> None:
    a = render_soundscape(name, 3.0, SR, seed=11)
    assert np.array_equal(a, render_soundscape(name, 3.0, SR, seed=11))
    b = render_soundscape(name, 3.0, SR, seed=12)
    assert not np.array_equal(a, b)
    assert abs(np.corrcoef(a[:, 0], b[:, 0])[0, 1]) < 0.2  # unrelated, not a shifted copy
    assert not np.array_equal(a, render_soundscape(name, 3.0, 48000, seed=11)[: len(a)])


@pytest.mark.parametrize("name", EVERY)
def test_prefix_is_the_same_whatever_the_duration(name: str) -> None:
    long = _long(name)
    short = render_soundscape(name, 7.0, SR, 0)
    assert np.array_equal(short, long[: len(short)])


@pytest.mark.parametrize("name", EVERY)
def test_independent_of_block_frames(name: str) -> None:
    whole = _long(name)[: 10 * SR]  # the default blocks (65536), by the prefix property
    blocks = get_soundscape(name).blocks(10.0, SR, 0, block_frames=777)
    assert np.array_equal(np.concatenate(list(blocks)), whole)


@pytest.mark.parametrize("name", EVERY)
def test_independent_of_internal_chunk_size(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Filter states, drop tails and wave envelopes carry across chunks exactly, so cutting the
    # stream into other chunks gives the same samples (any seam error would show up here).
    reference = _long(name)[: 10 * SR]
    monkeypatch.setattr(base, "CHUNK_FRAMES", 4099)
    np.testing.assert_allclose(render_soundscape(name, 10.0, SR, 0), reference, atol=1e-6)


def _joins_look_like_elsewhere(audio: Audio, joins: NDArray[np.int64]) -> None:
    """Assert the steps and 10 ms levels at ``joins`` are like those anywhere else."""
    steps = np.abs(np.diff(audio.astype(np.float64), axis=0))
    at_joins = steps[joins - 1]  # step from the last frame of one piece to the first of the next
    elsewhere = np.delete(steps, joins - 1, axis=0)
    p999 = np.percentile(elsewhere, 99.9)
    # A seamless stream's join steps are ordinary steps: on average like the rest, and even the
    # largest below the level that 1 % of such sets would reach by chance. The 99.9th
    # percentile is passed by chance by one of ~80 join steps in about 8 % of beds, by three in
    # 1 of 10000 (a 30 s bed has 40 joins on each side).
    assert at_joins.mean() < 1.3 * elsewhere.mean()
    assert at_joins.max() < np.percentile(elsewhere, 100 * (1 - 0.01 / at_joins.size))
    assert np.count_nonzero(at_joins > p999) <= max(2, 0.01 * at_joins.size)
    # the 10 ms level across each join stays within the bed's own range of 10 ms levels
    n = round(0.01 * SR)
    level = _frame_rms(audio, 0.01)
    across = np.array(
        [np.sqrt(np.mean(audio[j - n // 2 : j + n // 2].astype(np.float64) ** 2)) for j in joins]
    )
    assert np.all(across > 0.5 * np.percentile(level, 0.5))
    assert np.all(across < 2.0 * np.percentile(level, 99.5))


@pytest.mark.parametrize("name", EVERY)
def test_no_clicks_at_chunk_or_block_boundaries(name: str) -> None:
    audio = _long(name)
    # blocks are exact slices of one stream (test_independent_of_block_frames), so the joins
    # to check are the engine's internal chunks
    joins = np.arange(base.CHUNK_FRAMES, len(audio), base.CHUNK_FRAMES)
    _joins_look_like_elsewhere(audio, joins)


# Beds whose design has sharp, sparse transients (a fire's crackles) reach steps well beyond the
# 99.9th percentile of their smooth flame; every other bed stays within 4 times it.
_TRANSIENT_STEP_LIMIT = {"fire": 8.0, "rain-on-fire": 8.0, "fire-light": 8.0, "fire-heavy": 8.0}


@pytest.mark.parametrize("name", EVERY)
def test_no_step_stands_out_anywhere(name: str) -> None:
    steps = np.abs(np.diff(_long(name).astype(np.float64), axis=0))
    assert steps.max() < _TRANSIENT_STEP_LIMIT.get(name, 4.0) * np.percentile(steps, 99.9)


# The forest holds more at a time (a bird phrase's 2 s buffer, the leaves' drop batches): a
# fixed 15-18 MB, below 2/3 of an 80 s bed, and the same for an hour.
@pytest.mark.parametrize(("name", "share"), [("rain", 0.5), ("ocean", 0.5), ("forest", 0.67)])
def test_block_by_block_memory_does_not_grow_with_duration(name: str, share: float) -> None:
    peaks = []
    for duration_s in (10.0, 80.0):
        tracemalloc.start()
        try:
            blocks = get_soundscape(name).blocks(duration_s, SR, 0, 8192)
            frames = sum(len(b) for b in blocks)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
        assert frames == round(duration_s * SR)
    whole_bytes = round(80.0 * SR) * 2 * 4
    assert peaks[1] < 1.2 * peaks[0] + 1e6
    assert peaks[1] < whole_bytes * share


# --- level and stereo ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", EVERY)
def test_loudness_near_minus_30_lufs_for_every_seed_with_headroom(name: str) -> None:
    meter = pyln.Meter(SR)
    loudness = []
    for seed in (0, 1, 2):
        audio = _long(name) if seed == 0 else _render(name, 30.0, seed)
        audio = audio[: 30 * SR]
        loudness.append(meter.integrated_loudness(audio.astype(np.float64)))
        oversampled = signal.resample_poly(audio.astype(np.float64), 4, 1, axis=0)
        assert 20 * np.log10(np.abs(oversampled).max()) < -6.0
    assert all(-31.0 < value < -29.0 for value in loudness), loudness
    assert max(loudness) - min(loudness) < 1.0, loudness


@pytest.mark.parametrize("name", EVERY)
def test_stereo_is_wide_but_one_space_and_has_no_dc(name: str) -> None:
    audio = _long(name).astype(np.float64)
    correlation = np.corrcoef(audio[:, 0], audio[:, 1])[0, 1]
    assert 0.1 < correlation < 0.9
    assert np.all(np.abs(audio.mean(axis=0)) < 1e-3 * audio.std(axis=0))


# --- character -----------------------------------------------------------------------------------


def test_rain_is_brighter_than_ocean() -> None:
    rain, ocean = _centroid_hz(_render("rain", 60.0)), _centroid_hz(_render("ocean", 60.0))
    assert rain > 2500.0
    assert ocean < 800.0
    assert rain > 3 * ocean


def test_ocean_swells_slowly_and_irregularly() -> None:
    audio = _render("ocean", 60.0)
    envelope = _frame_rms(audio, 0.1)
    spectrum = np.abs(np.fft.rfft(envelope - envelope.mean())) ** 2
    freqs = np.fft.rfftfreq(len(envelope), 0.1)
    in_band = spectrum[(freqs >= 0.05) & (freqs <= 0.25)].sum() / spectrum[freqs > 0].sum()
    assert in_band > 0.6
    assert _smoothed_range_db(audio) > 6.0
    # crests 6-12 s apart, never a fixed period
    smooth_db = 10 * np.log10(np.convolve(envelope**2, np.ones(15) / 15, mode="same"))
    crests, _ = signal.find_peaks(smooth_db, distance=40, prominence=3.0)
    intervals = np.diff(crests) * 0.1
    assert len(intervals) >= 3
    assert 6.0 <= intervals.mean() <= 12.0 and intervals.min() > 4.0 and intervals.max() < 14.0
    assert intervals.std() > 0.4
    # each side swells with its own timing and size (identical swells would correlate ~0.995)
    sides_db = np.stack([20 * np.log10(_frame_rms(audio[:, [c, c]], 0.5)) for c in (0, 1)])
    assert np.corrcoef(sides_db)[0, 1] < 0.98
    assert np.std(sides_db[0] - sides_db[1]) > 0.6


def test_ocean_gets_brighter_at_the_crest() -> None:
    audio = _render("ocean", 60.0)
    envelope = _frame_rms(audio, 1.0)
    loud, quiet = np.argsort(envelope)[-8:], np.argsort(envelope)[:8]
    centroids = [_centroid_hz(audio[i * SR : (i + 1) * SR]) for i in range(len(envelope))]
    assert np.mean([centroids[i] for i in loud]) > 1.2 * np.mean([centroids[i] for i in quiet])


def test_rain_is_steady_with_soft_drop_transients() -> None:
    audio = _render("rain", 60.0)
    assert _smoothed_range_db(audio) < 3.0
    high = signal.butter(4, 2000.0, "highpass", fs=SR, output="sos")
    excess = stats.kurtosis(signal.sosfilt(high, audio[:, 0].astype(np.float64)))
    gaussian = stats.kurtosis(
        signal.sosfilt(high, np.random.default_rng(0).standard_normal(len(audio)))
    )
    assert abs(gaussian) < 0.1
    assert excess > 1.0
    # onsets in the 5 ms envelope: a few audible drops per second, not a crackle
    env = 20 * np.log10(_frame_rms(audio, 0.005))
    onsets = np.flatnonzero((env[1:] - np.median(env) > 4.0) & (env[:-1] - np.median(env) <= 4.0))
    assert 0.5 < len(onsets) / 60.0 < 20.0
