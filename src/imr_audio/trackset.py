"""A track set: a track and its transcript, captions and sidecar, published together.

The four files of a render appear together or not at all. They are written into a private
staging folder beside the track (``.imr-staging-*``, 0700) under their final names, then moved
into place one rename each (on one file system, so each is atomic), the sidecar last: a reader
that finds the sidecar finds the rest, and a failed or interrupted render leaves the earlier
set exactly as it was (a killed render leaves its staging folder, which a batch removes).

Companions are named after the whole audio file (``c-017_safe-place.mp3.vtt``), so renders of
one track in several formats each keep their own. Sets written before this naming
(``c-017_safe-place.vtt``) are still recognised by :func:`legacy_companion_paths`.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path

from imr_audio.errors import ExportError
from imr_audio.files import (
    first_missing_dir,
    os_reason,
    private_dir,
    publish_private,
    remove_new_dirs,
    write_private,
)

__all__ = [
    "COMPANION_SUFFIXES",
    "STAGING_PREFIX",
    "StagedTrackSet",
    "companion_paths",
    "legacy_companion_paths",
    "staged_track_set",
    "write_track_set",
]

COMPANION_SUFFIXES = (".txt", ".vtt", ".json")
"""What is written beside a track: transcript, captions and provenance sidecar (last)."""

STAGING_PREFIX = ".imr-staging-"
"""Start of a staging folder's name."""


def companion_paths(track: Path) -> tuple[Path, Path, Path]:
    """The transcript, captions and sidecar of ``track``: its file name plus each suffix."""
    txt, vtt, json = (track.with_name(track.name + suffix) for suffix in COMPANION_SUFFIXES)
    return txt, vtt, json


def legacy_companion_paths(track: Path) -> tuple[Path, Path, Path]:
    """The companions as named before they took the audio file's whole name (``<stem>.vtt``)."""
    txt, vtt, json = (track.with_suffix(suffix) for suffix in COMPANION_SUFFIXES)
    return txt, vtt, json


class StagedTrackSet:
    """The files of one track set being written (see :func:`staged_track_set`)."""

    def __init__(self, track: Path, folder: Path) -> None:
        """A set for ``track`` staged in ``folder``."""
        self.track = track
        self.folder = folder
        self.audio = folder / track.name
        """Where the audio is written (its final name, in the staging folder)."""

    def write(self, suffix: str, data: str | bytes) -> Path:
        """Write the companion with ``suffix`` (``.txt``, ``.vtt`` or ``.json``)."""
        if suffix not in COMPANION_SUFFIXES:
            raise ValueError(f"not a companion: {suffix}")
        return write_private(self.folder / (self.track.name + suffix), data)

    def publish(self) -> tuple[Path, ...]:
        """Move the set into place, sidecar last; return the companions' final paths.

        Raises :class:`ExportError` naming the folder when a file is missing or cannot move.
        """
        names = [self.track.name, *(self.track.name + s for s in COMPANION_SUFFIXES)]
        missing = [n for n in names if not (self.folder / n).is_file()]
        if missing:
            raise ExportError(f"{self.track.parent}: the track set is incomplete ({missing[0]})")
        try:
            for name in names:
                publish_private(self.folder / name, self.track.parent / name)
        except OSError as exc:
            raise ExportError(
                f"{self.track.parent}: could not publish {self.track.name} ({os_reason(exc)})"
            ) from None
        return companion_paths(self.track)


@contextlib.contextmanager
def staged_track_set(track: Path) -> Iterator[StagedTrackSet]:
    """Stage the set of ``track`` in a private folder beside it; the folder goes at the end.

    Publish with :meth:`StagedTrackSet.publish` inside the block; leaving the block without
    publishing (an error) removes what was staged and leaves any earlier set as it was.
    """
    parent = track.parent
    folder = parent / f"{STAGING_PREFIX}{secrets.token_hex(6)}"
    made = first_missing_dir(parent)
    try:
        private_dir(parent)
        folder.mkdir(mode=0o700)
    except OSError as exc:
        remove_new_dirs(made, parent)
        raise ExportError(f"{parent}: cannot write there ({os_reason(exc)})") from None
    try:
        yield StagedTrackSet(track, folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        remove_new_dirs(made, parent)  # a failed render leaves no output folder it made
        raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def write_track_set(track: Path, files: Mapping[str, bytes]) -> tuple[Path, ...]:
    """Publish a set received whole (e.g. from a cluster worker): audio and companions.

    ``files`` maps ``""`` to the audio's bytes and each companion suffix to its content.
    """
    with staged_track_set(track) as staged:
        write_private(staged.audio, files[""])
        for suffix in COMPANION_SUFFIXES:
            staged.write(suffix, files[suffix])
        return staged.publish()
