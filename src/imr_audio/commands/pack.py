"""The ``pack`` command: a client's home pack with an offline player page."""

from __future__ import annotations

from pathlib import Path

import click

from imr_audio.commands.options import (
    ProgressLine,
    client_option,
    output_dir_option,
    workspace_options,
)
from imr_audio.export.settings import FORMATS
from imr_audio.workspace import Workspace

__all__ = ["commands", "pack"]


@click.command()
@click.argument(
    "tracks", nargs=-1, required=True, metavar="TRACK...",
    type=click.Path(dir_okay=False, path_type=Path),
)
@client_option
@output_dir_option(
    "Folder of the pack: new, empty, or an earlier pack (replaced). Created 0700.",
    required=True,
)
@click.option(
    "--zip",
    "make_zip",
    is_flag=True,
    help="Also write DIR.zip beside the folder (the same bytes for the same files).",
)
@click.option(
    "--note",
    "note_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Your note to the client (plain text file), shown on the page.",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="The format to take of a track given in several [default: the first of "
              f"{', '.join(FORMATS)} given].")
@workspace_options(presets=False)
def pack(
    tracks: tuple[Path, ...],
    client_file: Path,
    output_dir: Path,
    make_zip: bool,
    note_file: Path | None,
    fmt: str | None,
    workspace: Workspace,
) -> None:
    """Build a client's home pack of TRACKs with an offline index.html player.

    The pack holds the tracks with their captions and transcripts, a playlist.m3u8 and an
    index.html that plays them with captions, a listening guide and your note. Each TRACK
    must be this client's (named <client id>_...) and have its .vtt captions beside it.
    """
    from imr_audio.pack import build_home_pack
    from imr_audio.profile import load_client_profile

    with ProgressLine() as bar:
        result = build_home_pack(
            workspace,
            load_client_profile(client_file),
            tracks,
            output_dir,
            make_zip=make_zip,
            note_file=note_file,
            fmt=fmt,
            progress=bar,
        )
    minutes = sum(track.duration_s for track in result.tracks) / 60
    click.echo(f"{result.page}  ({len(result.tracks)} track(s), {minutes:.1f} min)")
    if result.zip_path is not None:
        click.echo(str(result.zip_path))


commands = [pack]
