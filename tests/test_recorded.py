"""The therapist's own voice: the recording sheet, the recorded engine and a render with it.

The "recordings" are eSpeak NG clips written at very different levels and in several formats,
with silence around them, as a therapist's home recordings might be.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf
from click.testing import CliRunner

from imr_audio.cli import cli
from imr_audio.errors import SynthesisError
from imr_audio.export import ExportSettings
from imr_audio.record_sheet import RecordingSheet, write_recording_sheet
from imr_audio.timeline import Pause, Speech
from imr_audio.track import RenderResult, RenderSettings
from imr_audio.voice import Pyttsx3Engine, SpeechRequest, VoiceSettings
from imr_audio.voice.recorded import RecordedEngine, line_id, recording_lines
from imr_audio.workspace import Workspace
from measure import ffmpeg_ebur128, segment

VOICE = VoiceSettings(engine="pyttsx3", voice_id="gmw/en", rate_wpm=150)
ANY_VOICE = VoiceSettings(engine="recorded", voice_id="x")
# (peak level in dBFS, format, sample rate, channels): levels 24 dB apart, every format.
STYLES = [
    (-6.0, "wav", 22050, 1),
    (-30.0, "flac", 48000, 2),
    (-6.0, "ogg", 44100, 1),
    (-30.0, "wav", 44100, 2),
    (-30.0, "ogg", 48000, 1),
    (-6.0, "flac", 22050, 1),
    (-30.0, "mp3", 44100, 1),
]


TEST_TEMPLATES = Path(__file__).parent / "data" / "templates"


def _sheet(template_id: str, client: Path, folder: Path) -> RecordingSheet:
    """Write the record sheet of ``template_id`` (test templates first) for a client's file."""
    workspace = Workspace.from_environment(templates_dir=TEST_TEMPLATES)
    return write_recording_sheet(workspace, template_id, workspace.load_profile(client), folder)


def _requests(sheet: RecordingSheet) -> list[SpeechRequest]:
    return [SpeechRequest(line.text, line.script_lines[0]) for line in sheet.lines]


def _write_recording(path: Path, speech: np.ndarray, rate: int, peak_db: float, channels: int,
                     seed: int) -> None:
    """Speech at a given peak level with 0.8 s before and 1 s after of faint room noise (odd
    seeds: digital silence)."""
    import soxr

    rng = np.random.default_rng(seed)
    resampled = soxr.resample(speech, 22050, rate) if rate != 22050 else speech
    voiced = resampled / np.max(np.abs(resampled)) * 10 ** (peak_db / 20)
    audio = np.concatenate([np.zeros(int(0.8 * rate)), voiced, np.zeros(rate)])
    if seed % 2 == 0:
        audio = audio + rng.normal(0, 10 ** (-80 / 20), len(audio))
    data = np.stack([audio] * channels, axis=1) if channels > 1 else audio
    sf.write(str(path), data.astype(np.float32), rate)


@pytest.fixture(scope="module")
def recorded(
    tmp_path_factory: pytest.TempPathFactory,
    test_templates: Path,
    write_client: Callable[..., Path],
) -> tuple[Path, RecordingSheet, dict[str, float]]:
    """(client file, sheet of ``mini``, recording id -> speech duration), recordings in
    ``<client folder>/recs``."""
    folder = tmp_path_factory.mktemp("recorded")
    client = write_client(folder)
    sheet = _sheet("mini", client, folder / "sheet")
    recs = folder / "recs"
    recs.mkdir()
    with Pyttsx3Engine() as engine:
        clips = engine.synthesize(_requests(sheet), VOICE)
    durations = {}
    for number, (line, clip) in enumerate(zip(sheet.lines, clips)):
        assert clip.sample_rate_hz == 22050
        peak_db, fmt, rate, channels = STYLES[number % len(STYLES)]
        _write_recording(recs / f"{line.id}.{fmt}", clip.samples.astype(np.float64), rate,
                         peak_db, channels, number)
        durations[line.id] = clip.duration_s
    return client, sheet, durations


@pytest.fixture(scope="module")
def recorded_render(
    recorded: tuple[Path, RecordingSheet, dict[str, float]],
    test_templates: Path, render_file: Callable[..., RenderResult]
) -> RenderResult:
    client, _, _ = recorded
    settings = RenderSettings(seed=3, recordings_dir=client.parent /
                              "recs", export=ExportSettings(format="wav"))
    return render_file("mini", client, client.parent / "out", settings)


# --- the sheet -----------------------------------------------------------------------------


def test_sheet_files_agree_and_are_private(recorded: tuple[Path, RecordingSheet, dict]) -> None:
    client, sheet, _ = recorded
    assert sheet.txt_path.name == "t-017_mini_lines.txt"
    for path in (sheet.txt_path, sheet.csv_path, sheet.json_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(sheet.txt_path.parent.stat().st_mode) == 0o700
    assert [p.name for p in sheet.txt_path.parent.iterdir() if p.name.startswith(".")] == []
    data = json.loads(sheet.json_path.read_text(encoding="utf-8"))
    assert (data["template"], data["client"]) == ("mini", "t-017")
    rows = list(csv.DictReader(sheet.csv_path.open(encoding="utf-8", newline="")))
    txt = sheet.txt_path.read_text(encoding="utf-8").splitlines()
    numbered = [(i, m) for i, line in enumerate(txt)
                if (m := re.match(r"^\s*(\d+)\. (\d{3}-[0-9a-f]{8})\s+\(script line ([\d, ]+)",
                                  line))]
    from_txt = [(int(m[1]), m[2], txt[i + 1].strip()) for i, m in numbered]
    from_csv = [(int(r["number"]), r["id"], r["text"]) for r in rows]
    from_json = [(d["number"], d["id"], d["text"]) for d in data["lines"]]
    expected = [(line.number, line.id, line.text) for line in sheet.lines]
    assert from_txt == from_csv == from_json == expected
    assert [int(n) for n in rows[0]["script_lines"].split()] == data["lines"][0]["script_lines"]
    speech_texts = [s.text for s in sheet.prepared.timeline.speech]
    assert [t for _, _, t in expected] == list(dict.fromkeys(speech_texts))
    head = "\n".join(txt[:12]).lower()
    for needle in ("quiet room", "distance", "slowly", "second of silence", "named by its id"):
        assert needle in head
    assert str(client) not in sheet.txt_path.read_text(encoding="utf-8")


def test_ids_are_stable_and_follow_the_text(
    tmp_path: Path,
    test_templates: Path,
    client_data: Callable[..., dict[str, Any]],
    write_client: Callable[..., Path],
) -> None:
    client = write_client(tmp_path)
    first = _sheet("mini", client, tmp_path / "a")
    again = _sheet("mini", client, tmp_path / "b")
    assert [line.id for line in first.lines] == [line.id for line in again.lines]
    assert json.loads(first.json_path.read_text()) == json.loads(again.json_path.read_text())
    safe_place = {**client_data()["safe_place"], "cue_word": "meadow"}
    changed_client = write_client(tmp_path, "changed.yaml", safe_place=safe_place)
    changed = _sheet("mini", changed_client, tmp_path / "c")
    before = {line.number: line for line in first.lines}
    differs = [line for line in changed.lines if line.id != before[line.number].id]
    assert [line.text for line in differs] == ["Your word for this place is meadow."]
    assert differs[0].number == before[differs[0].number].number
    assert line_id(7, "Breathe in") == line_id(7, "Breathe in") != line_id(7, "Breathe out")


def test_repeated_breath_cues_get_one_id(
    client_file: Path,
    tmp_path: Path,
    test_templates: Path,
) -> None:
    sheet = _sheet("breathe", client_file, tmp_path / "s")
    texts = [line.text for line in sheet.lines]
    assert texts.count("Breathe in") == 1
    assert len(texts) == len(set(texts)) < len(sheet.prepared.timeline.speech)
    cue = next(line for line in sheet.lines if line.text == "Breathe in")
    assert cue.max_duration_s == 4.0
    assert "breath cue, at most 4 s" in sheet.txt_path.read_text(encoding="utf-8")
    assert recording_lines(sheet.prepared.timeline) == sheet.lines


def test_record_sheet_command(client_file: Path, tmp_path: Path, test_templates: Path) -> None:
    result = CliRunner().invoke(cli, ["record-sheet", "mini", "--client", str(client_file),
                                      "--templates-dir", str(test_templates),
                                      "-o", str(tmp_path / "sheet")])
    assert result.exit_code == 0, result.output
    assert "t-017_mini_lines.txt" in result.stdout
    assert (tmp_path / "sheet" / "t-017_mini_lines.json").is_file()


def test_record_sheet_refuses_a_lint_error(
    tmp_path: Path,
    test_templates: Path,
    write_client: Callable[..., Path],
) -> None:
    client = write_client(tmp_path, avoid=["heights", "bench"])  # "bench" is in the description
    result = CliRunner().invoke(cli, ["record-sheet", "mini", "--client", str(client),
                                      "--templates-dir", str(test_templates),
                                      "-o", str(tmp_path / "sheet")])
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: ") and "lint" in result.output
    assert not (tmp_path / "sheet").exists()


# --- the render ----------------------------------------------------------------------------


def test_render_with_recordings_levels_every_clip(recorded_render: RenderResult) -> None:
    data, rate = sf.read(recorded_render.path, dtype="float64", always_2d=True)
    meter = pyloudnorm.Meter(rate)
    levels = []
    for p in recorded_render.placements:
        window = segment(data, rate, p.start_s, p.end_s)
        levels.append(meter.integrated_loudness(window))
    # The recordings were written 24 dB apart; placed in the track they sound alike.
    assert max(levels) - min(levels) <= 2.0, levels
    assert recorded_render.voice.engine == "recorded"


def test_render_with_recordings_trims_and_keeps_exact_pauses(
        recorded_render: RenderResult, recorded: tuple[Path, RecordingSheet, dict[str, float]]
) -> None:
    _, sheet, durations = recorded
    ids = {line.text: line.id for line in sheet.lines}
    rate = 44100
    gaps: list[float] = []
    pending = 0.0
    for event in recorded_render.timeline.events:
        if isinstance(event, Pause):
            pending += event.duration_s
        elif isinstance(event, Speech):
            gaps.append(pending)
            pending = 0.0
    placements = recorded_render.placements
    for gap, before, after in zip(gaps[1:], placements, placements[1:]):
        assert after.start_s - before.end_s == pytest.approx(gap, abs=1.5 / rate)
    for p in placements:  # the 0.8 s before and 1 s after each recording are gone
        assert p.duration_s == pytest.approx(durations[ids[p.speech.text]], abs=0.12)
    assert recorded_render.duration_s == pytest.approx(placements[-1].end_s + pending + 12.0,
                                                       abs=0.01)


def test_render_with_recordings_meets_loudness_targets(recorded_render: RenderResult) -> None:
    integrated, peak = ffmpeg_ebur128(recorded_render.path)
    assert integrated == pytest.approx(-18.0, abs=0.5)
    assert peak <= -1.0


# --- what goes wrong -----------------------------------------------------------------------


@pytest.fixture
def recs_copy(recorded: tuple[Path, RecordingSheet, dict], tmp_path: Path) -> Path:
    client, _, _ = recorded
    return Path(shutil.copytree(client.parent / "recs", tmp_path / "recs"))


def test_two_missing_recordings_are_listed_in_one_error(
    recorded: tuple[Path, RecordingSheet, dict],
    recs_copy: Path,
    tmp_path: Path,
    test_templates: Path,
) -> None:
    client, sheet, _ = recorded
    gone = [sheet.lines[2], sheet.lines[9]]
    for line in gone:
        next(recs_copy.glob(f"{line.id}.*")).unlink()
    result = CliRunner().invoke(cli, ["render", "mini", "--client", str(client),
                                      "--templates-dir", str(test_templates), "--format", "wav",
                                      "--recordings", str(recs_copy), "-o", str(tmp_path / "o")])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()  # progress lines come first, then the error
    message = lines[-1]
    assert message.startswith("Error: ") and "Traceback" not in result.output
    assert [line for line in lines if line.startswith("Error")] == [message]
    for line in gone:
        assert f"{line.id} (script line {line.script_lines[0]})" in message
        assert line.text not in message
    assert "missing" in message
    assert not (tmp_path / "o" / "t-017_mini.wav").exists()


def test_unreadable_and_silent_recordings_are_named(
        recorded: tuple[Path, RecordingSheet, dict], recs_copy: Path) -> None:
    _, sheet, _ = recorded
    broken, quiet, noise = sheet.lines[1], sheet.lines[4], sheet.lines[6]
    next(recs_copy.glob(f"{broken.id}.*")).unlink()
    (recs_copy / f"{broken.id}.wav").write_text("this is a text file, not audio")
    next(recs_copy.glob(f"{quiet.id}.*")).unlink()
    sf.write(str(recs_copy / f"{quiet.id}.wav"), np.zeros(44100, dtype=np.float32), 44100)
    next(recs_copy.glob(f"{noise.id}.*")).unlink()  # the room, and nobody speaking
    room = np.random.default_rng(0).normal(0, 0.01, 3 * 44100).astype(np.float32)
    sf.write(str(recs_copy / f"{noise.id}.flac"), room, 44100)
    with pytest.raises(SynthesisError) as caught:
        RecordedEngine(recs_copy, sheet.prepared.timeline).synthesize(_requests(sheet), ANY_VOICE)
    message = str(caught.value)
    assert f"unreadable: {broken.id} (script line {broken.script_lines[0]})" in message
    assert (f"silent: {quiet.id} (script line {quiet.script_lines[0]}), "
            f"{noise.id} (script line {noise.script_lines[0]})") in message
    assert "3 line(s)" in message


def test_engine_levels_resamples_and_accepts_an_older_number(
        recorded: tuple[Path, RecordingSheet, dict], recs_copy: Path) -> None:
    _, sheet, _ = recorded
    moved = sheet.lines[0]
    old = next(recs_copy.glob(f"{moved.id}.*"))
    old.rename(recs_copy / f"099-{moved.id.split('-')[1]}{old.suffix}")  # an older sheet's id
    engine = RecordedEngine(recs_copy)  # no script: the requests are the script
    clips = engine.synthesize(_requests(sheet), ANY_VOICE)
    assert {c.sample_rate_hz for c in clips} == {44100}
    assert all(c.samples.ndim == 1 for c in clips)
    assert engine.voices()[0].id == str(recs_copy)


def test_ambiguous_and_missing_folder(recorded: tuple[Path, RecordingSheet, dict],
                                      recs_copy: Path, tmp_path: Path) -> None:
    _, sheet, _ = recorded
    line = sheet.lines[0]
    shutil.copy(next(recs_copy.glob(f"{line.id}.*")), recs_copy / f"{line.id}.aiff")
    with pytest.raises(SynthesisError, match=rf"ambiguous: {line.id} "):
        RecordedEngine(recs_copy).synthesize(_requests(sheet), ANY_VOICE)
    with pytest.raises(SynthesisError, match="not found"):
        RecordedEngine(tmp_path / "nowhere")


def _syllables(duration_s: float, rate: int, seed: int) -> np.ndarray:
    """Noise shaped like speech: 4 syllables a second, each a raised-cosine burst."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(duration_s * rate)) / rate
    envelope = np.sin(np.pi * 4 * t) ** 2
    return rng.normal(0, 0.3, len(t)) * envelope


def test_noisy_room_is_trimmed_and_short_clips_are_levelled(tmp_path: Path) -> None:
    rate = 48000
    rng = np.random.default_rng(1)
    texts = {"A long line of several words.": (2.0, -20.0), "Hold": (0.5, -40.0)}
    requests = []
    for number, (text, (duration_s, peak_db)) in enumerate(texts.items(), start=1):
        speech = _syllables(duration_s, rate, number)
        speech = speech / np.max(np.abs(speech)) * 10 ** (peak_db / 20)
        audio = np.concatenate([np.zeros(rate), speech, np.zeros(rate)])
        # Room noise 35 dB under the speech peaks: the -60 dBFS floor of eSpeak's trim is above it
        # for the quiet clip, so a level-blind trim kept the whole second before and after.
        audio = audio + rng.normal(0, 10 ** ((peak_db - 35) / 20), len(audio))
        sf.write(str(tmp_path / f"{line_id(number, text)}.flac"), audio, rate)
        requests.append(SpeechRequest(text, number))
    clips = RecordedEngine(tmp_path).synthesize(requests, ANY_VOICE)
    for clip, (duration_s, _) in zip(clips, texts.values()):
        assert clip.duration_s == pytest.approx(duration_s, abs=0.15)
    meter = pyloudnorm.Meter(44100, block_size=0.2)
    long, short = (meter.integrated_loudness(c.samples.astype(np.float64)) for c in clips)
    assert long == pytest.approx(short, abs=1.0)
