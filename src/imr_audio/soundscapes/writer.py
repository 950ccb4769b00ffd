"""Render a soundscape to an audio file (and, if asked, a spectrogram picture of it).

The bed is streamed block by block into the file, so a long bed never sits in memory. The
format follows the file name: ``.wav`` and ``.flac`` (24-bit), ``.ogg`` (Vorbis) or ``.mp3``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import soundfile as sf

from imr_audio.errors import ExportError
from imr_audio.files import write_private
from imr_audio.soundscapes.base import Soundscape
from imr_audio.soundscapes.spectrogram import Spectrogram

__all__ = ["FILE_FORMATS", "SoundscapeFile", "write_soundscape"]

FILE_FORMATS: dict[str, tuple[str, str]] = {
    ".wav": ("WAV", "PCM_24"),
    ".flac": ("FLAC", "PCM_24"),
    ".ogg": ("OGG", "VORBIS"),
    ".mp3": ("MP3", "MPEG_LAYER_III"),
}
"""File name ending -> soundfile format and subtype."""


@dataclass(frozen=True)
class SoundscapeFile:
    """A soundscape written to a file."""

    path: Path
    """The audio file."""
    name: str
    """The soundscape's name."""
    duration_s: float
    """Length, in seconds."""
    sample_rate_hz: int
    """Sample rate, in Hz."""
    spectrogram: Path | None
    """The spectrogram PNG, if one was asked for."""


def write_soundscape(
    soundscape: Soundscape,
    duration_s: float,
    path: Path,
    sample_rate_hz: int = 44100,
    seed: int = 0,
    spectrogram: Path | None = None,
) -> SoundscapeFile:
    """Render ``soundscape`` for ``duration_s`` seconds into the audio file ``path`` (0600).

    With ``spectrogram``, also draw a log-frequency spectrogram of it as a PNG there.

    Raises
    ------
    ExportError
        If the file name has no supported ending or the file cannot be written; nothing is
        left at ``path`` then.
    ValueError
        If an argument is out of range.

    """
    path = Path(path)
    try:
        fmt, subtype = FILE_FORMATS[path.suffix.lower()]
    except KeyError:
        endings = ", ".join(FILE_FORMATS)
        raise ExportError(f"{path}: unsupported audio file ending; use one of {endings}") from None
    name = soundscape.info.name
    frames = round(duration_s * sample_rate_hz)
    picture = Spectrogram(frames, sample_rate_hz) if spectrogram else None

    def write(temp: Path) -> None:
        blocks = soundscape.blocks(duration_s, sample_rate_hz, seed)
        try:
            with sf.SoundFile(str(temp), "w", sample_rate_hz, 2, subtype, format=fmt) as out:
                for block in blocks:
                    out.write(block)
                    if picture is not None:
                        picture.add(block)
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise OSError(f"could not write {fmt} ({type(exc).__name__})") from None

    write_private(path, write)
    if picture is not None and spectrogram is not None:
        try:
            picture.save(spectrogram, title=f"{Path(name).name}  (seed {seed})")
        except OSError as exc:
            reason = type(exc).__name__
            raise ExportError(f"{spectrogram}: could not write PNG ({reason})") from None
    return SoundscapeFile(path, name, duration_s, sample_rate_hz, spectrogram)
