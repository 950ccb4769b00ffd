"""Export: encode the mastered mix, tag it neutrally, and publish it atomically (mode 0600).

The file is written to a private temporary file in the destination folder and renamed into
place only when it is complete and tagged, so no partial output is ever visible.

Formats: MP3 (CBR or VBR), M4A (AAC), OGG Vorbis, Opus (48 kHz), FLAC and WAV; mono or stereo;
44.1 or 48 kHz. Lossy formats are encoded by ffmpeg (see :mod:`imr_audio.export.encode` for the
measurements behind that), lossless ones by soundfile; tags by mutagen.

The names below are imported on first use (PEP 562): the settings are light, the writer needs
numpy, soundfile and the meter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imr_audio.lazy import lazy_exports

if TYPE_CHECKING:
    from imr_audio.export.chapters import section_chapters
    from imr_audio.export.settings import (
        FORMATS,
        LOSSLESS_FORMATS,
        SAMPLE_RATES_HZ,
        Chapter,
        ExportSettings,
        TrackTags,
    )
    from imr_audio.export.writer import (
        ExportedTrack,
        check_export_settings,
        conform_audio,
        decode_audio,
        export_blocks,
        export_track,
    )

_EXPORTS = {
    "Chapter": "imr_audio.export.settings",
    "ExportSettings": "imr_audio.export.settings",
    "ExportedTrack": "imr_audio.export.writer",
    "FORMATS": "imr_audio.export.settings",
    "LOSSLESS_FORMATS": "imr_audio.export.settings",
    "SAMPLE_RATES_HZ": "imr_audio.export.settings",
    "TrackTags": "imr_audio.export.settings",
    "check_export_settings": "imr_audio.export.writer",
    "conform_audio": "imr_audio.export.writer",
    "decode_audio": "imr_audio.export.writer",
    "export_blocks": "imr_audio.export.writer",
    "export_track": "imr_audio.export.writer",
    "section_chapters": "imr_audio.export.chapters",
}

__all__ = [
    "FORMATS",
    "LOSSLESS_FORMATS",
    "SAMPLE_RATES_HZ",
    "Chapter",
    "ExportSettings",
    "ExportedTrack",
    "TrackTags",
    "check_export_settings",
    "conform_audio",
    "decode_audio",
    "export_blocks",
    "export_track",
    "section_chapters",
]


__getattr__ = lazy_exports(__name__, _EXPORTS)
