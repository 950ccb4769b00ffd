"""Piper's noise is seeded (issue #10): the same sentence gives the same samples anywhere.

Piper's model drew its noise (durations and prior) afresh at every call, so two renders of one
script with two empty caches differed (1.6 s once). The worker now feeds it noise drawn from a
seed of the sentence's phonemes, the scales (the rate) and the voice. These tests use the real
bundled voice: the same inputs give the same samples in fresh engines and whole renders; other
sentences, rates and tries get other noise, drawn like the model's own, and heard.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from imr_audio.errors import SynthesisError
from imr_audio.export import ExportSettings
from imr_audio.track import RenderResult, RenderSettings
from imr_audio.voice import PiperEngine, SpeechRequest, VoiceSettings, piper_engine, piper_worker
from imr_audio.voice.piper_engine import BUNDLED_VOICE, piper_available
from imr_audio.voice.piper_worker import VoiceLoadError, noise_seed
from imr_audio.workspace import CACHE_DIR_ENV

if os.environ.get("IMR_AUDIO_NO_NEURAL") == "1":
    pytest.skip("IMR_AUDIO_NO_NEURAL=1: the neural extra is not tested", allow_module_level=True)

SENTENCE = ("You are sitting on a wooden bench in a quiet garden, and the afternoon "
            "light is warm and soft on your arms.")
OTHER = "Notice the ground beneath your feet, and the slow rhythm of your breathing."
JOE = VoiceSettings(engine="piper", voice_id=BUNDLED_VOICE, rate_wpm=130)


# --- the same inputs, the same samples ------------------------------------------------------


def test_one_sentence_in_two_fresh_engines_gives_the_same_samples(tmp_path: Path) -> None:
    # Each engine has its own worker process and an empty folder, where it splits the voice.
    clips, pids = [], []
    for name in ("one", "two"):
        with PiperEngine(split_folder=tmp_path / name) as engine:
            clips.append(engine.synthesize([SpeechRequest(SENTENCE, 1)], JOE)[0])
            pids.append(engine.worker_pid)
    assert pids[0] != pids[1]
    assert clips[0].duration_s > 3.0
    np.testing.assert_array_equal(clips[0].samples, clips[1].samples)


def test_a_batch_workers_thread_count_gives_the_same_samples(tmp_path: Path) -> None:
    # A batch sizes onnxruntime's threads to each worker's cores, within 1-3 (4 differed).
    assert [piper_worker.session_threads(n) for n in (None, 1, 2, 3, 4, 16)] == [2, 1, 2, 3, 3, 3]
    clips = []
    for threads in (1, 3):
        with PiperEngine(split_folder=tmp_path / "piper", threads=threads) as engine:
            clips.append(engine.synthesize([SpeechRequest(SENTENCE, 1)], JOE)[0])
    with PiperEngine(split_folder=tmp_path / "piper") as engine:
        clips.append(engine.synthesize([SpeechRequest(SENTENCE, 1)], JOE)[0])
    np.testing.assert_array_equal(clips[0].samples, clips[2].samples)
    np.testing.assert_array_equal(clips[1].samples, clips[2].samples)


def test_a_sentence_sounds_the_same_whatever_was_spoken_before(tmp_path: Path) -> None:
    with PiperEngine(split_folder=tmp_path / "piper") as engine:
        first = engine.synthesize([SpeechRequest(SENTENCE, 1)], JOE)[0]
        others = [SpeechRequest(OTHER, 2), SpeechRequest("Breathe.", 3)]
        later = engine.synthesize([*others, SpeechRequest(SENTENCE, 4)], JOE)[-1]
    np.testing.assert_array_equal(later.samples, first.samples)


def test_piper_renders_in_two_empty_caches_are_byte_identical(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    write_client: Callable[..., Path],
    render_file: Callable[..., RenderResult],
) -> None:
    # Issue #10: the same template and client rendered with two empty caches gave two tracks
    # (one 1.6 s longer). The client prefers the calm voice: Piper with the neural extra.
    client = write_client(tmp_path)
    settings = RenderSettings(soundscape="rain", seed=3, export=ExportSettings(format="wav"))
    tracks: list[bytes] = []
    for name in ("one", "two", "one"):  # cold, cold, then warm: the first cache again
        cache = tmp_path / f"cache-{name}"
        monkeypatch.setenv(CACHE_DIR_ENV, str(cache))
        result = render_file("mini", client, tmp_path / f"out-{len(tracks)}", settings)
        assert result.voice.engine == "piper"
        assert (cache / "piper").is_dir()  # the voice was split there: nothing shared
        tracks.append(result.path.read_bytes())
    assert len(tracks[0]) > 1_000_000  # a WAV of about 40 s
    assert tracks[0] == tracks[1]
    assert tracks[2] == tracks[0]


def test_every_session_has_the_same_threads_on_any_machine(split_voice: Any) -> None:
    # onnxruntime's results depend in the last bits on its thread count (4 threads differed
    # from 1-3 here), which by default is the machine's cores: the count is fixed instead.
    session = split_voice.session
    sessions = [stage for stage, _, _ in session._stages] + [session._decoder]
    assert len(sessions) == 4
    for one in sessions:
        assert one.get_session_options().intra_op_num_threads == piper_worker._THREADS == 2


# --- naturalness kept -----------------------------------------------------------------------


def _feeds(ids: list[int], length_scale: float = 1.5, noise_scale: float = 0.667,
           **more: Any) -> dict[str, Any]:
    return {"input": np.array([ids], dtype=np.int64),
            "input_lengths": np.array([len(ids)], dtype=np.int64),
            "scales": np.array([noise_scale, length_scale, 0.8], dtype=np.float32), **more}


def test_the_seed_follows_the_sentence_the_rate_the_voice_and_the_try() -> None:
    voice, other_voice = "ab" * 32, "cd" * 32  # two models' sha256
    ids = [1, 0, 20, 0, 31, 0, 2]
    seed = noise_seed(voice, _feeds(ids))
    assert seed == noise_seed(voice, _feeds(list(ids)))
    assert 0 <= seed < 2**64
    others = [
        noise_seed(voice, _feeds([1, 0, 20, 0, 32, 0, 2])),  # another sentence
        noise_seed(voice, _feeds(ids, length_scale=1.6)),  # another rate
        noise_seed(voice, _feeds(ids, noise_scale=0.5)),  # another noise scale
        noise_seed(voice, _feeds(ids, sid=np.array([3], dtype=np.int64))),  # a speaker
        noise_seed(other_voice, _feeds(ids)),  # another voice
        noise_seed(voice, _feeds(ids), attempt=1),  # a clip tried again
    ]
    assert len({seed, *others}) == 1 + len(others)


@pytest.fixture(scope="module")
def split_voice(tmp_path_factory: pytest.TempPathFactory) -> Any:
    model, config = (str(p) for p in piper_engine._bundled_paths())
    voice, how = piper_worker.load_voice(model, config, str(tmp_path_factory.mktemp("split")))
    assert how == "windowed"
    return voice


@pytest.fixture
def heard(split_voice: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Synthesise with the split voice: (samples, the noises fed, by name)."""
    real_noise = piper_worker._noise
    noises: dict[str, np.ndarray] = {}

    def recording(seed: int, spec: dict[str, Any], shape: tuple[int, ...]) -> Any:
        noises[spec["name"]] = value = real_noise(seed, spec, shape)
        return value

    monkeypatch.setattr(piper_worker, "_noise", recording)

    def hear(text: str, length_scale: float = 1.5, attempt: int = 0) -> Any:
        noises.clear()
        samples = piper_worker.synthesize(split_voice, text, length_scale, 1.0, attempt)
        return samples, dict(noises)

    yield hear


DURATION_NOISE, PRIOR_NOISE = "/dp/RandomNormalLike_output_0", "/RandomNormalLike_output_0"


def test_the_noise_is_drawn_like_the_models_own(heard: Any) -> None:
    # Piper's random nodes draw standard normal float32 noise (mean 0, scale 1): so does numpy.
    samples, noises = heard(SENTENCE)
    assert set(noises) == {DURATION_NOISE, PRIOR_NOISE}
    durations, prior = noises[DURATION_NOISE], noises[PRIOR_NOISE]
    assert durations.dtype == prior.dtype == np.float32
    assert durations.shape[:2] == (1, 2) and durations.shape[2] > 50  # one pair per phoneme id
    assert prior.shape[:2] == (1, 192) and prior.shape[2] * 256 == len(samples)  # per frame
    assert abs(durations.mean()) < 0.25 and 0.8 < durations.std() < 1.2  # ~200 values
    assert abs(prior.mean()) < 0.02 and 0.98 < prior.std() < 1.02  # ~100,000 values
    assert np.mean(np.abs(prior) < 1.0) == pytest.approx(0.6827, abs=0.01)  # normal, not uniform


def test_other_sentences_rates_and_tries_get_other_noise(heard: Any) -> None:
    samples, noises = heard(SENTENCE)
    again, again_noises = heard(SENTENCE)
    np.testing.assert_array_equal(again, samples)
    np.testing.assert_array_equal(again_noises[PRIOR_NOISE], noises[PRIOR_NOISE])
    durations = noises[DURATION_NOISE]
    for changed in (heard(OTHER)[1], heard(SENTENCE, length_scale=1.8)[1],
                    heard(SENTENCE, attempt=1)[1]):
        other = changed[DURATION_NOISE]
        shared = min(other.shape[2], durations.shape[2])
        a, b = other[..., :shared].ravel(), durations[..., :shared].ravel()
        assert abs(np.corrcoef(a, b)[0, 1]) < 0.3  # independent draws, not the same noise
    # The same sentence at another rate is spoken at that rate, with its own noise.
    assert len(heard(SENTENCE, length_scale=1.8)[0]) > 1.1 * len(samples)


def test_the_noise_is_heard_in_the_durations_and_the_waveform(
    heard: Any, split_voice: Any
) -> None:
    from piper import SynthesisConfig

    tries = [heard(SENTENCE, attempt=attempt)[0] for attempt in range(4)]
    lengths = {len(samples) for samples in tries}
    assert len(lengths) > 1  # the duration predictor's noise is live: phonemes last differently
    config = SynthesisConfig(length_scale=1.5, noise_scale=0.0, noise_w_scale=0.0,
                             normalize_audio=False)
    silent = np.concatenate([c.audio_float_array for c in split_voice.synthesize(SENTENCE,
                                                                                  config)])
    for samples in tries:  # none is the noiseless rendering
        assert len(samples) != len(silent) or np.abs(samples - silent).max() > 0.1


# --- never random: a voice whose noise cannot be seeded is an error -------------------------


def test_a_voice_whose_noise_cannot_be_seeded_is_an_error_naming_it(tmp_path: Path) -> None:
    import onnx

    model, config = piper_engine._bundled_paths()
    graph = onnx.load(str(model))
    next(n for n in graph.graph.node if n.name == "/RandomNormalLike").op_type = "Bernoulli"
    other = tmp_path / "other.onnx"
    onnx.save(graph, str(other))
    del graph
    shutil.copy(config, tmp_path / "other.onnx.json")
    split = tmp_path / "split"
    for _ in range(2):  # the second time from the mark the first left: not split again
        with PiperEngine(split_folder=split) as engine, pytest.raises(SynthesisError) as info:
            engine.synthesize([SpeechRequest(SENTENCE, 1)], VoiceSettings("piper", str(other)))
        assert str(info.value) == (
            f"piper voice '{other}': could not be loaded (its noise cannot be seeded: random "
            "nodes laid out otherwise than in Piper's voices)")
        assert [p.name for p in next(split.iterdir()).iterdir()] == ["not-seedable"]


def test_without_onnx_a_voice_is_an_error_never_random(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "site" / "onnx"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('no onnx here')\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))  # the splitting process is given it
    model, config = (str(p) for p in piper_engine._bundled_paths())
    with pytest.raises(VoiceLoadError, match=r"^seeding its noise needs the onnx package"):
        piper_worker.load_voice(model, config, str(tmp_path / "split"))


def test_without_onnx_piper_is_not_offered(monkeypatch: pytest.MonkeyPatch) -> None:
    real_find_spec = importlib.util.find_spec

    def without_onnx(name: str, *args: Any) -> Any:
        return None if name == "onnx" else real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", without_onnx)
    piper_available.cache_clear()
    try:
        assert not piper_available()
        assert PiperEngine().voices() == []
    finally:
        monkeypatch.undo()
        piper_available.cache_clear()
    assert piper_available()
