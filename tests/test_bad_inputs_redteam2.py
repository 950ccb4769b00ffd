"""Red-team bad inputs, round 2: more broken files a clinic really produces.

Written before any validation was changed and before anything was run, in pairs of like kind:
the first of each pair is in the development half (``DEV``), used to choose the fixes; the
second is in the held-out half (``HELD_OUT``), run only to count, before and after. Each case
must end as round 1's do (:func:`test_bad_inputs_redteam.assert_one_clear_line`): exit code 1 or
2, one ``Error:`` line naming the file or field, no traceback, no client value (``PLANTED``) and
nothing written. The machine's tests run as root, so a file without read permission cannot be
made; a link to a file that is gone (a synced folder half-copied) stands in for it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from test_bad_inputs import (
    PLANTED,
    SAFE,
    WRAP,
    _client,
    _raw,
    _render,
    private_tmp,  # noqa: F401 (a fixture)
)
from test_bad_inputs_redteam import (
    Build,
    _own,
    _presets,
    _text_profile,
    assert_one_clear_line,
    halves,
)

_HEAD = f"id: t-017\npreferred_name: {PLANTED}\n"
_PLACE = f"safe_place:\n  description: {SAFE['description']}\n  cue_word: garden\n"


def _voice(value: object) -> Build:
    return lambda d: _render(_client(d, preferences={"voice": value}))


def _client_folder(folder: Path) -> list[str]:
    (folder / "client.yaml").mkdir()
    return _render(folder / "client.yaml")


def _presets_folder(folder: Path) -> list[str]:
    (folder / "p.yaml").mkdir()
    return _render(_client(folder), "--presets", str(folder / "p.yaml"), "--soundscape", "mine")


def _dangling_client(folder: Path) -> list[str]:
    (folder / "client.yaml").symlink_to(folder / "gone" / "client.yaml")
    return _render(folder / "client.yaml")


def _dangling_presets(folder: Path) -> list[str]:
    (folder / "p.yaml").symlink_to(folder / "gone" / "p.yaml")
    return _render(_client(folder), "--presets", str(folder / "p.yaml"), "--soundscape", "mine")


def _bed_bytes(data: bytes, name: str) -> Build:
    return lambda d: _render(_client(d), "--soundscape", str(_raw(d, data, name)))


_BODY_END = "{% endblock %}\n"

# (id, builder, text the message must hold). Pairs: DEV[i] and HELD_OUT[i] are alike.
DEV: list[tuple[str, Build, tuple[str, ...]]] = [
    ("profile-tab-indent", _text_profile(
        _HEAD + f"safe_place:\n\tdescription: {SAFE['description']}\n\tcue_word: garden\n"),
     ("client.yaml", "line 4")),
    ("profile-undefined-alias", _text_profile(
        "id: t-017\npreferred_name: *name\n" + _PLACE), ("client.yaml", "line 2")),
    ("profile-avoid-a-mapping", _text_profile(_HEAD + "avoid: {heights: true}\n" + _PLACE),
     ("client.yaml", "avoid")),
    ("profile-safe-place-a-list", _text_profile(
        _HEAD + f"safe_place:\n  - description: {SAFE['description']}\n  - cue_word: garden\n"),
     ("client.yaml", "safe_place")),
    ("profile-latin1", _text_profile(
        b"id: t-017\npreferred_name: Ren\xe9e\n" + _PLACE.encode()), ("client.yaml",)),
    ("profile-empty", _text_profile(""), ("client.yaml",)),
    ("profile-a-folder", _client_folder, ("client.yaml",)),
    ("profile-dangling-link", _dangling_client, ("client.yaml",)),
    ("template-unclosed-for", _own(
        WRAP + "{% for s in safe_place.sights %}\n{{ s }} [pause 4s]\n" + _BODY_END),
     ("probe.j2",)),
    ("template-unknown-filter", _own(
        WRAP + "Your word is {{ safe_place.cue_word | shout }}. [pause 4s]\n" + _BODY_END),
     ("probe.j2", "shout")),
    ("template-include-missing", _own(
        WRAP + '{% include "intro.j2" %}\nRest here. [pause 4s]\n' + _BODY_END),
     ("probe", "intro.j2")),
    ("bed-zero-length-wav", _bed_bytes(b"", "bed.wav"), ("bed.wav",)),
    ("profile-voice-a-number", _voice(42), ("preferences.voice",)),
    ("presets-layers-a-string",
     _presets("presets:\n  mine:\n    description: x\n    layers: rain\n"), ("p.yaml", "mine")),
]
HELD_OUT: list[tuple[str, Build, tuple[str, ...]]] = [
    ("profile-tab-in-list", _text_profile(
        _HEAD + _PLACE + "  sights:\n\t- red tulips\n"), ("client.yaml",)),
    ("profile-undefined-nested-alias", _text_profile(
        _HEAD + f"safe_place:\n  description: {SAFE['description']}\n  cue_word: *cue\n"),
     ("client.yaml", "line 5")),
    ("profile-sights-a-mapping", _text_profile(
        _HEAD + _PLACE + f"  sights: {{first: {PLANTED}}}\n"), ("safe_place.sights",)),
    ("profile-preferences-a-list", _text_profile(
        _HEAD + _PLACE + "preferences:\n  - voice: calm\n"), ("client.yaml", "preferences")),
    ("profile-cut-mid-character", _text_profile(
        _HEAD.encode() + _PLACE.encode() + b"  companion: Zo\xc3"), ("client.yaml",)),
    ("profile-only-comments", _text_profile("# client profile, to be filled in\n"),
     ("client.yaml",)),
    ("presets-a-folder", _presets_folder, ("p.yaml",)),
    ("presets-dangling-link", _dangling_presets, ("p.yaml",)),
    ("template-mismatched-braces", _own(
        WRAP + "Your word is {{ safe_place.cue_word }. [pause 4s]\n" + _BODY_END),
     ("probe.j2",)),
    ("template-unknown-filter-title-case", _own(
        WRAP + "Your word is {{ safe_place.cue_word | title_case }}. [pause 4s]\n" + _BODY_END),
     ("probe.j2", "title_case")),
    ("template-import-missing", _own(
        WRAP + '{% import "macros.j2" as m %}\nRest here. [pause 4s]\n' + _BODY_END),
     ("probe", "macros.j2")),
    ("bed-text-renamed-wav", _bed_bytes(b"This is not audio, just notes.\n" * 20, "bed.wav"),
     ("bed.wav",)),
    ("profile-voice-a-list", _voice(["calm"]), ("preferences.voice",)),
    ("presets-layer-gain-a-word", _presets(
        "presets:\n  mine:\n    description: x\n    layers: [{soundscape: rain, gain_db: loud}]\n"),
     ("p.yaml", "gain_db")),
]

KNOWN_FAILURES: set[str] = set()
"""Cases not handled yet: strict expected failures. Counted once each way: development 12 / 14
handled before, 14 / 14 after; held-out 11 / 14 before, 13 / 14 after. One failure in each half
before was this file's harness, not the program: the snapshot followed the link to the missing
file (fixed by reading the link itself). The held-out case left then, a profile whose
``safe_place.sights`` is a mapping rendered with a template that does not read sights, was
fixed in review after it had been seen: a profile's values are checked against every template
that reads them (:meth:`~imr_audio.authoring.library.TemplateLibrary.value_problems`)."""


CASES = halves(DEV, HELD_OUT, KNOWN_FAILURES)


@pytest.mark.parametrize(("build", "needles"), CASES)
def test_a_bad_input_is_one_clear_line(
    build: Build, needles: tuple[str, ...], tmp_path: Path, private_tmp: Path  # noqa: F811
) -> None:
    assert_one_clear_line(build, needles, tmp_path / "case", private_tmp)


def test_the_halves_are_pairs() -> None:
    assert len(DEV) == len(HELD_OUT)
    assert len({c[0] for c in DEV + HELD_OUT}) == len(DEV) * 2
