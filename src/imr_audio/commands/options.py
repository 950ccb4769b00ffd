"""Options and helpers shared by the commands (decorators, the progress line)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from click.shell_completion import CompletionItem

from imr_audio.commands.progress_line import ProgressLine
from imr_audio.errors import UnknownSoundscapeError
from imr_audio.soundscapes import get_soundscape, soundscape_names, use_presets

__all__ = [
    "REVIEW_REMINDER",
    "ProgressLine",
    "SoundscapeName",
    "client_option",
    "presets_option",
    "soundscape_option",
    "templates_dir_option",
    "voice_option",
]

F = TypeVar("F", bound=Callable[..., Any])

REVIEW_REMINDER = "Read the filled script yourself before any track of it goes to a client."


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


class SoundscapeName(click.ParamType):
    """A soundscape: a bed's or preset's name, or the path of an audio file (a recording)."""

    name = "soundscape"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        """Return ``value`` if it names a soundscape; an unknown name is a usage error."""
        try:
            get_soundscape(str(value))  # a recording is decoded: a bad file fails here
        except UnknownSoundscapeError as exc:
            self.fail(str(exc), param, ctx)
        return str(value)

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        """Complete soundscape names."""
        return [
            CompletionItem(name)
            for name in soundscape_names()
            if name.startswith(incomplete)
        ]


def _use_presets(ctx: click.Context, param: click.Parameter, value: Path | None) -> None:
    use_presets(value)


def presets_option(func: F) -> F:
    """Add ``--presets FILE``: the user's soundscape presets, read before any soundscape name."""
    return click.option(
        "--presets",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        is_eager=True,
        expose_value=False,
        callback=_use_presets,
        help="Your soundscape presets (YAML) [default: $IMR_AUDIO_PRESETS, else "
        "~/.config/imr-audio/soundscapes.yaml if it exists].",
    )(func)


def soundscape_option(func: F) -> F:
    """Add ``--soundscape NAME|FILE`` (and ``--presets FILE``)."""
    func = click.option(
        "--soundscape",
        type=SoundscapeName(),
        metavar="NAME|FILE",
        default=None,
        help="Bed under the voice: a soundscape or preset (imr-audio soundscapes list), or an "
        "audio file to loop [default: the client's preference, else rain].",
    )(func)
    return presets_option(func)


def voice_option(func: F) -> F:
    """Add ``--voice NAME``."""
    return click.option(
        "--voice",
        "voice_profile",
        default=None,
        help="Voice profile [default: the client's preference, else calm].",
    )(func)
