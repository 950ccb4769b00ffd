"""What runs in a batch's worker processes: one render per call, progress sent to the parent.

Workers are spawned (never forked: the speech engines start processes of their own). Each
worker renders one track at a time with :func:`~imr_audio.track.render_track` and returns a
:class:`JobResult`; an :class:`~imr_audio.errors.ImrAudioError` fails that track only. A worker
whose parent has died stops by itself, so that a killed batch leaves nothing writing.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from imr_audio.batch.manifest import BatchJob
from imr_audio.errors import ImrAudioError
from imr_audio.progress import Progress
from imr_audio.track import render
from imr_audio.workspace import Workspace, WorkspaceConfig

__all__ = ["STAGE_SPANS", "JobOutcome", "init_worker", "run_job", "stage_fraction"]

STAGE_SPANS: dict[str, tuple[float, float]] = {
    "synthesis": (0.0, 0.55),
    "mix": (0.55, 0.7),
    "master": (0.7, 0.85),
    "export": (0.85, 1.0),
}
"""Share of a track's work each stage spans (start, end): a rough measure of their cost."""

_PARENT_CHECK_S = 0.5
_events: Any = None  # the queue to the parent, in a worker process


@dataclass(frozen=True)
class JobOutcome:
    """What became of one planned track."""

    job: BatchJob
    """The track."""
    status: str
    """``rendered``, ``skipped`` (up to date), ``failed``, or ``planned`` (dry run)."""
    reason: str = ""
    """Why it failed, on one line; empty otherwise."""
    duration_s: float | None = None
    """Length of the track, in seconds (rendered or skipped)."""
    integrated_lufs: float | None = None
    """Its measured loudness, LUFS."""
    true_peak_dbtp: float | None = None
    """Its measured true peak, dBTP."""
    elapsed_s: float = 0.0
    """Time spent on it, in seconds."""
    notices: tuple[str, ...] = ()
    """What the render said once (a voice that fell back or changed; see ``RenderResult``)."""


def stage_fraction(progress: Progress) -> float:
    """How much of a track is done when one of its stages reports ``progress``, 0.0-1.0."""
    start, end = STAGE_SPANS.get(progress.stage, (0.0, 0.0))
    return start + (end - start) * min(progress.done / progress.total, 1.0)


def _watch_parent(parent_pid: int) -> None:
    """Stop this worker as soon as the batch process that started it is gone."""
    while True:
        time.sleep(_PARENT_CHECK_S)
        if os.getppid() != parent_pid:
            os._exit(1)


def init_worker(events: Any, parent_pid: int) -> None:
    """Set up a worker: the queue its events go to; it stops when ``parent_pid`` is gone.

    Ctrl-C is for the batch process, which ends the workers itself: a worker (and the speech
    engines it starts, which inherit this) ignores it, so no traceback comes from them.
    """
    global _events
    _events = events
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()


def _send(message: tuple[Any, ...]) -> None:
    if _events is not None:
        _events.put(message)


def _one_line(message: str) -> str:
    """An error message on one line (a lint error lists its findings on several)."""
    return "; ".join(line.strip() for line in message.splitlines() if line.strip())


def run_job(
    index: int, job: BatchJob, config: WorkspaceConfig, root: Path, force: bool
) -> JobOutcome:
    """Render one track (or find it up to date) in a worker; never raises for a bad job.

    The worker rebuilds the job's workspace from ``config`` (with the job's templates folder).
    """
    _send(("started", index))
    started = time.monotonic()
    last: dict[str, float] = {}

    def progress(step: Progress) -> None:
        fraction = stage_fraction(step)
        if fraction - last.get(step.stage, -1.0) >= 0.02 or fraction >= 1.0:
            last[step.stage] = fraction
            _send(("progress", index, step.stage, fraction))

    def failed(reason: str) -> JobOutcome:
        return JobOutcome(job, "failed", reason, elapsed_s=time.monotonic() - started)

    # Checked again just before writing: a link may have appeared since the manifest was read.
    if not job.output_dir.resolve().is_relative_to(root.resolve()):
        return failed(f"{job.place}: its folder now leaves the output folder through a link")
    settings = replace(job.settings, skip_if_current=not force)
    try:
        workspace = Workspace(config.replace(templates_dir=job.templates_dir))
        profile = workspace.load_profile(job.client_file, job.template_id)
        result = render(workspace, job.template_id, profile, job.output_dir, settings, progress)
    except ImrAudioError as exc:
        return failed(_one_line(str(exc)))
    except Exception as exc:  # a bug: its message might quote a value, so only its type is kept
        return failed(
            f"unexpected error ({type(exc).__name__}); render it alone with "
            f"'imr-audio -vv render {job.template_id}' to see more"
        )
    return JobOutcome(
        job,
        "skipped" if result.skipped else "rendered",
        duration_s=result.duration_s,
        integrated_lufs=result.loudness.integrated_lufs,
        true_peak_dbtp=result.loudness.true_peak_dbtp,
        elapsed_s=time.monotonic() - started,
        notices=result.notices,
    )
