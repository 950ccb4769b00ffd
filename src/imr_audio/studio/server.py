"""Run the studio: bind the port, print the address with its token, serve until Ctrl-C."""

from __future__ import annotations

import contextlib
import logging
import secrets
import socket
import threading
import webbrowser
from collections.abc import Callable
from pathlib import Path

from imr_audio.errors import ImrAudioError
from imr_audio.studio.config import StudioConfig

__all__ = ["LOOPBACK", "StudioPortError", "bind", "serve"]

LOOPBACK = "127.0.0.1"
"""Where the studio listens unless ``--host`` says otherwise."""

log = logging.getLogger("imr_audio.studio")


class StudioPortError(ImrAudioError):
    """The studio's port cannot be listened on (taken by another program, or not allowed)."""


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``:``port`` (0: a free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.bind((host, port))
        sock.listen(64)
    except OSError as exc:
        sock.close()
        reason = "it is in use" if exc.errno in (98, 48, 10048) else (exc.strerror or "refused")
        raise StudioPortError(f"cannot listen on {host} port {port}: {reason.lower()}; "
                              "choose another with --port (0 picks a free one)") from None
    return sock


def _warm_up() -> None:
    """Import the render and preview code now, so the first preview or render is not slow."""
    with contextlib.suppress(Exception):
        import imr_audio.pack
        import imr_audio.script
        import imr_audio.track  # noqa: F401


def serve(folder: Path, port: int, host: str = LOOPBACK, open_browser: bool = True,
          echo: Callable[[str], None] = print, max_jobs: int = 1) -> None:
    """Serve the studio of ``folder`` until interrupted; ``echo`` prints its address first.

    ``max_jobs`` renders run at once, each in a worker process; the others wait their turn.
    """
    import uvicorn

    from imr_audio.studio.app import create_app

    sock = bind(host, port)
    config = StudioConfig(folder=folder, token=secrets.token_urlsafe(32),
                          port=sock.getsockname()[1], host=host, max_jobs=max_jobs)
    servers: list[uvicorn.Server] = []
    app = create_app(config, stopping=lambda: bool(servers and servers[0].should_exit))
    echo(config.url)
    if open_browser:
        with contextlib.suppress(Exception):
            webbrowser.open(config.url)
    level = logging.getLogger().getEffectiveLevel()
    server = uvicorn.Server(uvicorn.Config(
        app, log_config=None, access_log=False, log_level=max(level, logging.INFO),
        timeout_graceful_shutdown=5, lifespan="on", server_header=False,
    ))
    servers.append(server)
    threading.Thread(target=_warm_up, daemon=True, name="studio-warm-up").start()
    log.info("serving %s", config.folder)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
