"""The bed cache is bounded: whole beds go, least recently used first, past its cap."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from imr_audio.cli import cli
from imr_audio.soundscapes.bedcache import DEFAULT_MAX_BYTES, BedCache, segments_for
from imr_audio.soundscapes.catalog import SoundscapeCatalog
from imr_audio.workspace import Workspace

RATE = 8000
MINUTES = 3.0


def _use(cache: BedCache, name: str, seed: int = 0) -> np.ndarray:
    scape = SoundscapeCatalog.builtin().get(name)
    blocks = list(cache.blocks(name, scape, MINUTES * 60, RATE, seed))
    cache.cells(name, scape, MINUTES * 60, RATE, seed)
    return np.concatenate(blocks)


def _size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def _one_bed_bytes(tmp_path: Path) -> int:
    probe = BedCache(tmp_path / "probe")
    _use(probe, "rain")
    return _size(tmp_path / "probe")


def test_the_cap_holds_and_the_least_recently_used_bed_goes(tmp_path: Path) -> None:
    one = _one_bed_bytes(tmp_path)
    cache = BedCache(tmp_path / "beds", max_bytes=int(one * 2.5))
    _use(cache, "rain")
    time.sleep(0.05)
    _use(cache, "ocean")
    time.sleep(0.05)
    _use(cache, "rain")  # rain is used again: ocean is now the least recently used
    time.sleep(0.05)
    _use(cache, "wind")
    names = sorted(p.name.split("-s")[0] for p in (tmp_path / "beds").iterdir())
    assert names == ["rain", "wind"]
    assert _size(tmp_path / "beds") <= int(one * 2.5)
    info = cache.info()
    assert info.beds == 2 and info.max_bytes == int(one * 2.5)
    assert info.samples_bytes + info.cells_bytes == info.size_bytes
    assert 0 < info.cells_bytes < info.samples_bytes


def test_a_bed_over_the_cap_alone_keeps_only_its_cells_and_is_still_right(
    tmp_path: Path
) -> None:
    uncached = _use(BedCache(None), "stream")
    small = BedCache(tmp_path / "beds", max_bytes=1000)
    assert np.array_equal(_use(small, "stream"), uncached)
    (bed,) = (tmp_path / "beds").iterdir()
    assert all(f.name.endswith(".kw1.npy") for f in bed.iterdir())
    assert np.array_equal(_use(small, "stream"), uncached)  # made again, the same


def test_capped_uncapped_and_uncached_beds_are_the_same(tmp_path: Path) -> None:
    one = _one_bed_bytes(tmp_path)
    capped = BedCache(tmp_path / "capped", max_bytes=int(one * 1.5))
    free = BedCache(tmp_path / "free")
    for name in ("fire", "night", "fire"):
        assert np.array_equal(_use(capped, name), _use(free, name))
        assert np.array_equal(_use(capped, name), _use(BedCache(None), name))


def test_the_users_bed_cache_is_capped_and_cache_info_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMR_AUDIO_CACHE_DIR", str(tmp_path / "cache"))
    result = CliRunner().invoke(cli, ["cache", "info"])
    assert result.exit_code == 0, result.output
    assert (f"samples 0.0 KiB, loudness cells 0.0 KiB; at most {DEFAULT_MAX_BYTES // 2**20}.0 "
            "MiB, least recently used beds removed first") in result.output
    assert os.environ["IMR_AUDIO_CACHE_DIR"] == str(tmp_path / "cache")


class _CountingBed:
    """A built-in bed that counts how often it is made, and takes its time to start."""

    def __init__(self, name: str) -> None:
        self._bed = SoundscapeCatalog.builtin().get(name)
        self.info = self._bed.info
        self.made = 0
        self._lock = threading.Lock()

    def blocks(
        self, duration_s: float, sample_rate_hz: int, seed: int, block_frames: int = 65536
    ) -> Iterator[np.ndarray]:
        with self._lock:
            self.made += 1
        time.sleep(0.3)  # the other reader looks at the cache while this one is making it
        yield from self._bed.blocks(duration_s, sample_rate_hz, seed, block_frames)


def test_two_readers_of_a_missing_bed_make_it_once_and_get_the_same_samples(
    tmp_path: Path,
) -> None:
    cache = BedCache(tmp_path / "beds")
    bed = _CountingBed("rain")
    got: list[np.ndarray] = []

    def read() -> None:
        got.append(np.concatenate(list(cache.blocks("rain", bed, MINUTES * 60, RATE, 0))))

    readers = [threading.Thread(target=read) for _ in range(2)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    assert bed.made == 1
    uncached = np.concatenate(list(BedCache(None).blocks(
        "rain", SoundscapeCatalog.builtin().get("rain"), MINUTES * 60, RATE, 0)))
    assert len(got) == 2
    assert np.array_equal(got[0], uncached) and np.array_equal(got[1], uncached)
    assert not [p.name for p in (tmp_path / "beds").iterdir() if p.is_file()]  # no lock left


def test_a_bed_cache_that_cannot_be_written_still_gives_the_bed(tmp_path: Path) -> None:
    blocker = tmp_path / "beds"
    blocker.write_bytes(b"")  # a file where the cache's folder should be: nothing can be stored
    made = np.concatenate(list(BedCache(blocker).blocks(
        "rain", SoundscapeCatalog.builtin().get("rain"), 60.0, RATE, 0)))
    uncached = np.concatenate(list(BedCache(None).blocks(
        "rain", SoundscapeCatalog.builtin().get("rain"), 60.0, RATE, 0)))
    assert np.array_equal(made, uncached)
    assert blocker.is_file() and blocker.stat().st_size == 0


class _SlowBed(_CountingBed):
    """A built-in bed that takes 0.2 s over each of its blocks: slower than any speech here."""

    def blocks(
        self, duration_s: float, sample_rate_hz: int, seed: int, block_frames: int = 65536
    ) -> Iterator[np.ndarray]:
        self.made += 1
        for block in self._bed.blocks(duration_s, sample_rate_hz, seed, block_frames):
            time.sleep(0.2)
            yield block


def test_a_bed_made_ahead_stops_at_the_tracks_length_once_the_speech_says_it(
    test_workspace: Workspace, write_client, tmp_path: Path
) -> None:
    # A render makes its bed during the speech, long enough for speech 40 % longer than its
    # estimate plus a minute; once the speech is made and the track's length known, the bed
    # stops at the segments the track needs instead of making the margin too.
    from imr_audio.mixplan import bed_cache_key, bed_choice
    from imr_audio.script import prepare
    from imr_audio.track import RenderSettings, _bed_ahead

    workspace = test_workspace.derive(cache_dir=tmp_path / "cache")
    settings = RenderSettings()
    prepared = prepare(workspace, "mini", workspace.load_profile(write_client(tmp_path)),
                       settings.choices, settings.mix)
    rain = bed_choice(workspace, "rain", 0)
    bed = replace(rain, soundscape=_SlowBed("rain"))
    rate = settings.mix.sample_rate_hz
    with _bed_ahead(workspace, prepared, bed, settings) as bed_needed:
        time.sleep(0.5)  # the speech
        bed_needed(100.0)  # the track is 1:40 long: two segments
    folder = workspace.bed_cache.folder / f"{bed_cache_key(bed)}-s0-r{rate}-v1"  # type: ignore[operator]
    stored = sorted(p.name for p in folder.iterdir())
    assert stored == ["00000.kw1.npy", "00000.npy", "00001.kw1.npy", "00001.npy"]
    assert segments_for(prepared.estimated_duration_s * 1.4 + 60, rate) > 2
    # What the mix then reads is the bed as made in one go.
    ahead = np.concatenate(list(workspace.bed_cache.blocks(
        bed_cache_key(bed), bed.soundscape, 100.0, rate, 0)))
    made = np.concatenate(list(BedCache(None).blocks(
        bed_cache_key(bed), rain.soundscape, 100.0, rate, 0)))
    assert np.array_equal(ahead, made)
    # A warm render: what it needs is stored, so nothing is made again while it speaks.
    slow = _SlowBed("rain")
    with _bed_ahead(workspace, prepared, replace(rain, soundscape=slow), settings) as bed_needed:
        time.sleep(0.5)
        bed_needed(110.0)
    assert slow.made == 0
    # A longer track over the same bed: made from its start once its length is known.
    with _bed_ahead(workspace, prepared, replace(rain, soundscape=slow), settings) as bed_needed:
        bed_needed(130.0)
    assert slow.made == 1
    assert len(list(folder.glob("*.npy"))) == 6  # three segments, each with its cells
