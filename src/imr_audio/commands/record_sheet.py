"""The ``record-sheet`` command: lines a therapist records to make a track in their own voice."""

from __future__ import annotations

from pathlib import Path

import click

from imr_audio.commands.options import (
    REVIEW_REMINDER,
    client_option,
    output_dir_option,
    soundscape_option,
    voice_option,
    workspace_options,
)
from imr_audio.workspace import Workspace

__all__ = ["commands", "record_sheet"]


@click.command("record-sheet")
@click.argument("template")
@client_option
@soundscape_option
@voice_option
@workspace_options()
@output_dir_option("Folder for the sheet (created 0700).")
def record_sheet(
    template: str,
    client_file: Path,
    soundscape: str | None,
    voice_profile: str | None,
    workspace: Workspace,
    output_dir: Path,
) -> None:
    """Write the lines of TEMPLATE, filled for a client, to record in your own voice.

    Writes <client id>_<template>_lines.txt (numbered, with how to record), .csv and .json.
    Record one file per line named by its id, then render with --recordings FOLDER. The
    filled script must pass the clinical lint first.
    """
    from imr_audio.record_sheet import write_recording_sheet
    from imr_audio.script import ScriptChoices

    sheet = write_recording_sheet(
        workspace, template, workspace.load_profile(client_file, template), output_dir,
        ScriptChoices(soundscape=soundscape, voice_profile=voice_profile),
    )
    click.echo(f"{sheet.txt_path}  ({len(sheet.lines)} lines to record)")
    click.echo(str(sheet.csv_path))
    click.echo(str(sheet.json_path))
    click.echo(REVIEW_REMINDER, err=True)


commands = [record_sheet]
