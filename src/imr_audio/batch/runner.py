"""Run a batch: an executor's workers render the planned tracks, reporting as it goes.

The tracks go to an :class:`~imr_audio.executors.Executor`: by default a
:class:`~imr_audio.executors.LocalExecutor` (spawned processes on this machine sharing its
files), or a Dask cluster (``scheduler``, see :mod:`imr_audio.batch.remote`: the workers get
each job's content and send the finished files back). Longer tracks are submitted first, so
that the last track to start is a short one.

* Resume: a track whose track, transcript, captions and sidecar exist with the sidecar's
  inputs hash equal to this render's is skipped (``force`` renders it again). Every file is
  published atomically, so after a kill a rerun renders only what is missing.
* Failure isolation: a job that fails (bad profile, failed synthesis, unreadable bed ...) is
  reported with its one-line reason; the others go on. A local worker process that dies takes
  only the tracks it was rendering (each is tried once more in a fresh pool, then failed).
* One batch at a time per output folder (a lock file, ``.imr-batch.lock``); a batch removes the
  temporary files (``.imr-*.part``) and staging folders (``.imr-staging-*``) a killed run left
  in its folders before it starts.
* Speech is shared through the speech cache, which is safe for concurrent workers.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from imr_audio.batch.events import (
    BatchCounts,
    BatchEvent,
    BatchProgressCallback,
    JobFailed,
    JobFinished,
    JobProgress,
    JobSkipped,
    JobStarted,
)
from imr_audio.batch.manifest import BatchPlan, load_manifest
from imr_audio.batch.packs import PackOutcome, build_packs
from imr_audio.batch.worker import JobOutcome, run_job
from imr_audio.errors import BatchError, ImrAudioError
from imr_audio.executors import Executor, LocalExecutor
from imr_audio.files import BATCH_LOCK_NAME, private_dir
from imr_audio.trackset import STAGING_PREFIX
from imr_audio.workspace import Workspace, WorkspaceConfig

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock on the output root
    fcntl = None  # type: ignore[assignment]

__all__ = ["LOCK_NAME", "BatchOptions", "BatchReport", "JobOutcome", "run_batch"]

LOCK_NAME = BATCH_LOCK_NAME
"""The lock file a running batch holds in its output root."""

_CAN_LOCK: bool = fcntl is not None
_STALE = re.compile(r"^\.imr-.+\.part$")
_POLL_S = 0.2
_TRIES = 2  # a track whose worker died is tried once more before it counts as failed


@dataclass(frozen=True)
class BatchOptions:
    """How to run a batch (the command's options)."""

    output_dir: Path | None = None
    """Replaces the manifest's output folder (``-o``); None keeps it."""
    workers: int | None = None
    """Worker processes (``--jobs``); None: one per core."""
    force: bool = False
    """Render every track again, even those up to date (``--force``)."""
    dry_run: bool = False
    """Only plan: list the tracks, write nothing (``--dry-run``)."""
    engine_workers: int | None = None
    """Speech engine (pyttsx3) processes per worker; None: the cores shared out among the
    workers, at least one each (the workspace's ``engine_workers`` wins when it sets one)."""
    scheduler: str | None = None
    """A Dask scheduler's address (``--scheduler tcp://host:8786``): the tracks are rendered on
    its cluster's workers (:mod:`imr_audio.batch.remote`); None renders on this machine."""


@dataclass(frozen=True)
class BatchReport:
    """The summary of a batch: every track's outcome."""

    plan: BatchPlan
    """The validated manifest."""
    outcomes: tuple[JobOutcome, ...]
    """One per planned track, in manifest order."""
    elapsed_s: float
    """Wall time of the batch, in seconds."""
    dry_run: bool = False
    """Whether nothing was rendered (``--dry-run``)."""
    packs: tuple[PackOutcome, ...] = ()
    """The clients' home packs asked for with ``pack: true``."""

    @property
    def failed(self) -> tuple[JobOutcome, ...]:
        """The tracks that failed."""
        return tuple(o for o in self.outcomes if o.status == "failed")

    @property
    def failed_packs(self) -> tuple[PackOutcome, ...]:
        """The home packs that could not be built."""
        return tuple(p for p in self.packs if p.reason)

    @property
    def notices(self) -> tuple[str, ...]:
        """Every distinct notice of the batch's renders, once each, in the order first seen."""
        return tuple(dict.fromkeys(n for o in self.outcomes for n in o.notices))

    def count(self, status: str) -> int:
        """How many tracks have ``status``."""
        return sum(o.status == status for o in self.outcomes)

    def as_dict(self) -> dict[str, Any]:
        """A machine-readable summary (``--json``): no client values, no client file paths."""
        return {
            "manifest": str(self.plan.manifest),
            "output_dir": str(self.plan.output_dir),
            "dry_run": self.dry_run,
            "elapsed_s": round(self.elapsed_s, 3),
            "notices": list(self.notices),
            "counts": {
                status: self.count(status)
                for status in ("rendered", "skipped", "failed", "planned")
            },
            "jobs": [
                {
                    "place": o.job.place,
                    "client_id": o.job.client_id or None,
                    "template": o.job.template_id,
                    "variant": o.job.variant or None,
                    "path": str(o.job.track_path) if o.job.client_id else None,
                    "status": o.status,
                    "reason": o.reason or None,
                    "duration_s": None if o.duration_s is None else round(o.duration_s, 3),
                    "integrated_lufs": (
                        None if o.integrated_lufs is None else round(o.integrated_lufs, 2)
                    ),
                    "true_peak_dbtp": (
                        None if o.true_peak_dbtp is None else round(o.true_peak_dbtp, 2)
                    ),
                    "elapsed_s": round(o.elapsed_s, 3),
                }
                for o in self.outcomes
            ],
            "packs": [
                {
                    "client_id": p.client_id,
                    "folder": str(p.folder),
                    "zip": None if p.zip_path is None else str(p.zip_path),
                    "tracks": p.tracks,
                    "reason": p.reason or None,
                }
                for p in self.packs
            ],
        }


class _Tracker:
    """Counts, per-track progress and the ETA; turns worker messages into events."""

    def __init__(self, plan: BatchPlan, callback: BatchProgressCallback | None) -> None:
        self.jobs = plan.jobs
        self.callback = callback
        self.started_at = time.monotonic()
        self.fraction: dict[int, float] = {}  # running tracks
        self.outcomes: dict[int, JobOutcome] = {}
        self.ever_started: set[int] = set()

    def counts(self) -> BatchCounts:
        status = [o.status for o in self.outcomes.values()]
        skipped = status.count("skipped")
        elapsed = time.monotonic() - self.started_at
        work_total = len(self.jobs) - skipped
        work_done = len(status) - skipped + sum(self.fraction.values())
        eta = None
        if work_done >= 0.05 and elapsed > 0:
            eta = max(0.0, elapsed * (work_total - work_done) / work_done)
        return BatchCounts(
            total=len(self.jobs),
            rendered=status.count("rendered"),
            skipped=skipped,
            failed=status.count("failed"),
            running=len(self.fraction),
            elapsed_s=elapsed,
            eta_s=eta,
        )

    def _emit(self, make: type[BatchEvent], index: int, **fields: Any) -> None:
        if self.callback is not None:
            self.callback(make(index=index, label=self.jobs[index].label, counts=self.counts(),
                               **fields))

    def message(self, message: tuple[Any, ...]) -> None:
        kind, index = message[0], message[1]
        if index in self.outcomes:
            return  # a late message about a track already done
        if kind == "started":
            self.ever_started.add(index)
            self.fraction[index] = 0.0
            self._emit(JobStarted, index)
        elif kind == "progress" and index in self.fraction:
            self.fraction[index] = message[3]
            self._emit(JobProgress, index, stage=message[2], fraction=message[3])

    def finish(self, outcome: JobOutcome, index: int) -> None:
        self.fraction.pop(index, None)
        self.outcomes[index] = outcome
        if outcome.status == "failed":
            self._emit(JobFailed, index, reason=outcome.reason)
        elif outcome.status == "skipped":
            self._emit(JobSkipped, index, path=outcome.job.track_path)
        else:
            self._emit(JobFinished, index, path=outcome.job.track_path,
                       duration_s=outcome.duration_s or 0.0,
                       integrated_lufs=outcome.integrated_lufs or 0.0)


class JobDispatch(Protocol):
    """How a batch's tracks become an executor's tasks and their results outcomes."""

    def task(
        self, index: int, config: WorkspaceConfig
    ) -> tuple[Callable[..., Any], tuple[Any, ...]] | JobOutcome:
        """The task rendering track ``index`` and its arguments, or its outcome already.

        An outcome already: up to date, or failed before it could be sent.
        """

    def outcome(self, index: int, result: Any) -> JobOutcome:
        """The outcome of track ``index`` from its task's result."""


@dataclass(frozen=True)
class _LocalJobs:
    """Tasks for workers that share this machine's files: each renders into the output root."""

    plan: BatchPlan
    force: bool

    def task(
        self, index: int, config: WorkspaceConfig
    ) -> tuple[Callable[..., Any], tuple[Any, ...]] | JobOutcome:
        return run_job, (index, self.plan.jobs[index], config, self.plan.output_dir, self.force)

    def outcome(self, index: int, result: Any) -> JobOutcome:
        assert isinstance(result, JobOutcome)
        return result


def _job_length_s(plan: BatchPlan, index: int, lengths: dict[tuple[Path | None, str], float]
                  ) -> float:
    """How long track ``index`` is expected to be, in seconds.

    Its target length, else the middle of its template's intended range (0 when the template
    cannot be read).
    """
    job = plan.jobs[index]
    if job.settings.length_s is not None:
        return job.settings.length_s
    key = (job.templates_dir, job.template_id)
    if key not in lengths:
        try:
            spec = plan.workspace(job).templates.load(job.template_id)
            lengths[key] = (spec.duration_min_s + spec.duration_max_s) / 2
        except ImrAudioError:
            lengths[key] = 0.0
    return lengths[key]


def longest_first(plan: BatchPlan, indices: list[int]) -> list[int]:
    """``indices`` ordered by expected track length, longest first (manifest order on ties).

    With the longest tracks started first, the batch does not end waiting for one long track
    that started last while the other workers sit idle.
    """
    lengths: dict[tuple[Path | None, str], float] = {}
    return sorted(indices, key=lambda i: (-_job_length_s(plan, i, lengths), i))


def _lost_reason(exc: BaseException) -> str:
    """Why a task's future failed outside the render (the worker could not run it at all)."""
    name = type(exc).__name__
    if name == "KilledWorker":
        return "the worker process rendering it stopped unexpectedly"
    if isinstance(exc, ModuleNotFoundError):
        return ("a worker could not import what the render needs (install imr-audio there: "
                "pip install 'imr-audio[cluster]')")
    return f"the worker could not run it ({name})"


def _hand_messages(executor: Executor, tracker: _Tracker, wait_s: float) -> None:
    """Hand every waiting task message to the tracker, waiting up to ``wait_s`` for one."""
    for message in executor.messages(wait_s):
        tracker.message(tuple(message))


def _run_pool(
    plan: BatchPlan,
    options: BatchOptions,
    tracker: _Tracker,
    executor: Executor | None = None,
    dispatch: JobDispatch | None = None,
) -> None:
    """Render every track not yet in ``tracker.outcomes`` through ``executor``.

    Without one, in local executors of spawned workers: a fresh one for the tracks whose
    worker died. ``dispatch`` makes the tasks (default: workers sharing this machine's files).
    """
    cores = os.cpu_count() or 1
    dispatch = dispatch or _LocalJobs(plan, options.force)
    todo = longest_first(plan, [i for i in range(len(plan.jobs)) if i not in tracker.outcomes])
    tries: dict[int, int] = {}
    while todo:
        workers = max(1, min(options.workers or cores, len(todo)))
        engine_workers = (plan.config.engine_workers or options.engine_workers
                          or max(1, cores // workers))
        config = plan.config.replace(engine_workers=engine_workers)
        current = executor or LocalExecutor(workers)
        broken: list[int] = []
        try:
            futures: dict[Future[Any], int] = {}
            for index in todo:
                made = dispatch.task(index, config)
                if isinstance(made, JobOutcome):
                    tracker.finish(made, index)
                else:
                    futures[current.submit(made[0], *made[1])] = index
                _hand_messages(current, tracker, 0)
            pending = set(futures)
            while pending:
                _hand_messages(current, tracker, _POLL_S)
                for future in [f for f in pending if f.done()]:
                    pending.discard(future)
                    index = futures[future]
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        broken.append(index)
                        continue
                    except Exception as exc:
                        tracker.finish(JobOutcome(plan.jobs[index], "failed", _lost_reason(exc)),
                                       index)
                        continue
                    tracker.finish(dispatch.outcome(index, result), index)
        except KeyboardInterrupt:
            current.stop()  # what the workers were writing stays in staging
            raise
        finally:
            with contextlib.suppress(Exception):  # who had started, before the queue goes
                _hand_messages(current, tracker, 0)
            if executor is None:
                current.shutdown()
        todo = []
        started = [i for i in broken if i in tracker.ever_started]
        for index in broken:
            tries[index] = tries.get(index, 0) + (index in tracker.ever_started)
            if not started or tries[index] >= _TRIES or executor is not None:
                reason = (
                    "the worker process rendering it stopped unexpectedly"
                    if started
                    else "the worker processes could not start"
                )
                tracker.finish(JobOutcome(plan.jobs[index], "failed", reason), index)
            else:
                tracker.fraction.pop(index, None)
                todo.append(index)


@contextlib.contextmanager
def _root_lock(root: Path) -> Iterator[None]:
    """Hold the output root's lock for the batch; another batch there is an error."""
    private_dir(root)
    if not _CAN_LOCK:  # pragma: no cover - Windows
        yield
        return
    path = root / LOCK_NAME
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise BatchError(
                f"{root}: another batch is writing to this folder; wait until it has finished"
            ) from None
        try:  # a batch that just ended removed the file we locked: lock the one there now
            if os.fstat(fd).st_ino == path.stat().st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):  # removed while held: no file is left behind
            path.unlink()
        os.close(fd)


def _remove_stale_parts(plan: BatchPlan) -> int:
    """Remove what a killed run left in the batch's folders.

    That is temporary files (``.imr-*.part``) and staging folders (``.imr-staging-*``).
    """
    removed = 0
    for folder in sorted({job.output_dir for job in plan.jobs}):
        if not folder.is_dir() or folder.is_symlink():
            continue
        for entry in folder.iterdir():
            if entry.is_symlink():
                continue
            if entry.is_dir() and entry.name.startswith(STAGING_PREFIX):
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
            elif _STALE.match(entry.name) and entry.is_file():
                entry.unlink(missing_ok=True)
                removed += 1
    return removed


def run_batch(
    workspace: Workspace,
    manifest: Path,
    options: BatchOptions | None = None,
    progress: BatchProgressCallback | None = None,
    executor: Executor | None = None,
) -> BatchReport:
    """Validate ``manifest``, then render every track it plans in ``workspace``.

    Returns the summary. The tracks are rendered by ``executor`` when given (the caller shuts
    it down; one whose workers do not share this machine's files says so with ``remote =
    True``), else on the Dask cluster of ``options.scheduler``, else by local worker processes.

    Raises :class:`~imr_audio.errors.BatchManifestError` (every problem of the manifest, before
    anything is written), :class:`~imr_audio.errors.BatchError` (another batch holds the
    output root) or :class:`~imr_audio.errors.ClusterError` (no ``cluster`` extra, or its
    scheduler does not answer). A failing track never raises: it is in the report with its
    reason.
    """
    options = options or BatchOptions()
    started = time.monotonic()
    plan = load_manifest(workspace, manifest, options.output_dir)
    tracker = _Tracker(plan, progress)
    for index, job in enumerate(plan.jobs):
        if job.problem:
            tracker.finish(JobOutcome(job, "failed", job.problem), index)
    if options.dry_run:
        outcomes = tuple(
            tracker.outcomes.get(i) or JobOutcome(job, "planned")
            for i, job in enumerate(plan.jobs)
        )
        return BatchReport(plan, outcomes, time.monotonic() - started, dry_run=True)
    with contextlib.ExitStack() as stack:
        if executor is None and options.scheduler:
            from imr_audio.executors_dask import DaskExecutor

            executor = stack.enter_context(DaskExecutor(options.scheduler))
        stack.enter_context(_root_lock(plan.output_dir))
        _remove_stale_parts(plan)
        dispatch: JobDispatch | None = None
        if executor is not None and getattr(executor, "remote", False):
            from imr_audio.batch.remote import RemoteJobs

            dispatch = stack.enter_context(RemoteJobs(plan, options.force))
        _run_pool(plan, options, tracker, executor, dispatch)
        outcomes = tuple(tracker.outcomes[i] for i in range(len(plan.jobs)))
        packs = build_packs(plan, [o.job for o in outcomes if o.status in ("rendered", "skipped")])
    return BatchReport(plan, outcomes, time.monotonic() - started, packs=packs)
