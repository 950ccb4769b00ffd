"""What a batch reports while it runs: one frozen event per change, with overall counts.

The library calls a :data:`BatchProgressCallback` with these events, always from the thread
that called :func:`~imr_audio.batch.run_batch`; the command line draws them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BatchCounts",
    "BatchEvent",
    "BatchProgressCallback",
    "JobFailed",
    "JobFinished",
    "JobProgress",
    "JobSkipped",
    "JobStarted",
]


@dataclass(frozen=True)
class BatchCounts:
    """Where the whole batch stands."""

    total: int
    """Tracks in the batch."""
    rendered: int
    """Tracks rendered so far."""
    skipped: int
    """Tracks found up to date and not rendered again."""
    failed: int
    """Tracks that failed."""
    running: int
    """Tracks being rendered now."""
    elapsed_s: float
    """Time since the batch started, in seconds."""
    eta_s: float | None
    """Estimated time until the last track is done, in seconds; None until it can be told."""

    @property
    def finished(self) -> int:
        """Tracks done, whatever the outcome."""
        return self.rendered + self.skipped + self.failed


@dataclass(frozen=True)
class BatchEvent:
    """Something happened to one track of the batch."""

    index: int
    """The track's position in the plan (0-based)."""
    label: str
    """The track's short name, e.g. ``10m/demo-001_safe-place``."""
    counts: BatchCounts
    """The whole batch after this event."""


@dataclass(frozen=True)
class JobStarted(BatchEvent):
    """A worker began the track."""


@dataclass(frozen=True)
class JobProgress(BatchEvent):
    """The track's render moved on."""

    stage: str
    """Stage: ``synthesis``, ``mix``, ``master`` or ``export``."""
    fraction: float
    """How much of this track is done, 0.0-1.0 (stages weighted by their usual cost)."""


@dataclass(frozen=True)
class JobFinished(BatchEvent):
    """The track was rendered and published."""

    path: Path
    """The published track."""
    duration_s: float
    """Its length, in seconds."""
    integrated_lufs: float
    """Its measured loudness, LUFS."""


@dataclass(frozen=True)
class JobSkipped(BatchEvent):
    """The track was up to date (same inputs hash) and not rendered again."""

    path: Path
    """The existing track."""


@dataclass(frozen=True)
class JobFailed(BatchEvent):
    """The track failed; the others go on."""

    reason: str
    """One-line reason (names files, templates and fields; never client values)."""


BatchProgressCallback = Callable[[BatchEvent], None]
"""What :func:`~imr_audio.batch.run_batch` calls with each event."""
