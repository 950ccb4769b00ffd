"""The tracks and note that go into a home pack, checked before anything is written.

Every track must exist, be a readable audio file in a format the page plays, prove that it is
the client's (the keyed client hash a render stores in the audio file's own metadata, else in
its sidecar: ids may share a prefix, and a track copied without its sidecar still proves it)
and have its WebVTT captions beside it. A track given in several formats goes in once, in the
format asked for, else the first given of :data:`~imr_audio.export.settings.FORMATS`. Every
problem is collected and reported at once, each naming its file; never a client's value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import mutagen
import soundfile as sf

from imr_audio.authoring.library import TemplateLibrary
from imr_audio.errors import HomePackError, ImrAudioError
from imr_audio.export.settings import FORMATS
from imr_audio.export.tags import read_provenance
from imr_audio.profile import ClientProfile
from imr_audio.trackset import companion_paths, legacy_companion_paths
from imr_audio.workspace import Workspace

__all__ = [
    "NOTE_MAX_CHARS",
    "PackTrack",
    "check_tracks",
    "read_note",
]

NOTE_MAX_CHARS = 4000
"""Longest therapist's note, in characters."""
_TITLE_MAX_CHARS = 120


@dataclass(frozen=True)
class PackTrack:
    """One track checked for a home pack."""

    source: Path
    """The audio file as given; the pack holds a copy under the same name."""
    title: str
    """The template's title, shown on the page and in the playlist."""
    duration_s: float
    """Length of the audio, in seconds, read from the file."""
    captions: Path
    """The track's WebVTT captions (``.vtt`` beside it)."""
    transcript: Path | None
    """The track's transcript (``.txt`` beside it), if there is one."""

    @property
    def file_name(self) -> str:
        """The audio file's name, in the pack as beside the original."""
        return self.source.name


def _duration_s(path: Path) -> float | None:
    """The audio's length in seconds, or None if the file is not readable audio."""
    try:
        info = sf.info(str(path))
        if info.frames > 0 and info.samplerate > 0:
            return float(info.frames / info.samplerate)
    except (sf.LibsndfileError, RuntimeError, OSError):
        pass
    try:  # M4A (AAC), which libsndfile does not read
        file = mutagen.File(path)
    except (mutagen.MutagenError, OSError):
        return None
    length = getattr(getattr(file, "info", None), "length", 0) if file is not None else 0
    return float(length) if length and length > 0 else None


def _clean_title(text: str) -> str:
    return " ".join(text.split())[:_TITLE_MAX_CHARS]


def _title(path: Path, client_id: str, templates: TemplateLibrary) -> str:
    """The template's title: from the sidecar's template id, else the title tag, else the name.

    The sidecar's template id is looked up in ``templates``; a render writes the template's
    title as the title tag, so that stands in when the template is not found here.
    """
    try:
        sidecar = json.loads(_companions(path)[2].read_text(encoding="utf-8"))
        template_id = sidecar["template"]["id"]
    except (OSError, ValueError, KeyError, TypeError):
        template_id = None
    if isinstance(template_id, str):
        try:
            return _clean_title(templates.load(template_id).title)
        except ImrAudioError:
            pass
    tag = _title_tag(path)
    if tag:
        return _clean_title(tag)
    return path.stem[len(client_id) + 1 :] or path.stem


def _title_tag(path: Path) -> str:
    """The audio file's title tag, or "" if it has none.

    MP3, M4A, OGG and FLAC through mutagen's easy keys; WAV through its ID3 ``TIT2`` frame.
    """
    try:
        file = mutagen.File(path, easy=True)
        tags = file.tags if file is not None else None
        value = None
        for key in ("title", "TIT2"):
            if tags is not None and key in tags:
                value = tags[key]
                break
    except (mutagen.MutagenError, OSError, ValueError):
        return ""
    texts = getattr(value, "text", value)  # an ID3 frame holds its texts in .text
    if isinstance(texts, (list, tuple)) and texts:
        return str(texts[0]).strip()
    return ""


def _companions(track: Path) -> tuple[Path, Path, Path]:
    """The track's transcript, captions and sidecar.

    As a render names them now (``<file>.vtt``), else as it named them before (``<stem>.vtt``)
    if those are there.
    """
    current = companion_paths(track)
    if any(path.exists() for path in current):
        return current
    legacy = legacy_companion_paths(track)
    return legacy if any(path.exists() for path in legacy) else current


def _held_client_hash(path: Path) -> str:
    """The keyed client hash the track proves it was made for; "" when it holds none.

    From the audio file's own metadata, else from its sidecar.
    """
    held = read_provenance(path).get("client_hash", "")
    if held:
        return held
    try:
        data = json.loads(_companions(path)[2].read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    value = data.get("client_hash") if isinstance(data, dict) else None
    return value if isinstance(value, str) else ""


def _track_problems(path: Path, client_id: str, client_hash: str
                    ) -> tuple[list[str], float | None]:
    """What is wrong with one track (name, file, captions), and its length in seconds."""
    problems = []
    duration_s = None
    if not path.name.startswith(f"{client_id}_"):
        problems.append(
            f"{path}: not this client's track (its name must start with the client's id and "
            "'_')"
        )
    elif (held := _held_client_hash(path)) != client_hash and path.is_file():
        # ids may share a prefix: c1's pack must not take c1_x's track c1_x_safe-place.mp3
        problems.append(
            f"{path}: not this client's track (it was made for another client)" if held else
            f"{path}: does not prove it is this client's track (no client hash in the file or "
            "a sidecar; render it again)"
        )
    if path.suffix.lower().lstrip(".") not in FORMATS:
        problems.append(f"{path}: not an audio format the pack plays ({', '.join(FORMATS)})")
    elif not path.is_file():
        problems.append(f"{path}: file not found")
    elif (duration_s := _duration_s(path)) is None:
        problems.append(f"{path}: not a readable audio file")
    captions = _companions(path)[1]
    if path.is_file() and not captions.is_file():
        problems.append(f"{captions}: captions not found (render the track again to write them)")
    elif captions.is_file():
        try:
            first = captions.read_text(encoding="utf-8").lstrip("\ufeff").split("\n", 1)[0]
        except (OSError, UnicodeDecodeError):
            first = ""
        if not first.startswith("WEBVTT"):
            problems.append(f"{captions}: not WebVTT captions")
    return problems, duration_s


def _one_format_each(tracks: Sequence[Path], fmt: str | None) -> list[Path]:
    """``tracks`` with each track (its folder and stem) once, in the preferred format given.

    With ``fmt`` a track is taken in that format (every track must have been given in it).
    """
    chosen: dict[tuple[Path, str], Path] = {}
    for path in tracks:
        key = (path.parent, path.stem)
        rank = _format_rank(path, fmt)
        if key not in chosen or rank < _format_rank(chosen[key], fmt):
            chosen[key] = path
    return [path for path in tracks if chosen[(path.parent, path.stem)] is path]


def _format_rank(path: Path, fmt: str | None) -> int:
    suffix = path.suffix.lower().lstrip(".")
    order = (fmt, *FORMATS) if fmt else FORMATS
    return order.index(suffix) if suffix in order else len(order)


def check_tracks(
    workspace: Workspace,
    profile: ClientProfile,
    tracks: Sequence[Path],
    fmt: str | None = None,
) -> tuple[PackTrack, ...]:
    """Check every track for ``profile``'s pack; raise :class:`HomePackError` naming each problem.

    A track given in several formats is taken once: in ``fmt`` if given, else in the first of
    :data:`~imr_audio.export.settings.FORMATS`. Titles come from the workspace's templates.
    """
    if not tracks:
        raise HomePackError("a home pack needs at least one track")
    tracks = _one_format_each(tracks, fmt)
    if fmt is not None:
        other = [path for path in tracks if path.suffix.lower() != f".{fmt}"]
        if other:
            raise HomePackError(f"{other[0]}: not given as {fmt.upper()} (--format {fmt})")
    problems: list[str] = []
    seen: dict[str, Path] = {}
    durations_s: list[float] = []
    for path in tracks:
        found, duration_s = _track_problems(path, profile.id,
                                            workspace.key.client_hash(profile.id))
        problems.extend(found)
        durations_s.append(duration_s or 0.0)
        if path.name in seen:
            problems.append(f"{path}: a second track named {path.name} (also {seen[path.name]})")
        seen.setdefault(path.name, path)
    if problems:
        raise HomePackError("; ".join(problems))
    checked = []
    for path, duration_s in zip(tracks, durations_s, strict=True):
        transcript, captions, _ = _companions(path)
        checked.append(
            PackTrack(
                source=path,
                title=_title(path, profile.id, workspace.templates),
                duration_s=duration_s,
                captions=captions,
                transcript=transcript if transcript.is_file() else None,
            )
        )
    return tuple(checked)


def read_note(path: Path, profile: ClientProfile) -> str | None:
    """The therapist's note (plain UTF-8 text), or None if it is empty.

    A note that uses the client's preferred name is refused: the page never holds it.
    """
    try:
        note = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise HomePackError(f"{path}: note not found") from None
    except UnicodeDecodeError:
        raise HomePackError(f"{path}: the note must be plain text in UTF-8") from None
    except OSError as exc:
        raise HomePackError(f"{path}: could not read the note ({type(exc).__name__})") from None
    if len(note) > NOTE_MAX_CHARS:
        raise HomePackError(f"{path}: the note is longer than {NOTE_MAX_CHARS} characters")
    name = re.escape(profile.preferred_name)
    if re.search(rf"(?<!\w){name}(?!\w)", note, flags=re.IGNORECASE):
        raise HomePackError(
            f"{path}: the note uses the client's preferred_name; the page never shows it "
            "(leave the name out)"
        )
    return note or None
