"""Client pages: the list by pseudonymous id, and the form that writes a profile."""

from __future__ import annotations

import logging
from typing import Any

import yaml
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from imr_audio.errors import ClientProfileError, ImrAudioError
from imr_audio.files import write_private
from imr_audio.profile import ClientProfile
from imr_audio.studio.app import studio_of
from imr_audio.studio.config import StudioPathError
from imr_audio.studio.forms import (
    client_groups,
    form_values,
    problems_by_field,
    profile_data,
    split_problems,
)
from imr_audio.yamlfile import read_yaml

__all__ = ["routes", "save_profile"]

log = logging.getLogger("imr_audio.studio")


def save_profile(path: Any, data: dict[str, Any]) -> None:
    """Write a profile mapping as YAML, whole, 0600."""
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    write_private(path, text, ClientProfileError)


async def clients(request: Request) -> Response:
    """The clients, by id."""
    studio = studio_of(request)
    jobs = studio.jobs.jobs()[:10]
    return studio.page("clients.html", title="Clients", clients=studio.folder.profile_ids(),
                       jobs=jobs)


def _form_page(request: Request, data: dict[str, Any], editing: str | None,
               problems: list[str] | None = None, status: int = 200) -> Response:
    studio = studio_of(request)
    groups = client_groups(studio.workspace)
    fields = [field for group in groups for field in group.fields]
    source = _source(data.get("id"))
    by_field, other = problems_by_field(problems or [], source, [f.name for f in fields]
                                        + ["eligibility"])
    return studio.page(
        "client_form.html", status, title=f"Client {editing}" if editing else "New client",
        groups=groups, values=form_values(data, fields), editing=editing, by_field=by_field,
        other=other, problems=problems or [],
    )


def _source(client_id: Any) -> str:
    """How the CLI would name this profile: its file in the folder."""
    if isinstance(client_id, str) and client_id:
        from imr_audio.profile import CLIENT_ID_PATTERN

        if CLIENT_ID_PATTERN.match(client_id):
            return f"clients/{client_id}.yaml"
    return "form"


async def new_client(request: Request) -> Response:
    """An empty client form."""
    return _form_page(request, {}, None)


async def edit_client(request: Request) -> Response:
    """A client's form, filled from the profile file."""
    studio = studio_of(request)
    client_id = request.path_params["client_id"]
    try:
        path = studio.folder.client_file(client_id)
    except StudioPathError:
        raise HTTPException(404) from None
    if not path.is_file():
        raise HTTPException(404)
    try:
        data = read_yaml(path)
    except ImrAudioError as exc:
        return _form_page(request, {"id": client_id}, client_id, [str(exc)])
    return _form_page(request, data if isinstance(data, dict) else {}, client_id)


async def save_client(request: Request) -> Response:
    """Validate the form as the CLI would read the file; save it, or show every problem."""
    studio = studio_of(request)
    form = await request.form()
    groups = client_groups(studio.workspace)
    data = profile_data(form, groups)
    editing = str(form.get("editing") or "") or None
    if editing is not None:  # the file keeps its name and its profile keeps its id
        try:
            existing = read_yaml(studio.folder.client_file(editing))
        except (StudioPathError, ImrAudioError):
            raise HTTPException(404) from None
        data["id"] = existing.get("id", editing) if isinstance(existing, dict) else editing
    source = _source(data.get("id"))
    try:
        templates = studio.workspace.templates
        profile = ClientProfile.from_mapping(  # saved only if it suits every template
            data, source, templates.known_fields(),
            lambda profile: templates.value_problems(profile, limits=True))
        path = studio.folder.client_file(editing or profile.id)
        same = [name for name, inner in studio.folder.profile_ids().items()
                if profile.id in (name, inner)]
        if editing is None and (path.exists() or same):
            raise ClientProfileError(f"{source}: id: a client with this id exists already"
                                     + (f" (clients/{same[0]}.yaml)" if same else ""))
        save_profile(path, data)
    except ClientProfileError as exc:
        return _form_page(request, data, editing, split_problems(str(exc)), 422)
    except StudioPathError:
        raise HTTPException(400) from None
    log.info("client profile saved")
    return RedirectResponse(f"/clients/{path.stem}?saved=1", status_code=303)


routes = [
    Route("/", clients),
    Route("/clients", clients),
    Route("/clients", save_client, methods=["POST"]),
    Route("/clients/new", new_client),
    Route("/clients/{client_id}", edit_client),
]
