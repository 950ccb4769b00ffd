"""Track pages: prepare (template, client, variables), live preview, render jobs and listening."""

from __future__ import annotations

import copy
import functools
import logging
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from imr_audio.errors import ClientProfileError, ImrAudioError, TemplateNotFoundError
from imr_audio.studio.app import Studio, status_events, studio_of
from imr_audio.studio.config import StudioPathError
from imr_audio.studio.forms import FormField, split_problems, variable_field, variables_data
from imr_audio.studio.jobs import JobRequest
from imr_audio.yamlfile import read_yaml

__all__ = ["routes"]

log = logging.getLogger("imr_audio.studio")

_SSE_POLL_S = 0.25


def _template_fields(studio: Studio, template_id: str) -> list[FormField]:
    return [variable_field(var) for var in studio.workspace.templates.load(template_id).variables]


def _saved(studio: Studio, client_id: str) -> tuple[Path, dict[str, Any]]:
    """The client's profile file and its fields as saved."""
    try:
        path = studio.folder.client_file(client_id)
    except StudioPathError:
        raise HTTPException(404) from None
    try:
        info = path.stat()
    except OSError:
        raise HTTPException(404) from None
    key = (info.st_mtime_ns, info.st_size)
    cached = studio.profiles.get(client_id)
    if cached is None or cached[0] != key:  # read again only when the file changed
        data = read_yaml(path)
        cached = studio.profiles[client_id] = (key, data if isinstance(data, dict) else {})
    return path, copy.deepcopy(cached[1])


def _choice(form: Any, name: str) -> str | None:
    value = str(form.get(name) or "").strip()
    return value or None


def _voice(studio: Studio, form: Any) -> str | None:
    """The voice profile chosen, one of the workspace's (else refused)."""
    voice = _choice(form, "voice") if form is not None else None
    if voice is not None and voice not in studio.workspace.voices.names():
        raise HTTPException(400)
    return voice


def _soundscape(studio: Studio, form: Any) -> str | None:
    """The soundscape chosen: a catalog name or a recording in the folder (else refused)."""
    if form is None:
        return None
    try:
        return studio.folder.soundscape(_choice(form, "soundscape"),
                                        studio.workspace.soundscapes.names())
    except StudioPathError:
        raise HTTPException(400) from None


def _options(studio: Studio) -> dict[str, Any]:
    from imr_audio.export.settings import FORMATS

    return {
        "templates": studio.workspace.templates.ids(),
        "clients": studio.folder.client_ids(),
        "voices": studio.workspace.voices.names(),
        "soundscapes": studio.workspace.soundscapes.names(),
        "recordings": studio.folder.recording_names(),
        "formats": FORMATS,
    }


def _preview_context(studio: Studio, template_id: str, client_id: str,
                     form: FormData | None) -> dict[str, Any]:
    """Fill, time and lint the template for the client with the form's values."""
    from imr_audio.length import parse_length
    from imr_audio.script import ScriptChoices, preview_track

    _, saved = _saved(studio, client_id)
    fields = _template_fields(studio, template_id)
    data = variables_data(saved, form, fields) if form is not None else saved
    source = f"clients/{client_id}.yaml"
    try:
        profile = studio.workspace.profile(data, source=source, template=template_id)
        length = _choice(form, "length") if form is not None else None
        choices = ScriptChoices(
            soundscape=_soundscape(studio, form),
            voice_profile=_voice(studio, form),
            length_s=parse_length(length) if length else None,
        )
        result = preview_track(studio.workspace, template_id, profile, choices)
    except ClientProfileError as exc:
        return {"preview": None, "problems": split_problems(str(exc)), "error": ""}
    except ImrAudioError as exc:
        return {"preview": None, "problems": [], "error": str(exc).splitlines()[0]}
    marks: dict[int, list[Any]] = {}
    for finding in result.prepared.findings:
        if finding.script_line is not None:
            marks.setdefault(finding.script_line, []).append(finding)
    shown: set[int] = set()
    rows = []
    for line in result.lines:
        findings = marks.get(line.script_line, []) if line.script_line not in shown else []
        shown.add(line.script_line)
        rows.append((line, findings))
    loose = [f for f in result.prepared.findings
             if f.script_line is None or f.script_line not in shown]
    return {"preview": result, "rows": rows, "loose": loose, "problems": [], "error": ""}


async def prepare_page(request: Request) -> Response:
    """Choose a template and a client; the template's variables; options; the preview."""
    studio = studio_of(request)
    template_id = request.query_params.get("template", "")
    client_id = request.query_params.get("client", "")
    context: dict[str, Any] = {"template_id": template_id, "client_id": client_id,
                               "fields": [], "values": {}, "preview_html": "",
                               **_options(studio)}
    if template_id and template_id not in context["templates"]:
        raise HTTPException(404)
    if template_id and client_id:
        try:
            fields = _template_fields(studio, template_id)
            _, saved = _saved(studio, client_id)
        except TemplateNotFoundError:
            raise HTTPException(404) from None
        from imr_audio.studio.forms import form_values

        context["fields"] = fields
        context["values"] = form_values(saved, fields)
        preview = await run_in_threadpool(_preview_context, studio, template_id, client_id, None)
        context["preview_html"] = studio.pages.get_template("preview.html").render(**preview)
    return studio.page("prepare.html", title="Prepare a track", **context)


async def _posted(request: Request) -> tuple[Studio, FormData, str, str]:
    """The studio, the posted prepare form, and the template and client it names.

    A template the workspace does not have is not found (404).
    """
    studio = studio_of(request)
    form = await request.form()
    template_id, client_id = str(form.get("template", "")), str(form.get("client", ""))
    if template_id not in studio.workspace.templates.ids():
        raise HTTPException(404)
    return studio, form, template_id, client_id


async def preview_fragment(request: Request) -> Response:
    """The preview of the form as it stands (the page asks as fields change)."""
    studio, form, template_id, client_id = await _posted(request)
    # In a thread: filling and linting takes tens of ms, and the event streams go on meanwhile.
    context = await run_in_threadpool(_preview_context, studio, template_id, client_id, form)
    return studio.page("preview.html", **context)


async def submit_job(request: Request) -> Response:
    """Save the form's values to the client's profile and queue the render."""
    from imr_audio.export.settings import ExportSettings
    from imr_audio.length import parse_length
    from imr_audio.studio.pages_clients import save_profile
    from imr_audio.track import RenderSettings

    studio, form, template_id, client_id = await _posted(request)
    path, saved = _saved(studio, client_id)
    data = variables_data(saved, form, _template_fields(studio, template_id))
    length = _choice(form, "length")
    fmt = _choice(form, "format") or "mp3"
    if fmt not in _options(studio)["formats"]:
        raise HTTPException(400)
    try:
        studio.workspace.profile(data, source=f"clients/{client_id}.yaml", template=template_id)
        settings = RenderSettings(
            soundscape=_soundscape(studio, form), voice_profile=_voice(studio, form),
            length_s=parse_length(length) if length else None,
            export=ExportSettings(format=fmt),
        )
        if data != saved:
            save_profile(path, data)
    except ImrAudioError as exc:
        return studio.page("error.html", 422, title="Not rendered",
                           message=str(exc).splitlines()[0],
                           details=split_problems(str(exc)))
    job = await run_in_threadpool(  # the first job starts the executor's processes
        studio.jobs.submit,
        JobRequest(template_id, client_id, path, studio.folder.tracks, settings))
    log.info("job %s queued", job.id)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


def _job(request: Request) -> Any:
    job = studio_of(request).jobs.get(request.path_params["job_id"])
    if job is None:
        raise HTTPException(404)
    return job


async def jobs_page(request: Request) -> Response:
    """Every job of this session, newest first."""
    studio = studio_of(request)
    return studio.page("jobs.html", title="Jobs", jobs=studio.jobs.jobs())


def _companions(studio: Studio, track: str) -> dict[str, Any]:
    from imr_audio.trackset import companion_paths

    path = studio.folder.inside("tracks", track)
    txt, vtt, sidecar = companion_paths(path)
    return {"track": track, "vtt": vtt.name if vtt.is_file() else "",
            "txt": txt.name if txt.is_file() else "",
            "sidecar": sidecar.name if sidecar.is_file() else ""}


async def job_page(request: Request) -> Response:
    """One job: its state (live), and when done its track to listen to and pack."""
    studio = studio_of(request)
    job = _job(request)
    listen = _companions(studio, job.track) if job.state == "done" and job.track else None
    pack = f"{job.client_id}.zip"
    built = request.query_params.get("pack") == pack and (studio.folder.home_packs / pack).is_file()
    return studio.page("job.html", title=f"Job {job.id}", job=job, listen=listen,
                       pack=pack if built else "")


async def job_events(request: Request) -> Response:
    """The job's status as server-sent events, until it ends."""
    studio = studio_of(request)
    job_id = _job(request).id

    return status_events(studio, lambda: studio.jobs.get(job_id), _SSE_POLL_S)


async def cancel_job(request: Request) -> Response:
    """Cancel a job."""
    studio = studio_of(request)
    studio.jobs.cancel(_job(request).id)
    return RedirectResponse(f"/jobs/{request.path_params['job_id']}", status_code=303)


async def build_pack(request: Request) -> Response:
    """Build the client's home pack of the job's track, with the therapist's note, and zip it."""
    from imr_audio.files import private_temp, write_private
    from imr_audio.pack import build_home_pack

    studio = studio_of(request)
    job = _job(request)
    if job.state != "done":
        raise HTTPException(404)
    form = await request.form()
    note = str(form.get("note") or "").strip()
    note_file = None
    try:
        profile = studio.workspace.load_profile(studio.folder.client_file(job.client_id))
        if note:
            note_file = write_private(private_temp(studio.folder.private, ".txt"), note)
        track = studio.folder.inside("tracks", job.track)
        await run_in_threadpool(
            functools.partial(build_home_pack, studio.workspace, profile, [track],
                              studio.folder.home_packs / job.client_id, make_zip=True,
                              note_file=note_file))
    except ImrAudioError as exc:
        return studio.page("error.html", 422, title="No home pack",
                           message=str(exc).splitlines()[0], details=split_problems(str(exc)))
    finally:
        if note_file is not None:
            note_file.unlink(missing_ok=True)
    log.info("home pack built for job %s", job.id)
    return RedirectResponse(f"/jobs/{job.id}?pack={job.client_id}.zip", status_code=303)


routes = [
    Route("/prepare", prepare_page),
    Route("/preview", preview_fragment, methods=["POST"]),
    Route("/jobs", jobs_page),
    Route("/jobs", submit_job, methods=["POST"]),
    Route("/jobs/{job_id}", job_page),
    Route("/jobs/{job_id}/events", job_events),
    Route("/jobs/{job_id}/cancel", cancel_job, methods=["POST"]),
    Route("/jobs/{job_id}/pack", build_pack, methods=["POST"]),
]
