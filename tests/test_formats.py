"""Every export format decoded back and measured; tags and cover read back; variants."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mutagen
import numpy as np
import pyloudnorm as pyln
import pytest
from mutagen.flac import FLAC, Picture
from mutagen.id3 import ID3
from mutagen.mp3 import BitrateMode
from mutagen.mp4 import MP4
from PIL import Image
from scipy.signal import butter, sosfilt

from imr_audio.export import FORMATS, ExportSettings, TrackTags, decode_audio, export_track
from imr_audio.export.ffmpeg import ffmpeg_decode
from imr_audio.export.tags import read_provenance
from measure import ffprobe

SR = 44100
DURATION_S = 20.0
TARGET_LUFS = -18.0
TITLE = "Sicherer Ort – Zoë 王"
PROVENANCE = (("client_hash", "c" * 64), ("inputs_sha256", "d" * 64))
CODECS = {"mp3": "mp3", "m4a": "aac", "ogg": "vorbis", "opus": "opus", "flac": "flac",
          "wav": "pcm_s16le"}
CONTAINERS = {"mp3": "mp3", "m4a": "mov,mp4,m4a,3gp,3g2,mj2", "ogg": "ogg", "opus": "ogg",
              "flac": "flac", "wav": "wav"}
LOSSY = ["mp3", "m4a", "ogg", "opus"]


def _at_target(audio: np.ndarray) -> np.ndarray:
    gain_db = TARGET_LUFS - pyln.Meter(SR).integrated_loudness(audio)
    return (audio * 10 ** (gain_db / 20)).astype(np.float32)


def _signal() -> np.ndarray:
    """20 s of stereo at -18 LUFS: a swelling tone left, noise below 6 kHz right."""
    t = np.arange(round(DURATION_S * SR)) / SR
    rng = np.random.default_rng(4)
    left = 0.3 * np.sin(2 * np.pi * 440 * t) * (1 + 0.5 * np.sin(2 * np.pi * 0.5 * t))
    right = sosfilt(butter(4, 6000, fs=SR, output="sos"), 0.1 * rng.standard_normal(len(t)))
    return _at_target(np.stack([left, right], axis=1))


STEREO = _signal()
MONO = _at_target(STEREO.mean(axis=1))


@pytest.fixture(scope="module")
def cover(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cover") / "cover.png"
    Image.new("RGB", (16, 12), (40, 120, 200)).save(path)
    return path


@pytest.fixture(scope="module", params=FORMATS)
def exported(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
             cover: Path) -> Path:
    fmt = request.param
    tags = TrackTags(TITLE, album="Übungen ☀", artist="Praxis Müller", cover=cover,
                     provenance=PROVENANCE)
    path = tmp_path_factory.mktemp(fmt) / f"track.{fmt}"
    return export_track(STEREO, SR, path, ExportSettings(format=fmt), tags)


def test_provenance_travels_in_the_file(exported: Path) -> None:
    # Issue #10: a track copied without its sidecar must still prove whose it is.
    assert read_provenance(exported) == dict(PROVENANCE)


def _fmt(path: Path) -> str:
    return path.suffix[1:]


def _audio_stream(info: dict) -> dict:
    (stream,) = [s for s in info["streams"] if s["codec_type"] == "audio"]
    return stream


def _assert_decodes_to(path: Path, rate: int, channels: int, loudness: float = TARGET_LUFS) -> None:
    """Duration within 0.05 s (AAC end padding stays in with ffmpeg before 7), loudness
    within 0.3 LU, by both decoders where soundfile reads the format."""
    decoders = [ffmpeg_decode] + ([] if _fmt(path) == "m4a" else [decode_audio])
    for decode in decoders:
        decoded, decoded_rate = decode(path)
        assert decoded_rate == rate
        assert decoded.shape[1] == channels
        assert len(decoded) / rate == pytest.approx(DURATION_S, abs=0.05)
        measured = pyln.Meter(rate).integrated_loudness(decoded.astype(np.float64))
        assert measured == pytest.approx(loudness, abs=0.3), decode.__name__


def test_ffprobe_sees_the_format(exported: Path) -> None:
    fmt = _fmt(exported)
    info = ffprobe(exported)
    stream = _audio_stream(info)
    assert info["format"]["format_name"] == CONTAINERS[fmt]
    assert stream["codec_name"] == CODECS[fmt]
    assert int(stream["sample_rate"]) == (48000 if fmt == "opus" else SR)
    assert stream["channels"] == 2
    assert float(info["format"]["duration"]) == pytest.approx(DURATION_S, abs=0.05)


@pytest.mark.parametrize(("fmt", "kbps"), [("mp3", 160), ("m4a", 128), ("ogg", 128),
                                           ("opus", 96)])
def test_default_bitrates(fmt: str, kbps: int, tmp_path: Path) -> None:
    path = export_track(STEREO, SR, tmp_path / f"t.{fmt}", ExportSettings(format=fmt),
                        TrackTags("t"))
    # Vorbis and Opus vary around their target: this noisy signal runs a little above it.
    tolerance = 0.01 if fmt == "mp3" else 0.25
    assert int(ffprobe(path)["format"]["bit_rate"]) / 1000 == pytest.approx(kbps, rel=tolerance)


def test_decoded_audio_keeps_duration_and_loudness(exported: Path) -> None:
    rate = 48000 if _fmt(exported) == "opus" else SR
    _assert_decodes_to(exported, rate, 2)


def test_channels_stay_apart(exported: Path) -> None:
    decoded, _ = decode_audio(exported)
    # The tone is left, the noise right.
    assert np.corrcoef(decoded[:, 0], decoded[:, 1])[0, 1] == pytest.approx(0.0, abs=0.05)


def test_tags_read_back_with_mutagen(exported: Path) -> None:
    file = mutagen.File(exported)
    assert file is not None and file.tags is not None
    tags = file.tags
    fmt = _fmt(exported)
    if fmt in ("mp3", "wav"):  # ID3, in the MP3 file and in the WAV file's id3 chunk
        read = {key: tags[frame].text for key, frame in
                (("title", "TIT2"), ("album", "TALB"), ("artist", "TPE1"))}
    elif fmt == "m4a":
        read = {key: tags[atom] for key, atom in
                (("title", "\xa9nam"), ("album", "\xa9alb"), ("artist", "\xa9ART"))}
    else:
        read = {key: tags[key] for key in ("title", "album", "artist")}
    assert read == {"title": [TITLE], "album": ["Übungen ☀"], "artist": ["Praxis Müller"]}


def test_tags_read_back_with_ffprobe(exported: Path) -> None:
    info = ffprobe(exported)
    # Ogg keeps its comments in the stream; the other containers in the format.
    raw = _audio_stream(info) if _fmt(exported) in ("ogg", "opus") else info["format"]
    tags = {k.lower(): v for k, v in raw["tags"].items()}
    assert tags["title"] == TITLE
    assert tags["album"] == "Übungen ☀"
    assert tags["artist"] == "Praxis Müller"


def test_no_tag_names_the_encoder_or_anything_else(exported: Path) -> None:
    file = mutagen.File(exported)
    assert file is not None and file.tags is not None
    names = file.tags.keys()  # Vorbis comments iterate as (key, value) pairs: keys() needed
    keys = {str(key).lower().split(":")[0] for key in names}
    allowed = {"tit2", "talb", "tpe1", "apic", "title", "album", "artist",
               "metadata_block_picture", "\xa9nam", "\xa9alb", "\xa9art", "covr",
               "txxx", "imr_audio_client_hash", "imr_audio_inputs_sha256", "----"}
    assert keys <= allowed


def _embedded_cover(path: Path) -> bytes | None:
    fmt = _fmt(path)
    if fmt == "mp3":
        pictures = ID3(path).getall("APIC")
        return pictures[0].data if pictures else None
    if fmt == "m4a":
        items: Any = MP4(path).tags
        return bytes(items["covr"][0]) if items and "covr" in items else None
    if fmt == "flac":
        flac_pictures = FLAC(path).pictures
        return flac_pictures[0].data if flac_pictures else None
    if fmt in ("ogg", "opus"):
        import base64

        file = mutagen.File(path)
        assert file is not None and file.tags is not None
        blocks = file.tags.get("metadata_block_picture")
        return Picture(base64.b64decode(blocks[0])).data if blocks else None
    return None


def test_cover_image_round_trips(exported: Path, cover: Path) -> None:
    if _fmt(exported) == "wav":
        assert _embedded_cover(exported) is None
        return
    assert _embedded_cover(exported) == cover.read_bytes()
    pictures = [s for s in ffprobe(exported)["streams"] if s["codec_type"] == "video"]
    assert [p["codec_name"] for p in pictures] == ["png"]


def test_jpeg_cover(tmp_path: Path) -> None:
    jpeg = tmp_path / "cover.jpg"
    Image.new("RGB", (20, 20), (200, 30, 30)).save(jpeg, "JPEG")
    path = export_track(STEREO[: SR * 2], SR, tmp_path / "t.m4a", ExportSettings(format="m4a"),
                        TrackTags("t", cover=jpeg))
    assert _embedded_cover(path) == jpeg.read_bytes()


# --- variants ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_mono(fmt: str, tmp_path: Path) -> None:
    path = export_track(MONO, SR, tmp_path / f"t.{fmt}", ExportSettings(format=fmt, channels=1),
                        TrackTags("t"))
    assert _audio_stream(ffprobe(path))["channels"] == 1
    _assert_decodes_to(path, 48000 if fmt == "opus" else SR, 1)


@pytest.mark.parametrize("fmt", FORMATS)
def test_48_khz(fmt: str, tmp_path: Path) -> None:
    path = export_track(STEREO, SR, tmp_path / f"t.{fmt}",
                        ExportSettings(format=fmt, sample_rate_hz=48000), TrackTags("t"))
    assert int(_audio_stream(ffprobe(path))["sample_rate"]) == 48000
    _assert_decodes_to(path, 48000, 2)


def test_stereo_samples_to_mono_average_the_channels(tmp_path: Path) -> None:
    path = export_track(STEREO, SR, tmp_path / "t.flac", ExportSettings("flac", channels=1),
                        TrackTags("t"))
    decoded, _ = decode_audio(path)
    np.testing.assert_allclose(decoded[:, 0], STEREO.mean(axis=1), atol=2 / 32768)


def test_mono_samples_to_stereo_duplicate(tmp_path: Path) -> None:
    path = export_track(MONO, SR, tmp_path / "t.wav", ExportSettings("wav", channels=2),
                        TrackTags("t"))
    decoded, _ = decode_audio(path)
    np.testing.assert_array_equal(decoded[:, 0], decoded[:, 1])


@pytest.mark.parametrize("kbps", [128, 192, 256])
def test_mp3_cbr_bitrates_keep_the_level(kbps: int, tmp_path: Path) -> None:
    # LAME scales CBR by 0.95-0.98 below 256 kbps; export undoes exactly that much.
    path = export_track(STEREO, SR, tmp_path / "t.mp3", ExportSettings(bitrate_kbps=kbps),
                        TrackTags("t"))
    assert int(ffprobe(path)["format"]["bit_rate"]) / 1000 == pytest.approx(kbps, rel=0.01)
    _assert_decodes_to(path, SR, 2)


def test_mp3_vbr(tmp_path: Path) -> None:
    path = export_track(STEREO, SR, tmp_path / "t.mp3", ExportSettings(vbr=True),
                        TrackTags("t"))
    file = mutagen.File(path)
    assert file is not None
    assert file.info.bitrate_mode == BitrateMode.VBR
    _assert_decodes_to(path, SR, 2)


def test_lower_bitrate_makes_a_smaller_file(tmp_path: Path) -> None:
    sizes = {}
    for kbps in (64, 160):
        path = tmp_path / f"t{kbps}.m4a"
        export_track(STEREO, SR, path, ExportSettings("m4a", bitrate_kbps=kbps), TrackTags("t"))
        sizes[kbps] = path.stat().st_size
    assert sizes[64] < 0.6 * sizes[160]
