"""The Dask executor: tasks run on the workers of a Dask cluster (``--scheduler``).

Needs the ``cluster`` extra (``pip install 'imr-audio[cluster]'``) on the submitting machine and
on every worker; without it :class:`DaskExecutor` raises :class:`~imr_audio.errors.ClusterError`.
dask and distributed are imported only here, when a cluster is used.

A task's channel is a ``distributed.Queue`` (named per executor, picklable: it goes to the
worker by name), so its messages travel through the scheduler. Dask's futures become
:class:`concurrent.futures.Future` objects. Cluster workers do not share this machine's files:
the executor says so with ``remote = True``, and a batch then sends each job's content and gets
the finished files back (:mod:`imr_audio.batch.remote`).

Ending tasks (:meth:`DaskExecutor.stop`) cancels their futures and sets a stop event that a
running task sees at its next progress message (its channel raises :class:`TaskStopped`): a
Dask worker's thread cannot be killed, so a task stops at its next step, not at once.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Callable
from concurrent.futures import CancelledError, Future
from typing import Any, TypeVar

from imr_audio.errors import ClusterError

__all__ = ["MISSING_EXTRA", "DaskExecutor", "TaskStopped", "cores_per_worker"]

T = TypeVar("T")

MISSING_EXTRA = "the cluster extra is not installed: pip install 'imr-audio[cluster]'"
"""The error when dask or distributed cannot be imported."""

_STOP_CHECK_S = 1.0
_CONNECT_TIMEOUT_S = 30.0


def _distributed() -> Any:
    """The ``distributed`` module, or :class:`ClusterError` saying how to install it."""
    try:
        import distributed
    except ImportError:
        raise ClusterError(MISSING_EXTRA) from None
    return distributed


class TaskStopped(Exception):
    """Raised in a task by its channel once the submitting side stopped the tasks."""


class _QueueChannel:
    """A task's channel on a cluster: messages go to a ``distributed.Queue``.

    Picklable (the queue and the stop event travel by name). A message that cannot be sent is
    dropped: progress never fails a render. Once the stop event is set, :meth:`put` raises
    :class:`TaskStopped` (checked at most once a second).
    """

    def __init__(self, queue: Any, stop: Any) -> None:
        self._queue = queue
        self._stop = stop
        self._checked = 0.0

    def __getstate__(self) -> dict[str, Any]:
        return {"_queue": self._queue, "_stop": self._stop, "_checked": 0.0}

    def put(self, message: tuple[Any, ...]) -> None:
        """Send ``message`` (its tuple becomes a list on the way: msgpack)."""
        now = time.monotonic()
        if now - self._checked >= _STOP_CHECK_S:
            self._checked = now
            stopped = False
            with contextlib.suppress(Exception):
                stopped = bool(self._stop.is_set())
            if stopped:
                raise TaskStopped("the batch was stopped")
        with contextlib.suppress(Exception):
            self._queue.put(list(message))


def cores_per_worker() -> int:
    """The cores of this machine shared out among the Dask worker processes running on it.

    In a Dask worker: the cores over the number of worker processes on the same host (at
    least 1); elsewhere, or when the scheduler cannot tell, all the cores.
    """
    cores = os.cpu_count() or 1
    try:
        distributed = _distributed()
        worker = distributed.get_worker()
        host = worker.address.rsplit(":", 1)[0]
        workers = worker.client.scheduler_info(n_workers=-1)["workers"]
        here = sum(1 for address in workers if str(address).rsplit(":", 1)[0] == host)
    except Exception:
        return cores
    return max(1, cores // max(1, here))


class DaskExecutor:
    """Runs tasks on a Dask cluster, through its scheduler at ``address``."""

    remote = True
    """Its workers do not share this machine's files."""

    def __init__(self, address: str, *, timeout_s: float | None = None) -> None:
        """Connect to the scheduler at ``address`` (``tcp://host:8786``, ``tls://...``).

        TLS settings come from Dask's own configuration (``distributed.comm.tls.*``, e.g.
        ``DASK_DISTRIBUTED__COMM__TLS__CA_FILE``). Raises :class:`ClusterError` when the extra
        is missing or the scheduler cannot be reached within ``timeout_s`` (default 30 s).
        """
        distributed = _distributed()
        self.address = address
        try:
            self._client = distributed.Client(
                address, timeout=timeout_s or _CONNECT_TIMEOUT_S, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ClusterError(
                f"{address}: cannot reach the Dask scheduler ({type(exc).__name__})"
            ) from None
        name = f"imr-audio-{uuid.uuid4().hex}"
        self._queue = distributed.Queue(f"{name}-messages", client=self._client)
        self._stop = distributed.Event(f"{name}-stop", client=self._client)
        self._channel = _QueueChannel(self._queue, self._stop)
        self._futures: list[Any] = []

    @property
    def max_workers(self) -> int:
        """How many tasks the cluster runs at once: its workers' threads (at least 1)."""
        with contextlib.suppress(Exception):
            workers = self._client.scheduler_info(n_workers=-1)["workers"].values()
            return max(1, sum(int(w.get("nthreads", 1)) for w in workers))
        return 1

    def submit(self, fn: Callable[..., T], /, *args: Any) -> Future[T]:
        """Run ``fn(channel, *args)`` on a worker (earlier submissions start first)."""
        remote = self._client.submit(fn, self._channel, *args, pure=False)
        self._futures.append(remote)
        local: Future[T] = Future()
        local.set_running_or_notify_cancel()

        def done(finished: Any) -> None:
            try:
                if finished.status == "finished":
                    local.set_result(finished.result())
                elif finished.status == "cancelled":
                    local.set_exception(CancelledError())
                else:
                    local.set_exception(finished.exception())
            except BaseException as exc:  # the result could not be fetched
                with contextlib.suppress(Exception):
                    local.set_exception(exc)

        remote.add_done_callback(done)
        return local

    def messages(self, wait_s: float = 0.0) -> list[tuple[Any, ...]]:
        """Every message waiting, after up to ``wait_s`` for the first."""
        found: list[Any] = []
        with contextlib.suppress(Exception):  # a client that is closing
            # Polled: a get with a timeout that expires logs a traceback on the scheduler.
            found = self._queue.get(batch=True)
            if not found and wait_s > 0:
                time.sleep(wait_s)
                found = self._queue.get(batch=True)
        return [tuple(message) for message in found]

    def stop(self) -> None:
        """Cancel the tasks; running ones stop at their next progress message."""
        with contextlib.suppress(Exception):
            self._stop.set()
        with contextlib.suppress(Exception):
            self._client.cancel(self._futures, force=True)

    def shutdown(self) -> None:
        """Wait for the tasks still running, then let go of the queue and the scheduler."""
        with contextlib.suppress(Exception):
            _distributed().wait(self._futures)
        self._futures.clear()
        for release in (self._queue.close, self._client.close):
            with contextlib.suppress(Exception):
                release()

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
