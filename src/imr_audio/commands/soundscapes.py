"""The ``soundscapes`` and ``soundscape`` commands: list the beds, render one to hear it."""

from __future__ import annotations

from pathlib import Path

import click

from imr_audio.commands.options import SoundscapeName, seed_option, workspace_options
from imr_audio.workspace import Workspace

__all__ = ["commands", "soundscape", "soundscapes"]


@click.group()
def soundscapes() -> None:
    """Discover the soundscapes: the beds, the presets and your own presets."""


@soundscapes.command("list")
@workspace_options(templates=False)
def soundscapes_list(workspace: Workspace) -> None:
    """List every soundscape with its kind, description and themes; presets name their layers.

    The themes are what the lint matches against a client's avoid-list.
    """
    from imr_audio.soundscapes.audio_file import AUDIO_SUFFIXES

    for info, own in workspace.soundscapes.infos():
        kind = ("your preset" if own else "preset") if info.layers else "bed"
        themes = ", ".join(info.themes) or "none"
        click.echo(f"{info.name:<15} {kind:<11} {info.description}  [themes: {themes}]")
        if info.layers:
            click.echo(f"{'':<27} layers: {' + '.join(_short(n) for n in info.layers)}")
    endings = ", ".join(sorted(s.lstrip(".") for s in AUDIO_SUFFIXES))
    click.echo(
        f"Any audio file ({endings}) also works: your own recording, looped. Its themes are "
        "not known, so the lint cannot check it against an avoid-list.",
        err=True,
    )


def _short(name: str) -> str:
    return Path(name).name if Path(name).suffix else name


@click.group()
def soundscape() -> None:
    """Render a soundscape to hear (and see) it on its own."""


@soundscape.command("render")
@click.argument("name", type=SoundscapeName(), metavar="NAME|FILE")
@click.option(
    "--duration",
    "duration_s",
    type=click.FloatRange(0.1, 24 * 3600),
    default=60.0,
    show_default=True,
    help="Length in seconds.",
)
@seed_option("Seed")
@click.option(
    "--sample-rate",
    "sample_rate_hz",
    type=click.IntRange(8000, 192000),
    default=44100,
    show_default=True,
    help="Sample rate in Hz.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Audio file to write (.wav, .flac, .ogg or .mp3).",
)
@click.option(
    "--spectrogram",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also draw a spectrogram (log frequency) as a PNG here.",
)
@workspace_options(templates=False)
def soundscape_render(
    workspace: Workspace,
    name: str,
    duration_s: float,
    seed: int,
    sample_rate_hz: int,
    output: Path,
    spectrogram: Path | None,
) -> None:
    """Render the soundscape NAME (or loop the audio FILE) on its own into an audio file."""
    from imr_audio.soundscapes.writer import write_soundscape

    result = write_soundscape(workspace.soundscapes.get(name), duration_s, output,
                              sample_rate_hz, seed, spectrogram)
    click.echo(f"{result.path}  ({result.duration_s:g} s, {result.sample_rate_hz} Hz)")
    if result.spectrogram is not None:
        click.echo(str(result.spectrogram))


commands = [soundscapes, soundscape]
