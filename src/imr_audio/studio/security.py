"""The studio's guard: every request shows the launch's token and comes from its own page.

The rules, after the Jupyter server's:

* **Host**: only ``localhost``, ``127.0.0.1`` or ``[::1]`` with the port (and the ``--host``
  address), so a page of another site cannot reach the server through DNS rebinding.
* **Token**: the URL printed at launch carries ``?token=``; the first visit moves it into an
  HttpOnly, SameSite=Strict cookie (named per port) and redirects (303) to the same address
  without it. Every other request, static files included, needs the cookie. Compared in
  constant time.
* **Origin**: a request that is not GET or HEAD needs an allowed ``Origin`` (``null``, which a
  form may send, only with ``Sec-Fetch-Site: same-origin``), else ``Sec-Fetch-Site:
  same-origin``.
* **Size**: a body larger than the limit is refused, by its Content-Length and while it streams.
* **Headers** on every response, errors included: a CSP of ``default-src 'self'``, no caching,
  no sniffing, no framing, same-origin referrers.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from starlette.exceptions import HTTPException

from imr_audio.studio.config import StudioConfig

__all__ = ["SECURITY_HEADERS", "Guard", "guard_logger"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("content-security-policy",
     "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
     "object-src 'none'"),
    ("cache-control", "no-store"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
)
"""Set on every response."""

guard_logger = logging.getLogger("imr_audio.studio")
"""The studio's log: method, path (never a query string) and status; never a client's value."""

_SAFE_METHODS = frozenset({"GET", "HEAD"})


class _TooLarge(HTTPException):
    """The request body went over the limit while streaming (the app answers 413)."""

    def __init__(self) -> None:
        super().__init__(413)


class Guard:
    """ASGI middleware enforcing the rules above around the studio's app."""

    def __init__(self, app: ASGIApp, config: StudioConfig,
                 body_limit: Callable[[str], int] | None = None) -> None:
        """Guard ``app`` for ``config``; ``body_limit(path)`` is the largest body, in bytes."""
        self.app = app
        self.config = config
        self.body_limit = body_limit or (lambda path: config.max_form_bytes)
        self._token = config.token.encode("utf-8")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the request, then pass it on with the headers added to the response."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status: list[int] = [0]

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                names = {name for name, _ in SECURITY_HEADERS}
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.decode("latin-1").lower() not in names]
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS]
                message["headers"] = headers
            await send(message)

        method = scope["method"]
        path = scope.get("path", "")
        try:
            await self._guarded(scope, receive, send_secured)
        finally:
            guard_logger.info("%s %s %s", method, path, status[0])

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        if headers.get("host", "").lower() not in self.config.allowed_hosts:
            await _plain(send, 400, "Bad host: open the studio through the address it printed.")
            return
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"),
                          keep_blank_values=True)
        given = [value for key, value in query if key == "token"]
        if given:
            if scope["method"] not in _SAFE_METHODS or not self._matches(given[-1]):
                await _plain(send, 403, "Wrong token: open the address the studio printed.")
                return
            rest = urlencode([(k, v) for k, v in query if k != "token"])
            # One leading slash: "//host/..." would send the browser to another site.
            path = "/" + quote(scope.get("path", "/").lstrip("/\\"), safe="/-._~")
            location = path + (f"?{rest}" if rest else "")
            cookie = (f"{self.config.cookie_name}={self.config.token}; Path=/; HttpOnly; "
                      "SameSite=Strict")
            await _plain(send, 303, "See Other", [("location", location),
                                                  ("set-cookie", cookie)])
            return
        if not self._matches(_cookie(headers.get("cookie", ""), self.config.cookie_name)):
            await _plain(send, 403, "No token: open the address the studio printed.")
            return
        if scope["method"] not in _SAFE_METHODS and not self._same_origin(headers):
            await _plain(send, 403, "Refused: the request did not come from the studio's page.")
            return
        limit = self.body_limit(scope.get("path", ""))
        length = headers.get("content-length", "")
        if length and (not length.isdigit() or int(length) > limit):
            await _plain(send, 413, "Too large.")
            return
        started: list[bool] = [False]
        received = [0]

        async def receive_limited() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                received[0] += len(message.get("body", b""))
                if received[0] > limit:
                    raise _TooLarge()
            return message

        async def send_tracked(message: Message) -> None:
            if message["type"] == "http.response.start":
                started[0] = True
            await send(message)

        try:
            await self.app(scope, receive_limited, send_tracked)
        except _TooLarge:
            if not started[0]:
                await _plain(send, 413, "Too large.")
        except Exception as exc:  # a bug: logged by its type only (its text may hold values)
            guard_logger.error("%s %s: unexpected error (%s)", scope["method"],
                               scope.get("path", ""), type(exc).__name__)
            if not started[0]:
                await _plain(send, 500, "Error.")

    def _matches(self, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(token.encode("utf-8"), self._token)

    def _same_origin(self, headers: dict[str, str]) -> bool:
        origin = headers.get("origin")
        same_site = headers.get("sec-fetch-site") == "same-origin"
        if origin is None or origin == "null":
            return same_site
        return origin in self.config.allowed_origins


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


async def _plain(send: Send, status: int, text: str,
                 extra: list[tuple[str, str]] | None = None) -> None:
    body = (text + "\n").encode("utf-8")
    headers = [("content-type", "text/plain; charset=utf-8"), ("content-length", str(len(body))),
               *(extra or [])]
    await send({"type": "http.response.start", "status": status,
                "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]})
    await send({"type": "http.response.body", "body": body})
