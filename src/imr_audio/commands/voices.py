"""``imr-audio voices``: which voice each profile uses here, and a short preview of one."""

from __future__ import annotations

from pathlib import Path

import click

from imr_audio.commands.options import workspace_options
from imr_audio.workspace import Workspace

__all__ = ["commands"]


@click.group()
def voices() -> None:
    """Show the voice profiles and hear what they sound like on this machine."""


@voices.command("list")
@click.option("--all", "show_all", is_flag=True, help="Also list every engine's own voices.")
@workspace_options(templates=False, presets=False)
def voices_list(workspace: Workspace, show_all: bool) -> None:
    """List every voice profile and the voice it resolves to here."""
    from imr_audio.voice.catalog import voice_catalog

    catalog = voice_catalog(workspace, include_engine_voices=show_all)
    for entry in catalog.profiles:
        here = (f"{entry.voice.engine}: {entry.voice.voice_id} at {entry.voice.rate_wpm} wpm"
                if entry.voice else "no voice available on this machine")
        click.echo(f"{entry.profile_id:<14} {here}")
        click.echo(f"{'':<14} {entry.description}")
    for engine, infos in catalog.engine_voices.items():
        click.echo(f"\n{engine} voices ({len(infos)}):")
        for info in infos:
            click.echo(f"  {info.id:<28} {info.name} ({', '.join(info.languages)})")


@voices.command("preview")
@click.argument("name")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Where to write the sample [default: voice-NAME.wav].")
@workspace_options(templates=False, presets=False)
def voices_preview(workspace: Workspace, name: str, output: Path | None) -> None:
    """Render a short spoken sample of voice profile NAME."""
    from imr_audio.voice.catalog import preview_voice

    path = output or Path(f"voice-{name}.wav")
    voice = preview_voice(workspace, name, path)
    click.echo(f"{path}  ({voice.engine}: {voice.voice_id})")


commands = [voices]
