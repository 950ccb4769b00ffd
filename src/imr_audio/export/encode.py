"""Encoders: the samples of a finished track into a file of one format.

Chosen by measurement: ``bench/encode_bench.py`` encodes 20 minutes of stereo at 44.1 kHz (on a
2-core machine under load; two runs, the second shown). MP3 160 kbps CBR: libsndfile (through
soundfile) 49 s (64 s in the first run), ffmpeg's LAME fed raw PCM on stdin 15 s (17), pedalboard's
LAME 13 s (17): the same size, length and level, since all three are LAME. ffmpeg is used: about
as fast as pedalboard, 3-4x faster than libsndfile, it needs no further dependency (the
imageio-ffmpeg package ships a binary where the system has none) and it alone offers VBR and
every bitrate. OGG Vorbis: libsndfile 10 s, ffmpeg 13 s, the same size and level; ffmpeg is used
all the same because only its encoder takes a target bitrate (libsndfile's takes a quality).
Opus: libsndfile 38 s, ffmpeg 11 s. AAC (M4A): ffmpeg only (20 s; libsndfile writes no AAC).
WAV and FLAC are written by soundfile (lossless: nothing to choose).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile as sf

from imr_audio.export.ffmpeg import BlockSink, ffmpeg_decode_blocks, ffmpeg_encode_blocks
from imr_audio.export.settings import ExportSettings

__all__ = ["encode", "encode_blocks", "encoder_gain_db"]

_BLOCK_FRAMES = 1 << 16  # libsndfile crashes writing ~45 s of OGG Vorbis in one call: blocks
_SOUNDFILE: dict[str, tuple[str, str]] = {"wav": ("WAV", "PCM_16"), "flac": ("FLAC", "PCM_16")}
_MUXER = {"mp3": "mp3", "ogg": "ogg", "opus": "opus", "m4a": "ipod"}
# LAME's own gain in CBR mode (its ABR preset table's "scale" column, confirmed by measurement:
# -0.45 dB up to 160 kbps, -0.26 at 192, -0.18 at 224, none from 256): undone by export.
_LAME_CBR_SCALE = {
    8: 0.95, 16: 0.95, 24: 0.95, 32: 0.95, 40: 0.95, 48: 0.95, 56: 0.95, 64: 0.95, 80: 0.95,
    96: 0.95, 112: 0.95, 128: 0.95, 160: 0.95, 192: 0.97, 224: 0.98, 256: 1.0, 320: 1.0,
}
# LAME VBR quality (-V n) and the average bitrate it reaches on music (LAME's documentation).
_LAME_VBR_KBPS = (245, 225, 190, 175, 165, 130, 115, 100, 85, 65)


def encoder_gain_db(settings: ExportSettings, channels: int) -> float:
    """Gain the encoder applies on its own, in dB (LAME in CBR mode scales by 0.95-1.0)."""
    if settings.format != "mp3" or settings.vbr:
        return 0.0
    kbps = settings.resolved_bitrate_kbps(channels) or 0
    nearest = min(_LAME_CBR_SCALE, key=lambda table_kbps: abs(table_kbps - kbps))
    return 20.0 * math.log10(_LAME_CBR_SCALE[nearest])


def _codec_args(settings: ExportSettings, channels: int) -> list[str]:
    kbps = settings.resolved_bitrate_kbps(channels)
    fmt = settings.format
    if fmt == "mp3":
        if settings.vbr:
            quality = min(range(10), key=lambda v: abs(_LAME_VBR_KBPS[v] - (kbps or 0)))
            rate_args = ["-q:a", str(quality)]
        else:
            rate_args = ["-b:a", f"{kbps}k"]
        # No ID3 tag from ffmpeg (mutagen writes ours); keep the Xing/LAME frame (gapless).
        return ["-c:a", "libmp3lame", *rate_args, "-id3v2_version", "0", "-write_id3v1", "0"]
    if fmt == "ogg":
        return ["-c:a", "libvorbis", "-b:a", f"{kbps}k"]
    if fmt == "opus":
        return ["-c:a", "libopus", "-b:a", f"{kbps}k", "-application", "audio"]
    if fmt == "m4a":
        return ["-c:a", "aac", "-b:a", f"{kbps}k", "-movflags", "+faststart"]
    raise ValueError(fmt)


# What the encoded packets are decoded from while they are written (see ffmpeg_encode_blocks);
# M4A's muxer rewrites the file at the end (faststart), so it is decoded after instead.
_TAP_MUXER = {"mp3": "mp3", "ogg": "ogg", "opus": "ogg"}


def encode_blocks(
    blocks: Iterable[npt.NDArray[np.float32]],
    sample_rate_hz: int,
    channels: int,
    path: Path,
    settings: ExportSettings,
    chapters_file: Path | None = None,
    decoded: BlockSink | None = None,
) -> None:
    """Write audio given as blocks (frames x channels, at the output rate) to ``path``.

    ``chapters_file`` (an ffmpeg metadata file) is muxed in where ffmpeg writes the chapters
    (M4A). No tags are written here except those ffmpeg cannot be stopped from writing.
    ``decoded``, if given, receives the written file's audio as decoded again, block by block:
    for MP3, OGG and Opus while it is encoded, for the other formats by reading it back.
    """
    fmt = settings.format
    if fmt in _SOUNDFILE:
        container, subtype = _SOUNDFILE[fmt]
        with sf.SoundFile(str(path), "w", sample_rate_hz, channels, subtype,
                          format=container) as out:
            for block in blocks:
                for start in range(0, len(block), _BLOCK_FRAMES):
                    out.write(block[start : start + _BLOCK_FRAMES])
        if decoded is not None:
            with sf.SoundFile(str(path)) as written:
                for block in written.blocks(_BLOCK_FRAMES, dtype="float32", always_2d=True):
                    decoded(block)
        return
    inputs: Sequence[str] = ()
    mapping = ["-map", "0:a", "-map_metadata", "-1", "-map_chapters", "-1"]
    if chapters_file is not None:
        inputs = ["-f", "ffmetadata", "-i", str(chapters_file)]
        # The metadata file holds chapters only; mapping it (not -1) keeps their titles.
        mapping = ["-map", "0:a", "-map_metadata", "1", "-map_chapters", "1"]
    tap = (_TAP_MUXER[fmt], decoded) if decoded is not None and fmt in _TAP_MUXER else None
    ffmpeg_encode_blocks(blocks, sample_rate_hz, channels, path,
                         [*mapping, *_codec_args(settings, channels), "-fflags", "+bitexact",
                          "-f", _MUXER[fmt]],
                         input_args=inputs, tap=tap)
    if decoded is not None and tap is None:
        ffmpeg_decode_blocks(path, channels, decoded)


def encode(
    audio: npt.NDArray[np.float32],
    sample_rate_hz: int,
    path: Path,
    settings: ExportSettings,
    chapters_file: Path | None = None,
) -> None:
    """Write ``audio`` (frames x channels, at the output rate) to ``path`` as ``settings`` say."""
    blocks = (audio[start : start + _BLOCK_FRAMES] for start in range(0, len(audio), _BLOCK_FRAMES))
    encode_blocks(blocks, sample_rate_hz, audio.shape[1], path, settings, chapters_file)
