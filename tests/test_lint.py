"""The clinical lint: each rule caught on one planted violation, silent on a clean twin.

Every test builds a tiny template (extending the shipped ``_base.j2``) in a temporary folder,
fills it for a fictional profile through ``prepare`` and reads the findings. Findings
name fields, avoid-list entries by number and the template file and line a sentence comes from
(the filled script's own line numbers are printed by no command); they never quote a client's
value. The wording of therapists is in the corpus (tests/lint_corpus, test_lint_corpus.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from imr_audio.instructions import instruction_kind
from imr_audio.lint import LintFinding, ThemeMapError, lint_script
from imr_audio.markup import parse_script
from imr_audio.profile import ELIGIBILITY_FLAGS
from imr_audio.script import PreparedScript, ScriptChoices, prepare
from imr_audio.workspace import Workspace

DESCRIPTION = {"type": "text", "required": True, "description": "the place"}
COMPANION = {"type": "text", "required": False, "default": None, "description": "a companion"}
PLACE = "{{ safe_place.description }} [pause 6s]"
LIGHT_HEADED = "If you feel light-headed at any point, just breathe normally."
PREFERENCES = {"voice": "calm", "soundscape": "rain"}


def _template(
    folder: Path,
    body: str,
    *,
    template_id: str = "probe",
    kind: str = "stabilisation",
    duration_s: tuple[int, int] = (60, 900),
    variables: dict[str, Any] | None = None,
    sections: list[str] | None = None,
) -> Path:
    """Write ``<template_id>.j2`` and ``.yaml`` into ``folder/templates``; return the folder."""
    templates = folder / "templates"
    templates.mkdir(exist_ok=True)
    (templates / f"{template_id}.j2").write_text(
        '{% extends "_base.j2" %}\n{% block body %}\n[section Middle]\n'
        + body
        + "\n{% endblock %}\n",
        encoding="utf-8",
    )
    schema = {
        "id": template_id,
        "title": "Probe",
        "kind": kind,
        "description": "A test template.",
        "duration_s": list(duration_s),
        "variables": {"safe_place.description": DESCRIPTION} if variables is None else variables,
        "sections": sections or ["Middle"],
    }
    (templates / f"{template_id}.yaml").write_text(yaml.safe_dump(schema), encoding="utf-8")
    return templates


def _prepare(
    write_client: Callable[..., Path],
    tmp_path: Path,
    body: str = PLACE,
    *,
    soundscape: str | None = None,
    template: dict[str, Any] | None = None,
    **client: Any,
) -> PreparedScript:
    templates = _template(tmp_path, body, **(template or {}))
    workspace = Workspace.from_environment(templates_dir=templates)
    profile = workspace.load_profile(write_client(tmp_path, **client))
    return prepare(workspace, (template or {}).get("template_id", "probe"), profile,
                   ScriptChoices(soundscape=soundscape))


def _rule(prepared: PreparedScript, rule: str) -> list[LintFinding]:
    return [f for f in prepared.findings if f.rule == rule]


def _assert_private(prepared: PreparedScript, *values: str) -> None:
    """No finding quotes one of the client's values (nor the preferred name)."""
    for finding in prepared.findings:
        for value in (*values, prepared.profile.preferred_name, "Robin"):
            assert value.lower() not in finding.message.lower(), finding


def _assert_caught(
    prepared: PreparedScript, rule: str, severity: str, needle: str, *values: str
) -> LintFinding:
    found = [f for f in _rule(prepared, rule) if needle in f.message]
    assert found, [str(f) for f in prepared.findings]
    assert {f.severity for f in found} == {severity}, found
    _assert_private(prepared, *values)
    return found[0]


def _line_of(prepared: PreparedScript, text: str) -> int:
    """The filled script's line that holds ``text``."""
    lines = prepared.script.text.splitlines()
    return next(i for i, line in enumerate(lines, start=1) if text in line)


def _template_line_of(prepared: PreparedScript, text: str) -> int:
    """The line of the template's own ``.j2`` file that holds ``text``."""
    lines = prepared.spec.path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if text in line)


def test_clean_template_has_no_findings(tmp_path: Path, write_client: Callable[..., Path]) -> None:
    prepared = _prepare(write_client, tmp_path,
                        PLACE + "\n\nImagine a soft light above you. [pause 8s]")
    assert prepared.findings == ()


# --- wrapper -------------------------------------------------------------------------------


@pytest.mark.parametrize(("phrase", "section"), [
    ("never while driving", "opening"),
    ("stop at any time", "opening"),
    ("close your eyes", "opening"),
    ("feet on the floor", "returning"),
    ("open your eyes", "returning"),
])
def test_wrapper_line_missing_is_an_error(
    phrase: str,
    section: str,
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    prepared = _prepare(write_client, tmp_path)
    assert not _rule(prepared, "wrapper")
    # The shipped wrapper cannot be left out of a template, so damage the filled text instead.
    text = prepared.script.text.replace(phrase, "x " * len(phrase.split()))
    assert text != prepared.script.text
    timeline = parse_script(text, prepared.voice_profile.pacing)
    findings = lint_script(prepared.spec, prepared.profile, prepared.script, timeline,
                           prepared.voice_profile.spoken_wpm)
    wrapper = [f for f in findings if f.rule == "wrapper"]
    assert [(f.severity, f.message) for f in wrapper] == [
        ("error", f"the {section} lacks the line with '{phrase}'")]


def test_section_inside_leave_scene_moves_returning_lines_out(
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    # A template's own section in leave_scene pushes the closing lines out of "Returning".
    templates = _template(tmp_path, PLACE)
    source = templates / "probe.j2"
    source.write_text(
        source.read_text(encoding="utf-8")
        + "{% block leave_scene %}\n[section Goodbye]\nYou can leave this place now.\n"
        "{% endblock %}\n",
        encoding="utf-8",
    )
    workspace = Workspace.from_environment(templates_dir=templates)
    prepared = prepare(workspace, "probe", workspace.load_profile(write_client(tmp_path)))
    assert {f.message for f in _rule(prepared, "wrapper")} == {
        "the returning lacks the line with 'feet on the floor'",
        "the returning lacks the line with 'open your eyes'",
    }


# --- avoid-list ----------------------------------------------------------------------------


def _place(client_data: Callable[..., dict[str, Any]], description: str) -> dict[str, Any]:
    return {**client_data()["safe_place"], "description": description}


def test_avoid_list_matches_filled_value(
    tmp_path: Path,
    write_client: Callable[..., Path],
    client_data: Callable[..., dict[str, Any]],
) -> None:
    prepared = _prepare(write_client, tmp_path,
                        safe_place=_place(client_data, "You sit on a bench by a still lake."),
                        avoid=["heights", "water"])
    _assert_caught(prepared, "avoid-list", "error",
                   "avoid-list entry 2 matches the value of safe_place.description",
                   "water", "lake", "bench")


def test_avoid_list_matches_script_text(tmp_path: Path, write_client: Callable[..., Path]) -> None:
    body = PLACE + "\n\nHigh above, a kite hangs in the air near the cliff. [pause 6s]"
    prepared = _prepare(write_client, tmp_path, body, avoid=["heights"])
    line = _template_line_of(prepared, "cliff")
    finding = _assert_caught(prepared, "avoid-list", "error", f"probe.j2 line {line}",
                             "heights", "cliff")
    assert finding.message == f"avoid-list entry 1 matches probe.j2 line {line}"
    assert (Path(finding.template_file or "").name, finding.template_line) == ("probe.j2", line)
    assert finding.script_line == _line_of(prepared, "cliff")
    assert finding.field is None
    assert not [f for f in _rule(prepared, "avoid-list") if "value of" in f.message]


@pytest.mark.parametrize("word", ["water", "beach", "sea"])
def test_avoid_list_matches_soundscape_theme(
    word: str,
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    # "beach" used to pass with the ocean bed: themes are now expanded like avoid entries.
    prepared = _prepare(write_client, tmp_path, avoid=["heights", word], soundscape="ocean")
    _assert_caught(prepared, "avoid-list", "error",
                   "avoid-list entry 2 matches the chosen soundscape", word)
    assert "ocean" not in str(_rule(prepared, "avoid-list"))  # would reveal the avoid word
    assert len(_rule(prepared, "avoid-list")) == 1


@pytest.mark.parametrize("soundscape", ["rain", "ocean"])
def test_avoid_list_clean_profile_not_flagged(
    soundscape: str,
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    prepared = _prepare(write_client, tmp_path, avoid=["heights", "crowds", "fire"],
                        soundscape=soundscape)
    assert not _rule(prepared, "avoid-list")


# --- trauma-narrative ----------------------------------------------------------------------

TRAUMA = "The attacker is far away now. [pause 6s]"
PAST = "Back then you felt small. Now you are tall and strong. [pause 6s]"


@pytest.mark.parametrize("kind", ["consolidation", "new-dream"])
def test_trauma_vocabulary_flagged_in_rescripting_kinds(
    kind: str,
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    prepared = _prepare(write_client, tmp_path, PLACE + "\n\n" + TRAUMA, template={"kind": kind})
    line = _template_line_of(prepared, "attacker")
    finding = _assert_caught(prepared, "trauma-narrative", "error", f"probe.j2 line {line}:")
    assert "attacker" not in finding.message
    assert len(prepared.findings) == 1


@pytest.mark.parametrize("kind", ["consolidation", "new-dream"])
def test_past_tense_narration_warned_in_rescripting_kinds(
    kind: str,
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    prepared = _prepare(write_client, tmp_path, PLACE + "\n\n" + PAST, template={"kind": kind})
    line = _template_line_of(prepared, "Back then")
    _assert_caught(prepared, "trauma-narrative", "warning", f"probe.j2 line {line}:")
    assert len(prepared.findings) == 1


@pytest.mark.parametrize("kind", ["stabilisation", "breathing", "grounding"])
def test_past_tense_not_flagged_in_other_kinds(
    kind: str,
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    prepared = _prepare(write_client, tmp_path, PLACE + "\n\n" + PAST, template={"kind": kind})
    assert not _rule(prepared, "trauma-narrative")


@pytest.mark.parametrize("kind", ["stabilisation", "breathing", "grounding"])
def test_a_perpetrator_is_an_error_in_every_home_track(
    kind: str,
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    # No home track holds the perpetrator (CLINICAL.md), whatever its kind; the retelling
    # rules (past tense) stay with consolidation and new-dream scripts.
    prepared = _prepare(write_client, tmp_path, PLACE + "\n\n" + TRAUMA + "\n\n" + PAST,
                        template={"kind": kind})
    found = _rule(prepared, "trauma-narrative")
    assert [(f.severity, f.check) for f in found] == [("error", "trauma-content")]


@pytest.mark.parametrize("kind", ["consolidation", "new-dream"])
def test_present_tense_rescripting_not_flagged(
    kind: str,
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    body = PLACE + "\n\nNow you are tall and strong, and help is right here. [pause 6s]"
    prepared = _prepare(write_client, tmp_path, body, template={"kind": kind})
    assert not _rule(prepared, "trauma-narrative")


# --- breathing -----------------------------------------------------------------------------


def _breathing(cycles: int, cue: str = "voice", light_headed: bool = True) -> str:
    line = f"\n\n{LIGHT_HEADED}" if light_headed else ""
    return f"Let us breathe together.{line}\n\n[breath in=4 hold=7 out=8 cycles={cycles} cue={cue}]"


@pytest.mark.parametrize("cue", ["voice", "tone"])
def test_more_than_four_long_hold_cycles_is_an_error(
    cue: str,
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    prepared = _prepare(write_client, tmp_path, _breathing(5, cue))
    line = _template_line_of(prepared, "[breath")
    finding = _assert_caught(prepared, "breathing", "error", f"probe.j2 line {line}: 5 cycles")
    assert "experienced_breathing" in finding.message
    assert len(_rule(prepared, "breathing")) == 1


@pytest.mark.parametrize("cue", ["voice", "tone"])
def test_four_long_hold_cycles_are_fine(
    cue: str,
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    prepared = _prepare(write_client, tmp_path, _breathing(4, cue))
    assert not _rule(prepared, "breathing")


def test_experienced_client_may_do_more_cycles(
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    prepared = _prepare(write_client, tmp_path, _breathing(8),
                        preferences={**PREFERENCES, "experienced_breathing": True})
    assert not _rule(prepared, "breathing")


@pytest.mark.parametrize("breath", [
    "[breath in=4 hold=7 out=8 cycles=2]",
    "[breath in=4 hold=4 out=6 cycles=1 cue=tone]",
    "[breath in=4 out=6 rest=5 cycles=2]",
])
def test_long_hold_without_light_headed_line_is_an_error(
    breath: str,
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    prepared = _prepare(write_client, tmp_path, "Let us breathe together.\n\n" + breath)
    _assert_caught(prepared, "breathing", "error", "light-headed")
    clean = _prepare(write_client, tmp_path,
                     f"Let us breathe together.\n\n{LIGHT_HEADED}\n\n" + breath)
    assert not _rule(clean, "breathing")


def test_short_holds_need_no_light_headed_line(
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    prepared = _prepare(write_client, tmp_path,
                        "Let us breathe together.\n\n[breath in=4 hold=2 out=6 cycles=3]")
    assert not _rule(prepared, "breathing")


# --- family companion ----------------------------------------------------------------------

COMPANION_BODY = (PLACE + "\n\nAnd perhaps {{ safe_place.companion }} is here with you too."
                  " [pause 6s]")
COMPANION_VARS = {"safe_place.description": DESCRIPTION, "safe_place.companion": COMPANION}


@pytest.mark.parametrize("companion", ["your grandmother", "your big sister Ann", "Mum"])
def test_family_companion_is_a_warning(
    companion: str,
    tmp_path: Path,
    client_data: Callable[..., dict[str, Any]],
    write_client: Callable[..., Path],
) -> None:
    prepared = _prepare(write_client, tmp_path, COMPANION_BODY,
                        template={"variables": COMPANION_VARS},
                        safe_place={**client_data()["safe_place"], "companion": companion})
    _assert_caught(prepared, "family-companion", "warning", "safe_place.companion", companion)
    assert len(prepared.findings) == 1


@pytest.mark.parametrize("companion", ["your cat Pepper", "a friendly old dog", None])
def test_pet_or_no_companion_is_fine(
    companion: str | None,
    tmp_path: Path,
    client_data: Callable[..., dict[str, Any]],
    write_client: Callable[..., Path],
) -> None:
    place = {**client_data()["safe_place"], "companion": companion}
    prepared = _prepare(write_client, tmp_path, COMPANION_BODY,
                        template={"variables": COMPANION_VARS},
                        safe_place=place)
    assert prepared.findings == ()


# --- container -----------------------------------------------------------------------------

CONTAINER_OK = (
    "Imagine a strong steel chest. [pause 6s]\n\n"
    "Everything you put inside is stored there safely. It is not destroyed. "
    "Only you hold the key. [pause 6s]"
)


# A container script is known by its sections (or container.* fields, or its words), never by
# its id: the old tests named the template "container" and relied on that id.
CONTAINER_TEMPLATE = {"template_id": "strong-chest", "variables": {},
                      "sections": ["Building your container"]}


@pytest.mark.parametrize(("body", "needle"), [
    # "held there safely" is storage (CLINICAL.md: "it is held, not destroyed"); the old case
    # replaced "stored" by "held" and expected an error. Without any storage wording it is one.
    (CONTAINER_OK.replace("is stored there safely", "goes in"), "stored"),
    (CONTAINER_OK.replace("Only you hold the key.", "Only you can open it."), "holds the key"),
    (CONTAINER_OK.replace("It is not destroyed.", "Later you can destroy it."), "not destroyed"),
])
def test_container_wording_errors(
    body: str,
    needle: str,
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    prepared = _prepare(write_client, tmp_path, body, template=CONTAINER_TEMPLATE)
    _assert_caught(prepared, "container", "error", needle)
    assert len(prepared.findings) == 1


def test_container_wording_clean(tmp_path: Path, write_client: Callable[..., Path]) -> None:
    prepared = _prepare(write_client, tmp_path, CONTAINER_OK, template=CONTAINER_TEMPLATE)
    assert prepared.findings == ()


def test_container_rule_not_for_other_scripts(
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    body = CONTAINER_OK.replace("stored", "held").replace("key", "lock")
    prepared = _prepare(write_client, tmp_path, body, template={"variables": {}})
    assert not _rule(prepared, "container")


def test_container_destruction_names_its_template_line(
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    body = CONTAINER_OK.replace("It is not destroyed.", "Then it is gone for good.")
    prepared = _prepare(write_client, tmp_path, body, template=CONTAINER_TEMPLATE)
    line = _template_line_of(prepared, "gone for good")
    finding = _assert_caught(prepared, "container", "error", f"strong-chest.j2 line {line}:")
    assert (finding.template_line, finding.check) == (line, "destroyed")


# --- identifiers ---------------------------------------------------------------------------


@pytest.mark.parametrize(("description", "what", "secret"), [
    ("You are at home on 12/03/1990, the day is mild.", "a date", "12/03/1990"),
    ("You are in the garden you had in 1987, the day is mild.", "a date", "1987"),
    ("You are in the garden behind 14 Elm Road, the day is mild.", "an address", "Elm Road"),
    ("You are in a garden far from the PTSD, the day is mild.", "a diagnosis", "PTSD"),
    ("You are in the garden of the Riverside Clinic, quiet and mild.", "a practice or clinic",
     "Riverside"),
])
def test_identifier_in_script_is_an_error(
    description: str,
    what: str,
    secret: str,
    tmp_path: Path,
    write_client: Callable[..., Path],
    client_data: Callable[..., dict[str, Any]],
) -> None:
    prepared = _prepare(write_client, tmp_path, safe_place=_place(client_data, description))
    finding = _assert_caught(prepared, "identifiers", "error",
                             f"the value of safe_place.description looks like {what}", secret)
    assert finding.field == "safe_place.description"
    assert finding.template_line == _template_line_of(prepared, "safe_place.description")
    assert len(prepared.findings) == 1


def test_two_word_preferred_name_is_a_warning(
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    # A warning, not an error: "Mary Ann" is a first name, "Robin Fairweather" is not.
    prepared = _prepare(write_client, tmp_path, preferred_name="Robin Fairweather")
    _assert_caught(prepared, "identifiers", "warning", "preferred_name", "Robin", "Fairweather")
    assert len(prepared.findings) == 1


@pytest.mark.parametrize("name", ["Robin", "Zoë", "Jean-Luc", "王芳"])
def test_one_word_preferred_name_is_fine(
    name: str,
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    prepared = _prepare(write_client, tmp_path, preferred_name=name)
    assert prepared.findings == ()


# --- eligibility ---------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ELIGIBILITY_FLAGS)
def test_eligibility_flag_is_an_error(
    flag: str,
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    prepared = _prepare(write_client, tmp_path, eligibility={flag: True})
    finding = _assert_caught(prepared, "eligibility", "error", f"eligibility.{flag} is set")
    assert "session" in finding.message
    assert len(prepared.findings) == 1


def test_eligibility_flags_false_are_fine(
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    prepared = _prepare(write_client, tmp_path,
                        eligibility=dict.fromkeys(ELIGIBILITY_FLAGS, False))
    assert prepared.findings == ()


# --- pacing --------------------------------------------------------------------------------


@pytest.mark.parametrize("after", [
    "[pause 2s] It is warm.",
    "It is warm. It glows softly.",
    # Regression: a paragraph ending in an explicit pause let the scan run on into the next
    # paragraph's pauses, so a short pause at the end of the instruction's paragraph passed.
    "[pause 4.9s]",
    "It is warm. [pause 2s]",
])
def test_imagery_instruction_needs_a_long_pause(
    after: str,
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    prepared = _prepare(write_client, tmp_path,
                        PLACE + f"\n\nImagine a soft light above you. {after}\n\n"
                        "Now let it fade. [pause 6s]")
    line = _template_line_of(prepared, "Imagine")
    finding = _assert_caught(prepared, "pacing", "warning", f"probe.j2 line {line}: an imagery")
    assert "at least 5 s" in finding.message
    assert len(prepared.findings) == 1


@pytest.mark.parametrize("after", [
    "[pause 8s]",
    "It is warm. [pause 8s]",
    "[breath in=4 out=6 cycles=1]",
])
def test_imagery_instruction_with_long_pause_is_fine(
    after: str,
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    prepared = _prepare(write_client, tmp_path,
                        PLACE + f"\n\nImagine a soft light above you. {after}\n\n"
                        "Now let it fade. [pause 6s]")
    assert not _rule(prepared, "pacing")


@pytest.mark.parametrize("duration_s", [(600, 900), (30, 90)])
def test_estimated_length_outside_range_is_a_warning(
    duration_s: tuple[int, int],
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    prepared = _prepare(write_client, tmp_path, template={"duration_s": duration_s})
    assert not duration_s[0] <= prepared.estimated_duration_s <= duration_s[1]
    _assert_caught(prepared, "pacing", "warning", "estimated length")
    assert len(prepared.findings) == 1


def test_estimated_length_inside_range_is_fine(
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    prepared = _prepare(write_client, tmp_path, template={"duration_s": (120, 300)})
    assert 120 <= prepared.estimated_duration_s <= 300
    assert not _rule(prepared, "pacing")


@pytest.mark.parametrize(("spoken_wpm", "flagged"), [(60.0, True), (150.0, False),
                                                     (400.0, True)])
def test_delivery_rate_outside_range_is_a_warning(
    spoken_wpm: float,
    flagged: bool,
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    prepared = _prepare(write_client, tmp_path)
    findings = lint_script(prepared.spec, prepared.profile, prepared.script, prepared.timeline,
                           spoken_wpm)
    rate = [f for f in findings if f.rule == "pacing" and "words per minute" in f.message]
    assert bool(rate) is flagged
    assert all(f.severity == "warning" for f in rate)


# --- where to act (findings name template lines and fields) ------------------------------


def test_wrapper_text_is_traced_to_the_base_template(
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    prepared = _prepare(write_client, tmp_path, avoid=["toes"])
    finding = _assert_caught(prepared, "avoid-list", "error", "_base.j2 line", "toes")
    base = Path(finding.template_file or "")
    assert base.name == "_base.j2"
    assert "toes" in base.read_text(encoding="utf-8").splitlines()[(finding.template_line or 0) - 1]


def test_list_item_is_named_by_its_index(tmp_path: Path,
                                         write_client: Callable[..., Path]) -> None:
    body = PLACE + "\n\n{% for s in safe_place.sights %}Perhaps you notice {{ s }}. [pause 6s]\n" \
        "{% endfor %}"
    variables = {"safe_place.description": DESCRIPTION,
                 "safe_place.sights": {"type": "list", "description": "sights"}}
    prepared = _prepare(write_client, tmp_path, body, template={"variables": variables},
                        avoid=["tulips"])
    finding = _assert_caught(prepared, "avoid-list", "error",
                             "avoid-list entry 1 matches the value of safe_place.sights[1]",
                             "tulip")
    assert finding.field == "safe_place.sights[1]"
    assert finding.template_line == _template_line_of(prepared, "{% for s in")


@pytest.mark.parametrize(("preferences", "soundscape", "needle", "field"), [
    ({"voice": "calm"}, None, "the default soundscape 'rain'", None),
    ({"voice": "calm", "soundscape": "rain"}, None, "preferences.soundscape",
     "preferences.soundscape"),
    ({"voice": "calm", "soundscape": "forest"}, "rain", "the soundscape you chose", None),
])
def test_the_soundscape_used_is_named_by_who_chose_it(
    preferences: dict[str, str], soundscape: str | None, needle: str, field: str | None,
    tmp_path: Path, write_client: Callable[..., Path]
) -> None:
    prepared = _prepare(write_client, tmp_path, avoid=["water"], preferences=preferences,
                        soundscape=soundscape)
    finding = _assert_caught(prepared, "avoid-list", "error", needle)
    assert finding.field == field
    assert "water" not in finding.message


def test_the_caller_says_who_chose_the_soundscape(
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    # Without being told, the default bed and the same bed chosen by option look alike.
    prepared = _prepare(write_client, tmp_path, avoid=["water"], preferences={"voice": "calm"})
    said = lint_script(prepared.spec, prepared.profile, prepared.script, prepared.timeline,
                       prepared.voice_profile.spoken_wpm, prepared.soundscape,
                       soundscape_origin="option")
    assert [f.message for f in said if f.rule == "avoid-list"] == [
        "avoid-list entry 1 matches the chosen soundscape's themes (the soundscape you chose "
        "for this render); choose another soundscape"]


def test_threat_finding_says_where_and_which_check(
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    body = PLACE + "\n\nA man steps out and grabs you by the arm. [pause 8s]"
    prepared = _prepare(write_client, tmp_path, body, template={"kind": "new-dream"})
    line = _template_line_of(prepared, "grabs you")
    finding = _assert_caught(prepared, "trauma-narrative", "error", f"probe.j2 line {line}:")
    assert (finding.template_line, finding.check) == (line, "threat")
    assert "an action against a person" in finding.message


def test_threat_in_a_value_names_the_field_not_the_words(
    tmp_path: Path,
    write_client: Callable[..., Path],
    client_data: Callable[..., dict[str, Any]],
) -> None:
    place = "You are by the gate. Someone is following you along the lane."
    prepared = _prepare(write_client, tmp_path, template={"kind": "new-dream"},
                        safe_place=_place(client_data, place))
    finding = _assert_caught(prepared, "trauma-narrative", "error",
                             "the value of safe_place.description", "following", "lane")
    assert finding.field == "safe_place.description"


# --- the theme map -------------------------------------------------------------------------


def test_a_themes_file_of_the_therapists_adds_words(
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    themes = tmp_path / "themes.yaml"
    themes.write_text("themes:\n  circus:\n    cues: [clown]\n    words: [juggler, big top]\n",
                      encoding="utf-8")
    body = PLACE + "\n\nA juggler smiles under the big top. [pause 6s]"
    prepared = _prepare(write_client, tmp_path, body, avoid=["clowns"])
    assert not _rule(prepared, "avoid-list")
    findings = lint_script(prepared.spec, prepared.profile, prepared.script, prepared.timeline,
                           prepared.voice_profile.spoken_wpm, themes_file=themes)
    assert [f.rule for f in findings] == ["avoid-list"]


@pytest.mark.parametrize(("text", "problem"), [
    ("themes: [water]\n", "themes: the file must hold one mapping"),
    ("themes:\n  x:\n    words: water\n", "themes.x.words: must be a list"),
    ("themes:\n  x:\n    part_of: nowhere\n", "themes.x.part_of: no theme 'nowhere'"),
    ("themes:\n  x:\n    colour: blue\n", "themes.x.colour: unknown field"),
    # read as a profile is: the line of a syntax error, bounded size and aliases
    ("themes:\n  x:\n    words: [sea\n", "line 4, column 1: malformed YAML"),
    ("themes: {}\n" + "# a comment line\n" * 70_000, "too large for a YAML file here"),
    ("a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{n}: &{n} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, n in zip("abcdefg", "bcdefgh")), "holds more than 100000 values"),
])
def test_a_bad_themes_file_is_a_one_line_error(
    text: str,
    problem: str,
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    themes = tmp_path / "mine.yaml"
    themes.write_text(text, encoding="utf-8")
    prepared = _prepare(write_client, tmp_path)
    with pytest.raises(ThemeMapError) as info:
        lint_script(prepared.spec, prepared.profile, prepared.script, prepared.timeline,
                    prepared.voice_profile.spoken_wpm, themes_file=themes)
    assert str(info.value).startswith(f"{themes}: {problem}")
    assert "\n" not in str(info.value)


# --- instructions --------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "kind", "expected"), [
    ("Notice five things you can see around you.", "grounding", "grounding"),
    ("Notice five things you can see around you.", "stabilisation", "grounding"),
    ("Notice the warmth in your chest.", "stabilisation", "imagery"),
    ("Notice the colour of the wall.", "grounding", "grounding"),
    ("Imagine a soft blanket around your shoulders.", "grounding", "imagery"),
    ("See yourself walking down the path.", "stabilisation", "imagery"),
    ("If you notice your mind wandering, that is fine.", "stabilisation", None),
    ("The path is soft underfoot.", "stabilisation", None),
])
def test_instruction_kind(text: str, kind: str, expected: str | None) -> None:
    assert instruction_kind(text, kind) == expected
