"""Export: each format decoded back and measured, tags read back, atomic and private output."""

from __future__ import annotations

import errno
import re
import stat
from pathlib import Path

import mutagen
import numpy as np
import pyloudnorm as pyln
import pytest
import soundfile as sf

from imr_audio import export
from imr_audio.errors import AudioDecodeError, ExportError
from imr_audio.export import ExportSettings, TrackTags, decode_audio, export_track
from measure import ffprobe

SR = 44100
DURATION_S = 20.0
TARGET_LUFS = -18.0
TITLE = "Sicherer Ort – Zoë's Garten 王"
TAGS = TrackTags(title=TITLE, album="Übungen ☀", artist="Praxis Müller")
FORMATS = ["mp3", "wav", "flac"]
CODECS = {"mp3": "mp3", "wav": "pcm_s16le", "flac": "flac"}


def _signal() -> np.ndarray:
    """20 s of stereo: a slowly swelling tone left, noise right, scaled to -18 LUFS."""
    t = np.arange(round(DURATION_S * SR)) / SR
    rng = np.random.default_rng(4)
    left = 0.3 * np.sin(2 * np.pi * 440 * t) * (1 + 0.5 * np.sin(2 * np.pi * 0.5 * t))
    right = 0.05 * rng.standard_normal(len(t))
    audio = np.stack([left, right], axis=1)
    gain_db = TARGET_LUFS - pyln.Meter(SR).integrated_loudness(audio)
    return (audio * 10 ** (gain_db / 20)).astype(np.float32)


SIGNAL = _signal()


@pytest.fixture(scope="module", params=FORMATS)
def exported(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("export")
    path = base / "new" / "folder" / f"track.{request.param}"
    result = export_track(SIGNAL, SR, path, ExportSettings(format=request.param), TAGS)
    assert result == path
    return path


def _fmt(path: Path) -> str:
    return path.suffix[1:]


def test_ffprobe_sees_the_format(exported: Path) -> None:
    info = ffprobe(exported)
    fmt = _fmt(exported)
    (stream,) = info["streams"]
    assert info["format"]["format_name"] == fmt
    assert stream["codec_name"] == CODECS[fmt]
    assert int(stream["sample_rate"]) == SR
    assert stream["channels"] == 2
    assert float(info["format"]["duration"]) == pytest.approx(DURATION_S, abs=0.05)
    if fmt == "mp3":
        assert int(stream["bit_rate"]) == pytest.approx(160_000, rel=0.05)


def test_decoded_audio_keeps_duration_and_loudness(exported: Path) -> None:
    decoded, rate = sf.read(exported, dtype="float64", always_2d=True)
    assert rate == SR
    assert decoded.shape[1] == 2
    assert len(decoded) / rate == pytest.approx(DURATION_S, abs=0.05)
    # For MP3 this holds only because export undoes the encoder's own gain.
    assert pyln.Meter(rate).integrated_loudness(decoded) == pytest.approx(TARGET_LUFS, abs=0.2)
    # Channels stay apart: the tone is left, the noise right.
    assert np.corrcoef(decoded[:, 0], decoded[:, 1])[0, 1] == pytest.approx(0.0, abs=0.05)


def test_output_is_private(exported: Path) -> None:
    assert stat.S_IMODE(exported.stat().st_mode) == 0o600
    assert stat.S_IMODE(exported.parent.stat().st_mode) == 0o700
    # Regression: mkdir(parents=True) created the folders above the track's own 0755.
    assert stat.S_IMODE(exported.parent.parent.stat().st_mode) == 0o700


def test_no_temporary_files_remain(exported: Path) -> None:
    assert [p.name for p in exported.parent.iterdir()] == [exported.name]


def test_tags_read_back_with_mutagen(exported: Path) -> None:
    tags = mutagen.File(exported).tags
    assert tags is not None
    if _fmt(exported) == "flac":
        read = {key: tags[key] for key in ("title", "album", "artist")}
    else:  # ID3, in the MP3 file and in the WAV file's id3 chunk
        read = {key: tags[frame].text for key, frame in
                (("title", "TIT2"), ("album", "TALB"), ("artist", "TPE1"))}
    assert read == {"title": [TITLE], "album": [TAGS.album], "artist": [TAGS.artist]}


def test_tags_read_back_with_ffprobe(exported: Path) -> None:
    tags = {k.lower(): v for k, v in ffprobe(exported)["format"]["tags"].items()}
    assert tags["title"] == TITLE
    assert tags["album"] == TAGS.album
    assert tags["artist"] == TAGS.artist


# --- failures ------------------------------------------------------------------------------


def _fail_after_first_block(monkeypatch: pytest.MonkeyPatch) -> None:
    original = sf.SoundFile.write
    calls = 0

    def write(self: sf.SoundFile, data: np.ndarray) -> None:
        nonlocal calls
        calls += 1
        if calls > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        original(self, data)

    monkeypatch.setattr(sf.SoundFile, "write", write)


def _fail_tagging(monkeypatch: pytest.MonkeyPatch) -> None:
    def write_tags(*args: object) -> None:
        raise mutagen.MutagenError("tag write failed")

    monkeypatch.setattr(export, "_write_tags", write_tags)


FAILURES = [_fail_after_first_block, _fail_tagging]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("fail", FAILURES, ids=lambda f: f.__name__)
def test_failed_export_leaves_nothing(fmt: str, fail: object, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    assert callable(fail)
    fail(monkeypatch)
    path = tmp_path / "out" / f"track.{fmt}"
    with pytest.raises(ExportError, match=re.escape(f"track.{fmt}")):
        export_track(SIGNAL, SR, path, ExportSettings(format=fmt), TAGS)
    assert not path.exists()
    assert list(path.parent.iterdir()) == []


@pytest.mark.parametrize("fail", FAILURES, ids=lambda f: f.__name__)
def test_failed_export_keeps_the_older_file(fail: object, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "track.mp3"
    export_track(SIGNAL[: SR * 2], SR, path, ExportSettings(format="mp3"), TrackTags("Older"))
    older = path.read_bytes()
    assert callable(fail)
    fail(monkeypatch)
    with pytest.raises(ExportError):
        export_track(SIGNAL, SR, path, ExportSettings(format="mp3"), TAGS)
    assert path.read_bytes() == older
    assert [p.name for p in tmp_path.iterdir()] == ["track.mp3"]


def test_unknown_format_lists_formats(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "track.ogg"
    with pytest.raises(ExportError, match="'ogg'") as info:
        export_track(SIGNAL, SR, path, ExportSettings(format="ogg"), TAGS)
    for fmt in FORMATS:
        assert fmt in str(info.value)
    assert not path.parent.exists()


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
