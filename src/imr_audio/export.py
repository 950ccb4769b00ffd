"""Export: encode the mastered mix, tag it neutrally, and publish it atomically (mode 0600).

The file is written to a private temporary file in the destination folder and renamed into
place only when it is complete and tagged, so no partial output is ever visible.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import mutagen
import numpy as np
import numpy.typing as npt
import soundfile as sf
from mutagen.flac import FLAC
from mutagen.id3 import ID3, TALB, TIT2, TPE1
from mutagen.wave import WAVE

from imr_audio.errors import AudioDecodeError, ExportError

__all__ = [
    "FORMATS",
    "ExportSettings",
    "TrackTags",
    "decode_audio",
    "ensure_private_dir",
    "export_track",
]

FORMATS = ("mp3", "wav", "flac")
_SOUNDFILE_ARGS: dict[str, dict[str, object]] = {
    "mp3": {"format": "MP3", "subtype": "MPEG_LAYER_III", "bitrate_mode": "CONSTANT"},
    "wav": {"format": "WAV", "subtype": "PCM_16"},
    "flac": {"format": "FLAC", "subtype": "PCM_16"},
}
_BLOCK_FRAMES = 1 << 16
_ENCODER_GAIN_DB = {"mp3": 20.0 * math.log10(0.95)}
"""Gain an encoder applies on its own: libsndfile's MP3 encoder scales by 0.95 (measured),
which :func:`export_track` undoes so that the decoded file is as loud as the samples given."""


@dataclass(frozen=True)
class TrackTags:
    """Neutral tags: never the client's name or the script's text."""

    title: str
    """Track title, from the template (e.g. ``Safe place``)."""
    album: str = "imr-audio"
    """Album tag."""
    artist: str = "imr-audio"
    """Artist tag (a clinic may set its own)."""


@dataclass(frozen=True)
class ExportSettings:
    """How the finished track is encoded."""

    format: str = "mp3"
    """One of :data:`FORMATS`."""
    mp3_bitrate_kbps: int = 160
    """Constant MP3 bitrate: 160 kbps suits stereo speech over ambience."""


def _mp3_compression_level(bitrate_kbps: int) -> float:
    # libsndfile maps compression level 0..1 linearly from 320 kbps down to 32 kbps (CBR).
    return min(max((320 - bitrate_kbps) / 320.0, 0.0), 0.9)


def ensure_private_dir(folder: Path) -> Path:
    """Create ``folder`` (and parents) owner-only (0700) if it does not exist."""
    if not folder.is_dir():  # mkdir(parents=True) would create the parents 0755
        ensure_private_dir(folder.parent)
        folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def _write_tags(path: Path, fmt: str, tags: TrackTags) -> None:
    if fmt in ("mp3", "wav"):
        frames = [
            TIT2(encoding=3, text=tags.title),
            TALB(encoding=3, text=tags.album),
            TPE1(encoding=3, text=tags.artist),
        ]
        if fmt == "mp3":
            # A fresh tag replaces anything libsndfile wrote (it labels UTF-8 as Latin-1).
            id3 = ID3()
            for frame in frames:
                id3.add(frame)
            id3.save(str(path), v2_version=4)
        else:
            wave = WAVE(str(path))
            wave.add_tags()
            for frame in frames:
                wave.tags.add(frame)  # type: ignore[attr-defined]
            wave.save()
    elif fmt == "flac":
        flac = FLAC(str(path))
        flac["title"] = tags.title
        flac["album"] = tags.album
        flac["artist"] = tags.artist
        flac.save()


def export_track(
    samples: npt.NDArray[np.float32],
    sample_rate_hz: int,
    path: Path,
    settings: ExportSettings,
    tags: TrackTags,
) -> Path:
    """Encode ``samples`` to ``path`` in ``settings.format``, tag it, and publish it atomically.

    The result is readable by its owner only (0600). On any failure nothing is left at ``path``
    and the temporary file is removed.
    """
    fmt = settings.format
    if fmt not in FORMATS:
        raise ExportError(f"unknown format '{fmt}'; choose one of: {', '.join(FORMATS)}")
    ensure_private_dir(path.parent)
    fd, tmp_name = tempfile.mkstemp(prefix=".imr-", suffix=f".{fmt}.part", dir=path.parent)
    os.close(fd)  # mkstemp creates the file 0600
    tmp = Path(tmp_name)
    try:
        kwargs = dict(_SOUNDFILE_ARGS[fmt])
        if fmt == "mp3":
            kwargs["compression_level"] = _mp3_compression_level(settings.mp3_bitrate_kbps)
        audio = samples if samples.ndim == 2 else samples[:, None]
        makeup = np.float32(10.0 ** (-_ENCODER_GAIN_DB.get(fmt, 0.0) / 20.0))
        with sf.SoundFile(str(tmp), "w", sample_rate_hz, audio.shape[1], **kwargs) as out:
            for start in range(0, len(audio), _BLOCK_FRAMES):
                out.write(audio[start : start + _BLOCK_FRAMES] * makeup)
        _write_tags(tmp, fmt, tags)
        tmp.chmod(0o600)
        tmp.replace(path)
    except (OSError, RuntimeError, sf.LibsndfileError, mutagen.MutagenError) as exc:
        raise ExportError(f"{path}: could not write {fmt.upper()} ({type(exc).__name__})") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return path


def decode_audio(path: Path) -> tuple[npt.NDArray[np.float32], int]:
    """Decode an audio file soundfile can read; raise :class:`AudioDecodeError` naming it."""
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        # soundfile reports a missing file as LibsndfileError, never as FileNotFoundError
        missing = isinstance(exc, FileNotFoundError) or not path.exists()
        reason = "file not found" if missing else "not a readable audio file"
        raise AudioDecodeError(f"{path}: {reason}") from None
    if len(data) == 0:
        raise AudioDecodeError(f"{path}: the file holds no audio")
    return data, int(rate)
