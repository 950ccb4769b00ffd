"""The command line: help and version, one-line errors, and the demo rendering a real track."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from mutagen.mp3 import MP3

from imr_audio import __version__
from imr_audio.cli import cli
from imr_audio.trackset import companion_paths
from imr_audio.voice import piper_engine, pyttsx3_engine
from measure import ffmpeg_ebur128

DOCS = Path(__file__).parents[1] / "docs" / "cli.md"


def _commands() -> list[str]:
    return sorted(cli.commands)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_version() -> None:
    code, out = run("--version")
    assert code == 0
    assert __version__ in out


@pytest.mark.parametrize("command", _commands())
def test_every_command_has_help_and_docs(command: str) -> None:
    code, out = run(command, "--help")
    assert code == 0
    doc = cli.commands[command].help
    assert doc and doc.split("\n")[0] in out
    assert f"imr-audio {command}" in DOCS.read_text(encoding="utf-8")


def _assert_one_line_error(code: int, out: str, *needles: str) -> None:
    assert code == 1, out
    assert "Traceback" not in out
    lines = out.strip().splitlines()
    assert len(lines) == 1, out
    assert lines[0].startswith("Error: ")
    for needle in needles:
        assert needle in lines[0], out


def test_missing_template_variable_names_variable_and_template(
    client_file: Path,
    tmp_path: Path,
    test_templates: Path,
) -> None:
    out_dir = tmp_path / "out"
    code, out = run("render", "undeclared", "--client", str(client_file),
                    "--templates-dir", str(test_templates), "-o", str(out_dir))
    _assert_one_line_error(code, out, "undeclared", "safe_place.cue_word")
    assert not out_dir.exists() or not any(out_dir.iterdir())


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: c-1\npreferred_name: Kim\nsafe_place: [unclosed\n", encoding="utf-8")
    code, out = run("render", "safe-place", "--client", str(bad), "-o", str(tmp_path / "o"))
    _assert_one_line_error(code, out, str(bad), "line ")
    assert re.search(r"line [34]", out)
    assert "Kim" not in out
    assert not (tmp_path / "o").exists()


def test_unknown_template_lists_valid_names(client_file: Path, tmp_path: Path) -> None:
    code, out = run("render", "safe-plaice", "--client", str(client_file), "-o", str(tmp_path))
    _assert_one_line_error(code, out, "safe-plaice", "safe-place")


def test_unknown_soundscape_lists_valid_names(client_file: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["render", "safe-place", "--client", str(client_file),
                                      "--soundscape", "jungle", "-o", str(tmp_path)])
    # The name is checked against the workspace's soundscapes (the user's presets included):
    # one line, as for a name in the profile, not a usage screen.
    _assert_one_line_error(result.exit_code, result.output, "jungle", "rain", "ocean")


def test_unknown_soundscape_in_profile_lists_valid_names(
    tmp_path: Path,
    test_templates: Path,
    write_client: Callable[..., Path],
) -> None:
    client = write_client(tmp_path, preferences={"soundscape": "jungle"})
    code, out = run("render", "mini", "--client", str(client), "--templates-dir",
                    str(test_templates), "-o", str(tmp_path / "o"))
    # the field is named, never the client's value (a path in it could name them)
    _assert_one_line_error(code, out, "client.yaml", "preferences.soundscape", "rain", "ocean")
    assert "jungle" not in out


def test_eligibility_flag_blocks_render(
    tmp_path: Path,
    test_templates: Path,
    write_client: Callable[..., Path],
) -> None:
    client = write_client(tmp_path, eligibility={"acute_crisis": True})
    code, out = run("render", "mini", "--client", str(client), "--templates-dir",
                    str(test_templates), "-o", str(tmp_path / "o"))
    _assert_one_line_error(code, out, "eligibility.acute_crisis", "session")


def test_profile_problems_are_all_reported(
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    client = write_client(tmp_path, id="Jane Smith", prefered_name="x")
    code, out = run("render", "safe-place", "--client", str(client), "-o", str(tmp_path / "o"))
    assert code == 1
    assert "Traceback" not in out
    assert f"{client}: id:" in out
    assert "prefered_name: unknown field; did you mean 'preferred_name'?" in out
    assert "Jane" not in out


def test_failed_synthesis_is_an_error_and_leaves_no_file(
    client_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, test_templates: Path
) -> None:
    real_call = pyttsx3_engine._Worker.call

    def failing_call(self: pyttsx3_engine._Worker, message: tuple, timeout_s: float) -> object:
        if message[0] == "say" and "Resting" not in str(message[1]):
            raise RuntimeError("engine crashed")
        return real_call(self, message, timeout_s)

    monkeypatch.setattr(pyttsx3_engine._Worker, "call", failing_call)
    # The calm profile prefers Piper where the neural extra is installed: make it fail alike.
    real_speak = piper_engine.PiperEngine._speak

    def failing_speak(self: piper_engine.PiperEngine, voice: Any, text: str, *args: Any) -> Any:
        if "Resting" not in text:
            raise RuntimeError("engine crashed")
        return real_speak(self, voice, text, *args)

    monkeypatch.setattr(piper_engine.PiperEngine, "_speak", failing_speak)
    out_dir = tmp_path / "out"
    code, out = run("render", "mini", "--client", str(client_file), "--templates-dir",
                    str(test_templates), "--format", "wav", "-o", str(out_dir))
    _assert_one_line_error(code, out, "script line", "speech synthesis failed")
    assert not out_dir.exists() or not any(out_dir.iterdir())


def test_python_dash_m_runs_the_cli() -> None:
    result = subprocess.run([sys.executable, "-m", "imr_audio", "--version"],
                            capture_output=True, text=True, check=True)
    assert __version__ in result.stdout


@pytest.mark.slow
def test_demo_renders_a_mastered_mp3(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("imr-audio")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "imr_audio"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([*command, "demo"], cwd=tmp_path, capture_output=True, text=True,
                            env=env, timeout=900)
    assert result.returncode == 0, result.stderr
    track = tmp_path / "imr-demo" / "demo-001_safe-place.mp3"
    assert str(track) in result.stdout
    integrated, peak = ffmpeg_ebur128(track)
    assert integrated == pytest.approx(-18.0, abs=0.5)
    assert peak <= -1.0
    info: Any = MP3(track)
    assert info.info.sample_rate == 44100 and info.info.channels == 2
    assert info.info.bitrate == 160_000
    assert 8 * 60 <= info.info.length <= 12 * 60
    assert str(info.tags["TIT2"]) == "Safe place"
    assert "Alex" not in info.tags.pprint()
    assert (track.stat().st_mode & 0o777) == 0o600
    names = sorted(p.name for p in track.parent.iterdir())
    assert names == sorted([track.name, *(p.name for p in companion_paths(track))])
    assert all((track.parent / n).stat().st_mode & 0o777 == 0o600 for n in names)
