"""The pyttsx3 worker process: serves synthesis requests over a connection.

Kept apart from :mod:`imr_audio.voice.pyttsx3_engine` so that a worker imports only this module,
the standard library and pyttsx3: starting one took 1.2 s while it imported the whole package
(numpy, scipy, the mixer), and takes about 0.2 s now. Nothing here may import more.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import pickle
import sys
import time
import wave
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

__all__ = ["driver_name", "main", "serve"]

_FILE_WAIT_S = 10.0
_ESPEAK_RATE = 1  # espeakRATE in speak_lib.h
_ESPEAK_VOLUME = 2  # espeakVOLUME
_ESPEAK_PITCH = 3  # espeakPITCH


def driver_name() -> str | None:
    """The pyttsx3 driver to ask for: eSpeak NG on Linux, the platform's default elsewhere."""
    return "espeak" if sys.platform.startswith("linux") else None


def _wav_complete(path: str) -> bool:
    """Whether ``path`` is a finished WAV: its header counts every byte the file holds.

    pyttsx3 writes the header first (with no frames) and patches the counts when it closes the
    file, so a header whose frame count matches the file size means the write is over.
    """
    try:
        size = os.path.getsize(path)  # noqa: PTH202
        with wave.open(path, "rb") as wav:
            frames = wav.getnframes()
            frame_bytes = wav.getsampwidth() * wav.getnchannels()
    except (OSError, EOFError, wave.Error):
        return False
    return frames > 0 and size >= 44 + frames * frame_bytes


def _wait_for_wav(path: str) -> None:
    """Wait until the engine has finished writing ``path``."""
    deadline = time.monotonic() + _FILE_WAIT_S
    while time.monotonic() < deadline:
        if _wav_complete(path):
            return
        time.sleep(0.01)
    raise TimeoutError("no complete WAV file")


class _Readback:
    """Reads back what the engine used, and its defaults; waits for queued settings to apply.

    pyttsx3 2.99's eSpeak driver declares ``espeak_GetParameter`` with one argument, so the C
    function's second argument (``current``) is whatever the register holds: the read-back
    flips between the default and the value set. Call it properly instead.
    """

    def __init__(self, engine: Any) -> None:
        self._engine = engine
        self._get: Callable[[int, int], int] | None = None
        self._sync: Callable[[], int] | None = None
        if driver_name() == "espeak":
            from pyttsx3.drivers import _espeak

            get_parameter = _espeak.dll.espeak_GetParameter
            get_parameter.argtypes = [ctypes.c_int, ctypes.c_int]
            get_parameter.restype = ctypes.c_int
            self._get = get_parameter
            self._sync = _espeak.Synchronize
        self.settle()
        self.default_pitch: int | None = self._get(_ESPEAK_PITCH, 0) if self._get else None

    def settle(self) -> None:
        """Wait until every setting queued so far has been applied.

        eSpeak NG in pyttsx3's mode (``AUDIO_OUTPUT_RETRIEVAL``) queues a rate, volume or pitch
        change for its own thread, but changes the voice at once, and pyttsx3 queues a rate
        (200 wpm) and a volume of its own when it starts. Without waiting, 1 of 450 fresh
        engines spoke at 200 wpm instead of the rate set after them (a stress run of one
        sentence). So the queue is drained before the voice is changed and again before
        speaking (``espeak_Synchronize``), and the rate, pitch and volume used are read back.
        """
        if self._sync is not None:
            self._sync()

    def used(self) -> tuple[int, int | None, int | None]:
        """The rate, pitch and volume (0-100) the last utterance was spoken at (None: unknown)."""
        if self._get is not None:
            return (int(self._get(_ESPEAK_RATE, 1)), int(self._get(_ESPEAK_PITCH, 1)),
                    int(self._get(_ESPEAK_VOLUME, 1)))
        return int(self._engine.getProperty("rate")), None, None


def _property_setter(engine: Any) -> Callable[[str, Any], None]:
    """How to change a voice setting so that it holds for the very next utterance.

    ``Engine.setProperty`` only queues the change; with eSpeak NG the queue can run after the
    next ``save_to_file`` (a rate or voice change then lands one utterance late). The eSpeak
    driver's own static ``setProperty`` applies it at once.
    """
    if driver_name() == "espeak":
        from pyttsx3.drivers.espeak import EspeakDriver

        return EspeakDriver.setProperty  # type: ignore[no-any-return,unused-ignore]
    return engine.setProperty  # type: ignore[no-any-return,unused-ignore]


def _answer(engine: Any, readback: _Readback, set_property: Callable[[str, Any], None],
            message: tuple[Any, ...]) -> tuple[str, Any]:
    """Carry out one request on a started engine; the answer to send back."""
    kind = message[0]
    if kind == "voices":
        voices = engine.getProperty("voices")
        return ("ok", [(v.id, v.name, tuple(v.languages or ())) for v in voices])
    if kind != "say":
        return ("error", f"unknown request {kind!r}")
    _, text, voice_id, rate, volume, pitch, out_path = message
    readback.settle()
    try:
        set_property("voice", voice_id)
    except (KeyError, ValueError):
        return ("error", f"voice '{voice_id}' was not applied")
    set_property("rate", rate)
    set_property("volume", volume)
    # No pitch asked for means the engine's default, never the last request's.
    pitch = readback.default_pitch if pitch is None else pitch
    if pitch is not None:
        with contextlib.suppress(KeyError, ValueError):
            set_property("pitch", pitch)
    readback.settle()
    engine.save_to_file(text, out_path)
    engine.runAndWait()
    _wait_for_wav(out_path)
    # Only once the file exists has the utterance used the settings: read them now.
    used_rate, used_pitch, used_volume = readback.used()
    return ("ok", (str(engine.getProperty("voice")), used_rate, used_pitch, used_volume, pitch))


def _started() -> tuple[Any, _Readback, Callable[[str, Any], None]]:
    """Start the platform's engine (eSpeak NG on Linux) in this process."""
    import pyttsx3

    engine = pyttsx3.init(driver_name())
    return engine, _Readback(engine), _property_setter(engine)


def _safe_answer(started: Callable[[], tuple[Any, _Readback, Callable[[str, Any], None]]],
                 message: tuple[Any, ...]) -> tuple[str, Any]:
    try:
        return _answer(*started(), message)
    except Exception as exc:
        return ("error", type(exc).__name__)


def _answer_in_fresh_engine(message: tuple[Any, ...]) -> tuple[str, Any]:
    """Answer ``message`` in a forked child that starts eSpeak NG afresh.

    eSpeak NG carries state from one utterance to the next (the same sentence came out a few
    samples longer or shorter, and with other samples, depending on what was spoken before it),
    so a clip depended on which worker spoke it and what that worker had spoken: two renders of
    the same script, or a cold and a warm cache, gave different audio. eSpeak NG cannot be
    started twice in one process, and a process that started it cannot fork safely, so this
    process never starts it: each request is answered by a child forked from it, which starts
    the engine, speaks once and exits (about 20 ms more per sentence).
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(read_end)
            data = pickle.dumps(_safe_answer(_started, message))
            with os.fdopen(write_end, "wb") as out:
                out.write(data)
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as answer:
        data = answer.read()
    _, status = os.waitpid(pid, 0)
    if not data:
        return ("error", f"the engine's process ended without an answer ({status})")
    result: tuple[str, Any] = pickle.loads(data)
    return result


def serve(conn: Connection) -> None:  # pragma: no cover - runs in a child process
    """Serve synthesis requests over ``conn`` until told to stop."""
    sys.stdout = Path(os.devnull).open("w")  # noqa: SIM115 - pyttsx3 prints the file it saved
    from imr_audio.voice.espeak_runtime import prepare_espeak

    prepare_espeak()
    import pyttsx3  # noqa: F401 - imported once, before any fork

    fresh = driver_name() == "espeak" and hasattr(os, "fork")
    engine: tuple[Any, _Readback, Callable[[str, Any], None]] | None = None

    def started() -> tuple[Any, _Readback, Callable[[str, Any], None]]:
        nonlocal engine
        engine = engine or _started()
        return engine

    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is None:
            return
        conn.send(_answer_in_fresh_engine(message) if fresh else _safe_answer(started, message))


def main() -> None:  # pragma: no cover - runs in a child process
    """Entry of a worker started by :class:`imr_audio.voice.pyttsx3_engine.Pyttsx3Engine`.

    ``argv[1]`` is the file descriptor of its end of a socket pair, ``argv[2]`` the parent's
    ``sys.path`` as JSON (as multiprocessing's spawn would pass it).
    """
    sys.path[:] = json.loads(sys.argv[2])
    serve(Connection(int(sys.argv[1])))
