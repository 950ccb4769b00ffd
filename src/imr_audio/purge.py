"""Removing one client's data: their clips in the speech cache and, optionally, rendered files.

Clips in the speech cache record keyed hashes of the client ids they were made for
(:meth:`~imr_audio.secret.InstallationKey.client_hash`); every clip made for the client goes,
even one that another client used too (it is synthesised again when needed).

Rendered files are found under an output folder and every folder below it (symbolic links
are not followed). A name that starts with ``<client id>_`` is not proof enough, because ids may
contain ``_`` (``c1_x_safe-place.mp3`` may be client ``c1_x``'s): a track and its transcript,
captions and sidecar (``<stem>.<format>``, ``.txt``, ``.vtt``, ``.json``) are removed when the
sidecar's keyed client hash is this client's, and a recording sheet (``<stem>_lines.txt``,
``.csv``, ``.json``) when its ``.json`` names the client. A sidecar from before client hashes
(version 1) confirms a track named exactly ``<client id>_<its template id>``. Files whose
names start with the id but that nothing confirms (a track without its sidecar, one made on
another installation) are kept and listed, as are the temporary files an interrupted render
left (``.imr-*.part`` files, ``.imr-staging-*`` folders), whose client cannot be told. A
track whose sidecar is gone is recognised by the keyed client hash in its own metadata. A home
pack (its folder, and its zip) goes whole when its page carries the client's keyed hash. The
studio's job records (``.studio/jobs/<job id>.json``, see :mod:`imr_audio.studio.jobs`) that name
the client's id go too.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imr_audio.errors import PurgeError
from imr_audio.export.settings import FORMATS
from imr_audio.export.tags import read_provenance
from imr_audio.files import BATCH_LOCK_NAME, JOB_RECORD_KIND
from imr_audio.pack import PAGE_NAME
from imr_audio.pack.page import CLIENT_META, GENERATOR
from imr_audio.profile import CLIENT_ID_PATTERN
from imr_audio.secret import InstallationKey
from imr_audio.trackset import COMPANION_SUFFIXES, STAGING_PREFIX
from imr_audio.workspace import Workspace

__all__ = ["PurgeError", "PurgeReport", "purge_client"]

_AUDIO_SUFFIXES = tuple(f".{fmt}" for fmt in FORMATS)
_TRACK_SUFFIXES = (*_AUDIO_SUFFIXES, *COMPANION_SUFFIXES)
_SHEET_SUFFIXES = (".txt", ".csv", ".json")
_SHEET_TAG = "_lines"
_KNOWN_SUFFIXES = frozenset((*_TRACK_SUFFIXES, *_SHEET_SUFFIXES))



@dataclass(frozen=True)
class PurgeReport:
    """What a purge removed, and what it found but kept."""

    client_id: str
    """The pseudonymous client id purged."""
    cache_folder: Path
    """The speech cache searched."""
    cache_entries_removed: int
    """Cached clips removed (each one ``.npy`` and one ``.json`` file)."""
    output_dir: Path | None
    """The outputs folder searched with all folders below it; None: none was searched."""
    removed_files: tuple[Path, ...] = ()
    """Rendered files removed, sorted."""
    unconfirmed_files: tuple[Path, ...] = ()
    """Files whose names start with ``<client id>_`` that no sidecar or sheet confirms as this
    client's (kept: check them by hand)."""
    temporary_files: tuple[Path, ...] = ()
    """Temporary files and staging folders an interrupted render left (``.imr-*``): any
    client's (kept)."""
    dry_run: bool = False
    """Nothing was removed: the counts and files are what a purge would remove."""

    @property
    def removed_anything(self) -> bool:
        """Whether any clip or file was removed."""
        return bool(self.cache_entries_removed or self.removed_files)


def _read_json(path: Path) -> dict[str, Any] | None:
    """The JSON object in ``path``, or None when it is unreadable or not an object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _split(name: str) -> tuple[str, str]:
    """A file name's stem and suffix (``c1_x.mp3`` -> ``c1_x``, ``.mp3``)."""
    stem, dot, ext = name.rpartition(".")
    return (stem, f".{ext}") if dot else (name, "")


def _hash_owner(stem: str, client_hash: str, key: InstallationKey) -> str | None:
    """The client id, among the prefixes of ``stem`` ending before a ``_``, that hashes so."""
    candidates = (stem[:index] for index, char in enumerate(stem) if char == "_")
    for candidate in candidates:
        if CLIENT_ID_PATTERN.match(candidate) and key.client_hash(candidate) == client_hash:
            return candidate
    return None


def _track_set(stem: str) -> tuple[str, ...]:
    """The names of the track set whose sidecar is ``<stem>.json``.

    A sidecar named after the whole audio file (``c1_mini.mp3.json``) goes with that file and
    its companions; one named after the stem (``c1_mini.json``, written before companions took
    the audio file's name) with a track of any format and the stem's companions.
    """
    if _split(stem)[1] in _AUDIO_SUFFIXES:
        return (stem, *(stem + suffix for suffix in COMPANION_SUFFIXES))
    return tuple(stem + suffix for suffix in _TRACK_SUFFIXES)


def _owner(
    stem: str, data: dict[str, Any], key: InstallationKey
) -> tuple[str | None, tuple[str, ...]]:
    """Whose files a ``.json`` beside them says ``stem`` is, and their names.

    The owner is None when the JSON is neither a sidecar nor a recording sheet, or confirms no
    client (a sidecar made under another installation's key).
    """
    if "sidecar_version" in data:
        template = data.get("template")
        template_id = template.get("id") if isinstance(template, dict) else None
        client_hash = data.get("client_hash")
        if isinstance(client_hash, str) and client_hash:
            return _hash_owner(stem, client_hash, key), _track_set(stem)
        if isinstance(template_id, str) and stem.endswith(f"_{template_id}"):  # version 1
            owner = stem[: -len(template_id) - 1]
            return (owner if CLIENT_ID_PATTERN.match(owner) else None), _track_set(stem)
        return None, _track_set(stem)
    client, template_id = data.get("client"), data.get("template")
    if (
        isinstance(client, str)
        and isinstance(template_id, str)
        and stem == f"{client}_{template_id}{_SHEET_TAG}"
    ):
        return client, tuple(stem + suffix for suffix in _SHEET_SUFFIXES)
    return None, ()


@dataclass
class _Found:
    """Files under the outputs folder, sorted into the client's, unconfirmed and temporary."""

    mine: list[Path]
    unconfirmed: list[Path]
    temporary: list[Path]
    packs: list[Path] = field(default_factory=list)
    """Home pack folders of the client (removed once emptied)."""


_PACK_CLIENT = re.compile(rf'<meta name="{CLIENT_META}" content="([0-9a-f]*)">')


def _pack_client_hash(page: str) -> str | None:
    """The keyed client hash of a home pack's page; None when it is no home pack's page."""
    if f'content="{GENERATOR}"' not in page:
        return None
    match = _PACK_CLIENT.search(page)
    return match.group(1) if match else ""


def _pack_page(path: Path) -> str:
    """The ``index.html`` of a home pack folder or zip, or "" when there is none."""
    try:
        if path.suffix == ".zip":  # the pack's folder zipped: <folder>/index.html
            with zipfile.ZipFile(path) as archive:
                return archive.read(f"{path.stem}/{PAGE_NAME}").decode("utf-8")
        return (path / PAGE_NAME).read_text(encoding="utf-8")
    except (OSError, KeyError, UnicodeDecodeError, zipfile.BadZipFile):
        return ""


def _walk(output_dir: Path) -> Iterator[tuple[Path, list[str], list[str]]]:
    """Every folder under ``output_dir`` (itself included), its files and staging folders.

    The files are the regular ones; the staging folders (``.imr-staging-*``, listed, not walked
    into) are those an interrupted render left.
    """
    for folder, dirs, names in os.walk(output_dir, followlinks=False):
        root = Path(folder)
        staging = sorted(d for d in dirs if d.startswith(STAGING_PREFIX))
        dirs[:] = [d for d in dirs if not d.startswith(STAGING_PREFIX)]
        files = sorted(n for n in names if (root / n).is_file() and not (root / n).is_symlink())
        yield root, files, staging


def _is_job_of(record: dict[str, Any] | None, client_id: str) -> bool:
    """Whether ``record`` is a studio job record of ``client_id``."""
    return (record is not None and record.get("kind") == JOB_RECORD_KIND
            and record.get("client_id") == client_id)


def _find(client_id: str, key: InstallationKey, output_dir: Path) -> _Found:
    """The client's rendered files under ``output_dir``, and what could not be told."""
    mine_hash = key.client_hash(client_id)
    found = _Found([], [], [])
    prefix = f"{client_id}_"
    for folder, names, staging in _walk(output_dir):
        found.temporary += [folder / name for name in staging]
        # A home pack (folder or zip) carries the keyed hash of its client's id in its page:
        # all of it is the client's, copies of tracks included (they carry no sidecar).
        pack_hash = _pack_client_hash(_pack_page(folder)) if PAGE_NAME in names else None
        if pack_hash is not None:
            if pack_hash == mine_hash:
                found.mine += [folder / n for n in names]
                found.packs.append(folder)
            continue
        for name in names:
            if name.endswith(".zip") and _pack_client_hash(_pack_page(folder / name)) == mine_hash:
                found.mine.append(folder / name)
        found.temporary += [folder / n for n in names
                            if n.startswith(".imr-") and n != BATCH_LOCK_NAME]
        if folder.name == "jobs":  # the studio's job records (.studio/jobs/<job id>.json)
            found.mine += [folder / n for n in names if n.endswith(".json") and _is_job_of(
                _read_json(folder / n), client_id)]
        candidates = {n for n in names if n.startswith(prefix) and _split(n)[1] in _KNOWN_SUFFIXES}
        decided: set[str] = set()
        for name in sorted(candidates):
            stem, suffix = _split(name)
            data = _read_json(folder / name) if suffix == ".json" else None
            if data is None:
                continue
            owner, set_names = _owner(stem, data, key)
            group = set(set_names) & candidates
            if owner == client_id:
                found.mine += [folder / n for n in sorted(group)]
                decided |= group
            elif owner is not None:  # another client's, whose id starts like this one's
                decided |= group
        for name in sorted(candidates - decided):  # a track without its sidecar: its own tags
            if _split(name)[1] in _AUDIO_SUFFIXES:
                held = read_provenance(folder / name).get("client_hash")
                if held == mine_hash or (held and _hash_owner(name, held, key)):
                    group = set(_track_set(name)) & (candidates - decided)
                    if held == mine_hash:
                        found.mine += [folder / n for n in sorted(group)]
                    decided |= group
        found.unconfirmed += [folder / n for n in sorted(candidates - decided)]
    return found


def purge_client(
    workspace: Workspace, client_id: str, output_dir: Path | None = None, dry_run: bool = False
) -> PurgeReport:
    """Remove a client's clips from the workspace's speech cache, and files from ``output_dir``.

    See the module docstring for how rendered files are recognised. A client with nothing to
    remove is no error (the report says so). With ``dry_run`` nothing is removed: the report
    lists what would go (its ``dry_run`` is set). Raises :class:`PurgeError` for an id that is not a
    pseudonymous id, a missing output folder, or files that could not be removed (the others
    are removed).
    """
    if not CLIENT_ID_PATTERN.match(client_id):
        raise PurgeError(
            "not a pseudonymous client id (the profile's 'id': 2-40 lower-case letters, digits, "
            "'-' or '_')"
        )
    if output_dir is not None and not output_dir.is_dir():
        raise PurgeError(f"{output_dir}: no such folder")
    cache = workspace.speech_cache
    removed_clips = cache.remove_owner(client_id, dry_run=dry_run)
    if output_dir is None:
        return PurgeReport(client_id, cache.folder, removed_clips, None, dry_run=dry_run)
    found = _find(client_id, workspace.key, output_dir)
    if dry_run:
        return PurgeReport(client_id, cache.folder, removed_clips, output_dir,
                           tuple(sorted(found.mine)), tuple(sorted(found.unconfirmed)),
                           tuple(sorted(found.temporary)), dry_run=True)
    removed: list[Path] = []
    failed: list[str] = []
    for path in found.mine:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            failed.append(f"{path} ({type(exc).__name__})")
        else:
            removed.append(path)
    for pack in sorted(found.packs, reverse=True):
        with contextlib.suppress(OSError):  # emptied above; a folder holding more stays
            pack.rmdir()
    if failed:
        raise PurgeError(
            f"could not remove {len(failed)} of client {client_id}'s file(s): {'; '.join(failed)} "
            f"({len(removed)} other file(s) and {removed_clips} cached clip(s) were removed)"
        )
    return PurgeReport(
        client_id,
        cache.folder,
        removed_clips,
        output_dir,
        tuple(sorted(removed)),
        tuple(sorted(found.unconfirmed)),
        tuple(sorted(found.temporary)),
    )
