"""Script templates: the safety wrapper, literal client values, helpers and template errors."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from imr_audio.authoring import (
    TemplateLibrary,
    escape_markup,
    load_template,
    validate_profile,
)
from imr_audio.errors import (
    ClientProfileError,
    TemplateBudgetError,
    TemplateNotFoundError,
    TemplateSchemaError,
    TemplateSecurityError,
    TemplateVariableError,
)
from imr_audio.markup import parse_script
from imr_audio.profile import ClientProfile, load_client_profile
from imr_audio.resources import data_dir
from imr_audio.script import prepare
from imr_audio.timeline import Pause, SectionStart, Timeline
from imr_audio.workspace import Workspace

EXTRA = {"track_title": "Calm garden", "track_length": "10 minutes"}
OPENING = ("stop at any time", "never while driving", "You can close your eyes")
CLOSING = ("feel your feet on the floor", "open your eyes, and look around the room")
WORDS = re.compile(r"[^\W_]+")  # letters and digits, as the timeline counts words


SHIPPED = data_dir("scripts_templates")
SHIPPED_TEMPLATES = TemplateLibrary((SHIPPED,))


def _library(templates_dir: Path | None = None) -> TemplateLibrary:
    """The templates of ``templates_dir`` (if given) before the shipped ones."""
    return TemplateLibrary((templates_dir, SHIPPED) if templates_dir else (SHIPPED,))


def _render(template_id: str, profile: ClientProfile, templates_dir: Path | None = None,
            extra: dict[str, Any] | None = None) -> Timeline:
    library = _library(templates_dir)
    script = library.fill(library.load(template_id), profile, EXTRA | (extra or {}))
    return parse_script(script.text)


def _section_text(timeline: Timeline, section: str) -> str:
    return " ".join(s.text for s in timeline.speech if s.section == section)


def _template(folder: Path, name: str, body: str, schema: str | None = None) -> None:
    (folder / f"{name}.j2").write_text(body, encoding="utf-8")
    schema = schema or f"title: {name}\nduration_s: [60, 240]\nvariables: {{}}\n"
    (folder / f"{name}.yaml").write_text(schema, encoding="utf-8")


EXAMPLES = sorted(data_dir("examples/clients").glob("*.yaml"))


def _example_for(template_id: str) -> ClientProfile:
    """The first shipped example client that holds every field the template requires."""
    spec = SHIPPED_TEMPLATES.load(template_id)
    known = SHIPPED_TEMPLATES.known_fields()
    for path in EXAMPLES:
        profile = load_client_profile(path, known)
        try:
            validate_profile(spec, profile)
        except ClientProfileError:
            continue
        return profile
    raise AssertionError(f"no example client renders {template_id}")


@pytest.mark.parametrize("template_id", SHIPPED_TEMPLATES.ids())
def test_shipped_template_renders_an_example_client_inside_wrapper(template_id: str) -> None:
    # The examples between them render every shipped template.
    profile = _example_for(template_id)
    timeline = _render(template_id, profile)
    opening = _section_text(timeline, "Opening")
    closing = _section_text(timeline, "Returning")
    for line in OPENING:
        assert line in opening
    for line in CLOSING:
        assert line in closing
    assert f"Hello, {profile.preferred_name}." in opening
    assert timeline.sections[0].title == "Opening"
    assert timeline.sections[-1].title == "Returning"
    body = [s.title for s in timeline.sections[1:-1]]
    assert body == list(SHIPPED_TEMPLATES.load(template_id).sections), "declared sections differ"


@pytest.mark.parametrize("template_id", SHIPPED_TEMPLATES.ids())
def test_shipped_template_is_lint_clean_with_its_example(template_id: str,
                                                         workspace: Workspace) -> None:
    profile = _example_for(template_id)
    prepared = prepare(workspace, template_id, profile)
    assert list(prepared.findings) == []
    assert prepared.spec.duration_min_s <= prepared.estimated_duration_s
    assert prepared.estimated_duration_s <= prepared.spec.duration_max_s


@pytest.mark.parametrize("cue_word", [
    "[pause 300]",
    '<break time="9s"/>',
    "a\\b]",
    "a\\\\b]",
    "\\[pause 2s\\]",
    "end\\",
])
def test_markup_in_client_value_is_spoken_literally(
    cue_word: str,
    tmp_path: Path,
    client_data: Callable[..., dict[str, Any]],
    write_client: Callable[..., Path],
) -> None:
    place = {**client_data()["safe_place"], "cue_word": cue_word}
    profile = load_client_profile(write_client(tmp_path, "odd.yaml", safe_place=place))
    plain = load_client_profile(write_client(tmp_path, "plain.yaml"))  # cue word "garden"
    timeline, baseline = _render("safe-place", profile), _render("safe-place", plain)

    def timing(t: Timeline) -> list[Pause | SectionStart]:
        return [e for e in t.events if isinstance(e, (Pause, SectionStart))]

    assert timing(timeline) == timing(baseline)
    assert f"Your cue word is {cue_word}." in [s.text for s in timeline.speech]


@given(st.text().filter(lambda text: any(c.isalpha() for c in text)))
@example("Rest [pause 3s] here [section X]")
@example("Rest \\[pause 3s] here\\")
def test_escaped_text_keeps_every_word_and_no_markup(text: str) -> None:
    timeline = parse_script(escape_markup(text))
    spoken = " ".join(s.text for s in timeline.speech)
    assert WORDS.findall(spoken) == WORDS.findall(text)
    assert not timeline.sections
    assert all(e.kind != "explicit" for e in timeline.events if isinstance(e, Pause))


_NO_SPACE = st.text().map(lambda t: "".join(t.split()))
_CHUNK = st.tuples(_NO_SPACE, st.characters(categories=("L", "N")), _NO_SPACE).map("".join)
_SPACE = st.sampled_from([" ", "  ", "\t", "\n", "\n\n", "\u2028", "\xa0"])


@given(st.lists(st.tuples(_CHUNK, _SPACE), min_size=1).map(
    lambda pairs: "".join(chunk + space for chunk, space in pairs)))
# Regression: closing quotes and brackets after a sentence end were dropped from Speech text.
@example('She said "rest." Then (slowly.) on.')
@example('0?"')
def test_escaped_text_round_trips_exactly(text: str) -> None:
    timeline = parse_script(escape_markup(text))
    assert " ".join(s.text for s in timeline.speech) == " ".join(text.split())


@pytest.mark.parametrize("seconds", [5, 1.5, 0.25])
def test_helpers_emit_real_markup_and_strings_do_not(
    seconds: float,
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    _template(tmp_path, "helpers", (
        '{% extends "_base.j2" %}\n{% block body %}\n{{ section("X") }}\n'
        f'Before the pause.{{{{ pause({seconds}) }}}} After the pause.\n'
        'Not a pause: {{ "[pause 9s]" }}.\n{% endblock %}\n'))
    profile = load_client_profile(write_client(tmp_path))
    events = list(_render("helpers", profile, tmp_path).events)
    before = next(i for i, e in enumerate(events) if getattr(e, "text", "") == "Before the pause.")
    section, pause = events[before - 1], events[before + 1]
    assert isinstance(section, SectionStart) and section.title == "X"
    assert isinstance(pause, Pause) and (pause.duration_s, pause.kind) == (seconds, "explicit")
    assert getattr(events[before + 2], "text", "") == "After the pause."
    assert getattr(events[before + 2], "section", "") == "X"
    assert "Not a pause: [pause 9s]." in [getattr(e, "text", "") for e in events]
    assert not [e for e in events if isinstance(e, Pause) and e.duration_s == 9]


@pytest.mark.parametrize("cue_word", ["garden", None])
def test_undeclared_variable_names_template_and_variable(
    cue_word: str | None,
    tmp_path: Path,
    test_templates: Path,
    client_data: Callable[..., dict[str, Any]],
    write_client: Callable[..., Path],
) -> None:
    # Regression: the template saw the whole profile, so a field its schema does not declare
    # was used unvalidated whenever the profile happened to hold it.
    place = {k: v for k, v in client_data()["safe_place"].items() if k != "cue_word"}
    if cue_word:
        place["cue_word"] = cue_word
    profile = load_client_profile(write_client(tmp_path, safe_place=place))
    with pytest.raises(TemplateVariableError) as info:
        _render("undeclared", profile, test_templates)
    message = str(info.value)
    assert "'undeclared'" in message
    assert "'safe_place.cue_word'" in message
    assert "garden" not in message


@pytest.mark.parametrize("attack", [
    None,  # the `leaky` test template
    "{{ preferred_name.__class__ }}",
    "{{ pause.__globals__ }}",
    '{{ "{0.__class__}".format(preferred_name) }}',
    "{{ cycler.__init__.__globals__ }}",
])
def test_sandbox_blocks_python_internals(attack: str | None, client_file: Path,
                                         tmp_path: Path, test_templates: Path) -> None:
    folder = test_templates
    if attack:
        folder = tmp_path / "templates"
        folder.mkdir()
        _template(folder, "leaky", f'{{% extends "_base.j2" %}}{{% block body %}}{attack}'
                  "{% endblock %}")
    profile = load_client_profile(client_file)
    with pytest.raises(TemplateSecurityError) as info:
        _render("leaky", profile, folder)
    message = str(info.value)
    assert "'leaky'" in message
    assert "\n" not in message
    assert "Traceback" not in message
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert profile.preferred_name not in message
    assert "garden" not in message


@pytest.mark.parametrize("extends", ["_base.j2", "./_base.j2"])
def test_therapist_folder_cannot_replace_safety_wrapper(
    extends: str,
    client_file: Path,
    tmp_path: Path,
    test_templates: Path,
) -> None:
    # Regression: "./_base.j2" names the same file but slipped past the shipped-only check.
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "_base.j2").write_text((test_templates / "_base.j2").read_text(encoding="utf-8"),
                                     encoding="utf-8")
    mini = (test_templates / "mini.j2").read_text(encoding="utf-8")
    _template(folder, "mini", mini.replace('"_base.j2"', f'"{extends}"'),
              (test_templates / "mini.yaml").read_text(encoding="utf-8"))
    timeline = _render("mini", load_client_profile(client_file), folder)
    for line in OPENING:
        assert line in _section_text(timeline, "Opening")
    for line in CLOSING:
        assert line in _section_text(timeline, "Returning")


def test_shipped_wrapper_used_with_test_templates_folder(
    client_file: Path,
    test_templates: Path,
) -> None:
    timeline = _render("mini", load_client_profile(client_file), test_templates)
    assert "Hello, Robin." in _section_text(timeline, "Opening")
    for line in OPENING:
        assert line in _section_text(timeline, "Opening")


@pytest.mark.parametrize("own", [False, True])
def test_unknown_template_lists_valid_names(own: bool, test_templates: Path) -> None:
    with pytest.raises(TemplateNotFoundError) as info:
        _library(test_templates if own else None).load("relaxation")
    message = str(info.value)
    assert message.startswith("unknown template 'relaxation'; choose one of: ")
    assert "safe-place" in message and "container" in message
    assert ("mini" in message) == own


@pytest.mark.parametrize("typed", ["safe-plaice", "safe_place", "Container", "grounding-5432"])
def test_a_mistyped_template_gets_did_you_mean(typed: str) -> None:
    with pytest.raises(TemplateNotFoundError) as info:
        _library(None).load(typed)
    meant = {"safe-plaice": "safe-place", "safe_place": "safe-place", "Container": "container",
             "grounding-5432": "grounding-54321"}[typed]
    assert str(info.value) == f"unknown template '{typed}'; did you mean '{meant}'?"


@pytest.mark.parametrize(("body", "message"), [
    ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
     "filling it took longer than 5 s (a loop that runs too long?)"),
    ('{{ "x" * 1000000000 }}', "filling it makes more than 1000000 characters of text"),
    ('{{ "x".ljust(1000000000) }}', "filling it makes more than 1000000 characters of text"),
    ('{{ "x"|center(1000000000) }}', "filling it makes more than 1000000 characters of text"),
    ("{{ 10 ** 100000000 }}", "filling it makes more than 1000000 characters of text"),
    ('{% for i in range(100000) %}{{ "y" * 100 }}{% endfor %}',
     "filling it makes more than 1000000 characters of text"),
])
def test_a_runaway_template_stops_within_its_budget(
    body: str, message: str, client_file: Path, tmp_path: Path
) -> None:
    _template(tmp_path, "runaway", '{% extends "_base.j2" %}\n{% block body %}\n'
              f"Fine line.\n{body}\n{{% endblock %}}\n")
    with pytest.raises(TemplateBudgetError) as info:
        _render("runaway", load_client_profile(client_file), tmp_path)
    assert str(info.value).startswith(f"template 'runaway': {message}")


def test_a_recursive_macro_is_one_line(client_file: Path, tmp_path: Path) -> None:
    _template(tmp_path, "recursive", '{% extends "_base.j2" %}\n{% block body %}\n'
              "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}\n{% endblock %}\n")
    with pytest.raises(TemplateSchemaError) as info:
        _render("recursive", load_client_profile(client_file), tmp_path)
    assert str(info.value) == ("template 'recursive': the template failed while being filled "
                               "(RecursionError)")


def test_jinja_syntax_error_names_file_and_line(client_file: Path, tmp_path: Path) -> None:
    _template(tmp_path, "broken", '{% extends "_base.j2" %}\n{% block body %}\n'
              "Fine line.\n{% if %}\n{% endif %}\n{% endblock %}\n")
    with pytest.raises(TemplateSchemaError) as info:
        _render("broken", load_client_profile(client_file), tmp_path)
    message = str(info.value)
    assert str(tmp_path / "broken.j2") in message
    assert "line 4" in message


@pytest.mark.parametrize(("schema", "field"), [
    ("duration_s: [60, 240]\n", "title"),
    ("title: T\n", "duration_s"),
    ("title: T\nduration_s: ten minutes\n", "duration_s"),
    ("title: T\nduration_s: [60]\n", "duration_s"),
    ("title: T\nduration_s: 600\n", "duration_s"),
    ("title: T\nduration_s: [60, 240]\nvariables: {a.b: {type: colour}}\n", "variables.a.b.type"),
    ("title: T\nduration_s: [60, 240]\nvariables: {a.b: text}\n", "variables.a.b"),
    # Regression: a non-integer version was blamed on duration_s.
    ("title: T\nduration_s: [60, 240]\nversion: two\n", "version"),
    # Regression: variables given as a list crashed with AttributeError instead of this error.
    ("title: T\nduration_s: [60, 240]\nvariables: [a.b]\n", "variables"),
])
def test_bad_template_schema_names_file_and_field(schema: str, field: str,
                                                  tmp_path: Path) -> None:
    _template(tmp_path, "bad", "{{ preferred_name }}\n", schema)
    with pytest.raises(TemplateSchemaError) as info:
        load_template("bad", (tmp_path,))
    assert str(info.value).startswith(f"{tmp_path / 'bad.yaml'}: {field}: ")


def test_template_without_the_wrapper_is_refused(
    client_file: Path,
    tmp_path: Path,
    test_templates: Path,
) -> None:
    # A therapist's template that does not extend _base.j2 would have no opening or closing.
    _template(tmp_path, "bare", "Just some words. [pause 5s]\n",
              (test_templates / "mini.yaml").read_text(encoding="utf-8"))
    with pytest.raises(TemplateSchemaError, match=r"_base\.j2"):
        _render("bare", load_client_profile(client_file), tmp_path)


def test_python_error_in_template_reports_kind_not_value(
    client_file: Path,
    tmp_path: Path,
    test_templates: Path,
) -> None:
    body = ('{% extends "_base.j2" %}{% block body %}'
            "{{ safe_place.description + 1 }}{% endblock %}")
    _template(tmp_path, "broken", body, (test_templates / "mini.yaml").read_text(encoding="utf-8"))
    with pytest.raises(TemplateSchemaError) as info:
        _render("broken", load_client_profile(client_file), tmp_path)
    assert "TypeError" in str(info.value)
    assert "garden" not in str(info.value)


def test_sandbox_is_immutable(client_file: Path, tmp_path: Path, test_templates: Path) -> None:
    body = ('{% extends "_base.j2" %}{% block body %}'
            "{{ safe_place.cue_word }}{% set _ = safe_place.update({'x': 1}) %}{% endblock %}")
    _template(tmp_path, "mutate", body, (test_templates / "mini.yaml").read_text(encoding="utf-8"))
    with pytest.raises(TemplateSecurityError):
        _render("mutate", load_client_profile(client_file), tmp_path)
