"""Red-team bad inputs: files a clinic's IT person or a therapist really produces.

Written before any validation was changed, in pairs of like kind: the first of each pair is in
the development half (``DEV``), used to choose the fixes; the second is in the held-out half
(``HELD_OUT``), run only to count, before and after. Each case must end with exit code 1 or 2,
one ``Error:`` line naming the file or field, no traceback, no client value (``PLANTED``) and
nothing written. Saved-by-Windows profiles (a byte-order mark, CRLF line ends) are no bad input:
they must load.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from imr_audio.cli import cli
from test_bad_inputs import (
    PLANTED,
    SAFE,
    TEMPLATES,
    WRAP,
    _client,
    _manifest,
    _raw,
    _render,
    _snapshot,
    private_tmp,  # noqa: F401 (a fixture)
)

Build = Callable[[Path], "list[str] | tuple[list[str], dict[str, str]]"]
"""Writes a case into a folder and gives the command's arguments (and, if it needs one, the
environment it runs with)."""
_PROFILE = (f"id: t-017\npreferred_name: {PLANTED}\nsafe_place:\n"
            f"  description: {SAFE['description']}\n")


def _lint(client: Path, *more: str, template: str = "mini") -> list[str]:
    return ["lint", template, "--client", str(client), "--templates-dir", str(TEMPLATES), *more]


def _text_profile(text: str | bytes) -> Build:
    return lambda d: _render(_raw(d, text))


def _truncated_wav(folder: Path) -> Path:
    full = folder / "full.wav"
    sf.write(full, 0.1 * np.sin(np.arange(80000) / 5.0).astype(np.float32), 8000)
    data = full.read_bytes()
    full.unlink()
    (folder / "bed.wav").write_bytes(data[:30])
    return folder / "bed.wav"


def _presets(text: str, soundscape: str = "mine") -> Build:
    def build(folder: Path) -> list[str]:
        (folder / "p.yaml").write_text(text, encoding="utf-8")
        return _render(_client(folder), "--presets", str(folder / "p.yaml"),
                       "--soundscape", soundscape)
    return build


def _own(body: str | bytes, schema: str | None = None) -> Build:
    def build(folder: Path) -> list[str]:
        own = folder / "own"
        own.mkdir()
        j2 = own / "probe.j2"
        j2.write_bytes(body) if isinstance(body, bytes) else j2.write_text(body, encoding="utf-8")
        (own / "probe.yaml").write_text(
            schema or "title: Probe\nduration_s: [60, 240]\nvariables:\n"
                      "  safe_place.cue_word: {type: text, description: the word}\n",
            encoding="utf-8")
        client = _client(folder, safe_place={**SAFE, "cue_word": PLANTED})
        return ["render", "probe", "--client", str(client), "--templates-dir", str(own),
                "-o", str(folder / "out")]
    return build


def _manifest_dir(folder: Path) -> list[str]:
    _client(folder)
    (folder / "library.yaml").mkdir()
    return ["batch", str(folder / "library.yaml"), "-o", str(folder / "out")]


def _manifest_bytes(data: bytes, name: str = "library.yaml") -> Build:
    def build(folder: Path) -> list[str]:
        _client(folder)
        (folder / name).write_bytes(data)
        return ["batch", str(folder / name), "-o", str(folder / "out")]
    return build


def _client_folder_in_manifest(folder: Path) -> list[str]:
    (folder / "clients").mkdir()
    return _manifest("jobs:\n  - client: clients\n    templates: [safe-place]\n")(folder)


_JOB = "jobs:\n  - client: client.yaml\n    templates: [safe-place]\n"

# (id, builder, text the message must hold). Pairs: DEV[i] and HELD_OUT[i] are alike.
DEV: list[tuple[str, Build, tuple[str, ...]]] = [
    ("profile-utf16", _text_profile(_PROFILE.encode("utf-16")), ("client.yaml",)),
    ("profile-duplicate-key", _text_profile(
        f"id: t-017\npreferred_name: Robin\npreferred_name: {PLANTED}\n"),
     ("client.yaml", "line 3", "preferred_name")),
    ("profile-description-a-number",
     lambda d: _render(_client(d, safe_place={"description": 12345, "cue_word": "garden"})),
     ("safe_place.description",)),
    ("profile-name-a-list", lambda d: _render(_client(d, preferred_name=[PLANTED])),
     ("preferred_name",)),
    ("manifest-client-is-a-folder", _client_folder_in_manifest, ("library.yaml", "clients")),
    ("bed-truncated-wav", lambda d: _render(_client(d), "--soundscape", str(_truncated_wav(d))),
     ("bed.wav",)),
    ("template-id-traversal", lambda d: _render(_client(d), template="../mini"), ("../mini",)),
    ("profile-id-traversal", lambda d: _render(_client(d, id="../t-017")), ("id",)),
    ("manifest-empty", _manifest(""), ("library.yaml",)),
    ("profile-huge-description",
     lambda d: _render(_client(d, safe_place={**SAFE, "description": PLANTED + " x" * 150_000})),
     ("safe_place.description",)),
    ("manifest-unknown-defaults-field",
     _manifest("defaults:\n  colour: blue\n" + _JOB), ("library.yaml", "colour")),
    ("presets-malformed", _presets("presets: [\n"), ("p.yaml",)),
    ("template-schema-duplicate-key", _own(
        WRAP + "{% endblock %}\n", "title: P\ntitle: Q\nduration_s: [60, 240]\nvariables: {}\n"),
     ("probe.yaml", "title")),
    ("manifest-nul-byte", _manifest_bytes(_JOB.encode() + b"\x00\n"), ("library.yaml",)),
    ("cover-corrupt", lambda d: _render(
        _client(d), "--cover", str(_raw(d, b"\x89PNG\r\n" + bytes(50), "cover.png"))),
     ("cover.png",)),
]
HELD_OUT: list[tuple[str, Build, tuple[str, ...]]] = [
    ("profile-cp1252-quotes", _text_profile(
        b"id: t-017\npreferred_name: Robin\nsafe_place:\n  description: \x93a quiet garden\x94\n"
        b"  cue_word: garden\n"), ("client.yaml",)),
    ("profile-duplicate-nested-key", _text_profile(
        f"id: t-017\npreferred_name: Robin\nsafe_place:\n  description: {SAFE['description']}\n"
        f"  cue_word: garden\n  cue_word: {PLANTED}\n"), ("client.yaml", "cue_word")),
    ("profile-cue-word-a-mapping",
     lambda d: _render(_client(d, safe_place={**SAFE, "cue_word": {"word": PLANTED}})),
     ("safe_place.cue_word",)),
    ("profile-eligibility-a-scalar", lambda d: _render(_client(d, eligibility="yes")),
     ("eligibility",)),
    ("manifest-is-a-folder", _manifest_dir, ("library.yaml",)),
    ("bed-empty-flac", lambda d: _render(_client(d), "--soundscape", str(_raw(d, b"", "bed.flac"))),
     ("bed.flac",)),
    ("manifest-template-traversal",
     _manifest("jobs:\n  - client: client.yaml\n    templates: [../../etc/passwd]\n"),
     ("library.yaml",)),
    ("profile-id-with-slash", lambda d: _render(_client(d, id="t-017/../../x")), ("id",)),
    ("manifest-a-list", _manifest("- client: client.yaml\n  templates: [safe-place]\n"),
     ("library.yaml",)),
    ("profile-huge-length",
     lambda d: _render(_client(d, preferences={"length": "99999:00:00"})),
     ("preferences.length",)),
    ("manifest-unknown-top-level", _manifest("job:\n  - client: client.yaml\n"),
     ("library.yaml", "job")),
    ("presets-unknown-layer",
     _presets("presets:\n  mine:\n    description: x\n    layers: [{soundscape: rainforest}]\n"),
     ("rainforest",)),
    ("template-not-utf8", _own(WRAP.encode() + b"Caf\xe9 au lait.\n{% endblock %}\n"),
     ("probe.j2",)),
    ("manifest-csv-cp1252", _manifest_bytes(b"client,templates\nclient.yaml,safe-place\xa0\n",
                                            "library.csv"), ("library.csv",)),
    ("cover-is-a-folder", lambda d: _render(_client(d), "--cover", str(_folder_in(d, "cover.png"))),
     ("cover.png",)),
]


def _folder_in(folder: Path, name: str) -> Path:
    (folder / name).mkdir()
    return folder / name


KNOWN_FAILURES: set[str] = set()
"""Cases not handled yet: strict expected failures. Counted once each way: development 11 / 15
handled before, 15 / 15 after; held-out 13 / 15 before, 14 / 15 after. The one held-out case
left (a template file that is not UTF-8, named by its template id and not its file) was fixed
afterwards, having been seen, so it no longer counts as held out."""


def halves(dev: list[tuple[str, Build, tuple[str, ...]]],
           held_out: list[tuple[str, Build, tuple[str, ...]]],
           known_failures: set[str]) -> list[object]:
    """Both halves' cases as pytest params (``dev-<name>``, ``held-out-<name>``); those in
    ``known_failures`` are strict expected failures."""
    return [pytest.param(build, needles, id=f"{half}-{name}", marks=[
                pytest.mark.xfail(strict=True, reason="not handled yet")]
                if f"{half}-{name}" in known_failures else [])
            for half, cases in (("dev", dev), ("held-out", held_out))
            for name, build, needles in cases]


CASES = halves(DEV, HELD_OUT, KNOWN_FAILURES)


def assert_one_clear_line(build: Build, needles: tuple[str, ...], folder: Path,
                          private_tmp: Path) -> None:  # noqa: F811
    """Run the case ``build`` writes into ``folder`` and check what a bad input must give."""
    folder.mkdir()
    made = build(folder)
    args, env = made if isinstance(made, tuple) else (made, {})
    before = _snapshot(folder)
    result = CliRunner().invoke(cli, args, env=env)
    output = result.output
    assert result.exit_code in (1, 2), output
    assert "Traceback" not in output
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        output, result.exception)
    errors = [line for line in output.splitlines() if line.startswith("Error")]
    assert len(errors) == 1, output
    for needle in needles:
        assert needle in output, (needle, output)
    assert PLANTED not in output
    assert _snapshot(folder) == before
    assert list(private_tmp.iterdir()) == []


@pytest.mark.parametrize(("build", "needles"), CASES)
def test_a_bad_input_is_one_clear_line(
    build: Build, needles: tuple[str, ...], tmp_path: Path, private_tmp: Path  # noqa: F811
) -> None:
    assert_one_clear_line(build, needles, tmp_path / "case", private_tmp)


@pytest.mark.parametrize("encode", [
    pytest.param(lambda t: t.encode("utf-8-sig"), id="byte-order-mark"),
    pytest.param(lambda t: t.replace("\n", "\r\n").encode(), id="crlf"),
])
def test_a_profile_saved_on_windows_loads(encode: Callable[[str], bytes], tmp_path: Path) -> None:
    text = _PROFILE + "  cue_word: garden\n"
    client = _raw(tmp_path, encode(text))
    result = CliRunner().invoke(cli, _lint(client))
    assert result.exit_code == 0, result.output
