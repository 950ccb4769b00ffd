"""The exceptions imr-audio raises.

Every error the library raises on purpose derives from :class:`ImrAudioError`. Messages are one
line, name the file, template, field or script line at fault, and never quote client details.
The command line turns each into ``Error: <message>`` and a non-zero exit.
"""

from __future__ import annotations

__all__ = [
    "AudioDecodeError",
    "BatchError",
    "BatchManifestError",
    "ClientProfileError",
    "ClusterError",
    "ExportError",
    "HomePackError",
    "ImrAudioError",
    "InstallationKeyError",
    "LintError",
    "MasteringError",
    "PurgeError",
    "ScriptMarkupError",
    "SoundscapePresetError",
    "SynthesisError",
    "TemplateBudgetError",
    "TemplateNotFoundError",
    "TemplateSchemaError",
    "TemplateSecurityError",
    "TemplateVariableError",
    "TrackLengthError",
    "UnknownSoundscapeError",
    "VoiceProfileError",
]


class ImrAudioError(Exception):
    """Base class of every error imr-audio raises on purpose."""


class TemplateNotFoundError(ImrAudioError):
    """A script template id that no templates folder holds."""


class TemplateSchemaError(ImrAudioError):
    """A template's schema or Jinja source is malformed."""


class TemplateVariableError(ImrAudioError):
    """A template used a variable the client profile does not provide."""


class TemplateSecurityError(ImrAudioError):
    """A template tried to reach Python internals through the sandbox."""


class TemplateBudgetError(ImrAudioError):
    """Filling a template took too long or made too much text (a runaway loop)."""


class ScriptMarkupError(ImrAudioError):
    """The rendered script holds markup the timeline cannot understand."""


class LintError(ImrAudioError):
    """The clinical lint found errors in a filled script; it is not rendered."""


class BatchManifestError(ImrAudioError):
    """A batch manifest is unreadable or invalid; every problem is named with its place."""


class BatchError(ImrAudioError):
    """A batch cannot run at all (e.g. another batch is writing to the same output root)."""


class ClusterError(ImrAudioError):
    """A Dask cluster cannot be used (the ``cluster`` extra is missing, no scheduler answers)."""


class ClientProfileError(ImrAudioError):
    """A client profile file is unreadable, malformed or incomplete."""


class VoiceProfileError(ImrAudioError):
    """A voice profile is unknown, malformed or has no voice available on this machine."""


class SynthesisError(ImrAudioError):
    """The speech engine failed to produce verified speech for a script line."""


class UnknownSoundscapeError(ImrAudioError):
    """A soundscape name that no registered soundscape has."""


class SoundscapePresetError(ImrAudioError):
    """A soundscape presets file is unreadable or invalid; every problem is named."""


class AudioDecodeError(ImrAudioError):
    """An audio file could not be read or decoded."""


class MasteringError(ImrAudioError):
    """Loudness mastering could not reach its targets."""


class ExportError(ImrAudioError):
    """The finished track could not be encoded or written."""


class HomePackError(ImrAudioError):
    """A client's home pack could not be built: a track, its captions, the note or the folder."""


class TrackLengthError(ImrAudioError):
    """A target track length that is malformed or that the script's pauses cannot reach."""


class InstallationKeyError(ImrAudioError):
    """The installation key file cannot be read, created or trusted."""


class PurgeError(ImrAudioError):
    """A client's data could not be purged: a malformed id, or files that could not be removed."""
