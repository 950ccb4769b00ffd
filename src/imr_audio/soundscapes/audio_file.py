"""A bed from an audio file (the therapist's own recording): decoded, resampled, looped.

The file is decoded, resampled and looped without a seam.

WAV, FLAC, OGG and MP3 are decoded with soundfile; anything soundfile cannot read (M4A, AAC,
MP4, Opus...) through pydub with ffmpeg: the system's ``ffmpeg``, else the binary the
``imageio-ffmpeg`` package ships. The audio is resampled with soxr, mono made stereo (the same
signal on both sides), trimmed of silence at either end, and made into a loop: the loop's end
is blended into its start with an equal-power crossfade (up to 2 s) at a point where both are
quiet and alike (level and spectrum), so that repeating it has no seam. The loop is scaled to
the beds' -30 LUFS (keeping 6 dB of headroom) and repeated for any length.

A recording's content is not known: its themes are empty, so the clinical lint cannot check it
against a client's avoid-list.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import shutil
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr
from numpy.typing import NDArray

from imr_audio.errors import AudioDecodeError
from imr_audio.soundscapes.base import TARGET_LUFS, SoundscapeInfo, frame_count

__all__ = [
    "AUDIO_SUFFIXES",
    "AudioFileSoundscape",
    "Loop",
    "decode_recording",
    "ffmpeg_executable",
    "file_identity",
    "is_audio_path",
    "make_loop",
]

AUDIO_SUFFIXES = frozenset(
    {".wav", ".flac", ".ogg", ".oga", ".mp3", ".aif", ".aiff", ".m4a", ".aac", ".mp4", ".opus"}
)
"""File name endings that make a soundscape name a path to a recording."""

MIN_LOOP_S = 2.0
"""Shortest recording (after trimming silence at either end) that can be looped, in seconds."""

MAX_RECORDING_S = 10 * 60.0
"""Longest recording accepted (it is held in memory), in seconds."""

_CROSSFADE_S = 2.0  # longest crossfade; a quarter of the recording at most
_FRAME_S = 0.05  # hop of the level and spectrum analysis
_BAND_EDGES_HZ = (60.0, 150.0, 400.0, 1000.0, 2500.0, 6000.0, 16000.0)
_HEADROOM_DBFS = -6.0


def is_audio_path(name: str) -> bool:
    """Return whether ``name`` ends like an audio file (it need not exist)."""
    return Path(name).suffix.lower() in AUDIO_SUFFIXES


def ffmpeg_executable() -> str:
    """Return the system's ``ffmpeg``, else the one of the ``imageio-ffmpeg`` package.

    Raises
    ------
    AudioDecodeError
        If neither is available.

    """
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg
    except ImportError:
        raise AudioDecodeError(
            "decoding this format needs ffmpeg: install it or the imageio-ffmpeg package"
        ) from None
    return str(imageio_ffmpeg.get_ffmpeg_exe())


def decode_recording(path: Path) -> tuple[NDArray[np.float32], int]:
    """Decode ``path`` to float32 ``(frames, channels)`` and its sample rate.

    Raises
    ------
    AudioDecodeError
        Naming the file, if it is missing, cannot be decoded, is too long or holds no audio.

    """
    path = Path(path)
    if not path.is_file():
        raise AudioDecodeError(f"{path}: file not found")
    too_long = AudioDecodeError(
        f"{path}: the recording is longer than {MAX_RECORDING_S / 60:g} minutes; "
        "use a shorter loop"
    )
    try:
        with _native_stderr_quiet():  # libmpg123 prints "Note: ..." lines on a damaged MP3
            info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, OSError, ValueError):
        # ffmpeg decodes at most a little more than the longest allowed: a longer file is
        # refused by its length without being decoded whole.
        data, rate = _decode_with_ffmpeg(path, MAX_RECORDING_S + 1.0)
    else:
        if info.frames > MAX_RECORDING_S * info.samplerate:  # the header's length: no decoding
            raise too_long
        with _native_stderr_quiet():
            data, rate = _read_blocks(path)
    if len(data) == 0 or not np.any(data):
        raise AudioDecodeError(f"{path}: the file holds no audio")
    if not np.all(np.isfinite(data)):
        raise AudioDecodeError(f"{path}: the file holds invalid samples")
    if len(data) > MAX_RECORDING_S * rate:
        raise too_long
    return data, int(rate)


_BLOCK_FRAMES = 1 << 16


@contextlib.contextmanager
def _native_stderr_quiet() -> Iterator[None]:
    """Keep what native decoders write straight to file descriptor 2 off the terminal.

    Their notes ("Illegal Audio-MPEG-Header ...") would stand around imr-audio's own one-line
    error; the error itself says what is wrong with the file.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no descriptor 2 here: nothing to quiet
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _read_blocks(path: Path) -> tuple[NDArray[np.float32], int]:
    """Decode a file soundfile reads, block by block, stopping past the longest allowed.

    A header can understate the length (a WAV written by a stream); reading stops one block
    past :data:`MAX_RECORDING_S` whatever it says.
    """
    try:
        with sf.SoundFile(str(path)) as audio:
            limit = int(MAX_RECORDING_S * audio.samplerate) + _BLOCK_FRAMES
            blocks: list[NDArray[np.float32]] = []
            frames = 0
            for block in audio.blocks(_BLOCK_FRAMES, dtype="float32", always_2d=True):
                blocks.append(block)
                frames += len(block)
                if frames > limit:
                    break
            channels, rate = audio.channels, audio.samplerate
    except (sf.LibsndfileError, RuntimeError, OSError, ValueError):
        raise AudioDecodeError(f"{path}: not a readable audio file") from None
    data = np.concatenate(blocks) if blocks else np.zeros((0, channels), np.float32)
    return data, int(rate)


def _decode_with_ffmpeg(path: Path, max_s: float) -> tuple[NDArray[np.float32], int]:
    with warnings.catch_warnings():  # pydub imports the deprecated audioop on Python 3.11/3.12
        warnings.simplefilter("ignore", DeprecationWarning)
        from pydub import AudioSegment
        from pydub.exceptions import CouldntDecodeError

    AudioSegment.converter = ffmpeg_executable()
    try:
        # through temporary files: needs ffmpeg only, not ffprobe
        segment = AudioSegment.from_file_using_temporary_files(str(path), duration=max_s)
    except (CouldntDecodeError, OSError, IndexError, ValueError):
        raise AudioDecodeError(f"{path}: not a readable audio file") from None
    samples = np.asarray(segment.get_array_of_samples(), dtype=np.float32)
    scale = float(2 ** (8 * segment.sample_width - 1))
    return samples.reshape(-1, segment.channels) / scale, int(segment.frame_rate)


@dataclass(frozen=True)
class Loop:
    """A recording made into a seamless loop at one sample rate."""

    audio: NDArray[np.float32]
    """The loop, ``(2, frames)``; playing it over and over has no seam."""
    crossfade_frames: int
    """Length of the blend at the loop's start (its end fades into it), in frames."""
    source_start: int
    """Frame of the resampled, trimmed recording where the loop starts."""
    source_end: int
    """Frame of the resampled, trimmed recording where the loop wraps to its start."""
    gain_db: float
    """Gain applied to reach -30 LUFS (or the headroom), in dB."""


def make_loop(audio: NDArray[np.floating], sample_rate_hz: int, name: str = "") -> Loop:
    """Make ``(frames, channels)`` audio into a seamless stereo loop at ``sample_rate_hz``.

    Raises
    ------
    AudioDecodeError
        If, after trimming silence, the audio is shorter than :data:`MIN_LOOP_S` (naming
        ``name``).

    """
    x = np.asarray(audio, dtype=np.float32).T
    x = np.vstack((x[0], x[0])) if x.shape[0] == 1 else x[:2]
    sr, hop = sample_rate_hz, max(1, round(_FRAME_S * sample_rate_hz))
    levels = _hop_levels(x, hop)
    x = _trim(x, levels, hop)
    if x.shape[1] < MIN_LOOP_S * sr:
        raise AudioDecodeError(
            f"{name or 'recording'}: too short to loop (at least {MIN_LOOP_S:g} s of sound)"
        )
    n = x.shape[1]
    fade = min(round(_CROSSFADE_S * sr), n // 4)
    start, end = _loop_points(x, sr, fade, float(np.median(_hop_levels(x, hop))))
    body = x[:, start:end].copy()
    t = (np.arange(fade) + 0.5) / fade
    fade_in, fade_out = np.sin(0.5 * np.pi * t), np.cos(0.5 * np.pi * t)  # equal power
    body[:, :fade] = x[:, start : start + fade] * fade_in + x[:, end : end + fade] * fade_out
    gain_db = _gain_db(body, sr)
    body *= np.float32(10.0 ** (gain_db / 20.0))
    return Loop(body, fade, start, end, gain_db)


def _hop_levels(x: NDArray[np.float32], hop: int) -> NDArray[np.float64]:
    """Level in dB of each ``hop``-frame stretch (both channels), computed a piece at a time."""
    k = x.shape[1] // hop
    out = np.empty(k)
    step = max(1, 2**20 // hop)
    for i in range(0, k, step):
        j = min(k, i + step)
        piece = x[:, i * hop : j * hop].astype(np.float64).reshape(2, j - i, hop)
        out[i:j] = 10 * np.log10(np.mean(piece**2, axis=(0, 2)) + 1e-20)
    return out


def _trim(x: NDArray[np.float32], levels: NDArray[np.float64], hop: int) -> NDArray[np.float32]:
    """Drop near-silence (30 dB under the median level, or under -90 dBFS) at either end."""
    if len(levels) < 3:
        return x
    loud = np.flatnonzero(levels > max(float(np.median(levels)) - 30.0, -90.0))
    if loud.size == 0:
        return x[:, :0]
    return x[:, loud[0] * hop : min(x.shape[1], (loud[-1] + 1) * hop)]


def _features(
    x: NDArray[np.float32], sr: int, window: int, hop: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Level and band levels (dB) of ``window``-frame stretches that start every ``hop``."""
    mono = x.astype(np.float64).mean(axis=0)
    k = len(mono) // hop
    nfft = 2 ** math.ceil(math.log2(hop))
    subframes = mono[: k * hop].reshape(k, hop)
    spectra = np.abs(np.fft.rfft(subframes * np.hanning(hop), n=nfft, axis=1)) ** 2
    freqs = np.fft.rfftfreq(nfft, 1.0 / sr)
    edges = itertools.pairwise(_BAND_EDGES_HZ)
    bands = np.stack([spectra[:, (freqs >= lo) & (freqs < hi)].sum(axis=1) for lo, hi in edges])
    power = np.vstack((np.mean(subframes**2, axis=1), bands))  # (1 + bands, k)
    per_window = max(1, min(k, window // hop))
    kernel = np.ones(per_window) / per_window
    smooth = np.stack([np.convolve(row, kernel, "valid") for row in power])
    db = 10 * np.log10(smooth + 1e-20)
    return db[0], db[1:].T


def _loop_points(x: NDArray[np.float32], sr: int, fade: int, median_db: float) -> tuple[int, int]:
    """Pick where the loop starts and wraps: two quiet, alike stretches of ``fade`` frames.

    The start is searched in the first quarter of the recording (at most 10 s), the wrap point
    in the last; both stretches should be a little quieter than usual (a lull), near each
    other in level and alike in spectrum, and the loop should keep most of the recording.
    """
    n, hop = x.shape[1], max(1, round(_FRAME_S * sr))
    reach = min((n - fade) // 4, round(10.0 * sr))
    tail_at = n - fade - reach
    head_level, head_bands = _features(x[:, : reach + fade], sr, fade, hop)
    tail_level, tail_bands = _features(x[:, tail_at:], sr, fade, hop)
    if head_level.size == 0 or tail_level.size == 0:
        return 0, n - fade
    # quiet but not silent: a little below the median is good, far below it (a gap) is not
    head_quiet = np.abs(head_level - (median_db - 3.0)) / 3.0
    tail_quiet = np.abs(tail_level - (median_db - 3.0)) / 3.0
    heads, tails = np.arange(head_level.size) * hop, tail_at + np.arange(tail_level.size) * hop
    cost = (
        head_quiet[:, None]
        + tail_quiet[None, :]
        + np.abs(head_level[:, None] - tail_level[None, :]) / 3.0
        + np.mean(np.abs(head_bands[:, None, :] - tail_bands[None, :, :]), axis=2) / 3.0
        + 6.0 * (heads[:, None] + (n - tails[None, :])) / n  # keep most of the recording
    )
    i, j = np.unravel_index(int(np.argmin(cost)), cost.shape)
    start = int(i) * hop
    end = min(tail_at + int(j) * hop, n - fade)
    return start, _align(x, start, end, fade, sr)


def _align(x: NDArray[np.float32], start: int, end: int, fade: int, sr: int) -> int:
    """Nudge ``end`` (by up to 10 ms) to where the waveform best matches the one at ``start``."""
    shift = round(0.01 * sr)
    width = min(fade, round(0.05 * sr))
    lo, hi = max(end - shift, start + 1), min(end + shift, x.shape[1] - fade)
    if hi <= lo:
        return end
    head = x[:, start : start + width].astype(np.float64).mean(axis=0)
    span = x[:, lo : hi + width].astype(np.float64).mean(axis=0)
    windows = np.lib.stride_tricks.sliding_window_view(span, width)
    score = (windows @ head) / (np.linalg.norm(windows, axis=1) * np.linalg.norm(head) + 1e-20)
    return lo + int(np.argmax(score))


def _gain_db(loop: NDArray[np.float32], sr: int) -> float:
    """Gain bringing the loop to TARGET_LUFS, limited so the peak stays under the headroom.

    A long loop is measured on six 10 s excerpts spread across it.
    """
    n = loop.shape[1]
    excerpt = round(10.0 * sr)
    if n > 6 * excerpt:
        starts = np.linspace(0, n - excerpt, 6).astype(int)
        sample = np.concatenate([loop[:, s : s + excerpt] for s in starts], axis=1)
    else:
        sample = np.tile(loop, max(1, math.ceil(3.0 * sr / n)))
    import pyloudnorm  # at first use: it imports scipy.signal (~1 s)

    loudness = pyloudnorm.Meter(sr).integrated_loudness(sample.T.astype(np.float64))
    peak_db = 20 * math.log10(float(np.max(np.abs(loop))) + 1e-20)
    gain = TARGET_LUFS - loudness if math.isfinite(loudness) else _HEADROOM_DBFS - peak_db
    return float(min(gain, _HEADROOM_DBFS - peak_db))


def file_identity(path: Path) -> tuple[str, int, int]:
    """``path`` with its modification time and size; an edited file has another identity."""
    try:
        stat = path.stat()
    except OSError:
        raise AudioDecodeError(f"{path}: file not found") from None
    return str(path), stat.st_mtime_ns, stat.st_size


class AudioFileSoundscape:
    """A user's audio file, looped seamlessly for any length.

    The soundscape's name is the path as given; themes are empty (the content is not known).
    The file is decoded when the object is made, so a bad file fails early; its loop is made
    once per sample rate.
    """

    def __init__(self, name: str) -> None:
        """Decode the recording at path ``name``.

        Raises
        ------
        AudioDecodeError
            Naming the file, if it is missing, undecodable, silent or too long.

        """
        self.path = Path(name).expanduser().resolve()
        self.identity = file_identity(self.path)
        """The file's path, modification time and size: what this soundscape was made from."""
        self._decoded = decode_recording(self.path)
        self._loops: dict[int, Loop] = {}
        self.info = SoundscapeInfo(
            name=name,
            description=f"Your recording {self.path.name}, looped.",
            themes=(),
        )

    def loop(self, sample_rate_hz: int) -> Loop:
        """Return the loop at ``sample_rate_hz`` (made once)."""
        if sample_rate_hz not in self._loops:
            data, rate = self._decoded
            if rate != sample_rate_hz:
                data = np.asarray(soxr.resample(data, rate, sample_rate_hz, quality="HQ"),
                                  np.float32)
            self._loops[sample_rate_hz] = make_loop(data, sample_rate_hz, str(self.path))
        return self._loops[sample_rate_hz]

    def blocks(
        self, duration_s: float, sample_rate_hz: int, seed: int, block_frames: int = 65536
    ) -> Iterator[NDArray[np.float32]]:
        """Yield the looped recording as float32 ``(n, 2)`` blocks.

        The seed picks where in the loop playback starts (seed 0: at its start), so that two
        layers of the same recording do not play in step.

        Raises
        ------
        ValueError
            If an argument is out of range.
        AudioDecodeError
            If the recording is too short to loop.

        """
        total = frame_count(duration_s, sample_rate_hz)
        if block_frames < 1:
            raise ValueError(f"block_frames must be positive, got {block_frames}")
        if seed < 0:
            raise ValueError(f"seed must be non-negative, got {seed}")
        loop = self.loop(sample_rate_hz).audio
        offset = int(loop.shape[1] * ((seed * 0.6180339887498949) % 1.0))
        return _repeat(loop, offset, total, block_frames)


def _repeat(
    loop: NDArray[np.float32], offset: int, total: int, block_frames: int
) -> Iterator[NDArray[np.float32]]:
    period = loop.shape[1]
    done = 0
    while done < total:
        want = min(block_frames, total - done)
        index = (offset + done + np.arange(want)) % period
        yield np.ascontiguousarray(loop[:, index].T)
        done += want
