"""Client profiles: file errors, every problem reported at once, eligibility, and privacy."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from imr_audio.authoring import validate_profile
from imr_audio.errors import ClientProfileError
from imr_audio.profile import (
    ELIGIBILITY_FLAGS,
    ClientProfile,
    check_eligibility,
    load_client_profile,
)
from imr_audio.workspace import Workspace

PRIVATE = ("Robin", "Jane", "Smith", "wooden bench", "quiet garden", "tulips", "lavender")


def _errors(path: Path, **kwargs: Any) -> list[str]:
    """The lines of the ClientProfileError raised loading ``path``; none may quote a value."""
    with pytest.raises(ClientProfileError) as info:
        load_client_profile(path, **kwargs)
    return _checked_lines(str(info.value), path)


def _checked_lines(message: str, path: Path) -> list[str]:
    for private in PRIVATE:
        assert private not in message
    lines = message.splitlines()
    if len(lines) > 1:  # several: a first line says how many follow, then one a line
        first, *lines = lines
        assert first == f"{path}: {len(lines)} problems, one a line below:"
        assert all(line.startswith("  ") for line in lines)
        lines = [line.strip() for line in lines]
    for line in lines:
        assert re.fullmatch(rf"{re.escape(str(path))}: [\w.\[\]]+: \S.*", line), line
    return lines


@pytest.mark.parametrize("text", [
    "id: t-017\npreferred_name: Robin\n\tavoid: [heights]\n",  # tab indentation
    "id: t-017\nsafe_place:\n\tcue_word: garden\n",  # tab inside a mapping
    # Regression: an unclosed bracket was reported only where the parser noticed (line 4).
    "id: t-017\npreferred_name: Robin\navoid: [heights\neligibility: {}\n",
    "id: t-017\npreferred_name: Robin\navoid: [heights\n",  # ... at the end of the file
    'id: t-017\npreferred_name: Robin\nsafe_place: {cue_word: "garden\n',  # unclosed quote
])
def test_malformed_yaml_names_file_and_line(text: str, tmp_path: Path) -> None:
    path = tmp_path / "client.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ClientProfileError) as info:
        load_client_profile(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert re.search(r"\bline 3\b", message)
    assert "\n" not in message
    assert "Robin" not in message and "garden" not in message and "heights" not in message


def test_missing_file_names_file(tmp_path: Path) -> None:
    path = tmp_path / "nobody.yaml"
    with pytest.raises(ClientProfileError, match="file not found") as info:
        load_client_profile(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("text", ["- Robin\n- garden\n", "just a sentence about Robin\n", ""])
def test_top_level_must_be_a_mapping(text: str, tmp_path: Path) -> None:
    path = tmp_path / "client.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ClientProfileError, match="must be a mapping") as info:
        load_client_profile(path)
    assert str(info.value).startswith(f"{path}: ")
    assert "Robin" not in str(info.value)


def test_every_problem_reported_at_once(
    tmp_path: Path,
    client_data: Callable[..., dict[str, Any]], workspace: Workspace
) -> None:
    data = client_data(id="Jane Smith", eligibility={"psychosis": "yes"},
                       safe_plase={"cue_word": "garden"})
    del data["preferred_name"]
    data["safe_place"]["cue_wrd"] = data["safe_place"].pop("cue_word")
    path = tmp_path / "client.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    lines = _errors(path, known_fields=workspace.templates.known_fields())
    assert len(lines) == 5, lines
    fields = {line.split(": ")[1]: line for line in lines}
    assert set(fields) == {"id", "preferred_name", "safe_plase", "safe_place.cue_wrd",
                           "eligibility.psychosis"}
    assert "required" in fields["preferred_name"]
    assert "did you mean 'safe_place'" in fields["safe_plase"]
    assert "did you mean 'cue_word'" in fields["safe_place.cue_wrd"]
    assert "true or false" in fields["eligibility.psychosis"]


def test_unknown_fields_pass_without_known_fields(client_file: Path, workspace: Workspace) -> None:
    data = yaml.safe_load(client_file.read_text(encoding="utf-8"))
    data["safe_place"]["cue_wrd"] = "garden"
    client_file.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert load_client_profile(client_file).details["safe_place"]["cue_wrd"] == "garden"
    lines = _errors(client_file, known_fields=workspace.templates.known_fields())
    assert lines == [f"{client_file}: safe_place.cue_wrd: unknown field; did you mean 'cue_word'?"]


def test_a_value_any_template_would_refuse_is_refused_whichever_is_rendered(
    tmp_path: Path, write_client: Callable[..., Path], workspace: Workspace
) -> None:
    data = yaml.safe_load(write_client(tmp_path).read_text(encoding="utf-8"))
    data["safe_place"]["sights"] = {"first": "the old lighthouse"}  # a list, given as a mapping
    path = tmp_path / "odd.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    for template in (None, "grounding-54321"):  # grounding does not read sights
        with pytest.raises(ClientProfileError) as raised:
            workspace.load_profile(path, template)
        assert str(raised.value) == f"{path}: safe_place.sights: must be a list of short phrases"
    with pytest.raises(ClientProfileError, match=r"safe_place\.sights: must be a list"):
        workspace.profile(data, source="form")
    data["safe_place"]["sights"] = ["the old lighthouse"]  # fewer than safe-place's minimum:
    assert workspace.profile(data, "form", "grounding-54321").id == data["id"]  # its business
    with pytest.raises(ClientProfileError, match=r"safe_place\.sights: needs at least 2"):
        workspace.profile(data, "form", "safe-place")


def test_validate_profile_reports_every_problem(
    tmp_path: Path,
    client_data: Callable[..., dict[str, Any]],
    write_client: Callable[..., Path], workspace: Workspace
) -> None:
    place = dict(client_data()["safe_place"])
    del place["cue_word"]  # missing required field
    place["description"] = "You are sitting on a wooden bench in a quiet garden. " * 6  # > 300
    place["sights"] = ["a row of tulips"]  # at least 2 items
    place["sounds"] = "lavender"  # a list, not text
    path = write_client(tmp_path, safe_place=place)
    profile = load_client_profile(path, workspace.templates.known_fields())
    with pytest.raises(ClientProfileError) as info:
        validate_profile(workspace.templates.load("safe-place"), profile)
    lines = _checked_lines(str(info.value), path)
    fields = {line.split(": ")[1]: line for line in lines}
    assert len(lines) == 4, lines
    assert "required by template 'safe-place'" in fields["safe_place.cue_word"]
    assert "too long" in fields["safe_place.description"]
    assert "at least 2 items" in fields["safe_place.sights"]
    assert "must be a list" in fields["safe_place.sounds"]


@pytest.mark.parametrize("flag", ELIGIBILITY_FLAGS)
def test_eligibility_flag_blocks_home_track(
    flag: str,
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    eligibility = dict.fromkeys(ELIGIBILITY_FLAGS, False) | {flag: True}
    path = write_client(tmp_path, eligibility=eligibility)
    with pytest.raises(ClientProfileError) as info:
        check_eligibility(load_client_profile(path))
    message = str(info.value)
    assert message.startswith(f"{path}: eligibility.{flag} ")
    assert "session" in message
    assert "Robin" not in message


@pytest.mark.parametrize("eligibility", [dict.fromkeys(ELIGIBILITY_FLAGS, False), {}])
def test_eligible_profile_passes(
    eligibility: dict[str, bool],
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    check_eligibility(load_client_profile(write_client(tmp_path, eligibility=eligibility)))


@pytest.mark.parametrize("name", ["Zoë", "José", "Łukasz", "王芳"])
def test_unicode_preferred_name_loads(
    name: str,
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    assert load_client_profile(write_client(tmp_path, preferred_name=name)).preferred_name == name


@pytest.mark.parametrize("char", ["\u0000", "\u0007", "\u001b", "\u007f", "\u0085", "\u202e",
                                  "\u202a", "\u2066", "\u2069", "\u200f", "\u061c", "\u2028",
                                  "\ufeff"])
@pytest.mark.parametrize("where", ["preferred_name", "safe_place.cue_word",
                                   "safe_place.sights[1]", "avoid[0]"])
def test_control_and_direction_characters_are_refused_naming_the_field(
    char: str, where: str, tmp_path: Path
) -> None:
    data: dict[str, Any] = {"id": "t-017", "preferred_name": "Robin", "avoid": ["heights"],
                            "safe_place": {"cue_word": "garden",
                                           "sights": ["tulips", "lavender"]}}
    planted = f"Jane{char}Smith"
    if where == "preferred_name":
        data["preferred_name"] = planted
    elif where == "avoid[0]":
        data["avoid"] = [planted]
    elif where.endswith("]"):
        data["safe_place"]["sights"][1] = planted
    else:
        data["safe_place"]["cue_word"] = planted
    path = tmp_path / "client.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=False), encoding="utf-8")
    lines = _errors(path)
    assert lines == [f"{path}: {where}: holds a control or text-direction character "
                     f"(U+{ord(char):04X}); retype the value"]
    with pytest.raises(ClientProfileError) as info:  # a form's mapping, the same check
        ClientProfile.from_mapping(data, "form")
    assert str(info.value).startswith(f"form: {where}: holds a control")


@pytest.mark.parametrize("text", ["Zoë", "王芳", "Łukasz", "a\ttab", "two\nlines",
                                  "emoji 👩\u200d👧", "ZWNJ می\u200cخواهم"])
def test_ordinary_unicode_passes(text: str, tmp_path: Path) -> None:
    profile = ClientProfile.from_mapping({"id": "t-017", "preferred_name": "Robin",
                                          "safe_place": {"cue_word": text}}, "form")
    assert profile.details["safe_place"]["cue_word"] == text


def _alias_bomb(levels: int) -> str:
    text = "id: t-017\npreferred_name: Robin\nl0: &l0 [x, x, x, x, x, x, x, x, x, x]\n"
    for level in range(1, levels + 1):
        text += f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 10) + "]\n"
    return text + f"safe_place:\n  cue_word: *l{levels}\n"


@pytest.mark.parametrize(("text", "message"), [
    (_alias_bomb(9), "holds more than 100000 values once its aliases are expanded"),
    ("id: t-017\nx: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than 64 levels deep"),
    ("id: t-017\nx: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n", "nested more than 64 levels"),
    ("id: t-017\n" + "# a comment line\n" * 70_000, "too large for a YAML file here"),
])
def test_yaml_bounds_are_checked_before_anything_is_built(
    text: str, message: str, tmp_path: Path
) -> None:
    path = tmp_path / "client.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ClientProfileError) as info:
        load_client_profile(path)
    assert str(info.value) == f"{path}: {message}" or str(info.value).startswith(
        f"{path}: {message}")
    assert len(str(info.value).splitlines()) == 1


def test_a_few_anchors_and_aliases_still_read(tmp_path: Path) -> None:
    path = tmp_path / "client.yaml"
    path.write_text("id: t-017\npreferred_name: Robin\nsafe_place:\n  cue_word: &w garden\n"
                    "  sights: [*w, tulips]\n", encoding="utf-8")
    profile = load_client_profile(path)
    assert profile.details["safe_place"]["sights"] == ["garden", "tulips"]


def test_libyaml_and_pure_python_parsers_read_every_yaml_file_alike() -> None:
    # yamlfile reads with libyaml's parser where PyYAML has it, for speed; the values, YAML 1.2
    # booleans included, must be those of the pure-Python parser, whichever a machine has.
    from imr_audio import yamlfile

    class PurePython(yaml.SafeLoader):
        yaml_implicit_resolvers = yamlfile._Loader.yaml_implicit_resolvers

    root = Path(__file__).resolve().parents[1]
    files = [path for folder in ("examples", "scripts_templates", "voices", "src", "tests")
             for path in sorted((root / folder).rglob("*.yaml"))]
    assert len(files) > 30
    assert yaml.__with_libyaml__ and issubclass(yamlfile._Loader, yaml.CSafeLoader)
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert yaml.load(text, Loader=yamlfile._Loader) == yaml.load(text, Loader=PurePython), \
            path
    assert yamlfile.parse_yaml("a: on\nb: yes\nc: true\n", "x") == {"a": "on", "b": "yes",
                                                                     "c": True}


@pytest.mark.parametrize(("text", "named"), [
    ("jobs:\n  - client: a\n    templates: [x]\n    templates: [y]\n",
     "line 4: jobs (item 1).templates is given twice (first on line 3)"),
    ("- a: 1\n- b: 1\n  b: 2\n", "line 3: item 2.b is given twice"),
    ("pronunciations:\n  Zoë: zo\n  Zoë: zoe\n", "line 3: a key of pronunciations is given twice"),
])
def test_a_key_given_twice_is_named_by_its_place(text: str, named: str) -> None:
    from imr_audio.yamlfile import parse_yaml

    with pytest.raises(ClientProfileError) as info:
        parse_yaml(text, "f.yaml")
    assert str(info.value).startswith(f"f.yaml: {named}")
    assert "Zoë" not in str(info.value)  # a pronunciation's key is the client's word
