"""Mixing: speech placed on the timeline over a soundscape bed that ducks under the voice.

The pieces the block-by-block mixdown (:mod:`imr_audio.mixdown`) is made of: the voice stem's
layout (:func:`layout_speech`), the bed's static level from the stems' loudness
(:func:`bed_level_db`; the mixdown measures, this applies), its ducking under speech
(:func:`duck_gain_db`), the fades and the gain per block (:func:`bed_gain`), and the mix of one
block (:func:`mix_block`).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from imr_audio.audio import Clip
from imr_audio.clipstore import StoredClip, resample_clip
from imr_audio.cues import breath_tone, chime
from imr_audio.errors import ScriptMarkupError
from imr_audio.meter import CELL_HZ
from imr_audio.mix_settings import MixSettings
from imr_audio.timeline import Pause, Speech, Timeline, Tone

__all__ = [
    "MixSettings",
    "Placement",
    "SpeechLayout",
    "StemLevels",
    "bed_gain",
    "bed_level_db",
    "bed_power",
    "duck_gain_db",
    "layout_speech",
    "mix_block",
    "place_speech",
]

Mono = npt.NDArray[np.float32]
Stereo = npt.NDArray[np.float32]
_CONTROL_HZ = CELL_HZ  # the bed's gain control points: 100 Hz, on the meter's cell edges


@dataclass(frozen=True)
class Placement:
    """Where one speech event sits in the finished track."""

    speech: Speech
    """The event."""
    start_s: float
    """Start time in the track, in seconds."""
    duration_s: float
    """Length of its clip, in seconds."""

    @property
    def end_s(self) -> float:
        """End time in the track, in seconds."""
        return self.start_s + self.duration_s


@dataclass(frozen=True)
class StemLevels:
    """Measured loudness of the stems before mixing."""

    voice_lufs: float
    """Integrated loudness of the voice stem, LUFS."""
    bed_lufs: float
    """Integrated loudness of the bed stem (before fades and ducking), LUFS."""


@dataclass(frozen=True)
class _Piece:
    """One sound in the voice stem: a speech clip (resampled when needed) or a cue tone."""

    start: int
    """First frame in the track, at the output rate."""
    frames: int
    """Length in frames, at the output rate."""
    clip: Clip | StoredClip | None
    """The speech clip (in memory at its engine's rate, or stored at the output rate); None
    for a tone."""
    tone: Mono | None
    """The tone's samples at the output rate; None for speech."""


class SpeechLayout:
    """The voice stem as a list of placed sounds, rendered a block at a time.

    An hour of voice stem at 44.1 kHz is 635 MB of floats; the layout holds only the clips and
    resamples each one (or reads it back from a :class:`~imr_audio.clipstore.ClipStore`) when a
    block first needs it, so long tracks mix in bounded memory. Identical breath tones share one
    array. ``render(0, frames)`` is the whole stem.
    """

    def __init__(self, pieces: Sequence[_Piece], frames: int, sample_rate_hz: int) -> None:
        """Lay out ``pieces`` (in start order) over a stem of ``frames`` frames."""
        self._pieces = list(pieces)
        self._starts = [p.start for p in self._pieces]
        self._longest = max((p.frames for p in self._pieces), default=0)
        self.frames = frames
        """Length of the stem in frames (lead-in and tail included)."""
        self.sample_rate_hz = sample_rate_hz
        """Rate of the stem, Hz."""
        self._resampled: dict[int, Mono] = {}

    def _samples(self, index: int) -> Mono:
        piece = self._pieces[index]
        if piece.tone is not None:
            return piece.tone
        if index not in self._resampled:
            assert piece.clip is not None
            clip = piece.clip.load() if isinstance(piece.clip, StoredClip) else piece.clip
            self._resampled[index] = resample_clip(clip, self.sample_rate_hz)
        return self._resampled[index]

    def render(self, start: int, stop: int) -> Mono:
        """The stem's frames ``start`` to ``stop`` (mono float32).

        Blocks are meant to be asked for in order: the resampled clips of earlier blocks are
        let go as soon as a block starts after them.
        """
        out = np.zeros(max(stop - start, 0), dtype=np.float32)
        for index in [i for i in self._resampled if self._pieces[i].start + self._pieces[i].frames
                      <= start]:
            del self._resampled[index]
        first = bisect.bisect_left(self._starts, start - self._longest)
        last = bisect.bisect_left(self._starts, stop)
        for index in range(first, last):
            piece = self._pieces[index]
            lo, hi = max(piece.start, start), min(piece.start + piece.frames, stop)
            if lo < hi:
                samples = self._samples(index)
                out[lo - start : hi - start] += samples[lo - piece.start : hi - piece.start]
        return out


def layout_speech(
    timeline: Timeline, clips: Sequence[Clip | StoredClip], settings: MixSettings
) -> tuple[SpeechLayout, tuple[Placement, ...]]:
    """Lay the clips and breath tones end to end with the timeline's pauses, after the lead-in.

    Returns the voice stem's layout (covering lead-in and tail) and where each speech event
    sits. Speech clips are resampled to the output rate with soxr. A breath cue takes exactly
    its slot (the cue, then silence); a cue longer than its slot is an error naming its line.
    """
    rate = settings.sample_rate_hz
    if len(clips) != len(timeline.speech):  # checked first: too few clips raised IndexError
        raise ValueError("one clip per speech event is needed")
    clip_iter = iter(clips)
    pieces: list[_Piece] = []
    placements: list[Placement] = []
    tones: dict[tuple[str, float], Mono] = {}
    cursor = round(settings.lead_in_s * rate)
    pending_pause = 0
    for event in timeline.events:
        if isinstance(event, Pause):
            pending_pause += round(event.duration_s * rate)
            continue
        if not isinstance(event, (Speech, Tone)):
            continue
        if pieces:
            cursor += pending_pause
        pending_pause = 0
        if isinstance(event, Tone):
            key = (event.phase, event.duration_s)
            if key not in tones:  # a breathing track repeats a few tones hundreds of times
                tones[key] = (chime(event.duration_s, rate) if event.phase == "chime"
                              else breath_tone(event.phase, event.duration_s, rate))
            samples = tones[key]
            pieces.append(_Piece(cursor, len(samples), None, samples))
            cursor += len(samples)
            continue
        clip = next(clip_iter)
        if isinstance(clip, StoredClip) and clip.sample_rate_hz == rate:
            frames = clip.frames
        else:  # the exact length; resampled again when mixed
            frames = len(resample_clip(clip.load() if isinstance(clip, StoredClip) else clip,
                                       rate))
        pieces.append(_Piece(cursor, frames, clip, None))
        placements.append(Placement(event, cursor / rate, frames / rate))
        if event.slot_s is None:
            cursor += frames
            continue
        slot = round(event.slot_s * rate)
        if frames > slot:
            raise ScriptMarkupError(
                f"script line {event.line}: the spoken breath cue is longer than its "
                f"{event.slot_s:g} s phase; use longer phases or cue=tone"
            )
        cursor += slot
    total = cursor + pending_pause + round(settings.tail_s * rate)
    return SpeechLayout(pieces, total, rate), tuple(placements)


def place_speech(
    timeline: Timeline, clips: Sequence[Clip | StoredClip], settings: MixSettings
) -> tuple[Mono, tuple[Placement, ...]]:
    """The whole voice stem of :func:`layout_speech` as one mono array, and the placements."""
    layout, placements = layout_speech(timeline, clips, settings)
    return layout.render(0, layout.frames), placements


def duck_gain_db(
    placements: Sequence[Placement], duration_s: float, settings: MixSettings
) -> npt.NDArray[np.float64]:
    """Return the bed's ducking gain in dB at 100 Hz: 0 when alone, ``-duck_depth_db`` under speech.

    Speech runs separated by less than ``duck_bridge_s`` are joined. Each run is approached
    with a raised-cosine attack that ends as the run starts (the bed is fully down at the first
    word) and left with a raised-cosine release.
    """
    count = int(np.ceil(duration_s * _CONTROL_HZ)) + 1
    amount = np.zeros(count)
    runs: list[list[float]] = []
    for p in placements:
        if runs and p.start_s - runs[-1][1] < settings.duck_bridge_s:
            runs[-1][1] = max(runs[-1][1], p.end_s)
        else:
            runs.append([p.start_s, p.end_s])
    times = np.arange(count) / _CONTROL_HZ
    for start, end in runs:
        attack = np.clip((times - (start - settings.duck_attack_s)) / settings.duck_attack_s, 0, 1)
        release = np.clip(1 - (times - end) / settings.duck_release_s, 0, 1)
        shape = np.where(times < start, attack, np.where(times > end, release, 1.0))
        amount = np.maximum(amount, 0.5 - 0.5 * np.cos(np.pi * shape))
    return -settings.duck_depth_db * amount


def bed_level_db(levels: StemLevels, settings: MixSettings) -> float:
    """Static gain of the bed that puts it ``settings.bed_level_db`` LU from the voice, dB."""
    return levels.voice_lufs + settings.bed_level_db - levels.bed_lufs


def bed_gain(
    control_db: npt.NDArray[np.float64],
    start: int,
    stop: int,
    frames: int,
    settings: MixSettings,
) -> npt.NDArray[np.float32]:
    """The bed's linear gain for frames ``start`` to ``stop`` of a track of ``frames`` frames.

    ``control_db`` is the bed's gain at 100 Hz (static level plus ducking, see
    :func:`duck_gain_db`); the raised-cosine fade-in and fade-out are applied on top.
    """
    rate = settings.sample_rate_hz
    # Only the control points around this block, as linear gains (between points 10 ms apart
    # the curve is interpolated linearly: no per-sample exponential).
    first = max(0, int(start / rate * _CONTROL_HZ) - 1)
    last = min(len(control_db), int(stop / rate * _CONTROL_HZ) + 3)
    points = 10.0 ** (control_db[first:last] / 20.0)
    gain = np.interp(np.arange(start, stop) / rate,
                     np.arange(first, last) / _CONTROL_HZ, points)
    fade_in, fade_out = _fade_frames(frames, settings)
    if start < fade_in or stop > frames - fade_out:
        gain *= _fades(np.arange(start, stop), frames, settings)
    return gain.astype(np.float32)


def _fade_frames(frames: int, settings: MixSettings) -> tuple[int, int]:
    """Lengths of the bed's fade-in and fade-out in a track of ``frames`` frames."""
    rate = settings.sample_rate_hz
    return (min(round(settings.fade_in_s * rate), frames),
            min(round(min(settings.fade_out_s, settings.tail_s) * rate), frames))


def _fades(positions: npt.NDArray[np.floating | np.integer], frames: int,
           settings: MixSettings) -> npt.NDArray[np.float64]:
    """The raised-cosine fade-in and fade-out's gain at frame ``positions`` (1 between them)."""
    fade_in, fade_out = _fade_frames(frames, settings)
    rising = np.clip(positions / max(fade_in - 1, 1), 0.0, 1.0) if fade_in else 1.0
    falling = (np.clip((positions - (frames - fade_out)) / max(fade_out - 1, 1), 0.0, 1.0)
               if fade_out else 0.0)
    return np.asarray((0.5 - 0.5 * np.cos(np.pi * rising)) * (0.5 + 0.5 * np.cos(np.pi * falling)))


def bed_power(
    control_db: npt.NDArray[np.float64], cells: int, frames: int, settings: MixSettings
) -> npt.NDArray[np.float64]:
    """The bed's mean squared gain over each of ``cells`` 10 ms cells (as :func:`bed_gain`).

    The cells are :func:`imr_audio.meter.cell_edges`'s, and the control points lie on their
    edges, so between two points ``a`` and ``b`` the gain is linear and its mean square over
    the cell is ``(a² + ab + b²) / 3``. The fades' mean square over a cell is taken by
    Simpson's rule (start, middle and end of the cell). A cell past the track's end gets the
    last point's gain.
    """
    rate = settings.sample_rate_hz
    index = np.arange(cells)
    points = 10.0 ** (control_db / 20.0)
    a = points[np.minimum(index, len(points) - 1)]
    b = points[np.minimum(index + 1, len(points) - 1)]
    first = index * rate // _CONTROL_HZ
    last = (index + 1) * rate // _CONTROL_HZ - 1
    fades = (_fades(first, frames, settings) ** 2
             + 4.0 * _fades((first + last) / 2, frames, settings) ** 2
             + _fades(last, frames, settings) ** 2) / 6.0
    return np.asarray((a * a + a * b + b * b) / 3.0 * fades)


def mix_block(voice: Mono, bed: Stereo, gain: npt.NDArray[np.float32]) -> Stereo:
    """One block of the mix: the voice, centred, over the bed scaled by ``gain``."""
    out = bed * gain[:, None]
    out += voice[:, None]
    return out.astype(np.float32, copy=False)
