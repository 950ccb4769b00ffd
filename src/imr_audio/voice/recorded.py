"""The therapist's own voice: recordings of each script line, used in place of a synthesiser.

Every distinct text of a script is one *recording line* with a stable id (its position on the
recording sheet and a short hash of its text, e.g. ``003-1f2e3d4c``). The therapist records one
file per line, named by its id; :class:`RecordedEngine` finds, decodes and levels them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyloudnorm
import soundfile as sf
import soxr

from imr_audio.audio import Clip
from imr_audio.errors import SynthesisError
from imr_audio.progress import ProgressCallback, report
from imr_audio.timeline import Speech, Timeline
from imr_audio.voice.base import SpeechRequest, VoiceInfo, VoiceSettings
from imr_audio.voice.verify import trim_silence

__all__ = [
    "RECORDED_SAMPLE_RATE_HZ",
    "RECORDED_TARGET_LUFS",
    "RecordedEngine",
    "RecordingLine",
    "line_id",
    "recording_lines",
    "speech_loudness_lufs",
]

RECORDED_SAMPLE_RATE_HZ = 44100
"""Rate every recording is resampled to, in Hz."""
RECORDED_TARGET_LUFS = -24.0
"""Speech loudness every recording is levelled to, in LUFS (see :func:`speech_loudness_lufs`)."""

_BLOCK_S = 0.1  # short gating blocks: a one-word cue is measured like a long sentence
_MIN_SPEECH_S = _BLOCK_S
_SILENT_DBFS = -60.0  # loudest 10 ms frame: below this a recording holds no speech
_MIN_SNR_DB = 15.0  # loudest frame over the noise floor: below this, only room noise
_FRAME_S = 0.01


@dataclass(frozen=True)
class RecordingLine:
    """One text to record; every speech event with this text uses the same recording."""

    id: str
    """Stable id, also the recording's file name without extension, e.g. ``003-1f2e3d4c``."""
    number: int
    """Position on the recording sheet, from 1."""
    text: str
    """What to say, exactly as the script has it."""
    script_lines: tuple[int, ...]
    """Lines of the filled script where the text is spoken (1-based, each once, in order)."""
    max_duration_s: float | None = None
    """For a breath cue: the longest the spoken cue may last (its shortest phase), seconds."""
    slow: bool = False
    """True when the text is spoken inside ``[slow]``."""


def line_id(number: int, text: str) -> str:
    """Id of the ``number``-th distinct text of a script: ``NNN-`` and 8 hex digits of its hash.

    The same text at the same place keeps its id from one sheet to the next; a changed text
    gets a new one.
    """
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
    return f"{number:03d}-{digest}"


def _text_hash(identifier: str) -> str:
    return identifier.rsplit("-", 1)[-1]


def recording_lines(timeline: Timeline) -> tuple[RecordingLine, ...]:
    """The distinct speech texts of ``timeline`` in order of first appearance, with their ids."""
    order: list[str] = []
    lines: dict[str, list[int]] = {}
    slots: dict[str, float | None] = {}
    slow: dict[str, bool] = {}
    for speech in timeline.speech:
        if speech.text not in lines:
            order.append(speech.text)
            lines[speech.text] = []
            slots[speech.text] = speech.slot_s
            slow[speech.text] = False
        if speech.line not in lines[speech.text]:
            lines[speech.text].append(speech.line)
        slot = slots[speech.text]
        if speech.slot_s is not None and (slot is None or speech.slot_s < slot):
            slots[speech.text] = speech.slot_s
        slow[speech.text] = slow[speech.text] or speech.rate_factor < 1.0
    return tuple(
        RecordingLine(
            id=line_id(number, text),
            number=number,
            text=text,
            script_lines=tuple(lines[text]),
            max_duration_s=slots[text],
            slow=slow[text],
        )
        for number, text in enumerate(order, start=1)
    )


def _levels_dbfs(samples: npt.NDArray[np.float32], sample_rate_hz: int) -> tuple[float, float]:
    """(loudest, noise floor) of a recording: RMS of 10 ms frames in dBFS.

    The noise floor is the quietest 5 % of frames (the second of silence the sheet asks for).
    """
    frame = max(1, int(_FRAME_S * sample_rate_hz))
    count = max(len(samples) // frame, 1)
    frames = np.resize(samples.astype(np.float64), count * frame).reshape(count, frame)
    levels = 10 * np.log10(np.maximum(np.mean(frames**2, axis=1), 1e-20))
    loudest = float(np.max(levels))
    return loudest, float(np.percentile(levels, 5))


def speech_loudness_lufs(samples: npt.NDArray[np.float32], sample_rate_hz: int) -> float:
    """Loudness of the speech in a mono clip, in LUFS.

    BS.1770 K-weighted and gated like integrated loudness, but over 100 ms blocks, so that a
    short cue ("Breathe in") and a long sentence are measured alike. ``-inf`` when silent.
    """
    meter = pyloudnorm.Meter(sample_rate_hz, block_size=_BLOCK_S)
    with np.errstate(divide="ignore"):
        return float(meter.integrated_loudness(samples.astype(np.float64)))


@dataclass(frozen=True)
class _Problem:
    kind: str
    line_id: str
    script_line: int


def _describe(problems: Sequence[_Problem], folder: Path) -> str:
    parts = []
    for kind in ("missing", "not on the recording sheet", "ambiguous", "unreadable", "silent"):
        found = [p for p in problems if p.kind == kind]
        if found:
            listed = ", ".join(f"{p.line_id} (script line {p.script_line})" for p in found)
            parts.append(f"{kind}: {listed}")
    return (
        f"recordings folder '{folder.name}': {len(problems)} line(s) cannot be used; "
        + "; ".join(parts)
        + " (make the recording sheet with 'imr-audio record-sheet' and name each file by its id)"
    )


class RecordedEngine:
    """Speech from the therapist's own recordings, one file per recording line.

    For a request it reads ``<line id>.<ext>`` from ``folder`` (any format soundfile reads:
    WAV, FLAC, OGG, MP3); a file named by an older sheet's id for the same text (another number,
    the same hash) is taken when there is none with the current id. Each recording is mixed to
    mono, resampled to :data:`RECORDED_SAMPLE_RATE_HZ` with soxr, trimmed of its silence and
    levelled to :data:`RECORDED_TARGET_LUFS`. Rates are ignored: a recording is what it is.
    """

    name = "recorded"

    def __init__(self, folder: Path, script: Timeline | None = None) -> None:
        """Use the recordings in ``folder`` for ``script`` (its lines give the ids).

        Without ``script`` the texts of each :meth:`synthesize` call, in order, are the script.
        Raises :class:`SynthesisError` when ``folder`` is not a folder.
        """
        if not folder.is_dir():
            raise SynthesisError(f"recordings folder '{folder}': not found")
        self.folder = folder
        self._sheet = {line.text: line for line in recording_lines(script)} if script else None
        self._levelled: dict[Path, Clip] = {}
        self.version = self._fingerprint()

    def _files(self) -> list[Path]:
        return sorted(
            p for p in self.folder.iterdir() if p.is_file() and not p.name.startswith(".")
        )

    def _fingerprint(self) -> str:
        """Changes whenever a recording in the folder is added, removed or replaced."""
        digest = hashlib.sha256()
        for path in self._files():
            stat = path.stat()
            digest.update(f"{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        return f"1-{digest.hexdigest()[:12]}"

    @property
    def settings(self) -> VoiceSettings:
        """The voice settings that stand for these recordings in a render's result."""
        return VoiceSettings(engine=self.name, voice_id=self.voices()[0].id)

    def voices(self) -> list[VoiceInfo]:
        """One voice: the recordings in this folder."""
        return [VoiceInfo(id=str(self.folder), name=f"recordings in {self.folder.name}",
                          languages=())]

    def _lines_for(self, requests: Sequence[SpeechRequest]) -> list[RecordingLine | None]:
        if self._sheet is not None:
            return [self._sheet.get(r.text) for r in requests]
        own = {line.text: line for line in recording_lines(_as_timeline(requests))}
        return [own[r.text] for r in requests]

    def _find(self, line: RecordingLine, files: Iterable[Path]) -> list[Path]:
        files = list(files)
        exact = [p for p in files if p.stem == line.id]
        if exact:
            return exact
        digest = _text_hash(line.id)
        return [p for p in files if "-" in p.stem and _text_hash(p.stem) == digest]

    def _load(self, path: Path) -> tuple[str, Clip | None]:
        """Decode, mix down, resample, trim and level one recording; or say what is wrong."""
        if path in self._levelled:
            return "", self._levelled[path]
        try:
            data, rate = sf.read(str(path), dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError, OSError, ValueError):
            return "unreadable", None
        if len(data) == 0:
            return "silent", None
        mono = np.ascontiguousarray(np.mean(data, axis=1, dtype=np.float32))
        if not np.all(np.isfinite(mono)):
            return "unreadable", None
        if rate != RECORDED_SAMPLE_RATE_HZ:
            mono = np.asarray(
                soxr.resample(mono, rate, RECORDED_SAMPLE_RATE_HZ, quality="HQ"), dtype=np.float32
            )
        loudest, noise = _levels_dbfs(mono, RECORDED_SAMPLE_RATE_HZ)
        if loudest < _SILENT_DBFS or loudest - noise < _MIN_SNR_DB:
            return "silent", None
        # Silence ends 10 dB above the room's noise, whatever the recording's level: at most
        # 45 dB and at least 20 dB under the loudest frame.
        threshold = min(max(noise + 10.0, loudest - 45.0), loudest - 20.0)
        samples = trim_silence(mono, RECORDED_SAMPLE_RATE_HZ, threshold)
        if len(samples) < _MIN_SPEECH_S * RECORDED_SAMPLE_RATE_HZ:
            return "silent", None
        loudness = speech_loudness_lufs(samples, RECORDED_SAMPLE_RATE_HZ)
        if not np.isfinite(loudness):
            return "silent", None
        gain = np.float32(10.0 ** ((RECORDED_TARGET_LUFS - loudness) / 20.0))
        clip = Clip(samples=samples * gain, sample_rate_hz=RECORDED_SAMPLE_RATE_HZ)
        self._levelled[path] = clip
        return "", clip

    def synthesize(
        self,
        requests: Sequence[SpeechRequest],
        settings: VoiceSettings,
        progress: ProgressCallback | None = None,
    ) -> list[Clip]:
        """One levelled recording per request, in order; ``settings`` and rates are ignored.

        Raises one :class:`SynthesisError` listing every line whose recording is missing,
        ambiguous, unreadable or silent (ids and script lines, never the text).
        """
        files = self._files()
        problems: list[_Problem] = []
        clips: list[Clip] = []
        lines = self._lines_for(requests)
        for done, (request, line) in enumerate(zip(requests, lines, strict=True), start=1):
            if line is None:
                problems.append(_Problem("not on the recording sheet", "?", request.line))
                continue
            found = self._find(line, files)
            kind, clip = ("missing", None) if not found else ("ambiguous", None)
            if len(found) == 1:
                kind, clip = self._load(found[0])
            if clip is None:
                if all(p.line_id != line.id for p in problems):
                    problems.append(_Problem(kind, line.id, request.line))
                continue
            clips.append(clip)
            report(progress, "synthesis", done, len(requests))
        if problems:
            raise SynthesisError(_describe(problems, self.folder))
        return clips

    def close(self) -> None:
        """Forget the decoded recordings."""
        self._levelled.clear()


def _as_timeline(requests: Sequence[SpeechRequest]) -> Timeline:
    return Timeline(events=tuple(Speech(text=r.text, line=r.line) for r in requests))
