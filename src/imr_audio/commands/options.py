"""Options and helpers shared by the commands (decorators, the progress line).

This module is imported whenever the command line starts (``--help`` included), so it imports
nothing heavy: the library's modules are imported by the commands when they run.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from click.shell_completion import CompletionItem

from imr_audio.commands.progress_line import ProgressLine

__all__ = [
    "REVIEW_REMINDER",
    "ProgressLine",
    "SoundscapeName",
    "client_option",
    "output_dir_option",
    "seed_option",
    "soundscape_option",
    "voice_option",
    "workspace_options",
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


def output_dir_option(
    help_text: str, *, required: bool = False, default_here: bool = True
) -> Callable[[F], F]:
    """Add ``-o/--output-dir DIR``; the command receives ``output_dir``.

    ``help_text`` says what goes there. Unless ``required``, it defaults to the current folder
    (``default_here``) or to None.
    """
    here = default_here and not required
    return click.option(
        "-o",
        "--output-dir",
        "output_dir",
        type=click.Path(file_okay=False, path_type=Path),
        required=required,
        default=Path() if here else None,
        show_default=here,
        help=help_text,
    )


def seed_option(what: str) -> Callable[[F], F]:
    """Add ``--seed N`` (0 to 2**32 - 1, default 0); ``what`` begins its help ("Seed of the bed").

    The command receives ``seed``.
    """
    top = 2**32 - 1
    return click.option(
        "--seed",
        type=click.IntRange(0, top),
        default=0,
        show_default=True,
        help=f"{what} (0 to {top}).",
    )


def workspace_options(*, templates: bool = True, presets: bool = True) -> Callable[[F], F]:
    """Add ``--templates-dir DIR`` and/or ``--presets FILE``; the command gets ``workspace``.

    The workspace is made from them and the environment (see
    :meth:`~imr_audio.workspace.WorkspaceConfig.from_environment`).
    """

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def command(
            *args: Any, templates_dir: Path | None = None, presets: Path | None = None,
            **kwargs: Any,
        ) -> Any:
            from imr_audio.workspace import Workspace

            kwargs["workspace"] = Workspace.from_environment(
                templates_dir=templates_dir, presets_file=presets
            )
            return func(*args, **kwargs)

        decorated: Any = command
        if presets:
            decorated = click.option(
                "--presets",
                type=click.Path(dir_okay=False, path_type=Path),
                default=None,
                help="Your soundscape presets (YAML) [default: $IMR_AUDIO_PRESETS, else "
                "~/.config/imr-audio/soundscapes.yaml if it exists].",
            )(decorated)
        if templates:
            decorated = click.option(
                "--templates-dir",
                type=click.Path(file_okay=False, path_type=Path),
                default=None,
                help="Your own templates folder, searched before the shipped one.",
            )(decorated)
        return decorated

    return decorate


class SoundscapeName(click.ParamType):
    """A soundscape: a bed's or preset's name, or the path of an audio file (a recording).

    The name is checked when the command runs, against the workspace's soundscapes (the user's
    presets included); here it only completes the built-in names.
    """

    name = "soundscape"

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        """Complete soundscape names."""
        from imr_audio.soundscapes.catalog import SoundscapeCatalog

        return [
            CompletionItem(name)
            for name in SoundscapeCatalog.builtin().names()
            if name.startswith(incomplete)
        ]


def soundscape_option(func: F) -> F:
    """Add ``--soundscape NAME|FILE``."""
    return click.option(
        "--soundscape",
        type=SoundscapeName(),
        metavar="NAME|FILE",
        default=None,
        help="Bed under the voice: a soundscape or preset (imr-audio soundscapes list), or an "
        "audio file to loop [default: the client's preference, else rain].",
    )(func)


def voice_option(func: F) -> F:
    """Add ``--voice NAME``."""
    return click.option(
        "--voice",
        "voice_profile",
        default=None,
        help="Voice profile [default: the client's preference, else calm].",
    )(func)
