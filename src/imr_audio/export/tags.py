"""Neutral tags, chapters and a cover image, written with mutagen into a finished file.

Every format gets title, album and artist; chapters go in as ID3 CHAP/CTOC frames (MP3),
``CHAPTERnnn``/``CHAPTERnnnNAME`` comments (OGG, Opus, FLAC) or, for M4A, through ffmpeg when it
encodes (see :func:`ffmpeg_chapters`); WAV has only the ID3 text tags. All are stored UTF-8.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mutagen
from mutagen.flac import FLAC, Picture
from mutagen.id3 import (
    APIC,
    CHAP,
    CTOC,
    ID3,
    TALB,
    TIT2,
    TPE1,
    TXXX,
    CTOCFlags,
    Frame,
    PictureType,
)
from mutagen.mp4 import MP4, MP4Cover, MP4FreeForm
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE
from PIL import Image, UnidentifiedImageError

from imr_audio.errors import ExportError
from imr_audio.export.settings import Chapter, TrackTags

__all__ = [
    "CoverImage",
    "ffmpeg_chapters",
    "load_cover",
    "read_chapters",
    "read_provenance",
    "write_tags",
]

_NO_OFFSET = 0xFFFFFFFF  # ID3 CHAP: "byte offsets not used"
_ORDERED_TOP = CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED
_VORBIS_COMMENT_FILES: dict[str, type[OggVorbis] | type[OggOpus] | type[FLAC]] = {
    "ogg": OggVorbis,
    "opus": OggOpus,
    "flac": FLAC,
}


@dataclass(frozen=True)
class CoverImage:
    """A cover image read and checked, ready to embed."""

    data: bytes
    """The file's bytes, embedded unchanged."""
    mime: str
    """``image/png`` or ``image/jpeg``."""
    width: int
    """Width in pixels."""
    height: int
    """Height in pixels."""


def load_cover(path: Path) -> CoverImage:
    """Read a PNG or JPEG cover image; raise :class:`ExportError` naming the file otherwise."""
    try:
        data = path.read_bytes()
        with Image.open(path) as image:
            kind, size = image.format, image.size
            image.verify()
    except FileNotFoundError:
        raise ExportError(f"{path}: cover image not found") from None
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError):
        raise ExportError(f"{path}: cover image is not a readable PNG or JPEG file") from None
    if kind not in ("PNG", "JPEG"):
        raise ExportError(f"{path}: cover image must be PNG or JPEG, not {kind}")
    return CoverImage(data, f"image/{kind.lower()}", size[0], size[1])


def _timestamp(seconds: float) -> str:
    """``HH:MM:SS.mmm``, as the Vorbis comment chapter extension writes times."""
    ms = round(seconds * 1000)
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def ffmpeg_chapters(chapters: Sequence[Chapter]) -> str:
    """An ffmpeg metadata file (``;FFMETADATA1``) holding ``chapters`` and nothing else."""

    def escape(text: str) -> str:
        for char in "\\=;#\n":
            text = text.replace(char, "\\" + char)
        return text

    lines = [";FFMETADATA1"]
    for chapter in chapters:
        lines += [
            "[CHAPTER]",
            "TIMEBASE=1/1000",
            f"START={round(chapter.start_s * 1000)}",
            f"END={round(chapter.end_s * 1000)}",
            f"title={escape(chapter.title)}",
        ]
    return "\n".join(lines) + "\n"


_FIELD_PREFIX = "IMR_AUDIO_"  # ID3 TXXX descriptions and Vorbis comment names
_MP4_FREEFORM = "----:org.imr-audio:"


def _field(name: str) -> str:
    return f"{_FIELD_PREFIX}{name.upper()}"


def read_provenance(path: Path) -> dict[str, str]:
    """The provenance a render stored in the audio file's metadata (see ``TrackTags``).

    Names are lower case (``client_hash``, ``inputs_sha256``); empty when there is none or the
    file cannot be read.
    """
    try:
        file: Any = mutagen.File(path)
    except (mutagen.MutagenError, OSError, ValueError):
        return {}
    tags = getattr(file, "tags", None) if file is not None else None
    if tags is None:
        return {}
    found: dict[str, str] = {}
    if isinstance(tags, ID3):
        for frame in tags.getall("TXXX"):
            if frame.desc.startswith(_FIELD_PREFIX) and frame.text:
                found[frame.desc[len(_FIELD_PREFIX):].lower()] = str(frame.text[0])
    elif isinstance(file, MP4):
        for key, values in tags.items():
            if key.startswith(_MP4_FREEFORM) and values:
                found[key[len(_MP4_FREEFORM):]] = bytes(values[0]).decode("utf-8", "replace")
    else:  # Vorbis comments (OGG, Opus, FLAC)
        for key, value in tags.items():
            if key.upper().startswith(_FIELD_PREFIX) and value:
                text = value[0] if isinstance(value, list) else value
                found[key[len(_FIELD_PREFIX):].lower()] = str(text)
    return found


def read_chapters(path: Path) -> tuple[Chapter, ...]:
    """The chapters stored in an audio file's metadata, in time order.

    Reads what :func:`write_tags` and ffmpeg write: ID3 ``CHAP`` frames (MP3), MP4 chapters (M4A)
    and ``CHAPTERnnn`` comments (OGG, Opus, FLAC), where a chapter ends where the next begins and
    the last at the end of the audio. Empty for a file without chapters (WAV), one that cannot be
    read, or chapter tags not in these forms.
    """
    try:
        file: Any = mutagen.File(path)
    except (mutagen.MutagenError, OSError, ValueError):
        return ()
    if file is None:
        return ()
    end_s = float(getattr(file.info, "length", 0.0) or 0.0)
    try:
        if isinstance(file, MP4):
            found = [(str(c.title), float(c.start)) for c in (file.chapters or ())]
        elif isinstance(file.tags, ID3):
            return tuple(sorted(
                (Chapter(_chapter_title(chap), chap.start_time / 1000.0,
                         chap.end_time / 1000.0) for chap in file.tags.getall("CHAP")),
                key=lambda chapter: chapter.start_s))
        elif file.tags is not None:
            found = _vorbis_chapters(file.tags)
        else:
            return ()
    except (ValueError, IndexError, AttributeError, TypeError):  # not as imr-audio writes them
        return ()
    if not found:
        return ()
    found.sort(key=lambda chapter: chapter[1])
    ends = [start_s for _, start_s in found[1:]] + [max(end_s, found[-1][1])]
    return tuple(Chapter(title, start_s, chapter_end_s) for (title, start_s), chapter_end_s
                 in zip(found, ends, strict=True))


def _chapter_title(chap: Any) -> str:
    title = chap.sub_frames.get("TIT2")
    return str(title.text[0]) if title else str(chap.element_id)


def _vorbis_chapters(comments: Any) -> list[tuple[str, float]]:
    """``(title, start_s)`` from ``CHAPTERnnn=HH:MM:SS.mmm`` and ``CHAPTERnnnNAME=title``."""
    values = {key.upper(): value for key, value in comments.items()}
    found: list[tuple[str, float]] = []
    for number in range(1000):
        start = values.get(f"CHAPTER{number:03d}")
        if not start:
            break
        hours, minutes, seconds = str(start[0]).split(":")
        name = values.get(f"CHAPTER{number:03d}NAME", [""])[0]
        found.append((str(name), int(hours) * 3600 + int(minutes) * 60 + float(seconds)))
    return found


def _id3_frames(tags: TrackTags, chapters: Sequence[Chapter],
                cover: CoverImage | None) -> list[Frame]:
    frames: list[Frame] = [
        TIT2(encoding=3, text=tags.title),
        TALB(encoding=3, text=tags.album),
        TPE1(encoding=3, text=tags.artist),
    ]
    frames += [TXXX(encoding=3, desc=_field(name), text=value) for name, value in tags.provenance]
    if cover is not None:
        frames.append(APIC(encoding=3, mime=cover.mime, type=PictureType.COVER_FRONT,
                           desc="", data=cover.data))
    if chapters:
        ids = [f"chp{i}" for i in range(len(chapters))]
        frames.append(CTOC(element_id="toc", flags=_ORDERED_TOP, child_element_ids=ids,
                           sub_frames=[]))
        frames += [
            CHAP(element_id=ident, start_time=round(ch.start_s * 1000),
                 end_time=round(ch.end_s * 1000), start_offset=_NO_OFFSET,
                 end_offset=_NO_OFFSET, sub_frames=[TIT2(encoding=3, text=ch.title)])
            for ident, ch in zip(ids, chapters, strict=True)
        ]
    return frames


def _syncsafe(data: bytes) -> int:
    return (data[0] << 21) | (data[1] << 14) | (data[2] << 7) | data[3]


def _chap_start_ms(frame: bytes) -> int:
    body = frame[10:]
    end_of_id = body.index(b"\0")
    return int.from_bytes(body[end_of_id + 1 : end_of_id + 5], "big")


def _store_chapters_in_time_order(path: Path) -> None:
    """Reorder the CHAP frames of the ID3v2.4 tag at the start of ``path`` by start time.

    mutagen sorts frames by size when it saves, so chapters are stored out of time order, and
    some players list them in stored order. Frames only swap places: sizes and offsets stay.
    """
    with path.open("r+b") as file:
        header = file.read(10)
        if header[:3] != b"ID3" or header[3] != 4 or header[5] & 0xC0:  # unsynced/extended
            raise ExportError(f"{path.name}: unexpected ID3 tag layout")
        body = file.read(_syncsafe(header[6:10]))
        frames, pos = [], 0
        while pos + 10 <= len(body) and body[pos] != 0:
            end = pos + 10 + _syncsafe(body[pos + 4 : pos + 8])
            frames.append(body[pos:end])
            pos = end
        slots = [i for i, frame in enumerate(frames) if frame[:4] == b"CHAP"]
        ordered = sorted((frames[i] for i in slots), key=_chap_start_ms)
        for slot, frame in zip(slots, ordered, strict=True):
            frames[slot] = frame
        file.seek(10)
        file.write(b"".join(frames))


def _picture(cover: CoverImage) -> Picture:
    picture = Picture()
    picture.type = PictureType.COVER_FRONT
    picture.mime = cover.mime
    picture.width, picture.height = cover.width, cover.height
    picture.depth = 24
    picture.data = cover.data
    return picture


def _vorbis_comments(file: OggVorbis | OggOpus | FLAC, tags: TrackTags,
                     chapters: Sequence[Chapter], cover: CoverImage | None) -> None:
    if file.tags is None:
        file.add_tags()
    comments: Any = file.tags  # a VComment (mutagen types FLAC's as a union)
    comments.clear()
    comments["TITLE"] = tags.title
    comments["ALBUM"] = tags.album
    comments["ARTIST"] = tags.artist
    for name, value in tags.provenance:
        comments[_field(name)] = value
    for i, chapter in enumerate(chapters):  # numbered from 000, as ffmpeg writes them
        comments[f"CHAPTER{i:03d}"] = _timestamp(chapter.start_s)
        comments[f"CHAPTER{i:03d}NAME"] = chapter.title
    if cover is not None:
        if isinstance(file, FLAC):
            file.clear_pictures()
            file.add_picture(_picture(cover))
        else:
            encoded = base64.b64encode(_picture(cover).write()).decode("ascii")
            comments["METADATA_BLOCK_PICTURE"] = encoded


def write_tags(path: Path, fmt: str, tags: TrackTags, chapters: Sequence[Chapter] = (),
               cover: CoverImage | None = None) -> None:
    """Replace every tag in ``path`` (format ``fmt``) with ``tags``, ``chapters`` and ``cover``.

    ``chapters`` must be in time order. M4A chapters are not written here: ffmpeg puts them in
    when it encodes the file. WAV files carry no chapters.
    """
    if fmt == "mp3":
        # A fresh tag replaces anything the encoder wrote.
        id3 = ID3()
        for frame in _id3_frames(tags, chapters, cover):
            id3.add(frame)
        id3.save(str(path), v2_version=4)
        if chapters:
            _store_chapters_in_time_order(path)
    elif fmt == "wav":
        wave = WAVE(str(path))
        if wave.tags is None:
            wave.add_tags()
        id3_chunk: Any = wave.tags
        id3_chunk.clear()
        for frame in _id3_frames(tags, (), None):
            id3_chunk.add(frame)
        wave.save()
    elif fmt in ("ogg", "opus", "flac"):
        file = _VORBIS_COMMENT_FILES[fmt](str(path))
        _vorbis_comments(file, tags, chapters, cover)
        file.save()
    elif fmt == "m4a":
        mp4 = MP4(str(path))
        if mp4.tags is None:
            mp4.add_tags()
        items: Any = mp4.tags
        items.clear()  # ffmpeg's own encoder tag included
        items["\xa9nam"] = [tags.title]
        items["\xa9alb"] = [tags.album]
        items["\xa9ART"] = [tags.artist]
        for name, value in tags.provenance:
            items[f"{_MP4_FREEFORM}{name}"] = [MP4FreeForm(value.encode("utf-8"))]
        if cover is not None:
            kind_id = MP4Cover.FORMAT_PNG if cover.mime == "image/png" else MP4Cover.FORMAT_JPEG
            items["covr"] = [MP4Cover(cover.data, imageformat=kind_id)]
        mp4.save()
    else:
        raise ExportError(f"no tag writer for format '{fmt}'")
