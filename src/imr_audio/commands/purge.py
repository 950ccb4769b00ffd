"""The ``purge`` command: remove one client's cached speech and rendered files."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from imr_audio.commands.options import workspace_options
from imr_audio.workspace import Workspace

if TYPE_CHECKING:
    from imr_audio.purge import PurgeReport

__all__ = ["commands", "purge"]


def _list(paths: tuple[Path, ...]) -> None:
    for path in paths:
        click.echo(f"  {path}")


@click.command()
@click.option(
    "--client",
    "client_id",
    required=True,
    metavar="ID",
    help="The client's pseudonymous id (the 'id' in their profile), not the profile file.",
)
@click.option(
    "--outputs",
    "output_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    metavar="DIR",
    help="Also remove the client's rendered files in DIR and every folder below it.",
)
@click.option("--dry-run", is_flag=True, help="Only list what would be removed; remove nothing.")
@click.option("--yes", "-y", is_flag=True, help="Remove without asking first.")
@workspace_options(templates=False, presets=False)
def purge(workspace: Workspace, client_id: str, output_dir: Path | None, dry_run: bool,
          yes: bool) -> None:
    """Remove a client's cached speech and, with --outputs, their rendered files.

    Every cached clip made for the client goes. Under --outputs DIR (searched with all its
    subfolders; links are not followed) a track goes with its .txt, .vtt and .json when its
    sidecar confirms it is this client's, and a recording sheet when its .json names the
    client. Files whose names start with the id that nothing confirms are kept and listed.
    """
    from imr_audio.purge import purge_client

    plan = purge_client(workspace, client_id, output_dir, dry_run=True)
    if dry_run or not plan.removed_anything:
        _show(plan, client_id)
        return
    if not yes:
        _show(plan, client_id)
        if not _can_ask():
            raise click.ClickException(
                "purge removes files for good: run it again with --yes to remove them "
                "(or --dry-run to only list them)"
            )
        click.confirm("Remove them?", abort=True)
    _show(purge_client(workspace, client_id, output_dir), client_id)


def _can_ask() -> bool:
    """Whether someone at a terminal can answer a question."""
    return sys.stdin.isatty()


def _show(report: PurgeReport, client_id: str) -> None:
    verb = "would remove" if report.dry_run else "removed"
    click.echo(
        f"speech cache {report.cache_folder}: {verb} {report.cache_entries_removed} "
        f"cached clip(s) of client {client_id}"
    )
    if report.output_dir is not None:
        click.echo(f"{report.output_dir}: {verb} {len(report.removed_files)} file(s)")
        _list(report.removed_files)
    if report.unconfirmed_files:
        click.echo(
            f"kept {len(report.unconfirmed_files)} file(s) whose names start with '{client_id}_' "
            "but that no sidecar confirms as this client's (no sidecar, or made on another "
            "installation); check them and remove them by hand:"
        )
        _list(report.unconfirmed_files)
    if report.temporary_files:
        click.echo(
            f"kept {len(report.temporary_files)} temporary file(s) left by an interrupted render "
            "(any client's); remove them when no render is running:"
        )
        _list(report.temporary_files)
    if not report.removed_anything:
        click.echo(f"nothing to remove for client {client_id}")


commands = [purge]
