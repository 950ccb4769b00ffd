"""The speech cache: hits and misses with the real engine, damage, privacy, and whole renders."""

from __future__ import annotations

import dataclasses
import fcntl
import json
import logging
import os
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import platformdirs
import pytest
from click.testing import CliRunner

from imr_audio import track as render_module
from imr_audio.audio import Clip
from imr_audio.cli import cli
from imr_audio.export import ExportSettings
from imr_audio.progress import ProgressCallback
from imr_audio.secret import InstallationKey
from imr_audio.track import RenderResult, RenderSettings
from imr_audio.voice import Pyttsx3Engine, SpeechRequest, VoiceInfo, VoiceSettings
from imr_audio.voice.cache import CachedEngine, SpeechCache, speech_key
from imr_audio.workspace import CACHE_DIR_ENV, Workspace

VOICE = VoiceSettings(engine="pyttsx3", voice_id="gmw/en", rate_wpm=130, pitch=40)
TEXTS = ["Notice the ground beneath your feet.", "Breathe.", "Hello there, Robin."]
REQUESTS = [SpeechRequest(text, line) for line, text in enumerate(TEXTS, start=1)]


class SpyEngine:
    """Passes requests to a real engine and remembers them."""

    def __init__(self, inner: Pyttsx3Engine) -> None:
        self.inner = inner
        self.name = inner.name
        self.version = inner.version
        self.requests: list[SpeechRequest] = []

    def voices(self) -> list[VoiceInfo]:
        return self.inner.voices()

    def synthesize(self, requests: Sequence[SpeechRequest], settings: VoiceSettings,
                   progress: ProgressCallback | None = None) -> list[Clip]:
        self.requests.extend(requests)
        return self.inner.synthesize(requests, settings, progress)

    def close(self) -> None:
        pass  # the module's engine is closed by its fixture


@pytest.fixture(scope="module")
def engine() -> Iterator[Pyttsx3Engine]:
    with Pyttsx3Engine() as engine:
        yield engine


@pytest.fixture
def spy(engine: Pyttsx3Engine) -> SpyEngine:
    return SpyEngine(engine)


@pytest.fixture
def key(installation_key_file: Path) -> InstallationKey:
    return InstallationKey(installation_key_file)


@pytest.fixture
def cache(tmp_path: Path, key: InstallationKey) -> SpeechCache:
    return SpeechCache(tmp_path / "speech", key)


def _tone(n: int = 4410) -> Clip:
    return Clip((np.sin(np.arange(n) / 10) * 0.5).astype(np.float32), 22050)


def _assert_same(a: list[Clip], b: list[Clip]) -> None:
    assert len(a) == len(b)
    for one, two in zip(a, b):
        assert one.sample_rate_hz == two.sample_rate_hz
        assert one.samples.dtype == two.samples.dtype == np.float32
        assert np.array_equal(one.samples, two.samples)


# --- hits and misses (real engine) ---------------------------------------------------------


def test_second_synthesis_is_answered_from_the_cache(spy: SpyEngine, cache: SpeechCache) -> None:
    cached = CachedEngine(spy, cache, owner="t-017")
    first = cached.synthesize(REQUESTS, VOICE)
    assert len(spy.requests) == 3
    second = cached.synthesize(REQUESTS, VOICE)
    assert len(spy.requests) == 3  # no engine call at all
    _assert_same(first, second)
    # A new CachedEngine over the same folder (a later render) hits as well.
    later = SpeechCache(cache.folder, cache.key)
    third = CachedEngine(spy, later).synthesize(REQUESTS[::-1], VOICE)
    assert len(spy.requests) == 3
    _assert_same(first[::-1], third)
    assert cache.info().entries == 3


def test_changed_rate_or_text_misses(spy: SpyEngine, cache: SpeechCache) -> None:
    cached = CachedEngine(spy, cache)
    cached.synthesize(REQUESTS[:1], VOICE)
    slower = dataclasses.replace(REQUESTS[0], rate_wpm=100)
    other = SpeechRequest("Notice the ground beneath your hands.", 1)
    spy.requests.clear()
    clips = cached.synthesize([REQUESTS[0], slower, other], VOICE)
    assert spy.requests == [slower, other]
    assert clips[1].duration_s > clips[0].duration_s
    spy.requests.clear()
    cached.synthesize(REQUESTS[:1], dataclasses.replace(VOICE, rate_wpm=150))
    assert spy.requests == REQUESTS[:1]


def test_a_repeated_text_is_synthesised_once(spy: SpyEngine, cache: SpeechCache) -> None:
    clips = CachedEngine(spy, cache).synthesize([REQUESTS[1], REQUESTS[1]], VOICE)
    assert len(spy.requests) == 1
    _assert_same(clips[:1], clips[1:])


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


DAMAGE = {
    "flipped-samples": lambda npy, meta: _flip(npy),
    "truncated-samples": lambda npy, meta: _truncate(npy),
    "missing-samples": lambda npy, meta: npy.unlink(),
    "broken-json": lambda npy, meta: meta.write_text("{not json", encoding="utf-8"),
    "wrong-length": lambda npy, meta: meta.write_text(
        json.dumps({**json.loads(meta.read_text()), "samples": 5}), encoding="utf-8"),
}


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_damaged_entry_is_detected_deleted_and_regenerated(
    spy: SpyEngine, cache: SpeechCache, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    cached = CachedEngine(spy, cache)
    original = cached.synthesize(REQUESTS[2:], VOICE)
    key = speech_key(spy.name, spy.version, VOICE, REQUESTS[2])
    npy, meta = cache.folder / f"{key}.npy", cache.folder / f"{key}.json"
    DAMAGE[damage](npy, meta)
    spy.requests.clear()
    with caplog.at_level(logging.INFO, logger="imr_audio.voice.cache"):
        again = cached.synthesize(REQUESTS[2:], VOICE)
    assert spy.requests == REQUESTS[2:]  # synthesised again
    assert again[0].duration_s == pytest.approx(original[0].duration_s, abs=0.01)
    assert cache.get(key) is not None  # and stored again, whole
    damaged = [r.getMessage() for r in caplog.records if "damaged" in r.getMessage()]
    assert len(damaged) == 1
    assert key[:12] in damaged[0]
    assert key not in damaged[0]  # the key prefix only, and never the text
    assert "Robin" not in caplog.text


# --- privacy and location ------------------------------------------------------------------


def test_folder_0700_and_files_0600_whatever_the_umask(cache: SpeechCache) -> None:
    previous = os.umask(0)
    try:
        cache.put("a" * 64, _tone(), owner="t-017")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(cache.folder.stat().st_mode) == 0o700
    files = sorted(cache.folder.iterdir())
    assert [p.name for p in files] == ["a" * 64 + ".json", "a" * 64 + ".npy"]  # no temp left
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_neither_text_nor_client_id_is_stored_outside_the_samples(
    spy: SpyEngine, cache: SpeechCache
) -> None:
    CachedEngine(spy, cache, owner="t-017").synthesize(REQUESTS, VOICE)
    for path in cache.folder.iterdir():
        assert "Robin" not in path.name and "t-017" not in path.name
        if path.suffix == ".json":
            meta = json.loads(path.read_text(encoding="utf-8"))
            assert set(meta) == {"format", "owners", "sample_rate_hz", "samples", "sha256"}
            assert meta["owners"] == [cache.key.client_hash("t-017")]


def test_owners_are_recorded_and_one_clients_clips_removed(cache: SpeechCache) -> None:
    cache.put("a" * 64, _tone(), owner="t-017")
    cache.put("b" * 64, _tone(), owner="t-099")
    cache.put("c" * 64, _tone())
    assert cache.get("b" * 64, owner="t-017") is not None  # t-017 used t-099's clip too
    assert cache.remove_owner("t-017") == 2
    assert cache.get("a" * 64) is None and cache.get("b" * 64) is None
    assert cache.get("c" * 64) is not None


def test_owners_added_at_once_by_two_renders_are_all_kept(
    cache: SpeechCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "d" * 64
    cache.put(key, _tone(), owner="t-001")
    write = SpeechCache._write
    started = threading.Barrier(2, timeout=10)

    def slow_write(self: SpeechCache, path: Path, data: bytes) -> None:
        time.sleep(0.2)  # both readers have read the old owners by now, unless one waits
        write(self, path, data)

    monkeypatch.setattr(SpeechCache, "_write", slow_write)

    def use(client: str) -> None:
        started.wait()
        assert SpeechCache(cache.folder, cache.key).get(key, owner=client) is not None

    threads = [threading.Thread(target=use, args=(c,)) for c in ("t-002", "t-003")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    meta = json.loads((cache.folder / f"{key}.json").read_text(encoding="utf-8"))
    hashes = sorted(cache.key.client_hash(c) for c in ("t-001", "t-002", "t-003"))
    assert sorted(meta["owners"]) == hashes
    assert cache.remove_owner("t-002") == 1  # so each client's purge finds it


def test_clear_removes_lock_files_nobody_holds(cache: SpeechCache) -> None:
    cache.put("e" * 64, _tone())
    stale = cache.folder / f".lock-{'f' * 64}"
    stale.write_bytes(b"")  # left by a render killed while it made a clip
    held = cache.folder / f".lock-{'a' * 64}"
    fd = os.open(held, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another render making that clip now
    try:
        assert cache.clear() == 1
        assert not stale.exists() and held.exists()
    finally:
        os.close(fd)
    assert cache.clear() == 0
    assert not cache.folder.exists()


def test_cache_dir_environment_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("IMR_AUDIO_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert Workspace.from_environment().speech_cache.folder == tmp_path / "elsewhere" / "speech"
    monkeypatch.delenv("IMR_AUDIO_CACHE_DIR")
    default = Path(platformdirs.user_cache_dir("imr-audio")) / "speech"
    assert Workspace.from_environment().speech_cache.folder == default


@pytest.mark.parametrize(
    "change",
    [
        {"voice_id": "gmw/en-us"},
        {"pitch": 50},
        {"volume": 0.9},
        {"rate_wpm": 131},
    ],
    ids=lambda change: next(iter(change)),
)
def test_every_voice_setting_is_part_of_the_key(change: dict) -> None:
    base = speech_key("pyttsx3", "v1", VOICE, REQUESTS[0])
    assert speech_key("pyttsx3", "v1", dataclasses.replace(VOICE, **change), REQUESTS[0]) != base
    assert speech_key("pyttsx3", "v2", VOICE, REQUESTS[0]) != base
    assert speech_key("other", "v1", VOICE, REQUESTS[0]) != base
    assert speech_key("pyttsx3", "v1", VOICE, dataclasses.replace(REQUESTS[0], line=99)) == base


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="eSpeak NG on Linux")
def test_engine_version_names_pyttsx3_and_espeak_ng(engine: Pyttsx3Engine) -> None:
    assert engine.version.startswith("pyttsx3-2.")
    assert "+espeak-ng-1." in engine.version


# --- the cache commands --------------------------------------------------------------------


def test_cache_info_and_clear_commands(speech_cache_dir: Path, workspace: Workspace) -> None:
    cache = workspace.speech_cache
    runner = CliRunner()
    result = runner.invoke(cli, ["cache", "info"])
    assert result.exit_code == 0, result.output
    assert f"location: {speech_cache_dir / 'speech'}" in result.output
    assert "entries:  0" in result.output
    assert f"voices:   0 split in {speech_cache_dir / 'piper'}" in result.output
    cache.put("a" * 64, _tone())
    cache.put("b" * 64, _tone())
    result = runner.invoke(cli, ["cache", "info"])
    assert "entries:  2" in result.output
    assert "size:     " in result.output and "size:     0.0" not in result.output
    result = runner.invoke(cli, ["cache", "clear"])
    assert result.exit_code == 0, result.output
    assert "removed 2 cached clip(s)" in result.output
    assert "removed 0 split voice(s)" in result.output
    assert cache.info().entries == 0
    assert "removed 0 cached clip(s)" in runner.invoke(cli, ["cache", "clear"]).output


# --- whole renders -------------------------------------------------------------------------


def test_second_render_synthesises_nothing_and_is_byte_identical(
    spy: SpyEngine,
    tmp_path: Path,
    speech_cache_dir: Path,
    test_templates: Path,
    write_client: Callable[..., Path], render_file: Callable[..., RenderResult]
) -> None:
    client = write_client(tmp_path, pronunciations={"Robin": "Robbin"})
    settings = RenderSettings(seed=3,
                              export=ExportSettings(format="wav"))
    first = render_file("mini", client, tmp_path / "one", settings, engine=spy)
    made = len(spy.requests)
    assert made > 0
    # The client's respelling went to the engine; the timeline keeps the written name.
    assert any("Robbin" in r.text for r in spy.requests)
    assert not any("Robin" in r.text for r in spy.requests)
    assert any("Robin" in s.text for s in first.timeline.speech)
    assert Workspace.from_environment().speech_cache.info().entries == made
    second = render_file("mini", client, tmp_path / "two", settings, engine=spy)
    assert len(spy.requests) == made  # zero synthesis
    assert second.path.read_bytes() == first.path.read_bytes()


def test_render_without_cache_leaves_it_empty(
    spy: SpyEngine,
    tmp_path: Path,
    speech_cache_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    test_templates: Path,
    write_client: Callable[..., Path], render_file: Callable[..., RenderResult]
) -> None:
    made: list[int] = []

    class StopAfterSynthesis(Exception):
        pass

    def stop_after_synthesis(*args: object, **kwargs: object) -> None:
        made.append(len(spy.requests))  # mixing and mastering are not what this test is about
        raise StopAfterSynthesis

    monkeypatch.setattr(render_module, "write_track", stop_after_synthesis)
    settings = RenderSettings(use_cache=False)
    with pytest.raises(StopAfterSynthesis):
        render_file("mini", write_client(tmp_path), tmp_path / "out", settings, engine=spy)
    assert made and made[0] > 0
    assert not (speech_cache_dir / "speech").exists()
    assert Workspace.from_environment().speech_cache.info().entries == 0


@pytest.mark.parametrize(("flag", "use_cache"), [([], True), (["--no-cache"], False)])
def test_render_no_cache_option(
    flag: list[str], use_cache: bool, client_file: Path, test_templates: Path,
    render_calls: list[tuple[str, RenderSettings]],
) -> None:
    result = CliRunner().invoke(cli, ["render", "mini", "--client", str(client_file),
                                      "--templates-dir", str(test_templates), *flag])
    assert result.exit_code == 1 and "stopped here" in result.output
    assert render_calls[0][1].use_cache is use_cache


def test_espeak_renders_in_two_empty_caches_are_byte_identical(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    test_templates: Path,
    write_client: Callable[..., Path], render_file: Callable[..., RenderResult]
) -> None:
    # Regression: eSpeak NG's clips depended on what its worker had spoken before (and which of
    # two workers spoke them), so a fresh machine or a cleared cache gave another track.
    client = write_client(tmp_path, preferences={"voice": "neutral", "soundscape": "rain"})
    settings = RenderSettings(seed=3,
                              export=ExportSettings(format="wav"))
    tracks: list[bytes] = []
    for name in ("one", "two", "one"):  # cold, cold, then warm
        monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / f"cache-{name}"))
        result = render_file("mini", client, tmp_path / name / str(len(tracks)), settings)
        assert result.voice.engine == "pyttsx3"
        tracks.append(result.path.read_bytes())
    assert tracks[0] == tracks[1] == tracks[2]
