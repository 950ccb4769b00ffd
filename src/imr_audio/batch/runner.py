"""Run a batch: a pool of spawned workers renders the planned tracks, reporting as it goes.

* Resume: a track whose track, transcript, captions and sidecar exist with the sidecar's
  inputs hash equal to this render's is skipped (``force`` renders it again). Every file is
  published atomically, so after a kill a rerun renders only what is missing.
* Failure isolation: a job that fails (bad profile, failed synthesis, unreadable bed ...) is
  reported with its one-line reason; the others go on. A worker process that dies takes only
  the tracks it was rendering (each is tried once more in a fresh pool, then failed).
* One batch at a time per output folder (a lock file, ``.imr-batch.lock``); a batch removes the
  temporary files (``.imr-*.part``) and staging folders (``.imr-staging-*``) a killed run left
  in its folders before it starts.
* Speech is shared through the speech cache, which is safe for concurrent workers.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import re
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
from imr_audio.batch.worker import JobOutcome, init_worker, run_job
from imr_audio.errors import BatchError
from imr_audio.files import BATCH_LOCK_NAME, private_dir
from imr_audio.trackset import STAGING_PREFIX
from imr_audio.workspace import Workspace

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


def _drain(events: Any, tracker: _Tracker, wait_s: float) -> None:
    """Hand every waiting worker message to the tracker, waiting up to ``wait_s`` for one."""
    try:
        tracker.message(events.get(timeout=wait_s) if wait_s > 0 else events.get_nowait())
        while True:
            tracker.message(events.get_nowait())
    except queue.Empty:
        pass


def _run_pool(plan: BatchPlan, options: BatchOptions, tracker: _Tracker) -> None:
    """Render every track not yet in ``tracker.outcomes`` in pools of spawned workers."""
    context = multiprocessing.get_context("spawn")
    events = context.Queue()
    cores = os.cpu_count() or 1
    todo = [i for i in range(len(plan.jobs)) if i not in tracker.outcomes]
    tries: dict[int, int] = {}
    while todo:
        workers = max(1, min(options.workers or cores, len(todo)))
        engine_workers = (plan.config.engine_workers or options.engine_workers
                          or max(1, cores // workers))
        config = plan.config.replace(engine_workers=engine_workers)
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=init_worker,
            initargs=(events, os.getpid()),
        )
        broken: list[int] = []
        try:
            futures: dict[Future[JobOutcome], int] = {
                pool.submit(run_job, i, plan.jobs[i], config, plan.output_dir, options.force): i
                for i in todo
            }
            pending = set(futures)
            while pending:
                _drain(events, tracker, _POLL_S)
                for future in [f for f in pending if f.done()]:
                    pending.discard(future)
                    index = futures[future]
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        broken.append(index)
                        continue
                    tracker.finish(result, index)
        except KeyboardInterrupt:
            _stop_workers(pool)
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        _drain(events, tracker, 0)
        todo = []
        started = [i for i in broken if i in tracker.ever_started]
        for index in broken:
            tries[index] = tries.get(index, 0) + (index in tracker.ever_started)
            if not started or tries[index] >= _TRIES:
                reason = (
                    "the worker process rendering it stopped unexpectedly"
                    if started
                    else "the worker processes could not start"
                )
                tracker.finish(JobOutcome(plan.jobs[index], "failed", reason), index)
            else:
                tracker.fraction.pop(index, None)
                todo.append(index)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """End the workers now (Ctrl-C): what they were writing stays in staging, never half-published.

    A stopped batch resumes: the next run skips what is done and clears what was left.
    """
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        with contextlib.suppress(OSError, AttributeError):
            process.terminate()
    for process in processes:
        with contextlib.suppress(OSError, AttributeError):
            process.join(5.0)


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
) -> BatchReport:
    """Validate ``manifest``, then render every track it plans in ``workspace``.

    Returns the summary.

    Raises :class:`~imr_audio.errors.BatchManifestError` (every problem of the manifest, before
    anything is written) or :class:`~imr_audio.errors.BatchError` (another batch holds the
    output root). A failing track never raises: it is in the report with its reason.
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
    with _root_lock(plan.output_dir):
        _remove_stale_parts(plan)
        _run_pool(plan, options, tracker)
        outcomes = tuple(tracker.outcomes[i] for i in range(len(plan.jobs)))
        packs = build_packs(plan, [o.job for o in outcomes if o.status in ("rendered", "skipped")])
    return BatchReport(plan, outcomes, time.monotonic() - started, packs=packs)
