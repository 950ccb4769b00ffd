"""ffmpeg as an encoder (raw PCM fed on stdin) and as a decoder of what soundfile cannot read.

The system's ffmpeg is used when there is one, else the binary the ``imageio-ffmpeg`` package
ships (a dependency, so one is always there).
"""

from __future__ import annotations

import contextlib
import functools
import queue
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO

import numpy as np
import numpy.typing as npt
import soundfile as sf

from imr_audio.errors import ExportError

__all__ = [
    "BlockSink",
    "FfmpegError",
    "ffmpeg_decode",
    "ffmpeg_decode_blocks",
    "ffmpeg_encode",
    "ffmpeg_encode_blocks",
    "ffmpeg_exe",
]

_BLOCK_FRAMES = 1 << 16


class FfmpegError(ExportError):
    """ffmpeg is missing or failed; the message holds its last line of output."""


@functools.lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary: the system's, else imageio-ffmpeg's."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError):
        raise FfmpegError(
            "ffmpeg not found: install ffmpeg or the imageio-ffmpeg package"
        ) from None


def _last_line(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines()]
    return next((line for line in reversed(lines) if line), "no message")


BlockSink = Callable[[npt.NDArray[np.float32]], None]
"""Receives decoded audio, a block (frames x channels) at a time."""


def _read_decoded(stream: IO[bytes], channels: int, sink: BlockSink) -> None:
    """Read raw float32 PCM from ``stream`` until it ends, passing whole frames to ``sink``."""
    frame_bytes = 4 * channels
    pending = b""
    while chunk := stream.read(_BLOCK_FRAMES * frame_bytes):
        pending += chunk
        usable = len(pending) - len(pending) % frame_bytes
        if usable:
            sink(np.frombuffer(pending[:usable], dtype=np.float32).reshape(-1, channels))
            pending = pending[usable:]


def _decoder_command(input_format: str | None, source: str, channels: int) -> list[str]:
    fmt = ["-f", input_format] if input_format else []
    return [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", *fmt, "-i", source,
            "-map", "0:a:0", "-ac", str(channels), "-flush_packets", "0", "-f", "f32le",
            "pipe:1"]


def ffmpeg_encode_blocks(
    blocks: Iterable[npt.NDArray[np.float32]],
    sample_rate_hz: int,
    channels: int,
    path: Path,
    output_args: Sequence[str],
    input_args: Sequence[str] = (),
    tap: tuple[str, BlockSink] | None = None,
) -> None:
    """Encode audio given as blocks (frames x ``channels``) to ``path`` with ffmpeg.

    The blocks are piped as raw 32-bit float PCM as they come, so the track is never whole in
    memory. ``input_args`` add further inputs (e.g. ``-i chapters.txt``) after the audio;
    ``output_args`` choose the codec (the muxer is given by ``-f`` in them).

    ``tap`` (a muxer name and a sink) decodes the very packets written to ``path`` while they
    are written: ffmpeg's tee muxer sends them to ``path`` and, in that muxer, to a second
    ffmpeg that decodes them into the sink. The encoded result can so be measured without a
    second pass over the file. Raises :class:`FfmpegError` on failure.
    """
    args = list(output_args)
    target = str(path)
    if tap is not None:
        muxer = args[args.index("-f") + 1]
        file_options = ":".join(_muxer_options(args))
        del args[args.index("-f") : args.index("-f") + 2]
        args = [a for i, a in enumerate(args) if not _is_muxer_option(args, i)]
        slave = f"f={muxer}" + (f":{file_options}" if file_options else "")
        # flush_packets=0: the pipe gets 32 KiB writes, not one per packet (an MP3 frame is
        # 26 ms), which woke the decoder 48,000 times in a 20-minute track.
        tapped = f"[f={tap[0]}:onfail=abort:flush_packets=0]pipe:1"
        target = f"[{slave}]{_tee_escape(str(path))}|{tapped}"
        args += ["-f", "tee"]
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
        "-f", "f32le", "-ar", str(sample_rate_hz), "-ac", str(channels), "-i", "pipe:0",
        *input_args, *args, target,
    ]
    # stderr goes to files: a full stderr pipe would block ffmpeg while we write its stdin.
    with tempfile.TemporaryFile() as errors, tempfile.TemporaryFile() as decode_errors:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE if tap else subprocess.DEVNULL,
                                stderr=errors)
        decoder = reader = None
        failure: list[BaseException] = []
        if tap is not None:
            assert proc.stdout is not None
            decoder = subprocess.Popen(_decoder_command(tap[0], "pipe:0", channels),
                                       stdin=proc.stdout, stdout=subprocess.PIPE,
                                       stderr=decode_errors)
            proc.stdout.close()  # the decoder holds it now
            sink = tap[1]

            def read() -> None:
                assert decoder is not None and decoder.stdout is not None
                try:
                    _read_decoded(decoder.stdout, channels, sink)
                except BaseException as exc:  # re-raised in the calling thread
                    failure.append(exc)
                    decoder.stdout.close()

            reader = threading.Thread(target=read, daemon=True)
            reader.start()
        assert proc.stdin is not None
        feeder = _Feeder(proc.stdin)
        try:
            for block in blocks:
                if not feeder.put(np.ascontiguousarray(block, dtype=np.float32)):
                    break  # ffmpeg stopped early; its message says why
        finally:
            feeder.close()
            code = proc.wait()
            if decoder is not None and reader is not None:
                decoder.wait()
                reader.join()
        if code != 0:
            errors.seek(0)
            raise FfmpegError(f"ffmpeg failed: {_last_line(errors.read())}")
        if failure:
            raise failure[0]
        if decoder is not None and decoder.returncode != 0:
            decode_errors.seek(0)
            raise FfmpegError(f"ffmpeg could not decode the encoded audio: "
                              f"{_last_line(decode_errors.read())}")


class _Feeder:
    """Writes to ffmpeg's stdin from a thread of its own, a few blocks behind the producer.

    A pipe holds 64 KiB: written directly, ffmpeg drained it in a moment and then waited while
    the next block was mixed and limited, so the encoder and the mixing took turns instead of
    running at once (a 20-minute render spent 7 s more in encoding than the encoder alone).
    """

    def __init__(self, stdin: IO[bytes], depth: int = 8) -> None:
        self._stdin = stdin
        self._queue: queue.Queue[npt.NDArray[np.float32] | None] = queue.Queue(maxsize=depth)
        self._broken = threading.Event()
        self._thread = threading.Thread(target=self._write, daemon=True)
        self._thread.start()

    def _write(self) -> None:
        while (chunk := self._queue.get()) is not None:
            if self._broken.is_set():
                continue  # ffmpeg is gone: drain, so the producer is never left waiting
            try:
                self._stdin.write(chunk.data)
            except (BrokenPipeError, OSError):
                self._broken.set()
        with contextlib.suppress(BrokenPipeError, OSError):
            self._stdin.close()

    def put(self, chunk: npt.NDArray[np.float32]) -> bool:
        """Queue ``chunk`` (C-contiguous) for ffmpeg; False once ffmpeg no longer reads."""
        self._queue.put(chunk)
        return not self._broken.is_set()

    def close(self) -> None:
        """Write what is queued, close ffmpeg's stdin and wait for the thread."""
        self._queue.put(None)
        self._thread.join()


_MUXER_OPTIONS = ("-id3v2_version", "-write_id3v1", "-movflags")


def _is_muxer_option(args: Sequence[str], index: int) -> bool:
    """Whether ``args[index]`` is a muxer option or its value (moved into the tee slave)."""
    return args[index] in _MUXER_OPTIONS or (index > 0 and args[index - 1] in _MUXER_OPTIONS)


def _muxer_options(args: Sequence[str]) -> list[str]:
    return [f"{args[i].lstrip('-')}={args[i + 1]}" for i in range(len(args) - 1)
            if args[i] in _MUXER_OPTIONS]


def _tee_escape(name: str) -> str:
    """A file name as the tee muxer's list syntax needs it."""
    for char in "\\|[]:=":
        name = name.replace(char, "\\" + char)
    return name


def ffmpeg_encode(
    samples: npt.NDArray[np.float32],
    sample_rate_hz: int,
    path: Path,
    output_args: Sequence[str],
    input_args: Sequence[str] = (),
) -> None:
    """Encode ``samples`` (frames x channels) to ``path`` with ffmpeg (see the block version)."""
    audio = samples if samples.ndim == 2 else samples[:, None]
    blocks = (audio[start : start + _BLOCK_FRAMES] for start in range(0, len(audio), _BLOCK_FRAMES))
    ffmpeg_encode_blocks(blocks, sample_rate_hz, audio.shape[1], path, output_args, input_args)


def ffmpeg_decode_blocks(path: Path, channels: int, sink: BlockSink) -> None:
    """Decode the first audio stream of ``path`` with ``channels`` channels, block by block."""
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(_decoder_command(None, str(path), channels),
                                stdout=subprocess.PIPE, stderr=errors)
        assert proc.stdout is not None
        try:
            _read_decoded(proc.stdout, channels, sink)
        finally:
            proc.stdout.close()
            code = proc.wait()
        if code != 0:
            errors.seek(0)
            raise FfmpegError(f"ffmpeg could not decode it: {_last_line(errors.read())}")


def ffmpeg_decode(path: Path) -> tuple[npt.NDArray[np.float32], int]:
    """Decode any file ffmpeg reads to float samples (frames x channels) and its rate.

    Codec padding (MP3 and AAC priming, Opus pre-skip) is trimmed as the container says.
    Decodes through a 32-bit float WAV in a private temporary folder (0700), removed after.
    Raises :class:`FfmpegError` when ffmpeg cannot decode it.
    """
    with tempfile.TemporaryDirectory(prefix="imr-decode-") as folder:
        wav = Path(folder) / "decoded.wav"
        result = subprocess.run(
            [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-i", str(path),
             "-map", "0:a:0", "-c:a", "pcm_f32le", "-rf64", "auto", "-f", "wav", str(wav)],
            capture_output=True, check=False,
        )
        if result.returncode != 0:
            raise FfmpegError(f"ffmpeg could not decode it: {_last_line(result.stderr)}")
        data, rate = sf.read(str(wav), dtype="float32", always_2d=True)
    return data, int(rate)
