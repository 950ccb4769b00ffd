"""The export options shared by commands that write a track (``--format``, ``--bitrate`` ...)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from imr_audio.export.settings import FORMATS, SAMPLE_RATES_HZ, ExportSettings

__all__ = ["export_options"]

F = TypeVar("F", bound=Callable[..., Any])

_OPTIONS = (
    click.option("--format", "fmt", type=click.Choice(FORMATS), default="mp3",
                 show_default=True, help="Audio format of the track."),
    click.option("--bitrate", "bitrate_kbps", type=click.IntRange(16, 320), default=None,
                 metavar="KBPS",
                 help="Bitrate of a lossy format in kbit/s [default: MP3 160, M4A and OGG 128, "
                 "Opus 96; less for --mono]."),
    click.option("--vbr", is_flag=True, help="MP3 with variable bitrate (averaging about "
                 "--bitrate) instead of constant."),
    click.option("--sample-rate", "sample_rate_hz",
                 type=click.Choice([str(rate) for rate in SAMPLE_RATES_HZ]), default=None,
                 help="Output sample rate in Hz [default: 44100; Opus always 48000]."),
    click.option("--mono/--stereo", default=False, show_default=True,
                 help="One channel (the mix averaged) or two."),
    click.option("--album", default="imr-audio", show_default=True, help="Album tag."),
    click.option("--artist", default="imr-audio", show_default=True,
                 help="Artist tag (e.g. your practice's name)."),
    click.option("--cover", type=click.Path(dir_okay=False, path_type=Path), default=None,
                 metavar="IMAGE", help="PNG or JPEG image embedded as the cover (not in WAV)."),
)


def export_options(func: F) -> F:
    """Add the export options; the command receives them as one ``export: ExportSettings``."""

    @functools.wraps(func)
    def command(
        *args: Any,
        fmt: str,
        bitrate_kbps: int | None,
        vbr: bool,
        sample_rate_hz: str | None,
        mono: bool,
        album: str,
        artist: str,
        cover: Path | None,
        **kwargs: Any,
    ) -> Any:
        kwargs["export"] = ExportSettings(
            format=fmt,
            bitrate_kbps=bitrate_kbps,
            vbr=vbr,
            sample_rate_hz=int(sample_rate_hz) if sample_rate_hz else None,
            channels=1 if mono else 2,
            album=album,
            artist=artist,
            cover=cover,
        )
        return func(*args, **kwargs)

    decorated: Any = command
    for option in reversed(_OPTIONS):
        decorated = option(decorated)
    return decorated
