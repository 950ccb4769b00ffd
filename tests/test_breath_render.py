"""A real render with breath cycles: cues and tones land exactly where the timeline puts them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import soundfile as sf
from scipy.signal import butter, sosfilt

from imr_audio.export import ExportSettings
from imr_audio.timeline import Pause, Speech, Tone
from imr_audio.track import RenderResult, RenderSettings
from measure import rms_db, segment


@pytest.fixture(scope="module")
def breath_render(
    tmp_path_factory: pytest.TempPathFactory,
    test_templates: Path,
    write_client: Callable[..., Path], render_file: Callable[..., RenderResult]
) -> RenderResult:
    folder = tmp_path_factory.mktemp("breathe")
    client = write_client(folder)
    settings = RenderSettings(soundscape="ocean", export=ExportSettings(format="wav"))
    return render_file("breathe", client, folder / "out", settings)


def _tone_windows(result: RenderResult) -> list[tuple[float, float, str]]:
    """Start, end and phase of every tone, timed from the placed speech before it."""
    events = result.timeline.events
    placed = {id(p.speech): p for p in result.placements}
    clock = 0.0
    windows: list[tuple[float, float, str]] = []
    for event in events:
        if isinstance(event, Speech):
            p = placed[id(event)]
            clock = p.start_s + (event.slot_s or p.duration_s)
        elif isinstance(event, Pause):
            clock += event.duration_s
        elif isinstance(event, Tone):
            windows.append((clock, clock + event.duration_s, event.phase))
            clock += event.duration_s
    return windows


def test_spoken_cues_start_exactly_one_phase_apart(breath_render: RenderResult) -> None:
    cues = [p for p in breath_render.placements if p.speech.slot_s is not None]
    assert [p.speech.text for p in cues] == ["Breathe in", "Hold", "And out"] * 2
    for before, after in zip(cues, cues[1:]):
        assert after.start_s - before.start_s == pytest.approx(before.speech.slot_s, abs=1e-4)


def test_cues_are_heard_at_their_times(breath_render: RenderResult) -> None:
    audio, rate = sf.read(breath_render.path, dtype="float64", always_2d=True)
    cues = [p for p in breath_render.placements if p.speech.slot_s is not None]
    for cue in cues:
        assert cue.speech.slot_s is not None
        spoken = rms_db(segment(audio, rate, cue.start_s, cue.end_s))
        after = rms_db(segment(audio, rate, cue.end_s + 0.3, cue.start_s + cue.speech.slot_s))
        assert spoken > after + 6, cue.speech.text  # the cue, then quiet until the next phase


def test_tones_sound_in_their_phases(breath_render: RenderResult) -> None:
    audio, rate = sf.read(breath_render.path, dtype="float64", always_2d=True)
    band = sosfilt(butter(4, [170, 340], "bandpass", fs=rate, output="sos"), audio, axis=0)
    windows = _tone_windows(breath_render)
    assert [w[2] for w in windows] == ["in", "out"] * 2
    first = windows[0][0]
    before = rms_db(segment(band, rate, first - 2.5, first - 0.5))  # bed alone, pause before
    for start, end, phase in windows:
        during = rms_db(segment(band, rate, start + 0.5, end - 0.5))
        assert during > before + 10, phase
    # total length still matches the timeline exactly
    assert len(audio) / rate == pytest.approx(breath_render.duration_s, abs=0.01)


def test_breath_render_is_mastered(breath_render: RenderResult) -> None:
    assert breath_render.loudness.integrated_lufs == pytest.approx(-18.0, abs=0.3)
    assert breath_render.loudness.true_peak_dbtp <= -1.0
    assert Path(breath_render.path).name == "t-017_breathe.wav"
