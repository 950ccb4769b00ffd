"""What every speech engine provides, and the values passed to and from it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from imr_audio.progress import ProgressCallback

if TYPE_CHECKING:
    from imr_audio.audio import Clip

__all__ = ["Clip", "SpeechEngine", "SpeechRequest", "VoiceInfo", "VoiceSettings"]


@dataclass(frozen=True)
class VoiceSettings:
    """How one voice speaks: per-render settings passed to an engine."""

    engine: str
    """Engine name, e.g. ``pyttsx3``."""
    voice_id: str
    """The engine's own id of the voice, e.g. ``gmw/en`` for eSpeak NG."""
    rate_wpm: int = 130
    """Speaking rate in words per minute (60-250)."""
    volume: float = 1.0
    """Engine volume, 0.0-1.0."""
    pitch: int | None = None
    """Engine pitch (eSpeak NG: 0-99, 50 is its default); None leaves the engine's own."""


@dataclass(frozen=True)
class SpeechRequest:
    """One piece of text to synthesise."""

    text: str
    """Text to speak exactly as given."""
    line: int
    """Script line it comes from, for error messages."""
    rate_wpm: int | None = None
    """Speaking rate for this text (e.g. slower inside ``[slow]``); None: the voice's own."""


@dataclass(frozen=True)
class VoiceInfo:
    """A voice an engine offers on this machine."""

    id: str
    """The engine's id for it."""
    name: str
    """Human-readable name."""
    languages: tuple[str, ...]
    """Language tags it speaks."""


class SpeechEngine(Protocol):
    """A speech synthesiser: turns requests into verified clips, or raises SynthesisError."""

    name: str

    @property
    def version(self) -> str:
        """Version of the engine and its voice data; a new version makes new clips.

        Part of the speech cache's key, so it must change whenever the same request could
        sound different (e.g. ``pyttsx3-2.99+espeak-ng-1.52.0``).
        """
        ...

    def voices(self) -> list[VoiceInfo]:
        """Voices available on this machine."""
        ...

    def synthesize(
        self,
        requests: Sequence[SpeechRequest],
        settings: VoiceSettings,
        progress: ProgressCallback | None = None,
    ) -> list[Clip]:
        """Return one verified clip per request, in order."""
        ...

    def close(self) -> None:
        """Release worker processes."""
        ...
