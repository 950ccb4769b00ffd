"""Auditions: a sentence in a voice profile, 10 s of a soundscape at an intensity.

Each is rendered once into the studio's private scratch folder (``.studio/auditions/``, 0700,
files 0600) under a keyed hash of what was asked (a sentence may hold a client's words, so it
never names a file), and served back from there.
"""

from __future__ import annotations

import re

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from imr_audio.errors import ImrAudioError
from imr_audio.files import private_dir
from imr_audio.studio.app import Studio, studio_of

__all__ = ["AUDITION_S", "routes"]

AUDITION_S = 10.0
"""Length of a soundscape audition, in seconds."""

SAMPLE_TEXT = "Take a slow breath in, and let it go. You are safe here, and you can rest."
_INTENSITIES = ("light", "steady", "heavy")
_NAME = re.compile(r"^(voice|bed)-[0-9a-f]{24}\.wav$")
_MAX_SENTENCE_CHARS = 300


def _bases(studio: Studio) -> list[str]:
    names = studio.workspace.soundscapes.names()
    return [n for n in names if not n.endswith(("-light", "-heavy"))]


def _page(studio: Studio, status: int = 200, **context: object) -> Response:
    defaults: dict[str, object] = {
        "voices": studio.workspace.voices.names(), "soundscapes": _bases(studio),
        "intensities": _INTENSITIES, "sentence": SAMPLE_TEXT, "voice": "", "soundscape": "",
        "intensity": "steady", "played": "", "error": "",
    }
    defaults.update(context)
    return studio.page("audition.html", status, title="Audition", **defaults)


async def audition_page(request: Request) -> Response:
    """The two audition forms."""
    return _page(studio_of(request))


async def audition_voice(request: Request) -> Response:
    """Speak the sentence with the chosen voice profile, then play it."""
    from imr_audio.voice.catalog import preview_voice

    studio = studio_of(request)
    form = await request.form()
    voice = str(form.get("voice") or "")
    sentence = " ".join(str(form.get("sentence") or "").split())[:_MAX_SENTENCE_CHARS]
    if voice not in studio.workspace.voices.names() or not sentence:
        return _page(studio, 422, voice=voice, sentence=sentence,
                     error="Choose a voice and write a sentence.")
    key = studio.workspace.key.hash("studio-audition", f"{voice}\n{sentence}".encode())[:24]
    path = studio.folder.private / "auditions" / f"voice-{key}.wav"
    try:
        if not path.is_file():
            private_dir(path.parent)
            await run_in_threadpool(preview_voice, studio.workspace, voice, path, sentence)
    except ImrAudioError as exc:
        return _page(studio, 422, voice=voice, sentence=sentence,
                     error=str(exc).splitlines()[0])
    return _page(studio, voice=voice, sentence=sentence, played=path.name)


async def audition_soundscape(request: Request) -> Response:
    """Render 10 s of the chosen soundscape at the chosen intensity, then play it."""
    from imr_audio.soundscapes.base import variant_name
    from imr_audio.soundscapes.writer import write_soundscape

    studio = studio_of(request)
    form = await request.form()
    base = str(form.get("soundscape") or "")
    intensity = str(form.get("intensity") or "steady")
    if base not in _bases(studio) or intensity not in _INTENSITIES:
        return _page(studio, 422, error="Choose a soundscape and an intensity.")
    name = variant_name(base, intensity)  # type: ignore[arg-type]
    if name not in studio.workspace.soundscapes.names():
        name = base  # a preset or noise without intensities
    key = studio.workspace.key.hash("studio-audition", f"bed\n{name}".encode())[:24]
    path = studio.folder.private / "auditions" / f"bed-{key}.wav"
    try:
        if not path.is_file():
            private_dir(path.parent)
            await run_in_threadpool(write_soundscape, studio.workspace.soundscapes.get(name),
                                    AUDITION_S, path)
    except (ImrAudioError, ValueError) as exc:
        return _page(studio, 422, soundscape=base, intensity=intensity,
                     error=str(exc).splitlines()[0])
    return _page(studio, soundscape=base, intensity=intensity, played=path.name)


async def audition_file(request: Request) -> Response:
    """An audition's audio."""
    studio = studio_of(request)
    name = request.path_params["name"]
    path = studio.folder.private / "auditions" / name
    if not _NAME.match(name) or path.is_symlink() or not path.is_file():
        raise HTTPException(404)
    return FileResponse(path, media_type="audio/wav")


routes = [
    Route("/audition", audition_page),
    Route("/audition/voice", audition_voice, methods=["POST"]),
    Route("/audition/soundscape", audition_soundscape, methods=["POST"]),
    Route("/audition/files/{name}", audition_file),
]
