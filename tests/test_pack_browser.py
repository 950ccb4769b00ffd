"""The home pack's page in a real headless Chromium, opened from ``file://``.

Chromium's ``--dump-dom`` gives the DOM after the page's script ran: the page writes each
track's loaded length (``data-loaded-s``) and its caption track's state (``data-cues``) into
it. A net log of the whole session shows which URLs were requested, and by whom.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

from imr_audio.export import decode_audio
from imr_audio.pack import HomePack, build_home_pack
from imr_audio.pack.page import format_clock
from imr_audio.track import RenderResult, RenderSettings
from imr_audio.workspace import Workspace
from support import chromium_path

pytestmark = pytest.mark.slow  # renders a track, then runs Chromium a few times

NETWORK_SCHEMES = ("http://", "https://", "ws://", "wss://")
BROWSER_ITSELF = "not an origin"  # the initiator of Chromium's own requests (updates ...)



@dataclass
class Visit:
    """What Chromium saw of one page."""

    elements: dict[str, dict[str, str]]
    """Every element with an id: its attributes, and its text under the key ``#text``."""
    requests: list[tuple[str, str]]
    """(initiator, URL) of every URL request in the net log."""
    console: list[str]
    """Console messages (CSP violations, script errors) from Chromium's log."""

    def page_requests(self) -> list[str]:
        """Network URLs the page asked for (not those of Chromium's own services)."""
        return [url for initiator, url in self.requests
                if initiator != BROWSER_ITSELF and url.startswith(NETWORK_SCHEMES)]


class _Elements(HTMLParser):
    """Every element with an id, with its attributes and the text inside it."""

    VOID = frozenset({"br", "hr", "img", "input", "link", "meta", "source", "track", "wbr"})

    def __init__(self) -> None:
        super().__init__()
        self.elements: dict[str, dict[str, str]] = {}
        self._open: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        key = values.get("id")
        if key is not None:
            self.elements[key] = {**values, "#text": ""}
        if tag not in self.VOID:
            self._open.append((tag, key))

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        for _, key in self._open:
            if key is not None:
                self.elements[key]["#text"] += data


def _net_requests(log: Path) -> list[tuple[str, str]]:
    data = json.loads(log.read_text(encoding="utf-8"))
    names = {number: name for name, number in data["constants"]["logEventTypes"].items()}
    return [
        (event["params"].get("initiator", ""), event["params"]["url"])
        for event in data["events"]
        if names[event["type"]] == "URL_REQUEST_START_JOB" and "url" in event.get("params", {})
    ]


def visit(page: Path, scratch: Path) -> Visit:
    """Open ``page`` from ``file://`` in headless Chromium; what it shows and requested."""
    scratch.mkdir(exist_ok=True)
    log = scratch / f"{page.parent.name}-net.json"
    done = subprocess.run(
        [chromium_path(), "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--no-first-run", "--mute-audio",
         f"--user-data-dir={scratch / 'profile'}", "--virtual-time-budget=8000",
         "--enable-logging=stderr", "--v=0",
         f"--log-net-log={log}", "--net-log-capture-mode=Everything",
         "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    )
    parser = _Elements()
    parser.feed(done.stdout)
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return Visit(parser.elements, _net_requests(log), console)


def _cues(captions: str) -> list[tuple[float, str]]:
    """(start in seconds, text on one line) of each cue of a WebVTT file."""
    cues = []
    for block in captions.strip().split("\n\n")[1:]:
        lines = block.split("\n")
        timing = next(i for i, line in enumerate(lines) if "-->" in line)
        hours, minutes, seconds = lines[timing].split(" --> ")[0].split(":")
        start = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
        cues.append((start, " ".join(lines[timing + 1:])))
    return cues


@pytest.fixture(scope="module")
def home_pack(
    mini_render: RenderResult,
    tmp_path_factory: pytest.TempPathFactory,
    test_templates: Path,
    write_client: Callable[..., Path], render_file: Callable[..., RenderResult]
) -> HomePack:
    """A pack of two real tracks: the session's mini render (WAV) and the breathe template
    rendered as MP3, the default format."""
    chromium_path()
    folder = tmp_path_factory.mktemp("browser-pack")
    client = write_client(folder)
    settings = RenderSettings(soundscape="rain", seed=3)
    breathe = render_file("breathe", client, folder / "tracks", settings).path
    workspace = Workspace.from_environment(templates_dir=test_templates)
    return build_home_pack(workspace, workspace.load_profile(client),
                           [mini_render.path, breathe], folder / "pack")


def test_each_track_loads_with_its_duration_and_captions(home_pack: HomePack,
                                                         tmp_path: Path) -> None:
    seen = visit(home_pack.page, tmp_path)
    assert seen.console == []  # no policy violation, no script error
    assert len(home_pack.tracks) == 2
    for number, track in enumerate(home_pack.tracks, start=1):
        audio = home_pack.folder / track.file_name
        samples, rate = decode_audio(audio)
        length = seen.elements[f"track-{number}-length"]
        assert "data-loaded-s" in length, f"track {number} loaded no metadata"
        loaded_s = float(length["data-loaded-s"])
        assert abs(loaded_s - len(samples) / rate) <= 0.5, (track.file_name, loaded_s)
        assert length["#text"] == format_clock(loaded_s)  # what the listener sees
        assert seen.elements[f"track-{number}"].get("data-state") != "error"
        caption = seen.elements[f"track-{number}-caption"]
        cues = _cues(Path(f"{audio}.vtt").read_text(encoding="utf-8"))
        assert caption["data-state"] == "loaded"
        assert int(caption["data-cues"]) == len(cues) > 0


def test_captions_follow_the_playback_position(home_pack: HomePack, tmp_path: Path) -> None:
    # The page opened at a cue's time (a media fragment on the first track's src) shows that
    # cue: the caption area follows the audio's position through the track's cues.
    track = home_pack.tracks[0]
    cues = _cues((home_pack.folder / track.captions.name).read_text(encoding="utf-8"))
    start_s, text = cues[len(cues) // 2]
    copy = tmp_path / "pack"
    shutil.copytree(home_pack.folder, copy)
    page = copy / "index.html"
    html = page.read_text(encoding="utf-8")
    assert html.count(f'src="{track.file_name}"') == 1
    page.write_text(html.replace(f'src="{track.file_name}"',
                                 f'src="{track.file_name}#t={start_s + 0.2:.3f}"'),
                    encoding="utf-8")
    seen = visit(page, tmp_path / "chromium")
    assert seen.elements["track-1-caption"]["#text"] == text
    assert seen.elements["track-2-caption"]["#text"] == ""  # the other track has not played


def test_page_makes_no_network_request(home_pack: HomePack, tmp_path: Path) -> None:
    seen = visit(home_pack.page, tmp_path)
    assert seen.page_requests() == []
    assert seen.requests  # the log did record requests (Chromium's own)


def test_control_page_request_is_caught_and_the_policy_blocks_it(home_pack: HomePack,
                                                                   tmp_path: Path) -> None:
    # A page with an external image and audio makes requests the check above would catch ...
    control = tmp_path / "control" / "index.html"
    control.parent.mkdir()
    external = ('<img src="https://example.invalid/pixel.png" alt="">'
                '<audio src="http://example.invalid/track.mp3" preload="metadata"></audio>')
    control.write_text(f'<!DOCTYPE html><html lang="en"><title>control</title>{external}'
                       "</html>", encoding="utf-8")
    assert set(visit(control, tmp_path / "chromium").page_requests()) == {
        "https://example.invalid/pixel.png", "http://example.invalid/track.mp3"}
    # ... and the pack's page with the same elements slipped in makes none: its policy blocks.
    copy = tmp_path / "pack"
    shutil.copytree(home_pack.folder, copy)
    page = copy / "index.html"
    page.write_text(page.read_text(encoding="utf-8").replace("<main>", f"<main>{external}"),
                    encoding="utf-8")
    seen = visit(page, tmp_path / "chromium")
    assert seen.page_requests() == []
    assert any("Content Security Policy" in line for line in seen.console)
