"""A therapist's own recording as the bed: decoded, resampled, looped without a seam."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyloudnorm as pyln
import pytest
import soundfile as sf
from click.testing import CliRunner
from numpy.typing import NDArray
from scipy import signal

from imr_audio.cli import cli
from imr_audio.errors import AudioDecodeError
from imr_audio.script import ScriptChoices, prepare
from imr_audio.soundscapes import audio_file as recording_module
from imr_audio.soundscapes.audio_file import AudioFileSoundscape, decode_recording, make_loop
from imr_audio.soundscapes.catalog import SoundscapeCatalog
from imr_audio.workspace import Workspace
from measure import ffmpeg_exe

CATALOG = SoundscapeCatalog.builtin()
get_soundscape, render_soundscape = CATALOG.get, CATALOG.render

SR = 44100
SOURCE_SR = 32000


def _recording(seconds: float = 6.0, seed: int = 1) -> NDArray[np.float64]:
    """A mono field recording that a naive loop would click on: a brook-like noise, a hum whose
    phase does not line up, and a level that rises by 8 dB from start to end."""
    rng = np.random.default_rng(seed)
    n = round(seconds * SOURCE_SR)
    t = np.arange(n) / SOURCE_SR
    noise = signal.lfilter([1.0], [1.0, -0.995], rng.standard_normal(n)) * 0.006
    hum = 0.04 * np.sin(2 * np.pi * 217.0 * t + 1.0)
    return (noise + hum) * 10 ** ((-10.0 + 8.0 * t / t[-1]) / 20.0)


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("loops")
    mono = _recording()
    paths = {"flac": folder / "brook.flac", "wav": folder / "brook.wav",
             "ogg": folder / "brook.ogg", "mp3": folder / "brook.mp3"}
    sf.write(paths["flac"], mono.astype(np.float32), SOURCE_SR, subtype="PCM_24")
    stereo = np.stack((mono, np.roll(mono, 40)), axis=1)
    sf.write(paths["wav"], stereo.astype(np.float32), SOURCE_SR, subtype="FLOAT")
    sf.write(paths["ogg"], mono.astype(np.float32), SOURCE_SR)
    sf.write(paths["mp3"], mono.astype(np.float32), SOURCE_SR)
    paths["m4a"] = folder / "brook.m4a"
    subprocess.run([ffmpeg_exe(), "-y", "-loglevel", "error", "-i", str(paths["flac"]),
                    "-c:a", "aac", "-b:a", "128k", str(paths["m4a"])], check=True)
    return paths


def _seam_check(
    audio: NDArray[np.float32], seams: NDArray[np.int64], rate: int = SR
) -> tuple[bool, bool]:
    """Whether the steps and the 10 ms levels at ``seams`` are like the recording's elsewhere."""
    x = audio.astype(np.float64)
    steps = np.abs(np.diff(x, axis=0)).max(axis=1)
    elsewhere = np.delete(steps, seams - 1)
    step_ok = bool(steps[seams - 1].max() < np.percentile(elsewhere, 99.9))
    n = round(0.01 * rate)
    k = len(x) // n
    level = 10 * np.log10(np.mean(x[: k * n].reshape(k, n, 2) ** 2, axis=(1, 2)))
    across = np.array([10 * np.log10(np.mean(x[s - n // 2 : s + n // 2] ** 2)) for s in seams])
    before = np.array([10 * np.log10(np.mean(x[s - 5 * n : s - n] ** 2)) for s in seams])
    after = np.array([10 * np.log10(np.mean(x[s + n : s + 5 * n] ** 2)) for s in seams])
    jump = np.abs(after - before)
    typical = np.abs(np.diff(np.convolve(level, np.ones(4) / 4, "valid")[::4]))
    level_ok = bool(
        np.all(across > np.percentile(level, 0.5) - 1.0)
        and np.all(across < np.percentile(level, 99.5) + 1.0)
        and jump.max() < max(1.5, np.percentile(typical, 99.5))
    )
    return step_ok, level_ok


def test_loop_has_no_seam_anywhere(recordings: dict[str, Path]) -> None:
    bed = get_soundscape(str(recordings["flac"]))
    assert isinstance(bed, AudioFileSoundscape)
    loop = bed.loop(SR)
    audio = render_soundscape(str(recordings["flac"]), 40.0, SR, 0)
    period = loop.audio.shape[1]
    assert 3.0 * SR < period < 6.0 * SR  # most of the 6 s recording is kept
    wraps = np.arange(period, len(audio), period)
    fades = np.concatenate([wraps + loop.crossfade_frames // 2, wraps + loop.crossfade_frames])
    fades = fades[fades < len(audio) - SR]
    assert all(_seam_check(audio, wraps))  # where the loop repeats
    assert all(_seam_check(audio, np.sort(fades)))  # inside and at the end of the crossfade


def test_the_seam_check_catches_a_naive_loop(recordings: dict[str, Path]) -> None:
    # regression guard for the test itself: tiling the file as it is clicks at every repeat
    data, rate = sf.read(str(recordings["flac"]))
    tiled = np.tile(np.stack((data, data), axis=1), (6, 1)).astype(np.float32)
    wraps = np.arange(len(data), len(tiled), len(data))
    assert _seam_check(tiled, wraps, rate) == (False, False)


def test_loop_is_stereo_levelled_and_any_length(recordings: dict[str, Path]) -> None:
    name = str(recordings["flac"])
    audio = render_soundscape(name, 40.0, SR, 0)
    assert audio.shape == (40 * SR, 2) and audio.dtype == np.float32
    assert np.array_equal(audio[:, 0], audio[:, 1])  # mono made stereo: the same both sides
    loudness = pyln.Meter(SR).integrated_loudness(audio.astype(np.float64))
    assert loudness == pytest.approx(-30.0, abs=1.0)
    assert 20 * np.log10(np.abs(audio).max()) < -6.0 + 0.01
    assert get_soundscape(name).info.themes == ()
    assert render_soundscape(name, 0.0, SR).shape == (0, 2)
    # deterministic; the seed moves the start within the loop
    assert np.array_equal(audio[: 5 * SR], render_soundscape(name, 5.0, SR, 0))
    other = render_soundscape(name, 5.0, SR, 1)
    assert not np.array_equal(audio[: 5 * SR], other)
    blocks = list(get_soundscape(name).blocks(12.0, SR, 0, block_frames=7777))
    assert np.array_equal(np.concatenate(blocks), audio[: 12 * SR])


def test_loop_resamples_to_any_rate(recordings: dict[str, Path]) -> None:
    loop = get_soundscape(str(recordings["flac"]))
    assert isinstance(loop, AudioFileSoundscape)
    at_48k = loop.loop(48000).audio.shape[1]
    at_44k = loop.loop(SR).audio.shape[1]
    assert at_48k / 48000 == pytest.approx(at_44k / SR, abs=0.02)


@pytest.mark.parametrize("kind", ["wav", "ogg", "mp3", "m4a"])
def test_every_format_decodes_like_the_flac(recordings: dict[str, Path], kind: str) -> None:
    reference, rate = decode_recording(recordings["flac"])
    data, decoded_rate = decode_recording(recordings[kind])
    assert decoded_rate == rate == SOURCE_SR
    assert abs(len(data) - len(reference)) < 0.1 * rate  # codecs pad a little
    level = 10 * np.log10(np.mean(data[:, 0].astype(np.float64) ** 2))
    assert level == pytest.approx(10 * np.log10(np.mean(reference[:, 0] ** 2)), abs=1.0)
    assert render_soundscape(str(recordings[kind]), 8.0, SR, 0).shape == (8 * SR, 2)


def test_m4a_decodes_through_the_imageio_ffmpeg_binary(
    recordings: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("imageio_ffmpeg")
    monkeypatch.setattr(recording_module.shutil, "which", lambda _name: None)
    import imageio_ffmpeg

    assert recording_module.ffmpeg_executable() == imageio_ffmpeg.get_ffmpeg_exe()
    data, rate = decode_recording(recordings["m4a"])
    assert rate == SOURCE_SR and len(data) > 5 * rate


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"RIFF\x00\x00\x00\x00WAVEnot really audio" * 20, "not a readable audio file"),
        (None, "holds no audio"),  # a valid WAV of zero frames
        (np.zeros(3 * SOURCE_SR), "holds no audio"),  # silence
        (_recording(1.2), "too short to loop"),
    ],
)
def test_a_bad_file_is_an_audio_decode_error_naming_it(
    tmp_path: Path, content: bytes | NDArray[np.float64] | None, needle: str
) -> None:
    path = tmp_path / "loop.wav"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        sf.write(path, np.zeros(0) if content is None else content, SOURCE_SR)
    with pytest.raises(AudioDecodeError, match=needle) as caught:
        render_soundscape(str(path), 5.0, SR)
    assert str(path) in str(caught.value)


def test_missing_and_undecodable_m4a_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(AudioDecodeError, match="file not found") as caught:
        get_soundscape(str(tmp_path / "gone.flac"))
    assert "gone.flac" in str(caught.value)
    fake = tmp_path / "fake.m4a"
    fake.write_bytes(b"\x00" * 2000)
    with pytest.raises(AudioDecodeError, match="not a readable audio file") as caught:
        get_soundscape(str(fake))
    assert str(fake) in str(caught.value)


def test_make_loop_keeps_stereo_and_crossfades_with_equal_power() -> None:
    rng = np.random.default_rng(3)
    stereo = rng.standard_normal((5 * SR, 2)) * 0.05
    loop = make_loop(stereo, SR)
    assert loop.audio.shape[0] == 2
    assert not np.array_equal(loop.audio[0], loop.audio[1])
    # equal power: the crossfade of independent noise keeps its level (equal gain would dip 3 dB)
    fade = loop.audio[:, : loop.crossfade_frames].astype(np.float64)
    rest = loop.audio[:, loop.crossfade_frames :].astype(np.float64)
    assert 10 * np.log10(np.mean(fade**2) / np.mean(rest**2)) == pytest.approx(0.0, abs=0.5)


def test_recording_as_the_bed_from_the_command_line(
    recordings: dict[str, Path],
    tmp_path: Path,
    test_templates: Path,
    write_client: Callable[..., Path],
) -> None:
    out = tmp_path / "loop.wav"
    result = CliRunner().invoke(cli, ["soundscape", "render", str(recordings["m4a"]),
                                      "--duration", "9", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert sf.info(str(out)).frames == 9 * SR
    # the lint takes the file and has no themes to check it against
    client = write_client(tmp_path, avoid=["heights", "water"])
    ws = Workspace.from_environment(templates_dir=test_templates)
    prepared = prepare(ws, "mini", ws.load_profile(client),
                       ScriptChoices(soundscape=str(recordings["flac"])))
    assert not any("soundscape" in f.message for f in prepared.findings)


def test_bad_recording_on_the_command_line_is_a_one_line_error(
    tmp_path: Path,
    test_templates: Path,
    write_client: Callable[..., Path],
) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"nothing")
    client = write_client(tmp_path)
    result = CliRunner().invoke(cli, ["lint", "mini", "--client", str(client), "--templates-dir",
                                      str(test_templates), "--soundscape", str(bad)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and str(bad) in lines[0]
