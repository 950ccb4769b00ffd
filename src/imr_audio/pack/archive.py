"""A home pack as one zip file, byte for byte the same for the same files.

Entries go in the order given, under one top folder, with a fixed timestamp and owner-only
permissions; audio (already compressed) is stored, text is deflated.
"""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Sequence
from pathlib import Path

__all__ = ["ZIP_TIMESTAMP", "write_zip"]

ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
"""Date and time of every entry (the earliest a zip can hold), so that builds compare equal."""
_DEFLATED_SUFFIXES = frozenset({".html", ".m3u8", ".vtt", ".txt"})
_UNIX = 3  # ZipInfo.create_system: the permissions in external_attr are Unix ones
_FILE_MODE = 0o100600  # a regular file, read-write by its owner only
_BLOCK_BYTES = 1 << 20


def _entry(name: str, path: Path) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
    info.create_system = _UNIX
    info.external_attr = _FILE_MODE << 16
    deflate = path.suffix.lower() in _DEFLATED_SUFFIXES
    info.compress_type = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    return info


def write_zip(files: Sequence[Path], zip_path: Path, top: str) -> Path:
    """Write ``files`` into a new zip at ``zip_path`` as ``<top>/<file name>``, in order; 0600.

    The caller publishes it (write to a temporary name, then rename).
    """
    names = [path.name for path in files]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:  # a zip may hold one name twice; a phone's unzip then keeps either
        raise ValueError(f"two files named {twice[0]} in one zip")
    with zip_path.open("wb") as stream, zipfile.ZipFile(stream, "w") as archive:
        for path in files:
            info = _entry(f"{top}/{path.name}", path)
            with path.open("rb") as source, archive.open(info, "w") as target:
                shutil.copyfileobj(source, target, _BLOCK_BYTES)
    zip_path.chmod(0o600)
    return zip_path
