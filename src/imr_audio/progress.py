"""Progress reporting: the library calls a callback; the command line draws the bar."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Progress", "ProgressCallback", "report"]


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
