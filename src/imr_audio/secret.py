"""The installation key: a random secret that makes imr-audio's hashes of client data keyed.

A plain sha256 of a short pseudonymous id (``c-017``) or of a few guessable profile values can be
confirmed by anyone who guesses them and hashes the guess. Every hash imr-audio stores about a
client (the speech cache's owners, the sidecar's ``inputs_sha256``) is therefore an
HMAC-SHA256 under a key of 32 random bytes made on first use and kept on this machine only:
``installation.key`` in the user's data folder (``~/.local/share/imr-audio`` on Linux), 0600
in a folder created 0700, or the file ``$IMR_AUDIO_KEY_FILE`` names.

The same machine gives the same hashes, so the cache and resuming work; another machine (or a
new key) gives other hashes, so its tracks are rendered again. Without the key, a hash confirms
no guess.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from pathlib import Path

import platformdirs

from imr_audio.errors import InstallationKeyError
from imr_audio.files import private_dir, private_temp

__all__ = [
    "KEY_BYTES",
    "KEY_FILE_ENV",
    "InstallationKeyError",
    "installation_key",
    "key_path",
    "keyed_hash",
]

KEY_FILE_ENV = "IMR_AUDIO_KEY_FILE"
"""Environment variable naming the key file to use instead of the user's data folder's."""

KEY_BYTES = 32
"""Length of the key, in bytes."""

_KEY_NAME = "installation.key"

# Keys read in this process, by path, with the file's identity (device, inode, mtime) when read.
_loaded: dict[str, tuple[tuple[int, int, int], bytes]] = {}



def key_path() -> Path:
    """Where the key is: ``$IMR_AUDIO_KEY_FILE``, else ``installation.key`` in the data folder."""
    override = os.environ.get(KEY_FILE_ENV)
    if override:
        return Path(override)
    return Path(platformdirs.user_data_dir("imr-audio")) / _KEY_NAME


def _create(path: Path) -> None:
    """Write a new random key to ``path`` unless one appears there first (never overwrites)."""
    temp = private_temp(private_dir(path.parent))
    try:
        temp.write_bytes(secrets.token_bytes(KEY_BYTES))
        with temp.open("rb") as stream:
            os.fsync(stream.fileno())
        with contextlib.suppress(FileExistsError):  # another process made one: use theirs
            os.link(temp, path)  # atomic, and unlike a rename never replaces an existing key
    finally:
        Path(temp).unlink(missing_ok=True)


def installation_key() -> bytes:
    """The key of this installation, made (0600, in a 0700 folder) on first use.

    Raises :class:`InstallationKeyError` when the file cannot be made or read, or does not hold
    exactly :data:`KEY_BYTES` bytes; delete a damaged key file to make a new one (the speech
    cache then no longer knows which clips were whose: clear it with ``imr-audio cache clear``).
    """
    path = key_path()
    try:
        if not path.exists():
            _create(path)
        info = path.stat()
        identity = (info.st_dev, info.st_ino, info.st_mtime_ns)
        cached = _loaded.get(str(path))
        if cached is not None and cached[0] == identity:
            return cached[1]
        if info.st_mode & 0o077:
            path.chmod(0o600)
        key = path.read_bytes()
    except OSError as exc:
        raise InstallationKeyError(
            f"{path}: cannot read or create the installation key ({type(exc).__name__})"
        ) from None
    if len(key) != KEY_BYTES:
        raise InstallationKeyError(
            f"{path}: the installation key is damaged (not {KEY_BYTES} bytes); delete the file "
            "to make a new one, then run 'imr-audio cache clear'"
        )
    _loaded[str(path)] = (identity, key)
    return key


def keyed_hash(purpose: str, data: bytes) -> str:
    """HMAC-SHA256 (hex) of ``data`` under the installation key, separated by ``purpose``.

    ``purpose`` (e.g. ``cache-owner``) keeps hashes made for one use from matching another's.
    """
    message = purpose.encode("utf-8") + b"\0" + data
    return hmac.new(installation_key(), message, hashlib.sha256).hexdigest()
