"""Export: encode the mastered mix, tag it neutrally, and publish it atomically (mode 0600).

The file is written to a private temporary file in the destination folder and renamed into
place only when it is complete and tagged, so no partial output is ever visible.

Formats: MP3 (CBR or VBR), M4A (AAC), OGG Vorbis, Opus (48 kHz), FLAC and WAV; mono or stereo;
44.1 or 48 kHz. Lossy formats are encoded by ffmpeg (see :mod:`imr_audio.export.encode` for the
measurements behind that), lossless ones by soundfile; tags by mutagen.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import mutagen
import numpy as np
import numpy.typing as npt
import soundfile as sf
import soxr

from imr_audio.errors import AudioDecodeError, ExportError
from imr_audio.export import encode as _encode
from imr_audio.export import tags as _tags
from imr_audio.export.chapters import section_chapters
from imr_audio.export.ffmpeg import FfmpegError, ffmpeg_decode
from imr_audio.export.settings import (
    FORMATS,
    LOSSLESS_FORMATS,
    SAMPLE_RATES_HZ,
    Chapter,
    ExportSettings,
    TrackTags,
)

__all__ = [
    "FORMATS",
    "LOSSLESS_FORMATS",
    "SAMPLE_RATES_HZ",
    "Chapter",
    "ExportSettings",
    "TrackTags",
    "check_export_settings",
    "conform_audio",
    "decode_audio",
    "ensure_private_dir",
    "export_track",
    "section_chapters",
]


def ensure_private_dir(folder: Path) -> Path:
    """Create ``folder`` (and parents) owner-only (0700) if it does not exist."""
    if not folder.is_dir():  # mkdir(parents=True) would create the parents 0755
        ensure_private_dir(folder.parent)
        folder.mkdir(mode=0o700, exist_ok=True)
    return folder


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


def _private_temp(folder: Path, suffix: str) -> Path:
    fd, name = tempfile.mkstemp(prefix=".imr-", suffix=suffix, dir=folder)
    os.close(fd)  # mkstemp creates the file 0600
    return Path(name)


def export_track(
    samples: npt.NDArray[np.float32],
    sample_rate_hz: int,
    path: Path,
    settings: ExportSettings,
    tags: TrackTags,
    chapters: Sequence[Chapter] = (),
) -> Path:
    """Encode ``samples`` to ``path`` in ``settings.format``, tag it, and publish it atomically.

    ``samples`` are conformed first (:func:`conform_audio`). ``chapters`` (any order; times in
    seconds of the track) are stored in time order; WAV carries none. ``tags.cover`` is embedded
    in every format but WAV. The result is readable by its owner only (0600). On any failure
    nothing is left at ``path`` (an older file there is kept) and no temporary file remains.
    """
    fmt = settings.format
    _raise_problems(settings)
    cover = _tags.load_cover(tags.cover) if tags.cover is not None else None
    audio, rate = conform_audio(samples, sample_rate_hz, settings)
    chapter_list = _ordered_chapters(chapters, len(audio) / rate) if fmt != "wav" else []
    gain_db = _encode.encoder_gain_db(settings, audio.shape[1])
    if gain_db:
        audio = audio * np.float32(10.0 ** (-gain_db / 20.0))
    ensure_private_dir(path.parent)
    tmp = _private_temp(path.parent, f".{fmt}.part")
    chapters_file = None
    try:
        if fmt == "m4a" and chapter_list:  # MP4 chapters are a track: ffmpeg muxes them in
            chapters_file = _private_temp(path.parent, ".chapters.part")
            chapters_file.write_text(_tags.ffmpeg_chapters(chapter_list), encoding="utf-8")
        _encode.encode(audio, rate, tmp, settings, chapters_file)
        _tags.write_tags(tmp, fmt, tags, [] if fmt == "m4a" else chapter_list, cover)
        tmp.chmod(0o600)
        tmp.replace(path)
    except FfmpegError as exc:
        raise ExportError(f"{path}: could not write {fmt.upper()}: {exc}") from None
    except (OSError, RuntimeError, sf.LibsndfileError, mutagen.MutagenError) as exc:
        raise ExportError(f"{path}: could not write {fmt.upper()} ({type(exc).__name__})") from None
    finally:
        for leftover in (tmp, chapters_file):
            if leftover is not None:
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()
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
