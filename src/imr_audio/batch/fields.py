"""The fields of a batch manifest: which exist where, and how each value is checked.

A value is cleaned into what the render needs (a length in seconds, a path made absolute
against the manifest's folder ...) or refused with a :class:`ValueError` whose message names
the problem; the caller adds the place (file, job, field).
"""

from __future__ import annotations

import math
import os
from pathlib import Path, PurePosixPath
from typing import Any

from imr_audio.errors import TrackLengthError
from imr_audio.export import FORMATS, SAMPLE_RATES_HZ
from imr_audio.length import parse_length
from imr_audio.soundscapes.audio_file import is_audio_path

__all__ = [
    "JOB_FIELDS",
    "LIST_FIELDS",
    "ROOT_FIELDS",
    "SETTING_FIELDS",
    "clean_value",
    "length_name",
    "safe_name",
    "variant_name",
]

ROOT_FIELDS = ("output", "presets")
"""Fields only ``defaults`` may have: the output root and the soundscape presets file."""
JOB_FIELDS = ("client", "templates", "folder")
"""Fields only a job may have: its client file, templates and optional sub-folder."""
SETTING_FIELDS = (
    "voice",
    "soundscape",
    "soundscapes",
    "length",
    "lengths",
    "format",
    "bitrate",
    "vbr",
    "sample_rate",
    "mono",
    "album",
    "artist",
    "cover",
    "target_lufs",
    "seed",
    "templates_dir",
    "pack",
    "pack_zip",
    "pack_note",
)
"""Fields of ``defaults`` that a job may override."""
LIST_FIELDS = ("templates", "lengths", "soundscapes")
"""Fields holding several values (a YAML list; in CSV separated by ``;`` or ``,``)."""

_TRUE = ("true", "yes", "1")
_FALSE = ("false", "no", "0", "")
_PATHS = ("output", "presets", "client", "cover", "templates_dir", "pack_note")


def safe_name(text: str) -> bool:
    """Whether ``text`` can be one part of a file name.

    Letters, digits, ``.``, ``_`` and ``-``; not starting with a dot or a dash; never ``..``.
    """
    return (
        bool(text)
        and text[0].isascii()
        and text[0].isalnum()
        and ".." not in text
        and all(c.isascii() and (c.isalnum() or c in "._-") for c in text)
    )


def length_name(seconds: float) -> str:
    """A length as a variant folder name: ``10m``, ``1m30s``, ``1h``, ``12.5s``."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    fraction = seconds - whole
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else ""]
    if secs or fraction:
        parts.append(f"{secs + fraction:g}s")
    return "".join(parts)


def variant_name(length: str, soundscape: str | None) -> str:
    """The folder of one variant: ``10m``, ``ocean`` or ``10m_ocean``; empty for none."""
    return "_".join(part for part in (length, soundscape or "") if part)


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be text")
    return value.strip()


def _number(value: Any, kind: type[int] | type[float], low: float, high: float) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a number")
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ValueError("must be a number") from None
    if not low <= number <= high or (isinstance(number, float) and math.isnan(number)):
        raise ValueError(f"must be from {low:g} to {high:g}")
    return number


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError("must be true or false")


def _list(value: Any) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise ValueError("must be one value or a list of values")
    cleaned = [_text(item) for item in items]
    if len(set(cleaned)) != len(cleaned):
        raise ValueError("lists a value twice")
    return cleaned


def _length(value: Any) -> float:
    try:
        return parse_length(str(value))
    except TrackLengthError as exc:
        raise ValueError(str(exc)) from None


def _folder(value: Any) -> Path:
    """A sub-folder of the output root: relative, no ``..``, only plain names."""
    text = _text(value)
    path = PurePosixPath(text.replace("\\", "/"))
    if path.is_absolute() or text.startswith(("/", "\\")) or ":" in text:
        raise ValueError("must be a folder inside the output root, not an absolute path")
    if not all(safe_name(part) for part in path.parts):
        raise ValueError("each part must be a plain name (letters, digits, '.', '_', '-'; "
                         "no '..')")
    return Path(*path.parts)


def _soundscape(value: Any, base: Path) -> str:
    name = _text(value)
    if is_audio_path(name):  # a soundscape's or preset's name has no file ending
        return os.path.abspath(base / Path(name).expanduser())  # noqa: PTH100 - no link following
    return name


def _soundscapes(value: Any) -> list[str]:
    names = _list(value)
    for name in names:
        if not safe_name(name) or is_audio_path(name):
            raise ValueError(f"'{name}': variants are soundscape or preset names; an audio file "
                             "can only be a job's single 'soundscape'")
    return names


def _lengths(value: Any) -> list[tuple[str, float]]:
    seconds = [_length(item) for item in _list([str(v) for v in value] if isinstance(value, list)
                                                else str(value))]
    named = [(length_name(s), s) for s in seconds]
    if len({name for name, _ in named}) != len(named):
        raise ValueError("lists the same length twice")
    return named


def clean_value(name: str, value: Any, base: Path) -> Any:
    """The cleaned value of field ``name``; relative paths are taken from ``base``.

    Raises :class:`ValueError` with the problem (not the place) when the value is invalid.
    """
    if name in _PATHS:
        # lexically normalised: resolve() would follow links, which the checks must see
        return Path(os.path.abspath(base / Path(_text(value)).expanduser()))  # noqa: PTH100
    cleaners: dict[str, Any] = {
        "voice": _text,
        "album": _text,
        "artist": _text,
        "soundscape": lambda v: _soundscape(v, base),
        "soundscapes": _soundscapes,
        "length": _length,
        "lengths": _lengths,
        "format": lambda v: _choice(v, FORMATS),
        "bitrate": lambda v: _number(v, int, 16, 320),
        "vbr": _flag,
        "mono": _flag,
        "pack": _flag,
        "pack_zip": _flag,
        "sample_rate": lambda v: int(_choice(str(v), tuple(str(r) for r in SAMPLE_RATES_HZ))),
        "target_lufs": lambda v: _number(v, float, -30, -10),
        "seed": lambda v: _number(v, int, 0, 2**32 - 1),
        "templates": _list,
        "folder": _folder,
    }
    return cleaners[name](value)


def _choice(value: Any, choices: tuple[str, ...]) -> str:
    text = _text(value).lower()
    if text not in choices:
        raise ValueError(f"'{text}' is not one of: {', '.join(choices)}")
    return text
