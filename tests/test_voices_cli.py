"""``imr-audio voices``: what each profile resolves to here, and a real spoken preview."""

from __future__ import annotations

from pathlib import Path

import pyloudnorm
import pytest
import soundfile as sf
from click.testing import CliRunner

from imr_audio.cli import cli
from imr_audio.resources import data_dir
from imr_audio.voice.profiles import VoiceLibrary

voice_profile_names = VoiceLibrary(data_dir("voices")).names


def test_voices_list_shows_every_profile_and_its_voice() -> None:
    result = CliRunner().invoke(cli, ["voices", "list"])
    assert result.exit_code == 0, result.output
    for name in voice_profile_names():
        assert name in result.output
    assert "no voice available" not in result.output
    assert "pyttsx3: gmw/en+f3" in result.output  # calm-female's eSpeak NG variant


def test_voices_list_all_shows_engine_voices() -> None:
    result = CliRunner().invoke(cli, ["voices", "list", "--all"])
    assert result.exit_code == 0, result.output
    assert "pyttsx3 voices" in result.output
    assert "gmw/en " in result.output


def test_voices_preview_speaks_a_mastered_sample(tmp_path: Path) -> None:
    out = tmp_path / "sample.flac"
    result = CliRunner().invoke(cli, ["voices", "preview", "neutral", "-o", str(out)])
    assert result.exit_code == 0, result.output
    data, rate = sf.read(out, dtype="float64")
    assert 5.0 < len(data) / rate < 30.0
    loudness = pyloudnorm.Meter(rate).integrated_loudness(data)
    assert loudness == pytest.approx(-18.0, abs=0.5)


@pytest.mark.parametrize("args, needle", [
    (["voices", "preview", "whisper"], "calm"),
    (["voices", "preview", "calm", "-o", "{tmp}/sample.aiff"], "wav"),
])
def test_voices_preview_errors_are_one_line(args: list[str], needle: str,
                                            tmp_path: Path) -> None:
    # Regression: an ".ogg" name here became valid when OGG export arrived, and the test then
    # wrote a sample into the working folder.
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and needle in result.output
    assert len(result.output.strip().splitlines()) == 1
