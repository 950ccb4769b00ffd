"""Where render work runs: one interface for local worker processes and a Dask cluster.

A batch (:mod:`imr_audio.batch`) and the studio's job queue hand their work to an
:class:`Executor` and do not know where it runs. A piece of work is a picklable callable that
takes one argument, ``report``: a function the work calls, in the worker, with small picklable
messages (progress); the executor delivers each to the ``on_message`` callback given at
``submit``, in the submitting process (from a thread of the executor's, so the callback must be
quick and thread-safe). What the work returns (or raises) comes back through its
:class:`TaskHandle`.

Work receives everything it needs as values (a profile's content, settings, a
:class:`~imr_audio.workspace.WorkspaceConfig`), never paths that exist only on the submitting
machine: a cluster's workers see none of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

__all__ = ["Executor", "Report", "TaskHandle", "Work"]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

Report = Callable[[Any], None]
"""How running work sends a message (a small picklable value) back to the submitter."""


class Work(Protocol[T_co]):
    """A picklable callable run in a worker.

    A frozen dataclass with ``__call__``, or a :func:`functools.partial` of a module-level
    function.
    """

    def __call__(self, report: Report) -> T_co:
        """Do the work, sending messages through ``report``; return its result."""
        ...


class TaskHandle(Protocol[T_co]):
    """One submitted piece of work."""

    def done(self) -> bool:
        """Whether it has finished: returned, raised or been cancelled."""
        ...

    def result(self, timeout_s: float | None = None) -> T_co:
        """What the work returned.

        Raises what it raised (``CancelledError`` when cancelled, ``TimeoutError`` when
        ``timeout_s`` passes first).
        """
        ...

    def cancel(self) -> None:
        """Stop it; idempotent.

        Work not yet started never starts; running work is ended (its worker leaves through
        its ``finally`` blocks where the executor can arrange it).
        """
        ...


class Executor(Protocol):
    """Runs work somewhere: local processes or a cluster's workers."""

    @property
    def workers(self) -> int:
        """How many pieces of work run at once."""
        ...

    def submit(self, work: Work[T], on_message: Report | None = None) -> TaskHandle[T]:
        """Queue ``work``; its messages go to ``on_message`` in this process."""
        ...

    def shutdown(self, *, cancel: bool = False) -> None:
        """Wait for the submitted work to finish (or cancel all of it) and free the workers."""
        ...
