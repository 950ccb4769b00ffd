"""Private files written whole: the one way imr-audio writes anything that holds client data.

Every file is written to a temporary file in its destination folder (created 0600 by
:func:`tempfile.mkstemp`), flushed to disk (``fsync``) and renamed over the destination, so a
reader sees the old file or the new one, never a part; a crash leaves at most a temporary file
named ``.imr-*.part``. Folders are created owner-only (0700), parents included.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no locks between processes
    fcntl = None  # type: ignore[assignment]

from imr_audio.errors import ExportError, ImrAudioError

__all__ = [
    "BATCH_LOCK_NAME",
    "JOB_RECORD_KIND",
    "TEMP_PREFIX",
    "TEMP_SUFFIX",
    "file_sha256",
    "first_missing_dir",
    "held_lock",
    "lock_file",
    "os_reason",
    "private_dir",
    "private_temp",
    "publish_private",
    "remove_new_dirs",
    "same_file",
    "writable_dir_problem",
    "write_private",
]

BATCH_LOCK_NAME = ".imr-batch.lock"
"""The lock a running batch holds in its output root (removed when the batch ends)."""

JOB_RECORD_KIND = "imr-audio studio job"
"""The ``kind`` of a studio's job record (``.studio/jobs/<job id>.json``), which names the
client's pseudonymous id: ``imr-audio purge`` removes a client's records with their tracks."""

TEMP_PREFIX = ".imr-"
"""Start of every temporary file's name (a batch clears those a killed run left)."""

TEMP_SUFFIX = ".part"
"""End of every temporary file's name."""

_CAN_LOCK: bool = fcntl is not None


def file_sha256(path: Path) -> str:
    """The sha256 (hex) of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def os_reason(exc: OSError) -> str:
    """A short, value-free reason for a file-system error, e.g. ``permission denied``."""
    if exc.errno is not None and exc.errno in errno.errorcode:
        return os.strerror(exc.errno).lower()
    return type(exc).__name__


def private_dir(folder: Path) -> Path:
    """Create ``folder`` and its missing parents owner-only (0700); existing ones stay as they are.

    ``Path.mkdir(parents=True)`` would create the parents with the default mode (0755).
    """
    if not folder.is_dir():
        private_dir(folder.parent)
        folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def first_missing_dir(folder: Path) -> Path | None:
    """The outermost folder of ``folder``'s path that does not exist yet; None if it exists.

    What :func:`private_dir` would create begins there: :func:`remove_new_dirs` takes it away
    again when what was to be written there failed.
    """
    here, missing = Path(folder).absolute(), None
    while not here.exists() and not here.is_symlink() and here != here.parent:
        here, missing = here.parent, here
    return missing


def remove_new_dirs(top: Path | None, folder: Path) -> None:
    """Remove ``folder`` and its parents up to ``top`` (see :func:`first_missing_dir`).

    Each goes only while empty: a failed write leaves no folder it made behind.
    """
    if top is None:
        return
    here = Path(folder).absolute()
    while here.is_relative_to(top):
        try:
            here.rmdir()
        except OSError:
            return
        here = here.parent


def writable_dir_problem(folder: Path) -> str | None:
    """Why files cannot be written into ``folder`` (made if missing), or None; creates nothing.

    Checked before any costly work: the first part of the path that exists must be a folder
    this process may write into (or ``folder`` itself, when it exists).
    """
    here = Path(folder).absolute()
    while not here.exists():
        if here.is_symlink():
            return "a link to nothing stands in its path"
        here = here.parent
    if not here.is_dir():
        return f"'{here.name}' in its path is a file, not a folder"
    if not os.access(here, os.W_OK | os.X_OK):
        return "permission denied"
    return None


def private_temp(folder: Path, suffix: str = TEMP_SUFFIX) -> Path:
    """A new empty file (0600) in ``folder``, named ``.imr-*<suffix>``; the caller removes it."""
    fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=suffix, dir=folder)
    os.close(fd)
    return Path(name)


def publish_private(temp: Path, path: Path) -> Path:
    """Make the finished file ``temp`` (in ``path``'s folder) appear as ``path``, 0600 and synced.

    Raises OSError; ``temp`` is left for the caller to remove.
    """
    temp.chmod(0o600)
    with temp.open("rb") as stream:
        os.fsync(stream.fileno())
    temp.replace(path)
    return path


def write_private(
    path: Path,
    data: bytes | str | Callable[[Path], None],
    error: type[ImrAudioError] = ExportError,
) -> Path:
    r"""Write ``data`` to ``path`` whole or not at all, readable by its owner only (0600).

    ``data`` is bytes, text (written as UTF-8 with ``\\n`` line ends) or a function that writes
    the file at the path it is given. The folder is created (0700) if needed. Any failure is one
    ``error`` naming the folder and why; nothing is left beside ``path`` then, and an existing
    file at ``path`` is unchanged.
    """
    temp: Path | None = None
    made = first_missing_dir(path.parent)
    published = False
    try:
        private_dir(path.parent)
        temp = private_temp(path.parent, f"{path.suffix}{TEMP_SUFFIX}")
        if callable(data):
            data(temp)
        elif isinstance(data, str):
            temp.write_text(data, encoding="utf-8", newline="\n")
        else:
            temp.write_bytes(data)
        written = publish_private(temp, path)
        published = True
        return written
    except OSError as exc:
        raise error(f"{path.parent}: cannot write {path.name} ({os_reason(exc)})") from None
    finally:
        if temp is not None:
            with contextlib.suppress(OSError):
                temp.unlink()
        if not published:
            remove_new_dirs(made, path.parent)


def same_file(fd: int, path: Path) -> bool:
    """Whether ``path`` still names the file open as ``fd``."""
    try:
        here = path.stat()
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (here.st_ino, here.st_dev) == (held.st_ino, held.st_dev)


def lock_file(path: Path, *, wait: bool) -> int | None:
    """An exclusive lock (``flock``) on the file ``path``: its descriptor, or None if busy.

    Without ``wait``, None when another process holds it. A holder removes the file before
    releasing it, so a lock taken on a file that is no longer at its path guards nothing: the
    file is then opened again. Must not be called where ``fcntl`` does not exist.
    """
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        if same_file(fd, path):
            return fd
        os.close(fd)


@contextlib.contextmanager
def held_lock(path: Path) -> Iterator[None]:
    """Hold the lock file ``path`` (waiting for another process to let it go), then remove it.

    Where ``fcntl`` does not exist (Windows) nothing is locked.
    """
    if not _CAN_LOCK:  # pragma: no cover - Windows
        yield
        return
    fd = lock_file(path, wait=True)
    try:
        yield
    finally:
        path.unlink(missing_ok=True)
        if fd is not None:
            os.close(fd)
