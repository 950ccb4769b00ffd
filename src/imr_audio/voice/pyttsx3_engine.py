"""The pyttsx3 engine, run in worker processes so that a hung or crashed engine is contained.

pyttsx3 2.99 has pitfalls this design works around: ``runAndWait()`` can return before the WAV
is written (the worker waits for a complete file); two queued ``save_to_file`` calls lose one
(one utterance per ``runAndWait``); a rate or voice change is sometimes not applied (the worker
waits for eSpeak NG's queued settings to apply, reads the voice, rate, pitch and volume back, and
every clip's duration is checked against its word count); and forking after
the engine started hangs (workers are spawned, never forked).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import importlib.metadata
import platform
import queue
import shutil
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile as sf

from imr_audio.audio import Clip
from imr_audio.errors import SynthesisError
from imr_audio.progress import ProgressCallback, report
from imr_audio.timeline import count_words
from imr_audio.voice.base import SpeechRequest, VoiceInfo, VoiceSettings
from imr_audio.voice.pyttsx3_worker import driver_name
from imr_audio.voice.verify import trim_silence, verify_speech
from imr_audio.voice.worker_process import WorkerProcess

__all__ = ["Pyttsx3Engine", "engine_version"]


def _package_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _espeak_version() -> str:
    """The version of eSpeak NG's library that pyttsx3 loads (``espeak_Info``), and its data's."""
    loader = _package_version("espeakng-loader")
    path: str | None = None
    if loader is not None:
        import espeakng_loader

        path = espeakng_loader.get_library_path()
    else:
        path = ctypes.util.find_library("espeak-ng")
    library = "unknown"
    if path:
        with contextlib.suppress(OSError, AttributeError):
            info = ctypes.CDLL(path).espeak_Info  # only returns a static string; no init needed
            info.argtypes = [ctypes.c_void_p]
            info.restype = ctypes.c_char_p
            library = (info(None) or b"unknown").decode("ascii", "replace")
    return f"espeak-ng-{library}" + (f"+espeakng-loader-{loader}" if loader else "")


@functools.lru_cache(maxsize=1)
def engine_version() -> str:
    """The versions of pyttsx3 and of the speech engine under it.

    For example ``pyttsx3-2.99+espeak-ng-1.52.0+espeakng-loader-0.2.4``. Elsewhere than Linux
    the system's voices change with the OS, so the OS release stands for their version.
    """
    backend = (
        # "fresh": each utterance from a freshly started eSpeak NG (pyttsx3_worker), whose
        # clips differ from those of an engine that had spoken before. "2": its settings are
        # applied before it speaks (pyttsx3_worker._Readback.settle); a clip cached before that
        # may have been spoken at the wrong pitch, so no earlier clip is used again.
        f"{_espeak_version()}+fresh2"
        if driver_name() == "espeak"
        else f"{sys.platform}-{platform.release()}"
    )
    return f"pyttsx3-{_package_version('pyttsx3') or 'unknown'}+{backend}"


class _Worker(WorkerProcess):
    """One pyttsx3 worker process (:mod:`imr_audio.voice.pyttsx3_worker`) and its connection."""

    def __init__(self) -> None:
        super().__init__("imr_audio.voice.pyttsx3_worker")


class Pyttsx3Engine:
    """Offline speech through pyttsx3 (eSpeak NG on Linux, SAPI5 on Windows, NSSS on macOS)."""

    name = "pyttsx3"

    def __init__(self, workers: int = 1, clip_timeout_s: float = 30.0, retries: int = 1) -> None:
        """Create an engine with ``workers`` processes, started on first use."""
        self._size = max(1, workers)
        self._timeout_s = clip_timeout_s
        self._retries = retries
        self._workers: list[_Worker] = []
        self._tmp = Path(tempfile.mkdtemp(prefix="imr-speech-"))  # 0700 by construction
        self.version = engine_version()
        """pyttsx3's version and the speech engine's under it (see :func:`engine_version`)."""

    def __enter__(self) -> Pyttsx3Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _worker(self, index: int) -> _Worker:
        while len(self._workers) <= index:
            self._workers.append(_Worker())
        return self._workers[index]

    def _restart(self, index: int) -> None:
        self._workers[index].stop()
        self._workers[index] = _Worker()

    def voices(self) -> list[VoiceInfo]:
        """Voices the engine offers on this machine.

        A worker that fails to start is tried once more: on a busy machine a start can time out.
        """
        for attempt in range(2):
            try:
                raw = self._worker(0).call(("voices",), self._timeout_s)
                break
            except (TimeoutError, EOFError, RuntimeError, OSError) as exc:
                if self._workers:
                    self._restart(0)
                if attempt:
                    raise SynthesisError(
                        f"the pyttsx3 engine did not start ({type(exc).__name__}: {exc})"
                    ) from None
        return [VoiceInfo(id=i, name=n, languages=tuple(langs)) for i, n, langs in raw]

    def _synthesize_one(
        self, index: int, request: SpeechRequest, settings: VoiceSettings, number: int
    ) -> Clip:
        out_path = self._tmp / f"clip-{index}-{number}.wav"
        words = count_words(request.text)
        wpm = request.rate_wpm or settings.rate_wpm
        reason = ""
        for _attempt in range(self._retries + 1):
            out_path.unlink(missing_ok=True)
            try:
                voice, rate, pitch, volume, asked_pitch = self._worker(index).call(
                    (
                        "say",
                        request.text,
                        settings.voice_id,
                        wpm,
                        settings.volume,
                        settings.pitch,
                        str(out_path),
                    ),
                    self._timeout_s,
                )
                if not voice.startswith(settings.voice_id.lower()) and voice != settings.voice_id:
                    raise RuntimeError(f"voice '{settings.voice_id}' was not applied")
                if rate != wpm:
                    raise RuntimeError(f"rate {wpm} wpm was not applied")
                if pitch is not None and asked_pitch is not None and pitch != asked_pitch:
                    raise RuntimeError(f"pitch {asked_pitch} was not applied")
                if volume is not None and volume != round(settings.volume * 100):
                    raise RuntimeError(f"volume {settings.volume} was not applied")
                data, sample_rate = sf.read(str(out_path), dtype="float32", always_2d=True)
                samples = trim_silence(np.ascontiguousarray(data[:, 0]), sample_rate)
                verify_speech(samples, sample_rate, words, wpm, request.line)
                return Clip(samples=samples, sample_rate_hz=sample_rate)
            except (TimeoutError, EOFError, OSError, BrokenPipeError) as exc:
                reason = f"engine worker stopped responding ({type(exc).__name__})"
                self._restart(index)
            except (RuntimeError, sf.LibsndfileError, SynthesisError) as exc:
                text = str(exc)
                reason = text.split(": ", 1)[-1] if isinstance(exc, SynthesisError) else text
                self._restart(index)
            finally:
                out_path.unlink(missing_ok=True)
        raise SynthesisError(f"script line {request.line}: speech synthesis failed: {reason}")

    def synthesize(
        self,
        requests: Sequence[SpeechRequest],
        settings: VoiceSettings,
        progress: ProgressCallback | None = None,
    ) -> list[Clip]:
        """Synthesise every request across the worker processes, in order.

        Raises :class:`SynthesisError` naming the script line of a clip that fails after a
        retry on a fresh worker. Never returns silence in place of speech.
        """
        results: list[Clip | None] = [None] * len(requests)
        todo: queue.Queue[int] = queue.Queue()
        for number in range(len(requests)):
            todo.put(number)
        errors: list[SynthesisError] = []
        lock = threading.Lock()
        done = 0

        def run(index: int) -> None:
            nonlocal done
            while not errors:
                try:
                    number = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    clip = self._synthesize_one(index, requests[number], settings, number)
                except SynthesisError as exc:
                    errors.append(exc)
                    return
                with lock:
                    results[number] = clip
                    done += 1
                    report(progress, "synthesis", done, len(requests))

        count = min(self._size, max(1, len(requests)))
        for index in range(count):  # start workers in this thread: spawn is not thread-safe
            self._worker(index)
        threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        return [clip for clip in results if clip is not None]

    def close(self) -> None:
        """Stop the worker processes and remove their temporary clips."""
        for worker in self._workers:
            worker.stop()
        self._workers.clear()
        shutil.rmtree(self._tmp, ignore_errors=True)
