"""Progress reporting: the library calls a callback; the command line draws the bar."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["Progress", "ProgressCallback", "Tally", "Together", "report"]


@dataclass(frozen=True)
class Progress:
    """How far one stage of a render has got."""

    stage: str
    """Stage name: ``synthesis``, ``soundscape`` (a bed still being made after it), ``mix``,
    ``master``, ``export``."""
    done: int
    """Units finished in this stage."""
    total: int
    """Units in this stage (at least 1)."""

    @property
    def fraction(self) -> float:
        """How much of the stage is done, 0.0-1.0."""
        return min(max(self.done / self.total, 0.0), 1.0) if self.total > 0 else 0.0


ProgressCallback = Callable[[Progress], None]


def report(callback: ProgressCallback | None, stage: str, done: int, total: int) -> None:
    """Call ``callback`` if there is one."""
    if callback is not None:
        callback(Progress(stage=stage, done=done, total=max(total, 1)))


class Tally:
    """One stage's progress over several inner calls: units done of all of them.

    Each inner call reports its own counts through :meth:`part`; they are passed on counted on
    from the units of the calls before it (``done``, which the caller raises after each call).
    """

    def __init__(self, progress: ProgressCallback | None, total: int,
                 stage: str = "synthesis") -> None:
        self.progress = progress
        self.total = total
        self.stage = stage
        self.done = 0

    def part(self) -> ProgressCallback | None:
        """A callback for one inner call, counting on from the units already done."""
        if self.progress is None:
            return None
        outer, offset = self.progress, self.done

        def forward(step: Progress) -> None:
            report(outer, step.stage, offset + step.done, self.total)

        return forward

    def advance(self, count: int) -> None:
        """``count`` more units are done (reported)."""
        self.done += count
        if count:
            report(self.progress, self.stage, self.done, self.total)


class Together:
    """One stage made of parts that run at the same time (threads): as far as its slowest part.

    Called with each part's own :class:`Progress` (its ``stage`` names the part: ``voice``,
    ``bed``), it reports ``stage`` in :data:`STEPS` steps: the least advanced part's fraction
    (a part not heard from yet counts as not started), and only when that rises. It may be called
    from several threads; the reports are made one at a time.
    """

    STEPS = 1000
    """Units the stage is reported in."""

    def __init__(self, progress: ProgressCallback | None, stage: str,
                 parts: Sequence[str]) -> None:
        self.progress = progress
        self.stage = stage
        self._fractions = dict.fromkeys(parts, 0.0)
        self._reported = -1
        self._lock = threading.Lock()

    def __call__(self, step: Progress) -> None:
        """Take one part's progress; report the stage when it has moved on."""
        with self._lock:
            if step.stage not in self._fractions:
                raise ValueError(f"unknown part {step.stage!r} of stage {self.stage!r}")
            self._fractions[step.stage] = max(self._fractions[step.stage], step.fraction)
            done = int(min(self._fractions.values()) * self.STEPS)
            if done > self._reported:
                self._reported = done
                report(self.progress, self.stage, done, self.STEPS)
