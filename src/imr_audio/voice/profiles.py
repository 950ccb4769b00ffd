"""Voice profiles (``voices/*.yaml``): an ordered preference of engine voices plus pacing."""

from __future__ import annotations

import functools
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imr_audio.errors import VoiceProfileError
from imr_audio.timeline import Pacing
from imr_audio.voice.base import VoiceInfo, VoiceSettings
from imr_audio.voice.lexicon import LEXICON_FILE, Lexicon, load_lexicon
from imr_audio.yamlfile import did_you_mean, read_yaml

__all__ = ["VoiceChoice", "VoiceLibrary", "VoiceProfile", "resolve_voice"]


@dataclass(frozen=True)
class VoiceChoice:
    """One engine voice a profile would like to use, on one platform."""

    engine: str
    """Engine name, e.g. ``pyttsx3``."""
    platform: str
    """``linux``, ``darwin``, ``win32`` or ``any``."""
    voice_id: str
    """The engine's id (or name) of the voice."""


@dataclass(frozen=True)
class VoiceProfile:
    """A named way of speaking: which voice, how fast, with which gaps."""

    id: str
    """Profile id, e.g. ``calm``."""
    description: str
    """One line for ``voices list``."""
    choices: tuple[VoiceChoice, ...]
    """Voices in order of preference; the first available one is used."""
    rate_wpm: int
    """Engine speaking rate in words per minute."""
    volume: float
    """Engine volume, 0.0-1.0."""
    pitch: int | None
    """Engine pitch where supported (eSpeak NG 0-99)."""
    pacing: Pacing
    """Automatic gaps between sentences and paragraphs."""
    engine_speed_factor: float = 1.0
    """How much faster than ``rate_wpm`` the engine really speaks (measured: eSpeak NG about
    1.2); used only to estimate timings before synthesis."""

    @property
    def spoken_wpm(self) -> float:
        """The rate the voice really speaks at, in words per minute."""
        return self.rate_wpm * self.engine_speed_factor


class VoiceLibrary:
    """The voice profiles in a folder (``voices/``) and the lexicon beside them."""

    def __init__(self, folder: Path) -> None:
        """The profiles in ``folder`` (``<id>.yaml``) and its ``lexicon.yaml``."""
        self.folder = folder

    def names(self) -> list[str]:
        """Ids of the voice profiles (the lexicon in the same folder is not one)."""
        return sorted(p.stem for p in self.folder.glob("*.yaml") if p.name != LEXICON_FILE)

    def load(self, profile_id: str) -> VoiceProfile:
        """Load a voice profile; an unknown id lists the valid ones."""
        path = self.folder / f"{profile_id}.yaml"
        # only a profile of this folder, by its id: never a path to a file elsewhere
        if profile_id not in self.names() or not path.is_file():
            names = ", ".join(self.names())
            raise VoiceProfileError(f"unknown voice profile '{profile_id}'; choose one of: {names}")
        return _parse_profile(profile_id, path, read_yaml(path, VoiceProfileError))

    @functools.cached_property
    def lexicon(self) -> Lexicon:
        """The shipped lexicon (``lexicon.yaml``); empty when the file is absent."""
        path = self.folder / LEXICON_FILE
        return load_lexicon(path) if path.is_file() else Lexicon()

    def speech_lexicon(self, pronunciations: Mapping[str, str]) -> Lexicon:
        """The shipped lexicon with a client's ``pronunciations`` merged over it (they win)."""
        return self.lexicon.merged(Lexicon.from_mapping(pronunciations))


_PLATFORMS = ("linux", "darwin", "win32", "any")
_FIELDS = ("description", "voices", "rate_wpm", "engine_speed_factor", "volume", "pitch",
           "sentence_gap_s", "paragraph_gap_s")


def _number(raw: Mapping[str, Any], field: str, default: float | None, low: float, high: float,
            whole: bool = False) -> Any:
    """``raw[field]`` as a number from ``low`` to ``high`` (a whole one with ``whole``)."""
    value = raw.get(field, default)
    if value is None and default is None:
        return None
    if (isinstance(value, bool) or not isinstance(value, (int, float))
            or (whole and not isinstance(value, int)) or not low <= value <= high):
        what = "a whole number" if whole else "a number"
        raise ValueError(f"{field}: must be {what} from {low:g} to {high:g}")
    return int(value) if whole else float(value)


def _choices(raw: Any) -> tuple[VoiceChoice, ...]:
    if not isinstance(raw, list) or not raw:
        raise ValueError("voices: must be a list of at least one voice "
                         "({engine: ..., platform: ..., voice: ...})")
    choices = []
    for number, item in enumerate(raw, 1):
        where = f"voices (entry {number})"
        if not isinstance(item, dict):
            raise ValueError(f"{where}: must be a mapping with engine, platform and voice")
        for field in ("engine", "voice"):
            if not isinstance(item.get(field), str) or not item[field].strip():
                raise ValueError(f"{where}: {field}: must be text")
        platform = item.get("platform", "any")
        if platform not in _PLATFORMS:
            raise ValueError(f"{where}: platform: must be one of {', '.join(_PLATFORMS)}")
        choices.append(VoiceChoice(engine=item["engine"], platform=platform,
                                   voice_id=item["voice"]))
    return tuple(choices)


def _parse_profile(profile_id: str, path: Path, raw: Any) -> VoiceProfile:
    """A voice profile from its file's content; every bad field is one error naming it."""
    if not isinstance(raw, dict):
        raise VoiceProfileError(f"{path}: a voice profile must be a mapping of fields")
    try:
        for key in raw:
            if key not in _FIELDS:
                raise ValueError(f"{key}: unknown field{did_you_mean(str(key), _FIELDS)}")
        description = raw.get("description", "")
        if not isinstance(description, str):
            raise ValueError("description: must be text")
        return VoiceProfile(
            id=profile_id,
            description=description,
            choices=_choices(raw.get("voices")),
            rate_wpm=_number(raw, "rate_wpm", 130, 60, 250, whole=True),
            volume=_number(raw, "volume", 1.0, 0.0, 1.0),
            pitch=_number(raw, "pitch", None, 0, 99, whole=True),
            engine_speed_factor=_number(raw, "engine_speed_factor", 1.0, 0.5, 3.0),
            pacing=Pacing(
                sentence_gap_s=_number(raw, "sentence_gap_s", 1.5, 0.0, 10.0),
                paragraph_gap_s=_number(raw, "paragraph_gap_s", 3.0, 0.0, 20.0),
            ),
        )
    except ValueError as exc:
        raise VoiceProfileError(f"{path}: {exc}") from None


def resolve_voice(profile: VoiceProfile, available: dict[str, list[VoiceInfo]]) -> VoiceSettings:
    """Pick the first of ``profile``'s voices that an engine offers on this machine.

    ``available`` maps engine names to the voices each offers here. A voice matches by id, by
    name or by language tag, so ``en-gb`` finds eSpeak NG's ``gmw/en``. An eSpeak NG variant
    after ``+`` (``gmw/en+f3``, a female variant) is kept on the matched voice.
    """
    for choice in profile.choices:
        if choice.platform not in ("any", sys.platform):
            continue
        base, plus, variant = choice.voice_id.partition("+")
        for info in available.get(choice.engine, []):
            wanted = base.lower()
            names = (info.id, info.name, *info.languages)
            if wanted in (name.lower() for name in names):
                return VoiceSettings(
                    engine=choice.engine,
                    voice_id=info.id + plus + variant,
                    rate_wpm=profile.rate_wpm,
                    volume=profile.volume,
                    pitch=profile.pitch,
                )
    raise VoiceProfileError(
        f"voice profile '{profile.id}': none of its voices is available on this machine"
    )
