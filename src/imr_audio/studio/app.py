"""The studio's ASGI app: routes, the page templates' environment, files and static assets."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, Protocol

import jinja2
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response, StreamingResponse
from starlette.routing import Route

from imr_audio.executors import Executor
from imr_audio.studio.config import StudioConfig, StudioFolder, StudioPathError
from imr_audio.studio.jobs import JobQueue
from imr_audio.studio.library import LibraryRuns
from imr_audio.studio.security import Guard
from imr_audio.studio.templates_cache import FreshTemplateLibrary
from imr_audio.workspace import Workspace, WorkspaceConfig

__all__ = ["Studio", "create_app", "studio_of"]

_PACKAGE = Path(__file__).parent
_STATIC = {"studio.js": "text/javascript", "studio.css": "text/css"}
UPLOAD_LIMIT_BYTES = 200 << 20
"""Largest recording one may upload as a soundscape, in bytes."""


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes:02d}:{secs:02d}"


class Studio:
    """What the pages work with: the folder, the workspace, the jobs and the page templates."""

    def __init__(self, config: StudioConfig, workspace_config: WorkspaceConfig | None = None,
                 executor: Callable[[int], Executor] | None = None) -> None:
        """The studio of ``config``; ``executor(max_jobs)`` runs renders (default local)."""
        self.config = config
        self.folder = StudioFolder(config.folder)
        base = workspace_config or WorkspaceConfig.from_environment()
        self.workspace = Workspace(base.replace(templates_dir=self.folder.templates))
        self.workspace.templates = FreshTemplateLibrary(self.workspace.templates.search_path)
        self.jobs = JobQueue(self.workspace.config, self.folder.private, config.max_jobs,
                             executor, records=self.folder.private / "jobs")
        self.stopping: Callable[[], bool] = lambda: False
        """Whether the server is shutting down (event streams end then)."""
        self.profiles: dict[str, tuple[tuple[int, int], dict[str, Any]]] = {}
        """Client profiles as last read, with their files' (mtime_ns, size)."""
        self.library = LibraryRuns(self.workspace, self.folder.tracks, config.max_jobs)
        """Manifests rendered from the page."""
        self.pages = jinja2.Environment(
            loader=jinja2.FileSystemLoader(_PACKAGE / "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        self.pages.filters["clock"] = _clock

    def page(self, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        """The page template ``name`` filled with ``context``."""
        html = self.pages.get_template(name).render(**context)
        return HTMLResponse(html, status_code=status)


def studio_of(request: Request) -> Studio:
    """The studio serving ``request``."""
    studio: Studio = request.app.state.studio
    return studio


class _Watched(Protocol):
    @property
    def final(self) -> bool: ...

    def as_dict(self) -> dict[str, Any]: ...


def status_events(studio: Studio, current: Callable[[], _Watched | None],
                  poll_s: float) -> StreamingResponse:
    """Server-sent events of ``current()``'s state (a job, a library run) until it ends.

    An event is sent when the state changed since the last one; the stream ends when the
    thing is final or gone, or when the server shuts down.
    """

    async def stream() -> AsyncIterator[str]:
        last = ""
        while True:
            watched = current()
            if watched is None:
                return
            data = json.dumps(watched.as_dict())
            if data != last:
                last = data
                yield f"data: {data}\n\n"
            if watched.final or studio.stopping():
                return
            await asyncio.sleep(poll_s)

    return StreamingResponse(stream(), media_type="text/event-stream")


async def static(request: Request) -> Response:
    """The page's own script and style sheet (the token is needed for these too)."""
    name = request.path_params["name"]
    if name not in _STATIC:
        raise HTTPException(404)
    return FileResponse(_PACKAGE / "static" / name, media_type=_STATIC[name])


async def favicon(request: Request) -> Response:
    """No icon (the browser asks for one)."""
    return Response(status_code=204)


async def folder_file(request: Request) -> Response:
    """A file of the folder's tracks or home packs (never outside them)."""
    studio = studio_of(request)
    try:
        path = studio.folder.inside(request.path_params["area"], request.path_params["path"])
    except StudioPathError:
        raise HTTPException(404) from None
    # Profiles are never served; nor are recordings (their names may be a client's).
    if request.path_params["area"] not in ("tracks", "home-packs") or not path.is_file():
        raise HTTPException(404)
    download = request.query_params.get("download") == "1"
    return FileResponse(path, filename=path.name if download else None,
                        content_disposition_type="attachment" if download else "inline")


async def _error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    text = {404: "Not found", 405: "Not allowed", 413: "Too large"}.get(status, "Error")
    with contextlib.suppress(Exception):
        return studio_of(request).page("error.html", status, title=text, message=text)
    return HTMLResponse(text, status_code=status)


def create_app(config: StudioConfig, workspace_config: WorkspaceConfig | None = None,
               executor: Callable[[int], Executor] | None = None,
               stopping: Callable[[], bool] | None = None) -> Guard:
    """The studio's app for ``config``, guarded (see :mod:`imr_audio.studio.security`).

    ``stopping()`` says when the server is shutting down: the pages' event streams end then.
    """
    from imr_audio.studio import (
        pages_audition,
        pages_clients,
        pages_extra,
        pages_library,
        pages_tracks,
        pages_upload,
    )

    studio = Studio(config, workspace_config, executor)
    if stopping is not None:
        studio.stopping = stopping

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            studio.jobs.close()

    routes = [
        Route("/static/{name}", static),
        Route("/favicon.ico", favicon),
        Route("/files/{area}/{path:path}", folder_file),
        *pages_clients.routes,
        *pages_tracks.routes,
        *pages_extra.routes,
        *pages_audition.routes,
        *pages_library.routes,
        *pages_upload.routes,
    ]
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={HTTPException: _error, Exception: _error})
    app.state.studio = studio

    def body_limit(path: str) -> int:
        return UPLOAD_LIMIT_BYTES if path == "/upload" else config.max_form_bytes

    return Guard(app, config, body_limit)
