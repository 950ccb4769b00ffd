"""The soundscape interface and the block-by-block renderer of the procedural beds.

A bed is synthesised by an engine one fixed-size internal chunk after another. Engines carry
their filter states, drop tails and wave envelopes from chunk to chunk and draw their random
numbers in an order that does not depend on chunk size, so the output is seamless, independent
of the block size, and the first N frames are the same whatever duration is asked for.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "CHUNK_FRAMES",
    "INTENSITIES",
    "TARGET_LUFS",
    "Engine",
    "Intensity",
    "ProceduralSoundscape",
    "Soundscape",
    "SoundscapeInfo",
    "frame_count",
    "level_gain",
    "render_blocks",
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

    def render(self, frames: int) -> NDArray[np.floating]:
        """Return the next ``frames`` frames as a float32 or float64 ``(2, frames)`` array."""
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
        total = frame_count(duration_s, sample_rate_hz)
        if block_frames < 1:
            raise ValueError(f"block_frames must be positive, got {block_frames}")
        if seed < 0:
            raise ValueError(f"seed must be non-negative, got {seed}")
        engine = self.engine(sample_rate_hz, np.random.Generator(np.random.PCG64(seed)))
        return render_blocks(engine, total, block_frames)


def render_blocks(engine: Engine, total: int, block_frames: int) -> Iterator[NDArray[np.float32]]:
    """Cut the engine's fixed-size chunks into the caller's blocks, without any fades."""
    pending: list[NDArray[np.floating]] = []
    have = done = 0
    while done < total:
        want = min(block_frames, total - done)
        while have < want:
            pending.append(engine.render(CHUNK_FRAMES))
            have += pending[-1].shape[1]
        block = np.empty((want, 2), dtype=np.float32)  # each chunk copied in once, transposed
        at = 0
        while at < want:
            piece = pending[0]
            take = min(piece.shape[1], want - at)
            frames = block[at : at + take].reshape(-1)  # a view: interleaved left, right
            frames[0::2], frames[1::2] = piece[0, :take], piece[1, :take]  # faster than .T
            at += take
            if take < piece.shape[1]:
                pending[0] = piece[:, take:]
            else:
                pending.pop(0)
        have -= want
        done += want
        yield block


def frame_count(duration_s: float, sample_rate_hz: int) -> int:
    """Frames in ``duration_s`` at ``sample_rate_hz``; ValueError when either is out of range."""
    if not math.isfinite(duration_s) or duration_s < 0:
        raise ValueError(f"duration_s must be finite and non-negative, got {duration_s}")
    if sample_rate_hz < MIN_SAMPLE_RATE_HZ:
        raise ValueError(
            f"sample_rate_hz must be at least {MIN_SAMPLE_RATE_HZ}, got {sample_rate_hz}"
        )
    return round(duration_s * sample_rate_hz)
