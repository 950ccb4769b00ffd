"""Further pages: the tracks in the folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from imr_audio.studio.app import studio_of
from imr_audio.studio.config import StudioPathError

__all__ = ["read_chapters", "routes"]

_AUDIO = (".mp3", ".m4a", ".ogg", ".opus", ".flac", ".wav")


def read_chapters(path: Path) -> tuple[tuple[str, float], ...]:
    """``(title, start_s)`` of a track's chapters, as its tags hold them (MP3, OGG, Opus, FLAC).

    Empty for a format without chapter tags (WAV; M4A's are not read here) or an unreadable file.
    """
    import mutagen

    try:
        audio = mutagen.File(path)
    except Exception:  # an unreadable file has no chapters to show
        return ()
    tags = getattr(audio, "tags", None)
    if tags is None:
        return ()
    try:
        return _chapters(tags)
    except (ValueError, IndexError, AttributeError):  # tags not as imr-audio writes them
        return ()


def _chapters(tags: Any) -> tuple[tuple[str, float], ...]:
    found: list[tuple[str, float]] = []
    if hasattr(tags, "getall"):  # ID3
        for chap in tags.getall("CHAP"):
            title = chap.sub_frames.get("TIT2")
            found.append((str(title.text[0]) if title else chap.element_id,
                          chap.start_time / 1000.0))
    else:  # Vorbis comments: CHAPTERnnn=HH:MM:SS.mmm, CHAPTERnnnNAME=title
        values = {key.upper(): value for key, value in tags.items()}
        for number in range(1000):
            start = values.get(f"CHAPTER{number:03d}")
            if not start:
                break
            hours, minutes, seconds = str(start[0]).split(":")
            name = values.get(f"CHAPTER{number:03d}NAME", [""])[0]
            found.append((str(name), int(hours) * 3600 + int(minutes) * 60 + float(seconds)))
    return tuple(sorted(found, key=lambda chapter: chapter[1]))


async def tracks_page(request: Request) -> Response:
    """The tracks in the folder's ``tracks/``."""
    studio = studio_of(request)
    tracks = sorted(p.name for p in studio.folder.tracks.iterdir()
                    if p.suffix in _AUDIO and p.is_file() and not p.name.startswith("."))
    return studio.page("tracks.html", title="Tracks", tracks=tracks)


async def track_page(request: Request) -> Response:
    """One track to listen to, with its captions and downloads."""
    from imr_audio.studio.pages_tracks import _companions

    studio = studio_of(request)
    name = request.path_params["name"]
    try:
        listen = _companions(studio, name)
        if not studio.folder.inside("tracks", name).is_file():
            raise StudioPathError("no such file")
    except StudioPathError:
        raise HTTPException(404) from None
    chapters = read_chapters(studio.folder.inside("tracks", name))
    return studio.page("track.html", title="Track", listen=listen, chapters=chapters)


routes = [
    Route("/tracks", tracks_page),
    Route("/tracks/{name}", track_page),
]
