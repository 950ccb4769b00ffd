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
    """Reads back what the engine used, and its defaults.

    pyttsx3 2.99's eSpeak driver declares ``espeak_GetParameter`` with one argument, so the C
    function's second argument (``current``) is whatever the register holds: the read-back
    flips between the default and the value set. Call it properly instead.
    """

    def __init__(self, engine: Any) -> None:
        self._engine = engine
        self._get: Callable[[int, int], int] | None = None
        if driver_name() == "espeak":
            from pyttsx3.drivers import _espeak

            get_parameter = _espeak.dll.espeak_GetParameter
            get_parameter.argtypes = [ctypes.c_int, ctypes.c_int]
            get_parameter.restype = ctypes.c_int
            self._get = get_parameter
        self.default_pitch: int | None = self._get(_ESPEAK_PITCH, 0) if self._get else None

    def rate(self) -> int:
        """The rate the last utterance was spoken at."""
        if self._get is not None:
            return int(self._get(_ESPEAK_RATE, 1))
        return int(self._engine.getProperty("rate"))


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


def serve(conn: Connection) -> None:  # pragma: no cover - runs in a child process
    """Serve synthesis requests over ``conn`` until told to stop."""
    sys.stdout = Path(os.devnull).open("w")  # noqa: SIM115 - pyttsx3 prints the file it saved
    from imr_audio.voice.espeak_runtime import prepare_espeak

    prepare_espeak()
    import pyttsx3

    engine = pyttsx3.init(driver_name())
    readback = _Readback(engine)
    set_property = _property_setter(engine)
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is None:
            return
        kind = message[0]
        try:
            if kind == "voices":
                voices = engine.getProperty("voices")
                conn.send(("ok", [(v.id, v.name, tuple(v.languages or ())) for v in voices]))
            elif kind == "say":
                _, text, voice_id, rate, volume, pitch, out_path = message
                try:
                    set_property("voice", voice_id)
                except (KeyError, ValueError):
                    conn.send(("error", f"voice '{voice_id}' was not applied"))
                    continue
                set_property("rate", rate)
                set_property("volume", volume)
                # No pitch asked for means the engine's default, never the last request's.
                pitch = readback.default_pitch if pitch is None else pitch
                if pitch is not None:
                    with contextlib.suppress(KeyError, ValueError):
                        set_property("pitch", pitch)
                engine.save_to_file(text, out_path)
                engine.runAndWait()
                _wait_for_wav(out_path)
                # Only once the file exists has the utterance used the settings: read them now.
                applied = (str(engine.getProperty("voice")), readback.rate())
                conn.send(("ok", applied))
            else:
                conn.send(("error", f"unknown request {kind!r}"))
        except Exception as exc:
            conn.send(("error", type(exc).__name__))


def main() -> None:  # pragma: no cover - runs in a child process
    """Entry of a worker started by :class:`imr_audio.voice.pyttsx3_engine.Pyttsx3Engine`.

    ``argv[1]`` is the file descriptor of its end of a socket pair, ``argv[2]`` the parent's
    ``sys.path`` as JSON (as multiprocessing's spawn would pass it).
    """
    sys.path[:] = json.loads(sys.argv[2])
    serve(Connection(int(sys.argv[1])))
