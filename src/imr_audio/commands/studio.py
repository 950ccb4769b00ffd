"""The ``studio`` command: the therapist's web page on this computer."""

from __future__ import annotations

import contextlib
from pathlib import Path

import click

__all__ = ["commands", "studio"]


@click.command()
@click.option("--folder", type=click.Path(file_okay=False, path_type=Path), default=Path(),
              show_default="the current folder",
              help="The studio's folder: clients/, tracks/, home-packs/ (and your templates/).")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port to listen on (0: a free one).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but this computer (127.0.0.1) lets other "
              "machines try to reach the studio: only on a network you trust.")
@click.option("--jobs", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Renders run at once (each in a process of its own); more wait their turn.")
@click.option("--no-browser", is_flag=True, help="Do not open the page in the browser.")
def studio(folder: Path, port: int, host: str, jobs: int, no_browser: bool) -> None:
    """Serve the studio: clients, previews, renders and home packs in the browser.

    The first line printed is the page's address with a secret made fresh at each launch;
    only a browser that opened it gets in. Ctrl-C stops the studio.
    """
    from imr_audio.studio.server import LOOPBACK, serve

    if host not in (LOOPBACK, "localhost"):
        click.echo(f"Warning: the studio listens on {host}, not only on this computer.",
                   err=True)
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn stops first, then raises it again
        serve(folder, port, host, open_browser=not no_browser, echo=click.echo, max_jobs=jobs)
    click.echo("imr-audio: studio stopped", err=True)


commands = [studio]
