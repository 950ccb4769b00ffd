"""The studio: a local web page for therapists over the library (``imr-audio studio``).

:func:`~imr_audio.studio.app.create_app` builds the ASGI app for a :class:`StudioConfig`;
:func:`~imr_audio.studio.server.serve` runs it on 127.0.0.1. Every page handler parses the
request, calls one library function and renders a template; the security rules (token, Host,
Origin, headers) live in :mod:`imr_audio.studio.security`.
"""

from __future__ import annotations

from imr_audio.studio.config import StudioConfig, StudioFolder

__all__ = ["StudioConfig", "StudioFolder"]
