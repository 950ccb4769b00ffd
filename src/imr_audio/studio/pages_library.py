"""The library page: render a manifest (batch) from the page, with each track's progress."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from imr_audio.errors import ImrAudioError
from imr_audio.studio.app import Studio, status_events, studio_of
from imr_audio.studio.forms import split_problems

__all__ = ["routes"]

_MANIFEST_SUFFIXES = (".yaml", ".yml", ".csv")


def _manifests(studio: Studio) -> list[str]:
    root = studio.folder.root
    return sorted(p.name for p in root.iterdir()
                  if p.suffix in _MANIFEST_SUFFIXES and p.is_file() and not p.is_symlink()
                  and not p.name.startswith("."))


async def library_page(request: Request) -> Response:
    """The manifests in the folder and the library runs of this session."""
    studio = studio_of(request)
    return studio.page("library.html", title="Library", manifests=_manifests(studio),
                       runs=studio.library.runs())


async def start_run(request: Request) -> Response:
    """Plan the chosen manifest and start rendering it."""
    studio = studio_of(request)
    form = await request.form()
    name = str(form.get("manifest") or "")
    if name not in _manifests(studio):
        raise HTTPException(404)
    try:
        run = await run_in_threadpool(studio.library.start, studio.folder.root / name)
    except ImrAudioError as exc:
        return studio.page("error.html", 422, title="Library not rendered",
                           message=str(exc).splitlines()[0], details=split_problems(str(exc)))
    return RedirectResponse(f"/library/runs/{run.id}", status_code=303)


def _run(request: Request) -> str:
    run = studio_of(request).library.get(request.path_params["run_id"])
    if run is None:
        raise HTTPException(404)
    return run.id


async def run_page(request: Request) -> Response:
    """A library run: each track's state, updated live."""
    studio = studio_of(request)
    run = studio.library.get(_run(request))
    return studio.page("library_run.html", title=f"Library run {run.id}" if run else "",
                       run=run)


async def run_events(request: Request) -> Response:
    """The run's tracks as server-sent events, until it ends."""
    studio = studio_of(request)
    run_id = _run(request)

    return status_events(studio, lambda: studio.library.get(run_id), 0.5)


routes = [
    Route("/library", library_page),
    Route("/library", start_run, methods=["POST"]),
    Route("/library/runs/{run_id}", run_page),
    Route("/library/runs/{run_id}/events", run_events),
]
