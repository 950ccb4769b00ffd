"""The Piper worker process: loads Piper voices and synthesises speech for the engine.

:class:`imr_audio.voice.piper_engine.PiperEngine` runs this module in a process of its own, so
that onnxruntime's memory (the model, about 140 MB, and its arena, which stays allocated at the
largest sentence's size) is given back when synthesis is over, before the track is mixed. A
worker imports only this module, the standard library, numpy, onnxruntime and piper; never the
mixer, scipy or the command line. Trimming and verifying the clips stays in the engine.

Decoding in windows. A Piper voice is one onnx graph that decodes a whole sentence at once, and
its decoder's memory grows with the sentence: about 20-25 MB per second of speech, so a
25-word sentence spoken calmly took the worker to 430 MB. So the graph is split, once per
voice, into its encoder (phonemes to latent frames, small) and its decoder (frames to audio,
convolutions only), and the decoder runs on windows of :data:`WINDOW_FRAMES` frames with
:data:`CONTEXT_FRAMES` frames of context on either side, which are decoded and dropped. The
decoder reaches 16 frames at most (with 16 frames of context the audio was the same to the
bit), so the result is the whole decoding's. The split models are written to a cache folder
the engine gives (:func:`split_model` runs in a short process of its own with the ``onnx``
package, so its memory is given back); a voice laid out otherwise, or without ``onnx``, is
decoded whole.

Protocol, over a :class:`multiprocessing.connection.Connection`, one request at a time:

* ``("load", voice_id, model_path, config_path, split_root)``: load the voice under the key
  ``voice_id``, decoded in windows when ``split_root`` (a folder, or None) holds or can take its
  split; answers ``("ok", (sample_rate_hz, length_scale, decoding))``: the voice's own rate and
  length scale, and ``"windowed"`` or ``"whole"``.
* ``("say", voice_id, text, length_scale, volume)``: synthesise ``text`` with a loaded voice;
  answers ``("ok", sample_count)`` followed by the samples as raw bytes (``send_bytes``: mono
  float32 in the machine's byte order).
* ``None``, or the connection closing: the worker exits.

A request that fails is answered ``("error", name)`` with the exception's type name only, never
a message that could quote the text.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

__all__ = [
    "CONTEXT_FRAMES",
    "WINDOW_FRAMES",
    "load_voice",
    "main",
    "serve",
    "split_main",
    "split_model",
    "synthesize",
]

WINDOW_FRAMES = 128
"""Decoder frames per window (256 samples each for Piper's voices: 1.5 s at 22.05 kHz)."""
CONTEXT_FRAMES = 24
"""Frames decoded on either side of a window and dropped (the decoder reaches 16)."""
_SPLIT_FORMAT = 1  # part of the split's folder name
_DECODER_FIRST_NODE = "/dec/conv_pre/Conv"  # where the decoder starts in Piper's VITS export
_INPUTS = ("input", "input_lengths", "scales")  # a single-speaker voice's inputs
_NOT_SPLITTABLE = 3  # split_main's exit code for a voice laid out otherwise


def _options() -> Any:
    """Session options: threads that sleep, no memory planned ahead, only errors logged.

    Spinning worker threads wait busily for work; on a machine that is busy anyway (a render
    mixing, other programs) that halved the synthesis speed in measurements (real-time factor
    6x against 12x on 2 cores), so they sleep instead. The memory pattern planner
    (``enable_mem_pattern``) allocates ahead for inputs of a size it has seen: with it a
    44-word sentence (17 s of speech) spoken a second time peaked at 647 MB, without it at
    481 MB both times, at no loss of speed (``en_US-joe-medium``, onnxruntime 1.32, decoded
    whole). Without the memory arena (``enable_cpu_mem_arena = False``) synthesis was about
    35 % slower for little more gain, so the arena stays.
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.enable_mem_pattern = False
    options.log_severity_level = 3
    return options


def _session(path: Path | str) -> Any:
    import onnxruntime

    return onnxruntime.InferenceSession(str(path), sess_options=_options(),
                                        providers=["CPUExecutionProvider"])


class _WindowedSession:
    """Runs a split voice like its whole graph: the encoder, then the decoder window by window.

    Stands in for the onnxruntime session a ``PiperVoice`` calls (``run``), so phonemes, noise
    and Piper's own handling of the audio stay Piper's.
    """

    def __init__(self, encoder: Any, decoder: Any) -> None:
        self._encoder = encoder
        self._decoder = decoder
        self._latent = decoder.get_inputs()[0].name

    def run(self, output_names: Any, feeds: dict[str, Any]) -> list[Any]:
        import numpy as np

        latent = self._encoder.run(None, feeds)[0]  # (1, channels, frames)
        frames = latent.shape[-1]
        pieces = []
        for start in range(0, frames, WINDOW_FRAMES):
            low, high = max(0, start - CONTEXT_FRAMES), min(frames, start + WINDOW_FRAMES
                                                            + CONTEXT_FRAMES)
            audio = self._decoder.run(None, {self._latent: latent[..., low:high]})[0]
            hop, extra = divmod(audio.shape[-1], high - low)
            if extra:
                raise ValueError("the decoder's output is not whole frames")
            keep = min(WINDOW_FRAMES, frames - start)
            pieces.append(audio[..., (start - low) * hop : (start - low + keep) * hop])
        if not pieces:
            return [np.zeros((1, 1, 0), dtype=np.float32)]
        return [np.concatenate(pieces, axis=-1)]


def _split_folder(model_path: str, split_root: str) -> Path:
    """Where the split of ``model_path`` goes: named by the hash of the model's bytes."""
    digest = hashlib.sha256()
    with Path(model_path).open("rb") as model:
        while chunk := model.read(1 << 20):
            digest.update(chunk)
    return Path(split_root) / f"{digest.hexdigest()[:32]}-v{_SPLIT_FORMAT}"


def split_model(model_path: str, folder: str) -> bool:
    """Write ``model_path``'s encoder and decoder to ``folder``; False if it cannot be split.

    Needs the ``onnx`` package. A voice that is not a single-speaker Piper VITS export (other
    inputs, no decoder where Piper's has it, a decoder needing more than the latent frames) is
    not split. The decoder is written first and the encoder last, each to a temporary file
    renamed into place: the encoder's presence means the split is complete.
    """
    import onnx
    import onnx.utils

    model = onnx.load(model_path)
    if sorted(i.name for i in model.graph.input) != sorted(_INPUTS):
        return False
    first = next((n for n in model.graph.node if n.name == _DECODER_FIRST_NODE), None)
    if first is None or len(model.graph.output) != 1:
        return False
    extractor = onnx.utils.Extractor(model)
    decoder = extractor.extract_model([first.input[0]], [model.graph.output[0].name])
    if len(decoder.graph.input) != 1:
        return False
    target = Path(folder)
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    _save(onnx, decoder, target / "decoder.onnx")
    del decoder
    _save(onnx, extractor.extract_model(list(_INPUTS), [first.input[0]]), target / "encoder.onnx")
    return True


def _save(onnx: Any, model: Any, path: Path) -> None:
    fd, name = tempfile.mkstemp(prefix=".imr-", suffix=".part", dir=path.parent)  # 0600
    os.close(fd)
    try:
        onnx.save(model, name)
        Path(name).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(name).unlink()
        raise


def _split_in_own_process(model_path: str, folder: Path) -> None:
    """Split the model in a short process of its own (onnx takes ~270 MB there, given back)."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run(
            [sys.executable, "-c", "from imr_audio.voice.piper_worker import split_main; "
             "split_main()", model_path, str(folder), json.dumps(sys.path)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            timeout=600, check=False,
        )
        if done.returncode == _NOT_SPLITTABLE:  # remembered: not tried again for this voice
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            (folder / "whole").touch(mode=0o600)


def load_voice(model_path: str, config_path: str, split_root: str | None = None) -> Any:
    """A ``PiperVoice``, decoded in windows when its split is in or can go to ``split_root``.

    Returns the voice and ``"windowed"`` or ``"whole"``.
    """
    from piper import PiperConfig, PiperVoice

    config = PiperConfig.from_dict(json.loads(Path(config_path).read_text(encoding="utf-8")))
    if split_root is not None:
        folder = _split_folder(model_path, split_root)
        if not (folder / "encoder.onnx").is_file() and not (folder / "whole").exists():
            _split_in_own_process(model_path, folder)
        if (folder / "encoder.onnx").is_file():
            session = _WindowedSession(_session(folder / "encoder.onnx"),
                                       _session(folder / "decoder.onnx"))
            return PiperVoice(session=session, config=config), "windowed"
    return PiperVoice(session=_session(model_path), config=config), "whole"


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
        _, voice_id, model_path, config_path, split_root = message
        voice, decoding = load_voice(model_path, config_path, split_root)
        voices[voice_id] = voice
        answer = (int(voice.config.sample_rate), float(voice.config.length_scale), decoding)
        return ("ok", answer), None
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


def split_main() -> None:  # pragma: no cover - runs in a child process
    """Entry of the process that splits a voice: ``argv`` is the model, the folder, sys.path.

    Exits 0 when split, :data:`_NOT_SPLITTABLE` when the voice is laid out otherwise, 1 when
    the split failed (e.g. no ``onnx``): then the voice is decoded whole this time.
    """
    sys.path[:] = json.loads(sys.argv[3])
    try:
        split = split_model(sys.argv[1], sys.argv[2])
    except Exception:  # any failure means: decode whole this time
        sys.exit(1)
    sys.exit(0 if split else _NOT_SPLITTABLE)
