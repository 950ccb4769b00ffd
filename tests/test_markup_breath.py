"""Slow speech, notes and paced breathing: markup, Jinja helpers, breath tones and placement."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from imr_audio.audio import Clip
from imr_audio.authoring import TemplateLibrary
from imr_audio.cues import TONE_PEAK, breath_tone
from imr_audio.errors import ScriptMarkupError
from imr_audio.markup import parse_script
from imr_audio.mix import MixSettings, place_speech
from imr_audio.profile import load_client_profile
from imr_audio.resources import data_dir
from imr_audio.timeline import Pacing, Pause, Speech, Timeline, Tone

SR = 44100
PACING = Pacing()


def _gaps(timeline: Timeline) -> list[float]:
    return [e.duration_s for e in timeline.events if isinstance(e, Pause)]


def _assert_line_error(script: str, line: int, needle: str) -> None:
    with pytest.raises(ScriptMarkupError) as info:
        parse_script(script)
    message = str(info.value)
    assert message.startswith(f"script line {line}: "), message
    assert needle in message, message


# --- [slow] --------------------------------------------------------------------------------


def test_slow_lowers_rate_and_stretches_automatic_gaps() -> None:
    timeline = parse_script("One.\n[slow]\nTwo. Three.\n\nFour.\n[/slow]\nFive. Six.")
    assert [(s.text, s.rate_factor) for s in timeline.speech] == [
        ("One.", 1.0), ("Two.", 0.85), ("Three.", 0.85), ("Four.", 0.85), ("Five.", 1.0),
        ("Six.", 1.0)]
    slow_sentence = PACING.sentence_gap_s * 1.5
    slow_paragraph = PACING.paragraph_gap_s * 1.5
    # One->Two is spoken into the slow passage, so it takes the slow gap as well.
    assert _gaps(timeline) == pytest.approx([slow_sentence, slow_sentence, slow_paragraph,
                                             PACING.sentence_gap_s, PACING.sentence_gap_s])


def test_slow_leaves_explicit_pauses_exact() -> None:
    timeline = parse_script("[slow]Two. [pause 4s] Three.[/slow]")
    assert _gaps(timeline) == [4.0]


@pytest.mark.parametrize(("script", "line", "needle"), [
    ("One.\n\n[slow] Two.\nThree.", 3, "never closed"),
    ("One.\n[slow] Two.\n[slow] Three. [/slow]", 3, "[slow] inside [slow]"),
    ("One.\n\nTwo. [/slow]", 3, "[/slow] without [slow]"),
    ("[slow] One. [/slow]\n[/slow] Two.", 2, "[/slow] without [slow]"),
])
def test_slow_errors_name_the_line(script: str, line: int, needle: str) -> None:
    _assert_line_error(script, line, needle)


# --- [note: ...] ---------------------------------------------------------------------------


@pytest.mark.parametrize("script", [
    "Hello. [note: say this softly] World.",
    "Hello.\n[note: pause longer if the client is tearful]\nWorld.",
    "[note: opening]\nHello. World.[note:end]",
])
def test_note_is_never_spoken(script: str) -> None:
    timeline = parse_script(script)
    assert [s.text for s in timeline.speech] == ["Hello.", "World."]
    assert timeline.word_count == 2


def test_note_alone_is_no_text_to_speak() -> None:
    with pytest.raises(ScriptMarkupError, match="no text to speak"):
        parse_script("[note: only a comment]")


# --- [breath ...] --------------------------------------------------------------------------


def test_breath_expands_to_timed_voice_cues() -> None:
    timeline = parse_script("Settle.\n\n[breath in=4 hold=7 out=8 cycles=2]")
    cues = [s for s in timeline.speech if s.slot_s is not None]
    assert len(cues) == 6
    assert [c.slot_s for c in cues] == [4, 7, 8, 4, 7, 8]
    assert [c.text for c in cues] == ["Breathe in", "Hold", "And out"] * 2
    assert {c.line for c in cues} == {3}
    assert timeline.pause_s == pytest.approx(PACING.paragraph_gap_s + 2 * (4 + 7 + 8))


def test_breath_tone_cue_gives_tones() -> None:
    timeline = parse_script("Settle.\n[breath in=4 hold=7 out=8 rest=2 cycles=2 cue=tone]\nDone.")
    tones = [e for e in timeline.events if isinstance(e, Tone)]
    assert [(t.phase, t.duration_s) for t in tones] == [
        ("in", 4), ("hold", 7), ("out", 8), ("rest", 2)] * 2
    assert {t.line for t in tones} == {2}
    assert [s.text for s in timeline.speech] == ["Settle.", "Done."]


@pytest.mark.parametrize(("args", "needle"), [
    ("in=0 out=4", "in= must be between 1 and 10"),
    ("in=4 out=20", "out= must be between 1 and 12"),
    ("in=4 hold=11 out=4", "hold= must be between 0 and 10"),
    ("in=4 out=4 cycles=0", "cycles= must be between 1 and 30"),
    ("in=4 out=4 cycles=31", "cycles= must be between 1 and 30"),
    ("in=4 out=4 cue=bell", "cue= must be voice or tone"),
    ("in=4 out=4 depth=3", "breath takes in="),
    ("in=four out=4", "must be numbers"),
])
def test_breath_limits_name_the_line(args: str, needle: str) -> None:
    _assert_line_error(f"Settle.\n\n[breath {args}]", 3, needle)


@pytest.mark.parametrize("args", ["in=1 out=4", "in=4 hold=1 out=4", "in=4 out=4 rest=0.5"])
def test_spoken_cue_needs_phases_of_at_least_1_5_s(args: str) -> None:
    _assert_line_error(f"Settle.\n[breath {args}]", 2, "at least 1.5 seconds")
    tones = [e for e in parse_script(f"Settle.\n[breath {args} cue=tone]").events
             if isinstance(e, Tone)]
    assert min(t.duration_s for t in tones) < 1.5


def test_breath_limits_at_their_edges_are_accepted() -> None:
    timeline = parse_script("[breath in=10 hold=10 out=12 rest=10 cycles=30]")
    assert len(timeline.speech) == 4 * 30


# --- Jinja helpers -------------------------------------------------------------------------

HELPERS = """\
{{ note("read slowly") }}Settle into the chair.
{{ breath(4, 8, cycles=2, hold_s=7) }}
{{ slow() }}Slowly now. And slower.{{ end_slow() }}
{{ breath(4, 6, rest_s=2, cue="tone") }}
Done.
"""
MARKUP = """\
[note: read slowly]Settle into the chair.
[breath in=4 hold=7 out=8 cycles=2]
[slow]Slowly now. And slower.[/slow]
[breath in=4 out=6 rest=2 cue=tone]
Done.
"""


def test_jinja_helpers_give_the_same_events_as_markup(
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    for name, body in (("helpers", HELPERS), ("markup", MARKUP)):
        (templates / f"{name}.j2").write_text(
            '{% extends "_base.j2" %}\n{% block body %}\n' + body + "{% endblock %}\n",
            encoding="utf-8")
        (templates / f"{name}.yaml").write_text(
            f"id: {name}\ntitle: T\nduration_s: [60, 600]\nvariables: {{}}\n", encoding="utf-8")
    profile = load_client_profile(write_client(tmp_path))
    extra = {"track_title": "test", "track_length": "one minute"}
    library = TemplateLibrary((templates, data_dir("scripts_templates")))
    timelines = [
        parse_script(library.fill(library.load(name), profile, extra).text)
        for name in ("helpers", "markup")
    ]
    assert timelines[0] == timelines[1]
    events = timelines[0].events
    assert sum(isinstance(e, Speech) and e.slot_s is not None for e in events) == 6
    assert sum(isinstance(e, Tone) for e in events) == 3
    assert [s.rate_factor for s in timelines[0].speech if s.text.startswith(("Slow", "And s"))
            ] == [0.85, 0.85]
    assert all("read slowly" not in s.text for s in timelines[0].speech)


# --- breath tones --------------------------------------------------------------------------


def _zero_crossings(x: npt.NDArray[np.float32]) -> int:
    return int(np.count_nonzero(np.diff(np.signbit(x))))


@pytest.mark.parametrize("rate", [44100, 48000, 22050])
@pytest.mark.parametrize("phase", ["in", "hold", "out", "rest"])
@pytest.mark.parametrize("duration_s", [1.0, 4.0, 7.3333])
def test_breath_tone_has_exact_length(phase: str, duration_s: float, rate: int) -> None:
    tone = breath_tone(phase, duration_s, rate)
    assert tone.dtype == np.float32
    assert len(tone) == round(duration_s * rate)


@pytest.mark.parametrize(("phase", "rising"), [("in", True), ("out", False)])
@pytest.mark.parametrize("duration_s", [1.5, 4.0, 8.0])
def test_breath_tone_pitch_glides(phase: str, rising: bool, duration_s: float) -> None:
    tone = breath_tone(phase, duration_s, SR)
    quarter = len(tone) // 4
    first, last = _zero_crossings(tone[:quarter]), _zero_crossings(tone[-quarter:])
    assert (last > first) is rising
    assert abs(last - first) / max(first, last) > 0.2  # G3 <-> D4 is a ratio of 1.5


def test_rest_tone_is_silence() -> None:
    tone = breath_tone("rest", 3.0, SR)
    assert len(tone) == 3 * SR
    assert not tone.any()


@pytest.mark.parametrize("phase", ["in", "hold", "out"])
@pytest.mark.parametrize("duration_s", [0.6, 1.5, 4.0, 8.0])
def test_breath_tone_is_soft_and_click_free(phase: str, duration_s: float) -> None:
    tone = breath_tone(phase, duration_s, SR)
    peak = float(np.max(np.abs(tone)))
    assert 0 < peak <= TONE_PEAK
    edge = round(0.005 * SR)
    assert np.max(np.abs(tone[:edge])) < 0.01 * peak
    assert np.max(np.abs(tone[-edge:])) < 0.01 * peak


# --- placement -----------------------------------------------------------------------------


def _burst(duration_s: float, seed: int = 0) -> Clip:
    """Noise whose every sample is non-zero, so its extent is easy to find."""
    rng = np.random.default_rng(seed)
    n = round(duration_s * SR)
    samples = rng.uniform(0.05, 0.5, n) * rng.choice([-1.0, 1.0], n)
    return Clip(samples=samples.astype(np.float32), sample_rate_hz=SR)


def _starts(x: npt.NDArray[np.float32]) -> list[int]:
    """Start indices of the runs of non-zero samples."""
    nonzero = np.concatenate([[0], (x != 0).astype(np.int8)])
    return np.flatnonzero(np.diff(nonzero) == 1).tolist()


@pytest.mark.parametrize("breath", ["in=4 hold=7 out=8 cycles=2", "in=2.5 out=3.7 rest=1.9"])
def test_breath_cues_start_exactly_one_slot_apart(breath: str) -> None:
    timeline = parse_script(f"Settle.\n\n[breath {breath}]\n\nDone.")
    clips = [_burst(0.9 if s.slot_s else 1.3, seed=i) for i, s in enumerate(timeline.speech)]
    settings = MixSettings(sample_rate_hz=SR)
    voice, placements = place_speech(timeline, clips, settings)
    starts = _starts(voice)
    assert len(starts) == len(timeline.speech)
    assert starts[0] == round(settings.lead_in_s * SR)
    assert starts[1] - (starts[0] + len(clips[0].samples)) == round(PACING.paragraph_gap_s * SR)
    slots = [s.slot_s for s in timeline.speech[1:-1]]
    for start, following, slot_s in zip(starts[1:], starts[2:], slots):
        assert slot_s is not None
        assert following - start == round(slot_s * SR)  # the last slot leads into "Done."
    assert [round(p.start_s * SR) for p in placements] == starts


def test_breath_tones_fill_exactly_their_phases() -> None:
    timeline = parse_script("Settle.\n\n[breath in=4 hold=7 out=8 rest=2 cycles=2 cue=tone]\nDone.")
    clips = [_burst(1.3, seed=1), _burst(0.8, seed=2)]
    settings = MixSettings(sample_rate_hz=SR)
    voice, placements = place_speech(timeline, clips, settings)
    cursor = round(settings.lead_in_s * SR) + len(clips[0].samples)
    cursor += round(PACING.paragraph_gap_s * SR)
    for tone in (e for e in timeline.events if isinstance(e, Tone)):
        expected = breath_tone(tone.phase, tone.duration_s, SR)
        assert len(expected) == round(tone.duration_s * SR)
        np.testing.assert_array_equal(voice[cursor : cursor + len(expected)], expected)
        cursor += len(expected)
    assert round(placements[1].start_s * SR) == cursor
    np.testing.assert_array_equal(voice[cursor : cursor + len(clips[1].samples)],
                                  clips[1].samples)


def test_cue_longer_than_its_slot_is_an_error_naming_the_line() -> None:
    timeline = parse_script("Settle.\n\nNow.\n[breath in=2 out=4 cycles=2]")
    clips = [_burst(1.0), _burst(1.0), _burst(1.9), _burst(3.9), _burst(2.01), _burst(3.9)]
    with pytest.raises(ScriptMarkupError) as info:
        place_speech(timeline, clips, MixSettings(sample_rate_hz=SR))
    assert str(info.value).startswith("script line 4: ")
    assert "longer than its 2 s phase" in str(info.value)


def test_cue_exactly_filling_its_slot_is_fine() -> None:
    timeline = parse_script("Settle.\n[breath in=2 out=4]")
    clips = [_burst(1.0), _burst(2.0), _burst(4.0)]
    _, placements = place_speech(timeline, clips, MixSettings(sample_rate_hz=SR))
    assert round((placements[2].start_s - placements[1].start_s) * SR) == 2 * SR


def test_chime_markup_places_a_soft_bell() -> None:
    timeline = parse_script("Hello there.\n[chime]\n[section Next]\nNow the next part.")
    chimes = [e for e in timeline.events if isinstance(e, Tone) and e.phase == "chime"]
    assert len(chimes) == 1 and chimes[0].duration_s == 3.0
    clips = [Clip(np.full(4410, 0.5, dtype=np.float32), 44100) for _ in timeline.speech]
    settings = MixSettings(lead_in_s=0.0, tail_s=0.0)
    voice, placements = place_speech(timeline, clips, settings)
    gap = placements[1].start_s - placements[0].end_s
    assert gap == pytest.approx(1.5 + 3.0 + 3.0, abs=1e-4)  # sentence gap, chime, paragraph gap
    start = int((placements[0].end_s + 1.5) * 44100)
    bell = voice[start : start + 3 * 44100]
    assert 0.02 < float(np.max(np.abs(bell))) <= 0.12
    assert float(np.max(np.abs(bell[-441:]))) < 0.01  # it has rung out by the end
