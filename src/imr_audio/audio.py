"""The basic audio value: a mono clip of samples at a sample rate.

It sits at the bottom of the import graph: the voice engines make clips, the clip store keeps
them and the mixer places them, and none of those has to import another to share it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Clip"]


@dataclass(frozen=True)
class Clip:
    """Mono audio: verified, trimmed speech for one request, or a tone."""

    samples: npt.NDArray[np.float32]
    """Mono samples in [-1, 1]."""
    sample_rate_hz: int
    """Sample rate of ``samples``."""

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.sample_rate_hz
