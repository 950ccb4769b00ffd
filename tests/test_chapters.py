"""Chapters: from the script's sections to ID3, MP4 and Vorbis-comment chapters, in time order."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import mutagen
import numpy as np
import pytest
from mutagen.id3 import ID3
from mutagen.mp4 import MP4
from PIL import Image

from imr_audio.errors import ExportError
from imr_audio.export import (
    Chapter,
    ExportSettings,
    TrackTags,
    export_track,
    section_chapters,
)
from imr_audio.export import tags as export_tags
from imr_audio.markup import parse_script
from imr_audio.master import measure_loudness
from imr_audio.mix import Placement
from imr_audio.track import RenderResult, RenderSettings
from measure import ffprobe

SR = 44100
DURATION_S = 30.0
SILENCE = np.zeros((round(DURATION_S * SR), 2), dtype=np.float32)
# Titles of different lengths: mutagen stores ID3 frames by size, so these came out as
# B, Sicherer ..., Ein sehr ... before export put them back in time order.
CHAPTERS = [
    Chapter("Ein sehr langer erster Abschnitt – Öffnung 王", 0.0, 7.5),
    Chapter("B", 7.5, 15.25),
    Chapter("Sicherer Ort – Zoë 王", 15.25, DURATION_S),
]
WITH_CHAPTERS = ["mp3", "m4a", "ogg", "opus", "flac"]


@pytest.fixture(scope="module", params=WITH_CHAPTERS)
def chaptered(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    fmt = request.param
    path = tmp_path_factory.mktemp(fmt) / f"track.{fmt}"
    # Given out of order: export sorts them.
    return export_track(SILENCE, SR, path, ExportSettings(format=fmt), TrackTags("t"),
                        [CHAPTERS[2], CHAPTERS[0], CHAPTERS[1]])


def test_ffprobe_reads_the_chapters_in_time_order(chaptered: Path) -> None:
    chapters = ffprobe(chaptered)["chapters"]
    assert [c["tags"]["title"] for c in chapters] == [c.title for c in CHAPTERS]
    starts = [float(c["start_time"]) for c in chapters]
    assert starts == pytest.approx([c.start_s for c in CHAPTERS], abs=0.001)
    ends = [float(c["end_time"]) for c in chapters]
    # Vorbis comments hold start times only: ffmpeg ends the last at the stream's end (Opus
    # counts its pre-skip in that).
    assert ends == pytest.approx([c.end_s for c in CHAPTERS], abs=0.01)


def test_mutagen_reads_the_chapters_in_time_order(chaptered: Path) -> None:
    fmt = chaptered.suffix[1:]
    titles = [c.title for c in CHAPTERS]
    starts_ms = [round(c.start_s * 1000) for c in CHAPTERS]
    if fmt == "mp3":
        id3 = ID3(chaptered)
        # The order the frames are stored in, which some players list them in.
        stored = id3.getall("CHAP")
        assert [f.start_time for f in stored] == starts_ms
        assert [f.end_time for f in stored] == [round(c.end_s * 1000) for c in CHAPTERS]
        assert [f.sub_frames["TIT2"].text[0] for f in stored] == titles
        (toc,) = id3.getall("CTOC")
        assert toc.child_element_ids == [f.element_id for f in stored]
    elif fmt == "m4a":
        chapters = MP4(chaptered).chapters
        assert chapters is not None
        assert [c.title for c in chapters] == titles
        assert [round(c.start * 1000) for c in chapters] == starts_ms
    else:
        file = mutagen.File(chaptered)
        assert file is not None and file.tags is not None
        assert [file.tags[f"CHAPTER{i:03d}NAME"] for i in range(3)] == [[t] for t in titles]
        assert [file.tags[f"CHAPTER{i:03d}"] for i in range(3)] == [
            ["00:00:00.000"], ["00:00:07.500"], ["00:00:15.250"]]


def test_read_chapters_gives_back_what_was_written(chaptered: Path) -> None:
    # The studio's track page lists these; M4A's come from ffmpeg's chapter atom, the others
    # from the tags export wrote. Vorbis comments and MP4 store no end: each ends where the
    # next begins, the last at the end of the decoded audio (Opus counts its pre-skip in that).
    read = export_tags.read_chapters(chaptered)
    assert [c.title for c in read] == [c.title for c in CHAPTERS]
    assert [c.start_s for c in read] == pytest.approx([c.start_s for c in CHAPTERS], abs=0.001)
    assert [c.end_s for c in read] == pytest.approx([c.end_s for c in CHAPTERS], abs=0.03)


def test_read_chapters_of_a_file_without_them(tmp_path: Path) -> None:
    wav = export_track(SILENCE, SR, tmp_path / "t.wav", ExportSettings("wav"), TrackTags("t"),
                       CHAPTERS)
    plain = export_track(SILENCE, SR, tmp_path / "t.flac", ExportSettings("flac"),
                         TrackTags("t"))
    text = tmp_path / "notes.mp3"
    text.write_text("not audio")
    assert export_tags.read_chapters(wav) == ()
    assert export_tags.read_chapters(plain) == ()
    assert export_tags.read_chapters(text) == ()


def test_mutagen_alone_stores_id3_chapters_out_of_order(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # Shows that the test above checks something: without the reordering step the stored
    # order follows frame size.
    monkeypatch.setattr(export_tags, "_store_chapters_in_time_order", lambda path: None)
    path = export_track(SILENCE, SR, tmp_path / "t.mp3", ExportSettings(), TrackTags("t"),
                        CHAPTERS)
    assert [f.start_time for f in ID3(path).getall("CHAP")] != [0, 7500, 15250]


def test_mp3_chapters_with_a_cover(tmp_path: Path) -> None:
    # The APIC frame is stored after the chapters: the reordering must leave it intact.
    cover = tmp_path / "c.png"
    Image.new("RGB", (64, 64), (1, 2, 3)).save(cover)
    path = export_track(SILENCE, SR, tmp_path / "t.mp3", ExportSettings(),
                        TrackTags("t", cover=cover), CHAPTERS)
    id3 = ID3(path)
    assert [f.start_time for f in id3.getall("CHAP")] == [0, 7500, 15250]
    assert id3.getall("APIC")[0].data == cover.read_bytes()
    assert ID3(path).getall("TIT2")[0].text == ["t"]


def test_chapter_end_is_clipped_to_the_track(tmp_path: Path) -> None:
    chapters = [Chapter("A", 0.0, 10.0), Chapter("B", 10.0, DURATION_S + 5)]
    path = export_track(SILENCE, SR, tmp_path / "t.mp3", ExportSettings(), TrackTags("t"),
                        chapters)
    assert [f.end_time for f in ID3(path).getall("CHAP")] == [10000, round(DURATION_S * 1000)]


@pytest.mark.parametrize("chapter", [Chapter("late", DURATION_S + 1, DURATION_S + 2),
                                     Chapter("backwards", 5.0, 4.0),
                                     Chapter("negative", -1.0, 4.0)])
def test_chapter_outside_the_track_is_refused(chapter: Chapter, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="chapter 1"):
        export_track(SILENCE, SR, tmp_path / "t.ogg", ExportSettings("ogg"), TrackTags("t"),
                     [chapter])
    assert not tmp_path.joinpath("t.ogg").exists()


def test_wav_takes_no_chapters(tmp_path: Path) -> None:
    path = export_track(SILENCE, SR, tmp_path / "t.wav", ExportSettings("wav"), TrackTags("t"),
                        CHAPTERS)
    assert ffprobe(path)["chapters"] == []


def test_m4a_chapters_leave_no_temporary_file(chaptered: Path) -> None:
    assert [p.name for p in chaptered.parent.iterdir()] == [chaptered.name]


# --- from sections ---------------------------------------------------------------------------

SCRIPT = """\
Before any section. [pause 2s]

[section Opening]
Hello. [pause 3s]

[section Empty]
[section Middle – Zoë]
One. Two. [pause 4s]

[section End]
Bye.
"""


def _placed(script: str) -> tuple[list[Placement], float]:
    timeline = parse_script(script)
    clock, placements = 8.0, []
    for speech in timeline.speech:
        placements.append(Placement(speech, clock, 1.0))
        clock += 3.0
    return placements, clock + 12.0


def test_section_chapters_start_at_each_sections_first_words() -> None:
    timeline = parse_script(SCRIPT)
    placements, duration_s = _placed(SCRIPT)
    by_text = {p.speech.text: p.start_s for p in placements}
    chapters = section_chapters(timeline, placements, duration_s)
    assert [c.title for c in chapters] == ["Opening", "Middle – Zoë", "End"]
    # The first chapter holds the lead-in and anything before the first section.
    assert chapters[0].start_s == 0.0
    assert chapters[1].start_s == by_text["One."]
    assert chapters[2].start_s == by_text["Bye."]
    assert [c.end_s for c in chapters] == [chapters[1].start_s, chapters[2].start_s, duration_s]


def test_no_sections_no_chapters() -> None:
    timeline = parse_script("Hello. [pause 2s] Bye.\n")
    placements, duration_s = _placed("Hello. [pause 2s] Bye.\n")
    assert section_chapters(timeline, placements, duration_s) == []


# --- one real render -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def m4a_render(
    tmp_path_factory: pytest.TempPathFactory,
    test_templates: Path,
    write_client: Callable[..., Path], render_file: Callable[..., RenderResult]
) -> tuple[RenderResult, Path]:
    folder = tmp_path_factory.mktemp("m4a")
    cover = folder / "cover.jpg"
    Image.new("RGB", (32, 32), (90, 140, 90)).save(cover, "JPEG")
    export = ExportSettings(format="m4a", album="Übungen ☀", artist="Praxis Zoë 王", cover=cover)
    settings = RenderSettings(soundscape="rain", seed=3,
                              export=export)
    return render_file("mini", write_client(folder), folder / "out", settings), cover


def test_render_to_m4a_with_chapters(m4a_render: tuple[RenderResult, Path]) -> None:
    result, cover = m4a_render
    assert result.path.suffix == ".m4a"
    info = ffprobe(result.path)
    (audio,) = [s for s in info["streams"] if s["codec_type"] == "audio"]
    assert audio["codec_name"] == "aac"
    assert float(info["format"]["duration"]) == pytest.approx(result.duration_s, abs=0.05)
    chapters = info["chapters"]
    # mini's own section inside the shipped wrapper's two.
    titles = ["Opening", "Resting", "Returning"]
    assert [c["tags"]["title"] for c in chapters] == titles
    # Each starts at its section's first words (the first at 0, with the lead-in) ...
    first_words = [min(p.start_s for p in result.placements if p.speech.section == title)
                   for title in titles]
    starts = [float(c["start_time"]) for c in chapters]
    assert starts == pytest.approx([0.0, *first_words[1:]], abs=0.001)
    assert first_words[0] == pytest.approx(RenderSettings().mix.lead_in_s, abs=0.01)
    # ... and ends where the next begins, the last with the track.
    ends = [float(c["end_time"]) for c in chapters]
    assert ends == pytest.approx([*starts[1:], result.duration_s], abs=0.05)
    tags = info["format"]["tags"]
    assert (tags["title"], tags["album"], tags["artist"]) == (
        "Short rest", "Übungen ☀", "Praxis Zoë 王")
    items: Any = MP4(result.path).tags
    assert bytes(items["covr"][0]) == cover.read_bytes()
    # Nothing of the client's in the tags: only the template's title, the settings' and the
    # keyed hashes that prove whose the track is.
    assert sorted(items.keys()) == ["----:org.imr-audio:client_hash",
                                    "----:org.imr-audio:inputs_sha256",
                                    "covr", "\xa9ART", "\xa9alb", "\xa9nam"]


def test_render_to_m4a_is_mastered(m4a_render: tuple[RenderResult, Path]) -> None:
    from imr_audio.export.ffmpeg import ffmpeg_decode

    result, _ = m4a_render
    measured = measure_loudness(*ffmpeg_decode(result.path))
    assert measured.integrated_lufs == pytest.approx(-18.0, abs=0.3)
    assert measured.true_peak_dbtp <= -1.0 + 0.05
