"""imr-audio: offline guided-imagery audio for therapists and their clients.

The names below are imported on first use (PEP 562), so that importing one submodule (a speech
worker imports only :mod:`imr_audio.voice.pyttsx3_worker`) does not import the whole package.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from imr_audio.authoring import list_templates, load_template, render_script
    from imr_audio.errors import ImrAudioError
    from imr_audio.markup import parse_script
    from imr_audio.profile import ClientProfile, load_client_profile
    from imr_audio.render import RenderResult, RenderSettings, render_track
    from imr_audio.timeline import Timeline

_EXPORTS = {
    "ClientProfile": "imr_audio.profile",
    "ImrAudioError": "imr_audio.errors",
    "RenderResult": "imr_audio.render",
    "RenderSettings": "imr_audio.render",
    "Timeline": "imr_audio.timeline",
    "list_templates": "imr_audio.authoring",
    "load_client_profile": "imr_audio.profile",
    "load_template": "imr_audio.authoring",
    "parse_script": "imr_audio.markup",
    "render_script": "imr_audio.authoring",
    "render_track": "imr_audio.render",
}

__all__ = [
    "ClientProfile",
    "ImrAudioError",
    "RenderResult",
    "RenderSettings",
    "Timeline",
    "__version__",
    "list_templates",
    "load_client_profile",
    "load_template",
    "parse_script",
    "render_script",
    "render_track",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'imr_audio' has no attribute {name!r}")
