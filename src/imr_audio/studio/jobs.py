"""The studio's job queue: renders run through an :class:`~imr_audio.executors.Executor`.

A job is queued with :meth:`JobQueue.submit`; the executor (a :class:`LocalExecutor` of
``max_jobs`` processes unless another is given) runs :func:`render_task` in a worker, which
reports ``("started", id)`` and ``("progress", id, stage, fraction)`` through its channel. A
thread of the queue collects those messages and the tasks' outcomes into :class:`JobStatus`
values that the page reads (they outlive the page: a reload finds them again).

Cancelling a queued job drops it; a running one is asked to stop through a mark file that its
progress callback looks for (so cancelling one job never ends another's worker).

Given a ``records`` folder, the queue keeps each job's status there (one small JSON file a job,
0600, written when its state changes: never its progress), so the list outlives the server: a
studio started again shows the jobs of its last run, and a job that was queued or running when
it stopped as failed with :data:`INTERRUPTED`. A record holds the ids of the template and the
client (pseudonymous), the track's file name and a failure's one-line reason, as the page does.

This module imports no web framework: a worker process imports it to run the task.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from imr_audio.errors import ImrAudioError
from imr_audio.executors import Channel, Executor, LocalExecutor
from imr_audio.files import JOB_RECORD_KIND, write_private
from imr_audio.workspace import WorkspaceConfig

__all__ = [
    "FINAL_STATES",
    "INTERRUPTED",
    "KEPT_RECORDS",
    "JobQueue",
    "JobRequest",
    "JobStatus",
    "TaskOutcome",
    "render_task",
]

FINAL_STATES = frozenset({"done", "failed", "cancelled"})
"""States a job does not leave."""

INTERRUPTED = "the studio stopped before this render finished: render it again"
"""The message of a job that was queued or running when the studio last stopped."""
KEPT_RECORDS = 200
"""Records of this many jobs, the newest, are kept; older ones are removed when the queue starts."""

_POLL_S = 0.2
log = logging.getLogger(__name__)


class _Cancelled(Exception):
    """The job's cancel mark appeared: stop the render."""


@dataclass(frozen=True)
class JobRequest:
    """A render to run: everything travels to the worker as values."""

    template_id: str
    """The template."""
    client_id: str
    """The client's pseudonymous id."""
    client_file: Path
    """The client's profile file (read in the worker)."""
    output_dir: Path
    """Where the track goes."""
    settings: Any
    """The :class:`~imr_audio.track.RenderSettings`."""


@dataclass(frozen=True)
class TaskOutcome:
    """What a render task returns."""

    state: str
    """``done``, ``failed`` or ``cancelled``."""
    message: str = ""
    """A failure's one-line reason."""
    track: str = ""
    """The track's file name (in the output folder)."""
    duration_s: float = 0.0
    """The track's length, in seconds."""
    chapters: tuple[tuple[str, float], ...] = ()
    """``(title, start_s)`` of each chapter."""


@dataclass(frozen=True)
class JobStatus:
    """What the page shows of a job."""

    id: str
    """The job's id (in its URL)."""
    template_id: str
    """The template."""
    client_id: str
    """The client's pseudonymous id."""
    state: str = "queued"
    """``queued``, ``running``, ``cancelling``, ``done``, ``failed`` or ``cancelled``."""
    stage: str = ""
    """The render's stage (``synthesis``, ``mix``, ``master``, ``export``)."""
    fraction: float = 0.0
    """How much is done, 0.0-1.0."""
    message: str = ""
    """A failure's one-line reason."""
    track: str = ""
    """The finished track's file name."""
    duration_s: float = 0.0
    """Its length, in seconds."""
    chapters: tuple[tuple[str, float], ...] = ()
    """Its chapters: ``(title, start_s)``."""
    created_s: float = 0.0
    """When it was queued (``time.time()``)."""

    @property
    def final(self) -> bool:
        """Whether the job has ended."""
        return self.state in FINAL_STATES

    def record(self) -> dict[str, Any]:
        """Every field as JSON-ready values (what the queue keeps in its records folder)."""
        return {"kind": JOB_RECORD_KIND,
                **{field: getattr(self, field) for field in self.__dataclass_fields__},
                "chapters": [list(chapter) for chapter in self.chapters]}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> JobStatus:
        """The status kept as ``record``; raises ValueError, TypeError or KeyError if damaged."""
        fields = {name: value for name, value in record.items() if name != "kind"}
        if record.get("kind") != JOB_RECORD_KIND or set(fields) != set(cls.__dataclass_fields__):
            raise ValueError("not a job record")
        status = cls(**{**fields, "chapters": tuple(
            (str(title), float(start_s)) for title, start_s in record["chapters"])})
        texts = (status.id, status.template_id, status.client_id, status.state, status.stage,
                 status.message, status.track)
        numbers = (status.fraction, status.duration_s, status.created_s)
        if not all(isinstance(text, str) for text in texts) or not all(
                isinstance(number, (int, float)) for number in numbers):
            raise TypeError("not a job record")
        return status

    def as_dict(self) -> dict[str, Any]:
        """The status as JSON-ready values (what the page's event stream sends)."""
        return {"id": self.id, "state": self.state, "stage": self.stage,
                "fraction": round(self.fraction, 3), "message": self.message,
                "track": self.track, "final": self.final}


def _one_line(message: str) -> str:
    return "; ".join(line.strip() for line in message.splitlines() if line.strip())


def render_task(channel: Channel, job_id: str, config: WorkspaceConfig, request: JobRequest,
                cancel_mark: Path) -> TaskOutcome:
    """Render ``request`` in a worker, reporting progress; never raises for a bad job."""
    from imr_audio.batch.worker import stage_fraction
    from imr_audio.export.chapters import section_chapters
    from imr_audio.progress import Progress
    from imr_audio.track import render
    from imr_audio.workspace import Workspace

    channel.put(("started", job_id))
    last = [-1.0]

    def progress(step: Progress) -> None:
        if cancel_mark.exists():
            raise _Cancelled
        fraction = stage_fraction(step)
        if abs(fraction - last[0]) >= 0.01:
            last[0] = fraction
            channel.put(("progress", job_id, step.stage, fraction))

    try:
        workspace = Workspace(config)
        profile = workspace.load_profile(request.client_file, request.template_id)
        result = render(workspace, request.template_id, profile, request.output_dir,
                        request.settings, progress)
    except _Cancelled:
        return TaskOutcome("cancelled")
    except ImrAudioError as exc:
        return TaskOutcome("failed", _one_line(str(exc)))
    except Exception as exc:  # a bug: its message might quote a value, so only its type
        if cancel_mark.exists():
            return TaskOutcome("cancelled")
        return TaskOutcome("failed", f"unexpected error ({type(exc).__name__}); render it "
                           f"with 'imr-audio -vv render {request.template_id}' to see more")
    chapters = tuple(
        (chapter.title, chapter.start_s)
        for chapter in section_chapters(result.timeline, result.placements, result.duration_s)
    ) if result.placements else ()
    return TaskOutcome("done", track=result.path.name, duration_s=result.duration_s,
                       chapters=chapters)


class JobQueue:
    """Jobs by id, run through an executor; thread-safe."""

    def __init__(self, config: WorkspaceConfig, scratch: Path, max_jobs: int = 1,
                 executor: Callable[[int], Executor] | None = None,
                 records: Path | None = None) -> None:
        """A queue rendering with ``config``'s workspace; ``scratch`` holds cancel marks.

        ``executor(max_jobs)`` makes the executor on the first job (default
        :class:`LocalExecutor`). ``records`` (optional) keeps the jobs' statuses across runs:
        those found there are listed again, the unfinished ones as failed with
        :data:`INTERRUPTED`.
        """
        self._config = config
        self._scratch = scratch
        self._max_jobs = max_jobs
        self._make_executor = executor or LocalExecutor
        self._executor: Executor | None = None
        self._jobs: dict[str, JobStatus] = {}
        self._futures: dict[str, Future[TaskOutcome]] = {}  # handed to the executor
        self._waiting: list[tuple[str, JobRequest]] = []  # not yet handed, in order
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._pump: threading.Thread | None = None
        self._records = records
        self._jobs.update(self._read_records())
        serials = [int(job_id.split("-")[0]) for job_id in self._jobs
                   if job_id.split("-")[0].isdigit()]
        self._serial = itertools.count(max(serials, default=0) + 1)

    def _read_records(self) -> dict[str, JobStatus]:
        """The jobs kept in the records folder, the newest :data:`KEPT_RECORDS`.

        Older records are removed, and so is a damaged one (left out, with a warning).
        """
        if self._records is None or not self._records.is_dir():
            return {}
        found: list[JobStatus] = []
        for path in sorted(self._records.glob("*.json")):
            try:
                status = JobStatus.from_record(json.loads(path.read_text(encoding="utf-8")))
                if path.stem != status.id:
                    raise ValueError("not this job's record")
            except (OSError, ValueError, TypeError, KeyError, AttributeError):
                log.warning("studio: left out a damaged job record %s", path.name)
                with contextlib.suppress(OSError):
                    path.unlink()
                continue
            found.append(status)
        found.sort(key=lambda job: -job.created_s)
        for old in found[KEPT_RECORDS:]:
            with contextlib.suppress(OSError):
                (self._records / f"{old.id}.json").unlink()
        jobs = {}
        for status in found[:KEPT_RECORDS]:
            if not status.final:
                status = replace(status, state="failed", stage="", message=INTERRUPTED)
                self._keep(status)
            jobs[status.id] = status
        return jobs

    def _keep(self, status: JobStatus) -> None:
        """Write ``status`` to the records folder, if there is one.

        A failure is only logged: the render goes on, and the job is not listed after a restart.
        """
        if self._records is None:
            return
        try:
            write_private(self._records / f"{status.id}.json", json.dumps(status.record()))
        except ImrAudioError as exc:
            log.warning("studio: job %s not recorded: %s", status.id, exc)

    def _set(self, status: JobStatus) -> None:
        """Hold ``status`` as its job's (the lock is held); recorded when its state changed."""
        before = self._jobs.get(status.id)
        self._jobs[status.id] = status
        if before is None or before.state != status.state:
            self._keep(status)

    def submit(self, request: JobRequest) -> JobStatus:
        """Queue ``request``; its status at once.

        The queue holds its waiting jobs itself and hands a job to the executor only when one of
        the ``max_jobs`` places is free, so a waiting job can always be dropped at once.
        """
        job_id = f"{next(self._serial)}-{secrets.token_hex(3)}"
        status = JobStatus(job_id, request.template_id, request.client_id, created_s=time.time())
        with self._lock:
            if self._executor is None:
                self._executor = self._make_executor(self._max_jobs)
                self._pump = threading.Thread(target=self._run_pump, daemon=True,
                                              name="studio-jobs")
                self._pump.start()
            self._set(status)
            self._waiting.append((job_id, request))
            self._admit()
        return status

    def _admit(self) -> None:
        """Hand waiting jobs to the executor while places are free (the lock is held)."""
        while self._waiting and len(self._futures) < self._max_jobs and self._executor:
            job_id, request = self._waiting.pop(0)
            args = (job_id, self._config, request, self._mark(job_id))
            try:
                future = self._executor.submit(render_task, *args)
            except Exception:  # the pool broke (a worker died): the next job gets a new one
                broken, self._executor = self._executor, self._make_executor(self._max_jobs)
                with contextlib.suppress(Exception):
                    broken.stop()
                    broken.shutdown()
                future = self._executor.submit(render_task, *args)
            self._futures[job_id] = future

    def get(self, job_id: str) -> JobStatus | None:
        """The job's status, or None for an unknown id."""
        with self._lock:
            return self._jobs.get(job_id)

    def jobs(self) -> list[JobStatus]:
        """Every job, newest first."""
        with self._lock:
            return sorted(self._jobs.values(), key=lambda job: -job.created_s)

    def cancel(self, job_id: str) -> JobStatus | None:
        """Cancel a job: dropped if queued, asked to stop if running."""
        with self._lock:
            status = self._jobs.get(job_id)
            future = self._futures.get(job_id)
            waiting = [item for item in self._waiting if item[0] == job_id]
            if status is None or status.final or (future is None and not waiting):
                return status
            if waiting:
                self._waiting.remove(waiting[0])
                status = replace(status, state="cancelled")
            elif future is not None and future.cancel():
                status = replace(status, state="cancelled")
            else:
                self._mark(job_id).touch()
                status = replace(status, state="cancelling")
            self._set(status)
            return status

    def wait(self, job_id: str, timeout_s: float) -> JobStatus | None:
        """The job's status once it has ended, or as it is after ``timeout_s``."""
        end = time.monotonic() + timeout_s
        while True:
            status = self.get(job_id)
            if status is None or status.final or time.monotonic() >= end:
                return status
            time.sleep(0.05)

    def close(self) -> None:
        """Stop the running renders and the workers."""
        self._stopping.set()
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.stop()
            with contextlib.suppress(Exception):
                executor.shutdown()
        if self._pump is not None:
            self._pump.join(2.0)
        with self._lock:  # what the stop ended is listed so, now and after a restart
            for status in list(self._jobs.values()):
                if not status.final:
                    self._set(replace(status, state="failed", stage="", message=INTERRUPTED))
            self._waiting.clear()

    def _mark(self, job_id: str) -> Path:
        return self._scratch / f"cancel-{job_id}"

    def _run_pump(self) -> None:
        while not self._stopping.is_set():
            executor = self._executor
            if executor is None:
                return
            try:
                messages = executor.messages(_POLL_S)
            except Exception:  # the executor is being stopped
                messages = []
                time.sleep(_POLL_S)
            with self._lock:
                for message in messages:
                    self._apply(message)
                for job_id, future in list(self._futures.items()):
                    if future.done():
                        self._finish(job_id, future)
                self._admit()

    def _apply(self, message: tuple[Any, ...]) -> None:
        kind, job_id = message[0], message[1]
        status = self._jobs.get(job_id)
        if status is None or status.final:
            return
        running = "cancelling" if status.state == "cancelling" else "running"
        if kind == "started":
            self._set(replace(status, state=running))
        elif kind == "progress":
            self._set(replace(status, state=running, stage=str(message[2]),
                              fraction=float(message[3])))

    def _finish(self, job_id: str, future: Future[TaskOutcome]) -> None:
        del self._futures[job_id]
        status = self._jobs[job_id]
        with contextlib.suppress(OSError):
            self._mark(job_id).unlink(missing_ok=True)
        try:
            outcome = future.result()
        except CancelledError:
            outcome = TaskOutcome("cancelled")
        except Exception as exc:  # the worker died (stopped, out of memory)
            outcome = TaskOutcome("failed", f"the render's worker stopped ({type(exc).__name__})")
        if status.state == "cancelling" and outcome.state != "done":
            outcome = replace(outcome, state="cancelled", message="")
        elif self._stopping.is_set() and outcome.state == "failed":  # ended by close()
            outcome = replace(outcome, message=INTERRUPTED)
        self._set(replace(
            status, state=outcome.state, message=outcome.message, track=outcome.track,
            duration_s=outcome.duration_s, chapters=outcome.chapters,
            fraction=1.0 if outcome.state == "done" else status.fraction))
