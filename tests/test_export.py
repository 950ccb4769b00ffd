"""Export mechanics: atomic and private output, failures that leave nothing, settings, decoding.

Each format's audio, tags and cover are checked in ``test_formats.py``; chapters in
``test_chapters.py``.
"""

from __future__ import annotations

import errno
import re
import stat
import sys
from collections.abc import Callable
from pathlib import Path

import mutagen
import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner
from PIL import Image

from imr_audio.cli import cli
from imr_audio.errors import AudioDecodeError, ExportError
from imr_audio.export import (
    FORMATS,
    Chapter,
    ExportSettings,
    TrackTags,
    check_export_settings,
    decode_audio,
    export_track,
)
from imr_audio.export import encode as export_encode
from imr_audio.export import ffmpeg as export_ffmpeg
from imr_audio.export import tags as export_tags
from imr_audio.track import RenderResult, RenderSettings

SR = 44100
TAGS = TrackTags(title="Sicherer Ort – Zoë 王", album="Übungen ☀", artist="Praxis Müller")
SIGNAL = (0.1 * np.random.default_rng(4).standard_normal((SR * 5, 2))).astype(np.float32)
CHAPTERS = [Chapter("A", 0.0, 2.0), Chapter("B", 2.0, 5.0)]
SOUNDFILE_FORMATS = ["wav", "flac"]
FFMPEG_FORMATS = ["mp3", "m4a", "ogg", "opus"]


@pytest.fixture(scope="module", params=FORMATS)
def exported(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("export")
    path = base / "new" / "folder" / f"track.{request.param}"
    result = export_track(SIGNAL, SR, path, ExportSettings(format=request.param), TAGS, CHAPTERS)
    assert result == path
    return path


def test_output_is_private(exported: Path) -> None:
    assert stat.S_IMODE(exported.stat().st_mode) == 0o600
    assert stat.S_IMODE(exported.parent.stat().st_mode) == 0o700
    # Regression: mkdir(parents=True) created the folders above the track's own 0755.
    assert stat.S_IMODE(exported.parent.parent.stat().st_mode) == 0o700


def test_no_temporary_files_remain(exported: Path) -> None:
    # M4A also writes a chapters file for ffmpeg beside the track: removed too.
    assert [p.name for p in exported.parent.iterdir()] == [exported.name]


# --- failures ------------------------------------------------------------------------------


def _fail_after_first_block(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """soundfile's writer (WAV, FLAC) runs out of disk space after the first block."""
    original = sf.SoundFile.write
    calls = 0

    def write(self: sf.SoundFile, data: np.ndarray) -> None:
        nonlocal calls
        calls += 1
        if calls > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        original(self, data)

    monkeypatch.setattr(sf.SoundFile, "write", write)


def _fail_ffmpeg_midway(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """An ffmpeg that writes part of the output, then fails (MP3, M4A, OGG, Opus)."""
    fake = tmp_path / "fake-ffmpeg"
    # Its last argument is the output: a file, or (while the encoded audio is also decoded)
    # the tee muxer's "[options]file|[options]pipe:1"; as that decoder it writes nothing.
    # (Writing to "$last" as it was made a file called "pipe:1" in the working folder.)
    fake.write_text('#!/bin/sh\nfor last; do :; done\n'
                    'case "$last" in\n'
                    '  pipe:*) exit 1 ;;\n'
                    '  \\[*) out=${last#*]}; out=${out%%|*} ;;\n'
                    '  *) out=$last ;;\n'
                    'esac\n'
                    'head -c 5000 > "$out"\n'
                    'echo "simulated failure: No space left on device" >&2\nexit 1\n')
    fake.chmod(0o700)
    monkeypatch.setattr(export_ffmpeg, "ffmpeg_exe", lambda: str(fake))


def _fail_tagging(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def write_tags(*args: object) -> None:
        raise mutagen.MutagenError("tag write failed")

    monkeypatch.setattr(export_tags, "write_tags", write_tags)


def _failures(fmt: str) -> list[object]:
    encoder = _fail_after_first_block if fmt in SOUNDFILE_FORMATS else _fail_ffmpeg_midway
    return [pytest.param(fmt, encoder, id=f"{fmt}-{encoder.__name__}"),
            pytest.param(fmt, _fail_tagging, id=f"{fmt}-_fail_tagging")]


@pytest.mark.parametrize(("fmt", "fail"), [p for fmt in FORMATS for p in _failures(fmt)])
def test_failed_export_leaves_nothing(fmt: str, fail: object, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    assert callable(fail)
    fail(monkeypatch, tmp_path)
    path = tmp_path / "out" / f"track.{fmt}"
    with pytest.raises(ExportError, match=re.escape(f"track.{fmt}")):
        export_track(SIGNAL, SR, path, ExportSettings(format=fmt), TAGS, CHAPTERS)
    assert not path.exists()
    assert list(path.parent.iterdir()) == []


@pytest.mark.parametrize("fail", [_fail_ffmpeg_midway, _fail_tagging], ids=lambda f: f.__name__)
def test_failed_export_keeps_the_older_file(fail: object, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "out"
    path = folder / "track.mp3"
    export_track(SIGNAL[: SR * 2], SR, path, ExportSettings(format="mp3"), TrackTags("Older"))
    older = path.read_bytes()
    assert callable(fail)
    fail(monkeypatch, tmp_path)
    with pytest.raises(ExportError):
        export_track(SIGNAL, SR, path, ExportSettings(format="mp3"), TAGS)
    assert path.read_bytes() == older
    assert [p.name for p in folder.iterdir()] == ["track.mp3"]


def test_ffmpeg_failure_says_what_ffmpeg_said(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export_encode, "_codec_args", lambda *args: ["-c:a", "no-such-codec"])
    path = tmp_path / "track.m4a"
    with pytest.raises(ExportError, match=r"track\.m4a: could not write M4A: ffmpeg failed: "
                                          r".*no-such-codec") as info:
        export_track(SIGNAL, SR, path, ExportSettings(format="m4a"), TAGS)
    assert "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_missing_ffmpeg_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    export_ffmpeg.ffmpeg_exe.cache_clear()
    monkeypatch.setattr(export_ffmpeg.shutil, "which", lambda name: None)
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # import fails
    try:
        with pytest.raises(ExportError, match="ffmpeg not found"):
            export_ffmpeg.ffmpeg_exe()
    finally:
        export_ffmpeg.ffmpeg_exe.cache_clear()


# --- cover image ---------------------------------------------------------------------------


def _gif(folder: Path) -> Path:
    path = folder / "cover.gif"
    Image.new("RGB", (4, 4)).save(path, "GIF")
    return path


def _text(folder: Path) -> Path:
    path = folder / "cover.png"
    path.write_text("not an image\n", encoding="utf-8")
    return path


def _missing(folder: Path) -> Path:
    return folder / "no-such-cover.jpg"


@pytest.mark.parametrize(("make", "reason"), [
    (_missing, "cover image not found"),
    (_text, "cover image is not a readable PNG or JPEG file"),
    (_gif, "cover image must be PNG or JPEG, not GIF"),
])
def test_bad_cover_is_named_and_nothing_is_written(make: object, reason: str,
                                                  tmp_path: Path) -> None:
    assert callable(make)
    cover = make(tmp_path)
    out = tmp_path / "out"
    with pytest.raises(ExportError) as info:
        export_track(SIGNAL, SR, out / "t.mp3", ExportSettings(), TrackTags("t", cover=cover))
    assert str(info.value) == f"{cover}: {reason}"
    assert not out.exists()


def test_render_refuses_a_bad_cover_before_synthesis(
    client_file: Path,
    tmp_path: Path,
    speech_cache_dir: Path,
    test_templates: Path, render_file: Callable[..., RenderResult]
) -> None:
    cover = _text(tmp_path)
    settings = RenderSettings(export=ExportSettings(format="m4a", cover=cover))
    with pytest.raises(ExportError, match=re.escape(str(cover))):
        render_file("mini", client_file, tmp_path / "out", settings)
    assert not (tmp_path / "out").exists()
    assert not any(speech_cache_dir.rglob("*.*"))  # nothing was synthesised


def test_cli_bad_cover_is_a_one_line_error(
    client_file: Path,
    tmp_path: Path,
    test_templates: Path,
) -> None:
    cover = _missing(tmp_path)
    result = CliRunner().invoke(cli, [
        "render", "mini", "--client", str(client_file), "--templates-dir", str(test_templates),
        "--format", "m4a", "--cover", str(cover), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {cover}: cover image not found"


# --- settings ------------------------------------------------------------------------------


def test_every_settings_problem_is_reported_at_once() -> None:
    settings = ExportSettings(format="flac", bitrate_kbps=128, vbr=True, channels=3,
                              sample_rate_hz=22050)
    with pytest.raises(ExportError) as info:
        check_export_settings(settings)
    message = str(info.value)
    for needle in ("channels must be 1 or 2", "sample rate must be 44100 or 48000 Hz",
                   "FLAC is lossless", "vbr) applies to MP3 only"):
        assert needle in message


@pytest.mark.parametrize(("settings", "needle"), [
    (ExportSettings("opus", sample_rate_hz=44100), "Opus is always 48000 Hz"),
    (ExportSettings("mp3", bitrate_kbps=400), "MP3 bitrate must be 32-320 kbps, not 400"),
    (ExportSettings("opus", bitrate_kbps=300), "OPUS bitrate must be 16-256 kbps"),
])
def test_settings_out_of_range(settings: ExportSettings, needle: str) -> None:
    with pytest.raises(ExportError, match=re.escape(needle)):
        check_export_settings(settings)


@pytest.mark.parametrize(("settings", "kbps"), [
    (ExportSettings("mp3"), 160), (ExportSettings("mp3", channels=1), 128),
    (ExportSettings("m4a"), 128), (ExportSettings("opus", channels=1), 64),
    (ExportSettings("ogg", bitrate_kbps=200), 200), (ExportSettings("flac"), None),
])
def test_default_bitrate_follows_format_and_channels(settings: ExportSettings,
                                                     kbps: int | None) -> None:
    assert settings.resolved_bitrate_kbps() == kbps


def test_default_bitrate_of_mono_samples() -> None:
    assert ExportSettings("mp3").resolved_bitrate_kbps(channels=1) == 128
    assert ExportSettings("mp3", channels=2).resolved_bitrate_kbps(channels=1) == 160


def test_channels_default_to_the_samples_own(tmp_path: Path) -> None:
    # Regression: a mono voice preview was written as stereo, 3 LU louder than mastered.
    for samples, channels in ((SIGNAL[:, 0], 1), (SIGNAL, 2)):
        path = export_track(samples, SR, tmp_path / "t.flac", ExportSettings("flac"), TAGS)
        assert decode_audio(path)[0].shape[1] == channels


def test_unknown_format_lists_formats(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "track.aiff"
    with pytest.raises(ExportError, match="'aiff'") as info:
        export_track(SIGNAL, SR, path, ExportSettings(format="aiff"), TAGS)
    for fmt in FORMATS:
        assert fmt in str(info.value)
    assert not path.parent.exists()


def test_export_settings_make_neutral_tags(tmp_path: Path) -> None:
    settings = ExportSettings(album="Übungen", artist="Praxis", cover=tmp_path / "c.png")
    assert settings.tags("Safe place") == TrackTags("Safe place", "Übungen", "Praxis",
                                                    tmp_path / "c.png")


# --- decoding ------------------------------------------------------------------------------


def test_decode_rejects_a_text_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp3"
    path.write_text("not audio at all\n" * 50, encoding="utf-8")
    with pytest.raises(AudioDecodeError, match=r"notes\.mp3") as info:
        decode_audio(path)
    assert "not a readable audio file" in str(info.value)


def test_decode_names_a_missing_file(tmp_path: Path) -> None:
    # Regression: soundfile raises LibsndfileError, not FileNotFoundError, for a missing file,
    # so it was reported as "not a readable audio file".
    path = tmp_path / "gone.wav"
    with pytest.raises(AudioDecodeError, match=r"gone\.wav") as info:
        decode_audio(path)
    assert "file not found" in str(info.value)


def test_decode_reads_what_export_wrote(tmp_path: Path) -> None:
    path = export_track(SIGNAL, SR, tmp_path / "t.flac", ExportSettings(format="flac"), TAGS)
    audio, rate = decode_audio(path)
    assert rate == SR
    assert audio.dtype == np.float32
    np.testing.assert_allclose(audio, SIGNAL, atol=2 / 32768)


def test_decode_reads_m4a_through_ffmpeg(tmp_path: Path) -> None:
    # soundfile cannot read MP4: the render's re-measuring step relies on the ffmpeg fallback.
    path = export_track(SIGNAL, SR, tmp_path / "t.m4a", ExportSettings(format="m4a"), TAGS)
    with pytest.raises(sf.LibsndfileError):
        sf.read(str(path))
    audio, rate = decode_audio(path)
    assert (rate, audio.shape[1], str(audio.dtype)) == (SR, 2, "float32")
    assert len(audio) / rate == pytest.approx(5.0, abs=0.05)


def test_a_folder_name_with_the_tee_muxers_special_characters(tmp_path: Path) -> None:
    # While an MP3 is encoded it is also decoded through ffmpeg's tee muxer, whose output list
    # gives meaning to [ ] | : = and backslashes: a folder named with them must still work.
    folder = tmp_path / "a b [c]: d|e=f\\g"
    samples = (0.1 * np.sin(2 * np.pi * 440 * np.arange(SR * 3) / SR)).astype(np.float32)
    stereo = np.stack([samples, samples], axis=1)
    path = export_track(stereo, SR, folder / "t.mp3", ExportSettings("mp3"), TrackTags("t"))
    decoded, rate = decode_audio(path)
    assert rate == SR and len(decoded) / rate == pytest.approx(3.0, abs=0.01)
    assert sorted(p.name for p in folder.iterdir()) == ["t.mp3"]
