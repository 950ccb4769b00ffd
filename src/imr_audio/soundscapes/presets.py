"""Presets: beds layered at chosen gains, built in or from the user's own YAML file.

A preset works wherever a soundscape name does. Its layers are mixed at their gains (relative,
in dB) and the sum is scaled by ``1 / sqrt(sum of 10^(gain/10))``, so that a preset of
independent beds at about -30 LUFS is itself at about -30 LUFS. Each layer gets its own seed,
derived from the preset's, so two layers of the same bed do not play in step. A preset's themes
are the union of its layers' themes (a recording adds none: its content is not known).

A presets file looks like this (layers name a built-in bed or an audio file, relative to the
presets file)::

    presets:
      garden-rain:
        description: Light rain in a garden, a few birds.
        layers:
          - soundscape: rain-light
          - soundscape: forest-light
            gain_db: -6
          - soundscape: recordings/garden.flac
            gain_db: -10

It is read from ``--presets FILE``, else from :func:`default_presets_path` if that file exists.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from numpy.typing import NDArray

from imr_audio.errors import ImrAudioError, SoundscapePresetError
from imr_audio.soundscapes import fire, forest, rain, stream  # noqa: F401  (registers layers)
from imr_audio.soundscapes.base import (
    Soundscape,
    SoundscapeInfo,
    builtin_names,
    get_soundscape,
    register_soundscape,
    set_user_soundscapes,
)
from imr_audio.soundscapes.recording import is_audio_path

__all__ = [
    "PRESETS_ENV",
    "PresetLayer",
    "PresetSoundscape",
    "default_presets_path",
    "load_presets",
    "use_presets",
]

PRESETS_ENV = "IMR_AUDIO_PRESETS"
"""Environment variable naming the user's presets file."""

GAIN_RANGE_DB = (-40.0, 20.0)
"""Allowed gain of a layer, in dB."""

_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_PRESET_KEYS = {"description", "layers"}
_LAYER_KEYS = {"soundscape", "gain_db"}


@dataclass(frozen=True)
class PresetLayer:
    """One layer of a preset."""

    soundscape: str
    """A built-in bed's name, or the path of an audio file."""
    gain_db: float = 0.0
    """Gain of the layer relative to the others, in dB (-40 to +20)."""


class PresetSoundscape:
    """Several soundscapes mixed at fixed gains, usable wherever one soundscape is."""

    def __init__(self, name: str, description: str, layers: tuple[PresetLayer, ...]) -> None:
        """Define the preset ``name``; every layer must already be a known soundscape.

        Raises
        ------
        UnknownSoundscapeError
            If a layer's name is unknown.

        """
        self.layers = layers
        themes: dict[str, None] = {}
        for layer in layers:
            themes.update(dict.fromkeys(get_soundscape(layer.soundscape).info.themes))
        self.info = SoundscapeInfo(
            name=name,
            description=description,
            themes=tuple(themes),
            layers=tuple(layer.soundscape for layer in layers),
        )

    def gains(self) -> list[float]:
        """Return the linear factor applied to each layer (its gain times the normaliser)."""
        powers = [10.0 ** (layer.gain_db / 10.0) for layer in self.layers]
        norm = 1.0 / math.sqrt(sum(powers))
        return [math.sqrt(p) * norm for p in powers]

    def layer_seeds(self, seed: int) -> list[int]:
        """Return the seed each layer is rendered with, derived from the preset's ``seed``."""
        state = np.random.SeedSequence([seed, 0x1A7E5]).generate_state(len(self.layers))
        return [int(s) for s in state]

    def blocks(
        self, duration_s: float, sample_rate_hz: int, seed: int, block_frames: int = 65536
    ) -> Iterator[NDArray[np.float32]]:
        """Yield the mix of the layers as float32 ``(n, 2)`` blocks.

        Raises
        ------
        ValueError
            If an argument is out of range (raised by the call, before any block).

        """
        if seed < 0:
            raise ValueError(f"seed must be non-negative, got {seed}")
        streams = [
            get_soundscape(layer.soundscape).blocks(duration_s, sample_rate_hz, s, block_frames)
            for layer, s in zip(self.layers, self.layer_seeds(seed), strict=True)
        ]
        return _mix(streams, self.gains())


def _mix(
    streams: list[Iterator[NDArray[np.float32]]], gains: list[float]
) -> Iterator[NDArray[np.float32]]:
    for blocks in zip(*streams, strict=True):
        out = blocks[0] * np.float32(gains[0])
        for block, gain in zip(blocks[1:], gains[1:], strict=True):
            out += block * np.float32(gain)
        yield out


def default_presets_path() -> Path:
    """Return where the user's presets file is looked for when none is given.

    ``$IMR_AUDIO_PRESETS`` if set, else ``$XDG_CONFIG_HOME/imr-audio/soundscapes.yaml``
    (``~/.config/imr-audio/soundscapes.yaml`` when ``XDG_CONFIG_HOME`` is not set).
    """
    named = os.environ.get(PRESETS_ENV)
    if named:
        return Path(named).expanduser()
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "imr-audio" / "soundscapes.yaml"


def load_presets(path: Path) -> list[PresetSoundscape]:
    """Read and check a presets file; every layer is looked up (and a recording decoded).

    Raises
    ------
    SoundscapePresetError
        Listing every problem, one a line, each as ``FILE: presets.NAME.FIELD: problem``.

    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        reason = "file not found" if isinstance(exc, FileNotFoundError) else "cannot be read"
        raise SoundscapePresetError(f"{path}: {reason}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise SoundscapePresetError(f"{path}: not valid YAML{where}") from None
    problems: list[str] = []
    presets: list[PresetSoundscape] = []
    entries = data.get("presets") if isinstance(data, dict) else None
    if not isinstance(data, dict) or set(data) != {"presets"} or not isinstance(entries, dict):
        raise SoundscapePresetError(f"{path}: presets: the file must hold one mapping, 'presets'")
    for name, entry in entries.items():
        preset = _check_preset(path, str(name), entry, problems)
        if preset is not None:
            presets.append(preset)
    if problems:
        raise SoundscapePresetError("\n".join(problems))
    return presets


def _check_preset(
    path: Path, name: str, entry: Any, problems: list[str]
) -> PresetSoundscape | None:
    field = f"presets.{name}"
    found = len(problems)
    if not _NAME.match(name):
        problems.append(f"{path}: {field}: a name is lowercase letters, digits and hyphens")
    elif name in builtin_names():
        problems.append(f"{path}: {field}: the name of a built-in soundscape; choose another")
    if not isinstance(entry, dict):
        problems.append(f"{path}: {field}: must be a mapping with 'layers'")
        return None
    for key in sorted(set(entry) - _PRESET_KEYS):
        problems.append(f"{path}: {field}.{key}: unknown field (use description, layers)")
    description = entry.get("description", "")
    if not isinstance(description, str) or "\n" in description.strip():
        problems.append(f"{path}: {field}.description: must be one line of text")
        description = ""
    raw_layers = entry.get("layers")
    if not isinstance(raw_layers, list) or not raw_layers:
        problems.append(f"{path}: {field}.layers: must be a list of at least one layer")
        return None
    layers = [
        _check_layer(path, f"{field}.layers[{i}]", raw, problems)
        for i, raw in enumerate(raw_layers)
    ]
    if len(problems) > found:
        return None
    checked = tuple(layer for layer in layers if layer is not None)
    summary = " + ".join(
        Path(layer.soundscape).name if is_audio_path(layer.soundscape) else layer.soundscape
        for layer in checked
    )
    return PresetSoundscape(name, description.strip() or f"Your preset: {summary}.", checked)


def _check_layer(path: Path, field: str, raw: Any, problems: list[str]) -> PresetLayer | None:
    if not isinstance(raw, dict):
        problems.append(f"{path}: {field}: must be a mapping with 'soundscape' (and 'gain_db')")
        return None
    for key in sorted(set(raw) - _LAYER_KEYS):
        problems.append(f"{path}: {field}.{key}: unknown field (use soundscape, gain_db)")
    gain = raw.get("gain_db", 0.0)
    low, high = GAIN_RANGE_DB
    if isinstance(gain, bool) or not isinstance(gain, (int, float)) or not low <= gain <= high:
        problems.append(f"{path}: {field}.gain_db: must be a number from {low:g} to {high:g}")
        gain = 0.0
    name = raw.get("soundscape")
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{path}: {field}.soundscape: must name a soundscape or an audio file")
        return None
    if is_audio_path(name):
        name = str((path.parent / Path(name).expanduser()).resolve())
    elif name not in builtin_names():
        problems.append(
            f"{path}: {field}.soundscape: unknown soundscape {name!r}; choose one of: "
            f"{', '.join(builtin_names())}, or give an audio file"
        )
        return None
    try:
        found: Soundscape = get_soundscape(name)
    except ImrAudioError as exc:  # a recording that cannot be decoded
        problems.append(f"{path}: {field}.soundscape: {exc}")
        return None
    if found.info.layers:
        problems.append(f"{path}: {field}.soundscape: {name!r} is a preset; list its layers")
        return None
    return PresetLayer(name, float(gain))


def use_presets(path: Path | None = None) -> list[SoundscapeInfo]:
    """Make the presets of ``path`` (else of the default file, if it exists) the user's ones.

    Replaces any user presets loaded before; with no file, there are none. Returns their infos.

    Raises
    ------
    SoundscapePresetError
        If the file (given, or the default one when it exists) is invalid; nothing is replaced.

    """
    if path is None:
        path = default_presets_path()
        if not path.is_file():
            set_user_soundscapes([])
            return []
    presets = load_presets(path)
    set_user_soundscapes(list(presets))
    return [p.info for p in presets]


_BUILTIN = (
    PresetSoundscape(
        "forest-stream",
        "A wood with a small stream running through it.",
        (PresetLayer("forest", 0.0), PresetLayer("stream", -3.0)),
    ),
    PresetSoundscape(
        "rain-on-fire",
        "Rain outside while a gentle fire crackles in the hearth.",
        (PresetLayer("fire", 0.0), PresetLayer("rain-light", -3.0)),
    ),
)
for _preset in _BUILTIN:
    register_soundscape(_preset)
