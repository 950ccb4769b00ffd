"""The Piper worker process: loads Piper voices and synthesises speech for the engine.

:class:`imr_audio.voice.piper_engine.PiperEngine` runs this module in a process of its own, so
that onnxruntime's memory (the model, about 140 MB, and its arena, which stays allocated at the
largest sentence's size) is given back when synthesis is over, before the track is mixed. A
worker imports only this module, the standard library, numpy, onnxruntime and piper; never the
mixer, scipy or the command line. Trimming and verifying the clips stays in the engine.

Protocol, over a :class:`multiprocessing.connection.Connection`, one request at a time:

* ``("load", voice_id, model_path, config_path)``: load the voice under the key ``voice_id``;
  answers ``("ok", (sample_rate_hz, length_scale))``, the voice's own rate and length scale.
* ``("say", voice_id, text, length_scale, volume)``: synthesise ``text`` with a loaded voice;
  answers ``("ok", sample_count)`` followed by the samples as raw bytes (``send_bytes``: mono
  float32 in the machine's byte order).
* ``None``, or the connection closing: the worker exits.

A request that fails is answered ``("error", name)`` with the exception's type name only, never
a message that could quote the text.
"""

from __future__ import annotations

import json
import signal
import sys
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

__all__ = ["load_voice", "main", "serve", "synthesize"]


def load_voice(model_path: str, config_path: str) -> Any:
    """A ``PiperVoice`` whose onnxruntime session neither spins nor plans memory ahead.

    Spinning worker threads wait busily for work; on a machine that is busy anyway (a render
    mixing, other programs) that halved the synthesis speed in measurements (real-time factor
    6x against 12x on 2 cores), so they sleep instead. The memory pattern planner
    (``enable_mem_pattern``) allocates ahead for inputs of a size it has seen: with it a
    44-word sentence (17 s of speech) spoken a second time peaked at 647 MB, without it at
    481 MB both times, at no loss of speed (``en_US-joe-medium``, onnxruntime 1.32).
    Without the memory arena (``enable_cpu_mem_arena = False``) synthesis was about 35 %
    slower for little more gain, so the arena stays. onnxruntime logs only errors.
    """
    import onnxruntime
    from piper import PiperConfig, PiperVoice

    config = PiperConfig.from_dict(json.loads(Path(config_path).read_text(encoding="utf-8")))
    options = onnxruntime.SessionOptions()
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.enable_mem_pattern = False
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(
        model_path, sess_options=options, providers=["CPUExecutionProvider"]
    )
    return PiperVoice(session=session, config=config)


def synthesize(voice: Any, text: str, length_scale: float, volume: float) -> Any:
    """Raw float32 samples of ``text``: Piper's sentence chunks, joined (a numpy array)."""
    import numpy as np
    from piper import SynthesisConfig

    # normalize_audio=False: the model's own level, not each sentence peak-normalised,
    # keeps the loudness of consecutive clips even.
    config = SynthesisConfig(length_scale=length_scale, volume=volume, normalize_audio=False)
    chunks = [chunk.audio_float_array for chunk in voice.synthesize(text, config)]
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    return np.ascontiguousarray(np.concatenate(chunks), dtype=np.float32)


def _answer(voices: dict[str, Any], message: tuple[Any, ...]) -> tuple[Any, Any]:
    """The answer to ``message`` and the samples to send after it (None: nothing)."""
    kind = message[0]
    if kind == "load":
        _, voice_id, model_path, config_path = message
        voice = load_voice(model_path, config_path)
        voices[voice_id] = voice
        return ("ok", (int(voice.config.sample_rate), float(voice.config.length_scale))), None
    if kind == "say":
        _, voice_id, text, length_scale, volume = message
        samples = synthesize(voices[voice_id], text, length_scale, volume)
        return ("ok", len(samples)), samples
    return ("error", f"unknown request {kind!r}"), None


def serve(conn: Connection) -> None:  # pragma: no cover - runs in a child process
    """Answer requests over ``conn`` until told to stop or the connection closes."""
    voices: dict[str, Any] = {}
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        try:
            answer, samples = _answer(voices, message)
        except Exception as exc:  # onnxruntime, piper, file and json errors alike
            answer, samples = ("error", type(exc).__name__), None
        try:
            conn.send(answer)
            if samples is not None:
                conn.send_bytes(memoryview(samples).cast("B"))
        except OSError:  # the engine has gone
            return


def main() -> None:  # pragma: no cover - runs in a child process
    """Entry of a worker started by :class:`imr_audio.voice.piper_engine.PiperEngine`.

    ``argv[1]`` is the file descriptor of its end of a socket pair, ``argv[2]`` the parent's
    ``sys.path`` as JSON (as multiprocessing's spawn would pass it). Ctrl-C is left to the
    parent, which stops the worker: a worker interrupted on its own would print a traceback.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.path[:] = json.loads(sys.argv[2])
    serve(Connection(int(sys.argv[1])))
