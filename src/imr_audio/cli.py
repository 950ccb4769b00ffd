"""The ``imr-audio`` command line: each command parses, calls one library function, prints."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import click

from imr_audio import __version__
from imr_audio.demo import DEMO_DIR, render_demo
from imr_audio.errors import ImrAudioError
from imr_audio.export import FORMATS, ExportSettings
from imr_audio.master import MasterSettings
from imr_audio.progress import Progress
from imr_audio.render import RenderResult, RenderSettings, render_track
from imr_audio.soundscapes import soundscape_names

__all__ = ["cli", "main"]


class _Group(click.Group):
    """Turns the library's own errors into one-line messages and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ImrAudioError as exc:
            raise click.ClickException(str(exc)) from None


class _ProgressLine:
    """Draws library progress as one updating line on a terminal; silent otherwise."""

    def __init__(self) -> None:
        self._tty = sys.stderr.isatty()

    def __call__(self, progress: Progress) -> None:
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
        if self._tty:
            click.echo("\r" + " " * 60 + "\r", nl=False, err=True)


def _report(result: RenderResult) -> None:
    click.echo(
        f"{result.path}  ({result.duration_s / 60:.1f} min, "
        f"{result.loudness.integrated_lufs:.1f} LUFS, {result.loudness.true_peak_dbtp:.1f} dBTP)"
    )


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="imr-audio")
@click.option("-v", "--verbose", count=True, help="Log progress (-v) or details (-vv) to stderr.")
def cli(verbose: int) -> None:
    """Turn guided-imagery scripts into personalised, mastered audio tracks, offline."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="imr-audio: %(levelname)s: %(message)s")


@cli.command()
def demo() -> None:
    """Render the fictional example client's safe-place track into ./imr-demo/."""
    bar = _ProgressLine()
    try:
        result = render_demo(Path.cwd() / DEMO_DIR, progress=bar)
    finally:
        bar.finish()
    _report(result)


@cli.command()
@click.argument("template")
@click.option(
    "--client",
    "client_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Client profile (YAML).",
)
@click.option(
    "--soundscape",
    type=click.Choice(soundscape_names()),
    default=None,
    help="Nature bed under the voice [default: the client's preference, else rain].",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="mp3",
    show_default=True,
    help="Audio format of the track.",
)
@click.option(
    "--target-lufs",
    type=click.FloatRange(-30, -10),
    default=-18.0,
    show_default=True,
    help="Integrated loudness of the track.",
)
@click.option(
    "--voice",
    "voice_profile",
    default=None,
    help="Voice profile [default: the client's preference, else calm].",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the bed.")
@click.option(
    "--templates-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Your own templates folder, searched before the shipped templates.",
)
@click.option(
    "-o",
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    show_default=True,
    help="Folder for the track (created 0700).",
)
def render(
    template: str,
    client_file: Path,
    soundscape: str | None,
    fmt: str,
    target_lufs: float,
    voice_profile: str | None,
    seed: int,
    templates_dir: Path | None,
    output_dir: Path,
) -> None:
    """Render TEMPLATE for one client into a mastered track named by the client's id."""
    settings = RenderSettings(
        soundscape=soundscape,
        voice_profile=voice_profile,
        seed=seed,
        templates_dir=templates_dir,
        master=MasterSettings(target_lufs=target_lufs),
        export=ExportSettings(format=fmt),
    )
    bar = _ProgressLine()
    try:
        result = render_track(template, client_file, output_dir, settings, progress=bar)
    finally:
        bar.finish()
    _report(result)


def main() -> None:
    """Entry point of the ``imr-audio`` console script."""
    cli(prog_name="imr-audio")
