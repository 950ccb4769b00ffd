"""The studio's web app in-process: token, Host and Origin rules, headers, paths, the client
form, the preview. (Renders through the job queue: test_studio_jobs.py; the browser:
test_studio_browser.py.)"""

from __future__ import annotations

import logging
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from starlette.testclient import TestClient

from imr_audio.studio.app import Studio, create_app
from imr_audio.studio.config import StudioConfig
from imr_audio.workspace import Workspace

PORT = 8765
TOKEN = "test-token-0123456789"
BASE = f"http://127.0.0.1:{PORT}"
ORIGIN = {"Origin": BASE}
COOKIE = f"imr-studio-{PORT}"
TEMPLATES = Path(__file__).parent / "data" / "templates"


@pytest.fixture
def folder(tmp_path: Path, write_client) -> Path:
    root = tmp_path / "studio"
    (root / "clients").mkdir(parents=True)
    write_client(root / "clients", "t-017.yaml")
    shutil.copytree(TEMPLATES, root / "templates")
    return root


@pytest.fixture
def app(folder: Path, workspace: Workspace):
    return create_app(StudioConfig(folder=folder, token=TOKEN, port=PORT),
                      workspace.config)


@pytest.fixture
def anonymous(app) -> Iterator[TestClient]:
    with TestClient(app, base_url=BASE, follow_redirects=False) as client:
        yield client


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app, base_url=BASE, follow_redirects=False) as client:
        client.cookies.set(COOKIE, TOKEN)
        yield client


def studio(app) -> Studio:
    return app.app.state.studio


def _form(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "c-100", "preferred_name": "Morwenna", "avoid": ["lifts"],
        "eligibility.psychosis": "", "preferences.voice": "calm",
        "safe_place.description": "You sit on a bench by a quiet pond. The air is mild.",
        "safe_place.cue_word": "pond",
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


# --- token, Host, Origin ---------------------------------------------------------------------

def test_token_in_url_becomes_a_cookie_and_leaves_the_address_bar(anonymous: TestClient) -> None:
    response = anonymous.get(f"/prepare?template=mini&token={TOKEN}")
    assert response.status_code == 303
    assert response.headers["location"] == "/prepare?template=mini"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}={TOKEN};")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert anonymous.get("/clients").status_code == 200


@pytest.mark.parametrize("path", ["/", "/clients", "/clients/t-017", "/static/studio.js",
                                  "/static/studio.css", "/files/tracks/x.mp3", "/jobs",
                                  "/nope"])
def test_no_token_or_a_wrong_one_is_refused(anonymous: TestClient, path: str) -> None:
    assert anonymous.get(path).status_code == 403
    anonymous.cookies.set(COOKIE, TOKEN[:-1] + "x")
    assert anonymous.get(path).status_code == 403
    assert anonymous.get(f"{path}?token=wrong").status_code == 403


def test_a_cookie_of_another_port_is_no_token(anonymous: TestClient) -> None:
    anonymous.cookies.set(f"imr-studio-{PORT + 1}", TOKEN)
    assert anonymous.get("/clients").status_code == 403


@pytest.mark.parametrize("host", ["evil.example:8765", "127.0.0.1:8766", "localhost",
                                  "127.0.0.1.nip.io:8765", ""])
def test_a_foreign_host_is_refused_even_with_the_token(client: TestClient, host: str) -> None:
    response = client.get("/clients", headers={"Host": host})
    assert response.status_code == 400
    assert client.get(f"/?token={TOKEN}", headers={"Host": host}).status_code == 400


@pytest.mark.parametrize("host", ["localhost:8765", "127.0.0.1:8765", "[::1]:8765"])
def test_loopback_hosts_pass(client: TestClient, host: str) -> None:
    assert client.get("/clients", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("headers", [
    {},
    {"Origin": "http://evil.example"},
    {"Origin": f"http://127.0.0.1:{PORT + 1}"},
    {"Origin": "null"},
    {"Origin": "null", "Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
    {"Origin": "http://evil.example", "Sec-Fetch-Site": "same-origin"},
])
def test_a_post_from_elsewhere_is_refused_and_writes_nothing(
    client: TestClient, folder: Path, headers: dict[str, str]
) -> None:
    response = client.post("/clients", data=_form(), headers=headers)
    assert response.status_code == 403
    assert not (folder / "clients" / "c-100.yaml").exists()


@pytest.mark.parametrize("headers", [
    ORIGIN,
    {"Origin": f"http://localhost:{PORT}"},
    {"Sec-Fetch-Site": "same-origin"},
    {"Origin": "null", "Sec-Fetch-Site": "same-origin"},
])
def test_a_post_from_the_page_passes(client: TestClient, folder: Path,
                                     headers: dict[str, str]) -> None:
    response = client.post("/clients", data=_form(), headers=headers)
    assert response.status_code == 303, response.text
    assert (folder / "clients" / "c-100.yaml").is_file()


def test_a_body_over_the_limit_is_refused(client: TestClient) -> None:
    response = client.post("/clients", data=_form(preferred_name="x" * (1 << 20)),
                           headers=ORIGIN)
    assert response.status_code == 413


# --- headers on every response ---------------------------------------------------------------

@pytest.mark.parametrize("path,status", [("/clients", 200), ("/nope", 404),
                                         ("/static/studio.js", 200), ("/clients/new", 200)])
def test_security_headers_on_pages_and_errors(client: TestClient, path: str,
                                              status: int) -> None:
    response = client.get(path)
    assert response.status_code == status
    _assert_secured(response.headers)


def test_security_headers_on_refusals(anonymous: TestClient) -> None:
    _assert_secured(anonymous.get("/clients").headers)
    _assert_secured(anonymous.get("/clients", headers={"Host": "evil.example"}).headers)
    _assert_secured(anonymous.get(f"/?token={TOKEN}").headers)


def _assert_secured(headers) -> None:
    csp = headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert headers["cache-control"] == "no-store"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-frame-options"] == "DENY"


def test_pages_load_nothing_from_elsewhere_and_have_no_inline_code(client: TestClient) -> None:
    for path in ["/clients", "/clients/new", "/prepare?template=mini&client=t-017", "/jobs"]:
        html = client.get(path).text
        assert "http://" not in html and "https://" not in html and "//" not in html.replace(
            "</", "")
        assert "<script>" not in html and "style=" not in html and "<style" not in html
        assert 'onclick' not in html


# --- paths -----------------------------------------------------------------------------------

@pytest.mark.parametrize("path", [
    "/files/tracks/../clients/t-017.yaml",
    "/files/tracks/%2e%2e/clients/t-017.yaml",
    "/files/tracks/..%2fclients%2ft-017.yaml",
    "/files/tracks/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/files/clients/t-017.yaml",
    "/files/recordings/x.wav",
    "/files/templates/mini.j2",
    "/files/tracks/.studio",
    "/files/..%2f..%2fetc/passwd",
    "/static/..%2fapp.py",
    "/static/security.py",
    "/clients/..%2f..%2fetc%2fpasswd",
    "/clients/T-017",
    "/prepare?template=mini&client=..%2ft-017",
])
def test_paths_never_leave_the_folder(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code in (400, 404), path
    assert "preferred_name" not in response.text and "root:" not in response.text


def test_a_link_out_of_the_folder_is_refused(client: TestClient, folder: Path,
                                             tmp_path: Path) -> None:
    outside = tmp_path / "secret.mp3"
    outside.write_bytes(b"ID3 secret")
    (folder / "tracks" / "link.mp3").symlink_to(outside)
    (folder / "tracks" / "dir").symlink_to(tmp_path)
    (folder / "tracks" / "inside.mp3").write_bytes(b"ID3 fine")
    assert client.get("/files/tracks/link.mp3").status_code == 404
    assert client.get("/files/tracks/dir/secret.mp3").status_code == 404
    assert client.get("/files/tracks/inside.mp3").content == b"ID3 fine"


# --- clients ---------------------------------------------------------------------------------

def test_the_client_list_shows_ids_only(client: TestClient) -> None:
    html = client.get("/clients").text
    assert "t-017" in html and "Robin" not in html


def test_client_form_saves_private_yaml_that_the_library_loads(
    client: TestClient, folder: Path, workspace: Workspace, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    form = _form(**{"avoid": ["lifts", "", "deep water"],
                    "pronunciations.word": ["Morwenna", ""],
                    "pronunciations.spoken": ["mor wen na", ""],
                    "eligibility.acute_crisis": "", "preferences.length": "10m",
                    "safe_place.sights": ["ducks on the water", "a willow"]})
    response = client.post("/clients", data=form, headers=ORIGIN)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/clients/c-100")
    path = folder / "clients" / "c-100.yaml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    profile = workspace.derive(templates_dir=folder / "templates").load_profile(path)
    assert profile.preferred_name == "Morwenna"
    assert profile.avoid == ("lifts", "deep water")
    assert profile.pronunciations == {"Morwenna": "mor wen na"}
    assert profile.preferences["length"] == "10m"
    assert profile.details["safe_place"]["sights"] == ["ducks on the water", "a willow"]
    # Edit it again: the form comes back filled.
    html = client.get("/clients/c-100").text
    assert 'value="Morwenna"' in html and "deep water" in html
    for secret in ("Morwenna", "lifts", "pond", "mor wen na"):
        assert secret not in caplog.text  # (the test client logs only addresses)
        assert secret not in response.headers["location"]
    title = html.split("<title>")[1].split("</title>")[0]
    assert "Morwenna" not in title and "c-100" in title


def test_an_invalid_form_shows_every_problem_beside_its_field(client: TestClient,
                                                             folder: Path) -> None:
    form = _form(**{"id": "Bad Id", "preferred_name": "", "preferences.length": "soon",
                    "safe_place.sights": ["only one"], "breathing.cycles": "many"})
    response = client.post("/clients", data=form, headers=ORIGIN)
    assert response.status_code == 422
    html = response.text
    assert list((folder / "clients").iterdir()) == [folder / "clients" / "t-017.yaml"]
    expected = {
        "f-id": "must be a pseudonymous id of 2-40 lower-case letters, digits, ",
        "f-preferred_name": "preferred_name: required field missing",
        "f-preferences-length": "must be a length in quotes",
        "f-breathing-cycles": "must be a number",
    }
    for dom_id, message in expected.items():
        box = html.split(f'id="{dom_id}-box"')[1].split('class="field')[0]
        assert message.split(": ")[-1].replace("'", "&#39;") in box, dom_id
    # The same wording as the command line gives for the same file.
    assert "form: id: must be a pseudonymous id" in html
    assert "problems: nothing was saved" in html


def test_the_form_lists_template_variables_with_descriptions(client: TestClient) -> None:
    html = client.get("/clients/new").text
    assert 'name="safe_place.cue_word"' in html and "the cue word" in html
    for flag in ("psychosis", "severe_dissociation", "acute_suicidality", "acute_crisis"):
        assert f'name="eligibility.{flag}"' in html
    assert "data-add-row" in html and "data-remove-row" in html
    assert html.count("<label") >= html.count("<input ") - html.count('type="hidden"')


# --- prepare and preview ---------------------------------------------------------------------

def test_prepare_shows_the_templates_variables_only_with_missing_marked(
    client: TestClient, folder: Path
) -> None:
    html = client.get("/prepare?template=mini&client=t-017").text
    assert 'for="choose-template">Template<' in html and 'for="choose-client">Client<' in html
    assert 'name="safe_place.cue_word"' in html and 'name="safe_place.sights"' not in html
    assert ">Preview</button>" in html and ">Render</button>" in html
    data = yaml.safe_load((folder / "clients" / "t-017.yaml").read_text())
    del data["safe_place"]["cue_word"]
    (folder / "clients" / "t-017.yaml").write_text(yaml.safe_dump(data))
    html = client.get("/prepare?template=mini&client=t-017").text
    box = html.split('id="f-safe_place-cue_word-box"')[1].split("</div>")[0]
    assert "Missing" in box


def test_preview_times_the_script_and_shows_a_planted_lint_finding(client: TestClient) -> None:
    fields = {"template": "mini", "client": "t-017",
              "safe_place.description": "You sit high on the heights, by a quiet pond.",
              "safe_place.cue_word": "pond"}
    response = client.post("/preview", data=fields, headers=ORIGIN)
    assert response.status_code == 200
    html = response.text
    assert "words per minute" in html and "Length <strong data-total>0" in html
    assert '<span class="at">00:' in html
    flagged = html.split('class="flagged"')[1].split("</li>")[0]
    assert "avoid-list" in flagged and "heights" in flagged
    clean = client.post("/preview", data={**fields, "safe_place.description":
                                          "You sit by a quiet pond. The air is mild."},
                        headers=ORIGIN).text
    assert "flagged" not in clean and "0 findings" in clean


def test_preview_of_an_incomplete_profile_lists_what_is_missing(client: TestClient) -> None:
    html = client.post("/preview", data={"template": "mini", "client": "t-017",
                                         "safe_place.cue_word": ""}, headers=ORIGIN).text
    assert "clients/t-017.yaml: safe_place.cue_word: required by template &#39;mini&#39;" in html


def test_log_lines_hold_no_client_values(client: TestClient,
                                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client.post("/preview", data={"template": "mini", "client": "t-017",
                                  "safe_place.description": "Zanzibar is lovely. Yes.",
                                  "safe_place.cue_word": "quokka"}, headers=ORIGIN)
    client.get(f"/prepare?template=mini&client=t-017&token={TOKEN}")
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("http"))
    assert "POST /preview 200" in ours
    for value in ("Zanzibar", "quokka", "Robin", TOKEN, "?"):
        assert value not in ours


def test_the_studio_folder_is_private(folder: Path, app) -> None:
    for area in ("clients", "tracks", "home-packs"):
        assert (folder / area).is_dir()
    assert stat.S_IMODE(os.stat(studio(app).folder.private).st_mode) == 0o700


def test_the_command_line_starts_without_the_web_stack() -> None:
    import subprocess
    import sys

    code = "import imr_audio.cli, sys; print(' '.join(sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.split()
    assert "imr_audio.commands.studio" in loaded
    assert not {"starlette", "uvicorn", "imr_audio.studio.app"} & set(loaded)


# --- auditions -------------------------------------------------------------------------------

def test_a_soundscape_audition_plays_ten_seconds_from_the_private_folder(
    client: TestClient, folder: Path
) -> None:
    import soundfile

    response = client.post("/audition/soundscape", data={"soundscape": "rain",
                                                        "intensity": "light"}, headers=ORIGIN)
    assert response.status_code == 200, response.text
    src = response.text.split('id="audition-player" src="')[1].split('"')[0]
    audio = client.get(src)
    assert audio.status_code == 200 and audio.content[:4] == b"RIFF"
    (played,) = (folder / ".studio" / "auditions").iterdir()
    assert stat.S_IMODE(played.stat().st_mode) == 0o600
    assert soundfile.info(str(played)).duration == pytest.approx(10.0, abs=0.1)
    assert client.get("/audition/files/..%2f..%2fclients%2ft-017.yaml").status_code == 404
    assert client.post("/audition/soundscape", data={"soundscape": "nope"},
                       headers=ORIGIN).status_code == 422


def test_a_voice_audition_speaks_the_sentence_under_a_hashed_name(
    client: TestClient, folder: Path
) -> None:
    response = client.post("/audition/voice", data={"voice": "calm",
                                                   "sentence": "Rest here, Morwenna."},
                           headers=ORIGIN)
    assert response.status_code == 200, response.text
    src = response.text.split('id="audition-player" src="')[1].split('"')[0]
    assert "Morwenna" not in src
    assert client.get(src).content[:4] == b"RIFF"


# --- uploads ---------------------------------------------------------------------------------

def _wav_bytes(seconds: float = 1.0) -> bytes:
    import io

    import numpy as np
    import soundfile

    buffer = io.BytesIO()
    t = np.arange(int(44100 * seconds)) / 44100
    soundfile.write(buffer, 0.1 * np.sin(2 * np.pi * 220 * t), 44100, format="WAV")
    return buffer.getvalue()


def test_an_uploaded_recording_is_kept_privately_and_offered_as_a_soundscape(
    client: TestClient, folder: Path
) -> None:
    response = client.post("/upload", headers=ORIGIN,
                           files={"recording": ("My Garden (1).WAV", _wav_bytes(), "audio/wav")})
    assert response.status_code == 200, response.text
    kept = folder / "recordings" / "My-Garden-1.wav"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    page = client.get("/prepare?template=mini&client=t-017").text
    assert 'value="recordings/My-Garden-1.wav"' in page
    fields = {"template": "mini", "client": "t-017", "safe_place.cue_word": "garden",
              "safe_place.description": "You sit in a quiet garden. The air is mild."}
    preview = client.post("/preview", headers=ORIGIN, data={
        **fields, "soundscape": "recordings/My-Garden-1.wav"})
    assert preview.status_code == 200 and "words per minute" in preview.text
    for bad in ("recordings/../clients/t-017.yaml", "/etc/passwd.wav", "recordings/nope.wav",
                "../../x.wav"):
        refused = client.post("/preview", headers=ORIGIN, data={**fields, "soundscape": bad})
        assert refused.status_code == 400, bad
    assert client.post("/preview", headers=ORIGIN,
                       data={**fields, "voice": "../voices/calm"}).status_code == 400


def test_an_upload_that_is_not_audio_leaves_nothing(client: TestClient, folder: Path) -> None:
    for name, body in (("noise.wav", b"not audio at all" * 100), ("notes.txt", b"hello")):
        response = client.post("/upload", headers=ORIGIN,
                               files={"recording": (name, body, "audio/wav")})
        assert response.status_code == 422
    assert not list((folder / "recordings").iterdir())


def test_an_upload_over_the_limit_is_refused_by_length_and_while_streaming(
    client: TestClient, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("imr_audio.studio.app.UPLOAD_LIMIT_BYTES", 50_000)
    response = client.post("/upload", headers=ORIGIN,
                           files={"recording": ("big.wav", _wav_bytes(2.0), "audio/wav")})
    assert response.status_code == 413

    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b"x" * 1000

    streamed = client.post("/upload", headers={**ORIGIN, "Content-Type":
                                               "multipart/form-data; boundary=b"},
                           content=chunks())
    assert "content-length" not in {k.lower() for k in streamed.request.headers}
    assert streamed.status_code == 413
    assert not [p for p in (folder / "recordings").iterdir()]


# --- the command -----------------------------------------------------------------------------

def _start(folder: Path, *args: str):
    import subprocess
    import sys

    return subprocess.Popen([sys.executable, "-m", "imr_audio", "studio", "--folder",
                             str(folder), "--no-browser", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_the_command_prints_its_address_serves_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    import re
    import signal

    import httpx

    process = _start(tmp_path / "new-folder", "--port", "0")
    try:
        url = process.stdout.readline().strip()
        match = re.fullmatch(r"http://127\.0\.0\.1:(\d+)/\?token=([\w-]{40,})", url)
        assert match, url
        first = httpx.get(url, follow_redirects=False)
        assert first.status_code == 303 and first.headers["location"] == "/"
        assert f"imr-studio-{match[1]}=" in first.headers["set-cookie"]
        page = httpx.get(url.split("?")[0], cookies={f"imr-studio-{match[1]}": match[2]})
        assert page.status_code == 200 and "Clients" in page.text
        assert httpx.get(url.split("?")[0]).status_code == 403
        for area in ("clients", "tracks", "home-packs"):
            assert (tmp_path / "new-folder" / area).is_dir()
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0
    assert err.strip().splitlines() == ["imr-audio: studio stopped"]


def test_a_busy_port_is_a_one_line_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        process = _start(tmp_path, "--port", str(busy.getsockname()[1]))
        out, err = process.communicate(timeout=30)
    assert process.returncode == 1
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("Error: "), err
    assert "in use" in err and "Traceback" not in err


def test_another_host_warns(tmp_path: Path) -> None:
    import signal

    process = _start(tmp_path, "--port", "0", "--host", "0.0.0.0")
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert err.splitlines()[0].startswith("Warning: the studio listens on 0.0.0.0")


def test_the_token_redirect_stays_on_this_site(anonymous: TestClient) -> None:
    response = anonymous.get(f"//evil.example/x?token={TOKEN}")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/") and not response.headers[
        "location"].startswith("//")


def test_an_unexpected_error_is_logged_by_its_type_only(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("Morwenna's secret")

    monkeypatch.setattr("imr_audio.script.preview_track", broken)
    response = client.post("/preview", headers=ORIGIN, data={
        "template": "mini", "client": "t-017", "safe_place.cue_word": "garden",
        "safe_place.description": "You sit in a quiet garden. The air is mild."})
    assert response.status_code == 500
    _assert_secured(response.headers)
    assert "Morwenna" not in response.text and "Morwenna" not in caplog.text
    assert "unexpected error (ValueError)" in caplog.text


def test_editing_keeps_the_file_and_its_id(client: TestClient, folder: Path) -> None:
    import shutil as sh

    sh.copy(folder / "clients" / "t-017.yaml", folder / "clients" / "robin-file.yaml")
    page = client.get("/clients/robin-file").text
    assert 'value="t-017"' in page and "readonly" in page
    response = client.post("/clients", headers=ORIGIN, data={
        **_form(), "editing": "robin-file", "id": "other-id", "preferred_name": "Robin"})
    assert response.status_code == 303
    assert response.headers["location"] == "/clients/robin-file?saved=1"
    saved = yaml.safe_load((folder / "clients" / "robin-file.yaml").read_text())
    assert saved["id"] == "t-017" and not (folder / "clients" / "other-id.yaml").exists()
    assert client.post("/clients", headers=ORIGIN,
                       data={**_form(), "editing": "nobody"}).status_code == 404


def test_a_profile_copied_in_under_another_name_is_listed_by_its_id_and_its_id_is_taken(
    client: TestClient, folder: Path, write_client
) -> None:
    # A clinic copies a profile in as clients/robin-copy.yaml; its tracks are named by the id
    # inside (t-018), so the list shows that id, and a new client cannot take it again (two
    # profiles with one id would write each other's tracks).
    write_client(folder / "clients", "robin-copy.yaml", id="t-018")
    html = client.get("/clients").text
    assert "t-018" in html and "robin-copy.yaml" in html
    response = client.post("/clients", data=_form(id="t-018"), headers=ORIGIN)
    assert response.status_code == 422
    assert "a client with this id exists already (clients/robin-copy.yaml)" in response.text
    assert not (folder / "clients" / "t-018.yaml").exists()
