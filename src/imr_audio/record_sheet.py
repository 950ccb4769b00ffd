"""The record sheet: the lines a therapist reads aloud to make a track in their own voice.

``record-sheet`` writes it; ``render --recordings`` uses the recordings (see
:class:`~imr_audio.voice.recorded.RecordedEngine`). Both take the line ids from
:func:`~imr_audio.voice.recorded.recording_lines`.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from imr_audio.errors import ExportError
from imr_audio.files import (
    TEMP_SUFFIX,
    first_missing_dir,
    os_reason,
    private_dir,
    private_temp,
    publish_private,
    remove_new_dirs,
)
from imr_audio.profile import ClientProfile
from imr_audio.script import PreparedScript, ScriptChoices, prepare, require_renderable
from imr_audio.voice.recorded import RecordingLine, recording_lines
from imr_audio.workspace import Workspace

__all__ = ["RECORDING_INSTRUCTIONS", "RecordingSheet", "line_note", "write_recording_sheet"]

RECORDING_INSTRUCTIONS = (
    "Record in a quiet room, with no music, fans or other voices.",
    "Keep the same distance from the microphone (about a hand's width) for every line.",
    "Read slowly and calmly, in the voice you use in session.",
    "Leave about a second of silence before and after each line; it is cut off.",
    "Save each line as its own file named by its id, e.g. 001-1f2e3d4c.wav. Any format "
    "will do: WAV, FLAC, OGG or MP3.",
    "Put all the files in one folder and render with "
    "'imr-audio render TEMPLATE --client FILE --recordings FOLDER'.",
    "If the template or the profile changes, make a new sheet: only lines whose id changed "
    "need recording again.",
)
"""How to record, printed at the top of the sheet."""


@dataclass(frozen=True)
class RecordingSheet:
    """A written recording sheet."""

    prepared: PreparedScript
    """The filled, lint-clean script the lines come from."""
    lines: tuple[RecordingLine, ...]
    """The lines to record, in order."""
    txt_path: Path
    """The numbered sheet to read from."""
    csv_path: Path
    """The same lines as CSV (``id, number, script_lines, note, text``)."""
    json_path: Path
    """The same lines as JSON."""


def line_note(line: RecordingLine) -> str:
    """A short reading hint for a line: a breath cue's time limit, or ``slowly``."""
    notes = []
    if line.max_duration_s is not None:
        notes.append(f"breath cue, at most {line.max_duration_s:g} s")
    if line.slow:
        notes.append("slowly")
    return "; ".join(notes)


def _txt(prepared: PreparedScript, lines: tuple[RecordingLine, ...]) -> str:
    spec = prepared.spec
    out = [
        f"Recording sheet: {spec.title} ({spec.id}) for client {prepared.profile.id}",
        f"{len(lines)} lines to record.",
        "",
        "How to record:",
        *(f"- {step}" for step in RECORDING_INSTRUCTIONS),
        "",
    ]
    for line in lines:
        where = ", ".join(str(n) for n in line.script_lines)
        note = line_note(line)
        out.append(f"{line.number:>3}. {line.id}   (script line {where}" +
                   (f"; {note})" if note else ")"))
        out.append(f"     {line.text}")
        out.append("")
    return "\n".join(out)


def _csv(lines: tuple[RecordingLine, ...]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "number", "script_lines", "note", "text"])
    for line in lines:
        writer.writerow([line.id, line.number, " ".join(map(str, line.script_lines)),
                         line_note(line), line.text])
    return buffer.getvalue()


def _json(prepared: PreparedScript, lines: tuple[RecordingLine, ...]) -> str:
    data = {
        "template": prepared.spec.id,
        "client": prepared.profile.id,
        "lines": [
            {
                "id": line.id,
                "number": line.number,
                "script_lines": list(line.script_lines),
                "max_duration_s": line.max_duration_s,
                "slow": line.slow,
                "note": line_note(line),
                "text": line.text,
            }
            for line in lines
        ],
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def write_recording_sheet(
    workspace: Workspace,
    template_id: str,
    profile: ClientProfile,
    output_dir: Path,
    choices: ScriptChoices | None = None,
) -> RecordingSheet:
    """Fill ``template_id`` for a client and write its lines to record into ``output_dir``.

    Writes ``<client id>_<template>_lines.txt``, ``.csv`` and ``.json`` (0600; a new folder is
    created 0700). Refuses, like ``render``, when the client is not eligible or the filled
    script has lint errors. Use the same template, profile, voice profile and templates folder
    when rendering the recordings, or the ids will not match.
    """
    prepared = prepare(workspace, template_id, profile, choices)
    require_renderable(prepared)
    lines = recording_lines(prepared.timeline)
    stem = f"{prepared.profile.id}_{prepared.spec.id}_lines"
    paths = [output_dir / f"{stem}.{ext}" for ext in ("txt", "csv", "json")]
    texts = (_txt(prepared, lines), _csv(lines), _json(prepared, lines))
    _write_whole(output_dir, dict(zip(paths, texts, strict=True)))
    return RecordingSheet(prepared, lines, *paths)


def _write_whole(folder: Path, files: dict[Path, str]) -> None:
    """Write ``files`` into ``folder``, all or none.

    Each is written beside its place first, then all are renamed into place. A name taken by a
    folder is refused before anything is written (written one by one, the sheet's first file
    stayed when its second could not be).
    """
    for path in files:
        if path.is_dir():
            raise ExportError(f"{folder}: cannot write {path.name} (is a directory)")
    made = first_missing_dir(folder)
    temps: list[Path] = []
    done = False
    try:
        private_dir(folder)
        for path, text in files.items():
            temps.append(private_temp(folder, f"{path.suffix}{TEMP_SUFFIX}"))
            temps[-1].write_text(text, encoding="utf-8", newline="\n")
        for temp, path in zip(temps, files, strict=True):
            publish_private(temp, path)
        done = True
    except OSError as exc:
        raise ExportError(
            f"{folder}: cannot write the recording sheet ({os_reason(exc)})"
        ) from None
    finally:
        for temp in temps:
            with contextlib.suppress(OSError):
                temp.unlink()
        if not done:
            remove_new_dirs(made, folder)
