"""Profile help: a commented skeleton per template that validates once its blanks are filled."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from imr_audio.authoring.skeleton import profile_skeleton
from imr_audio.authoring.templates import TemplateSpec
from imr_audio.cli import cli
from imr_audio.errors import ClientProfileError
from imr_audio.script import ScriptChoices, prepare
from imr_audio.workspace import Workspace

SHIPPED = Workspace.from_environment().templates.ids()
BLANK = re.compile(r"^(?P<indent>\s*)(?P<dash>- )?(?P<key>[\w]+: )?''$")


def _inline(value: Any) -> str:
    if isinstance(value, str):
        value = " ".join(value.split())
    return yaml.safe_dump(value, default_flow_style=True, width=10**6).strip().removesuffix(
        "...").strip()


def _fill(text: str, spec: TemplateSpec) -> str:
    """Replace each blank of the skeleton, where it stands, with the template's example."""
    examples = {var.name: var.example for var in spec.variables}
    examples |= {"id": "c-017", "preferred_name": "Sam"}
    section, items, out = "", 0, []
    for line in text.splitlines():
        if re.match(r"^\w+:$", line):
            section = line[:-1]
        match = BLANK.match(line)
        if match is None:
            if re.match(r"^\s+\w+:$", line):  # a list follows
                leaf, items = line.strip()[:-1], 0
            out.append(line)
            continue
        if match["dash"]:
            value = examples[f"{section}.{leaf}"][items]
            items += 1
        else:
            key = match["key"][:-2]
            value = examples[key if not match["indent"] else f"{section}.{key}"]
        out.append(line[: -2] + _inline(value))
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("template", SHIPPED)
def test_a_filled_skeleton_validates_and_prepares(
    template: str, workspace: Workspace, tmp_path: Path
) -> None:
    spec = workspace.templates.load(template)
    text = profile_skeleton(spec)
    filled = tmp_path / "client.yaml"
    filled.write_text(_fill(text, spec), encoding="utf-8")
    profile = workspace.load_profile(filled, template)
    assert profile.id == "c-017"
    prepared = prepare(workspace, template, profile, ScriptChoices(voice_profile="neutral"))
    assert prepared.spec.id == template
    assert prepared.estimated_duration_s > 60


@pytest.mark.parametrize("template", SHIPPED)
def test_an_unfilled_skeleton_lists_every_blank_at_once(
    template: str, workspace: Workspace, tmp_path: Path
) -> None:
    spec = workspace.templates.load(template)
    blank = tmp_path / "client.yaml"
    blank.write_text(profile_skeleton(spec), encoding="utf-8")
    assert isinstance(yaml.safe_load(blank.read_text("utf-8")), dict)
    with pytest.raises(ClientProfileError) as info:
        workspace.load_profile(blank, template)
    first, *lines = str(info.value).splitlines()
    named = {line.split(": ")[1] for line in lines}
    required = {var.name for var in spec.variables if var.required}
    assert named == {"id", "preferred_name", *required}
    assert first == f"{blank}: {len(lines)} problems, one a line below:"


@pytest.mark.parametrize("template", ["safe-place", "container", "new-dream-rehearsal"])
def test_every_optional_line_of_a_skeleton_can_be_switched_on(
    template: str, workspace: Workspace, tmp_path: Path
) -> None:
    spec = workspace.templates.load(template)
    filled = _fill(profile_skeleton(spec), spec)
    optional = {var.name for var in spec.variables if not var.required}
    keys = "|".join([*(name.split(".")[1] for name in optional), "voice", "soundscape", "length",
                     "experienced_breathing"])
    switched = re.sub(rf"^(\s+)# (({keys}): )", r"\1\2", filled, flags=re.MULTILINE)
    path = tmp_path / "client.yaml"
    path.write_text(switched, encoding="utf-8")
    data = yaml.safe_load(switched)
    assert data["preferences"]["voice"] == "calm"
    for name in optional:
        section, leaf = name.split(".")
        assert leaf in data[section]
    if any(var.default in (None, "") for var in spec.variables if not var.required):
        with pytest.raises(ClientProfileError):  # an empty optional text is a blank to fill
            workspace.load_profile(path, template)
    else:
        workspace.load_profile(path, template)


def test_templates_show_skeleton_prints_it() -> None:
    result = CliRunner().invoke(cli, ["templates", "show", "container", "--skeleton"])
    assert result.exit_code == 0, result.output
    spec = Workspace.from_environment().templates.load("container")
    assert result.output == profile_skeleton(spec)
    assert "\nid: ''\n" in result.output and "\neligibility:\n" in result.output


def test_an_unknown_field_is_reported_with_every_other_problem(tmp_path: Path) -> None:
    client = tmp_path / "c.yaml"
    client.write_text("id: c-001\npreferred_name: Sam\nsafe_place:\n  plaec: a beach\n"
                      "  cue_word: ''\nfavourite_colour: blue\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["preview", "safe-place", "--client", str(client)])
    assert result.exit_code == 1
    first, *lines = result.output.strip().splitlines()
    fields = [line.split(": ")[1] for line in lines]
    assert first == f"Error: {client}: {len(lines)} problems, one a line below:"
    assert {"safe_place.plaec", "favourite_colour", "safe_place.cue_word",
            "safe_place.description", "safe_place.sights"} <= set(fields)
    assert "beach" not in result.output and "blue" not in result.output


def test_a_mistyped_template_id_gets_did_you_mean() -> None:
    result = CliRunner().invoke(cli, ["templates", "show", "safe-plcae"])
    assert result.exit_code == 1
    expected = "Error: unknown template 'safe-plcae'; did you mean 'safe-place'?"
    assert result.output.strip() == expected
