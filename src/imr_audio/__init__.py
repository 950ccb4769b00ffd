"""imr-audio: offline guided-imagery audio for therapists and their clients."""

__version__ = "0.1.0"

from imr_audio.authoring import list_templates, load_template, render_script
from imr_audio.errors import ImrAudioError
from imr_audio.markup import parse_script
from imr_audio.profile import ClientProfile, load_client_profile
from imr_audio.render import RenderResult, RenderSettings, render_track
from imr_audio.timeline import Timeline

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
