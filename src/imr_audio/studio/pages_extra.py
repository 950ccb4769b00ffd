"""Further pages: the tracks in the folder."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from imr_audio.studio.app import studio_of
from imr_audio.studio.config import StudioPathError

__all__ = ["routes"]

_AUDIO = (".mp3", ".m4a", ".ogg", ".opus", ".flac", ".wav")


async def tracks_page(request: Request) -> Response:
    """The tracks in the folder's ``tracks/``."""
    studio = studio_of(request)
    tracks = sorted(p.name for p in studio.folder.tracks.iterdir()
                    if p.suffix in _AUDIO and p.is_file() and not p.name.startswith("."))
    return studio.page("tracks.html", title="Tracks", tracks=tracks)


async def track_page(request: Request) -> Response:
    """One track to listen to, with its captions and downloads."""
    from imr_audio.export.tags import read_chapters
    from imr_audio.studio.pages_tracks import _companions

    studio = studio_of(request)
    name = request.path_params["name"]
    try:
        listen = _companions(studio, name)
        if not studio.folder.inside("tracks", name).is_file():
            raise StudioPathError("no such file")
    except StudioPathError:
        raise HTTPException(404) from None
    chapters = [(chapter.title, chapter.start_s)
                for chapter in read_chapters(studio.folder.inside("tracks", name))]
    return studio.page("track.html", title="Track", listen=listen, chapters=chapters)


routes = [
    Route("/tracks", tracks_page),
    Route("/tracks/{name}", track_page),
]
