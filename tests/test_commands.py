"""The discovery and checking commands: ``templates``, ``preview``, ``lint`` and ``render``."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
import soundfile
import yaml
from click.testing import CliRunner, Result

from imr_audio.authoring import TemplateLibrary
from imr_audio.cli import cli
from imr_audio.resources import data_dir

STAMP = re.compile(r"^(\d\d):([0-5]\d)  \S")
AVOID_BENCH = ["heights", "bench"]  # "bench" is in the client's safe_place.description


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def _assert_one_line_error(result: Result, *needles: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ")
    for needle in needles:
        assert needle in lines[0], result.output


# --- templates -----------------------------------------------------------------------------


def test_templates_list_includes_shipped_and_own(test_templates: Path) -> None:
    result = invoke("templates", "list", "--templates-dir", str(test_templates))
    assert result.exit_code == 0, result.output
    ids = [line.split()[0] for line in result.output.splitlines() if line.strip()]
    assert {"safe-place", "mini"} <= set(ids)
    assert ids == sorted(ids)


def test_templates_list_without_own_folder_has_no_test_templates() -> None:
    result = invoke("templates", "list")
    assert result.exit_code == 0, result.output
    ids = [line.split()[0] for line in result.output.splitlines() if line.strip()]
    assert "safe-place" in ids
    assert "mini" not in ids


def test_templates_show_lists_every_variable_and_a_valid_snippet() -> None:
    result = invoke("templates", "show", "safe-place")
    assert result.exit_code == 0, result.output
    spec = TemplateLibrary((data_dir("scripts_templates"),)).load("safe-place")
    for var in spec.variables:
        assert re.search(rf"^  {re.escape(var.name)} \(", result.output, re.MULTILINE), var.name
    _, _, snippet = result.output.partition("Example profile snippet:")
    assert snippet
    assert re.search(r"^safe_place:", snippet, re.MULTILINE)
    data = yaml.safe_load(snippet)
    assert set(data["safe_place"]) == {v.name.split(".", 1)[1] for v in spec.variables}


def test_templates_show_unknown_name_lists_valid_names(test_templates: Path) -> None:
    result = invoke("templates", "show", "nope", "--templates-dir", str(test_templates))
    _assert_one_line_error(result, "'nope'", "safe-place", "mini")


# --- preview -------------------------------------------------------------------------------


def test_preview_prints_timestamps_length_and_rate(client_file: Path,
                                                   test_templates: Path) -> None:
    result = invoke("preview", "mini", "--client", str(client_file),
                    "--templates-dir", str(test_templates))
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    stamped = [STAMP.match(line) for line in lines[:-1]]
    assert all(stamped), lines
    seconds = [int(m.group(1)) * 60 + int(m.group(2)) for m in stamped if m]
    assert seconds == sorted(seconds)
    assert seconds[0] == 8  # the bed plays alone before the first word
    assert any("Hello, Robin." in line for line in lines)
    summary = lines[-1]
    match = re.fullmatch(r"estimated length (\d+\.\d) min; (\d+) words; "
                         r"delivered at about (\d+) words per minute", summary)
    assert match, summary
    assert float(match.group(1)) * 60 >= seconds[-1]
    assert 80 <= int(match.group(3)) <= 130


def test_preview_marks_the_lines_findings_concern(
    tmp_path: Path, test_templates: Path, write_client: Callable[..., Path]
) -> None:
    client = write_client(tmp_path, avoid=["garden"])
    result = invoke("preview", "mini", "--client", str(client),
                    "--templates-dir", str(test_templates))
    assert result.exit_code == 0, result.output
    marked = [line for line in result.stdout.splitlines() if "<- " in line]
    assert marked and all(line.endswith("<- error avoid-list") for line in marked)
    stamps = {line[:5] for line in marked}
    errors = [line for line in result.stderr.splitlines() if "error: avoid-list" in line]
    assert errors and {line[:5] for line in errors} <= stamps
    assert all(STAMP.match(line) for line in errors)
    assert "garden" not in "".join(errors)  # the finding names the entry by number


@pytest.mark.parametrize("name", ["Zoë", "José", "Łukasz", "王芳"])
def test_preview_speaks_unicode_names(
    name: str,
    tmp_path: Path,
    test_templates: Path,
    write_client: Callable[..., Path],
) -> None:
    client = write_client(tmp_path, preferred_name=name)
    result = invoke("preview", "mini", "--client", str(client),
                    "--templates-dir", str(test_templates))
    assert result.exit_code == 0, result.output
    assert f"Hello, {name}." in result.stdout
    assert "error:" not in result.output


# --- lint ----------------------------------------------------------------------------------


def test_lint_clean_profile_exits_0(client_file: Path, test_templates: Path) -> None:
    result = invoke("lint", "mini", "--client", str(client_file),
                    "--templates-dir", str(test_templates))
    assert result.exit_code == 0, result.output
    assert "0 error(s)" in result.output


def test_lint_avoid_list_hit_exits_1_without_quoting_values(
    tmp_path: Path,
    test_templates: Path,
    write_client: Callable[..., Path],
) -> None:
    client = write_client(tmp_path, avoid=AVOID_BENCH)
    result = invoke("lint", "mini", "--client", str(client),
                    "--templates-dir", str(test_templates))
    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error: avoid-list")]
    assert "error: avoid-list: avoid-list entry 2 matches the value of safe_place.description" \
        in errors
    assert not any("script line" in line for line in errors)  # a line no command prints
    assert "bench" not in result.output.lower()
    assert "Traceback" not in result.output


# --- render --------------------------------------------------------------------------------


def test_render_refuses_when_lint_has_an_error(
    tmp_path: Path,
    test_templates: Path,
    write_client: Callable[..., Path],
) -> None:
    client = write_client(tmp_path, avoid=AVOID_BENCH)
    out_dir = tmp_path / "out"
    result = invoke("render", "mini", "--client", str(client), "--templates-dir",
                    str(test_templates), "--format", "wav", "-o", str(out_dir))
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: ")
    assert "error: avoid-list" in result.output
    assert "bench" not in result.output.lower()
    assert not out_dir.exists() or not any(out_dir.iterdir())


def test_render_refuses_a_lint_error(
    tmp_path: Path,
    test_templates: Path,
    write_client: Callable[..., Path],
) -> None:
    client = write_client(tmp_path, avoid=["garden"])
    out_dir = tmp_path / "out"
    result = invoke("render", "mini", "--client", str(client), "--templates-dir",
                    str(test_templates), "-o", str(out_dir))
    assert result.exit_code == 1, result.output
    assert "error: avoid-list: avoid-list entry 1" in result.output
    assert "garden" not in result.output
    assert not out_dir.exists() or not any(out_dir.iterdir())
    # The first line says what happened and how many findings follow, one a line.
    first, *findings = result.output.strip().splitlines()
    count = int(re.search(r"\((\d+) errors?, one a line below\):$", first).group(1))  # type: ignore[union-attr]
    assert first.startswith("Error: template 'mini' did not pass the clinical lint")
    assert len(findings) == count and all(f.strip().startswith("error: ") for f in findings)


@pytest.mark.slow
def test_render_with_chinese_name_writes_a_wav(
    tmp_path: Path,
    test_templates: Path,
    write_client: Callable[..., Path],
) -> None:
    client = write_client(tmp_path, preferred_name="王芳")
    out_dir = tmp_path / "out"
    result = invoke("render", "mini", "--client", str(client), "--templates-dir",
                    str(test_templates), "--format", "wav", "-o", str(out_dir))
    assert result.exit_code == 0, result.output
    # The track and its transcript, captions and sidecar; no name in any file name.
    files = sorted(out_dir.iterdir())
    assert sorted(f.suffix for f in files) == [".json", ".txt", ".vtt", ".wav"]
    assert all("王芳" not in f.name and f.name.startswith("t-017_mini.") for f in files)
    assert "王芳".encode() not in (out_dir / "t-017_mini.wav.json").read_bytes()
    assert "王芳" in (out_dir / "t-017_mini.wav.txt").read_text(encoding="utf-8")  # spoken text
    tracks = [f for f in files if f.suffix == ".wav"]
    assert str(tracks[0]) in result.output
    info = soundfile.info(str(tracks[0]))
    assert 60 <= info.duration <= 240


def test_a_name_with_symbols_is_refused_by_the_lint_before_any_speech(
    tmp_path: Path, test_templates: Path, write_client: Callable[..., Path]
) -> None:
    client = write_client(tmp_path, preferred_name="<Zed*>")
    out = tmp_path / "out"
    result = invoke("render", "mini", "--client", str(client), "--templates-dir",
                    str(test_templates), "-o", str(out))
    assert result.exit_code == 1
    assert "error: symbols: the value of preferred_name holds a character the voice reads " \
           "aloud (asterisk, greater-than sign, less-than sign)" in result.output
    assert "Zed" not in result.output and "Traceback" not in result.output
    assert "synthesis" not in result.output and not out.exists()


def test_an_output_folder_through_a_file_is_refused_before_any_speech(
    tmp_path: Path, test_templates: Path, write_client: Callable[..., Path]
) -> None:
    (tmp_path / "afile").write_text("not a folder", encoding="utf-8")
    result = invoke("render", "mini", "--client", str(write_client(tmp_path)), "--templates-dir",
                    str(test_templates), "-o", str(tmp_path / "afile" / "tracks"))
    assert result.exit_code == 1
    assert result.output.strip() == (f"Error: {tmp_path / 'afile' / 'tracks'}: cannot write "
                                     "there ('afile' in its path is a file, not a folder)")
    assert (tmp_path / "afile").read_text(encoding="utf-8") == "not a folder"


def test_a_folder_this_user_cannot_write_is_refused_before_any_speech(
    tmp_path: Path, test_templates: Path, write_client: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import os

    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    # Tests run as root in CI, for whom every folder is writable: the permission is simulated.
    monkeypatch.setattr(os, "access", lambda path, mode: (
        False if Path(path) == locked else real_access(path, mode)))
    result = invoke("render", "mini", "--client", str(write_client(tmp_path)), "--templates-dir",
                    str(test_templates), "-o", str(locked / "new"))
    assert result.exit_code == 1
    expected = f"Error: {locked / 'new'}: cannot write there (permission denied)"
    assert result.output.strip() == expected
    assert list(locked.iterdir()) == []


def test_an_unwritable_cache_falls_back_to_rendering_without_it(
    tmp_path: Path, test_templates: Path, write_client: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "afile").write_text("not a folder", encoding="utf-8")
    cache = tmp_path / "afile" / "cache"
    monkeypatch.setenv("IMR_AUDIO_CACHE_DIR", str(cache))
    out = tmp_path / "out"
    result = invoke("render", "mini", "--client", str(write_client(tmp_path)), "--templates-dir",
                    str(test_templates), "--format", "wav", "-o", str(out))
    assert result.exit_code == 0, result.output
    notes = [line for line in result.output.splitlines() if line.startswith("Note:")]
    assert notes == [f"Note: the cache folder {cache} cannot be written ('afile' in its path is "
                     "a file, not a folder): this track is rendered without the cache"]
    assert "Traceback" not in result.output
    assert soundfile.info(str(out / "t-017_mini.wav")).duration > 60
