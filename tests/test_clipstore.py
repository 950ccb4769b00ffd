"""Speech kept on disk while mixing: the clip store, batched synthesis, shared breath tones."""

from __future__ import annotations

import os
import tempfile
import tracemalloc
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from imr_audio.audio import Clip
from imr_audio.clipstore import ClipStore, resample_clip
from imr_audio.errors import ExportError
from imr_audio.mix import MixSettings, layout_speech
from imr_audio.progress import Progress, ProgressCallback, report
from imr_audio.speech import _SYNTHESIS_BATCH, Speaker, _synthesize
from imr_audio.timeline import Pause, Speech, Timeline, Tone
from imr_audio.voice import SpeechRequest, VoiceInfo, VoiceSettings

VOICE = VoiceSettings(engine="fake", voice_id="fake", rate_wpm=130)


def _clip(seconds: float, rate: int, seed: int) -> Clip:
    rng = np.random.default_rng(seed)
    return Clip((rng.standard_normal(round(seconds * rate)) * 0.1).astype(np.float32), rate)


@pytest.mark.parametrize(("source", "target"), [(22050, 44100), (44100, 44100), (24000, 48000)])
def test_stored_clips_read_back_as_resampled_once(source: int, target: int) -> None:
    clips = [_clip(seconds, source, seed) for seed, seconds in enumerate((1.3, 0.01, 2.7))]
    with ClipStore(target) as store:
        stored = [store.add(clip) for clip in clips]
        for clip, kept in zip(clips, stored, strict=True):
            loaded = kept.load()
            assert loaded.sample_rate_hz == target == kept.sample_rate_hz
            assert np.array_equal(loaded.samples, resample_clip(clip, target))
            assert kept.frames == len(loaded.samples)
            assert kept.duration_s == clip.duration_s  # as synthesised: what lengths fit to
        assert store.size_bytes == 4 * sum(kept.frames for kept in stored)
        with pytest.raises(ExportError, match="ended"):
            store.read(stored[-1].offset, stored[-1].frames + 10)


@pytest.mark.skipif(os.name != "posix", reason="POSIX unlinks a temporary file at once")
def test_the_store_has_no_name_on_disk_and_is_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with ClipStore(44100) as store:
        store.add(_clip(1.0, 22050, 1))
        assert list(tmp_path.iterdir()) == []  # the client's speech has no name to find
        assert os.fstat(store._file.fileno()).st_mode & 0o777 == 0o600
        assert store.size_bytes > 0
    assert store._file.closed


def test_a_temporary_folder_that_cannot_be_written_is_a_one_line_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", "/dev/full/nowhere")
    with pytest.raises(ExportError, match=r"cannot keep the speech in a temporary file in "
                                          r"/dev/full/nowhere .*set TMPDIR"):
        ClipStore(44100)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_while_storing_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with ClipStore(44100) as store, Path("/dev/full").open("r+b") as full:
        real = store._file
        store._file = full  # every write fails: no space left
        with pytest.raises(ExportError, match="No space left on device"):
            store.add(_clip(1.0, 44100, 0))
        real.close()


def _timeline(count: int) -> Timeline:
    events: list[object] = []
    for number in range(count):
        events += [Speech(f"Sentence {number}.", number + 1), Pause(0.5, "sentence", number + 1)]
    return Timeline(events=tuple(events))  # type: ignore[arg-type]


def test_a_layout_of_stored_clips_renders_as_one_of_clips_in_memory() -> None:
    clips = [_clip(0.5 + (n % 4) * 0.3, 22050, n) for n in range(9)]
    settings = MixSettings()
    timeline = _timeline(len(clips))
    with ClipStore(settings.sample_rate_hz) as store:
        stored = [store.add(clip) for clip in clips]
        in_memory, placed = layout_speech(timeline, clips, settings)
        on_disk, placed_too = layout_speech(timeline, stored, settings)
        assert placed == placed_too and in_memory.frames == on_disk.frames
        for start in range(0, on_disk.frames, 30000):
            stop = min(start + 30000, on_disk.frames)
            assert np.array_equal(in_memory.render(start, stop), on_disk.render(start, stop))


class _CountingEngine:
    """Makes a short clip per request and records how many requests each call had."""

    name = "fake"
    version = "1"

    def __init__(self) -> None:
        self.calls: list[int] = []

    def voices(self) -> list[VoiceInfo]:
        return []

    def synthesize(self, requests: Sequence[SpeechRequest], settings: VoiceSettings,
                   progress: ProgressCallback | None = None) -> list[Clip]:
        self.calls.append(len(requests))
        for done in range(1, len(requests) + 1):
            report(progress, "synthesis", done, len(requests))
        return [_clip(0.2, 22050, r.line) for r in requests]

    def close(self) -> None:
        pass


def test_synthesis_comes_in_batches_that_go_to_the_store_as_they_come() -> None:
    count = 2 * _SYNTHESIS_BATCH + 5
    engine = _CountingEngine()
    seen: list[Progress] = []
    with ClipStore(44100) as store:
        clips = _synthesize(Speaker(engine, VOICE, "v1"), _timeline(count), {}, store, seen.append,
                            None)
        assert engine.calls == [_SYNTHESIS_BATCH, _SYNTHESIS_BATCH, 5]
        assert len(clips) == count and store.size_bytes == 4 * sum(c.frames for c in clips)
        assert np.array_equal(clips[-1].load().samples,
                              resample_clip(_clip(0.2, 22050, count), 44100))
    done = [step.done for step in seen]
    assert done == list(range(1, count + 1))  # one count over all the batches
    assert {step.total for step in seen} == {count}


def test_identical_breath_tones_are_held_once() -> None:
    events: list[object] = []
    for number in range(400):  # 400 breaths of 4 s in, 6 s out: 4000 s of tones
        events += [Tone("in", 4.0, number + 1), Tone("out", 6.0, number + 1)]
    timeline = Timeline(events=tuple(events))  # type: ignore[arg-type]
    tracemalloc.start()
    try:
        layout, _ = layout_speech(timeline, [], MixSettings())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert layout.frames > 4000 * 44100
    # each tone once: 10 s at 44.1 kHz, 1.8 MB (held separately it would be 706 MB)
    assert peak < 20e6, peak
    assert np.abs(layout.render(10 * 44100, 11 * 44100)).max() > 0.001
