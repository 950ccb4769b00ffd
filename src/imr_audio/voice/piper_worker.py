"""The Piper worker process: loads Piper voices and synthesises speech for the engine.

:class:`imr_audio.voice.piper_engine.PiperEngine` runs this module in a process of its own, so
that onnxruntime's memory (the model, about 140 MB, and its arena, which stays allocated at the
largest sentence's size) is given back when synthesis is over, before the track is mixed. A
worker imports only this module, :mod:`imr_audio.voice.piper_graph` (whose ``onnx`` only the
process splitting a voice imports), the standard library, numpy, onnxruntime and piper; never
the mixer, scipy or the command line. Trimming and verifying the clips stays in the engine.

Seeded noise. A Piper voice (VITS) samples noise at every call: random nodes in its graph draw
the stochastic duration predictor's noise (scaled by ``noise_w``) and the prior's (scaled by
``noise_scale``), so one sentence came out differently each time (1.6 s longer once over a
short script), and a fresh machine or a cleared cache gave another track. So the graph is
rewritten, once per voice: each random node becomes an input, and the worker feeds it numpy
noise of the same distribution, drawn from a generator seeded by :func:`noise_seed` from what
the model is given for the sentence (its phoneme ids, the scales: noise, length, noise_w; the
speaker) and the model's own sha256. The same sentence gets the same noise anywhere; another
sentence, rate or voice gets other noise, so the speech stays as natural as Piper's own. As a
noise's shape is only known once the graph has run up to it (the prior's has one column per
output frame), the graph is cut into stages, each ending where a noise's shape is known.

Decoding in windows. The graph's last part, its decoder (latent frames to audio, convolutions
only), has memory that grows with the sentence: about 20-25 MB per second of speech, so a
25-word sentence spoken calmly took the worker to 430 MB. So the decoder is cut off too and
runs on windows of :data:`WINDOW_FRAMES` frames with :data:`CONTEXT_FRAMES` frames of context
on either side, which are decoded and dropped. The decoder reaches 16 frames at most (with 16
frames of context the audio was the same to the bit), so the result is the whole decoding's.

The stages are written to a cache folder the engine gives
(:func:`imr_audio.voice.piper_graph.split_model` runs in a short process of its own with the
``onnx`` package, so its memory is given back), or to a temporary folder when that one cannot
be written. A voice whose decoder is not where Piper's is, is decoded whole, its noise seeded
all the same. A voice whose randomness cannot be seeded (other random nodes, subgraphs), or a
machine without ``onnx``, is an error: never random speech.

Protocol, over a :class:`multiprocessing.connection.Connection`, one request at a time:

* ``("load", voice_id, model_path, config_path, split_root[, threads])``: load the voice under
  the key ``voice_id``, its stages kept in ``split_root`` (a folder, or None: a temporary one),
  its sessions with ``threads`` onnxruntime threads (see :func:`session_threads`);
  answers ``("ok", (sample_rate_hz, length_scale, decoding))``: the voice's own rate and
  length scale, and ``"windowed"`` or ``"whole"``.
* ``("say", voice_id, text, length_scale, volume, attempt)``: synthesise ``text`` with a loaded
  voice, its noise seeded for try number ``attempt`` (0 first); answers ``("ok",
  sample_count)`` followed by the samples as raw bytes (``send_bytes``: mono float32 in the
  machine's byte order).
* ``None``, or the connection closing: the worker exits.

A request that fails is answered ``("error", text)``: a :class:`VoiceLoadError`'s own fixed
sentence, or else the exception's type name only, never a message that could quote the text.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from imr_audio.files import private_dir
from imr_audio.voice.piper_graph import MANIFEST, NO_ONNX, NOT_SEEDABLE, SPLIT_FORMAT

__all__ = [
    "CONTEXT_FRAMES",
    "NOISE_FORMAT",
    "WINDOW_FRAMES",
    "VoiceLoadError",
    "load_voice",
    "main",
    "noise_seed",
    "serve",
    "synthesize",
]

WINDOW_FRAMES = 128
"""Decoder frames per window (256 samples each for Piper's voices: 1.5 s at 22.05 kHz)."""
CONTEXT_FRAMES = 24
"""Frames decoded on either side of a window and dropped (the decoder reaches 16)."""
NOISE_FORMAT = 1
"""How the noise is seeded and drawn (:func:`noise_seed`): part of the seed and of the engine's
version, so that clips cached before a change are not reused."""

_THREADS = 2  # onnxruntime's threads per session by default: fixed, for the same samples
SAME_SAMPLES_THREADS = (1, 2, 3)
"""Thread counts that give the same samples as :data:`_THREADS` (see :func:`_options`)."""
_NOT_SEEDABLE_MARK = "not-seedable"  # in a voice's folder: it is not split again


class VoiceLoadError(Exception):
    """A voice that cannot be loaded reproducibly; the message is a fixed sentence saying why."""


def noise_seed(model_sha256: str, feeds: Mapping[str, Any], attempt: int = 0) -> int:
    """The 64-bit seed of one sentence's noise: the first 8 bytes of a sha256, little-endian.

    Hashed: :data:`NOISE_FORMAT`, the model's sha256 (the voice), ``attempt`` (a clip tried
    again gets other noise), and every input the graph is fed, by name, in little-endian
    bytes with dtype and shape: the sentence's phoneme ids (Piper's phonemes of its text)
    and their count, the scales (noise, length: the rate, and noise_w), the speaker if any.
    """
    import numpy as np

    digest = hashlib.sha256(f"imr-audio piper noise {NOISE_FORMAT}\0{model_sha256}\0"
                            f"{attempt}\0".encode())
    for name in sorted(feeds):
        value = np.asarray(feeds[name])
        value = np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("<"))
        digest.update(f"{name}\0{value.dtype.str}\0{value.shape}\0".encode())
        digest.update(value.tobytes())
    return int.from_bytes(digest.digest()[:8], "little")


def _noise(seed: int, spec: Mapping[str, Any], shape: tuple[int, ...]) -> Any:
    """The noise of one random node, drawn like the node would, from its own generator."""
    import numpy as np

    rng = np.random.default_rng([seed, int(spec["index"])])
    dtype = np.dtype(spec["dtype"])
    draw = dtype if dtype == np.float64 else np.dtype(np.float32)
    a, b = float(spec["a"]), float(spec["b"])  # Python floats: the sums keep draw's dtype
    if spec["kind"] == "normal":  # mean a, scale b
        values = rng.standard_normal(shape, dtype=draw)
        if (a, b) != (0.0, 1.0):
            values = values * b + a
    else:  # uniform in [a, b)
        values = rng.random(shape, dtype=draw) * (b - a) + a
    return values.astype(dtype, copy=False)


def session_threads(wanted: int | None) -> int:
    """The onnxruntime threads of a session: ``wanted`` within :data:`SAME_SAMPLES_THREADS`.

    ``wanted`` is e.g. the cores a batch worker has; None gives :data:`_THREADS`.
    """
    if wanted is None:
        return _THREADS
    return min(max(wanted, SAME_SAMPLES_THREADS[0]), SAME_SAMPLES_THREADS[-1])


def _options(threads: int = _THREADS) -> Any:
    """Session options: a fixed number of threads that sleep, no memory planned ahead.

    onnxruntime splits some work by the number of threads it has: with 4, 6 or 8 threads
    the same sentence and noise came out otherwise in the last bits (3.8e-5 at most, from the
    text encoder's stage) than with 1, 2 or 3 (``en_US-joe-medium``, onnxruntime 1.32). By
    default that number is the machine's cores, so it is fixed instead: ``threads``, one of
    :data:`SAME_SAMPLES_THREADS` (:data:`_THREADS` unless a batch worker has fewer or more
    cores): the same samples on any machine (of the same processor family).

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
    options.intra_op_num_threads = threads
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.enable_mem_pattern = False
    options.log_severity_level = 3
    return options


def _session(path: Path | str, threads: int = _THREADS) -> Any:
    import onnxruntime

    return onnxruntime.InferenceSession(str(path), sess_options=_options(threads),
                                        providers=["CPUExecutionProvider"])


class _SeededSession:
    """Runs a split voice like its whole graph, with seeded noise, then decodes in windows.

    Stands in for the onnxruntime session a ``PiperVoice`` calls (``run``), so phonemes and
    Piper's own handling of the audio stay Piper's. ``attempt`` is part of the next seeds.
    """

    def __init__(self, folder: Path, model_sha256: str, windowed: bool,
                 threads: int = _THREADS) -> None:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        self._sha256 = model_sha256
        self._first_noises: list[dict[str, Any]] = manifest["noises_first"]
        self._stages = [(_session(folder / stage["file"], threads), stage["outputs"],
                         stage["noises"])
                        for stage in manifest["stages"]]
        self._results: list[str] = manifest["results"]
        decoder = manifest["decoder"]
        self._decoder = None if decoder is None else _session(folder / decoder, threads)
        self.windowed = windowed and self._decoder is not None
        self.attempt = 0

    def run(self, output_names: Any, feeds: dict[str, Any]) -> list[Any]:
        seed = noise_seed(self._sha256, feeds, self.attempt)
        values = dict(feeds)
        for spec in self._first_noises:
            values[spec["name"]] = _noise(seed, spec, _shape(spec, values))
        for session, outputs, noises in self._stages:
            inputs = {i.name: values[i.name] for i in session.get_inputs()}
            values.update(zip(outputs, session.run(outputs, inputs), strict=True))
            for spec in noises:  # shaped like a tensor this stage or an earlier one computed
                values[spec["name"]] = _noise(seed, spec, _shape(spec, values))
        if self._decoder is None:
            return [values[name] for name in self._results]
        return [_decode(self._decoder, values[self._results[0]], self.windowed)]


def _shape(spec: Mapping[str, Any], values: Mapping[str, Any]) -> tuple[int, ...]:
    """A noise's shape: fixed in the graph, or that of the tensor its node was given."""
    if spec["shape_of"] is None:
        return tuple(spec["shape"])
    return tuple(values[spec["shape_of"]].shape)


def _decode(decoder: Any, latent: Any, windowed: bool) -> Any:
    """The decoder's audio for ``latent`` (1, channels, frames): whole, or window by window."""
    import numpy as np

    name = decoder.get_inputs()[0].name
    frames = latent.shape[-1]
    if not windowed:
        return decoder.run(None, {name: latent})[0]
    pieces = []
    for start in range(0, frames, WINDOW_FRAMES):
        low, high = max(0, start - CONTEXT_FRAMES), min(frames, start + WINDOW_FRAMES
                                                        + CONTEXT_FRAMES)
        audio = decoder.run(None, {name: latent[..., low:high]})[0]
        hop, extra = divmod(audio.shape[-1], high - low)
        if extra:
            raise ValueError("the decoder's output is not whole frames")
        keep = min(WINDOW_FRAMES, frames - start)
        pieces.append(audio[..., (start - low) * hop : (start - low + keep) * hop])
    if not pieces:
        return np.zeros((1, 1, 0), dtype=np.float32)
    return np.concatenate(pieces, axis=-1)


def _model_sha256(model_path: str) -> str:
    digest = hashlib.sha256()
    with Path(model_path).open("rb") as model:
        while chunk := model.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _split_in_own_process(model_path: str, folder: Path) -> int:
    """Split the model in a short process of its own (onnx takes ~270 MB there, given back).

    Returns its exit status: 0 split, :data:`~imr_audio.voice.piper_graph.NOT_SEEDABLE`
    (remembered in ``folder``), :data:`~imr_audio.voice.piper_graph.NO_ONNX`, else a failure.
    """
    try:
        done = subprocess.run(
            [sys.executable, "-c", "from imr_audio.voice.piper_graph import split_main; "
             "split_main()", model_path, str(folder), json.dumps(sys.path)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            timeout=600, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return 1
    if done.returncode == NOT_SEEDABLE:  # remembered: not tried again for this voice
        with contextlib.suppress(OSError):
            private_dir(folder)
            (folder / _NOT_SEEDABLE_MARK).touch(mode=0o600)
    return done.returncode


_FAILURES = {
    NOT_SEEDABLE: "its noise cannot be seeded: random nodes laid out otherwise than in "
                  "Piper's voices",
    NO_ONNX: "seeding its noise needs the onnx package (install the 'neural' extra)",
}


def load_voice(model_path: str, config_path: str, split_root: str | None = None,
               windowed: bool = True, threads: int = _THREADS) -> Any:
    """A ``PiperVoice`` with seeded noise, decoded in windows when its decoder was found.

    Its stages are kept in ``split_root`` (split once per model), or made in a temporary
    folder when ``split_root`` is None or cannot take them. ``windowed=False`` decodes whole.
    ``threads``: onnxruntime's threads per session (see :func:`session_threads`).
    Returns the voice and ``"windowed"`` or ``"whole"``. Raises :class:`VoiceLoadError` when
    its noise cannot be seeded, never giving a voice whose noise is random.
    """
    from piper import PiperConfig, PiperVoice

    config = PiperConfig.from_dict(json.loads(Path(config_path).read_text(encoding="utf-8")))
    sha256 = _model_sha256(model_path)
    session = None
    if split_root is not None:
        folder = Path(split_root) / f"{sha256[:32]}-v{SPLIT_FORMAT}"
        status = 0
        if (folder / _NOT_SEEDABLE_MARK).exists():
            status = NOT_SEEDABLE
        elif not (folder / MANIFEST).is_file():
            status = _split_in_own_process(model_path, folder)
            for old in range(1, SPLIT_FORMAT):  # this voice split as an older version made it
                shutil.rmtree(Path(split_root) / f"{sha256[:32]}-v{old}", ignore_errors=True)
        if status in _FAILURES:
            raise VoiceLoadError(_FAILURES[status])
        if (folder / MANIFEST).is_file():
            session = _SeededSession(folder, sha256, windowed, threads)
    if session is None:  # the stages are read into memory before the folder goes
        with tempfile.TemporaryDirectory(prefix="imr-piper-") as temp:
            status = _split_in_own_process(model_path, Path(temp) / "voice")
            if status != 0:
                raise VoiceLoadError(_FAILURES.get(status, "its model could not be split"))
            session = _SeededSession(Path(temp) / "voice", sha256, windowed, threads)
    voice = PiperVoice(session=session, config=config)
    return voice, "windowed" if session.windowed else "whole"


def synthesize(voice: Any, text: str, length_scale: float, volume: float,
               attempt: int = 0) -> Any:
    """Raw float32 samples of ``text``: Piper's sentence chunks, joined (a numpy array).

    Each sentence's noise is seeded (:func:`noise_seed`) with ``attempt``: 0 first, 1 for a
    clip tried again.
    """
    import numpy as np
    from piper import SynthesisConfig

    voice.session.attempt = attempt
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
        _, voice_id, model_path, config_path, split_root, *more = message
        threads = session_threads(more[0] if more else None)
        voice, decoding = load_voice(model_path, config_path, split_root, threads=threads)
        voices[voice_id] = voice
        answer = (int(voice.config.sample_rate), float(voice.config.length_scale), decoding)
        return ("ok", answer), None
    if kind == "say":
        _, voice_id, text, length_scale, volume, attempt = message
        samples = synthesize(voices[voice_id], text, length_scale, volume, attempt)
        return ("ok", len(samples)), samples
    return ("error", f"unknown request {kind!r}"), None


def _import_onnxruntime() -> None:  # pragma: no cover - runs in a child process
    """Import onnxruntime with the temporary folder at a private one, removed afterwards.

    Its import writes a session file (``.ses``, a time and an id for its telemetry) into the
    temporary folder, and nothing there later (onnxruntime 1.32): a render leaves nothing in
    the system's temporary folder, this file included.
    """
    own = tempfile.mkdtemp(prefix=".imr-onnxruntime-")
    before = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = own
    try:
        with contextlib.suppress(ImportError):  # without the neural extra, an error per request
            import onnxruntime  # noqa: F401
    finally:
        if before is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = before
        shutil.rmtree(own, ignore_errors=True)


def serve(conn: Connection) -> None:  # pragma: no cover - runs in a child process
    """Answer requests over ``conn`` until told to stop or the connection closes."""
    _import_onnxruntime()
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
        except VoiceLoadError as exc:  # a fixed sentence of this module's
            answer, samples = ("error", str(exc)), None
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
