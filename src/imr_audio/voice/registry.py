"""Speech engines by name, and the set of engines opened for one piece of work.

An :class:`EngineRegistry` maps engine names to factories; it belongs to a
:class:`~imr_audio.workspace.Workspace` (never to the module), so a studio serving two folders,
a batch worker or a test each holds its own. A factory opens its engine, or returns None when
the engine cannot run on this machine (Piper without the ``neural`` extra). The built-in
engines are named in a :class:`~imr_audio.workspace.WorkspaceConfig` by import path, so that a
worker process can build the same registry from the config alone.

``EngineSet.resolve`` walks a voice profile's preferences in order and opens only the engines it
needs; ``close`` stops them all.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol

from imr_audio.errors import ImrAudioError, VoiceProfileError
from imr_audio.voice.base import SpeechEngine, VoiceSettings
from imr_audio.voice.profiles import VoiceProfile, resolve_voice

__all__ = [
    "BUILTIN_ENGINES",
    "EngineFactory",
    "EngineRegistry",
    "EngineSet",
    "piper_factory",
    "pyttsx3_factory",
]

log = logging.getLogger(__name__)

EngineFactory = Callable[[], "SpeechEngine | None"]
"""Opens an engine; None when it cannot run on this machine."""


class EngineConfig(Protocol):
    """What the engines' factories read of a workspace's config.

    :class:`~imr_audio.workspace.WorkspaceConfig` has it.
    """

    @property
    def cache_dir(self) -> Path:
        """Folder of the caches (Piper's split voices go in ``piper/``)."""
        ...

    @property
    def engine_workers(self) -> int | None:
        """pyttsx3 processes per render, and Piper's threads (1-3); None: one per core."""
        ...

    @property
    def engines(self) -> tuple[tuple[str, str], ...]:
        """``(name, "module:function")``: each engine's factory."""
        ...


def pyttsx3_factory(config: EngineConfig) -> SpeechEngine | None:
    """pyttsx3 (eSpeak NG on Linux): ``config.engine_workers`` processes, else one per core."""
    from imr_audio.voice.pyttsx3_engine import Pyttsx3Engine

    return Pyttsx3Engine(workers=config.engine_workers or os.cpu_count() or 1)


def piper_factory(config: EngineConfig) -> SpeechEngine | None:
    """Piper (the ``neural`` extra), its split voices kept in ``<cache folder>/piper``.

    ``config.engine_workers`` (None: the default) sizes onnxruntime's threads.
    """
    from imr_audio.voice.piper_engine import PiperEngine, piper_available, split_voices_folder

    if not piper_available():
        return None
    # engine_workers is the cores a render's speech may use (a batch worker's share of them):
    # onnxruntime's threads, within those that give the same samples.
    return PiperEngine(split_folder=split_voices_folder(config.cache_dir),
                       threads=config.engine_workers)


BUILTIN_ENGINES: tuple[tuple[str, str], ...] = (
    ("pyttsx3", "imr_audio.voice.registry:pyttsx3_factory"),
    ("piper", "imr_audio.voice.registry:piper_factory"),
)
"""``(name, "module:function")``: the built-in engines' factories, each taking the config."""


def _imported(path: str) -> Callable[[EngineConfig], SpeechEngine | None]:
    module, _, name = path.partition(":")
    factory: Callable[[EngineConfig], SpeechEngine | None] = getattr(
        importlib.import_module(module), name
    )
    return factory


class EngineRegistry:
    """Engine factories by name (read-only once made; :meth:`with_engine` makes a new one)."""

    def __init__(self, factories: Mapping[str, EngineFactory]) -> None:
        """A registry of ``factories``."""
        self._factories = dict(factories)

    @classmethod
    def from_config(cls, config: EngineConfig) -> EngineRegistry:
        """The engines ``config.engines`` names (``"module:function"`` factories of the config)."""

        def bound(path: str) -> EngineFactory:
            return lambda: _imported(path)(config)

        return cls({name: bound(path) for name, path in config.engines})

    def names(self) -> list[str]:
        """Names of every engine, available here or not."""
        return sorted(self._factories)

    def with_engine(self, name: str, factory: EngineFactory) -> EngineRegistry:
        """A registry with ``factory`` under ``name`` (replacing one of that name)."""
        return EngineRegistry({**self._factories, name: factory})

    def open(self, name: str) -> SpeechEngine | None:
        """A new engine called ``name``; None when there is none or it cannot run here."""
        factory = self._factories.get(name)
        return None if factory is None else factory()


class EngineSet:
    """The engines opened for one piece of work; use as a context manager."""

    def __init__(self, registry: EngineRegistry) -> None:
        """Open engines from ``registry`` as they are asked for."""
        self._registry = registry
        self._open: dict[str, SpeechEngine | None] = {}

    def __enter__(self) -> EngineSet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, name: str) -> SpeechEngine | None:
        """The engine called ``name``, opened on first use; None when it cannot run here."""
        if name not in self._open:
            self._open[name] = self._registry.open(name)
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
            if engine is not None:
                engine.close()
        self._open.clear()
