"""The ``cache`` commands: where synthesised speech is kept between renders, and clearing it."""

from __future__ import annotations

import click

from imr_audio.commands.options import workspace_options
from imr_audio.workspace import Workspace

__all__ = ["cache", "commands"]


def _size(size_bytes: int) -> str:
    if size_bytes < 1024 * 1024:
        return f"{size_bytes / 1024:.1f} KiB"
    return f"{size_bytes / (1024 * 1024):.1f} MiB"


@click.group()
def cache() -> None:
    """Inspect or clear the caches: speech, soundscape beds and split voices.

    Set IMR_AUDIO_CACHE_DIR to keep them in another folder.
    """


@cache.command("info")
@workspace_options(templates=False, presets=False)
def cache_info(workspace: Workspace) -> None:
    """Show where the caches are, how many clips and beds they hold and their size."""
    from imr_audio.caches import caches_info

    info = caches_info(workspace)
    click.echo(f"location: {info.speech.folder}")
    click.echo(f"entries:  {info.speech.entries}")
    click.echo(f"size:     {_size(info.speech.size_bytes)}")
    beds = info.beds
    click.echo(f"beds:     {beds.beds} in {beds.folder} ({_size(beds.size_bytes)})")
    cap = f"at most {_size(beds.max_bytes)}" if beds.max_bytes is not None else "no cap"
    click.echo(f"          samples {_size(beds.samples_bytes)}, loudness cells "
               f"{_size(beds.cells_bytes)}; {cap}, least recently used beds removed first")
    split = info.split_voices
    click.echo(f"voices:   {split.voices} split in {split.folder} ({_size(split.size_bytes)})")


@cache.command("clear")
@workspace_options(templates=False, presets=False)
def cache_clear(workspace: Workspace) -> None:
    """Remove every cached clip, bed and split voice; the next render makes them again."""
    from imr_audio.caches import clear_caches

    cleared = clear_caches(workspace)
    click.echo(f"removed {cleared.speech_removed} cached clip(s) from {cleared.speech_folder}")
    click.echo(f"removed {cleared.beds_removed} rendered bed(s) from {cleared.beds_folder}")
    click.echo(f"removed {cleared.split_voices_removed} split voice(s)")


commands = [cache]
