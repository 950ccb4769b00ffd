"""Writing a track: encode the mastered mix, tag it neutrally, publish it atomically (0600).

The file is written to a private temporary file in the destination folder and renamed into
place only when it is complete and tagged, so no partial output is ever visible.

Formats: MP3 (CBR or VBR), M4A (AAC), OGG Vorbis, Opus (48 kHz), FLAC and WAV; mono or stereo;
44.1 or 48 kHz. Lossy formats are encoded by ffmpeg (see :mod:`imr_audio.export.encode` for the
measurements behind that), lossless ones by soundfile; tags by mutagen.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import mutagen
import numpy as np
import numpy.typing as npt
import soundfile as sf
import soxr

from imr_audio.errors import AudioDecodeError, ExportError
from imr_audio.export import encode as _encode
from imr_audio.export import tags as _tags
from imr_audio.export.ffmpeg import FfmpegError, ffmpeg_decode
from imr_audio.export.settings import (
    Chapter,
    ExportSettings,
    TrackTags,
)
from imr_audio.files import private_dir, private_temp, publish_private
from imr_audio.master import LoudnessMeasurement
from imr_audio.meter import LoudnessMeter, TruePeakMeter, track_weights

__all__ = [
    "ExportedTrack",
    "check_export_settings",
    "conform_audio",
    "decode_audio",
    "export_blocks",
    "export_track",
]


def _raise_problems(settings: ExportSettings) -> None:
    problems = settings.problems()
    if problems:
        raise ExportError("; ".join(problems))


def check_export_settings(settings: ExportSettings) -> None:
    """Raise :class:`ExportError` naming every problem with ``settings`` (the cover included).

    A render calls this first, so a bad option fails before any speech is synthesised.
    """
    _raise_problems(settings)
    if settings.cover is not None:
        _tags.load_cover(settings.cover)


def conform_audio(
    samples: npt.NDArray[np.float32], sample_rate_hz: int, settings: ExportSettings
) -> tuple[npt.NDArray[np.float32], int]:
    """``samples`` with the channels and rate ``settings`` ask for (frames x channels).

    Mono is the average of the channels (correlated stereo loses about 3 LU: master after
    conforming); a rate change resamples with soxr (very high quality). Samples that already
    conform are returned as they are.
    """
    audio = samples if samples.ndim == 2 else samples[:, None]
    if settings.channels is not None and audio.shape[1] != settings.channels:
        if settings.channels == 1:
            audio = audio.mean(axis=1, keepdims=True, dtype=np.float32)
        else:
            audio = np.repeat(audio[:, :1], settings.channels, axis=1)
    rate = settings.output_rate_hz(sample_rate_hz)
    if rate != sample_rate_hz:
        audio = soxr.resample(audio, sample_rate_hz, rate, quality="VHQ")
    return np.asarray(audio, dtype=np.float32), rate


def _ordered_chapters(chapters: Sequence[Chapter], duration_s: float) -> list[Chapter]:
    """``chapters`` in time order, each ending at the latest at the end of the track."""
    ordered = sorted(chapters, key=lambda c: c.start_s)
    for number, chapter in enumerate(ordered, 1):
        if not 0 <= chapter.start_s < duration_s or chapter.end_s <= chapter.start_s:
            raise ExportError(
                f"chapter {number} ({chapter.start_s:.3f}-{chapter.end_s:.3f} s) does not lie "
                f"inside the track (0-{duration_s:.3f} s)"
            )
    return [
        Chapter(c.title, c.start_s, min(c.end_s, duration_s)) if c.end_s > duration_s else c
        for c in ordered
    ]


@dataclass(frozen=True)
class ExportedTrack:
    """A published track, as measured on its audio decoded again after encoding."""

    path: Path
    """Where it was published."""
    duration_s: float
    """Length of the decoded audio, in seconds (encoder priming and padding trimmed)."""
    loudness: LoudnessMeasurement
    """Integrated loudness and true peak of the decoded audio (mono measured as dual mono, as
    it is heard on two ears; see :func:`imr_audio.meter.track_weights`)."""


class _DecodedMeter:
    """Measures what the encoder wrote, as it is decoded block by block."""

    def __init__(self, sample_rate_hz: int, channels: int) -> None:
        self.loudness = LoudnessMeter(sample_rate_hz, track_weights(channels))
        self.peak = TruePeakMeter(sample_rate_hz, channels)
        self.frames = 0

    def __call__(self, block: npt.NDArray[np.float32]) -> None:
        self.loudness.add(block)
        self.peak.add(block)
        self.frames += len(block)


def _decoded_frames(path: Path, fmt: str, counted: int) -> int:
    """Frames of the file as a player gives them (MP3/Opus: as the container says)."""
    if fmt == "m4a":  # decoded from the file, with its priming trimmed by ffmpeg
        return counted
    return int(sf.info(str(path)).frames)


def export_blocks(
    blocks: Iterable[npt.NDArray[np.float32]],
    sample_rate_hz: int,
    channels: int,
    path: Path,
    settings: ExportSettings,
    tags: TrackTags,
    chapters: Sequence[Chapter] = (),
    duration_s: float | None = None,
) -> ExportedTrack:
    """Encode audio given as blocks to ``path``, tag it, publish it atomically, and measure it.

    The blocks (frames x ``channels`` at ``sample_rate_hz``) must already have the channels and
    rate ``settings`` ask for (see :func:`conform_audio`); they are encoded as they come, so the
    track is never whole in memory. ``duration_s`` (the blocks' total length) is needed to check
    the ``chapters`` (any order; stored in time order; WAV carries none). ``tags.cover`` is
    embedded in every format but WAV. The written audio is decoded again and measured (while it
    is encoded, for MP3, OGG and Opus). The result is readable by its owner only (0600). On any
    failure nothing is left at ``path`` (an older file there is kept) and no temporary file
    remains.
    """
    fmt = settings.format
    _raise_problems(settings)
    if settings.output_rate_hz(sample_rate_hz) != sample_rate_hz or (
        settings.channels is not None and settings.channels != channels
    ):
        raise ValueError("the blocks must be conformed to the export settings first")
    cover = _tags.load_cover(tags.cover) if tags.cover is not None else None
    chapter_list = (
        _ordered_chapters(chapters, duration_s)
        if fmt != "wav" and chapters and duration_s is not None
        else []
    )
    gain = np.float32(10.0 ** (-_encode.encoder_gain_db(settings, channels) / 20.0))
    if gain != 1:
        blocks = (block * gain for block in blocks)
    private_dir(path.parent)
    tmp = private_temp(path.parent, f".{fmt}.part")
    chapters_file = None
    meter = _DecodedMeter(sample_rate_hz, channels)
    try:
        if fmt == "m4a" and chapter_list:  # MP4 chapters are a track: ffmpeg muxes them in
            chapters_file = private_temp(path.parent, ".chapters.part")
            chapters_file.write_text(_tags.ffmpeg_chapters(chapter_list), encoding="utf-8")
        _encode.encode_blocks(blocks, sample_rate_hz, channels, tmp, settings, chapters_file,
                              decoded=meter)
        _tags.write_tags(tmp, fmt, tags, [] if fmt == "m4a" else chapter_list, cover)
        frames = _decoded_frames(tmp, fmt, meter.frames)
        if frames == 0 or meter.frames == 0:
            raise ExportError(f"{path}: the encoded file holds no audio")
        measured = LoudnessMeasurement(meter.loudness.integrated_lufs(),
                                       meter.peak.true_peak_dbtp())
        publish_private(tmp, path)
    except FfmpegError as exc:
        raise ExportError(f"{path}: could not write {fmt.upper()}: {exc}") from None
    except (OSError, RuntimeError, sf.LibsndfileError, mutagen.MutagenError) as exc:
        raise ExportError(f"{path}: could not write {fmt.upper()} ({type(exc).__name__})") from None
    finally:
        for leftover in (tmp, chapters_file):
            if leftover is not None:
                with contextlib.suppress(OSError):  # never raised over the first error
                    leftover.unlink()
    return ExportedTrack(path, frames / sample_rate_hz, measured)


def export_track(
    samples: npt.NDArray[np.float32],
    sample_rate_hz: int,
    path: Path,
    settings: ExportSettings,
    tags: TrackTags,
    chapters: Sequence[Chapter] = (),
) -> Path:
    """Encode ``samples`` to ``path`` in ``settings.format``, tag it, and publish it atomically.

    ``samples`` are conformed first (:func:`conform_audio`); see :func:`export_blocks`.
    """
    _raise_problems(settings)
    audio, rate = conform_audio(samples, sample_rate_hz, settings)
    step = 1 << 16
    blocks = (audio[start : start + step] for start in range(0, len(audio), step))
    export_blocks(blocks, rate, audio.shape[1], path, settings, tags, chapters, len(audio) / rate)
    return path


def decode_audio(path: Path) -> tuple[npt.NDArray[np.float32], int]:
    """Decode an audio file (frames x channels) and its rate; raise :class:`AudioDecodeError`.

    soundfile reads WAV, FLAC, OGG, Opus and MP3; anything else it cannot read (M4A/AAC) is
    decoded by ffmpeg.
    """
    if not path.exists():  # soundfile reports a missing file as LibsndfileError
        raise AudioDecodeError(f"{path}: file not found")
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError):
        try:
            data, rate = ffmpeg_decode(path)
        except (FfmpegError, sf.LibsndfileError, RuntimeError, OSError):
            raise AudioDecodeError(f"{path}: not a readable audio file") from None
    if len(data) == 0:
        raise AudioDecodeError(f"{path}: the file holds no audio")
    return data, int(rate)
