"""The client's home pack: folder, playlist, offline page, zip, and what it refuses."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from imr_audio.cli import cli
from imr_audio.errors import HomePackError
from imr_audio.export import decode_audio
from imr_audio.export.settings import TrackTags
from imr_audio.export.tags import write_tags
from imr_audio.pack import PAGE_NAME, PLAYLIST_NAME, ZIP_TIMESTAMP, HomePack, build_home_pack
from imr_audio.profile import load_client_profile
from imr_audio.track import RenderResult
from imr_audio.trackset import companion_paths
from imr_audio.workspace import Workspace

ROOT = Path(__file__).parents[1]
PACK_SOURCES = ROOT / "src" / "imr_audio" / "pack"
TEST_TEMPLATES = Path(__file__).parent / "data" / "templates"


def _workspace(templates: bool = True) -> Workspace:
    """The workspace of the environment (this test's cache, the session's key)."""
    return Workspace.from_environment(templates_dir=TEST_TEMPLATES if templates else None)


def _pack(client: Path, tracks: list[Path], folder: Path, *, templates: bool = True,
          **options: Any) -> HomePack:
    """``build_home_pack`` for the client of the profile file ``client``."""
    return build_home_pack(_workspace(templates), load_client_profile(client), tracks, folder,
                           **options)
CAPTIONS_URL = re.compile(r'src="data:text/vtt;charset=utf-8;base64,([A-Za-z0-9+/=]+)"')


@pytest.fixture(scope="module")
def tracks(mini_render: RenderResult, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two real tracks of the client: copies of the session's render of the mini template
    (WAV, with its captions, transcript and sidecar), the second under another name and with
    a sidecar that names the `breathe` template."""
    folder = tmp_path_factory.mktemp("pack-tracks")
    first, second = folder / mini_render.path.name, folder / "t-017_second.wav"
    for target in (first, second):
        for source, copy in zip(_set(mini_render.path), _set(target)):
            shutil.copyfile(source, copy)
    sidecar = json.loads(Path(f"{first}.json").read_text(encoding="utf-8"))
    sidecar["template"]["id"] = "breathe"
    Path(f"{second}.json").write_text(json.dumps(sidecar), encoding="utf-8")
    return [first, second]


@pytest.fixture
def workdir(tmp_path: Path, write_client: Callable[..., Path]) -> Iterator[Path]:
    """A folder with the client's profile; checked afterwards for leftover temporary files."""
    write_client(tmp_path)
    yield tmp_path
    leftovers = [p.name for p in tmp_path.rglob(".imr-*")]
    assert not leftovers, leftovers


def _build(workdir: Path, tracks: list[Path], *, make_zip: bool = False,
           note_file: Path | None = None) -> HomePack:
    return _pack(workdir / "client.yaml", tracks, workdir / "pack", make_zip=make_zip,
                 note_file=note_file)


def _set(track: Path) -> tuple[Path, Path, Path, Path]:
    """The track and its transcript, captions and sidecar."""
    return (track, *companion_paths(track))


def _measured_s(path: Path) -> float:
    samples, rate = decode_audio(path)
    return len(samples) / rate


def _find(pattern: str, text: str, flags: int = 0) -> re.Match[str]:
    match = re.search(pattern, text, flags)
    assert match, pattern
    return match


def _embedded_captions(page: str) -> list[str]:
    return [base64.b64decode(data).decode("utf-8") for data in CAPTIONS_URL.findall(page)]


# --- the folder ----------------------------------------------------------------------------


def test_pack_holds_page_playlist_and_each_tracks_files(workdir: Path,
                                                         tracks: list[Path]) -> None:
    result = _build(workdir, tracks)
    folder = workdir / "pack"
    assert result.folder == folder.resolve()
    expected = [PAGE_NAME, PLAYLIST_NAME]
    for track in tracks:
        expected += [track.name, Path(f"{track}.vtt").name, Path(f"{track}.txt").name]
    assert [p.name for p in result.files] == expected
    assert sorted(p.name for p in folder.iterdir()) == sorted(expected)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    for track in tracks:
        for path in _set(track)[:3]:
            assert (folder / path.name).read_bytes() == path.read_bytes()
    assert not (folder / companion_paths(tracks[0])[2].name).exists()  # provenance stays home


def test_playlist_lists_each_track_with_its_length_and_title(workdir: Path,
                                                             tracks: list[Path]) -> None:
    result = _build(workdir, tracks)
    raw = result.playlist.read_bytes()
    raw.decode("utf-8")
    lines = raw.decode("utf-8").splitlines()
    assert lines[0] == "#EXTM3U"
    assert len(lines) == 1 + 2 * len(tracks)
    titles = []
    for number, track in enumerate(tracks):
        info, name = lines[1 + 2 * number], lines[2 + 2 * number]
        match = re.fullmatch(r"#EXTINF:(\d+),(.+)", info)
        assert match, info
        assert abs(int(match.group(1)) - _measured_s(track)) <= 1.0
        assert name == track.name  # relative, beside the playlist
        titles.append(match.group(2))
    assert titles == ["Short rest", "Short breathing"]  # the templates' titles


def test_title_falls_back_to_the_tracks_title_tag(workdir: Path, tracks: list[Path]) -> None:
    # Without the test templates folder, 'mini' is not found: the track's title tag (written
    # by the render from the template's title; ID3 in a WAV) names the track instead.
    result = _pack(workdir / "client.yaml", tracks[:1], workdir / "pack", templates=False)
    assert [t.title for t in result.tracks] == ["Short rest"]


# --- the page ------------------------------------------------------------------------------


def test_page_is_self_contained_with_a_strict_policy(workdir: Path, tracks: list[Path]) -> None:
    page = _build(workdir, tracks).page.read_text(encoding="utf-8")
    assert '<html lang="en">' in page
    assert not re.search(r"(?i)\b(?:https?|wss?|ftp):|=\s*[\"']?//|<link\b|<iframe|@import|url\(|"
                         r"\bfetch\(|XMLHttpRequest|WebSocket|EventSource|sendBeacon", page)
    sources = re.findall(r'\b(?:src|href)="([^"]*)"', page)
    names = {t.name for t in tracks} | {Path(f"{t}.txt").name for t in tracks}
    for source in sources:
        assert source in names or source.startswith("data:text/vtt") or source == "#tracks"
    policy = html.unescape(_find(
        r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page).group(1))
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["media-src"] == "'self' data:"
    for tag in ("script", "style"):
        inline = re.findall(rf"<{tag}>(.*?)</{tag}>", page, re.DOTALL)
        assert len(inline) == 1 and inline[0].strip()
        digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
        assert directives[f"{tag}-src"] == f"'sha256-{digest}'"  # the browser runs it


def test_page_has_a_player_with_captions_per_track(workdir: Path, tracks: list[Path]) -> None:
    page = _build(workdir, tracks).page.read_text(encoding="utf-8")
    assert re.findall(r"<h1>([^<]+)</h1>", page) == ["Listening at home"]
    assert re.findall(r'<h3 id="track-\d-title">([^<]+)</h3>', page) == [
        "Short rest", "Short breathing"]
    assert "<title>Short rest, Short breathing - listening at home</title>" in page
    audios = re.findall(r"<audio [^>]*>", page)
    assert [_find(r'src="([^"]+)"', a).group(1) for a in audios] == [t.name for t in tracks]
    assert all(" controls " in a for a in audios)
    assert _embedded_captions(page) == [
        Path(f"{t}.vtt").read_text(encoding="utf-8") for t in tracks]
    assert page.count('aria-live="polite"') == len(tracks)
    for number, track in enumerate(tracks, start=1):
        length = _find(rf'id="track-{number}-length">(\d+):(\d\d)<', page)
        shown_s = int(length.group(1)) * 60 + int(length.group(2))
        assert abs(shown_s - _measured_s(track)) <= 1.0


def test_page_never_shows_the_client_name_or_profile_values(
    workdir: Path,
    tracks: list[Path],
    client_data: Callable[..., dict[str, Any]],
) -> None:
    page = _build(workdir, tracks).page.read_text(encoding="utf-8")
    data = client_data()
    values = [data["preferred_name"], *data["avoid"]]
    for value in data["safe_place"].values():
        values += value if isinstance(value, list) else [value]
    # The embedded captions are the track's spoken words, like the audio: they greet the
    # client by name. Everything else on the page must hold no profile value.
    assert any(data["preferred_name"] in text for text in _embedded_captions(page))
    rest = CAPTIONS_URL.sub('src=""', page).lower()
    for value in values:
        assert not re.search(rf"\b{re.escape(value.lower())}\b", rest), value


def test_page_has_the_listening_guide(workdir: Path, tracks: list[Path]) -> None:
    page = _build(workdir, tracks).page.read_text(encoding="utf-8")
    guide = _find(r'<section class="guide".*?</section>', page, re.DOTALL).group(0)
    for point in ("headphones", "quiet place", "never listen while driving",
                  "stop at any time", "contact your therapist"):
        assert point in guide.lower(), point
    assert "note-heading" not in page  # no note given, no note section


def test_note_is_shown_escaped(workdir: Path, tracks: list[Path]) -> None:
    note = workdir / "note.txt"
    note.write_text("Once a day this week.\n<script>alert(1)</script> & rest well.\n",
                    encoding="utf-8")
    page = _build(workdir, tracks, note_file=note).page.read_text(encoding="utf-8")
    section = _find(r'<section class="note".*?</section>', page, re.DOTALL).group(0)
    assert "A note from your therapist" in section
    assert ("<p>Once a day this week.\n&lt;script&gt;alert(1)&lt;/script&gt; &amp; rest "
            "well.</p>") in section
    assert page.count("<script>") == 1


@pytest.mark.parametrize("text", ["Dear Robin, well done.", "see you, robin!"])
def test_note_naming_the_client_is_refused(workdir: Path, tracks: list[Path],
                                           text: str) -> None:
    note = workdir / "note.txt"
    note.write_text(text, encoding="utf-8")
    with pytest.raises(HomePackError) as caught:
        _build(workdir, tracks, note_file=note)
    assert str(note) in str(caught.value) and "preferred_name" in str(caught.value)
    assert "Robin" not in str(caught.value)
    assert not (workdir / "pack").exists()


def _luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(first: str, second: str) -> float:
    high, low = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_colours_meet_wcag_aa_in_light_and_dark() -> None:
    css = (PACK_SOURCES / "page.css").read_text(encoding="utf-8")
    schemes = re.findall(r":root \{([^}]*)\}", css)
    assert len(schemes) == 2  # light, and dark under prefers-color-scheme
    assert "a:focus-visible, audio:focus-visible, input:focus-visible" in css
    for scheme in schemes:
        colour = dict(re.findall(r"--([a-z-]+): (#[0-9a-f]{6});", scheme))
        for text in ("fg", "muted", "accent"):
            for background in ("bg", "panel", "caption-bg"):
                assert _contrast(colour[text], colour[background]) >= 4.5, (text, background)
        for background in ("bg", "panel"):  # the focus ring is a non-text indicator
            assert _contrast(colour["focus"], colour[background]) >= 3.0


# --- what is refused -----------------------------------------------------------------------


def test_every_bad_track_is_named_in_one_error(workdir: Path, tracks: list[Path]) -> None:
    other = workdir / "x-999_mini.wav"
    shutil.copyfile(tracks[0], other)
    shutil.copyfile(Path(f"{tracks[0]}.vtt"), Path(f"{other}.vtt"))
    not_audio = workdir / "t-017_notes.mp3"
    not_audio.write_text("not audio", encoding="utf-8")
    shutil.copyfile(Path(f"{tracks[0]}.vtt"), Path(f"{not_audio}.vtt"))
    no_captions = workdir / "t-017_bare.wav"
    shutil.copyfile(tracks[0], no_captions)
    missing = workdir / "t-017_gone.mp3"
    transcript = Path(f"{tracks[0]}.txt")
    with pytest.raises(HomePackError) as caught:
        _build(workdir, [tracks[0], other, not_audio, no_captions, missing, transcript])
    message = str(caught.value)
    assert "\n" not in message
    assert f"{other}: not this client's track" in message
    assert f"{not_audio}: not a readable audio file" in message
    assert f"{no_captions}.vtt: captions not found" in message
    assert f"{missing}: file not found" in message
    assert f"{transcript}: not an audio format the pack plays" in message
    assert f"{tracks[0]}:" not in message  # the good track is not blamed
    assert "Robin" not in message
    assert not (workdir / "pack").exists()


def test_a_track_whose_sidecar_names_another_client_is_refused(workdir: Path,
                                                                tracks: list[Path]) -> None:
    # Client ids may share a prefix: t-017's pack must not take client t-017_b's track
    # "t-017_b_mini.wav", whose name starts with "t-017_" too. Its sidecar tells them apart.
    other = workdir / "t-017_b_mini.wav"
    for source, copy in zip(_set(tracks[0])[:3], _set(other)):
        shutil.copyfile(source, copy)
    sidecar = json.loads(Path(f"{tracks[0]}.json").read_text(encoding="utf-8"))
    key = _workspace().key
    assert sidecar["client_hash"] == key.client_hash("t-017")
    sidecar["client_hash"] = key.client_hash("t-017_b")
    Path(f"{other}.json").write_text(json.dumps(sidecar), encoding="utf-8")
    # The audio's own metadata holds the client hash it was made for (t-017's): rewrite it as
    # a render for t-017_b would have.
    write_tags(other, "wav", TrackTags(title="Short rest",
                                       provenance=(("client_hash", key.client_hash("t-017_b")),)))
    with pytest.raises(HomePackError, match="made for another client"):
        _build(workdir, [tracks[0], other])
    assert _build(workdir, [tracks[0]]).tracks  # its own track is taken


def test_the_same_track_twice_is_refused(workdir: Path, tracks: list[Path]) -> None:
    with pytest.raises(HomePackError, match=r"a second track named t-017_mini\.wav"):
        _build(workdir, [tracks[0], tracks[0]])


def test_an_earlier_pack_is_replaced_and_other_folders_are_kept(
    workdir: Path,
    tracks: list[Path],
) -> None:
    _build(workdir, tracks)
    again = _build(workdir, tracks[:1])
    assert sorted(p.name for p in again.folder.iterdir()) == sorted(p.name for p in again.files)
    assert tracks[1].name not in {p.name for p in again.folder.iterdir()}
    other = workdir / "mine"
    other.mkdir()
    (other / "keep.txt").write_text("the therapist's own file", encoding="utf-8")
    with pytest.raises(HomePackError, match="not a home pack"):
        _pack(workdir / "client.yaml", tracks, other)
    assert [p.name for p in other.iterdir()] == ["keep.txt"]


def test_a_failed_build_leaves_nothing_and_keeps_the_earlier_pack(
        workdir: Path, tracks: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    earlier = _build(workdir, tracks[:1], make_zip=True)
    before = {p.name: p.read_bytes() for p in earlier.folder.iterdir()}
    zip_before = (workdir / "pack.zip").read_bytes()
    copies = []
    real_copy = shutil.copyfile

    def failing_copy(source: Path, target: Path) -> None:
        copies.append(source)
        if len(copies) == 3:
            raise OSError(28, "No space left on device")
        real_copy(source, target)

    monkeypatch.setattr("imr_audio.pack.shutil.copyfile", failing_copy)
    with pytest.raises(HomePackError, match="could not write the pack"):
        _build(workdir, tracks, make_zip=True)
    assert {p.name: p.read_bytes() for p in earlier.folder.iterdir()} == before
    assert (workdir / "pack.zip").read_bytes() == zip_before


# --- the zip -------------------------------------------------------------------------------


def test_zip_holds_the_folder_and_is_the_same_bytes_each_time(
    tmp_path: Path,
    tracks: list[Path],
    write_client: Callable[..., Path],
) -> None:
    client = write_client(tmp_path)
    first = _pack(client, tracks, tmp_path / "a" / "pack", make_zip=True)
    for track in tracks:  # other modification times must not change the zip
        os.utime(track, (1_000_000_000, 1_000_000_000))
    second = _pack(client, tracks, tmp_path / "b" / "pack", make_zip=True)
    assert first.zip_path == (tmp_path / "a" / "pack.zip").resolve()
    assert first.zip_path is not None and second.zip_path is not None
    assert first.zip_path.read_bytes() == second.zip_path.read_bytes()
    assert stat.S_IMODE(first.zip_path.stat().st_mode) == 0o600
    with zipfile.ZipFile(first.zip_path) as archive:
        assert archive.testzip() is None
        infos = archive.infolist()
        assert [i.filename for i in infos] == [f"pack/{p.name}" for p in first.files]
        for info, path in zip(infos, first.files):
            assert info.date_time == ZIP_TIMESTAMP
            assert stat.S_IMODE(info.external_attr >> 16) == 0o600
            assert archive.read(info) == path.read_bytes()
            stored = path.suffix == ".wav"  # audio is stored, text deflated
            assert info.compress_type == (zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)


# --- command line --------------------------------------------------------------------------


def test_cli_pack_writes_the_pack_and_the_zip(
    workdir: Path,
    tracks: list[Path],
) -> None:
    note = workdir / "note.txt"
    note.write_text("Practise once a day.", encoding="utf-8")
    result = CliRunner().invoke(cli, [
        "pack", "--client", str(workdir / "client.yaml"), *map(str, tracks),
        "-o", str(workdir / "pack"), "--zip", "--note", str(note),
        "--templates-dir", str(TEST_TEMPLATES)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()  # stderr has the progress lines (piped: plain ones)
    assert lines[0].startswith(f"{(workdir / 'pack' / PAGE_NAME).resolve()}  (2 track(s), ")
    assert result.stderr.splitlines()[-1] == "pack 100%"
    assert lines[1] == str((workdir / "pack.zip").resolve())
    assert "Practise once a day." in (workdir / "pack" / PAGE_NAME).read_text(encoding="utf-8")


def test_cli_pack_error_is_one_line(
    workdir: Path,
    tracks: list[Path],
    client_data: Callable[..., dict[str, Any]],
) -> None:
    other = workdir / "other.yaml"
    other.write_text(yaml.safe_dump(client_data(id="x-999")), encoding="utf-8")
    result = CliRunner().invoke(cli, ["pack", "--client", str(other), str(tracks[0]),
                                      "-o", str(workdir / "pack")])
    assert result.exit_code == 1, result.output
    assert result.output.count("\n") == 1 and result.output.startswith("Error: ")
    assert f"{tracks[0]}: not this client's track" in result.output
    assert "Traceback" not in result.output


# --- packaging -----------------------------------------------------------------------------


@pytest.mark.slow
def test_wheel_ships_the_page_assets(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                    str(tmp_path), str(ROOT)], check=True, capture_output=True)
    wheel = next(tmp_path.glob("imr_audio-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for asset in ("page.html", "page.css", "page.js"):
        assert f"imr_audio/pack/{asset}" in names, asset
