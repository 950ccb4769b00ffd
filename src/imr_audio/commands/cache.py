"""The ``cache`` commands: where synthesised speech is kept between renders, and clearing it."""

from __future__ import annotations

import click

from imr_audio.voice.cache import SpeechCache

__all__ = ["cache", "commands"]


def _size(size_bytes: int) -> str:
    if size_bytes < 1024 * 1024:
        return f"{size_bytes / 1024:.1f} KiB"
    return f"{size_bytes / (1024 * 1024):.1f} MiB"


@click.group()
def cache() -> None:
    """Inspect or clear the cache of synthesised speech.

    Set IMR_AUDIO_CACHE_DIR to keep it in another folder.
    """


@cache.command("info")
def cache_info() -> None:
    """Show where the speech cache is, how many clips it holds and their size."""
    info = SpeechCache.default().info()
    click.echo(f"location: {info.folder}")
    click.echo(f"entries:  {info.entries}")
    click.echo(f"size:     {_size(info.size_bytes)}")


@cache.command("clear")
def cache_clear() -> None:
    """Remove every cached clip; the next render synthesises its speech again."""
    removed = SpeechCache.default().clear()
    click.echo(f"removed {removed} cached clip(s) from {SpeechCache.default().folder}")


commands = [cache]
