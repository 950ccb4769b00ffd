"""The ``batch`` command: render a whole library from a manifest, with progress and a summary."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from imr_audio.batch.events import (
    BatchEvent,
    JobFailed,
    JobFinished,
    JobProgress,
    JobSkipped,
    JobStarted,
)
from imr_audio.commands.options import REVIEW_REMINDER, output_dir_option, workspace_options
from imr_audio.workspace import Workspace

if TYPE_CHECKING:
    from imr_audio.batch.runner import BatchReport

__all__ = ["BatchDisplay", "batch", "commands"]


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class BatchDisplay:
    """Draws batch events on stderr.

    On a terminal: an overall bar with counts and ETA, and a line per running track. Otherwise
    one plain line per track started, finished, skipped or failed.
    """

    def __init__(self, tty: bool | None = None) -> None:
        self._tty = sys.stderr.isatty() if tty is None else tty
        self._running: dict[int, str] = {}
        self._drawn = 0

    def __call__(self, event: BatchEvent) -> None:
        """Show ``event``."""
        counts = event.counts
        overall = f"[{counts.finished}/{counts.total}]"
        if not self._tty:
            line = {
                JobStarted: "started",
                JobFinished: "rendered",
                JobSkipped: "up to date",
                JobFailed: "FAILED",
            }.get(type(event))
            if line is not None:
                extra = f": {event.reason}" if isinstance(event, JobFailed) else ""
                eta = f" (ETA {_clock(counts.eta_s)})" if counts.eta_s is not None else ""
                click.echo(f"{overall} {line} {event.label}{extra}{eta}", err=True)
            return
        if isinstance(event, (JobFinished, JobSkipped, JobFailed)):
            self._running.pop(event.index, None)
            word = {JobFinished: "rendered", JobSkipped: "up to date"}.get(type(event), "FAILED")
            self._clear()
            click.echo(f"{overall} {word} {event.label}", err=True)
        elif isinstance(event, JobProgress):
            filled = round(12 * event.fraction)
            self._running[event.index] = (
                f"  {event.label[:44]:<44} {event.stage:<9} [{'#' * filled}{'-' * (12 - filled)}]"
            )
        elif isinstance(event, JobStarted):
            self._running[event.index] = f"  {event.label[:44]:<44} starting"
        self._draw(event)

    def _clear(self) -> None:
        if self._drawn:
            # color=True: the escape codes are wanted (this is a terminal), not stripped
            click.echo(f"\x1b[{self._drawn}F\x1b[J", nl=False, err=True, color=True)
            self._drawn = 0

    def _draw(self, event: BatchEvent) -> None:
        counts = event.counts
        done = counts.finished / max(counts.total, 1)
        filled = round(24 * done)
        lines = [
            f"[{'#' * filled}{'-' * (24 - filled)}] {counts.finished}/{counts.total} done, "
            f"{counts.failed} failed, {counts.skipped} up to date, "
            f"{_clock(counts.elapsed_s)} elapsed, ETA {_clock(counts.eta_s)}",
            *self._running.values(),
        ]
        self._clear()
        click.echo("\n".join(lines), err=True)
        self._drawn = len(lines)

    def finish(self) -> None:
        """Remove the live lines."""
        if self._tty:
            self._clear()


def _table(report: BatchReport) -> None:
    """The summary: one row per track, then the counts."""
    rows = []
    for outcome in report.outcomes:
        job = outcome.job
        if outcome.status == "failed":
            result = outcome.reason
        else:
            result = str(job.track_path)
            if outcome.duration_s is not None and outcome.integrated_lufs is not None:
                result = (f"{outcome.duration_s / 60:.1f} min, {outcome.integrated_lufs:.1f} LUFS"
                          f"  {result}")
        rows.append((outcome.status, job.label, result))
    widths = [max([len(r[i]) for r in rows] + [len(h)]) for i, h in enumerate(("status", "track"))]
    click.echo(f"{'status':<{widths[0]}}  {'track':<{widths[1]}}  result")
    for status, label, result in rows:
        click.echo(f"{status:<{widths[0]}}  {label:<{widths[1]}}  {result}")
    if report.dry_run:
        packs = sorted({job.client_id for job in report.plan.jobs if job.pack and job.client_id})
        if packs:
            click.echo(f"home pack(s) planned for: {', '.join(packs)}")
        click.echo(f"\n{len(report.outcomes)} track(s) planned under "
                   f"{report.plan.output_dir}; nothing written (dry run).")
        return
    for pack in report.packs:
        if pack.reason:
            click.echo(f"home pack of {pack.client_id} not built: {pack.reason}")
        else:
            zipped = f" and {pack.zip_path.name}" if pack.zip_path else ""
            click.echo(f"home pack of {pack.client_id}: {pack.folder}{zipped} "
                       f"({pack.tracks} track(s))")
    click.echo(
        f"\n{report.count('rendered')} rendered, {report.count('skipped')} up to date, "
        f"{report.count('failed')} failed in {_clock(report.elapsed_s)}."
    )


@click.command()
@click.argument("manifest", type=click.Path(dir_okay=False, path_type=Path))
@output_dir_option("Output folder, instead of the manifest's 'output' (created 0700).",
                   required=False, default_here=False)
@click.option("--jobs", "workers", type=click.IntRange(1, 64), default=None,
              help="Tracks rendered at once, each in its own process [default: one per core].")
@click.option("--scheduler", metavar="ADDRESS", default=None,
              help="Render on the Dask cluster of this scheduler (tcp://HOST:8786 or tls://...; "
                   "needs the 'cluster' extra). Client details travel to its workers.")
@click.option("--force", is_flag=True, help="Render every track again, even those up to date.")
@click.option("--dry-run", is_flag=True, help="List the tracks the manifest plans; write nothing.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the summary as JSON (on stdout) instead of a table.")
@workspace_options(templates=False, presets=False)
@click.pass_context
def batch(
    ctx: click.Context,
    workspace: Workspace,
    manifest: Path,
    output_dir: Path | None,
    workers: int | None,
    scheduler: str | None,
    force: bool,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Render every track a MANIFEST (YAML or CSV) plans.

    Each job is a client file times templates times variants (lengths, soundscapes). The whole
    manifest is checked first. Tracks already up to date (same inputs) are skipped,
    so a stopped batch can simply be run again. A failing track does not stop the others;
    the summary gives its reason and the exit code is 1. Clients whose jobs say 'pack: true'
    get a home pack (see 'imr-audio pack') in <output folder>/home-packs/<client id>/.
    """
    from imr_audio.batch.runner import BatchOptions, run_batch

    display = BatchDisplay()
    try:
        report = run_batch(
            workspace,
            manifest,
            BatchOptions(output_dir=output_dir, workers=workers, force=force, dry_run=dry_run,
                         scheduler=scheduler),
            progress=display,
        )
    except KeyboardInterrupt:
        display.finish()
        click.echo("imr-audio: batch stopped: run the same command again to resume", err=True)
        ctx.exit(130)
    finally:
        display.finish()
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        _table(report)
    for notice in report.notices:  # once per run, however many tracks it concerns
        click.echo(f"Note: {notice}", err=True)
    if not dry_run and report.count("rendered"):
        click.echo(REVIEW_REMINDER, err=True)
    if report.failed or report.failed_packs:
        ctx.exit(1)


commands = [batch]
