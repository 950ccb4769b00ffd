"""Beds made from a design: a frozen design value, the engine that plays it, and its name.

Each built-in bed module holds its designs (frozen dataclasses, one per intensity) and a factory
of the bed's parts (:class:`BedParts`: steady noise layers, banks of events and a finish), and
exposes its beds as an immutable module constant ``BEDS``, made here; the soundscape catalog
(:mod:`imr_audio.soundscapes.catalog`) collects them. The parts are the design unscaled; an
:class:`Assembly` plays them at the design's fixed level constant (about -30 LUFS), alone or
mixed with other beds' parts (a preset).

>>> from imr_audio.soundscapes import rain
>>> [bed.info.name for bed in rain.BEDS]
['rain-light', 'rain', 'rain-heavy']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
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
from imr_audio.soundscapes.events import Scatter, Source
from imr_audio.soundscapes.spectral import NoiseLayer, SpectralNoise

__all__ = [
    "Assembly",
    "BedDesign",
    "BedParts",
    "DesignedBed",
    "EngineFactory",
    "Finish",
    "intensity_beds",
]


@dataclass(frozen=True, kw_only=True)
class BedDesign:
    """What every bed's design tells; each family's design adds its own fields (keywords only)."""

    design_lufs: float
    """Integrated loudness of the engine's unscaled output, in LUFS (BS.1770; measured with
    bench/soundscape_levels.py over 4 or more seeds of 120 s or more at 44.1 kHz)."""
    description: str
    """One line for menus, describing how the bed sounds."""


DesignT = TypeVar("DesignT", bound=BedDesign)

Finish = Callable[[int, int, NDArray[np.float32]], NDArray[np.floating]]
"""Given the start frame, the frame count and the bed's own noise groups ``(k, 2, frames)`` (the
finish's to overwrite), return the rest of the bed's sound ``(2, frames)``, unscaled (a fire's
flickering flame, birds)."""


@dataclass(frozen=True)
class BedParts:
    """A bed's sound, taken apart so that beds mixed together share their costliest work.

    The steady noise layers of group 0 are added as they are; each further group is handed to
    ``finish`` (which may, say, make it flicker). Several beds' parts are played by one
    :class:`Assembly`: all their noise in one spectrum, all their events in one sparse product.
    """

    noise_rng: np.random.Generator
    """The generator the noise draws from (the first bed's, when beds are mixed)."""
    layers: list[NoiseLayer]
    """Steady noise layers (group 0: added as they are; 1, 2...: handed to ``finish``)."""
    sources: list[Source] = field(default_factory=list)
    """Banks of events and their occurrences."""
    finish: Finish | None = None
    """The rest of the sound, from the bed's own noise groups."""


EngineFactory = Callable[[int, np.random.Generator, DesignT], BedParts]
"""Makes a bed's parts from a sample rate in Hz, a generator and a design, at frame 0."""


class Assembly:
    """Beds' parts played together, each at its gain: the engine of a bed or a mix of beds."""

    def __init__(self, parts: list[tuple[BedParts, float]]) -> None:
        """Mix ``parts``, each ``(parts, linear gain)``.

        Every bed draws as it would alone, so the mix is (to rounding) the sum of the beds each
        played alone at its gain; what is shared is the work: one inverse FFT per frame for all
        their steady noise (their group 0 together), one sparse product for all their events.
        """
        noise: list[tuple[np.random.Generator, list[NoiseLayer]]] = []
        sources: list[Source] = []
        source_gains: list[float] = []
        self._finishes: list[tuple[Finish, list[int], float]] = []
        groups = 1
        for bed, gain in parts:
            own = sorted({layer.group for layer in bed.layers} - {0})
            where = {0: 0, **{group: groups + i for i, group in enumerate(own)}}
            groups += len(own)
            layers = [  # own groups are scaled with the rest of the finish
                _scaled(layer, gain) if layer.group == 0 else layer for layer in bed.layers
            ]
            noise.append((bed.noise_rng, [replace(la, group=where[la.group]) for la in layers]))
            sources += bed.sources
            source_gains += [gain] * len(bed.sources)
            bed.sources.clear()  # the Scatter copies the banks: hold each only once
            if bed.finish is not None:
                self._finishes.append((bed.finish, [where[g] for g in own], gain))
        self._noise = SpectralNoise(noise, groups)
        self._events = Scatter(sources, source_gains) if sources else None
        self._pos = 0

    def render(self, frames: int) -> NDArray[np.float32]:
        """Return the next ``(2, frames)`` of the mix (float32: the blocks' own type)."""
        noise = self._noise(frames)
        out = noise[0]  # fresh, or a consumed part of the noise's buffer
        if self._events is not None:
            self._events.add_to(self._pos, out)
        for finish, groups, gain in self._finishes:
            own = noise[groups[0] : groups[-1] + 1] if groups else noise[:0]  # consecutive
            out += np.float32(gain) * finish(self._pos, frames, own)
        self._pos += frames
        return out


def _scaled(layer: NoiseLayer, gain: float) -> NoiseLayer:
    """The layer at ``gain`` times its level."""
    shape = layer.shape
    if shape is None:
        return replace(layer, power=layer.power * gain**2)
    return replace(layer, shape=lambda centres: shape(centres) * gain**2)


class DesignedBed(ProceduralSoundscape, Generic[DesignT]):
    """A procedural bed: a design played by its engine, scaled to the beds' common loudness."""

    def __init__(
        self,
        info: SoundscapeInfo,
        design: DesignT,
        make_parts: EngineFactory[DesignT],
        intensity: Intensity | None = None,
    ) -> None:
        """Describe the bed ``info`` that ``make_parts`` plays from ``design``."""
        self.info = info
        self.design = design
        self.intensity = intensity
        self._make_parts = make_parts

    def parts(self, sample_rate_hz: int, rng: np.random.Generator) -> tuple[BedParts, float]:
        """Return the bed's parts at frame 0 and the design's level constant (linear)."""
        return self._make_parts(sample_rate_hz, rng, self.design), level_gain(
            self.design.design_lufs
        )

    def engine(self, sample_rate_hz: int, rng: np.random.Generator) -> Engine:
        """Return a fresh engine positioned at frame 0, scaled by the design's level constant."""
        return Assembly([self.parts(sample_rate_hz, rng)])


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
