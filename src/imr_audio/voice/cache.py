"""A content-addressed cache of synthesised speech on disk, and an engine that uses it.

Each entry is named by a sha256 key over the engine, its version, the voice settings and the
(lexicon-applied) text, so the text itself is stored only inside the entry's samples, never in
a name or a log. An entry is two files: ``<key>.npy`` (float32 mono samples) and ``<key>.json``
(sample rate, sha256 of the ``.npy`` file, and ``owners``: keyed hashes of the client ids that
used it, so that one client's clips can be removed without storing any id). The folder is 0700,
files are 0600, and every file is written to a temporary file in the folder and renamed.

A corrupt, truncated or mismatching entry is found on read, deleted and synthesised again.
Several processes may use one cache at once (a batch's workers): :class:`CachedEngine` locks
each missing key while it makes the clip (``.lock-<key>`` files, removed after use), so no clip
is synthesised twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: clips are made without locks
    fcntl = None  # type: ignore[assignment]

import numpy as np

from imr_audio.audio import Clip
from imr_audio.files import (
    TEMP_PREFIX,
    lock_file,
    private_dir,
    private_temp,
    publish_private,
    same_file,
)
from imr_audio.progress import ProgressCallback, Tally, report
from imr_audio.secret import InstallationKey
from imr_audio.voice.base import SpeechEngine, SpeechRequest, VoiceInfo, VoiceSettings

__all__ = [
    "CacheInfo",
    "CachedEngine",
    "SpeechCache",
    "speech_key",
]

log = logging.getLogger(__name__)

_FORMAT = 1  # bump when the entry layout or the key's fields change
_KEY = re.compile(r"^[0-9a-f]{64}$")
_STORE_THREADS = 4  # clips stored at once (see CachedEngine._make)
_TEMP_PREFIX = TEMP_PREFIX
_LOCK_PREFIX = ".lock-"  # a clip being made by one process (see CachedEngine)
_CAN_LOCK: bool = fcntl is not None
_SUFFIXES = (".npy", ".json")


def speech_key(
    engine: str, engine_version: str, settings: VoiceSettings, request: SpeechRequest
) -> str:
    """The cache key of one request: sha256 hex over a canonical JSON of what shapes the sound."""
    fields = {
        "format": _FORMAT,
        "engine": engine,
        "engine_version": engine_version,
        "voice_id": settings.voice_id,
        "rate_wpm": request.rate_wpm or settings.rate_wpm,
        "pitch": settings.pitch,
        "volume": settings.volume,
        "text": request.text,
    }
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CacheInfo:
    """What the speech cache holds."""

    folder: Path
    """Where it is."""
    entries: int
    """Number of cached clips."""
    size_bytes: int
    """Total size of its files, in bytes."""


class _Corrupt(Exception):
    """An entry that cannot be trusted."""


def _private_dir(path: Path) -> None:
    """Create the cache folder (and parents) 0700; an existing one is made 0700 too."""
    private_dir(path).chmod(0o700)


class SpeechCache:
    """Clips on disk, by key; see :func:`speech_key`."""

    def __init__(self, folder: Path, key: InstallationKey) -> None:
        """A cache in ``folder`` (created 0700 on first write); ``key`` hashes the owners."""
        self.folder = folder
        self.key = key

    def _paths(self, key: str) -> tuple[Path, Path]:
        return self.folder / f"{key}.npy", self.folder / f"{key}.json"

    def _read(self, key: str) -> tuple[Clip, dict[str, Any]]:
        samples_path, meta_path = self._paths(key)
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            data = samples_path.read_bytes()
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise _Corrupt(type(exc).__name__) from None
        if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
            raise _Corrupt("metadata")
        if hashlib.sha256(data).hexdigest() != meta.get("sha256"):
            raise _Corrupt("checksum")
        try:
            samples = np.load(io.BytesIO(data), allow_pickle=False)
        except (OSError, ValueError, EOFError) as exc:
            raise _Corrupt(type(exc).__name__) from None
        rate = meta.get("sample_rate_hz")
        if (
            samples.dtype != np.float32
            or samples.ndim != 1
            or len(samples) != meta.get("samples")
            or not isinstance(rate, int)
            or rate <= 0
            or not isinstance(meta.get("owners"), list)
        ):
            raise _Corrupt("shape")
        return Clip(samples=samples, sample_rate_hz=rate), meta

    def _discard(self, key: str) -> None:
        for path in self._paths(key):
            path.unlink(missing_ok=True)

    def get(self, key: str, owner: str | None = None) -> Clip | None:
        """The clip stored under ``key``, or None; a damaged entry is deleted (None).

        ``owner`` (a client id) is added to the entry's owners when it is not yet one.
        """
        if not self._paths(key)[1].exists():
            return None
        try:
            clip, meta = self._read(key)
        except _Corrupt as exc:
            log.info("speech cache: entry %s... damaged (%s); synthesising it again", key[:12], exc)
            self._discard(key)
            return None
        if owner is not None and self.key.client_hash(owner) not in meta["owners"]:
            self._add_owner(key, self.key.client_hash(owner))
        return clip

    def _add_owner(self, key: str, hashed: str) -> None:
        """Add ``hashed`` to the owners of entry ``key``, one process at a time.

        Two renders for two clients may read the same entry at once; without a lock each would
        write back its own owner only, and the other client's clips would escape
        :meth:`remove_owner`. The lock is on the metadata file itself (``flock``): a writer
        replaces that file, so a waiter that gets the lock on a replaced file opens it again.
        """
        meta_path = self._paths(key)[1]
        while True:
            try:
                fd = os.open(meta_path, os.O_RDONLY)
            except FileNotFoundError:
                return  # removed meanwhile: nothing left to own
            try:
                if _CAN_LOCK:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                    if not same_file(fd, meta_path):
                        continue
                with open(fd, "rb", closefd=False) as stream:
                    meta = json.loads(stream.read().decode("utf-8"))
                owners = meta.get("owners") if isinstance(meta, dict) else None
                if isinstance(owners, list) and hashed not in owners:
                    self._write(meta_path, self._meta_bytes({**meta, "owners": [*owners, hashed]}))
                return
            except (OSError, UnicodeDecodeError, ValueError):
                return  # damaged since it was read: found and deleted on the next read
            finally:
                os.close(fd)

    @staticmethod
    def _meta_bytes(meta: dict[str, Any]) -> bytes:
        return json.dumps(meta, sort_keys=True, indent=1).encode("utf-8")

    def _write(self, path: Path, data: bytes) -> None:
        """Write ``data`` to ``path`` atomically, readable by the user only; raises OSError."""
        temp = private_temp(self.folder)
        try:
            temp.write_bytes(data)
            publish_private(temp, path)
        finally:
            temp.unlink(missing_ok=True)

    def put(self, key: str, clip: Clip, owner: str | None = None) -> None:
        """Store ``clip`` under ``key``; ``owner`` is the client id it was made for, if any."""
        if not _KEY.match(key):
            raise ValueError("not a cache key")
        _private_dir(self.folder)
        buffer = io.BytesIO()
        samples = np.ascontiguousarray(clip.samples, dtype=np.float32)
        np.save(buffer, samples, allow_pickle=False)
        data = buffer.getvalue()
        meta = {
            "format": _FORMAT,
            "sample_rate_hz": int(clip.sample_rate_hz),
            "samples": len(samples),
            "sha256": hashlib.sha256(data).hexdigest(),
            "owners": [self.key.client_hash(owner)] if owner is not None else [],
        }
        samples_path, meta_path = self._paths(key)
        self._write(samples_path, data)
        self._write(meta_path, self._meta_bytes(meta))  # last: an entry is complete once it exists

    def _files(self) -> list[Path]:
        """The files this cache wrote: entries and leftover temporary files."""
        if not self.folder.is_dir():
            return []
        return [
            p
            for p in self.folder.iterdir()
            if p.is_file()
            and (p.name.startswith(_TEMP_PREFIX) or (_KEY.match(p.stem) and p.suffix in _SUFFIXES))
        ]

    def info(self) -> CacheInfo:
        """Where the cache is, how many clips it holds and their total size."""
        files = self._files()
        entries = sum(p.suffix == ".json" and not p.name.startswith(_TEMP_PREFIX) for p in files)
        size = 0
        for path in files:
            with contextlib.suppress(OSError):
                size += path.stat().st_size
        return CacheInfo(folder=self.folder, entries=entries, size_bytes=size)

    def clear(self) -> int:
        """Remove every cached clip; return how many there were.

        Lock files left by a process that was killed while making a clip go too; one that
        another process holds now stays.
        """
        count = self.info().entries
        for path in self._files():
            path.unlink(missing_ok=True)
        self._remove_stale_locks()
        with contextlib.suppress(OSError):
            self.folder.rmdir()
        return count

    def _remove_stale_locks(self) -> None:
        if not _CAN_LOCK or not self.folder.is_dir():
            return
        for path in self.folder.glob(f"{_LOCK_PREFIX}*"):
            key = path.name[len(_LOCK_PREFIX) :]
            if not _KEY.match(key):
                continue
            fd = _lock(self.folder, key, wait=False)
            if fd is not None:  # nobody holds it
                _unlock(self.folder, {key: fd})

    def remove_owner(self, client_id: str, dry_run: bool = False) -> int:
        """Remove every clip made for ``client_id`` (whoever else used it); return the count.

        With ``dry_run`` nothing is removed: the count is of what would go.
        """
        hashed = self.key.client_hash(client_id)
        removed = 0
        for path in self._files():
            if path.suffix != ".json" or path.name.startswith(_TEMP_PREFIX):
                continue
            try:
                owners = json.loads(path.read_text(encoding="utf-8")).get("owners", [])
            except (OSError, UnicodeDecodeError, ValueError, AttributeError):
                owners = [hashed]  # unreadable: remove it rather than keep a client's clip
            if isinstance(owners, list) and hashed in owners:
                if not dry_run:
                    self._discard(path.stem)
                removed += 1
        return removed


def _lock(folder: Path, key: str, *, wait: bool) -> int | None:
    """An exclusive lock on ``key`` (a descriptor), or None if it is busy and not ``wait``."""
    return lock_file(folder / f"{_LOCK_PREFIX}{key}", wait=wait)


def _unlock(folder: Path, held: dict[str, int]) -> None:
    """Release every lock in ``held`` (key -> descriptor) and forget them."""
    for key, fd in held.items():
        (folder / f"{_LOCK_PREFIX}{key}").unlink(missing_ok=True)
        os.close(fd)
    held.clear()


class CachedEngine:
    """A speech engine that answers from a :class:`SpeechCache` and synthesises only misses.

    Several processes may share one cache (a batch's workers): a clip that is missing is made
    by one of them only. Each takes an exclusive lock (``fcntl.flock``) per missing key, first
    without waiting; it makes the clips it could lock, stores them and releases them; then,
    holding nothing, it waits for the other keys' locks in sorted order (so two waiters never
    deadlock), reads what the holder stored and makes only what is still missing (a holder that
    failed). Where ``fcntl`` does not exist (Windows) clips are made without locks.
    """

    def __init__(self, inner: SpeechEngine, cache: SpeechCache, owner: str | None = None) -> None:
        """Wrap ``inner``; clips made are recorded as used by client ``owner`` (its id)."""
        self.inner = inner
        self.cache = cache
        self.owner = owner
        self.name = inner.name

    @property
    def version(self) -> str:
        """The inner engine's version."""
        return self.inner.version

    def voices(self) -> list[VoiceInfo]:
        """The inner engine's voices."""
        return self.inner.voices()

    def synthesize(
        self,
        requests: Sequence[SpeechRequest],
        settings: VoiceSettings,
        progress: ProgressCallback | None = None,
    ) -> list[Clip]:
        """One clip per request, in order: cached ones read, the rest made by the inner engine."""
        version = self.inner.version
        keys = [speech_key(self.name, version, settings, r) for r in requests]
        clips: dict[str, Clip] = {}
        missing: dict[str, SpeechRequest] = {}
        for key, request in zip(keys, requests, strict=True):
            if key in clips or key in missing:
                continue
            clip = self.cache.get(key, self.owner)
            if clip is None:
                missing[key] = request
            else:
                clips[key] = clip
        unique = len(set(keys))
        log.info("speech cache: %d of %d clips cached", unique - len(missing), unique)
        if not missing:
            if requests:
                report(progress, "synthesis", len(requests), len(requests))
            return [clips[key] for key in keys]
        tally = Tally(progress, len(missing))
        if not _CAN_LOCK:
            self._make(missing, settings, tally, clips)
        else:
            self._make_locked(missing, settings, tally, clips)
        return [clips[key] for key in keys]

    def _make(
        self,
        wanted: dict[str, SpeechRequest],
        settings: VoiceSettings,
        tally: Tally,
        clips: dict[str, Clip],
    ) -> None:
        """Synthesise ``wanted`` in one inner call and store every clip."""
        if not wanted:
            return
        made = self.inner.synthesize(list(wanted.values()), settings, tally.part())
        # Stored a few at a time: each file is synced before it is renamed, and waiting for
        # one sync after another kept the engine idle between batches (74 clips: 0.3-0.7 s).
        with ThreadPoolExecutor(_STORE_THREADS, thread_name_prefix="imr-speech-store") as pool:
            stored = [pool.submit(self.cache.put, key, clip, self.owner)
                      for key, clip in zip(wanted, made, strict=True)]
            for key, clip, done in zip(wanted, made, stored, strict=True):
                done.result()  # raises the first failure, as storing one by one did
                clips[key] = clip
        tally.done += len(wanted)

    def _reread(
        self, wanted: dict[str, SpeechRequest], tally: Tally, clips: dict[str, Clip]
    ) -> dict[str, SpeechRequest]:
        """The part of ``wanted`` still not in the cache (the rest is read into ``clips``)."""
        still: dict[str, SpeechRequest] = {}
        for key, request in wanted.items():
            clip = self.cache.get(key, self.owner)
            if clip is None:
                still[key] = request
            else:
                clips[key] = clip
        tally.advance(len(wanted) - len(still))
        return still

    def _make_locked(
        self,
        missing: dict[str, SpeechRequest],
        settings: VoiceSettings,
        tally: Tally,
        clips: dict[str, Clip],
    ) -> None:
        """Make ``missing`` under per-key locks, so that no other process makes them too."""
        folder = self.cache.folder
        _private_dir(folder)
        held: dict[str, int] = {}
        try:
            busy: dict[str, SpeechRequest] = {}
            for key, request in missing.items():
                fd = _lock(folder, key, wait=False)
                if fd is None:
                    busy[key] = request
                else:
                    held[key] = fd
            mine = self._reread({key: missing[key] for key in held}, tally, clips)
            self._make(mine, settings, tally, clips)
            _unlock(folder, held)
            if busy:
                log.info("speech cache: waiting for %d clips another process is making", len(busy))
            for key in sorted(busy):
                fd = _lock(folder, key, wait=True)
                assert fd is not None
                held[key] = fd
            self._make(self._reread(busy, tally, clips), settings, tally, clips)
        finally:
            _unlock(folder, held)

    def close(self) -> None:
        """Close the inner engine."""
        self.inner.close()
