"""A recording used as a bed is measured by its header before it is decoded, and decoded in
blocks: a long file is refused without being read whole."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from imr_audio.errors import AudioDecodeError
from imr_audio.soundscapes import audio_file
from imr_audio.soundscapes.audio_file import MAX_RECORDING_S, decode_recording, ffmpeg_executable

RATE = 8000


def _tone(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def test_a_long_wav_is_refused_by_its_header_without_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "long.wav"
    sf.write(path, _tone(MAX_RECORDING_S + 30), RATE, subtype="PCM_16")

    def no_decoding(*args: object) -> None:
        raise AssertionError("the file was decoded")

    monkeypatch.setattr(audio_file, "_read_blocks", no_decoding)
    with pytest.raises(AudioDecodeError) as info:
        decode_recording(path)
    assert str(info.value) == (f"{path}: the recording is longer than 10 minutes; "
                               "use a shorter loop")


def test_a_short_wav_decodes_whole_and_the_same_as_one_read(tmp_path: Path) -> None:
    path = tmp_path / "short.wav"
    sf.write(path, _tone(20.0), RATE, subtype="FLOAT")
    data, rate = decode_recording(path)
    expected, _ = sf.read(path, dtype="float32", always_2d=True)
    assert rate == RATE and np.array_equal(data, expected)


def test_a_long_file_ffmpeg_decodes_is_refused_after_the_longest_allowed(tmp_path: Path) -> None:
    path = tmp_path / "long.m4a"
    subprocess.run([ffmpeg_executable(), "-v", "error", "-f", "lavfi", "-i",
                    f"sine=frequency=220:sample_rate={RATE}:duration={MAX_RECORDING_S + 60}",
                    "-c:a", "aac", "-b:a", "16k", str(path)], check=True)
    with pytest.raises(AudioDecodeError) as info:
        decode_recording(path)
    assert "longer than 10 minutes" in str(info.value)


def test_a_damaged_mp3_gives_one_line_and_no_decoder_notes(
    tmp_path: Path, test_templates: Path, write_client: Callable[..., Path]
) -> None:
    damaged = tmp_path / "damaged.mp3"
    damaged.write_bytes(b"ID3\x03\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 200)
    result = subprocess.run(
        [sys.executable, "-m", "imr_audio", "render", "mini", "--client",
         str(write_client(tmp_path)), "--templates-dir", str(test_templates), "--soundscape",
         str(damaged), "-o", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"Error: {damaged}: not a readable audio file"]
