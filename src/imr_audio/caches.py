"""What a workspace's caches hold, and clearing them (the ``cache`` commands)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from imr_audio.soundscapes.bedcache import BedCacheInfo
from imr_audio.voice.cache import CacheInfo
from imr_audio.voice.piper_engine import (
    SplitVoicesInfo,
    clear_split_voices,
    split_voices_folder,
    split_voices_info,
)
from imr_audio.workspace import Workspace

__all__ = ["CachesCleared", "CachesInfo", "caches_info", "clear_caches"]


@dataclass(frozen=True)
class CachesInfo:
    """Where each cache is, and what it holds."""

    speech: CacheInfo
    """Synthesised sentences."""
    beds: BedCacheInfo
    """Rendered soundscape beds."""
    split_voices: SplitVoicesInfo
    """Piper voices split for windowed decoding."""


@dataclass(frozen=True)
class CachesCleared:
    """What clearing the caches removed, and from where."""

    speech_folder: Path
    """The speech cache's folder."""
    speech_removed: int
    """Cached clips removed."""
    beds_folder: Path | None
    """The bed cache's folder."""
    beds_removed: int
    """Rendered beds removed."""
    split_voices_removed: int
    """Split voices removed."""


def caches_info(workspace: Workspace) -> CachesInfo:
    """Where the workspace's caches are and what they hold."""
    return CachesInfo(
        speech=workspace.speech_cache.info(),
        beds=workspace.bed_cache.info(),
        split_voices=split_voices_info(split_voices_folder(workspace.config.cache_dir)),
    )


def clear_caches(workspace: Workspace) -> CachesCleared:
    """Remove every cached clip, bed and split voice; the next render makes them again."""
    speech, beds = workspace.speech_cache, workspace.bed_cache
    return CachesCleared(
        speech_folder=speech.folder,
        speech_removed=speech.clear(),
        beds_folder=beds.folder,
        beds_removed=beds.clear(),
        split_voices_removed=clear_split_voices(split_voices_folder(workspace.config.cache_dir)),
    )
