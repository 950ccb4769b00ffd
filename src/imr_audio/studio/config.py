"""What a studio serves: its folder (clients, tracks, home packs) and how it is reached."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from imr_audio.errors import ImrAudioError
from imr_audio.files import private_dir

__all__ = ["AREAS", "StudioConfig", "StudioFolder", "StudioPathError"]

AREAS = ("clients", "tracks", "home-packs", "recordings")
"""The folder's areas the page may read files from."""

_CLIENT_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{1,39}$")


class StudioPathError(ImrAudioError):
    """A path from the page that leaves the studio's folder, or names no allowed file."""


@dataclass(frozen=True)
class StudioConfig:
    """How the studio is reached and what it serves."""

    folder: Path
    """The studio's folder (``--folder``): ``clients/``, ``tracks/``, ``home-packs/``."""
    token: str
    """The secret of this launch (``secrets.token_urlsafe``); every request must show it."""
    port: int
    """The TCP port the server listens on (known once bound)."""
    host: str = "127.0.0.1"
    """The address it listens on; beyond loopback only with ``--host``."""
    max_jobs: int = 1
    """Renders run at once."""
    max_form_bytes: int = 1 << 20
    """Largest form body accepted, in bytes."""

    @property
    def cookie_name(self) -> str:
        """The token's cookie: one per port, so two studios on one machine do not mix."""
        return f"imr-studio-{self.port}"

    @property
    def allowed_hosts(self) -> frozenset[str]:
        """The Host headers accepted (against DNS rebinding)."""
        names = {"localhost", "127.0.0.1", "[::1]"}
        if self.host not in ("127.0.0.1", "localhost"):
            names.add(f"[{self.host}]" if ":" in self.host else self.host)
        return frozenset(f"{name}:{self.port}" for name in names)

    @property
    def allowed_origins(self) -> frozenset[str]:
        """The Origin headers accepted on requests that change something."""
        return frozenset(f"http://{host}" for host in self.allowed_hosts)

    @property
    def url(self) -> str:
        """The page's address with the token: the first line the command prints."""
        host = self.host
        if host in ("0.0.0.0", "::"):  # every address: this computer's own is one of them
            host = "127.0.0.1"
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}/?token={self.token}"


class StudioFolder:
    """The studio's folder and the safe way from a name on the page to a file in it."""

    def __init__(self, root: Path) -> None:
        """The folder ``root`` (made 0700 with its areas if missing)."""
        self.root = private_dir(Path(root).absolute()).resolve()
        for area in AREAS:
            private_dir(self.root / area)

    @property
    def clients(self) -> Path:
        """Client profiles, ``<id>.yaml``."""
        return self.root / "clients"

    @property
    def tracks(self) -> Path:
        """Rendered tracks and their companions."""
        return self.root / "tracks"

    @property
    def home_packs(self) -> Path:
        """Home packs, ``<client id>/`` and ``<client id>.zip``."""
        return self.root / "home-packs"

    @property
    def recordings(self) -> Path:
        """The therapist's own recordings, uploaded to loop as soundscapes."""
        return self.root / "recordings"

    def recording_names(self) -> list[str]:
        """The recordings' file names, sorted."""
        from imr_audio.soundscapes.audio_file import AUDIO_SUFFIXES

        return sorted(p.name for p in self.recordings.iterdir()
                      if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file()
                      and not p.is_symlink() and not p.name.startswith("."))

    def soundscape(self, choice: str | None, names: list[str]) -> str | None:
        """The soundscape a page's choice names: a catalog name, or ``recordings/<file>``."""
        if not choice:
            return None
        if choice in names:
            return choice
        area, _, name = choice.partition("/")
        if area == "recordings" and name in self.recording_names():
            return str(self.inside("recordings", name))
        raise StudioPathError("no such soundscape")

    @property
    def templates(self) -> Path | None:
        """The therapist's own templates (``templates/``), if the folder has them."""
        folder = self.root / "templates"
        return folder if folder.is_dir() else None

    @property
    def private(self) -> Path:
        """The studio's own scratch folder (auditions, notes, cancel marks), 0700."""
        return private_dir(self.root / ".studio")

    def client_ids(self) -> list[str]:
        """The ids of the profiles in ``clients/`` (from the file names), sorted."""
        return sorted(
            path.stem for path in self.clients.glob("*.yaml")
            if _CLIENT_ID.match(path.stem) and path.is_file() and not path.is_symlink()
        )

    def profile_ids(self) -> dict[str, str | None]:
        """Each profile file's name (as :meth:`client_ids`) and the id written in it.

        The two differ for a profile copied in under another name; its tracks are named by the
        id inside. None where the file cannot be read or holds no id.
        """
        from imr_audio.errors import ImrAudioError
        from imr_audio.yamlfile import read_yaml

        ids: dict[str, str | None] = {}
        for name in self.client_ids():
            try:
                data = read_yaml(self.clients / f"{name}.yaml")
            except ImrAudioError:
                data = None
            inner = data.get("id") if isinstance(data, dict) else None
            ids[name] = inner if isinstance(inner, str) else None
        return ids

    def client_file(self, client_id: str) -> Path:
        """The profile file of ``client_id``; refuses an id that is not a pseudonymous id."""
        if not _CLIENT_ID.match(client_id):
            raise StudioPathError("not a client id")
        return self.inside("clients", f"{client_id}.yaml")

    def inside(self, area: str, relative: str) -> Path:
        """``relative`` under ``area``, refused if it leaves the folder (``..``, a link out)."""
        if area not in AREAS or not relative or "\x00" in relative:
            raise StudioPathError("no such file")
        base = (self.root / area).resolve()
        path = (base / relative).resolve()
        if not path.is_relative_to(base) or any(part.startswith(".") for part in
                                                 path.relative_to(base).parts):
            raise StudioPathError("no such file")
        return path
