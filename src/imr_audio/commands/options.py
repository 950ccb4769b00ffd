"""Options and helpers shared by the commands (decorators, the progress line)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from imr_audio.progress import Progress
from imr_audio.soundscapes import soundscape_names

__all__ = [
    "REVIEW_REMINDER",
    "ProgressLine",
    "client_option",
    "soundscape_option",
    "templates_dir_option",
    "voice_option",
]

F = TypeVar("F", bound=Callable[..., Any])

REVIEW_REMINDER = "Read the filled script yourself before any track of it goes to a client."


class ProgressLine:
    """Draws library progress as one updating line on a terminal; silent otherwise."""

    def __init__(self) -> None:
        self._tty = sys.stderr.isatty()

    def __call__(self, progress: Progress) -> None:
        """Redraw the line for ``progress``."""
        if self._tty:
            width = 24
            filled = width * progress.done // progress.total
            bar = "#" * filled + "-" * (width - filled)
            click.echo(
                f"\r{progress.stage:<10} [{bar}] {progress.done}/{progress.total} ",
                nl=False,
                err=True,
            )

    def finish(self) -> None:
        """Clear the line."""
        if self._tty:
            click.echo("\r" + " " * 60 + "\r", nl=False, err=True)


def client_option(func: F) -> F:
    """Add ``--client FILE``: the client profile."""
    return click.option(
        "--client",
        "client_file",
        required=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="Client profile (YAML).",
    )(func)


def templates_dir_option(func: F) -> F:
    """Add ``--templates-dir DIR``: the therapist's own templates."""
    return click.option(
        "--templates-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Your own templates folder, searched before the shipped one.",
    )(func)


def soundscape_option(func: F) -> F:
    """Add ``--soundscape NAME``."""
    return click.option(
        "--soundscape",
        type=click.Choice(soundscape_names()),
        default=None,
        help="Nature bed under the voice [default: the client's preference, else rain].",
    )(func)


def voice_option(func: F) -> F:
    """Add ``--voice NAME``."""
    return click.option(
        "--voice",
        "voice_profile",
        default=None,
        help="Voice profile [default: the client's preference, else calm].",
    )(func)
