"""Progress reporting: the library calls a callback; the command line draws the bar."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Progress", "ProgressCallback", "Tally", "report"]


@dataclass(frozen=True)
class Progress:
    """How far one stage of a render has got."""

    stage: str
    """Stage name: ``synthesis``, ``mix``, ``master``, ``export``."""
    done: int
    """Units finished in this stage."""
    total: int
    """Units in this stage (at least 1)."""


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
