"""The home pack's ``index.html`` player and its M3U playlist.

The page is one self-contained file: its style and script are inline and allowed by their
hashes in a Content-Security-Policy that forbids every other source, so it makes no network
request. Each track's captions are embedded as a ``data:`` URL, because browsers do not load a
``<track src="x.vtt">`` from a page opened from the file system (``file:`` pages are unique
origins and text tracks need CORS). The page names tracks by their template titles only; the
client's name and profile values never appear in its text (the embedded captions hold the
track's spoken words, like the audio beside it).
"""

from __future__ import annotations

import base64
import hashlib
import html
import string
from collections.abc import Sequence
from importlib import resources
from urllib.parse import quote

from imr_audio.pack.tracks import PackTrack

__all__ = [
    "CLIENT_META",
    "GENERATOR",
    "content_security_policy",
    "format_clock",
    "page_html",
    "page_title",
    "playlist_m3u",
]

CLIENT_META = "imr-audio-client"
"""Name of the page's meta holding the keyed hash of the client's id (for purge)."""
GENERATOR = "imr-audio home pack"
"""The page's ``generator`` meta: marks a folder as a home pack that a new build may replace."""


def _asset(name: str) -> str:
    """The text of a file shipped in this package (page template, style, script)."""
    return (resources.files(__package__) / name).read_text(encoding="utf-8")


def _sha256_source(text: str) -> str:
    """A CSP hash source for an inline ``<script>`` or ``<style>`` holding exactly ``text``."""
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return f"'sha256-{digest}'"


def content_security_policy(style: str, script: str) -> str:
    """The page's policy: nothing but its own inline style and script, tracks and captions.

    ``media-src 'self'`` lets the audio files beside the page play (Chromium counts a
    ``file:`` URL as 'self' on a ``file:`` page); ``data:`` is for the embedded captions.
    """
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src {_sha256_source(script)}",
            f"style-src {_sha256_source(style)}",
            "media-src 'self' data:",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )


def format_clock(seconds: float) -> str:
    """``m:ss`` (or ``h:mm:ss``) of a length in seconds, rounded to the second."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _captions_url(captions: str) -> str:
    return "data:text/vtt;charset=utf-8;base64," + base64.b64encode(
        captions.encode("utf-8")
    ).decode("ascii")


def _track_html(number: int, track: PackTrack, captions: str) -> str:
    """One track's section: heading, length, native player, caption area, file links."""
    key = f"track-{number}"
    name = html.escape(quote(track.file_name), quote=True)  # a relative URL
    title = html.escape(track.title)
    links = [f'<a href="{name}" download>Audio file</a>']
    if track.transcript is not None:
        text_name = html.escape(quote(track.transcript.name), quote=True)
        links.append(f'<a href="{text_name}">The words of this track (text)</a>')
    return (
        f'<article class="track" aria-labelledby="{key}-title">\n'
        f'<h3 id="{key}-title">{title}</h3>\n'
        f'<p class="meta">Length <span class="length" id="{key}-length">'
        f"{format_clock(track.duration_s)}</span></p>\n"
        f'<audio id="{key}" data-track="{number}" controls preload="metadata" src="{name}" '
        f'aria-labelledby="{key}-title">\n'
        f'<track kind="captions" srclang="en" label="Captions" default '
        f'src="{_captions_url(captions)}">\n'
        f'Your browser cannot play this track here: <a href="{name}">open the audio file</a>.\n'
        "</audio>\n"
        f'<p class="status" id="{key}-status" role="status"></p>\n'
        f'<label><input type="checkbox" id="{key}-show-captions" checked> '
        f'Show captions<span class="visually-hidden"> of {title}</span></label>\n'
        f'<div class="captions" id="{key}-caption" aria-live="polite" aria-atomic="true" '
        f'aria-label="Captions: {title}"></div>\n'
        f'<p class="files">{" ".join(links)}</p>\n'
        "</article>\n"
    )


def _note_html(note: str | None) -> str:
    if not note:
        return ""
    return (
        '<section class="note" aria-labelledby="note-heading">\n'
        '<h2 id="note-heading">A note from your therapist</h2>\n'
        f"<p>{html.escape(note)}</p>\n"
        "</section>\n"
    )


def page_title(tracks: Sequence[PackTrack]) -> str:
    """The page's title: the tracks' template titles."""
    titles = list(dict.fromkeys(track.title for track in tracks))
    return ", ".join(titles) + " - listening at home"


def page_html(
    tracks: Sequence[PackTrack],
    captions: Sequence[str],
    note: str | None = None,
    client_hash: str = "",
) -> str:
    """``index.html``: a player for ``tracks`` (files beside it) with their ``captions``.

    ``captions`` holds each track's WebVTT text, in the order of ``tracks``. ``note`` (plain
    text) is shown escaped, line breaks kept. ``client_hash`` (the keyed hash of the client's
    id, which reveals nothing) lets ``imr-audio purge`` recognise the client's packs.
    """
    style, script = _asset("page.css"), _asset("page.js")
    sections = "".join(
        _track_html(number, track, text)
        for number, (track, text) in enumerate(zip(tracks, captions, strict=True), start=1)
    )
    return string.Template(_asset("page.html")).substitute(
        csp=html.escape(content_security_policy(style, script), quote=True),
        generator=GENERATOR,
        client_hash=html.escape(client_hash, quote=True),
        title=html.escape(page_title(tracks)),
        style=style,
        script=script,
        note=_note_html(note),
        tracks=sections,
    )


def playlist_m3u(tracks: Sequence[PackTrack]) -> str:
    """An extended M3U playlist (UTF-8, for a ``.m3u8`` file) of ``tracks`` by file name."""
    lines = ["#EXTM3U"]
    for track in tracks:
        lines.append(f"#EXTINF:{round(track.duration_s)},{track.title}")
        lines.append(track.file_name)
    return "\n".join(lines) + "\n"
