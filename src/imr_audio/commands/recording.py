"""The ``record-sheet`` command: lines a therapist records to make a track in their own voice."""

from __future__ import annotations

from pathlib import Path

import click

from imr_audio.commands.options import (
    REVIEW_REMINDER,
    client_option,
    soundscape_option,
    templates_dir_option,
    voice_option,
)
from imr_audio.recording import write_recording_sheet

__all__ = ["commands", "record_sheet"]


@click.command("record-sheet")
@click.argument("template")
@client_option
@soundscape_option
@voice_option
@templates_dir_option
@click.option(
    "-o",
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    show_default=True,
    help="Folder for the sheet (created 0700).",
)
def record_sheet(
    template: str,
    client_file: Path,
    soundscape: str | None,
    voice_profile: str | None,
    templates_dir: Path | None,
    output_dir: Path,
) -> None:
    """Write the lines of TEMPLATE, filled for a client, to record in your own voice.

    Writes <client id>_<template>_lines.txt (numbered, with how to record), .csv and .json.
    Record one file per line named by its id, then render with --recordings FOLDER. The
    filled script must pass the clinical lint first.
    """
    sheet = write_recording_sheet(
        template, client_file, output_dir, templates_dir, soundscape, voice_profile
    )
    click.echo(f"{sheet.txt_path}  ({len(sheet.lines)} lines to record)")
    click.echo(str(sheet.csv_path))
    click.echo(str(sheet.json_path))
    click.echo(REVIEW_REMINDER, err=True)


commands = [record_sheet]
