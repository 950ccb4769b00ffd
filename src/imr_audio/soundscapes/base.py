"""The soundscape interface, the registry and the block-by-block renderer.

A bed is synthesised by an engine one fixed-size internal chunk after another. Engines carry
their filter states, drop tails and wave envelopes from chunk to chunk and draw their random
numbers in an order that does not depend on chunk size, so the output is seamless, independent
of the block size, and the first N frames are the same whatever duration is asked for.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, TypeVar

import numpy as np
from numpy.typing import NDArray

from imr_audio.errors import UnknownSoundscapeError

__all__ = [
    "CHUNK_FRAMES",
    "INTENSITIES",
    "TARGET_LUFS",
    "Engine",
    "Intensity",
    "ProceduralSoundscape",
    "Soundscape",
    "SoundscapeInfo",
    "builtin_names",
    "get_soundscape",
    "level_gain",
    "register_soundscape",
    "render_soundscape",
    "set_user_soundscapes",
    "soundscape_infos",
    "soundscape_names",
    "variant_name",
]

CHUNK_FRAMES = 32768
"""Frames an engine synthesises per internal step (the output does not depend on it)."""

TARGET_LUFS = -30.0
"""Integrated loudness (BS.1770) every built-in bed is scaled to by a fixed design constant."""

MIN_SAMPLE_RATE_HZ = 8000

Intensity = Literal["light", "steady", "heavy"]
"""How busy a bed is: ``light`` (sparser, softer), ``steady`` (the default) or ``heavy``."""

INTENSITIES: tuple[Intensity, ...] = ("light", "steady", "heavy")


def variant_name(base: str, intensity: Intensity) -> str:
    """Return the registry name of a bed at an intensity: ``rain``, ``rain-light``..."""
    return base if intensity == "steady" else f"{base}-{intensity}"


def level_gain(design_lufs: float) -> float:
    """Return the fixed factor that brings a design measuring ``design_lufs`` to TARGET_LUFS."""
    return float(10.0 ** ((TARGET_LUFS - design_lufs) / 20.0))


@dataclass(frozen=True)
class SoundscapeInfo:
    """What a soundscape is, for menus and for the client's avoid-list check.

    Attributes
    ----------
    name : str
        Registry key, e.g. ``"rain"``.
    description : str
        One line describing how the bed sounds.
    themes : tuple of str
        Imagery the bed evokes (``"water"``, ``"sea"``...), matched against a client's avoid-list.
        Empty for pure noise, and for a user's recording, whose content is not known.
    layers : tuple of str
        For a preset, the names of the beds it mixes; empty for a single bed.

    """

    name: str
    description: str
    themes: tuple[str, ...]
    layers: tuple[str, ...] = ()


class Soundscape(Protocol):
    """A named, seeded, endless procedural stereo bed."""

    info: SoundscapeInfo

    def blocks(
        self, duration_s: float, sample_rate_hz: int, seed: int, block_frames: int = 65536
    ) -> Iterator[NDArray[np.float32]]:
        """Yield float32 ``(n, 2)`` blocks, ``round(duration_s * sample_rate_hz)`` frames in all."""
        ...


class Engine(Protocol):
    """One render in progress: a stateful synthesiser positioned at its next frame."""

    def render(self, frames: int) -> NDArray[np.float64]:
        """Return the next ``frames`` frames as a float64 ``(2, frames)`` array."""
        ...


class ProceduralSoundscape(ABC):
    """Base of the built-in beds: turns a stateful :class:`Engine` into seamless blocks.

    Subclasses set ``info`` and implement :meth:`engine`. The engine must draw every random number
    from the generator it is given, in an order that does not depend on how many frames each
    ``render`` call asks for, and must carry all state (filters, event tails) between calls.
    """

    info: SoundscapeInfo

    @abstractmethod
    def engine(self, sample_rate_hz: int, rng: np.random.Generator) -> Engine:
        """Return a fresh engine positioned at frame 0."""

    def blocks(
        self, duration_s: float, sample_rate_hz: int, seed: int, block_frames: int = 65536
    ) -> Iterator[NDArray[np.float32]]:
        """Yield the bed as float32 ``(n, 2)`` blocks of ``block_frames`` (the last may be short).

        Parameters
        ----------
        duration_s : float
            Length in seconds; the blocks total ``round(duration_s * sample_rate_hz)`` frames.
        sample_rate_hz : int
            Output sample rate, at least 8000 Hz.
        seed : int
            Non-negative seed; the same seed and sample rate always give the same samples.
        block_frames : int
            Frames per yielded block.

        Raises
        ------
        ValueError
            If an argument is out of range (raised by the call, before any block).

        """
        total = _frame_count(duration_s, sample_rate_hz)
        if block_frames < 1:
            raise ValueError(f"block_frames must be positive, got {block_frames}")
        if seed < 0:
            raise ValueError(f"seed must be non-negative, got {seed}")
        engine = self.engine(sample_rate_hz, np.random.Generator(np.random.PCG64(seed)))
        return _blocks(engine, total, block_frames)


def _blocks(engine: Engine, total: int, block_frames: int) -> Iterator[NDArray[np.float32]]:
    """Cut the engine's fixed-size chunks into the caller's blocks, without any fades."""
    pending: list[NDArray[np.float64]] = []
    have = done = 0
    while done < total:
        want = min(block_frames, total - done)
        while have < want:
            pending.append(engine.render(CHUNK_FRAMES))
            have += pending[-1].shape[1]
        joined = pending[0] if len(pending) == 1 else np.concatenate(pending, axis=1)
        rest = joined[:, want:]
        pending, have = ([rest], rest.shape[1]) if rest.shape[1] else ([], 0)
        done += want
        yield np.ascontiguousarray(joined[:, :want].T, dtype=np.float32)


_S = TypeVar("_S", bound=Soundscape)
_REGISTRY: dict[str, Soundscape] = {}
_USER: dict[str, Soundscape] = {}  # the presets of the user's presets file, replaced as a whole


def register_soundscape(soundscape: _S) -> _S:
    """Register ``soundscape`` under ``soundscape.info.name`` and return it.

    Raises
    ------
    ValueError
        If a soundscape of that name is already registered.

    """
    name = soundscape.info.name
    if name in _REGISTRY:
        raise ValueError(f"soundscape {name!r} is already registered")
    _REGISTRY[name] = soundscape
    return soundscape


def set_user_soundscapes(soundscapes: Sequence[Soundscape]) -> None:
    """Replace the user's soundscapes (presets from a file) with ``soundscapes``.

    Raises
    ------
    ValueError
        If a name is taken by a built-in soundscape or appears twice.

    """
    names = [s.info.name for s in soundscapes]
    clash = sorted({n for n in names if n in _REGISTRY or names.count(n) > 1})
    if clash:
        raise ValueError(f"soundscape names already taken: {', '.join(clash)}")
    _USER.clear()
    _USER.update((s.info.name, s) for s in soundscapes)


def builtin_names() -> list[str]:
    """Return the names of the built-in soundscapes (beds and presets), sorted."""
    return sorted(_REGISTRY)


def soundscape_names() -> list[str]:
    """Return the registered soundscape names, built-in and the user's presets, sorted."""
    return sorted({*_REGISTRY, *_USER})


def soundscape_infos() -> list[tuple[SoundscapeInfo, bool]]:
    """Return every registered soundscape's info, sorted by name.

    Each comes with whether it is the user's own (a preset from the user's presets file).
    """
    return [((_USER.get(n) or _REGISTRY[n]).info, n in _USER) for n in soundscape_names()]


def get_soundscape(name: str) -> Soundscape:
    """Return the soundscape called ``name``, or a looped recording if ``name`` is an audio file.

    A name that is not registered but is the path of an existing audio file (WAV, FLAC, OGG,
    MP3, M4A...) gives a :class:`~imr_audio.soundscapes.recording.RecordingSoundscape`, decoded
    here, so that a file that cannot be decoded fails before any rendering.

    Raises
    ------
    UnknownSoundscapeError
        If no soundscape has that name and it is no audio file; the message lists the names.
    AudioDecodeError
        If ``name`` is an audio file that cannot be decoded or holds no audio.

    """
    found = _REGISTRY.get(name) or _USER.get(name)
    if found is not None:
        return found
    from imr_audio.soundscapes.recording import RecordingSoundscape, is_audio_path

    if is_audio_path(name):
        return RecordingSoundscape(name)
    choices = ", ".join(soundscape_names())
    raise UnknownSoundscapeError(
        f"unknown soundscape {name!r}; choose one of: {choices}, or give an audio file"
    )


def render_soundscape(
    name: str, duration_s: float, sample_rate_hz: int = 44100, seed: int = 0
) -> NDArray[np.float32]:
    """Render a whole bed as one float32 ``(frames, 2)`` array.

    Raises
    ------
    UnknownSoundscapeError
        If ``name`` is neither registered nor an audio file.
    AudioDecodeError
        If ``name`` is an audio file that cannot be decoded.
    ValueError
        If an argument is out of range.

    """
    parts = list(get_soundscape(name).blocks(duration_s, sample_rate_hz, seed))
    if not parts:
        return np.zeros((0, 2), dtype=np.float32)
    return np.concatenate(parts, axis=0)


def _frame_count(duration_s: float, sample_rate_hz: int) -> int:
    if not math.isfinite(duration_s) or duration_s < 0:
        raise ValueError(f"duration_s must be finite and non-negative, got {duration_s}")
    if sample_rate_hz < MIN_SAMPLE_RATE_HZ:
        raise ValueError(
            f"sample_rate_hz must be at least {MIN_SAMPLE_RATE_HZ}, got {sample_rate_hz}"
        )
    return round(duration_s * sample_rate_hz)
