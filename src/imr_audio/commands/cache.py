"""The ``cache`` commands: where synthesised speech is kept between renders, and clearing it."""

from __future__ import annotations

import click

from imr_audio.soundscapes.bedcache import BedCache
from imr_audio.voice.cache import SpeechCache
from imr_audio.voice.piper_engine import clear_split_voices, split_voices_info

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
def cache_info() -> None:
    """Show where the caches are, how many clips and beds they hold and their size."""
    info = SpeechCache.default().info()
    click.echo(f"location: {info.folder}")
    click.echo(f"entries:  {info.entries}")
    click.echo(f"size:     {_size(info.size_bytes)}")
    beds = BedCache.default().info()
    click.echo(f"beds:     {beds.beds} in {beds.folder} ({_size(beds.size_bytes)})")
    split = split_voices_info()
    click.echo(f"voices:   {split.voices} split in {split.folder} ({_size(split.size_bytes)})")


@cache.command("clear")
def cache_clear() -> None:
    """Remove every cached clip, bed and split voice; the next render makes them again."""
    removed = SpeechCache.default().clear()
    click.echo(f"removed {removed} cached clip(s) from {SpeechCache.default().folder}")
    beds = BedCache.default()
    click.echo(f"removed {beds.clear()} rendered bed(s) from {beds.folder}")
    click.echo(f"removed {clear_split_voices()} split voice(s)")


commands = [cache]
