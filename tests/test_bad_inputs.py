"""The project's own corpus of bad inputs, each run through the real command line.

Every case asserts: the exit code (1 for a bad input, 2 for a bad option); a message of at most
three lines that names the file, field, template line or folder at fault; no traceback; nothing
left in the output folder or the temporary folder; nothing made earlier changed; and the
planted client value (a name no other text holds) in no output. Cases are data: a builder
writes the files a case needs into its folder and returns the command's arguments.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml
from click.testing import CliRunner

from imr_audio.audio import Clip
from imr_audio.cli import cli
from imr_audio.workspace import Workspace

PLANTED = "Zephyrine"
"""A client value that must never appear in a message."""
SAFE = {"description": "You rest in a small quiet garden under an old apple tree, calm and warm.",
        "cue_word": "garden"}


@dataclass(frozen=True)
class Case:
    """One bad input: how to make it, and what the command must say."""

    id: str
    build: Callable[[Path], list[str]]
    """Writes the case's files into the folder; returns the command's arguments."""
    needles: tuple[str, ...]
    """Text the message must hold (``{d}`` stands for the case's folder)."""
    exit_code: int = 1


def _client(folder: Path, name: str = "client.yaml", **fields: object) -> Path:
    data: dict[str, object] = {"id": "t-017", "preferred_name": PLANTED,
                               "safe_place": dict(SAFE)}
    for key, value in fields.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    path = folder / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _raw(folder: Path, text: str | bytes, name: str = "client.yaml") -> Path:
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _folder(path: Path) -> Path:
    path.mkdir()
    return path


TEMPLATES = Path(__file__).parent / "data" / "templates"


def _render(client: Path, *more: str, template: str = "mini") -> list[str]:
    return ["render", template, "--client", str(client), "--templates-dir", str(TEMPLATES),
            "--format", "wav", "-o", str(client.parent / "out"), *more]


def _own_template(folder: Path, body: str, schema: str | None = None) -> Path:
    own = folder / "own"
    own.mkdir(exist_ok=True)
    (own / "probe.j2").write_text(body, encoding="utf-8")
    (own / "probe.yaml").write_text(
        schema or "title: Probe\nduration_s: [60, 240]\nvariables:\n"
                  "  safe_place.cue_word: {type: text, description: the word}\n",
        encoding="utf-8")
    return own


def _with_template(body: str, schema: str | None = None) -> Callable[[Path], list[str]]:
    def build(folder: Path) -> list[str]:
        own = _own_template(folder, body, schema)
        # The planted value is the one the template reads: an error that quotes it shows.
        client = _client(folder, safe_place={**SAFE, "cue_word": PLANTED})
        return ["render", "probe", "--client", str(client), "--templates-dir", str(own),
                "-o", str(folder / "out")]
    return build


WRAP = '{% extends "_base.j2" %}\n{% block body %}\n[section Resting]\n'


def _manifest(text: str, name: str = "library.yaml") -> Callable[[Path], list[str]]:
    def build(folder: Path) -> list[str]:
        _client(folder)
        (folder / name).write_text(text, encoding="utf-8")
        return ["batch", str(folder / name), "-o", str(folder / "out")]
    return build


def _wav(folder: Path, seconds: float, name: str = "bed.wav", silent: bool = False) -> Path:
    rate = 8000
    t = np.arange(int(seconds * rate)) / rate
    audio = np.zeros_like(t) if silent else 0.1 * np.sin(2 * np.pi * 200 * t)
    sf.write(folder / name, audio.astype(np.float32), rate, subtype="PCM_16")
    return folder / name


def _bed(make: Callable[[Path], Path]) -> Callable[[Path], list[str]]:
    def build(folder: Path) -> list[str]:
        return _render(_client(folder), "--soundscape", str(make(folder)))
    return build


def _pack_other_clients_track(folder: Path) -> list[str]:
    client = _client(folder)
    track = folder / "t-0170_mini.mp3"  # another client whose id starts the same
    track.write_bytes(b"ID3" + bytes(200))
    (folder / "t-0170_mini.mp3.vtt").write_text("WEBVTT\n", encoding="utf-8")
    return ["pack", str(track), "--client", str(client), "-o", str(folder / "out")]


def _pack_unproven_track(folder: Path) -> list[str]:
    client = _client(folder)
    track = folder / "t-017_mini.wav"
    sf.write(track, np.zeros(8000, np.float32), 8000)
    (folder / "t-017_mini.wav.vtt").write_text("WEBVTT\n", encoding="utf-8")
    return ["pack", str(track), "--client", str(client), "-o", str(folder / "out")]


def _purge_without_yes(folder: Path) -> list[str]:
    cache = Workspace.from_environment().speech_cache  # this test's own cache folder
    cache.put("a" * 64, Clip(np.zeros(800, np.float32), 8000), owner="t-017")
    return ["purge", "--client", "t-017"]


CASES = [
    # --- client profiles ---------------------------------------------------------------------
    Case("profile-missing", lambda d: _render(d / "nope.yaml"), ("nope.yaml: file not found",)),
    Case("profile-is-a-folder", lambda d: _render(_folder(d / "c.yaml")),
         ("c.yaml",), 2),
    Case("profile-empty", lambda d: _render(_raw(d, "")), ("client.yaml", "mapping")),
    Case("profile-a-list", lambda d: _render(_raw(d, "- id: t-017\n")),
         ("client.yaml", "mapping")),
    Case("profile-tab-indent", lambda d: _render(_raw(d, f"id: t-017\npreferred_name: {PLANTED}"
                                                        "\n\tavoid: [x]\n")),
         ("client.yaml", "line 3")),
    Case("profile-unclosed-quote", lambda d: _render(_raw(d, 'id: t-017\npreferred_name: "'
                                                            f'{PLANTED}\n')),
         ("client.yaml", "line")),
    Case("profile-not-utf8", lambda d: _render(_raw(d, b"id: t-017\npreferred_name: \xff\xfe\n")),
         ("client.yaml", "cannot read")),
    Case("profile-no-id", lambda d: _render(_client(d, id=None)), ("client.yaml", "id: required")),
    Case("profile-name-as-id", lambda d: _render(_client(d, id=f"{PLANTED} Smith")),
         ("client.yaml", "id: must be a pseudonymous id")),
    Case("profile-no-name", lambda d: _render(_client(d, preferred_name=None)),
         ("preferred_name: required",)),
    Case("profile-name-too-long", lambda d: _render(_client(d, preferred_name=PLANTED * 8)),
         ("preferred_name: must be text of 1-60 characters",)),
    Case("profile-avoid-not-list", lambda d: _render(_client(d, avoid=PLANTED)),
         ("avoid: must be a list",)),
    Case("profile-eligibility-set", lambda d: _render(_client(d, eligibility={"psychosis": True})),
         ("eligibility.psychosis is set",)),
    Case("profile-eligibility-unknown", lambda d: _render(_client(d, eligibility={"psychos": 1})),
         ("eligibility.psychos: unknown flag", "did you mean 'psychosis'")),
    Case("profile-eligibility-not-bool",
         lambda d: _render(_client(d, eligibility={"acute_crisis": "yes"})),
         ("eligibility.acute_crisis: must be true or false",)),
    Case("profile-preference-unknown", lambda d: _render(_client(d, preferences={"voise": "x"})),
         ("preferences.voise: unknown field", "did you mean 'voice'")),
    Case("profile-length-bare-number", lambda d: _render(_client(d, preferences={"length": 10})),
         ("preferences.length: must be a length in quotes",)),
    Case("profile-unknown-field", lambda d: _render(_client(d, favourite=PLANTED)),
         ("favourite: unknown field",)),
    Case("profile-unknown-section-field",
         lambda d: _render(_client(d, safe_place={**SAFE, "cue_wrd": PLANTED})),
         ("safe_place.cue_wrd: unknown field", "did you mean 'cue_word'")),
    Case("profile-required-missing",
         lambda d: _render(_client(d, safe_place={"description": SAFE["description"]})),
         ("safe_place.cue_word: required by template 'mini'",)),
    Case("profile-value-too-long",
         lambda d: _render(_client(d, safe_place={**SAFE, "cue_word": PLANTED * 5})),
         ("safe_place.cue_word: too long",)),
    Case("profile-nul", lambda d: _render(_client(d, preferred_name=f"{PLANTED}\x00")),
         ("preferred_name: holds a control or text-direction character (U+0000)",)),
    Case("profile-bidi-override",
         lambda d: _render(_client(d, safe_place={**SAFE, "cue_word": f"\u202e{PLANTED}"})),
         ("safe_place.cue_word: holds a control or text-direction character (U+202E)",)),
    Case("profile-alias-bomb", lambda d: _render(_raw(d, "id: t-017\na: &a [x,x,x,x,x,x,x,x,x,x]\n"
        + "".join(f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n"
                  for p, c in zip("abcdefgh", "bcdefghi")) + "z: *i\n")),
         ("client.yaml", "aliases are expanded")),
    Case("profile-deep-nesting", lambda d: _render(_raw(d, "id: t-017\nx: " + "[" * 3000
                                                        + "]" * 3000 + "\n")),
         ("client.yaml", "nested more than 64 levels")),
    Case("profile-huge", lambda d: _render(_raw(d, "id: t-017\n" + "# x\n" * 300_000)),
         ("client.yaml", "too large")),
    Case("profile-pronunciation-bad",
         lambda d: _render(_client(d, pronunciations={PLANTED: ""})),
         ("pronunciations (entry 1)",)),
    Case("lint-symbols-in-name", lambda d: _render(_client(d, preferred_name=f"<{PLANTED}>")),
         ("symbols", "preferred_name")),
    Case("lint-avoid-list-hit", lambda d: _render(_client(d, avoid=["garden"])),
         ("did not pass the clinical lint", "avoid-list entry 1")),
    Case("lint-trauma-word",
         lambda d: _render(_client(d, safe_place={
             **SAFE, "description": "You rest by the weir where my brother drowned."})),
         ("trauma-narrative", "safe_place.description")),
    Case("lint-phone-number",
         lambda d: _render(_client(d, safe_place={**SAFE, "description":
                                                  "You rest in the garden. Ring 07700 900123."})),
         ("identifiers", "phone number")),
    # --- templates ---------------------------------------------------------------------------
    Case("template-unknown", lambda d: _render(_client(d), template="relaxation"),
         ("unknown template 'relaxation'; choose one of",)),
    Case("template-mistyped", lambda d: _render(_client(d), template="minni"),
         ("unknown template 'minni'; did you mean 'mini'",)),
    Case("template-syntax-error", _with_template(WRAP + "{% if %}\n{% endblock %}\n"),
         ("probe.j2", "line 4", "syntax error")),
    Case("template-no-wrapper", _with_template("Hello.\n"), ("probe.j2", "_base.j2")),
    Case("template-undefined-variable",
         _with_template(WRAP + "{{ safe_place.colour }}\n{% endblock %}\n"),
         ("template 'probe'", "safe_place.colour")),
    Case("template-missing-include",
         _with_template(WRAP + '{% include "nope.j2" %}\n{% endblock %}\n'),
         ("template 'probe'", "nope.j2")),
    Case("template-internals",
         _with_template(WRAP + "{{ ''.__class__.__mro__ }}\n{% endblock %}\n"),
         ("template 'probe'", "Python internals")),
    Case("template-runaway-loop",
         _with_template(WRAP + "{% for i in range(100000) %}{% for j in range(100000) %}"
                        "{% endfor %}{% endfor %}\n{% endblock %}\n"),
         ("template 'probe'", "longer than 5 s")),
    Case("template-huge-text", _with_template(WRAP + '{{ "x" * 10**9 }}\n{% endblock %}\n'),
         ("template 'probe'", "characters of text")),
    Case("template-value-in-lookup",
         _with_template(WRAP + "{{ {'a': 1}[safe_place.cue_word] }}\n{% endblock %}\n"),
         ("template 'probe'",)),
    Case("template-include-from-value",
         _with_template(WRAP + "{% include safe_place.cue_word %}\n{% endblock %}\n"),
         ("template 'probe'",)),
    Case("template-attribute-from-value",
         _with_template(WRAP + "{{ safe_place.cue_word.nothing.more }}\n{% endblock %}\n"),
         ("template 'probe'",)),
    Case("template-three-hours",
         _with_template(WRAP + "{% for i in range(40) %}Rest. [pause 300s]\n{% endfor %}\n"
                        "{% endblock %}\n"),
         ("template 'probe'", "longer than any track may (3:00:00)")),
    Case("template-schema-not-mapping", _with_template(WRAP + "{% endblock %}\n", "- x\n"),
         ("probe.yaml", "mapping")),
    Case("template-schema-bad-type",
         _with_template(WRAP + "{% endblock %}\n", "title: P\nduration_s: [60, 240]\nvariables:\n"
                        "  safe_place.cue_word: {type: colour}\n"),
         ("probe.yaml", "variables.safe_place.cue_word.type")),
    # --- manifests ---------------------------------------------------------------------------
    Case("manifest-missing", lambda d: ["batch", str(d / "nope.yaml")],
         ("nope.yaml: file not found",)),
    Case("manifest-malformed", _manifest("jobs: [\n"), ("library.yaml", "line")),
    Case("manifest-no-jobs", _manifest("defaults: {}\n"), ("library.yaml", "jobs")),
    Case("manifest-unknown-template",
         _manifest("jobs:\n  - client: client.yaml\n    templates: [safe-plaice]\n"),
         ("library.yaml", "unknown template 'safe-plaice'")),
    Case("manifest-missing-client",
         _manifest("jobs:\n  - client: nobody.yaml\n    templates: [safe-place]\n"),
         ("library.yaml", "nobody.yaml")),
    Case("manifest-unknown-field",
         _manifest("jobs:\n  - client: client.yaml\n    templates: [safe-place]\n    colour: x\n"),
         ("library.yaml", "colour")),
    Case("manifest-bad-length",
         _manifest("jobs:\n  - client: client.yaml\n    templates: [safe-place]\n"
                   "    lengths: [ten minutes]\n"), ("library.yaml", "length")),
    Case("manifest-csv-bad-column", _manifest("client,templatez\nclient.yaml,safe-place\n",
                                              "library.csv"), ("library.csv", "templatez")),
    # --- audio files -------------------------------------------------------------------------
    Case("bed-missing", lambda d: _render(_client(d), "--soundscape", str(d / "nope.wav")),
         ("nope.wav",)),
    Case("bed-not-audio", _bed(lambda d: _raw(d, "not audio at all\n" * 50, "bed.wav")),
         ("bed.wav", "not a readable audio file")),
    Case("bed-damaged-mp3", _bed(lambda d: _raw(d, b"ID3\x03\x00\x00\x00\x00\x00\x00"
                                                   + bytes(range(256)) * 200, "bed.mp3")),
         ("bed.mp3", "not a readable audio file")),
    Case("bed-silent", _bed(lambda d: _wav(d, 30, silent=True)), ("bed.wav", "no audio")),
    Case("bed-too-long", _bed(lambda d: _wav(d, 11 * 60)), ("bed.wav", "longer than 10 minutes")),
    Case("bed-unknown-name", lambda d: _render(_client(d), "--soundscape", "rainforest"),
         ("rainforest",)),
    # --- command-line options ----------------------------------------------------------------
    Case("option-seed-negative", lambda d: _render(_client(d), "--seed", "-1"), ("--seed",), 2),
    Case("option-length-bare", lambda d: _render(_client(d), "--length", "10"), ("--length",), 2),
    Case("option-length-too-long", lambda d: _render(_client(d), "--length", "4:00:00"),
         ("--length",), 2),
    Case("option-bitrate", lambda d: _render(_client(d), "--bitrate", "5000"), ("--bitrate",), 2),
    Case("option-format", lambda d: [*_render(_client(d)), "--format", "xyz"], ("--format",), 2),
    Case("option-sample-rate", lambda d: _render(_client(d), "--sample-rate", "12345"),
         ("--sample-rate",), 2),
    Case("option-target-lufs", lambda d: _render(_client(d), "--target-lufs", "0"),
         ("--target-lufs",), 2),
    Case("option-jobs-zero", lambda d: ["batch", str(_raw(d, "jobs: []\n", "m.yaml")), "--jobs",
                                        "0"], ("--jobs",), 2),
    Case("option-unknown-voice", lambda d: _render(_client(d), "--voice", "robot"), ("robot",)),
    Case("option-output-through-file",
         lambda d: _render(_client(d), "-o", str(_raw(d, "x", "afile") / "sub")),
         ("afile", "is a file, not a folder")),
    # --- pack and purge ----------------------------------------------------------------------
    Case("pack-missing-track", lambda d: ["pack", str(d / "t-017_mini.mp3"), "--client",
                                          str(_client(d)), "-o", str(d / "out")],
         ("t-017_mini.mp3: file not found",)),
    Case("pack-other-clients-track", _pack_other_clients_track, ("t-0170_mini.mp3",)),
    Case("pack-unproven-track", _pack_unproven_track, ("t-017_mini.wav",)),
    Case("purge-name-as-id", lambda d: ["purge", "--client", f"{PLANTED} Smith"],
         ("not a pseudonymous client id",)),
    Case("purge-missing-folder", lambda d: ["purge", "--client", "t-017", "--outputs",
                                            str(d / "nope")], ("nope",), 2),
    Case("purge-without-yes", _purge_without_yes, ("would remove 1 cached clip(s)", "--yes")),
]


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 60
    assert len({case.id for case in CASES}) == len(CASES)


def _snapshot(folder: Path) -> dict[str, tuple[int, bytes | None]]:
    return {str(p.relative_to(folder)): (p.lstat().st_mode, p.read_bytes() if p.is_file() else None)
            for p in sorted(folder.rglob("*"))}


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    temp = tmp_path / "system-temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.setenv("TMPDIR", str(temp))
    yield temp


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_a_bad_input_gets_a_short_clear_error_and_changes_nothing(
    case: Case, tmp_path: Path, private_tmp: Path
) -> None:
    folder = tmp_path / "case"
    folder.mkdir()
    args = case.build(folder)
    before = _snapshot(folder)
    result = CliRunner().invoke(cli, args)
    output = result.output
    assert result.exit_code == case.exit_code, output
    assert "Traceback" not in output and not isinstance(result.exception, AssertionError)
    message = [line for line in output.splitlines()
               if line.strip() and not line.startswith(("synthesis ", "soundscape "))]
    assert message, output
    if case.exit_code == 1:
        first = next(i for i, line in enumerate(message) if line.startswith("Error: "))
        shown = message[first:]
        # a refusal with several findings says how many on its first line, one a line below
        if len(shown) > 3:
            assert "one a line below" in shown[0], output
    for needle in case.needles:
        assert needle.replace("{d}", str(folder)) in output, (needle, output)
    assert PLANTED not in output
    assert _snapshot(folder) == before  # nothing earlier changed, nothing new (no output)
    assert list(private_tmp.iterdir()) == []


def test_bad_inputs_through_a_real_process_print_only_their_error(tmp_path: Path) -> None:
    """Three cases run as real processes: nothing from native code around the one line."""
    for case in (c for c in CASES if c.id in ("bed-damaged-mp3", "profile-bidi-override",
                                               "template-internals")):
        folder = tmp_path / case.id
        folder.mkdir()
        args = case.build(folder)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        result = subprocess.run([sys.executable, "-m", "imr_audio", *args], capture_output=True,
                                text=True, env=env, timeout=300, check=False)
        assert result.returncode == 1, result.stderr
        lines = [line for line in result.stderr.splitlines()
                 if not line.startswith(("synthesis ", "soundscape "))]
        assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
        assert PLANTED not in result.stderr + result.stdout
        shutil.rmtree(folder)
