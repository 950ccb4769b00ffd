"""End-to-end render with the real engine (eSpeak NG via pyttsx3), measured on the decoded file."""

from __future__ import annotations

import stat

import numpy as np
import pytest
import soundfile as sf

from imr_audio.mix import MixSettings
from imr_audio.timeline import Pause, Speech
from imr_audio.track import RenderResult
from measure import ffmpeg_ebur128, highpass, rms_db, segment

VOICE_FREE_HZ = 12_000  # eSpeak NG speaks at 22.05 kHz: nothing of the voice lies above 11 kHz


@pytest.fixture(scope="module")
def decoded(mini_render: RenderResult) -> tuple[np.ndarray, int]:
    data, rate = sf.read(mini_render.path, dtype="float64", always_2d=True)
    return data, rate


def _bed_offset_db(audio: np.ndarray, rate: int) -> float:
    """Full-band minus above-12-kHz level of the bed alone (lead-in, after the fade-in)."""
    alone = segment(audio, rate, 4.5, 7.5)
    return rms_db(alone) - rms_db(highpass(alone, rate, VOICE_FREE_HZ))


def _levels(audio: np.ndarray, rate: int, start_s: float, end_s: float, offset_db: float
            ) -> tuple[float, float]:
    """(voice level, bed level) in dB in a window, the bed estimated from its top band."""
    window = segment(audio, rate, start_s, end_s)
    total = rms_db(window)
    bed = rms_db(highpass(window, rate, VOICE_FREE_HZ)) + offset_db
    voice = 10 * np.log10(max(10 ** (total / 10) - 10 ** (bed / 10), 1e-20))
    return float(voice), bed


def test_file_is_named_by_client_id_and_owner_only(mini_render: RenderResult) -> None:
    assert mini_render.path.name == "t-017_mini.wav"
    assert stat.S_IMODE(mini_render.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(mini_render.path.parent.stat().st_mode) == 0o700
    assert "Robin" not in mini_render.path.read_bytes().decode("latin-1")


def test_duration_matches_timeline(mini_render: RenderResult, decoded: tuple[np.ndarray, int]
                                   ) -> None:
    audio, rate = decoded
    mix = MixSettings()
    placements = mini_render.placements
    # The pauses between placed clips are exactly the timeline's pauses.
    events = mini_render.timeline.events
    gaps: list[float] = []
    pending = 0.0
    for event in events:
        if isinstance(event, Pause):
            pending += event.duration_s
        elif isinstance(event, Speech):
            gaps.append(pending)
            pending = 0.0
    for gap, before, after in zip(gaps[1:], placements, placements[1:]):
        assert after.start_s - before.end_s == pytest.approx(gap, abs=1.5 / rate)
    assert placements[0].start_s == pytest.approx(mix.lead_in_s, abs=1 / rate)
    expected = placements[-1].end_s + pending + mix.tail_s
    assert len(audio) / rate == pytest.approx(expected, abs=0.01)
    assert mini_render.duration_s == pytest.approx(expected, abs=0.01)


def test_loudness_and_true_peak_by_ffmpeg(mini_render: RenderResult) -> None:
    integrated, peak = ffmpeg_ebur128(mini_render.path)
    assert integrated == pytest.approx(-18.0, abs=0.5)
    assert peak <= -1.0
    assert mini_render.loudness.integrated_lufs == pytest.approx(integrated, abs=0.3)


def test_lead_in_holds_bed_but_no_speech(mini_render: RenderResult,
                                         decoded: tuple[np.ndarray, int]) -> None:
    audio, rate = decoded
    offset = _bed_offset_db(audio, rate)
    first = mini_render.placements[0].start_s
    assert first >= 7.9
    for start in np.arange(0.5, first - 0.5, 1.0):
        window = segment(audio, rate, start, start + 1.0)
        assert rms_db(window) > -60  # the bed is there (fading in)
        voice, bed = _levels(audio, rate, start, start + 1.0, offset)
        assert voice < bed + 3  # nothing beyond the bed itself


def test_speech_where_timeline_places_it(mini_render: RenderResult,
                                         decoded: tuple[np.ndarray, int]) -> None:
    audio, rate = decoded
    offset = _bed_offset_db(audio, rate)
    long_clips = [p for p in mini_render.placements if p.duration_s >= 1.5]
    assert len(long_clips) >= 10
    for p in long_clips:
        voice, bed = _levels(audio, rate, p.start_s + 0.2, p.end_s - 0.2, offset)
        assert voice > bed + 15, p.speech.line
    # In the middle of every explicit pause of 4 s or more there is only the bed.
    times = iter(mini_render.placements)
    previous = next(times)
    checked = 0
    for p in times:
        if p.start_s - previous.end_s >= 4.0:
            middle = (previous.end_s + p.start_s) / 2
            voice, bed = _levels(audio, rate, middle - 1.0, middle + 1.0, offset)
            assert voice < bed + 3
            checked += 1
        previous = p
    assert checked >= 3


def test_bed_at_least_20_db_under_voice_while_speaking(mini_render: RenderResult,
                                                       decoded: tuple[np.ndarray, int]) -> None:
    audio, rate = decoded
    offset = _bed_offset_db(audio, rate)
    margins = []
    for p in mini_render.placements:
        if p.duration_s >= 1.5:
            voice, bed = _levels(audio, rate, p.start_s + 0.1, p.end_s - 0.1, offset)
            margins.append(voice - bed)
    assert min(margins) >= 20.0, margins
    # ... and the bed really is there under the voice, not muted.
    alone = rms_db(segment(audio, rate, 4.5, 7.5))
    assert alone > -40


def test_bed_comes_back_in_long_pauses(mini_render: RenderResult,
                                       decoded: tuple[np.ndarray, int]) -> None:
    audio, rate = decoded
    offset = _bed_offset_db(audio, rate)
    placements = mini_render.placements
    ducked = []
    risen = []
    for before, after in zip(placements, placements[1:]):
        if after.start_s - before.end_s >= 5.0:
            _, bed_during = _levels(audio, rate, before.end_s - 1.0, before.end_s - 0.2, offset)
            _, bed_pause = _levels(audio, rate, after.start_s - 1.2, after.start_s - 0.4, offset)
            ducked.append(bed_during)
            risen.append(bed_pause)
    assert ducked
    assert np.mean(risen) - np.mean(ducked) > 8.0  # slow release: up again in a long pause
