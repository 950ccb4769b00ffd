"""A client's home pack: their tracks, captions, a playlist and an offline ``index.html`` player.

The pack is one folder (and, if asked for, a zip of it) that a client opens on a phone or
computer with no tool installed: ``index.html`` plays each track with its captions, gives a
listening guide and the therapist's note, and makes no network request. Everything is checked
first (see :mod:`imr_audio.pack.tracks`); the folder is built in a private temporary folder
beside its destination and renamed into place, so a failed build leaves nothing behind.
Folders are 0700, files 0600. File names are the tracks' pseudonymous ones.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from imr_audio.errors import HomePackError
from imr_audio.files import private_dir, private_temp, publish_private, write_private
from imr_audio.pack.archive import ZIP_TIMESTAMP, write_zip
from imr_audio.pack.page import GENERATOR, page_html, playlist_m3u
from imr_audio.pack.tracks import PackTrack, check_tracks, read_note
from imr_audio.profile import ClientProfile
from imr_audio.progress import ProgressCallback, report
from imr_audio.workspace import Workspace

__all__ = [
    "PAGE_NAME",
    "PLAYLIST_NAME",
    "ZIP_TIMESTAMP",
    "HomePack",
    "PackTrack",
    "build_home_pack",
]

PAGE_NAME = "index.html"
"""The player page in the pack."""
PLAYLIST_NAME = "playlist.m3u8"
"""The extended M3U playlist in the pack (UTF-8, hence ``.m3u8``)."""


@dataclass(frozen=True)
class HomePack:
    """What a home pack build wrote."""

    folder: Path
    """The pack's folder (0700)."""
    page: Path
    """The player page, ``index.html``."""
    playlist: Path
    """The playlist, ``playlist.m3u8``."""
    tracks: tuple[PackTrack, ...]
    """The tracks, in the order of the page and playlist (``source`` is the original file)."""
    files: tuple[Path, ...]
    """Every file in the folder, in the zip's order: page, playlist, then each track's audio,
    captions and transcript."""
    zip_path: Path | None = None
    """The zip of the folder beside it (``<folder>.zip``), if one was asked for."""


def _is_home_pack(folder: Path) -> bool:
    """Whether ``folder`` holds only files and a page this module wrote."""
    page = folder / PAGE_NAME
    try:
        plain = all(p.is_file() and not p.is_symlink() for p in folder.iterdir())
        return plain and page.is_file() and f'content="{GENERATOR}"' in page.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return False


def _check_destination(folder: Path) -> None:
    """Refuse a destination that is a file or a folder holding anything but an earlier pack."""
    if folder.exists() and not folder.is_dir():
        raise HomePackError(f"{folder}: exists and is not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not _is_home_pack(folder):
        raise HomePackError(
            f"{folder}: the folder holds other files and is not a home pack; choose a new or "
            "empty folder"
        )


def _fill(
    staging: Path,
    tracks: Sequence[PackTrack],
    note: str | None,
    progress: ProgressCallback | None,
    client_hash: str = "",
) -> tuple[Path, ...]:
    """Write the page, playlist and each track's files into ``staging``; their paths in order."""
    captions = [track.captions.read_text(encoding="utf-8") for track in tracks]
    files = [
        write_private(staging / PAGE_NAME, page_html(tracks, captions, note, client_hash)),
        write_private(staging / PLAYLIST_NAME, playlist_m3u(tracks)),
    ]
    for done, track in enumerate(tracks):
        report(progress, "pack", done, len(tracks))
        for source in (track.source, track.captions, track.transcript):
            if source is not None:
                target = staging / source.name
                shutil.copyfile(source, target)
                target.chmod(0o600)
                files.append(target)
    report(progress, "pack", len(tracks), len(tracks))
    return tuple(files)


def _publish(staging: Path, folder: Path) -> None:
    """Rename ``staging`` to ``folder``; an earlier pack or empty folder there is replaced."""
    if not folder.exists():
        staging.rename(folder)
        return
    old = Path(tempfile.mkdtemp(prefix=".imr-old-", dir=folder.parent))
    folder.rename(old)  # onto the empty folder mkdtemp made
    try:
        staging.rename(folder)
    except OSError:
        old.rename(folder)
        raise
    shutil.rmtree(old, ignore_errors=True)


def build_home_pack(
    workspace: Workspace,
    profile: ClientProfile,
    tracks: Sequence[Path],
    output_dir: Path,
    *,
    make_zip: bool = False,
    note_file: Path | None = None,
    fmt: str | None = None,
    progress: ProgressCallback | None = None,
) -> HomePack:
    """Build the home pack of ``tracks`` for the client of ``profile`` in ``output_dir``.

    Every track must prove it is the client's (see :mod:`imr_audio.pack.tracks`), be readable
    audio and have its captions beside it; its transcript is taken along when it is there. A
    track given in several formats goes in once: in ``fmt``, else in the format phones play
    most widely. Titles come from the workspace's templates the tracks were rendered from.
    ``note_file`` is the therapist's note (plain text), shown
    on the page. ``output_dir`` must be new, empty, or an earlier home pack (it is replaced);
    with ``make_zip`` the pack is also zipped into ``<output_dir>.zip`` beside it, the same bytes
    for the same files. Raises :class:`HomePackError` naming every problem at once.
    """
    packed = check_tracks(workspace, profile, tracks, fmt)
    note = read_note(note_file, profile) if note_file is not None else None
    folder = Path(output_dir).resolve()
    _check_destination(folder)
    zip_path = folder.with_name(folder.name + ".zip") if make_zip else None
    staging: Path | None = None
    zip_part: Path | None = None
    try:
        private_dir(folder.parent)
        staging = Path(tempfile.mkdtemp(prefix=".imr-pack-", dir=folder.parent))  # 0700
        files = _fill(staging, packed, note, progress, workspace.key.client_hash(profile.id))
        if zip_path is not None:
            zip_part = write_zip(files, private_temp(folder.parent, ".zip.part"), folder.name)
        _publish(staging, folder)
        staging = None
        if zip_part is not None and zip_path is not None:
            publish_private(zip_part, zip_path)
            zip_part = None
    except (OSError, ValueError) as exc:
        raise HomePackError(f"{folder}: could not write the pack ({exc})") from None
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        if zip_part is not None:
            with contextlib.suppress(OSError):
                zip_part.unlink()
    return HomePack(
        folder=folder,
        page=folder / PAGE_NAME,
        playlist=folder / PLAYLIST_NAME,
        tracks=packed,
        files=tuple(folder / path.name for path in files),
        zip_path=zip_path,
    )
