"""Purging one client: cached clips and rendered files go, another client's stay, even when one
id is the other's prefix (``c1`` and ``c1_x``)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from imr_audio.audio import Clip
from imr_audio.cli import cli
from imr_audio.export import ExportSettings
from imr_audio.master import LoudnessMeasurement
from imr_audio.pack import build_home_pack
from imr_audio.provenance import Provenance, sidecar_json
from imr_audio.purge import PurgeError, purge_client
from imr_audio.record_sheet import write_recording_sheet
from imr_audio.secret import InstallationKey
from imr_audio.track import RenderSettings, render
from imr_audio.voice.base import VoiceSettings
from imr_audio.workspace import KEY_FILE_ENV, Workspace

VOICE = VoiceSettings(engine="pyttsx3", voice_id="gmw/en", rate_wpm=110, pitch=40)


def _client_hash(client_id: str) -> str:
    """The client's keyed hash under the key ``$IMR_AUDIO_KEY_FILE`` names now."""
    return InstallationKey(Path(os.environ[KEY_FILE_ENV])).client_hash(client_id)


def fake_track(folder: Path, stem: str, client_id: str, template_id: str = "mini",
               fmt: str = "mp3", sidecar_version: int = 2) -> set[Path]:
    """A track and its companions as a render writes them (the audio is not real: purge does
    not read it), with a real sidecar for ``client_id``; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    provenance = Provenance(template_id, 1, "calm", VOICE, "v1", "rain", 0, -18.0, -1.0, None,
                            "3 minutes", "0" * 64, _client_hash(client_id))
    sidecar = json.loads(sidecar_json(provenance, file_name=f"{stem}.{fmt}", audio_format=fmt,
                                      duration_s=180.0,
                                      loudness=LoudnessMeasurement(-18.0, -1.5)))
    if sidecar_version == 1:  # as written before client hashes
        sidecar["sidecar_version"] = 1
        del sidecar["client_hash"]
    paths = {folder / f"{stem}.{s}" for s in (fmt, "txt", "vtt", "json")}
    for path in paths:
        path.write_bytes(b"audio" if path.suffix == f".{fmt}" else b"text")
    (folder / f"{stem}.json").write_text(json.dumps(sidecar), encoding="utf-8")
    return paths


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


def test_prefix_ids_variants_and_subfolders_are_told_apart(
    tmp_path: Path,
    workspace: Workspace,
) -> None:
    out = tmp_path / "out"
    mine = fake_track(out, "c1_mini", "c1")
    mine |= fake_track(out, "c1_mini_10m", "c1")  # a batch variant
    mine |= fake_track(out / "2024" / "june", "c1_safe-place", "c1", "safe-place", "m4a")
    theirs = fake_track(out, "c1_x_mini", "c1_x")
    theirs |= fake_track(out, "c1_x_mini_10m", "c1_x")
    theirs |= fake_track(out / "2024", "c1-2_mini", "c1-2")
    report = purge_client(workspace, "c1", out)
    assert set(report.removed_files) == mine
    assert _files(out) == theirs
    assert report.unconfirmed_files == () and report.temporary_files == ()
    assert list(report.removed_files) == sorted(mine)
    assert report.removed_anything and report.cache_entries_removed == 0


def test_an_id_that_is_another_ids_track_name_is_not_confused(
    tmp_path: Path,
    workspace: Workspace,
) -> None:
    # Client 'c1' rendered template 'x' in variant 'mini'; client 'c1_x' rendered 'mini'. Both
    # are named c1_x_mini_*: only the sidecar's keyed client hash tells them apart.
    out = tmp_path / "out"
    mine = fake_track(out, "c1_x_mini", "c1", template_id="x")
    theirs = fake_track(out / "other", "c1_x_mini", "c1_x")
    report = purge_client(workspace, "c1", out)
    assert set(report.removed_files) == mine
    assert _files(out) == theirs


def test_what_cannot_be_confirmed_is_kept_and_listed(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    workspace: Workspace,
) -> None:
    out = tmp_path / "out"
    old = fake_track(out, "c1_mini", "c1", sidecar_version=1)  # exact name: confirmed
    old_theirs = fake_track(out, "c1_x_mini", "c1_x", sidecar_version=1)  # c1_x's by its name
    orphan = out / "c1_body-scan.mp3"  # its sidecar was deleted
    orphan.write_bytes(b"audio")
    with monkeypatch.context() as patch:
        patch.setenv(KEY_FILE_ENV, str(tmp_path / "another-installation.key"))
        foreign = fake_track(out, "c1_container", "c1", template_id="container")
    temp = out / ".imr-k2j3h4.mp3.part"  # an interrupted render's (any client's)
    temp.write_bytes(b"part")
    unrelated = out / "notes.txt"
    unrelated.write_text("c1_mini", encoding="utf-8")
    report = purge_client(workspace, "c1", out)
    assert set(report.removed_files) == old
    assert set(report.unconfirmed_files) == {orphan} | foreign
    assert report.temporary_files == (temp,)
    assert _files(out) == old_theirs | {orphan, temp, unrelated} | foreign


def test_links_are_not_followed(tmp_path: Path, workspace: Workspace) -> None:
    elsewhere = fake_track(tmp_path / "elsewhere", "c1_mini", "c1")
    out = tmp_path / "out"
    out.mkdir()
    (out / "linked").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (out / "c1_mini.wav").symlink_to(tmp_path / "elsewhere" / "c1_mini.mp3")
    report = purge_client(workspace, "c1", out)
    assert report.removed_files == ()
    assert _files(tmp_path / "elsewhere") == elsewhere


def test_recording_sheets_are_the_clients_by_their_json(
    tmp_path: Path,
    test_templates: Path,
    write_client: Callable[..., Path], workspace: Workspace, test_workspace: Workspace
) -> None:
    out = tmp_path / "out"
    for client_id in ("c1", "c1_x"):
        client = write_client(tmp_path, f"{client_id}.yaml", id=client_id)
        write_recording_sheet(test_workspace, "mini", test_workspace.load_profile(client), out)
    theirs = {out / f"c1_x_mini_lines.{ext}" for ext in ("txt", "csv", "json")}
    report = purge_client(workspace, "c1", out)
    assert set(report.removed_files) == {out / f"c1_mini_lines.{e}" for e in ("txt", "csv", "json")}
    assert _files(out) == theirs


def _tone() -> Clip:
    return Clip((np.sin(np.arange(2205) / 10) * 0.5).astype(np.float32), 22050)


def test_the_studios_job_records_of_the_client_go_with_its_tracks(
    tmp_path: Path, workspace: Workspace
) -> None:
    from imr_audio.studio.jobs import JobStatus

    studio = tmp_path / "studio"
    mine = fake_track(studio / "tracks", "c1_mini", "c1")
    theirs = fake_track(studio / "tracks", "c1_x_mini", "c1_x")
    jobs = studio / ".studio" / "jobs"
    jobs.mkdir(parents=True)
    for job_id, client in (("1-aaaaaa", "c1"), ("2-bbbbbb", "c1_x"), ("3-cccccc", "c1")):
        record = JobStatus(job_id, "mini", client, state="done", track=f"{client}_mini.mp3")
        (jobs / f"{job_id}.json").write_text(json.dumps(record.record()))
    (jobs / "notes.json").write_text(json.dumps({"client_id": "c1"}))  # no job record: kept
    report = purge_client(workspace, "c1", studio)
    assert set(report.removed_files) == mine | {jobs / "1-aaaaaa.json", jobs / "3-cccccc.json"}
    assert _files(studio) == theirs | {jobs / "2-bbbbbb.json", jobs / "notes.json"}


def test_cache_only_and_nothing_to_remove(tmp_path: Path, workspace: Workspace) -> None:
    cache = workspace.speech_cache
    cache.put("a" * 64, _tone(), owner="c1")
    cache.put("b" * 64, _tone(), owner="c1_x")
    report = purge_client(workspace, "c1")
    assert report.cache_entries_removed == 1 and report.output_dir is None
    assert cache.get("a" * 64) is None and cache.get("b" * 64) is not None
    again = purge_client(workspace, "c1", tmp_path)
    assert not again.removed_anything


@pytest.mark.parametrize("bad", ["C1", "c", "../c1", "c1/x", "Robin Smith", ""])
def test_a_malformed_id_is_refused_without_echoing_it(
    bad: str, tmp_path: Path, workspace: Workspace
) -> None:
    with pytest.raises(PurgeError) as error:
        purge_client(workspace, bad, tmp_path)
    assert "pseudonymous client id" in str(error.value)
    assert len(bad) < 5 or bad not in str(error.value)  # short ones occur in any sentence


def test_a_file_that_cannot_be_removed_is_an_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workspace: Workspace
) -> None:
    out = tmp_path / "out"
    fake_track(out, "c1_mini", "c1")
    stuck = out / "c1_mini.vtt"
    real_unlink = Path.unlink

    def unlink(self: Path, missing_ok: bool = False) -> None:
        if self == stuck:  # as a file on a read-only mount would
            raise PermissionError(13, "Permission denied")
        real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", unlink)
    with pytest.raises(PurgeError) as error:
        purge_client(workspace, "c1", out)
    assert str(error.value).startswith(
        f"could not remove 1 of client c1's file(s): {stuck} (PermissionError) "
        "(3 other file(s) and 0 cached clip(s) were removed)"
    )
    assert _files(out) == {stuck}


# --- the command ------------------------------------------------------------------------------


def test_purge_command_reports_what_it_removed_and_kept(
    tmp_path: Path,
    speech_cache_dir: Path,
    workspace: Workspace,
) -> None:
    out = tmp_path / "out"
    mine = fake_track(out, "c1_mini", "c1")
    orphan = out / "c1_body-scan.mp3"
    orphan.write_bytes(b"audio")
    workspace.speech_cache.put("a" * 64, _tone(), owner="c1")
    result = CliRunner().invoke(cli, ["purge", "--client", "c1", "--outputs", str(out), "--yes"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == (f"speech cache {speech_cache_dir / 'speech'}: removed 1 cached clip(s) "
                        "of client c1")
    assert lines[1] == f"{out}: removed 4 file(s)"
    assert sorted(lines[2:6]) == sorted(f"  {p}" for p in mine)
    assert "kept 1 file(s) whose names start with 'c1_'" in lines[6]
    assert lines[7] == f"  {orphan}"
    assert "nothing to remove" not in result.output
    again = CliRunner().invoke(cli, ["purge", "--client", "c1"])
    assert again.exit_code == 0
    assert again.output.splitlines()[-1] == "nothing to remove for client c1"


def _state(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_purge_dry_run_lists_what_would_go_and_removes_nothing(
    tmp_path: Path, speech_cache_dir: Path, workspace: Workspace
) -> None:
    out = tmp_path / "out"
    mine = fake_track(out, "c1_mini", "c1")
    workspace.speech_cache.put("a" * 64, _tone(), owner="c1")
    before, cache_before = _state(out), _state(speech_cache_dir)
    result = CliRunner().invoke(cli, ["purge", "--client", "c1", "--outputs", str(out),
                                      "--dry-run"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == (f"speech cache {speech_cache_dir / 'speech'}: would remove 1 cached "
                        "clip(s) of client c1")
    assert lines[1] == f"{out}: would remove 4 file(s)"
    assert sorted(lines[2:6]) == sorted(f"  {p}" for p in mine)
    assert _state(out) == before and _state(speech_cache_dir) == cache_before


def test_purge_asks_first_and_refuses_without_yes_when_it_cannot_ask(
    tmp_path: Path, speech_cache_dir: Path, workspace: Workspace,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "out"
    fake_track(out, "c1_mini", "c1")
    before = _state(out)
    piped = CliRunner().invoke(cli, ["purge", "--client", "c1", "--outputs", str(out)])
    assert piped.exit_code == 1
    assert piped.output.splitlines()[-1] == (
        "Error: purge removes files for good: run it again with --yes to remove them "
        "(or --dry-run to only list them)")
    assert _state(out) == before
    monkeypatch.setattr("imr_audio.commands.purge._can_ask", lambda: True)
    declined = CliRunner().invoke(cli, ["purge", "--client", "c1", "--outputs", str(out)],
                                  input="n\n")
    assert declined.exit_code == 1 and "Remove them? [y/N]" in declined.output
    assert _state(out) == before
    accepted = CliRunner().invoke(cli, ["purge", "--client", "c1", "--outputs", str(out)],
                                  input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert f"{out}: removed 4 file(s)" in accepted.output and _state(out) == {}


def test_purge_command_errors_are_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["purge", "--client", "Robin Smith"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: not a pseudonymous client id")
    assert "Robin" not in result.output and len(result.output.splitlines()) == 1
    missing = CliRunner().invoke(cli, ["purge", "--client", "c1", "--outputs",
                                       str(tmp_path / "nope")])
    assert missing.exit_code == 2  # click's own usage error


# --- real renders -----------------------------------------------------------------------------


@pytest.mark.slow
def test_purge_after_real_renders_of_two_clients(
    tmp_path: Path,
    test_templates: Path,
    write_client: Callable[..., Path], test_workspace: Workspace
) -> None:
    out = tmp_path / "tracks"
    settings = RenderSettings(voice_profile="calm-female", export=ExportSettings(format="wav"))
    ws = test_workspace
    c1 = ws.load_profile(write_client(tmp_path, "c1.yaml", id="c1"))
    c1_x = ws.load_profile(write_client(tmp_path, "c1x.yaml", id="c1_x", preferred_name="Sam"))
    one = render(ws, "mini", c1, out, settings)
    two = render(ws, "mini", c1_x, out, settings)
    cache = ws.speech_cache

    def owners() -> list[list[str]]:
        return [json.loads(p.read_text("utf-8"))["owners"] for p in cache.folder.glob("*.json")]

    made_for_c1 = sum(_client_hash("c1") in o for o in owners())
    only_c1_x = sum(o == [_client_hash("c1_x")] for o in owners())
    assert made_for_c1 > 0 and only_c1_x > 0  # c1_x's own name sentence at least
    # Each client also has a home pack (a folder and a zip): copies of tracks without sidecars.
    packs = tmp_path / "packs"
    pack_one = build_home_pack(ws, c1, [one.path], packs / "c1", make_zip=True)
    pack_two = build_home_pack(ws, c1_x, [two.path], packs / "c1_x", make_zip=True)
    result = CliRunner().invoke(cli, ["purge", "--client", "c1", "--outputs", str(tmp_path),
                                      "--yes"])
    assert result.exit_code == 0, result.output
    assert f"removed {made_for_c1} cached clip(s) of client c1" in result.output
    assert pack_one.zip_path is not None
    pack_files = len(pack_one.files) + 1  # and the zip
    assert f"removed {1 + len(one.companions) + pack_files} file(s)" in result.output
    for path in (one.path, *one.companions, *pack_one.files, pack_one.zip_path):
        assert f"  {path}\n" in result.output and not path.exists()
    assert not pack_one.folder.exists()
    assert all(p.exists() for p in (two.path, *two.companions, *pack_two.files))
    assert pack_two.zip_path is not None
    assert pack_two.zip_path.exists()
    assert owners() and all(o == [_client_hash("c1_x")] for o in owners())
    assert cache.info().entries == only_c1_x
    assert "kept" not in result.output
