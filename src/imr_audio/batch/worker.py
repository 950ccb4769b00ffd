"""What runs in a batch's workers: one render per call, progress sent through the channel.

A batch hands its tracks to an :class:`~imr_audio.executors.Executor` (by default a
:class:`~imr_audio.executors.LocalExecutor`: spawned processes that stop when the batch process
is gone). Each task renders one track with :func:`~imr_audio.track.render` and returns a
:class:`JobOutcome`; an :class:`~imr_audio.errors.ImrAudioError` fails that track only. Tasks
report ``("started", index)`` and ``("progress", index, stage, fraction)`` on their channel.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from imr_audio.batch.manifest import BatchJob
from imr_audio.errors import ImrAudioError
from imr_audio.progress import Progress
from imr_audio.track import render
from imr_audio.workspace import Workspace, WorkspaceConfig

__all__ = ["STAGE_SPANS", "JobOutcome", "job_progress", "one_line", "run_job", "stage_fraction"]

STAGE_SPANS: dict[str, tuple[float, float]] = {
    "synthesis": (0.0, 0.55),
    "mix": (0.55, 0.7),
    "master": (0.7, 0.85),
    "export": (0.85, 1.0),
}
"""Share of a track's work each stage spans (start, end): a rough measure of their cost."""


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


def job_progress(channel: Any, index: int) -> Callable[[Progress], None]:
    """A render's progress callback that sends ``("progress", index, stage, fraction)``.

    Only steps of at least 2 % of a stage (and each stage's end) are sent.
    """
    last: dict[str, float] = {}

    def progress(step: Progress) -> None:
        fraction = stage_fraction(step)
        if fraction - last.get(step.stage, -1.0) >= 0.02 or fraction >= 1.0:
            last[step.stage] = fraction
            channel.put(("progress", index, step.stage, fraction))

    return progress


def one_line(message: str) -> str:
    """An error message on one line (a lint error lists its findings on several)."""
    return "; ".join(line.strip() for line in message.splitlines() if line.strip())


def run_job(
    channel: Any, index: int, job: BatchJob, config: WorkspaceConfig, root: Path, force: bool
) -> JobOutcome:
    """Render one track (or find it up to date) in a worker; never raises for a bad job.

    The worker rebuilds the job's workspace from ``config`` (with the job's templates folder)
    and writes into ``root``, which it shares with the batch process (a local executor).
    """
    channel.put(("started", index))
    started = time.monotonic()
    progress = job_progress(channel, index)

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
        return failed(one_line(str(exc)))
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
