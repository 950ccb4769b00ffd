"""The workspace: everything a render is configured by, in one explicit object.

A :class:`Workspace` holds the templates library (the therapist's own folder, then the shipped
one), the soundscape catalog (built-in beds and presets, and the user's presets file), the
voice profiles and their lexicon, the speech engines, the caches and the installation key. It
is passed to the library's functions, never installed globally: a studio serving two clinics'
folders holds two workspaces, a test builds its own, and a batch or cluster worker rebuilds the
same workspace from its small, picklable :class:`WorkspaceConfig`.

The environment is read in exactly one place, :meth:`WorkspaceConfig.from_environment`:

========================  =======================================================
``IMR_AUDIO_CACHE_DIR``   the caches' folder (else the platform's user cache folder)
``IMR_AUDIO_KEY_FILE``    the installation key file (else the user data folder's)
``IMR_AUDIO_PRESETS``     the soundscape presets file (else
                          ``$XDG_CONFIG_HOME/imr-audio/soundscapes.yaml`` if it exists)
``IMR_AUDIO_THEMES``      the therapist's own theme map for the lint (else
                          ``$XDG_CONFIG_HOME/imr-audio/themes.yaml`` if it exists)
========================  =======================================================

Parts are made on first use, so that a command that only lists templates loads no audio code.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

from imr_audio.authoring.library import TemplateLibrary
from imr_audio.profile import ClientProfile, ProfileCheck, load_client_profile
from imr_audio.resources import data_dir
from imr_audio.secret import InstallationKey, default_key_path
from imr_audio.voice.profiles import VoiceLibrary
from imr_audio.voice.registry import BUILTIN_ENGINES, EngineRegistry

if TYPE_CHECKING:
    from imr_audio.soundscapes.bedcache import BedCache
    from imr_audio.soundscapes.catalog import SoundscapeCatalog
    from imr_audio.voice.cache import SpeechCache

__all__ = [
    "CACHE_DIR_ENV",
    "KEY_FILE_ENV",
    "PRESETS_ENV",
    "THEMES_ENV",
    "Workspace",
    "WorkspaceConfig",
]

CACHE_DIR_ENV = "IMR_AUDIO_CACHE_DIR"
"""Environment variable naming the folder of imr-audio's caches."""

KEY_FILE_ENV = "IMR_AUDIO_KEY_FILE"
"""Environment variable naming the installation key file."""

PRESETS_ENV = "IMR_AUDIO_PRESETS"
"""Environment variable naming the user's soundscape presets file."""

THEMES_ENV = "IMR_AUDIO_THEMES"
"""Environment variable naming the therapist's own theme map (added to the lint's)."""


def _config_file(environ: Mapping[str, str], variable: str, name: str) -> Path | None:
    """The file ``$variable`` names, else ``$XDG_CONFIG_HOME/imr-audio/<name>`` if it exists.

    ``XDG_CONFIG_HOME`` defaults to ``~/.config``.
    """
    named = environ.get(variable)
    if named:
        return Path(named).expanduser()
    config = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    default = Path(config) / "imr-audio" / name
    return default if default.is_file() else None


@dataclass(frozen=True)
class WorkspaceConfig:
    """What a workspace is made from: paths and names only, so it pickles to a worker."""

    cache_dir: Path
    """Folder of the caches: ``speech/``, ``beds/`` and ``piper/`` (split voices)."""
    key_file: Path
    """The installation key file (made on first use)."""
    templates_dir: Path | None = None
    """The therapist's own templates folder, searched before the shipped one."""
    presets_file: Path | None = None
    """The user's soundscape presets file; None: no presets of the user's."""
    themes_file: Path | None = None
    """The therapist's own theme map (YAML), added to the lint's shipped one; None: none."""
    voices_dir: Path | None = None
    """The voice profiles' folder; None: the shipped ``voices/``."""
    engines: tuple[tuple[str, str], ...] = BUILTIN_ENGINES
    """``(name, "module:function")``: each speech engine's factory, called with this config."""
    engine_workers: int | None = None
    """pyttsx3 processes per render, and Piper's onnxruntime threads (brought within 1-3,
    which give the same samples); None: one process per core, Piper's fixed 2 threads."""

    @classmethod
    def from_environment(
        cls,
        *,
        templates_dir: Path | None = None,
        presets_file: Path | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> WorkspaceConfig:
        """The user's configuration: the environment variables above, else the defaults.

        ``presets_file`` (e.g. ``--presets``) wins over ``$IMR_AUDIO_PRESETS``; without either,
        the default presets file counts only if it exists.
        """
        env = os.environ if environ is None else environ
        if presets_file is None:
            presets_file = _config_file(env, PRESETS_ENV, "soundscapes.yaml")
        cache = env.get(CACHE_DIR_ENV) or platformdirs.user_cache_dir("imr-audio")
        key = env.get(KEY_FILE_ENV)
        return cls(
            cache_dir=Path(cache),
            key_file=Path(key) if key else default_key_path(),
            templates_dir=templates_dir,
            presets_file=presets_file,
            themes_file=_config_file(env, THEMES_ENV, "themes.yaml"),
        )

    def replace(self, **changes: Any) -> WorkspaceConfig:
        """A copy with ``changes`` (field names as keywords)."""
        return dataclasses.replace(self, **changes)


class Workspace:
    """The templates, soundscapes, voices, engines, caches and key one piece of work uses."""

    def __init__(
        self, config: WorkspaceConfig | None = None, *, engines: EngineRegistry | None = None
    ) -> None:
        """A workspace made from ``config`` (default: :meth:`WorkspaceConfig.from_environment`).

        ``engines`` replaces the engines ``config`` names (e.g. a test's stand-in engine); a
        worker rebuilding this workspace from its config gets the config's engines.
        """
        self.config = config or WorkspaceConfig.from_environment()
        self.key = InstallationKey(self.config.key_file)
        """The installation key (:mod:`imr_audio.secret`)."""
        own = self.config.templates_dir
        shipped = data_dir("scripts_templates")
        self.templates = TemplateLibrary((own, shipped) if own else (shipped,))
        """The script templates."""
        self.voices = VoiceLibrary(self.config.voices_dir or data_dir("voices"))
        """The voice profiles and the shipped lexicon."""
        self.engines = engines or EngineRegistry.from_config(self.config)
        """The speech engines by name."""

    @classmethod
    def from_environment(
        cls, *, templates_dir: Path | None = None, presets_file: Path | None = None
    ) -> Workspace:
        """The user's workspace (see :meth:`WorkspaceConfig.from_environment`)."""
        return cls(
            WorkspaceConfig.from_environment(
                templates_dir=templates_dir, presets_file=presets_file
            )
        )

    def derive(self, **changes: Any) -> Workspace:
        """A workspace whose config has ``changes`` (the same engines)."""
        return Workspace(self.config.replace(**changes), engines=self.engines)

    def load_profile(self, path: Path, template: str | None = None) -> ClientProfile:
        """Read and validate a client's profile file, reporting every problem at once.

        A field that no template of this workspace reads is a problem too (with a "did you
        mean" hint for a near miss), and so is a value of a kind that a template reading it
        would refuse (a list given as a mapping). With ``template`` (an id), what that template
        needs is checked in the same pass, so one error lists everything to fix.
        """
        return load_client_profile(path, *self._checks(template))

    def profile(
        self, data: Mapping[str, Any], source: str = "form", template: str | None = None
    ) -> ClientProfile:
        """Validate a profile's fields given as a mapping (e.g. from a form).

        As :meth:`load_profile`, but messages name ``source`` instead of a file.
        """
        return ClientProfile.from_mapping(data, source, *self._checks(template))

    def _checks(self, template: str | None) -> tuple[frozenset[str], ProfileCheck]:
        """The fields the templates read, and the check of a profile's values.

        The check applies every template's rules on the values given and, with ``template``,
        what that template needs. Every template's schema is read once for both.
        """
        from imr_audio.authoring.templates import profile_problems

        specs = self.templates.specs()
        known = self.templates.known_fields(specs)
        spec = None if template is None else self.templates.load(template)

        def check(profile: ClientProfile) -> list[str]:
            problems = [] if spec is None else profile_problems(spec, profile)
            return problems + [problem for problem in self.templates.value_problems(
                profile, specs=specs) if problem not in problems]

        return known, check

    @functools.cached_property
    def soundscapes(self) -> SoundscapeCatalog:
        """The soundscapes by name: built-in beds and presets, and the presets file's.

        Made on first use; raises :class:`~imr_audio.errors.SoundscapePresetError` for a bad
        presets file.
        """
        from imr_audio.soundscapes.catalog import SoundscapeCatalog

        return SoundscapeCatalog.builtin(self.config.presets_file)

    @functools.cached_property
    def speech_cache(self) -> SpeechCache:
        """Synthesised speech, by content (``<cache folder>/speech``)."""
        from imr_audio.voice.cache import SpeechCache

        return SpeechCache(self.config.cache_dir / "speech", self.key)

    @functools.cached_property
    def bed_cache(self) -> BedCache:
        """Rendered beds (``<cache folder>/beds``)."""
        from imr_audio.soundscapes.bedcache import DEFAULT_MAX_BYTES, BedCache

        return BedCache(self.config.cache_dir / "beds", max_bytes=DEFAULT_MAX_BYTES)
