"""Target length: pauses stretch or shrink within bounds, speech and breath timings never move."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from imr_audio.audio import Clip
from imr_audio.authoring import load_template
from imr_audio.cli import cli
from imr_audio.errors import (
    ClientProfileError,
    TemplateSchemaError,
    TrackLengthError,
)
from imr_audio.export import ExportSettings
from imr_audio.length import (
    IMAGERY_MIN_PAUSE_S,
    MIN_PAUSE_S,
    PauseScale,
    fit_to_length,
    format_clock,
    length_range_s,
    parse_length,
)
from imr_audio.mix import MixSettings, place_speech
from imr_audio.profile import load_client_profile
from imr_audio.script import length_phrase, prepare
from imr_audio.timeline import Pause, SectionStart, Speech, Timeline, Tone
from imr_audio.track import RenderResult, RenderSettings
from imr_audio.workspace import CACHE_DIR_ENV, Workspace

MIX = MixSettings()
FAST_MIX = MixSettings(sample_rate_hz=16000)  # length does not depend on the rate; mixing does


@pytest.mark.parametrize(("text", "seconds"), [
    ("10m", 600), ("600s", 600), ("12:30", 750), ("1:02:30", 3750), ("1m30s", 90),
    ("1.5m", 90), ("1h", 3600), (" 10 min ", 600), ("0:45", 45), ("90S", 90),
])
def test_parse_length(text: str, seconds: float) -> None:
    assert parse_length(text) == seconds


@pytest.mark.parametrize("text", ["10", "", "ten minutes", "0s", "4h", "12:75", "-5m", "5 m 3"])
def test_parse_length_refuses(text: str) -> None:
    with pytest.raises(TrackLengthError, match="length"):
        parse_length(text)


# --- the fit, on a made-up timeline ---------------------------------------------------------

EVENTS = (
    SectionStart("Opening", 1),
    Pause(2.0, "explicit", 1),  # before any speech: takes no time, never moves
    Speech("Hello there.", 2),
    Pause(1.5, "sentence", 2),
    Speech("Imagine a quiet place.", 2),
    Pause(6.0, "explicit", 2),
    Speech("Rest here.", 4),
    Pause(3.0, "paragraph", 6),
    Speech("Breathe in", 6, slot_s=4.0),
    Speech("And out", 6, slot_s=6.0),
    Tone("in", 3.0, 7),
    Tone("out", 5.0, 7),
    Pause(0.5, "explicit", 8),  # shorter than the minimum: may grow, never shrinks
    Speech("Well done.", 9),
    Pause(4.0, "explicit", 9),
)
TIMELINE = Timeline(EVENTS)
SPEECH_S = [1.2, 2.0, 1.0, 0.8, 0.9, 1.1]


def _track_s(timeline: Timeline, speech_s: list[float], mix: MixSettings = MIX) -> float:
    """The length place_speech really lays out, with silent clips of the given lengths."""
    clips = [Clip(np.zeros(round(s * 22050), np.float32), 22050) for s in speech_s]
    voice, _ = place_speech(timeline, clips, mix)
    return len(voice) / mix.sample_rate_hz


def _pauses(timeline: Timeline) -> list[Pause]:
    return [e for e in timeline.events if isinstance(e, Pause)]


def _fit(target_s: float, scale: PauseScale | None = None) -> Timeline:
    return fit_to_length(TIMELINE, SPEECH_S, target_s, lead_in_s=MIX.lead_in_s,
                         tail_s=MIX.tail_s, template_id="made-up", scale=scale)


def test_range_is_what_place_speech_lays_out() -> None:
    shortest, longest = length_range_s(TIMELINE, SPEECH_S, MIX.lead_in_s, MIX.tail_s)
    assert _track_s(_fit(shortest), SPEECH_S) == pytest.approx(shortest, abs=1e-3)
    assert _track_s(_fit(longest), SPEECH_S) == pytest.approx(longest, abs=1e-3)
    written = _track_s(TIMELINE, SPEECH_S)
    assert shortest < written < longest
    # Breath slots, tones and speech are fixed; only the pauses after the first speech move.
    movable = 1.5 + 6.0 + 3.0 + 0.5 + 4.0
    fixed = written - movable
    assert longest == pytest.approx(fixed + 2 * movable)
    assert shortest == pytest.approx(
        fixed + max(0.9, MIN_PAUSE_S["sentence"]) + IMAGERY_MIN_PAUSE_S + 1.8 + 0.5 + 2.4)


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.37, 0.5, 0.8, 1.0])
def test_fit_reaches_the_target_and_keeps_every_bound(fraction: float) -> None:
    shortest, longest = length_range_s(TIMELINE, SPEECH_S, MIX.lead_in_s, MIX.tail_s)
    target = shortest + fraction * (longest - shortest)
    fitted = _fit(target)
    assert _track_s(fitted, SPEECH_S) == pytest.approx(target, abs=0.01)
    for before, after in zip(_pauses(TIMELINE), _pauses(fitted)):
        assert before.kind == after.kind and before.line == after.line
        floor = IMAGERY_MIN_PAUSE_S if before.line == 2 and before.kind == "explicit" else \
            MIN_PAUSE_S[before.kind]
        if before is EVENTS[1]:
            assert after == before
            continue
        assert min(before.duration_s, max(0.6 * before.duration_s, floor)) - 1e-9 \
            <= after.duration_s <= 2 * before.duration_s + 1e-9
    # Everything but the pauses is the same object, in the same order.
    assert [e for e in fitted.events if not isinstance(e, Pause)] == \
        [e for e in EVENTS if not isinstance(e, Pause)]


def test_imagery_pause_never_shrinks_below_five_seconds() -> None:
    shortest, _ = length_range_s(TIMELINE, SPEECH_S, MIX.lead_in_s, MIX.tail_s)
    imagery = _pauses(_fit(shortest))[2]
    assert imagery.duration_s == IMAGERY_MIN_PAUSE_S


def test_unreachable_target_states_the_range() -> None:
    shortest, longest = length_range_s(TIMELINE, SPEECH_S, MIX.lead_in_s, MIX.tail_s)
    for target in (shortest - 3, longest + 3):
        with pytest.raises(TrackLengthError) as caught:
            _fit(target)
        message = str(caught.value)
        assert f"from {format_clock(shortest)} to {format_clock(longest)}" in message
        assert "'made-up'" in message
    # Within 2 s of the range: met at its end.
    assert _track_s(_fit(longest + 1.5), SPEECH_S) == pytest.approx(longest, abs=0.01)


def test_template_can_narrow_the_bounds() -> None:
    fixed_explicit = PauseScale.narrowed([("explicit", 1.0, 1.0), ("sentence", 0.8, 1.2)])
    shortest, longest = length_range_s(TIMELINE, SPEECH_S, MIX.lead_in_s, MIX.tail_s,
                                       fixed_explicit)
    for target in (shortest, longest):
        fitted = _fit(target, fixed_explicit)
        for before, after in zip(_pauses(TIMELINE), _pauses(fitted)):
            if before.kind == "explicit":
                assert after.duration_s == before.duration_s
            elif before.kind == "sentence":
                assert 1.2 - 1e-9 <= after.duration_s <= 1.8 + 1e-9


def test_pause_scale_in_a_template_schema(tmp_path: Path, test_templates: Path) -> None:
    shutil.copy(test_templates / "mini.j2", tmp_path / "mini.j2")
    schema = (test_templates / "mini.yaml").read_text(encoding="utf-8")
    (tmp_path / "mini.yaml").write_text(
        schema + "pause_scale:\n  explicit: [1.0, 1.5]\n", encoding="utf-8")
    assert load_template("mini", (tmp_path,)).pause_scale == (("explicit", 1.0, 1.5),)
    for bad in ("explicit: [0.3, 1.5]", "explicit: [1.2, 1.5]", "explicit: 2", "breath: [1, 1]"):
        (tmp_path / "mini.yaml").write_text(schema + f"pause_scale:\n  {bad}\n", encoding="utf-8")
        with pytest.raises(TemplateSchemaError, match="pause_scale"):
            load_template("mini", (tmp_path,))


def test_breath_slots_and_tones_never_move(
    tmp_path: Path,
    test_templates: Path,
    write_client: Callable[..., Path], test_workspace: Workspace
) -> None:
    ws = test_workspace
    prepared = prepare(ws, "breathe", ws.load_profile(write_client(tmp_path)))
    timeline = prepared.timeline
    speech_s = [0.5 if s.slot_s else 1.5 for s in timeline.speech]
    shortest, longest = length_range_s(timeline, speech_s, MIX.lead_in_s, MIX.tail_s)
    for target in (shortest, longest):
        fitted = fit_to_length(timeline, speech_s, target, lead_in_s=MIX.lead_in_s,
                               tail_s=MIX.tail_s, template_id="breathe")
        kept = [e for e in fitted.events if not isinstance(e, Pause)]
        assert kept == [e for e in timeline.events if not isinstance(e, Pause)]
        assert _track_s(fitted, speech_s) == pytest.approx(target, abs=0.01)


# --- profiles and the command line ----------------------------------------------------------


def test_profile_length_must_be_written_with_a_unit(
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    good = write_client(tmp_path, "good.yaml", preferences={"length": "10m"})
    assert load_client_profile(good).preferences["length"] == "10m"
    bad = write_client(tmp_path, "bad.yaml", preferences={"length": 10})
    with pytest.raises(ClientProfileError, match=r"preferences\.length: must be a length"):
        load_client_profile(bad)


def test_profile_length_is_the_default_target(
    tmp_path: Path,
    test_templates: Path,
    write_client: Callable[..., Path], render_file: Callable[..., RenderResult]
) -> None:
    # One minute is plainly out of reach for the mini template: refused before synthesis.
    client = write_client(tmp_path, preferences={"soundscape": "rain", "length": "1m"})
    settings = RenderSettings()
    with pytest.raises(TrackLengthError, match=r"a length of 1:00 cannot be reached.*estimated"):
        render_file("mini", client, tmp_path / "out", settings)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("flag", "seconds"), [(["--length", "12:30"], 750.0), ([], None)])
def test_render_length_option(flag: list[str], seconds: float | None, client_file: Path,
                              test_templates: Path,
                              render_calls: list[tuple[str, RenderSettings]]) -> None:
    result = CliRunner().invoke(cli, ["render", "mini", "--client", str(client_file),
                                      "--templates-dir", str(test_templates), *flag])
    assert result.exit_code == 1 and "stopped here" in result.output
    assert render_calls[0][1].length_s == seconds


def test_render_length_option_refuses_a_bad_length(client_file: Path) -> None:
    result = CliRunner().invoke(cli, ["render", "mini", "--client", str(client_file),
                                      "--length", "10"])
    assert result.exit_code == 2
    assert "--length" in result.output and "12:30" in result.output


# --- real renders of the mini template --------------------------------------------------------


@pytest.fixture(scope="module")
def reachable(mini_render: RenderResult) -> tuple[float, float]:
    """The mini template's reachable range with this machine's voice, from a real render."""
    speech_s = [p.duration_s for p in mini_render.placements]
    return length_range_s(mini_render.timeline, speech_s, MIX.lead_in_s, MIX.tail_s)


@pytest.fixture(scope="module")
def length_client(
    tmp_path_factory: pytest.TempPathFactory,
    write_client: Callable[..., Path],
) -> Path:
    return write_client(tmp_path_factory.mktemp("length"))


@pytest.fixture
def shared_speech(_session_speech_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reuse the session's speech (``mini_render``'s clips): these tests are about pauses."""
    monkeypatch.setenv(CACHE_DIR_ENV, str(_session_speech_cache))


def _render(render_file: Callable[..., RenderResult], client: Path, target_s: float, out: Path,
            mix: MixSettings = FAST_MIX) -> RenderResult:
    settings = RenderSettings(soundscape="rain", seed=3, mix=mix,
                              export=ExportSettings(format="wav"), length_s=target_s)
    return render_file("mini", client, out, settings)


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9], ids=["short", "mid", "long"])
@pytest.mark.usefixtures("shared_speech")
def test_render_reaches_the_target_length(
    fraction: float,
    reachable: tuple[float, float],
    length_client: Path,
    tmp_path: Path,
    render_file: Callable[..., RenderResult],
) -> None:
    shortest, longest = reachable
    target = round(shortest + fraction * (longest - shortest))
    result = _render(render_file, length_client, target, tmp_path / "out")
    info = sf.info(str(result.path))
    assert info.frames / info.samplerate == pytest.approx(target, abs=2.0)
    assert result.duration_s == pytest.approx(target, abs=2.0)
    assert result.target_duration_s == target
    opening = " ".join(s.text for s in result.timeline.speech[:3])
    assert f"It lasts about {length_phrase(target)}." in opening
    assert f"about {length_phrase(target)}" in Path(f"{result.path}.txt").read_text("utf-8")


@pytest.mark.usefixtures("shared_speech")
def test_render_refuses_a_length_just_out_of_reach(
    reachable: tuple[float, float],
    length_client: Path,
    tmp_path: Path,
    render_file: Callable[..., RenderResult],
) -> None:
    shortest, longest = reachable
    with pytest.raises(TrackLengthError) as caught:
        _render(render_file, length_client, longest + 20, tmp_path / "out")
    found = re.search(r"from (\d+):(\d\d) to (\d+):(\d\d) by", str(caught.value))
    assert found and "estimated" not in str(caught.value)
    low = int(found.group(1)) * 60 + int(found.group(2))
    high = int(found.group(3)) * 60 + int(found.group(4))
    assert low == pytest.approx(shortest, abs=2) and high == pytest.approx(longest, abs=2)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


@pytest.mark.slow
def test_stretched_breath_render_keeps_cues_one_phase_apart(
    tmp_path: Path,
    test_templates: Path,
    write_client: Callable[..., Path], render_file: Callable[..., RenderResult]
) -> None:
    client = write_client(tmp_path)
    settings = RenderSettings(soundscape="rain", mix=FAST_MIX,
                              export=ExportSettings(format="wav"))
    plain = render_file("breathe", client, tmp_path / "plain", settings)
    speech_s = [p.duration_s for p in plain.placements]
    _, longest = length_range_s(plain.timeline, speech_s, MIX.lead_in_s, MIX.tail_s)
    target = round(longest - 5)
    settings = RenderSettings(soundscape="rain", mix=FAST_MIX,
                              export=ExportSettings(format="wav"), length_s=target)
    stretched = render_file("breathe", client, tmp_path / "long", settings)
    assert stretched.duration_s == pytest.approx(target, abs=2.0)
    cues = [p for p in stretched.placements if p.speech.slot_s is not None]
    assert len(cues) == 6
    for before, after in zip(cues, cues[1:]):
        assert after.start_s - before.start_s == pytest.approx(before.speech.slot_s, abs=1e-4)
    tones = [e for e in stretched.timeline.events if isinstance(e, Tone)]
    assert tones == [e for e in plain.timeline.events if isinstance(e, Tone)]


def test_a_script_estimated_over_three_hours_is_refused_before_any_speech(
    tmp_path: Path, write_client: Callable[..., Path]
) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "long.j2").write_text(
        '{% extends "_base.j2" %}\n{% block body %}\n[section Resting]\n'
        "{% for i in range(40) %}Rest here. [pause 300s]\n{% endfor %}\n{% endblock %}\n",
        encoding="utf-8")
    (folder / "long.yaml").write_text("title: Long\nduration_s: [60, 240]\nvariables: {}\n",
                                      encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["render", "long", "--client", str(write_client(tmp_path)),
                                      "--templates-dir", str(folder), "-o", str(out)])
    assert result.exit_code == 1
    message = result.output.strip().splitlines()[-1]
    assert re.fullmatch(r"Error: template 'long' for .*: the script would last about 3:2\d:\d\d, "
                        r"longer than any track may \(3:00:00\); shorten its pauses or loops",
                        message), message
    assert "synthesis" not in result.output and not out.exists()
