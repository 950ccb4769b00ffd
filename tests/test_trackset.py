"""Track sets: a render's four files appear together or not at all, one set per format, and a
track proves whose it is from its own metadata (issue #10)."""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from imr_audio import track as track_module
from imr_audio.errors import ExportError, HomePackError
from imr_audio.export import ExportSettings
from imr_audio.export.tags import read_provenance
from imr_audio.pack import build_home_pack
from imr_audio.pack.archive import write_zip
from imr_audio.track import RenderResult, RenderSettings
from imr_audio.trackset import STAGING_PREFIX, companion_paths, write_track_set
from imr_audio.workspace import Workspace

NEUTRAL = {"voice": "neutral", "soundscape": "rain"}


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture
def first(tmp_path: Path, write_client: Callable[..., Path],
          render_file: Callable[..., RenderResult]) -> RenderResult:
    client = write_client(tmp_path, preferences=NEUTRAL)
    return render_file("mini", client, tmp_path / "out", RenderSettings(seed=3))


def test_a_render_publishes_four_files_and_no_staging(first: RenderResult) -> None:
    names = sorted(p.name for p in first.path.parent.iterdir())
    audio = first.path.name
    assert names == sorted([audio, f"{audio}.json", f"{audio}.txt", f"{audio}.vtt"])
    assert first.companions == companion_paths(first.path)
    held = read_provenance(first.path)
    assert held["inputs_sha256"] == first.inputs_sha256
    assert held["client_hash"] == Workspace.from_environment().key.client_hash("t-017")


def test_a_failed_rerender_leaves_the_earlier_set_exactly_as_it_was(
    first: RenderResult,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    render_file: Callable[..., RenderResult],
) -> None:
    # Regression: a failure while mixing or exporting over an existing track removed its .txt,
    # .vtt and .json and kept the audio, which then could be neither packed nor purged.
    before = _snapshot(first.path.parent)
    real = track_module.mixdown

    def fail_after_encoding(*args: object, **kwargs: object) -> object:
        real(*args, **kwargs)  # type: ignore[arg-type]
        raise ExportError("disk full (as if)")

    monkeypatch.setattr(track_module, "mixdown", fail_after_encoding)
    client = tmp_path / "client.yaml"
    with pytest.raises(ExportError, match="disk full"):
        render_file("mini", client, first.path.parent, RenderSettings(seed=4))
    assert _snapshot(first.path.parent) == before  # no staging folder left either


def test_another_format_keeps_its_own_companions(
    first: RenderResult, tmp_path: Path, render_file: Callable[..., RenderResult]
) -> None:
    # Regression: rendering the same track as WAV overwrote the MP3's transcript, captions and
    # sidecar, and the pack then took the track three times over.
    mp3_set = {p: p.read_bytes() for p in (first.path, *first.companions)}
    wav = render_file("mini", tmp_path / "client.yaml", first.path.parent,
                      RenderSettings(seed=3, export=ExportSettings(format="wav")))
    assert wav.path.suffix == ".wav" and wav.path.stem == first.path.stem
    assert {p: p.read_bytes() for p in mp3_set} == mp3_set
    assert all(p.is_file() for p in wav.companions)
    workspace = Workspace.from_environment(templates_dir=Path(__file__).parent / "data/templates")
    profile = workspace.load_profile(tmp_path / "client.yaml")
    pack = build_home_pack(workspace, profile, [wav.path, first.path], tmp_path / "pack",
                           make_zip=True)
    assert [t.source for t in pack.tracks] == [first.path]  # once, as MP3: phones play it
    chosen = build_home_pack(workspace, profile, [wav.path, first.path], tmp_path / "pack2",
                             fmt="wav")
    assert [t.source for t in chosen.tracks] == [wav.path]
    assert pack.zip_path is not None
    with zipfile.ZipFile(pack.zip_path) as archive:
        names = archive.namelist()
    assert sorted(names) == sorted(f"pack/{name}" for name in (
        "index.html", "playlist.m3u8", first.path.name, *(p.name for p in first.companions[:2])))


def test_a_copied_track_proves_whose_it_is_without_its_sidecar(
    first: RenderResult, tmp_path: Path, write_client: Callable[..., Path]
) -> None:
    # Regression: once tracks were copied out of a pack (sidecars left behind), a client whose
    # id was a prefix of another's could be given the other client's track.
    other_client = write_client(tmp_path, "other.yaml", id="t-017_b")
    copied = tmp_path / "copies"
    copied.mkdir()
    stolen = copied / "t-017_b_mini.mp3"  # renamed to look like t-017_b's
    shutil.copyfile(first.path, stolen)
    shutil.copyfile(companion_paths(first.path)[1], companion_paths(stolen)[1])
    workspace = Workspace.from_environment(templates_dir=Path(__file__).parent / "data/templates")
    profile = workspace.load_profile(other_client)
    with pytest.raises(HomePackError) as caught:
        build_home_pack(workspace, profile, [stolen], tmp_path / "pack")
    assert str(caught.value) == (f"{stolen}: not this client's track (it was made for another "
                                 "client)")
    # A file that proves nothing (made by something else) is refused too.
    plain = copied / "t-017_b_plain.mp3"
    shutil.copyfile(first.path, plain)
    from mutagen.id3 import ID3

    ID3(plain).delete()
    shutil.copyfile(companion_paths(first.path)[1], companion_paths(plain)[1])
    with pytest.raises(HomePackError, match="does not prove it is this client's track"):
        build_home_pack(workspace, profile, [plain], tmp_path / "pack")


def test_a_set_received_whole_is_published_whole(tmp_path: Path) -> None:
    track = tmp_path / "out" / "c-1_mini.mp3"
    files = {"": b"audio", ".txt": b"words", ".vtt": b"WEBVTT\n", ".json": b"{}"}
    written = write_track_set(track, files)
    assert track.read_bytes() == b"audio"
    assert [p.read_bytes() for p in written] == [b"words", b"WEBVTT\n", b"{}"]
    assert not list((tmp_path / "out").glob(f"{STAGING_PREFIX}*"))
    with pytest.raises(KeyError):  # a set without its sidecar is never published
        write_track_set(tmp_path / "out" / "c-1_other.mp3", {"": b"a", ".txt": b"t"})
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        [track.name, *(p.name for p in written)])


def test_the_zip_writer_refuses_two_files_of_one_name(tmp_path: Path) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "same.txt").write_text(folder, encoding="utf-8")
    with pytest.raises(ValueError, match=r"two files named same\.txt"):
        write_zip([tmp_path / "a" / "same.txt", tmp_path / "b" / "same.txt"],
                  tmp_path / "x.zip", "pack")
