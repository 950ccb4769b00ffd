"""imr-audio: offline guided-imagery audio for therapists and their clients.

The public API works in stages, each a function that takes the previous stage's frozen value
(see ``docs/api.md``), all in an explicit :class:`Workspace`::

    workspace = Workspace()                                   # templates, voices, caches ...
    profile = workspace.load_profile(Path("clients/c-017.yaml"))
    prepared = prepare(workspace, "safe-place", profile)      # fill, time, lint
    result = render(workspace, "safe-place", profile, Path("tracks"))

The names below are imported on first use (PEP 562), so that importing one submodule (a speech
worker imports only :mod:`imr_audio.voice.pyttsx3_worker`) does not import the whole package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imr_audio.lazy import lazy_exports

__version__ = "0.1.0"

if TYPE_CHECKING:
    from imr_audio.audio import Clip
    from imr_audio.clipstore import ClipStore
    from imr_audio.errors import ImrAudioError
    from imr_audio.export.settings import ExportSettings
    from imr_audio.master import MasterSettings
    from imr_audio.mix import MixSettings
    from imr_audio.mixplan import MixPlan, bed_choice, plan_mix
    from imr_audio.pack import HomePack, build_home_pack
    from imr_audio.profile import ClientProfile, load_client_profile
    from imr_audio.script import PreparedScript, ScriptChoices, ScriptPreview, prepare, preview
    from imr_audio.speech import SpeechSettings, SpokenScript, open_speaker, speak
    from imr_audio.timeline import Timeline
    from imr_audio.track import RenderResult, RenderSettings, render, write_track
    from imr_audio.workspace import Workspace, WorkspaceConfig

_EXPORTS = {
    "ClientProfile": "imr_audio.profile",
    "Clip": "imr_audio.audio",
    "ClipStore": "imr_audio.clipstore",
    "ExportSettings": "imr_audio.export.settings",
    "HomePack": "imr_audio.pack",
    "ImrAudioError": "imr_audio.errors",
    "MasterSettings": "imr_audio.master",
    "MixPlan": "imr_audio.mixplan",
    "MixSettings": "imr_audio.mix",
    "PreparedScript": "imr_audio.script",
    "RenderResult": "imr_audio.track",
    "RenderSettings": "imr_audio.track",
    "ScriptChoices": "imr_audio.script",
    "ScriptPreview": "imr_audio.script",
    "SpeechSettings": "imr_audio.speech",
    "SpokenScript": "imr_audio.speech",
    "Timeline": "imr_audio.timeline",
    "Workspace": "imr_audio.workspace",
    "WorkspaceConfig": "imr_audio.workspace",
    "bed_choice": "imr_audio.mixplan",
    "build_home_pack": "imr_audio.pack",
    "load_client_profile": "imr_audio.profile",
    "open_speaker": "imr_audio.speech",
    "plan_mix": "imr_audio.mixplan",
    "prepare": "imr_audio.script",
    "preview": "imr_audio.script",
    "render": "imr_audio.track",
    "speak": "imr_audio.speech",
    "write_track": "imr_audio.track",
}

__all__ = [
    "ClientProfile",
    "Clip",
    "ClipStore",
    "ExportSettings",
    "HomePack",
    "ImrAudioError",
    "MasterSettings",
    "MixPlan",
    "MixSettings",
    "PreparedScript",
    "RenderResult",
    "RenderSettings",
    "ScriptChoices",
    "ScriptPreview",
    "SpeechSettings",
    "SpokenScript",
    "Timeline",
    "Workspace",
    "WorkspaceConfig",
    "__version__",
    "bed_choice",
    "build_home_pack",
    "load_client_profile",
    "open_speaker",
    "plan_mix",
    "prepare",
    "preview",
    "render",
    "speak",
    "write_track",
]


__getattr__ = lazy_exports(__name__, _EXPORTS)
