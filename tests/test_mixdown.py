"""Block-by-block mixing, mastering and export; the bed cache. Synthetic speech, real encoders."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyloudnorm as pyln
import pytest
import scipy.signal
import soundfile as sf

from imr_audio.audio import Clip
from imr_audio.export import ExportSettings, TrackTags, decode_audio
from imr_audio.master import MasterSettings, true_peak_dbtp
from imr_audio.meter import KWeighting, cell_edges
from imr_audio.mix import (
    MixSettings,
    StemLevels,
    bed_gain,
    bed_level_db,
    duck_gain_db,
    layout_speech,
    mix_block,
    place_speech,
)
from imr_audio.mixdown import mixdown
from imr_audio.mixplan import BedChoice, MixPlan, bed_key
from imr_audio.soundscapes.bedcache import BedCache, quantise
from imr_audio.soundscapes.catalog import SoundscapeCatalog
from imr_audio.timeline import Pause, Speech, Timeline, Tone

SR = 44100
CATALOG = SoundscapeCatalog.builtin()
MIX = MixSettings(lead_in_s=2.0, tail_s=4.0, fade_in_s=1.0, fade_out_s=3.0)


def _speechlike(duration_s: float, seed: int, rate: int = 22050) -> Clip:
    """Noise shaped into syllables (4 per second), a stand-in for a speech clip."""
    rng = np.random.default_rng(seed)
    n = round(duration_s * rate)
    envelope = np.abs(np.sin(np.pi * 4 * np.arange(n) / rate)) ** 2
    return Clip((rng.standard_normal(n) * 0.2 * envelope).astype(np.float32), rate)


def _timeline(sentences: int) -> tuple[Timeline, list[Clip]]:
    events: list[object] = []
    clips = []
    for number in range(sentences):
        events += [Speech(f"Sentence {number}.", number + 1), Pause(1.5, "sentence", number + 1)]
        clips.append(_speechlike(2.0 + (number % 3) * 0.7, seed=number))
        if number == 2:
            events += [Tone("in", 4.0, number + 1), Pause(1.0, "explicit", number + 1)]
    return Timeline(events=tuple(events)), clips  # type: ignore[arg-type]


def test_the_layout_renders_in_blocks_as_in_one_piece() -> None:
    timeline, clips = _timeline(6)
    layout, placements = layout_speech(timeline, clips, MIX)
    whole, whole_placements = place_speech(timeline, clips, MIX)
    assert placements == whole_placements
    assert layout.frames == len(whole)
    parts = [layout.render(start, min(start + 7919, layout.frames))
             for start in range(0, layout.frames, 7919)]
    assert np.array_equal(np.concatenate(parts), whole)


def _plan(sentences: int) -> MixPlan:
    """The plan of ``sentences`` speech-like clips over the rain bed (seed 5), no chapters."""
    timeline, clips = _timeline(sentences)
    layout, placements = layout_speech(timeline, clips, MIX)
    return MixPlan(layout, placements, (), BedChoice(CATALOG.get("rain"), 5, "rain", {}), MIX)


def _mixdown(path: Path, export: ExportSettings, beds: BedCache | None, sentences: int = 8):
    return mixdown(_plan(sentences), MasterSettings(), export, path, TrackTags(title="Test"),
                   beds=beds)


def test_a_mixdown_meets_the_targets_measured_independently(tmp_path: Path) -> None:
    done = _mixdown(tmp_path / "out.wav", ExportSettings(format="wav"),
                    BedCache(tmp_path / "beds"))
    audio, rate = sf.read(str(done.exported.path), dtype="float32", always_2d=True)
    assert rate == SR and audio.shape[1] == 2
    assert done.exported.duration_s == pytest.approx(len(audio) / SR, abs=1e-9)
    lufs = pyln.Meter(SR).integrated_loudness(audio.astype(np.float64))
    assert lufs == pytest.approx(-18.0, abs=0.2)
    assert done.exported.loudness.integrated_lufs == pytest.approx(lufs, abs=0.01)
    assert true_peak_dbtp(audio, SR) <= -1.0
    assert done.exported.loudness.true_peak_dbtp == pytest.approx(true_peak_dbtp(audio, SR),
                                                                   abs=0.01)
    # the bed is there in the lead-in, 10 LU or so under the voice in the whole mix
    assert np.abs(audio[int(1.5 * SR) : int(1.9 * SR)]).max() > 1e-4
    assert done.bed_gain_db == pytest.approx(
        done.levels.voice_lufs + MIX.bed_level_db - done.levels.bed_lufs)


@pytest.mark.parametrize("channels", [2, 1])
def test_the_mix_loudness_from_the_stems_equals_the_mixed_signals(tmp_path: Path,
                                                                  channels: int) -> None:
    beds = BedCache(tmp_path / "beds")
    done = _mixdown(tmp_path / "out.wav", ExportSettings(format="wav", channels=channels), beds)
    # the same mix made whole, the old way, and measured with pyloudnorm
    timeline, clips = _timeline(8)
    voice, placements = place_speech(timeline, clips, MIX)
    key = bed_key({"name": "rain"})
    bed = np.concatenate(list(beds.blocks(key, CATALOG.get("rain"), len(voice) / SR, SR, 5)))
    meter = pyln.Meter(SR)  # the reference: pyloudnorm on whole signals (voice centred)
    levels = StemLevels(meter.integrated_loudness(np.stack([voice, voice], axis=1).astype(float)),
                        meter.integrated_loudness(bed.astype(np.float64)))
    assert levels.voice_lufs == pytest.approx(done.levels.voice_lufs, abs=1e-3)
    assert levels.bed_lufs == pytest.approx(done.levels.bed_lufs, abs=1e-3)
    control = duck_gain_db(placements, len(voice) / SR, MIX) + bed_level_db(levels, MIX)
    mixed = mix_block(voice, bed, bed_gain(control, 0, len(voice), len(voice), MIX))
    if channels == 1:
        mixed = np.concatenate([mixed.mean(axis=1, keepdims=True)] * 2, axis=1)  # dual mono
    measured = pyln.Meter(SR).integrated_loudness(mixed.astype(np.float64))
    assert done.mix_lufs == pytest.approx(measured, abs=0.02)
    assert done.attempts == 1


def test_mono_48k_opus_is_conformed_while_streaming(tmp_path: Path) -> None:
    done = _mixdown(tmp_path / "out.opus", ExportSettings(format="opus", channels=1),
                    BedCache(tmp_path / "beds"))
    audio, rate = decode_audio(done.exported.path)
    assert rate == 48000 and audio.shape[1] == 1
    assert len(audio) / rate == pytest.approx(done.exported.duration_s, abs=0.03)
    # Mastered as heard on two ears: -18 LUFS as dual mono, so 3 LU lower as one channel.
    dual = np.concatenate([audio, audio], axis=1).astype(np.float64)
    assert pyln.Meter(rate).integrated_loudness(dual) == pytest.approx(-18.0, abs=0.3)
    single = pyln.Meter(rate).integrated_loudness(audio.astype(np.float64))
    assert single == pytest.approx(-21.0, abs=0.3)
    assert done.exported.loudness.integrated_lufs == pytest.approx(-18.0, abs=0.2)


def test_the_same_inputs_give_the_same_bytes_with_a_cold_or_warm_bed_cache(
    tmp_path: Path,
) -> None:
    beds = BedCache(tmp_path / "beds")
    first = _mixdown(tmp_path / "a.mp3", ExportSettings(format="mp3"), beds)
    assert beds.info().beds == 1
    second = _mixdown(tmp_path / "b.mp3", ExportSettings(format="mp3"), beds)
    third = _mixdown(tmp_path / "c.mp3", ExportSettings(format="mp3"), None)
    data = first.exported.path.read_bytes()
    assert data == second.exported.path.read_bytes() == third.exported.path.read_bytes()


def test_without_a_bed_cache_the_stems_are_removed(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    _mixdown(tmp_path / "out.wav", ExportSettings(format="wav"), None, sentences=3)
    assert list(scratch.iterdir()) == []
    # also when the render fails half-way (an unwritable destination)
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder should be")
    with pytest.raises(Exception):  # noqa: B017 - any failure; the point is the clean-up
        _mixdown(blocked / "out.wav", ExportSettings(format="wav"), None, sentences=3)
    assert list(scratch.iterdir()) == []


# --- the bed cache -------------------------------------------------------------------------


def test_cached_beds_are_the_rendered_bed_at_float16(tmp_path: Path) -> None:
    cache = BedCache(tmp_path / "beds")
    scape = CATALOG.get("ocean")
    fresh = quantise(np.concatenate(list(scape.blocks(70.3, SR, 2))))
    for _ in range(2):  # rendered and stored, then read back
        blocks = list(cache.blocks("k", scape, 70.3, SR, 2, 65536))
        assert all(len(b) == 65536 for b in blocks[:-1])
        assert np.array_equal(np.concatenate(blocks), fresh)
    stored = sorted((tmp_path / "beds").rglob("*.npy"))
    assert len(stored) == 2  # whole minutes: 0-60 s and 60-120 s
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in stored)
    assert all(p.stat().st_mode & 0o777 == 0o700 for p in {s.parent for s in stored})


def test_a_stored_bed_is_read_without_rendering(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    cache = BedCache(tmp_path / "beds")
    scape = CATALOG.get("rain")
    first = np.concatenate(list(cache.blocks("k", scape, 20.0, SR, 1)))

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("rendered again")

    monkeypatch.setattr(type(scape), "blocks", refuse)
    again = np.concatenate(list(cache.blocks("k", scape, 20.0, SR, 1)))
    assert np.array_equal(first, again)


def test_a_damaged_segment_is_rendered_again(tmp_path: Path) -> None:
    cache = BedCache(tmp_path / "beds")
    scape = CATALOG.get("stream")
    first = np.concatenate(list(cache.blocks("k", scape, 65.0, SR, 0)))
    damaged = sorted((tmp_path / "beds").rglob("*.npy"))[1]
    damaged.write_bytes(b"not a numpy file")
    again = np.concatenate(list(cache.blocks("k", scape, 65.0, SR, 0)))
    assert np.array_equal(first, again)
    assert np.load(damaged).dtype == np.float16  # stored anew


def test_seeds_rates_and_keys_are_kept_apart_and_cleared(tmp_path: Path) -> None:
    cache = BedCache(tmp_path / "beds")
    scape = CATALOG.get("rain")
    a = np.concatenate(list(cache.blocks("k", scape, 5.0, SR, 1)))
    b = np.concatenate(list(cache.blocks("k", scape, 5.0, SR, 2)))
    c = np.concatenate(list(cache.blocks("k", scape, 5.0, 48000, 1)))
    assert not np.array_equal(a, b) and len(c) == 5 * 48000
    assert cache.info().beds == 3 and cache.info().size_bytes > 0
    assert cache.clear() == 3
    assert not (tmp_path / "beds").exists()
    assert not BedCache(None).info().beds
    assert list(BedCache(None).blocks("k", scape, 1.0, SR, 1))  # nothing stored, still a bed


def _k_weighted_cells(bed: np.ndarray) -> np.ndarray:
    """The bed's cell energies worked out independently: pyloudnorm's filters in float64."""
    meter = pyln.Meter(SR)
    weighted = bed.astype(np.float64)
    for stage in meter._filters.values():
        weighted = stage.passband_gain * scipy.signal.lfilter(stage.b, stage.a, weighted, axis=0)
    edges = cell_edges(0, len(bed) * 100 // SR, SR)
    left, right = weighted[:, 0], weighted[:, 1]
    return np.stack([np.add.reduceat(x, edges[:-1])
                     for x in (left * left, right * right, left * right)], axis=1)


def test_a_beds_cell_energies_are_its_k_weighted_energies_and_are_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = BedCache(tmp_path / "beds")
    scape = CATALOG.get("ocean")
    cells = cache.cells("k", scape, 70.3, SR, 2)
    assert cells.shape == (12000, 3)  # two whole minutes of 10 ms cells
    bed = np.concatenate(list(cache.blocks("k", scape, 120.0, SR, 2)))
    expected = _k_weighted_cells(bed)
    # The cells come from the rendered float32 bed through the float32 meter, the expected
    # figures from the float16 segments read back through float64 filters: the largest of 36000
    # cells differs by 0.75-1.12 times 1e-4 of the largest cell (measured on ocean, seeds 0-2,
    # with the beds before and after the speed-ups; the old ocean passed at seed 2 with 0.93 and
    # failed at seed 0 with 1.12), so the bound is 2e-4.
    np.testing.assert_allclose(cells, expected, rtol=0, atol=2e-4 * np.abs(expected).max())
    assert (cells[:, 0] > 0).all() and (cells[:, 1] > 0).all()
    stored = sorted((tmp_path / "beds").rglob("*.kw1.npy"))
    assert len(stored) == 2 and all(p.stat().st_mode & 0o777 == 0o600 for p in stored)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("worked out again")

    monkeypatch.setattr(type(scape), "blocks", refuse)
    monkeypatch.setattr(KWeighting, "rows", refuse)
    assert np.array_equal(cache.cells("k", scape, 70.3, SR, 2), cells)  # read back


def test_missing_or_damaged_cell_energies_are_worked_out_again(tmp_path: Path) -> None:
    cache = BedCache(tmp_path / "beds")
    scape = CATALOG.get("stream")
    first = cache.cells("k", scape, 125.0, SR, 0)
    stored = sorted((tmp_path / "beds").rglob("*.kw1.npy"))
    stored[1].write_bytes(b"not a numpy file")
    stored[2].unlink()  # as in a cache written before cell energies were stored
    again = cache.cells("k", scape, 125.0, SR, 0)
    assert np.array_equal(first, again)  # the filter ran from the bed's start again
    assert np.array_equal(np.load(stored[1]), first[6000:12000])
    assert stored[2].is_file()
    # a shorter bed of the same key is the same bed: its cells are the first ones
    assert np.array_equal(cache.cells("k", scape, 30.0, SR, 0), first[:6000])


def test_prefetched_blocks_keep_order_raise_errors_and_stop_early() -> None:
    from imr_audio.mixdown import _prefetched

    blocks = [np.full((3, 2), i, dtype=np.float32) for i in range(50)]
    assert [int(b[0, 0]) for b in _prefetched(iter(blocks), depth=2)] == list(range(50))

    def failing() -> Iterator[np.ndarray]:
        yield blocks[0]
        raise ValueError("unreadable bed segment")

    with pytest.raises(ValueError, match="unreadable bed segment"):
        list(_prefetched(failing()))
    # a consumer that stops early does not leave the producer (or itself) waiting
    stream = _prefetched(iter(blocks), depth=1)
    assert int(next(stream)[0, 0]) == 0
    stream.close()


def test_a_loud_target_that_the_limiter_fights_is_still_met(tmp_path: Path) -> None:
    # Regression: at a loud target the limiter took back about half of each gain step, and three
    # encodings corrected only by the shortfall missed the target (-12.7 LUFS for a real track).
    done = mixdown(_plan(8), MasterSettings(target_lufs=-10.0), ExportSettings(format="wav"),
                   tmp_path / "loud.wav", TrackTags(title="Test"), beds=BedCache(tmp_path / "beds"))
    audio, rate = sf.read(str(done.exported.path), dtype="float32", always_2d=True)
    assert pyln.Meter(rate).integrated_loudness(audio.astype(np.float64)) == pytest.approx(
        -10.0, abs=0.2)
    assert true_peak_dbtp(audio, rate) <= -1.0
    assert done.attempts >= 2  # the first, one-shot gain did miss: the limiter was at work
