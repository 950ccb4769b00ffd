"""ffmpeg as an encoder (raw PCM fed on stdin) and as a decoder of what soundfile cannot read.

The system's ffmpeg is used when there is one, else the binary the ``imageio-ffmpeg`` package
ships (a dependency, so one is always there).
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile as sf

from imr_audio.errors import ExportError

__all__ = ["FfmpegError", "ffmpeg_decode", "ffmpeg_encode", "ffmpeg_exe"]

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


def ffmpeg_encode(
    samples: npt.NDArray[np.float32],
    sample_rate_hz: int,
    path: Path,
    output_args: Sequence[str],
    input_args: Sequence[str] = (),
) -> None:
    """Encode ``samples`` (frames x channels) to ``path`` with ffmpeg.

    The samples are piped as raw 32-bit float PCM, one block at a time (no copy of the whole
    track). ``input_args`` add further inputs (e.g. ``-i chapters.txt``) after the audio;
    ``output_args`` choose the codec and muxer. Raises :class:`FfmpegError` on failure.
    """
    audio = np.ascontiguousarray(samples if samples.ndim == 2 else samples[:, None],
                                 dtype=np.float32)
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
        "-f", "f32le", "-ar", str(sample_rate_hz), "-ac", str(audio.shape[1]), "-i", "pipe:0",
        *input_args, *output_args, str(path),
    ]
    # stderr goes to a file: a full stderr pipe would block ffmpeg while we write its stdin.
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=errors)
        assert proc.stdin is not None
        try:
            for start in range(0, len(audio), _BLOCK_FRAMES):
                proc.stdin.write(audio[start : start + _BLOCK_FRAMES].tobytes())
            proc.stdin.close()
        except BrokenPipeError:  # ffmpeg stopped early; its message says why
            pass
        finally:
            code = proc.wait()
        if code != 0:
            errors.seek(0)
            raise FfmpegError(f"ffmpeg failed: {_last_line(errors.read())}")


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
