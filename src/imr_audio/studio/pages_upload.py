"""Uploads: the therapist's own recording, kept in ``recordings/`` to loop as a soundscape.

The body is limited (see :data:`~imr_audio.studio.app.UPLOAD_LIMIT_BYTES`) by its
Content-Length and while it streams (the guard). The file keeps a cleaned form of its name
(letters, digits, ``.``, ``-``, ``_``), is written whole and owner-only, and must decode as
audio, else it is removed. Its name is never logged: it may be a client's.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from imr_audio.errors import ImrAudioError
from imr_audio.files import TEMP_SUFFIX, private_temp, publish_private
from imr_audio.studio.app import UPLOAD_LIMIT_BYTES, Studio, studio_of

__all__ = ["routes"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _clean_name(name: str) -> str:
    stem, dot, suffix = Path(name).name.rpartition(".")
    stem = _UNSAFE.sub("-", stem).strip(".-_")[:60] or "recording"
    return f"{stem}.{suffix.lower()}" if dot else stem


def _page(studio: Studio, status: int = 200, **context: object) -> Response:
    values: dict[str, object] = {"recordings": studio.folder.recording_names(), "error": "",
                                 "saved": "", "limit_mb": UPLOAD_LIMIT_BYTES >> 20}
    values.update(context)
    return studio.page("upload.html", status, title="Your recordings", **values)


async def upload_page(request: Request) -> Response:
    """The recordings and the upload form."""
    return _page(studio_of(request))


async def upload(request: Request) -> Response:
    """Keep an uploaded recording in ``recordings/`` if it decodes as audio."""
    from imr_audio.soundscapes.audio_file import AUDIO_SUFFIXES, decode_recording

    studio = studio_of(request)
    form = await request.form(max_files=1, max_fields=4)
    upload = form.get("recording")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _page(studio, 422, error="Choose an audio file to upload.")
    name = _clean_name(upload.filename)
    if Path(name).suffix not in AUDIO_SUFFIXES:
        return _page(studio, 422, error="Not an audio file: the name must end in one of "
                     + ", ".join(sorted(AUDIO_SUFFIXES)) + ".")
    path = studio.folder.recordings / name
    temp = private_temp(studio.folder.recordings, f"{TEMP_SUFFIX}{path.suffix}")

    def keep() -> None:
        with temp.open("wb") as target:
            shutil.copyfileobj(upload.file, target, 1 << 20)
        decode_recording(temp)  # it must be audio, else it is not kept
        publish_private(temp, path)

    try:
        await run_in_threadpool(keep)
    except ImrAudioError as exc:
        reason = str(exc).splitlines()[0].replace(str(temp), name)
        return _page(studio, 422, error=reason)
    except OSError:
        return _page(studio, 422, error="The recording could not be written.")
    finally:
        temp.unlink(missing_ok=True)
        await upload.close()
    return _page(studio, saved=name)


routes = [
    Route("/upload", upload_page),
    Route("/upload", upload, methods=["POST"]),
]
