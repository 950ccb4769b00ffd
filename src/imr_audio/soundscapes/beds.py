"""Beds made from a design: a frozen design value, the engine that plays it, and its name.

Each built-in bed module holds its designs (frozen dataclasses, one per intensity) and an engine
factory, and exposes its beds as an immutable module constant ``BEDS``, made here; the soundscape
catalog (:mod:`imr_audio.soundscapes.catalog`) collects them. The engine renders the design
unscaled; :class:`DesignedBed` scales it by the design's fixed level constant to about -30 LUFS.

>>> from imr_audio.soundscapes import rain
>>> [bed.info.name for bed in rain.BEDS]
['rain-light', 'rain', 'rain-heavy']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np
from numpy.typing import NDArray

from imr_audio.soundscapes.base import (
    INTENSITIES,
    Engine,
    Intensity,
    ProceduralSoundscape,
    SoundscapeInfo,
    level_gain,
    variant_name,
)

__all__ = ["BedDesign", "DesignedBed", "EngineFactory", "intensity_beds"]


@dataclass(frozen=True, kw_only=True)
class BedDesign:
    """What every bed's design tells; each family's design adds its own fields (keywords only)."""

    design_lufs: float
    """Integrated loudness of the engine's unscaled output, in LUFS (BS.1770; measured with
    bench/soundscape_levels.py over 4 or more seeds of 120 s or more at 44.1 kHz)."""
    description: str
    """One line for menus, describing how the bed sounds."""


DesignT = TypeVar("DesignT", bound=BedDesign)

EngineFactory = Callable[[int, np.random.Generator, DesignT], Engine]
"""Makes an engine from a sample rate in Hz, a generator and a design, positioned at frame 0."""


class DesignedBed(ProceduralSoundscape, Generic[DesignT]):
    """A procedural bed: a design played by its engine, scaled to the beds' common loudness."""

    def __init__(
        self,
        info: SoundscapeInfo,
        design: DesignT,
        make_engine: EngineFactory[DesignT],
        intensity: Intensity | None = None,
    ) -> None:
        """Describe the bed ``info`` that ``make_engine`` plays from ``design``."""
        self.info = info
        self.design = design
        self.intensity = intensity
        self._make_engine = make_engine

    def engine(self, sample_rate_hz: int, rng: np.random.Generator) -> Engine:
        """Return a fresh engine positioned at frame 0, scaled by the design's level constant."""
        engine = self._make_engine(sample_rate_hz, rng, self.design)
        return _Scaled(engine, level_gain(self.design.design_lufs))


class _Scaled:
    """An engine's output times a fixed gain."""

    def __init__(self, engine: Engine, gain: float) -> None:
        self._engine, self._gain = engine, gain

    def render(self, frames: int) -> NDArray[np.float64]:
        return self._engine.render(frames) * self._gain


def intensity_beds(
    family: str,
    themes: tuple[str, ...],
    make_engine: EngineFactory[DesignT],
    designs: Mapping[Intensity, DesignT],
) -> tuple[DesignedBed[DesignT], ...]:
    """Return a family's beds, one per intensity (``rain-light``, ``rain``, ``rain-heavy``).

    Raises
    ------
    ValueError
        If ``designs`` does not hold exactly one design per intensity.

    """
    if set(designs) != set(INTENSITIES):
        raise ValueError(f"{family}: one design per intensity needed, got {sorted(designs)}")
    return tuple(
        DesignedBed(
            SoundscapeInfo(
                name=variant_name(family, intensity),
                description=designs[intensity].description,
                themes=themes,
            ),
            designs[intensity],
            make_engine,
            intensity,
        )
        for intensity in INTENSITIES
    )
