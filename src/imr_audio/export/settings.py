"""Export settings and the values an export is given: tags and chapters."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "FORMATS",
    "LOSSLESS_FORMATS",
    "SAMPLE_RATES_HZ",
    "Chapter",
    "ExportSettings",
    "TrackTags",
]

FORMATS = ("mp3", "m4a", "ogg", "opus", "flac", "wav")
"""Every format :func:`~imr_audio.export.export_track` writes (the file name's ending), in the
order a home pack prefers them (the one phones play most widely first)."""
LOSSLESS_FORMATS = ("flac", "wav")
"""Formats without a bitrate."""
SAMPLE_RATES_HZ = (44100, 48000)
"""Output sample rates one may ask for."""

_DEFAULT_KBPS: dict[str, tuple[int, int]] = {  # (mono, stereo)
    "mp3": (128, 160),  # CLINICAL.md: 160 kbps stereo, 96-128 mono (Apple podcast guidance)
    "m4a": (96, 128),  # AAC reaches MP3's quality at about 80% of its bitrate
    "ogg": (96, 128),
    "opus": (64, 96),  # Opus is transparent for speech over ambience well below this
}
_KBPS_RANGE: dict[str, tuple[int, int]] = {
    "mp3": (32, 320),
    "m4a": (32, 320),
    "ogg": (48, 320),
    "opus": (16, 256),
}


@dataclass(frozen=True)
class Chapter:
    """One chapter of a track: a section of the script."""

    title: str
    """Chapter title: the section's title from the template (never client details)."""
    start_s: float
    """Start in the track, in seconds (0 or more)."""
    end_s: float
    """End in the track, in seconds (after ``start_s``)."""


@dataclass(frozen=True)
class TrackTags:
    """Neutral tags of one track: never the client's name or the script's text."""

    title: str
    """Track title, from the template (e.g. ``Safe place``)."""
    album: str = "imr-audio"
    """Album tag."""
    artist: str = "imr-audio"
    """Artist tag (a clinic may set its own)."""
    cover: Path | None = None
    """PNG or JPEG image embedded as the front cover; None embeds none."""
    provenance: tuple[tuple[str, str], ...] = ()
    """``(name, value)`` pairs that prove where the track comes from (``client_hash``,
    ``inputs_sha256``: keyed hashes, no client value), kept in the file's own metadata so that
    a copy without its sidecar still proves whose it is."""


@dataclass(frozen=True)
class ExportSettings:
    """How the finished track is encoded and tagged."""

    format: str = "mp3"
    """One of :data:`FORMATS`."""
    bitrate_kbps: int | None = None
    """Bitrate of a lossy format in kbit/s; None picks the format's default for the channels
    (MP3 160 stereo / 128 mono, M4A and OGG 128 / 96, Opus 96 / 64). Lossless formats take
    none."""
    vbr: bool = False
    """MP3 only: variable bitrate (LAME's VBR at the quality that averages about
    ``bitrate_kbps`` on music; speech over ambience comes out lower) instead of constant."""
    sample_rate_hz: int | None = None
    """Output rate, 44100 or 48000 Hz, resampled with soxr when the mix's rate differs; None
    keeps the mix's rate (Opus is always 48000)."""
    channels: int | None = None
    """1 (mono: the channels averaged) or 2 (stereo); None keeps the samples' own (a render's
    mix is stereo). Master after changing it: averaging correlated stereo loses about 3 LU."""
    album: str = "imr-audio"
    """Album tag of every track."""
    artist: str = "imr-audio"
    """Artist tag of every track (a clinic may set its own)."""
    cover: Path | None = None
    """PNG or JPEG image embedded as every track's front cover; None embeds none."""

    def tags(self, title: str, provenance: tuple[tuple[str, str], ...] = ()) -> TrackTags:
        """The tags of a track titled ``title`` under these settings, with its ``provenance``."""
        return TrackTags(title=title, album=self.album, artist=self.artist, cover=self.cover,
                         provenance=provenance)

    def output_rate_hz(self, input_rate_hz: int) -> int:
        """The rate the file is written at, for samples at ``input_rate_hz``."""
        if self.format == "opus":
            return 48000
        return self.sample_rate_hz or input_rate_hz

    def resolved_bitrate_kbps(self, channels: int = 2) -> int | None:
        """The bitrate used in kbit/s, None for a lossless format.

        ``bitrate_kbps``, else the format's default for :attr:`channels` if set, else for
        ``channels`` (those of the samples).
        """
        if self.format not in _DEFAULT_KBPS:
            return None
        stereo = (self.channels or channels) == 2
        return self.bitrate_kbps or _DEFAULT_KBPS[self.format][stereo]

    def problems(self) -> list[str]:
        """Every problem with these settings (empty when they are usable); files not checked."""
        found = []
        if self.format not in FORMATS:
            found.append(f"unknown format '{self.format}'; choose one of: {', '.join(FORMATS)}")
        if self.channels not in (None, 1, 2):
            found.append(f"channels must be 1 or 2, not {self.channels}")
        if self.sample_rate_hz is not None:
            rates = " or ".join(str(r) for r in SAMPLE_RATES_HZ)
            if self.sample_rate_hz not in SAMPLE_RATES_HZ:
                found.append(f"sample rate must be {rates} Hz, not {self.sample_rate_hz}")
            elif self.format == "opus" and self.sample_rate_hz != 48000:
                found.append("Opus is always 48000 Hz")
        if self.bitrate_kbps is not None:
            if self.format in LOSSLESS_FORMATS:
                found.append(f"{self.format.upper()} is lossless: it takes no bitrate")
            elif self.format in _KBPS_RANGE:
                low, high = _KBPS_RANGE[self.format]
                if not low <= self.bitrate_kbps <= high:
                    found.append(f"{self.format.upper()} bitrate must be {low}-{high} kbps, "
                                 f"not {self.bitrate_kbps}")
        if self.vbr and self.format != "mp3":
            found.append("variable bitrate (vbr) applies to MP3 only")
        return found
