"""Where long jobs run: one interface for the local process pool and a Dask cluster.

A batch and the studio's job queue hand their renders to an :class:`Executor`. A task is a
module-level function (it is pickled to a worker by name) whose first argument is a
:class:`Channel`: the task reports progress by calling ``channel.put(message)`` with a small
picklable tuple, and the submitting side collects the messages with :meth:`Executor.messages`.
Everything else a task needs travels in its arguments (values, never open files), so the same
task runs in a local worker process or on a cluster worker.

:class:`LocalExecutor` is a pool of spawned processes on this machine (never forked: the
speech engines start processes of their own). Its workers ignore Ctrl-C (the submitting
process ends them with :meth:`Executor.stop`) and stop by themselves when the submitting
process is gone. The Dask executor (``imr_audio.executors_dask``) is the other implementation.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Protocol, TypeVar

__all__ = ["Channel", "Executor", "LocalExecutor"]

T = TypeVar("T")

_PARENT_CHECK_S = 0.5


class Channel(Protocol):
    """The worker's side of the messages: picklable, so it goes to the task as an argument."""

    def put(self, message: tuple[Any, ...]) -> None:
        """Send ``message`` (a small picklable tuple) to the submitting process."""


class Executor(Protocol):
    """Runs tasks somewhere else and brings their results and messages back."""

    @property
    def max_workers(self) -> int:
        """How many tasks run at once."""

    def submit(self, fn: Callable[..., T], /, *args: Any) -> Future[T]:
        """Run ``fn(channel, *args)`` in a worker; the future holds its result or exception."""

    def messages(self, wait_s: float = 0.0) -> list[tuple[Any, ...]]:
        """Every message the tasks sent since the last call, waiting up to ``wait_s`` for one."""

    def stop(self) -> None:
        """End the running tasks now (Ctrl-C, a cancelled job): their futures fail."""

    def shutdown(self) -> None:
        """Wait for the running tasks, then release the workers."""


def _watch_parent(parent_pid: int) -> None:
    """Stop this worker as soon as the process that started it is gone."""
    while True:
        time.sleep(_PARENT_CHECK_S)
        if os.getppid() != parent_pid:
            os._exit(1)


def _init_local_worker(parent_pid: int) -> None:
    """A local worker ignores Ctrl-C (and so do the engines it starts) and watches its parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()


class LocalExecutor:
    """A pool of ``max_workers`` spawned processes on this machine."""

    def __init__(self, max_workers: int) -> None:
        self._max_workers = max(1, max_workers)
        context = multiprocessing.get_context("spawn")
        self._manager = context.Manager()
        self._queue: Any = self._manager.Queue()
        self._pool = ProcessPoolExecutor(
            max_workers=self._max_workers,
            mp_context=context,
            initializer=_init_local_worker,
            initargs=(os.getpid(),),
        )

    @property
    def max_workers(self) -> int:
        """How many tasks run at once."""
        return self._max_workers

    def submit(self, fn: Callable[..., T], /, *args: Any) -> Future[T]:
        """Run ``fn(channel, *args)`` in a worker process."""
        return self._pool.submit(fn, self._queue, *args)

    def messages(self, wait_s: float = 0.0) -> list[tuple[Any, ...]]:
        """Every message waiting, after up to ``wait_s`` for the first."""
        found: list[tuple[Any, ...]] = []
        try:
            first = self._queue.get(timeout=wait_s) if wait_s > 0 else self._queue.get_nowait()
            found.append(first)
            while True:
                found.append(self._queue.get_nowait())
        except (queue.Empty, OSError, EOFError):
            pass
        return found

    def stop(self) -> None:
        """Terminate the worker processes: what they were writing stays in staging."""
        processes = list((getattr(self._pool, "_processes", None) or {}).values())
        for process in processes:
            with contextlib.suppress(OSError, AttributeError):
                process.terminate()
        for process in processes:
            with contextlib.suppress(OSError, AttributeError):
                process.join(5.0)

    def shutdown(self) -> None:
        """Wait for the running tasks, drop the queued ones and end the workers."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        with contextlib.suppress(OSError, EOFError):
            self._manager.shutdown()

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
