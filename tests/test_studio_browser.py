"""The studio in a real browser (Chromium through Playwright) against the real server.

A therapist's whole path: create a client through the form, choose template and client, see a
lint finding appear in the live preview as a value is typed, render, reload during the render
and see the job carry on to done, play the track, build the home pack and download its zip.
Every request stays on the studio's own address, no CSP error reaches the console, and the
server's log holds neither the client's values nor the token.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from support import chromium_path

pytestmark = pytest.mark.slow

TEMPLATES = Path(__file__).parent / "data" / "templates"
SCREENSHOT_ENV = "IMR_STUDIO_SCREENSHOT"
"""Set to a file name to save a screenshot of the prepare page there (docs/studio.png)."""



@dataclass
class Server:
    url: str
    origin: str
    token: str
    folder: Path
    process: subprocess.Popen[str]
    stderr: Path
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    folder = tmp_path / "studio"
    folder.mkdir()
    shutil.copytree(TEMPLATES, folder / "templates")
    stderr = tmp_path / "stderr.log"
    with stderr.open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "imr_audio", "-v", "studio", "--folder", str(folder),
             "--port", "0", "--no-browser"],
            stdout=subprocess.PIPE, stderr=err, text=True)
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    match = re.fullmatch(r"(http://127\.0\.0\.1:\d+)/\?token=([\w-]+)", url)
    assert match, url
    yield Server(url, match[1], match[2], folder, process, stderr)
    if process.poll() is None:
        process.kill()
        process.wait(10)


def test_a_therapists_path_through_the_studio(server: Server, tmp_path: Path) -> None:
    chromium = chromium_path()
    from playwright import sync_api  # the test extra installs it (never its own browsers)

    console: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium,
                                             args=["--no-sandbox", "--mute-audio"])
        context = browser.new_context(viewport={"width": 1280, "height": 900},
                                      accept_downloads=True)
        page = context.new_page()
        page.on("request", lambda request: server.requests.append(request.url))
        page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
        page.set_default_timeout(30_000)

        page.goto(server.url)
        assert "token" not in page.url and page.url.startswith(server.origin)

        # A new client, through the form (a list row added by the button).
        page.get_by_role("link", name="New client").click()
        page.wait_for_url(re.compile(r".*/clients/new$"))
        page.wait_for_load_state()  # studio.js in place (the list buttons)
        page.get_by_label("Pseudonymous id").fill("c-201")
        page.get_by_label("Preferred name").fill("Morwenna")
        page.get_by_label("Avoid-list 1").fill("lifts")
        page.locator("#f-avoid-box").get_by_role("button", name="Add a row").click()
        page.get_by_label("Avoid-list 2").fill("crowds")
        page.locator("#f-safe_place-description").fill(
            "You sit on a bench by a quiet pond. The air is mild.")
        page.locator("#f-safe_place-cue_word").fill("pond")
        page.get_by_role("button", name="Save client").click()
        page.wait_for_url(re.compile(r".*/clients/c-201\?saved=1$"))
        profile = (server.folder / "clients" / "c-201.yaml").read_text()
        assert "crowds" in profile and "Morwenna" in profile

        # Prepare: template and client; a value that the lint flags shows in the preview.
        page.get_by_role("link", name="Prepare a track").first.click()
        page.wait_for_url(re.compile(r".*/prepare$"))
        page.get_by_label("Template").select_option("mini")
        page.get_by_label("Client").select_option("c-201")
        page.get_by_role("button", name="Show the fields").click()
        page.wait_for_selector("[data-preview] .script")
        assert page.locator("[data-preview] .flagged").count() == 0
        description = page.locator("#f-safe_place-description")
        description.fill("")
        description.press_sequentially("You ride the lifts up to a quiet pond. It is mild.")
        page.wait_for_selector("[data-preview] .flagged .finding-error")
        assert "avoid-list" in page.locator("[data-preview] .flagged").first.inner_text()
        assert re.search(r"\d+ words per minute", page.locator("[data-preview]").inner_text())
        if os.environ.get(SCREENSHOT_ENV):
            page.screenshot(path=os.environ[SCREENSHOT_ENV], full_page=False)
        description.fill("You sit on a bench by a quiet pond. The air is mild.")
        page.get_by_role("button", name="Preview").click()
        sync_api.expect(page.locator("[data-preview] .flagged")).to_have_count(0)
        sync_api.expect(page.locator("[data-preview] .script")).to_have_count(1)

        # Usable at 360 px: nothing wider than the screen.
        page.set_viewport_size({"width": 360, "height": 740})
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.set_viewport_size({"width": 1280, "height": 900})

        # Render, reload while it runs, and see it through to done.
        page.get_by_label("Format").select_option("mp3")
        page.get_by_role("button", name="Render").click()
        page.wait_for_url(re.compile(r".*/jobs/[\w-]+$"))
        job_url = page.url
        assert page.locator("[data-state]").inner_text() in ("queued", "running")
        page.reload()
        assert page.url == job_url
        page.wait_for_selector("audio#player", timeout=240_000)
        assert page.locator("[data-state]").inner_text() == "done"
        duration = page.evaluate(
            """() => new Promise(resolve => {
                 const audio = document.getElementById('player');
                 if (audio.readyState >= 1) { resolve(audio.duration); return; }
                 audio.addEventListener('loadedmetadata', () => resolve(audio.duration));
                 audio.addEventListener('error', () => resolve(-1));
               })""")
        assert duration > 0
        assert page.locator("track[kind=captions]").count() == 1
        assert page.locator("[data-seek]").count() >= 1

        # The tracks page finds it too, with its chapters read from the MP3's tags; a chapter
        # button seeks the player there.
        page.goto(f"{server.origin}/tracks")
        page.get_by_role("link", name="c-201_mini.mp3").click()
        chapter = page.locator("[data-seek]").last
        start_s = float(chapter.get_attribute("data-seek") or "0")
        assert start_s > 0
        chapter.click()
        assert abs(page.evaluate("document.getElementById('player').currentTime")
                   - start_s) < 2.0

        # The job is listed on the jobs page after leaving it.
        page.goto(f"{server.origin}/jobs")
        assert page.get_by_text("done").count() >= 1
        page.goto(job_url)

        # Home pack with a note, and its zip downloaded.
        page.get_by_label("Your note to the client").fill("Once a day, somewhere quiet.")
        page.get_by_role("button", name="Build home pack").click()
        page.wait_for_selector("[data-pack-zip]")
        with page.expect_download() as download_info:
            page.locator("[data-pack-zip]").click()
        saved = tmp_path / "pack.zip"
        download_info.value.save_as(saved)
        assert any(name.endswith("index.html") for name in zipfile.ZipFile(saved).namelist())
        browser.close()

    foreign = [url for url in server.requests if not url.startswith(server.origin + "/")]
    assert not foreign
    assert not [line for line in console if "Content Security Policy" in line], console
    assert not [line for line in console if line.startswith("error")], console

    server.process.send_signal(signal.SIGINT)
    server.process.wait(30)
    log = server.stderr.read_text()
    assert "imr-audio: studio stopped" in log.splitlines()[-1]
    assert "Traceback" not in log
    assert "GET /jobs" in log
    for secret in ("Morwenna", "lifts", "crowds", "pond", "mild", server.token):
        assert secret not in log
