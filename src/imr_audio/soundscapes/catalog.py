"""The soundscapes a workspace offers, by name: built-in beds and presets, and the user's own.

A :class:`SoundscapeCatalog` is made once per :class:`~imr_audio.workspace.Workspace` from the
built-in beds (each bed module's ``BEDS``), the built-in presets and the presets of the user's
presets file. A name that is the path of an audio file gives the user's own recording, looped
(:class:`~imr_audio.soundscapes.audio_file.AudioFileSoundscape`); the catalog decodes each file
once.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from imr_audio.errors import UnknownSoundscapeError
from imr_audio.soundscapes import fire, forest, night, noise, ocean, rain, stream, wind
from imr_audio.soundscapes.audio_file import AudioFileSoundscape, file_identity, is_audio_path
from imr_audio.soundscapes.base import Soundscape, SoundscapeInfo
from imr_audio.soundscapes.presets import builtin_presets, load_presets

__all__ = ["SoundscapeCatalog", "builtin_beds"]

_BED_MODULES = (rain, ocean, stream, forest, wind, night, fire, noise)


def builtin_beds() -> tuple[Soundscape, ...]:
    """The procedural beds that come with imr-audio (every intensity)."""
    return tuple(bed for module in _BED_MODULES for bed in module.BEDS)


def _by_name(soundscapes: Sequence[Soundscape]) -> dict[str, Soundscape]:
    names = [s.info.name for s in soundscapes]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"soundscape names given twice: {', '.join(twice)}")
    return {s.info.name: s for s in soundscapes}


class SoundscapeCatalog:
    """Soundscapes by name; see the module's docstring."""

    def __init__(self, builtin: Sequence[Soundscape], user: Sequence[Soundscape] = ()) -> None:
        """A catalog of the ``builtin`` soundscapes and the ``user``'s (presets from a file).

        Raises ValueError when a name is given twice or a user's name is a built-in one.
        """
        self._builtin = _by_name(builtin)
        self._user = _by_name(user)
        clash = sorted(set(self._user) & set(self._builtin))
        if clash:
            raise ValueError(f"soundscape names already taken: {', '.join(clash)}")
        self._files: dict[tuple[str, str, int, int], AudioFileSoundscape] = {}

    @classmethod
    def builtin(cls, presets_file: Path | None = None) -> SoundscapeCatalog:
        """The built-in beds and presets, and the presets of ``presets_file`` if given.

        Raises :class:`~imr_audio.errors.SoundscapePresetError` naming every problem of the file.
        """
        beds = {bed.info.name: bed for bed in builtin_beds()}
        shipped = {**beds, **{p.info.name: p for p in builtin_presets(beds)}}
        user = load_presets(presets_file, shipped) if presets_file is not None else []
        return cls(list(shipped.values()), user)

    def names(self) -> list[str]:
        """Every soundscape's name, built-in and the user's presets, sorted."""
        return sorted({*self._builtin, *self._user})

    def builtin_names(self) -> list[str]:
        """The built-in soundscapes' names (beds and presets), sorted."""
        return sorted(self._builtin)

    def infos(self) -> list[tuple[SoundscapeInfo, bool]]:
        """Every soundscape's info, sorted by name, each with whether it is the user's own."""
        return [
            ((self._user.get(n) or self._builtin[n]).info, n in self._user) for n in self.names()
        ]

    def get(self, name: str) -> Soundscape:
        """The soundscape called ``name``, or a looped audio file if ``name`` is one's path.

        An audio file is decoded here (once per file and version of it), so a file that cannot
        be decoded fails before any rendering.

        Raises
        ------
        UnknownSoundscapeError
            If no soundscape has that name and it is no audio file; the message lists the names.
        AudioDecodeError
            If ``name`` is an audio file that cannot be decoded or holds no audio.

        """
        found = self._builtin.get(name) or self._user.get(name)
        if found is not None:
            return found
        if is_audio_path(name):
            key = (name, *file_identity(Path(name).expanduser().resolve()))
            if key not in self._files:
                self._files[key] = AudioFileSoundscape(name)
            return self._files[key]
        choices = ", ".join(self.names())
        raise UnknownSoundscapeError(
            f"unknown soundscape {name!r}; choose one of: {choices}, or give an audio file"
        )

    def render(
        self, name: str, duration_s: float, sample_rate_hz: int = 44100, seed: int = 0
    ) -> NDArray[np.float32]:
        """Render a whole soundscape as one float32 ``(frames, 2)`` array.

        Raises as :meth:`get` does, and ValueError when an argument is out of range.
        """
        parts = list(self.get(name).blocks(duration_s, sample_rate_hz, seed))
        if not parts:
            return np.zeros((0, 2), dtype=np.float32)
        return np.concatenate(parts, axis=0)
