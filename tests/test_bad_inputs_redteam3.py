"""Red-team bad inputs, round 3: the other commands and their inputs, files as clinics save them,
and damaged audio.

Rounds 1 and 2 were mostly ``render`` with broken profiles, presets and beds. This round goes to
``batch`` manifests, ``pack``, ``lint``, ``preview``, ``record-sheet``, ``purge``, ``templates``,
``voices``, ``soundscape(s)``, a therapist's own templates folder and theme map, recordings
folders, outputs that cannot be written where asked, and audio files damaged in new ways.

Written before anything was run or changed, in pairs of like kind: the first of each pair is in
the development half (``DEV``), used to choose the fixes; the second is in the held-out half
(``HELD_OUT``), run only to count, before and after. Each case must end as round 1's do: exit
code 1 or 2, one ``Error:`` line naming the file, field or line, no traceback, no client value
(``PLANTED``), nothing written (the case's folder as it was) and nothing left in the temporary
folder. A case may also set environment variables (a theme map is only named by one).

A voice profile of the user's own cannot be named on the command line (``--voice`` takes a
profile id from ``voices/``), so the voice profile cases run through the library: a
:class:`~imr_audio.errors.VoiceProfileError` of one line naming the file and the field.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from imr_audio.cli import cli
from imr_audio.errors import VoiceProfileError
from imr_audio.resources import data_dir
from imr_audio.voice.profiles import VoiceLibrary
from imr_audio.workspace import Workspace
from test_bad_inputs import (
    PLANTED,
    SAFE,
    TEMPLATES,
    WRAP,
    _client,
    _raw,
    _render,
    private_tmp,  # noqa: F401 (a fixture)
)
from test_bad_inputs_redteam import Build, assert_one_clear_line, halves

Run = tuple[list[str], dict[str, str]]
Args = Callable[[Path], list[str]]

_END = "{% endblock %}\n"
_SCHEMA = ("title: Probe\nduration_s: [60, 240]\nvariables:\n"
           "  safe_place.cue_word: {type: text, description: the word}\n")
_JOB = "jobs:\n  - client: client.yaml\n    templates: [safe-place]\n"
_BILLION_LAUGHS = ("a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                   + "".join(f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n"
                             for p, c in zip("abcdefgh", "bcdefghi", strict=True)))
_FIFTY_MB = 50 * 1024 * 1024


# --- builders --------------------------------------------------------------------------------


def _own_folder(folder: Path, body: str | bytes | None = WRAP + "Rest here. [pause 4s]\n" + _END,
                schema: str | bytes | None = _SCHEMA) -> Path:
    """A therapist's templates folder holding ``probe`` (``None``: that file is a folder)."""
    own = folder / "own"
    own.mkdir()
    for name, content in (("probe.j2", body), ("probe.yaml", schema)):
        path = own / name
        if content is None:
            path.mkdir()
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return own


def _command(command: str, body: str | bytes | None = WRAP + "Rest here. [pause 4s]\n" + _END,
             schema: str | bytes | None = _SCHEMA) -> Args:
    """``lint``, ``preview`` or ``record-sheet`` of the own template ``probe``; ``templates list``
    or ``templates show probe`` of the own folder."""
    def build(folder: Path) -> list[str]:
        own = _own_folder(folder, body, schema)
        if command == "templates list":
            return ["templates", "list", "--templates-dir", str(own)]
        if command == "templates show":
            return ["templates", "show", "probe", "--templates-dir", str(own)]
        client = _client(folder, safe_place={**SAFE, "cue_word": PLANTED})
        more = ["-o", str(folder / "out")] if command == "record-sheet" else []
        return [command, "probe", "--client", str(client), "--templates-dir", str(own), *more]
    return build


def _batch(text: str | bytes, name: str = "library.yaml", *more: str) -> Args:
    def build(folder: Path) -> list[str]:
        _client(folder)
        path = folder / name
        path.write_bytes(text) if isinstance(text, bytes) else path.write_text(text, "utf-8")
        return ["batch", str(path), "-o", str(folder / "out"), *more]
    return build


def _huge_csv(folder: Path) -> list[str]:
    _client(folder)
    path = folder / "library.csv"
    row = b"client.yaml,safe-place\n"
    path.write_bytes(b"client,templates\n" + row * (_FIFTY_MB // len(row)))
    return ["batch", str(path), "-o", str(folder / "out")]


def _huge_template(folder: Path) -> list[str]:
    body = WRAP + "Rest here. [pause 4s]\n" + "x" * _FIFTY_MB + "\n" + _END
    return _command("preview", body)(folder)


def _presets_file(text: str | bytes, command: str = "list") -> Build:
    def build(folder: Path) -> list[str]:
        path = folder / "p.yaml"
        path.write_bytes(text) if isinstance(text, bytes) else path.write_text(text, "utf-8")
        if command == "list":
            return ["soundscapes", "list", "--presets", str(path)]
        return ["soundscape", "render", "mine", "--presets", str(path), "--duration", "1",
                "-o", str(folder / "mine.wav")]
    return build


def _themes(text: str | bytes, command: str = "lint") -> Build:
    def build(folder: Path) -> Run:
        path = folder / "themes.yaml"
        path.write_bytes(text) if isinstance(text, bytes) else path.write_text(text, "utf-8")
        client = _client(folder)
        args = [command, "mini", "--client", str(client), "--templates-dir", str(TEMPLATES)]
        return args, {"IMR_AUDIO_THEMES": str(path)}
    return build


def _tone(seconds: float = 1.0, rate: int = 44100) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    tone = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    quiet = np.zeros(int(0.3 * rate), np.float32)
    return np.concatenate([quiet, tone, quiet])


def _wav_with(folder: Path, name: str, samples: np.ndarray, rate: int = 8000,
              subtype: str = "FLOAT") -> Path:
    sf.write(folder / name, samples, rate, subtype=subtype)
    return folder / name


def _bed(make: Callable[[Path], Path]) -> Build:
    return lambda d: _render(_client(d), "--soundscape", str(make(d)))


def _loop(make: Callable[[Path], Path]) -> Build:
    """``soundscape render FILE``: the file looped on its own."""
    return lambda d: ["soundscape", "render", str(make(d)), "--duration", "2",
                      "-o", str(d / "heard.wav")]


def _bad_floats(value: float) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        samples = 0.1 * np.sin(np.arange(16000, dtype=np.float32) / 5.0)
        samples[4000:4010] = value
        return _wav_with(folder, "bed.wav", samples.astype(np.float32))
    return make


def _short_data_wav(folder: Path) -> Path:
    """A WAV whose header claims ten seconds; half a second of frames follows."""
    path = _wav_with(folder, "bed.wav", 0.1 * np.sin(np.arange(80000) / 5.0).astype(np.float32),
                     subtype="PCM_16")
    data = path.read_bytes()
    path.write_bytes(data[:44 + 8000])
    return path


def _wav_header(channels: int, frames: int, bits: int = 16, rate: int = 8000) -> bytes:
    block = max(channels, 1) * bits // 8
    size = frames * block
    return (b"RIFF" + struct.pack("<I", 36 + size) + b"WAVE" + b"fmt "
            + struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * block, channels * bits // 8,
                          bits)
            + b"data" + struct.pack("<I", size) + bytes(size))


def _zero_channel_wav(folder: Path) -> Path:
    return _raw(folder, _wav_header(0, 400), "bed.wav")


def _one_sample_wav(folder: Path) -> Path:
    return _wav_with(folder, "bed.wav", np.array([0.5], np.float32))


def _text_as(name: str) -> Callable[[Path], Path]:
    return lambda d: _raw(d, "These are my session notes, not audio.\n" * 40, name)


def _pack_track(folder: Path, name: str, audio: bytes | None = None) -> list[str]:
    """A track that proves it is the client's (sidecar with the client hash, captions) but whose
    audio is ``audio`` (default: a real short WAV)."""
    client = _client(folder)
    track = folder / name
    if audio is None:
        sf.write(track, np.zeros(8000, np.float32), 8000)
    else:
        track.write_bytes(audio)
    key = Workspace.from_environment().key
    (folder / f"{name}.json").write_text(
        json.dumps({"client_hash": key.client_hash("t-017")}), encoding="utf-8")
    (folder / f"{name}.vtt").write_text("WEBVTT\n\n00:00.000 --> 00:01.000\nRest.\n",
                                        encoding="utf-8")
    return ["pack", str(track), "--client", str(client), "-o", str(folder / "pack")]


def _pack_with(*more: str, note: str | bytes | None = "", out: str = "pack",
               note_is_folder: bool = False) -> Args:
    def build(folder: Path) -> list[str]:
        args = _pack_track(folder, "t-017_mini.wav")
        args[-1] = str(folder / out)
        if note_is_folder:
            (folder / "note.txt").mkdir()
            args += ["--note", str(folder / "note.txt")]
        elif note:
            path = folder / "note.txt"
            path.write_bytes(note) if isinstance(note, bytes) else path.write_text(note, "utf-8")
            args += ["--note", str(path)]
        return args + list(more)
    return build


def _file_out(command: str) -> Build:
    """``-o`` names an existing plain file where a folder is wanted."""
    def build(folder: Path) -> list[str]:
        afile = _raw(folder, "x", "afile")
        if command == "record-sheet":
            return ["record-sheet", "mini", "--client", str(_client(folder)), "--templates-dir",
                    str(TEMPLATES), "-o", str(afile)]
        return _pack_with(out="afile")(folder)
    return build


def _dir_at_output(command: str) -> Build:
    """The output file's name is already taken by a folder."""
    def build(folder: Path) -> list[str]:
        if command == "soundscape":
            (folder / "heard.wav").mkdir()
            return ["soundscape", "render", "rain", "--duration", "1", "-o",
                    str(folder / "heard.wav")]
        if command == "voices":
            (folder / "v.wav").mkdir()
            return ["voices", "preview", "calm", "-o", str(folder / "v.wav")]
        if command == "render":
            (folder / "out" / "t-017_mini.wav").mkdir(parents=True)
            return _render(_client(folder))
        (folder / "out" / "t-017_mini_lines.txt").mkdir(parents=True)
        return ["record-sheet", "mini", "--client", str(_client(folder)), "--templates-dir",
                str(TEMPLATES), "-o", str(folder / "out")]
    return build


def _missing_parent(command: str) -> Build:
    """``-o FILE`` in a folder that does not exist (a mistyped path)."""
    def build(folder: Path) -> list[str]:
        target = folder / "nope" / "deeper" / "x.wav"
        if command == "soundscape":
            return ["soundscape", "render", "rain", "--duration", "1", "-o", str(target)]
        return ["voices", "preview", "calm", "-o", str(target)]
    return build


def _recordings(bad: Callable[[Path, str], None]) -> Build:
    """A full recordings folder for ``mini`` (made from its sheet) with one recording spoiled by
    ``bad(folder, line_id)``."""
    def build(folder: Path) -> list[str]:
        client = _client(folder)
        sheet = folder / "sheet"
        made = CliRunner().invoke(cli, ["record-sheet", "mini", "--client", str(client),
                                        "--templates-dir", str(TEMPLATES), "-o", str(sheet)])
        assert made.exit_code == 0, made.output
        lines = json.loads((sheet / "t-017_mini_lines.json").read_text("utf-8"))["lines"]
        rec = folder / "rec"
        rec.mkdir()
        for line in lines:
            sf.write(rec / f"{line['id']}.wav", _tone(), 44100, subtype="PCM_16")
        (rec / f"{lines[-1]['id']}.wav").unlink()
        bad(rec, lines[-1]["id"])
        return _render(client, "--recordings", str(rec))
    return build


def _rec_text_flac(rec: Path, line_id: str) -> None:
    (rec / f"{line_id}.flac").write_text("not a recording\n" * 40, encoding="utf-8")


def _rec_nan(rec: Path, line_id: str) -> None:
    samples = _tone()
    samples[20000:20100] = np.nan
    sf.write(rec / f"{line_id}.wav", samples, 44100, subtype="FLOAT")


def _in_folder(name: str, build: Callable[[Path], list[str]]) -> Build:
    """``build`` run in a sub-folder named ``name`` (spaces, letters beyond ASCII)."""
    def inner(folder: Path) -> list[str]:
        sub = folder / name
        sub.mkdir()
        return build(sub)
    return inner


def _folder_option_is_file(command: str) -> Build:
    def build(folder: Path) -> list[str]:
        afile = _raw(folder, "x", "afile")
        if command == "purge":
            return ["purge", "--client", "t-017", "--outputs", str(afile), "--yes"]
        return _pack_with("--templates-dir", str(afile))(folder)
    return build


def _voice_beside(folder: Path) -> Path:
    """A voice profile of the user's own, outside ``voices/``: a profile id must not reach it."""
    (folder / "mine.yaml").write_text(
        "description: mine\nrate_wpm: 110\nvoices:\n  - {engine: pyttsx3, platform: any, "
        "voice: gmw/en}\n", encoding="utf-8")
    return folder / "mine"


def _voice_path_option(folder: Path) -> list[str]:
    return _render(_client(folder), "--voice", str(_voice_beside(folder)))


def _voice_path_in_profile(folder: Path) -> list[str]:
    relative = "../" * 12 + str(_voice_beside(folder)).lstrip("/")
    client = _client(folder, preferences={"voice": relative})
    return ["lint", "mini", "--client", str(client), "--templates-dir", str(TEMPLATES)]


# (id, builder, text the message must hold). Pairs: DEV[i] and HELD_OUT[i] are alike.
DEV: list[tuple[str, Build, tuple[str, ...]]] = [
    # a therapist's own templates, through the commands other than render
    ("lint-template-syntax-error", _command("lint", WRAP + "{% if %}\n" + _END),
     ("probe.j2", "line 4")),
    ("preview-template-internals", _command("preview", WRAP + "{{ ''.__class__ }}\n" + _END),
     ("probe",)),
    ("preview-template-include-outside",
     _command("preview", WRAP + '{% include "../../../../../../etc/passwd" %}\n' + _END),
     ("probe",)),
    ("preview-template-no-body-block",
     _command("preview", '{% extends "_base.j2" %}\n{% block bodyy %}Rest. [pause 4s]\n' + _END),
     ("probe",)),
    ("templates-list-wrong-kind", _command("templates list", schema=_SCHEMA + "kind: podcast\n"),
     ("probe.yaml", "kind")),
    ("templates-list-schema-utf16", _command("templates list", schema=_SCHEMA.encode("utf-16")),
     ("probe.yaml",)),
    ("templates-list-schema-a-folder", _command("templates list", schema=None), ("probe.yaml",)),
    ("templates-list-schema-zero-bytes", _command("templates list", schema=""), ("probe.yaml",)),
    # batch manifests
    ("batch-duplicate-job", _batch(_JOB + "  - client: client.yaml\n    templates: [safe-place]\n"),
     ("library.yaml", "job 2")),
    ("batch-templates-a-mapping",
     _batch("jobs:\n  - client: client.yaml\n    templates: {safe-place: 1}\n"),
     ("library.yaml", "templates")),
    ("batch-yaml-named-csv", _batch(_JOB, "library.csv"), ("library.csv",)),
    ("batch-utf16-yaml", _batch(_JOB.encode("utf-16")), ("library.yaml",)),
    ("batch-huge-csv", _huge_csv, ("library.csv",)),
    ("batch-billion-laughs", _batch(_BILLION_LAUGHS + "z: *i\n" + _JOB), ("library.yaml",)),
    ("presets-duplicate-name", _presets_file(
        "presets:\n  mine:\n    description: x\n    layers: [{soundscape: rain}]\n"
        "  mine:\n    description: y\n    layers: [{soundscape: fire}]\n"), ("p.yaml", "line 5")),
    ("presets-utf16", _presets_file(
        "presets:\n  mine:\n    description: x\n    layers: [{soundscape: rain}]\n"
        .encode("utf-16")), ("p.yaml",)),
    ("themes-malformed", _themes("rain: [water\n"), ("themes.yaml",)),
    # pack
    ("pack-note-a-folder", _pack_with(note_is_folder=True), ("note.txt",)),
    ("pack-track-text-named-mp3",
     lambda d: _pack_track(d, "t-017_mini.mp3", b"These are notes, not audio.\n" * 40),
     ("t-017_mini.mp3",)),
    # outputs that cannot be written where asked
    ("record-sheet-output-a-file", _file_out("record-sheet"), ("afile",)),
    ("soundscape-output-a-folder", _dir_at_output("soundscape"), ("heard.wav",)),
    ("render-output-a-folder", _dir_at_output("render"), ("t-017_mini.wav",)),
    ("soundscape-output-parent-missing", _missing_parent("soundscape"), ("nope",)),
    ("purge-outputs-a-file", _folder_option_is_file("purge"), ("afile",)),
    # audio
    ("bed-header-claims-more-frames", _bed(_short_data_wav), ("bed.wav",)),
    ("bed-zero-channels", _bed(_zero_channel_wav), ("bed.wav",)),
    ("bed-nan-samples", _bed(_bad_floats(float("nan"))), ("bed.wav",)),
    ("bed-text-named-flac", _bed(_text_as("bed.flac")), ("bed.flac",)),
    ("recording-text-named-flac", _recordings(_rec_text_flac), ("rec",)),
    # paths and names
    ("bad-profile-in-non-ascii-folder",
     _in_folder("Klïënten Ü", lambda d: _render(_client(d, id=None))),
     ("Klïënten Ü", "client.yaml", "id")),
    ("voice-given-as-a-path", _voice_path_option, ("voice",)),
]
HELD_OUT: list[tuple[str, Build, tuple[str, ...]]] = [
    ("record-sheet-template-syntax-error",
     _command("record-sheet", WRAP + "Rest.\n{% endif %}\n" + _END), ("probe.j2", "line 5")),
    ("lint-template-internals",
     _command("lint", WRAP + "{{ cycler.__init__.__globals__ }}\n" + _END), ("probe",)),
    ("lint-template-import-outside", lambda d: (
        _raw(d, "{% macro m() %}x{% endmacro %}\n", "secret.j2"),
        _command("lint", WRAP + '{% import "../secret.j2" as s %}{{ s.m() }}\n' + _END)(d))[1],
     ("probe",)),
    ("lint-template-no-blocks", _command("lint", '{% extends "_base.j2" %}\n'), ("probe",)),
    ("templates-show-kind-a-number", _command("templates show", schema=_SCHEMA + "kind: 7\n"),
     ("probe.yaml", "kind")),
    ("templates-show-schema-cp1252",
     _command("templates show", schema=_SCHEMA.encode() + b"description: caf\xe9 \x93calm\x94\n"),
     ("probe.yaml",)),
    ("preview-template-a-folder", _command("preview", body=None), ("probe.j2",)),
    ("preview-template-zero-bytes", _command("preview", body=""), ("probe.j2",)),
    ("batch-duplicate-csv-row",
     _batch("client,templates\nclient.yaml,safe-place\nclient.yaml,safe-place\n", "library.csv"),
     ("library.csv", "row 3")),
    ("batch-csv-seed-a-word", _batch("client,templates,seed\nclient.yaml,safe-place,lucky\n",
                                     "library.csv"), ("library.csv", "seed")),
    ("batch-csv-named-yaml", _batch("client,templates\nclient.yaml,safe-place\n"),
     ("library.yaml",)),
    ("batch-utf16-csv", _batch("client,templates\nclient.yaml,safe-place\n".encode("utf-16"),
                               "library.csv"), ("library.csv",)),
    ("preview-huge-template", _huge_template, ("probe",)),
    ("presets-billion-laughs", _presets_file(_BILLION_LAUGHS + "presets: {}\n"), ("p.yaml",)),
    ("batch-duplicate-job-field", _batch(
        "jobs:\n  - client: client.yaml\n    templates: [safe-place]\n"
        "    templates: [container]\n"),
     ("library.yaml", "line 4", "templates")),
    ("presets-cp1252", _presets_file(
        b"presets:\n  mine:\n    description: caf\xe9\n    layers: [{soundscape: rain}]\n",
        "render"), ("p.yaml",)),
    ("themes-a-list", _themes("- rain\n- water\n", "preview"), ("themes.yaml",)),
    ("pack-note-utf16", _pack_with(note="Listen when you are somewhere quiet.\n".encode("utf-16")),
     ("note.txt",)),
    ("pack-track-text-named-flac",
     lambda d: _pack_track(d, "t-017_mini.flac", b"These are notes, not audio.\n" * 40),
     ("t-017_mini.flac",)),
    ("pack-output-a-file", _file_out("pack"), ("afile",)),
    ("voices-preview-output-a-folder", _dir_at_output("voices"), ("v.wav",)),
    ("record-sheet-output-a-folder", _dir_at_output("record-sheet"), ("t-017_mini_lines.txt",)),
    ("voices-preview-output-parent-missing", _missing_parent("voices"), ("nope",)),
    ("pack-templates-dir-a-file", _folder_option_is_file("pack"), ("afile",)),
    ("loop-header-claims-more-frames", _loop(_short_data_wav), ("bed.wav",)),
    ("bed-one-sample", _bed(_one_sample_wav), ("bed.wav",)),
    ("loop-inf-samples", _loop(_bad_floats(float("inf"))), ("bed.wav",)),
    ("loop-text-named-flac", _loop(_text_as("bed.flac")), ("bed.flac",)),
    ("recording-nan-samples", _recordings(_rec_nan), ("rec",)),
    ("bad-manifest-in-folder-with-spaces",
     _in_folder("my library 2024", _batch("jobs:\n  - client: nobody.yaml\n"
                                          "    templates: [safe-place]\n")),
     ("my library 2024", "nobody.yaml")),
    ("voice-path-in-profile", _voice_path_in_profile, ("preferences.voice",)),
]

KNOWN_FAILURES: set[str] = {
    # Not changed: every command creates a missing output folder and its parents (0700), as
    # docs/cli.md says for render; whether ``-o FILE`` in a folder that does not exist should
    # be refused instead (a mistyped path) is a decision about the product, not a bad input's.
    "dev-soundscape-output-parent-missing",
    "held-out-voices-preview-output-parent-missing",  # the same, for voices preview
    # (held-out-batch-duplicate-job-field, a key given twice in a job refused with its line but
    # not named, was fixed by the lead after the count: "jobs (item 1).templates is given twice".)
    # (held-out-voice-path-in-profile, whose message quoted the value and named no field, was
    # fixed by the lead after the count: a preference naming no voice or soundscape is refused
    # as preferences.voice or preferences.soundscape, the value unquoted.)
}
"""Cases not handled yet: strict expected failures. Counted once each way (``-k dev-`` and
``-k held-out-``): development 25 / 31 handled before (one of the 25, the 50 MB CSV manifest,
was read whole and checked row by row: on bdaf276 it had not ended after 18 minutes, when it was
stopped; with the size check it is refused at once), 30 / 31 after; held-out 25 / 31 before, 28 / 31
after. The voice profile cases: development 2 / 6 before, 6 / 6 after; held-out 1 / 6 before,
6 / 6 after."""


CASES = halves(DEV, HELD_OUT, KNOWN_FAILURES)


@pytest.mark.parametrize(("build", "needles"), CASES)
def test_a_bad_input_is_one_clear_line(
    build: Build, needles: tuple[str, ...], tmp_path: Path, private_tmp: Path  # noqa: F811
) -> None:
    assert_one_clear_line(build, needles, tmp_path / "case", private_tmp)


def test_the_halves_are_pairs() -> None:
    assert len(DEV) == len(HELD_OUT) >= 14
    assert len({c[0] for c in DEV + HELD_OUT}) == len(DEV) * 2


# --- a voice profile of the user's own, through the library -----------------------------------

_VOICE = ("description: mine\nrate_wpm: 110\nvolume: 1.0\npitch: 40\nsentence_gap_s: 1.5\n"
          "paragraph_gap_s: 3.0\nvoices:\n  - {engine: pyttsx3, platform: any, voice: gmw/en}\n")


def _voice_with(field: str, value: str | None) -> str:
    lines = [line for line in _VOICE.splitlines(keepends=True)
             if not line.startswith(f"{field}:")]
    if value is not None:
        lines.insert(1, f"{field}: {value}\n")
    return "".join(lines)


# (id, the profile's text, the field the message must name). Pairs as above.
VOICE_DEV: list[tuple[str, str | bytes, str]] = [
    ("volume-negative", _voice_with("volume", "-3"), "volume"),
    ("rate-a-word", _voice_with("rate_wpm", "fast"), "rate_wpm"),
    ("no-voices", _voice_with("voices", None).split("  - ")[0], "voices"),
    ("sentence-gap-negative", _voice_with("sentence_gap_s", "-1"), "sentence_gap_s"),
    ("pitch-a-list", _voice_with("pitch", "[40]"), "pitch"),
    ("utf16", _VOICE.encode("utf-16"), "mine.yaml"),
]
VOICE_HELD_OUT: list[tuple[str, str | bytes, str]] = [
    ("volume-nan", _voice_with("volume", ".nan"), "volume"),
    ("pitch-out-of-range", _voice_with("pitch", "500"), "pitch"),
    ("voices-empty", _voice_with("voices", None).split("  - ")[0] + "voices: []\n", "voices"),
    ("paragraph-gap-huge", _voice_with("paragraph_gap_s", "1e9"), "paragraph_gap_s"),
    ("engine-speed-a-mapping", _voice_with("engine_speed_factor", "{x: 1}"),
     "engine_speed_factor"),
    ("zero-bytes", "", "mine.yaml"),
]
VOICE_KNOWN_FAILURES: set[str] = set()
"""Voice profile cases not handled yet: strict expected failures."""


@pytest.mark.parametrize(("text", "field"), [
    pytest.param(text, field, id=f"{half}-{name}", marks=[
        pytest.mark.xfail(strict=True, reason="not handled yet")]
        if f"{half}-{name}" in VOICE_KNOWN_FAILURES else [])
    for half, cases in (("dev", VOICE_DEV), ("held-out", VOICE_HELD_OUT))
    for name, text, field in cases])
def test_a_bad_voice_profile_is_one_line_naming_its_field(
    text: str | bytes, field: str, tmp_path: Path
) -> None:
    folder = tmp_path / "voices"
    folder.mkdir()
    path = folder / "mine.yaml"
    path.write_bytes(text) if isinstance(text, bytes) else path.write_text(text, "utf-8")
    with pytest.raises(VoiceProfileError) as caught:
        VoiceLibrary(folder).load("mine")
    message = str(caught.value)
    assert "\n" not in message and "mine.yaml" in message and field in message, message


def test_the_voice_halves_are_pairs() -> None:
    assert len(VOICE_DEV) == len(VOICE_HELD_OUT)


def test_the_shipped_voice_profiles_load() -> None:
    library = VoiceLibrary(data_dir("voices"))
    assert [library.load(name).id for name in library.names()] == library.names()


# --- files saved as clinics save them, that are no bad input ---------------------------------


@pytest.mark.parametrize("encode", [
    pytest.param(lambda t: t.encode("utf-8-sig"), id="byte-order-mark"),
    pytest.param(lambda t: t.replace("\n", "\r\n").encode(), id="crlf"),
    pytest.param(lambda t: t.replace("\n", "\r\n").encode("utf-8-sig"), id="both"),
])
@pytest.mark.parametrize("name", ["library.yaml", "library.csv"])
def test_a_manifest_saved_on_windows_is_read(
    encode: Callable[[str], bytes], name: str, tmp_path: Path
) -> None:
    text = _JOB if name.endswith(".yaml") else "client,templates\nclient.yaml,safe-place\n"
    args = _batch(encode(text), name, "--dry-run")(tmp_path)
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "t-017_safe-place" in result.output


@pytest.mark.parametrize("encode", [
    pytest.param(lambda t: t.encode("utf-8-sig"), id="byte-order-mark"),
    pytest.param(lambda t: t.replace("\n", "\r\n").encode(), id="crlf"),
])
def test_a_template_and_presets_saved_on_windows_are_read(
    encode: Callable[[str], bytes], tmp_path: Path
) -> None:
    own = _own_folder(tmp_path, encode(WRAP + "Rest here. [pause 4s]\n" + _END),
                      encode(_SCHEMA))
    presets = _raw(tmp_path, encode("presets:\n  mine:\n    description: x\n"
                                    "    layers: [{soundscape: rain}]\n"), "p.yaml")
    client = _client(tmp_path)
    result = CliRunner().invoke(cli, ["preview", "probe", "--client", str(client),
                                      "--templates-dir", str(own), "--presets", str(presets)])
    assert result.exit_code == 0, result.output
    listed = CliRunner().invoke(cli, ["soundscapes", "list", "--presets", str(presets)])
    assert listed.exit_code == 0 and "mine" in listed.output, listed.output


def test_an_mp3_named_wav_is_played_as_what_it_is(tmp_path: Path) -> None:
    """A bed saved with the wrong ending is no bad input: it is decoded by its content."""
    mp3 = tmp_path / "bed.mp3"
    sf.write(mp3, 0.1 * np.sin(np.arange(48000) / 7.0).astype(np.float32), 24000,
             format="MP3")
    named = tmp_path / "bed.wav"
    mp3.rename(named)
    result = CliRunner().invoke(cli, ["soundscape", "render", str(named), "--duration", "2",
                                      "-o", str(tmp_path / "heard.wav")])
    assert result.exit_code == 0, result.output
    assert sf.info(tmp_path / "heard.wav").frames > 0


def test_a_recording_sheet_is_written_whole(tmp_path: Path, private_tmp: Path) -> None:  # noqa: F811
    """Found after the held-out count, so in neither half: the sheet's second file could not be
    written (its name taken by a folder) and its first stayed behind."""
    (tmp_path / "out" / "t-017_mini_lines.csv").mkdir(parents=True)
    args = ["record-sheet", "mini", "--client", str(_client(tmp_path)), "--templates-dir",
            str(TEMPLATES), "-o", str(tmp_path / "out")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    assert "t-017_mini_lines.csv" in result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["t-017_mini_lines.csv"]
    assert list(private_tmp.iterdir()) == []
