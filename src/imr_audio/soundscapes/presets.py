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

It is read from ``--presets FILE``, else from ``$IMR_AUDIO_PRESETS``, else from
``~/.config/imr-audio/soundscapes.yaml`` if that file exists (see
:class:`~imr_audio.workspace.WorkspaceConfig`), into the workspace's soundscape catalog.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from imr_audio.errors import ImrAudioError, SoundscapePresetError
from imr_audio.soundscapes.audio_file import AudioFileSoundscape, is_audio_path
from imr_audio.soundscapes.base import Soundscape, SoundscapeInfo, frame_count, render_blocks
from imr_audio.soundscapes.beds import Assembly, DesignedBed
from imr_audio.yamlfile import read_yaml

__all__ = ["GAIN_RANGE_DB", "PresetLayer", "PresetSoundscape", "builtin_presets", "load_presets"]

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

    def __init__(
        self,
        name: str,
        description: str,
        layers: tuple[PresetLayer, ...],
        lookup: Callable[[str], Soundscape],
    ) -> None:
        """Define the preset ``name``; ``lookup`` finds each layer's soundscape by name.

        Raises
        ------
        UnknownSoundscapeError
            If a layer's name is unknown.

        """
        self.layers = layers
        self._sources = tuple(lookup(layer.soundscape) for layer in layers)
        themes: dict[str, None] = {}
        for source in self._sources:
            themes.update(dict.fromkeys(source.info.themes))
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
        if all(isinstance(source, DesignedBed) for source in self._sources):
            return self._assembled(duration_s, sample_rate_hz, seed, block_frames)
        streams = [
            source.blocks(duration_s, sample_rate_hz, s, block_frames)
            for source, s in zip(self._sources, self.layer_seeds(seed), strict=True)
        ]
        return _mix(streams, self.gains())


    def _assembled(
        self, duration_s: float, sample_rate_hz: int, seed: int, block_frames: int
    ) -> Iterator[NDArray[np.float32]]:
        """Procedural layers played as one: their noise in one spectrum, events in one product."""
        total = frame_count(duration_s, sample_rate_hz)
        if block_frames < 1:
            raise ValueError(f"block_frames must be positive, got {block_frames}")
        parts = []
        for source, layer_seed, gain in zip(
            self._sources, self.layer_seeds(seed), self.gains(), strict=True
        ):
            assert isinstance(source, DesignedBed)
            rng = np.random.Generator(np.random.PCG64(layer_seed))
            bed, level = source.parts(sample_rate_hz, rng)
            parts.append((bed, gain * level))
        return render_blocks(Assembly(parts), total, block_frames)


def _mix(
    streams: list[Iterator[NDArray[np.float32]]], gains: list[float]
) -> Iterator[NDArray[np.float32]]:
    for blocks in zip(*streams, strict=True):
        out = blocks[0] * np.float32(gains[0])
        for block, gain in zip(blocks[1:], gains[1:], strict=True):
            out += block * np.float32(gain)
        yield out


def load_presets(path: Path, beds: Mapping[str, Soundscape]) -> list[PresetSoundscape]:
    """Read and check a presets file; each layer is a bed of ``beds`` or a decoded audio file.

    ``beds`` are the built-in soundscapes by name (a built-in preset is refused as a layer).

    Raises
    ------
    SoundscapePresetError
        Listing every problem, one a line, each as ``FILE: presets.NAME.FIELD: problem``.

    """
    path = Path(path)
    data = read_yaml(path, SoundscapePresetError)
    problems: list[str] = []
    presets: list[PresetSoundscape] = []
    entries = data.get("presets") if isinstance(data, dict) else None
    if not isinstance(data, dict) or set(data) != {"presets"} or not isinstance(entries, dict):
        raise SoundscapePresetError(f"{path}: presets: the file must hold one mapping, 'presets'")
    for name, entry in entries.items():
        preset = _check_preset(path, str(name), entry, problems, beds)
        if preset is not None:
            presets.append(preset)
    if problems:
        raise SoundscapePresetError("\n".join(problems))
    return presets


def _check_preset(
    path: Path, name: str, entry: Any, problems: list[str], beds: Mapping[str, Soundscape]
) -> PresetSoundscape | None:
    field = f"presets.{name}"
    found = len(problems)
    if not _NAME.match(name):
        problems.append(f"{path}: {field}: a name is lowercase letters, digits and hyphens")
    elif name in beds:
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
    sources: dict[str, Soundscape] = {}
    layers = [
        _check_layer(path, f"{field}.layers[{i}]", raw, problems, beds, sources)
        for i, raw in enumerate(raw_layers)
    ]
    if len(problems) > found:
        return None
    checked = tuple(layer for layer in layers if layer is not None)
    summary = " + ".join(
        Path(layer.soundscape).name if is_audio_path(layer.soundscape) else layer.soundscape
        for layer in checked
    )
    return PresetSoundscape(
        name, description.strip() or f"Your preset: {summary}.", checked, sources.__getitem__
    )


def _check_layer(
    path: Path,
    field: str,
    raw: Any,
    problems: list[str],
    beds: Mapping[str, Soundscape],
    sources: dict[str, Soundscape],
) -> PresetLayer | None:
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
    elif name not in beds:
        problems.append(
            f"{path}: {field}.soundscape: unknown soundscape {name!r}; choose one of: "
            f"{', '.join(sorted(beds))}, or give an audio file"
        )
        return None
    try:
        source = beds[name] if name in beds else AudioFileSoundscape(name)
    except ImrAudioError as exc:  # an audio file that cannot be decoded
        problems.append(f"{path}: {field}.soundscape: {exc}")
        return None
    sources[name] = source
    if source.info.layers:
        problems.append(f"{path}: {field}.soundscape: {name!r} is a preset; list its layers")
        return None
    return PresetLayer(name, float(gain))


def builtin_presets(beds: Mapping[str, Soundscape]) -> tuple[PresetSoundscape, ...]:
    """The presets that come with imr-audio, made of the built-in ``beds`` (by name)."""
    return (
        PresetSoundscape(
            "forest-stream",
            "A wood with a small stream running through it.",
            (PresetLayer("forest", 0.0), PresetLayer("stream", -3.0)),
            beds.__getitem__,
        ),
        PresetSoundscape(
            "rain-on-fire",
            "Rain outside while a gentle fire crackles in the hearth.",
            (PresetLayer("fire", 0.0), PresetLayer("rain-light", -3.0)),
            beds.__getitem__,
        ),
    )
