"""The installation key: a random secret that makes imr-audio's hashes of client data keyed.

A plain sha256 of a short pseudonymous id (``c-017``) or of a few guessable profile values can be
confirmed by anyone who guesses them and hashes the guess. Every hash imr-audio stores about a
client (the speech cache's owners, the sidecar's ``inputs_sha256``) is therefore an
HMAC-SHA256 under a key of 32 random bytes made on first use and kept on this machine only:
``installation.key`` in the user's data folder (``~/.local/share/imr-audio`` on Linux), 0600
in a folder created 0700, or the file ``$IMR_AUDIO_KEY_FILE`` names (see
:class:`~imr_audio.workspace.WorkspaceConfig`).

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

__all__ = ["KEY_BYTES", "InstallationKey", "default_key_path"]

KEY_BYTES = 32
"""Length of the key, in bytes."""

KEY_NAME = "installation.key"
"""The key file's name in the user's data folder."""


def default_key_path() -> Path:
    """Where the key lives unless told otherwise: ``installation.key`` in the data folder."""
    return Path(platformdirs.user_data_dir("imr-audio")) / KEY_NAME


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
        temp.unlink(missing_ok=True)


class InstallationKey:
    """The key in one key file, read (or made) on first use; see the module's docstring."""

    def __init__(self, path: Path) -> None:
        """The key kept in ``path`` (made there, 0600 in a 0700 folder, when first needed)."""
        self.path = path
        self._read: tuple[tuple[int, int, int], bytes] | None = None

    def secret(self) -> bytes:
        """The key's bytes, made on first use.

        Raises :class:`InstallationKeyError` when the file cannot be made or read, or does not
        hold exactly :data:`KEY_BYTES` bytes; delete a damaged key file to make a new one (the
        speech cache then no longer knows which clips were whose: clear it with ``imr-audio
        cache clear``). The file is read again when it changes (another key put in its place).
        """
        path = self.path
        try:
            if not path.exists():
                _create(path)
            info = path.stat()
            identity = (info.st_dev, info.st_ino, info.st_mtime_ns)
            if self._read is not None and self._read[0] == identity:
                return self._read[1]
            if info.st_mode & 0o077:
                path.chmod(0o600)
            key = path.read_bytes()
        except OSError as exc:
            raise InstallationKeyError(
                f"{path}: cannot read or create the installation key ({type(exc).__name__})"
            ) from None
        if len(key) != KEY_BYTES:
            raise InstallationKeyError(
                f"{path}: the installation key is damaged (not {KEY_BYTES} bytes); delete the "
                "file to make a new one, then run 'imr-audio cache clear'"
            )
        self._read = (identity, key)
        return key

    def hash(self, purpose: str, data: bytes) -> str:
        """HMAC-SHA256 (hex) of ``data`` under the key, separated by ``purpose``.

        ``purpose`` (e.g. ``cache-owner``) keeps hashes made for one use from matching another's.
        """
        message = purpose.encode("utf-8") + b"\0" + data
        return hmac.new(self.secret(), message, hashlib.sha256).hexdigest()

    def client_hash(self, client_id: str) -> str:
        """What imr-audio records of a client: the keyed hash of the pseudonymous id.

        The speech cache's owners, a sidecar's and a home pack's ``client_hash`` are all this,
        so that whoever reads them cannot confirm a guessed id by hashing it.
        """
        return self.hash("cache-owner", client_id.encode("utf-8"))
