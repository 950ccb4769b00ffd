"""Transcript (.txt), captions (.vtt) and provenance sidecar (.json) written beside a track."""

from __future__ import annotations

import json
import re
import stat
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf

from imr_audio.export import ExportSettings
from imr_audio.mixplan import bed_choice
from imr_audio.provenance import TrackInputs, inputs_sha256
from imr_audio.script import ScriptChoices, prepare
from imr_audio.timeline import Speech, Timeline
from imr_audio.track import RenderResult, RenderSettings
from imr_audio.transcript import transcript_text, webvtt_captions
from imr_audio.workspace import Workspace
from measure import ffmpeg_ebur128, highpass, segment

VOICE_FREE_HZ = 12_000  # the voice has nothing above 11 kHz; the rain bed does (test_render.py)
RESPELLING = "Raw-bin"
TEST_TEMPLATES = Path(__file__).parent / "data" / "templates"
SETTINGS = RenderSettings(soundscape="rain", seed=3,
                          export=ExportSettings(format="wav"))


@pytest.fixture(scope="module")
def rendered(
    tmp_path_factory: pytest.TempPathFactory,
    write_client: Callable[..., Path], render_file: Callable[..., RenderResult]
) -> RenderResult:
    """The mini template with a client respelling of the name."""
    folder = tmp_path_factory.mktemp("transcript")
    client = write_client(folder, pronunciations={"Robin": RESPELLING})
    return render_file("mini", client, folder / "out", SETTINGS)


def _companion(result: RenderResult, suffix: str) -> Path:
    path = result.path.with_name(result.path.name + suffix)
    assert path in result.companions
    return path


def _sidecar(result: RenderResult) -> dict:
    return json.loads(_companion(result, ".json").read_text(encoding="utf-8"))


def parse_vtt(text: str) -> list[tuple[float, float, str]]:
    """A tiny WebVTT reader: (start, end, text) of every cue, checking the layout on the way."""
    def seconds(stamp: str) -> float:
        hours, minutes, rest = stamp.split(":")
        return int(hours) * 3600 + int(minutes) * 60 + float(rest)

    blocks = text.strip("\n").split("\n\n")
    assert blocks[0] == "WEBVTT"
    cues = []
    for block in blocks[1:]:
        lines = block.split("\n")
        timing = next(i for i, line in enumerate(lines) if "-->" in line)
        assert timing <= 1  # at most an identifier before the timing line
        stamp = r"(\d\d:\d\d:\d\d\.\d\d\d)"
        match = re.fullmatch(f"{stamp} --> {stamp}", lines[timing])
        assert match, lines[timing]
        body = lines[timing + 1 :]
        assert 1 <= len(body) <= 2 and all(0 < len(line) <= 42 for line in body), body
        cues.append((seconds(match.group(1)), seconds(match.group(2)), " ".join(body)))
    return cues


def test_companions_take_the_tracks_name_and_are_private(rendered: RenderResult) -> None:
    assert sorted(p.name for p in rendered.companions) == [
        "t-017_mini.wav.json", "t-017_mini.wav.txt", "t-017_mini.wav.vtt"]
    for path in rendered.companions:
        assert path.parent == rendered.path.parent
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not [p for p in rendered.path.parent.iterdir() if p.name.startswith(".imr-")]


def test_transcript_is_the_written_speech_without_respellings(rendered: RenderResult) -> None:
    text = _companion(rendered, ".txt").read_text(encoding="utf-8")
    spoken = [s.text for s in rendered.timeline.speech]
    assert text.split() == " ".join(spoken).split()
    assert "Robin" in text
    assert RESPELLING not in text and "[" not in text
    # Paragraphs as in the script: the opening's four, the body's two and the closing's six.
    paragraphs = text.strip().split("\n\n")
    assert len(paragraphs) == 12
    assert paragraphs[0].startswith("Hello, Robin.") and paragraphs[0].endswith("minutes.")
    assert paragraphs[4] == "You are sitting on a wooden bench in a quiet garden. " \
                            "The afternoon is mild."


def test_captions_parse_in_order_and_hold_the_text(rendered: RenderResult) -> None:
    cues = parse_vtt(_companion(rendered, ".vtt").read_text(encoding="utf-8"))
    for (start, end, _), (next_start, _, _) in zip(cues, cues[1:]):
        assert start < end <= next_start
    assert cues[-1][1] <= rendered.duration_s
    assert " ".join(c[2] for c in cues).split() == \
        " ".join(s.text for s in rendered.timeline.speech).split()
    assert RESPELLING not in " ".join(c[2] for c in cues)
    assert all(end - start <= 7.5 for start, end, _ in cues)


def _speech_onset(audio: np.ndarray, rate: int, around_s: float, bed_offset_db: float) -> float:
    """Where voice energy rises above the bed near ``around_s``: 10 ms steps, 30 ms windows."""
    start = around_s - 0.6
    window = segment(audio, rate, start, around_s + 0.6)
    top = highpass(window, rate, VOICE_FREE_HZ)
    size, hop = int(0.03 * rate), int(0.01 * rate)
    for i in range(0, len(window) - size, hop):
        total = np.mean(window[i : i + size] ** 2)
        bed = np.mean(top[i : i + size] ** 2) * 10 ** (bed_offset_db / 10)
        if total > 4 * bed and total > 1e-6:  # voice at least as loud as three beds
            return start + (i + size / 2) / rate
    raise AssertionError(f"no speech near {around_s:.2f} s")


def test_caption_starts_follow_the_speech_in_the_audio(rendered: RenderResult) -> None:
    audio, rate = sf.read(rendered.path, dtype="float64", always_2d=True)
    alone = segment(audio, rate, 4.5, 7.5)  # the bed alone in the lead-in
    offset_db = 10 * np.log10(np.mean(alone**2) / np.mean(highpass(alone, rate, VOICE_FREE_HZ)**2))
    cues = parse_vtt(_companion(rendered, ".vtt").read_text(encoding="utf-8"))
    starts = {round(p.start_s, 3): p for p in rendered.placements}
    checked = 0
    for start, _, _ in cues:
        placement = starts.get(round(start, 3))
        if placement is None:  # the second half of a long sentence: not an onset
            continue
        onset = _speech_onset(audio, rate, start, offset_db)
        assert onset == pytest.approx(start, abs=0.1), placement.speech.text
        checked += 1
    assert checked == len(rendered.placements)


def test_sidecar_matches_an_independent_measurement(rendered: RenderResult) -> None:
    sidecar = _sidecar(rendered)
    audio, rate = sf.read(rendered.path, dtype="float64", always_2d=True)
    assert sidecar["duration_s"] == pytest.approx(len(audio) / rate, abs=0.01)
    integrated, peak = ffmpeg_ebur128(rendered.path)
    assert sidecar["loudness"]["integrated_lufs"] == pytest.approx(integrated, abs=0.3)
    own = pyloudnorm.Meter(rate).integrated_loudness(audio)
    assert sidecar["loudness"]["integrated_lufs"] == pytest.approx(own, abs=0.2)
    assert sidecar["loudness"]["true_peak_dbtp"] == pytest.approx(peak, abs=0.5)
    assert sidecar["loudness"]["true_peak_dbtp"] <= -1.0
    assert sidecar["loudness"]["target_lufs"] == -18.0
    assert sidecar["format"] == "wav" and sidecar["file"] == rendered.path.name


def test_sidecar_names_what_made_the_track(rendered: RenderResult) -> None:
    sidecar = _sidecar(rendered)
    assert sidecar["tool"]["name"] == "imr-audio" and sidecar["tool"]["version"]
    assert sidecar["template"] == {"id": "mini", "version": 1}
    assert sidecar["voice"]["profile"] == "calm"
    assert sidecar["voice"]["engine"] == rendered.voice.engine
    assert sidecar["voice"]["voice_id"] == rendered.voice.voice_id
    assert sidecar["voice"]["engine_version"]
    assert sidecar["soundscape"] == {"name": "rain", "seed": 3}
    assert re.fullmatch(r"[0-9a-f]{64}", sidecar["inputs_sha256"])
    assert sidecar["inputs_sha256"] == rendered.inputs_sha256
    assert sidecar["length"]["target_s"] is None


def test_sidecar_holds_no_client_value(rendered: RenderResult) -> None:
    raw = _companion(rendered, ".json").read_bytes().decode("utf-8").lower()
    for value in ("robin", RESPELLING.lower(), "wooden bench", "afternoon is mild", "garden",
                  "heights"):
        assert value not in raw, value


def _hash(write_client: Callable[..., Path], folder: Path, engine_version: str, voice: Any,
          **overrides: Any) -> str:
    client = write_client(folder, pronunciations={"Robin": RESPELLING}, **overrides)
    ws = Workspace.from_environment(templates_dir=TEST_TEMPLATES)
    prepared = prepare(ws, "mini", ws.load_profile(client), ScriptChoices(soundscape="rain"))
    inputs = TrackInputs(prepared, voice, engine_version, bed_choice(ws, "rain", SETTINGS.seed),
                         SETTINGS.mix, SETTINGS.master, SETTINGS.export)
    return inputs_sha256(ws, inputs)


def test_hash_covers_the_values_the_template_reads(
    rendered: RenderResult,
    tmp_path: Path,
    client_data: Callable[..., dict[str, Any]], write_client: Callable[..., Path]
) -> None:
    version = _sidecar(rendered)["voice"]["engine_version"]
    same = _hash(write_client, tmp_path, version, rendered.voice)
    assert same == rendered.inputs_sha256
    safe_place = dict(client_data()["safe_place"])
    changed = _hash(write_client, tmp_path, version, rendered.voice,
                    safe_place={**safe_place, "cue_word": "meadow"})
    assert changed != same
    # A value the template does not read, or the avoid-list, leaves the track unchanged.
    unread = _hash(write_client, tmp_path, version, rendered.voice,
                   safe_place={**safe_place, "smells": ["pine"]}, avoid=["dark"])
    assert unread == same
    assert _hash(write_client, tmp_path, version, rendered.voice, preferred_name="Sam") != same
    assert _hash(write_client, tmp_path, version, replace(rendered.voice, rate_wpm=100)) != same


@pytest.mark.slow
def test_hash_is_stable_across_two_renders(
    rendered: RenderResult,
    tmp_path_factory: pytest.TempPathFactory,
    write_client: Callable[..., Path], render_file: Callable[..., RenderResult]
) -> None:
    folder = tmp_path_factory.mktemp("again")
    client = write_client(folder, pronunciations={"Robin": RESPELLING})
    again = render_file("mini", client, folder / "out", SETTINGS)
    assert _sidecar(again)["inputs_sha256"] == _sidecar(rendered)["inputs_sha256"]
    assert Path(f"{again.path}.txt").read_bytes() == \
        Path(f"{rendered.path}.txt").read_bytes()


def test_transcript_paragraphs_follow_blank_lines() -> None:
    script = "One. Two\nthree.\n\nFour.\n[pause 3s]\nFive.\n"
    timeline = Timeline((Speech("One.", 1), Speech("Two three.", 1), Speech("Four.", 4),
                         Speech("Five.", 6), Speech("Breathe in", 7, slot_s=4.0),
                         Speech("And out", 7, slot_s=4.0)))
    assert transcript_text(script, timeline) == \
        "One. Two three.\n\nFour. Five.\n\nBreathe in. And out.\n"


def test_long_sentences_become_readable_cues_that_never_overlap() -> None:
    from imr_audio.mix import Placement

    long = Speech("word " * 40 + "end.", 1)
    placements = (Placement(Speech("Hi & <you>.", 1), 8.0, 0.4),
                  Placement(long, 9.0, 16.0),
                  Placement(Speech("Hold", 2, slot_s=4.0), 26.0, 0.5))
    cues = parse_vtt(webvtt_captions(placements))
    assert cues[0] == (8.0, 9.0, "Hi &amp; &lt;you&gt;.")  # shown 1 s, up to the next cue
    middle = cues[1:-1]
    assert len(middle) >= 3 and middle[0][0] == 9.0
    assert 25.0 <= middle[-1][1] <= 26.0  # lingers up to 1 s after the speech (test_captions.py)
    assert all(end - start <= 7.0 for start, end, _ in middle)
    assert cues[-1] == (26.0, 30.0, "Hold")  # a breath cue stays up for its phase


def test_sidecar_never_shows_a_recordings_folder() -> None:
    from imr_audio.master import LoudnessMeasurement
    from imr_audio.provenance import Provenance, sidecar_json
    from imr_audio.voice.base import VoiceSettings

    voice = VoiceSettings(engine="recorded", voice_id="/home/therapist/Robin Smith/recs")
    provenance = Provenance("mini", 1, "calm", voice, "1-abc", "audio file", 0, -18.0, -1.0,
                            None, "3 minutes", "0" * 64)
    text = sidecar_json(provenance, file_name="t-017_mini.mp3", audio_format="mp3",
                        duration_s=180.0, loudness=LoudnessMeasurement(-18.0, -1.5))
    assert "Robin" not in text and "/home" not in text
    assert json.loads(text)["voice"]["voice_id"] == "own recordings"
