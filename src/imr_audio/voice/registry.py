"""Speech engines by name: a small registry, and a set of open engines for one render.

An engine registers a factory and an availability check. ``EngineSet.resolve`` walks a voice
profile's preferences in order and opens only the engines it needs; ``close`` stops them all.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

from imr_audio.errors import ImrAudioError, VoiceProfileError
from imr_audio.voice.base import SpeechEngine, VoiceSettings
from imr_audio.voice.profiles import VoiceProfile, resolve_voice

__all__ = ["EngineSet", "engine_names", "register_engine"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Registration:
    factory: Callable[[], SpeechEngine]
    available: Callable[[], bool]


_ENGINES: dict[str, _Registration] = {}


def register_engine(
    name: str, factory: Callable[[], SpeechEngine], available: Callable[[], bool] = lambda: True
) -> None:
    """Make an engine known by ``name``; ``available`` tells whether it can run here."""
    _ENGINES[name] = _Registration(factory, available)


def engine_names() -> list[str]:
    """Names of every registered engine, available here or not."""
    _register_builtin()
    return sorted(_ENGINES)


def _register_builtin() -> None:
    if "pyttsx3" not in _ENGINES:
        from imr_audio.voice.pyttsx3_engine import Pyttsx3Engine

        # One long-lived worker per core: clips are synthesised in parallel.
        register_engine("pyttsx3", lambda: Pyttsx3Engine(workers=os.cpu_count() or 1))
    if "piper" not in _ENGINES:
        from imr_audio.voice.piper_engine import PiperEngine, piper_available

        register_engine("piper", PiperEngine, piper_available)


class EngineSet:
    """The engines opened for one piece of work; use as a context manager."""

    def __init__(self) -> None:
        _register_builtin()
        self._open: dict[str, SpeechEngine] = {}

    def __enter__(self) -> EngineSet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, name: str) -> SpeechEngine | None:
        """The engine called ``name``, opened on first use; None when it cannot run here."""
        if name in self._open:
            return self._open[name]
        registration = _ENGINES.get(name)
        if registration is None or not registration.available():
            return None
        self._open[name] = registration.factory()
        return self._open[name]

    def resolve(self, profile: VoiceProfile) -> tuple[SpeechEngine, VoiceSettings]:
        """The first of ``profile``'s voices available here, and the engine that speaks it."""
        failed: dict[str, str] = {}
        for choice in profile.choices:
            engine = self.get(choice.engine)
            if engine is None:
                continue
            try:
                voices = engine.voices()
            except ImrAudioError as exc:
                log.info("engine %s did not start; trying the next voice", choice.engine)
                failed.setdefault(choice.engine, str(exc))
                continue
            try:
                single = VoiceProfile(**{**profile.__dict__, "choices": (choice,)})
                return engine, resolve_voice(single, {engine.name: voices})
            except VoiceProfileError:
                continue
        if failed:  # not "no such voice": say which engine did not start, and why
            reasons = "; ".join(f"{name}: {why}" for name, why in failed.items())
            raise VoiceProfileError(
                f"voice profile '{profile.id}': its speech engine did not start ({reasons})"
            )
        raise VoiceProfileError(
            f"voice profile '{profile.id}': none of its voices is available on this machine"
        )

    def close(self) -> None:
        """Stop every engine opened."""
        for engine in self._open.values():
            engine.close()
        self._open.clear()
