"""Mixing: speech placed on the timeline over a soundscape bed that ducks under the voice.

Measuring is kept apart from applying: :func:`measure_stems` reads the loudness of the voice and
the bed; :func:`mix_stems` applies the gains that follow from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyloudnorm
import soxr

from imr_audio.cues import breath_tone, chime
from imr_audio.errors import ScriptMarkupError
from imr_audio.timeline import Pause, Speech, Timeline, Tone
from imr_audio.voice.base import Clip

__all__ = [
    "MixSettings",
    "Placement",
    "StemLevels",
    "duck_gain_db",
    "measure_stems",
    "mix_stems",
    "place_speech",
]

Mono = npt.NDArray[np.float32]
Stereo = npt.NDArray[np.float32]
_CONTROL_HZ = 100


@dataclass(frozen=True)
class MixSettings:
    """How speech and bed are put together."""

    sample_rate_hz: int = 44100
    """Output sample rate in Hz."""
    lead_in_s: float = 8.0
    """Bed alone before the first word, in seconds (8-10 recommended)."""
    tail_s: float = 12.0
    """Bed after the last word, in seconds (10-15 recommended); it fades out within it."""
    fade_in_s: float = 4.0
    """Fade-in of the bed at the start, in seconds."""
    fade_out_s: float = 9.0
    """Fade-out of the bed at the end, in seconds (at most ``tail_s``)."""
    bed_level_db: float = -10.0
    """Loudness of the bed alone relative to the voice, in LU (negative: quieter)."""
    duck_depth_db: float = 14.0
    """Extra reduction of the bed while the voice speaks, in dB."""
    duck_attack_s: float = 0.3
    """Time the bed takes to duck, finishing as the first word starts, in seconds."""
    duck_release_s: float = 1.8
    """Time the bed takes to come back after speech, in seconds."""
    duck_bridge_s: float = 3.5
    """Gaps in speech shorter than this keep the bed ducked (no pumping), in seconds."""


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


def _resample(clip: Clip, sample_rate_hz: int) -> Mono:
    if clip.sample_rate_hz == sample_rate_hz:
        return clip.samples
    out = soxr.resample(clip.samples, clip.sample_rate_hz, sample_rate_hz, quality="HQ")
    return np.asarray(out, dtype=np.float32)


def place_speech(
    timeline: Timeline, clips: Sequence[Clip], settings: MixSettings
) -> tuple[Mono, tuple[Placement, ...]]:
    """Lay the clips and breath tones end to end with the timeline's pauses, after the lead-in.

    Returns the mono voice stem (covering lead-in and tail) and where each speech event sits.
    Speech clips are resampled to the output rate with soxr. A breath cue takes exactly its
    slot (the cue, then silence); a cue longer than its slot is an error naming its line.
    """
    rate = settings.sample_rate_hz
    if len(clips) != len(timeline.speech):  # checked first: too few clips raised IndexError
        raise ValueError("one clip per speech event is needed")
    resampled = iter([_resample(c, rate) for c in clips])
    pieces: list[tuple[int, Mono, Speech | None]] = []
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
            samples = (chime(event.duration_s, rate) if event.phase == "chime"
                       else breath_tone(event.phase, event.duration_s, rate))
            pieces.append((cursor, samples, None))
            cursor += len(samples)
            continue
        samples = next(resampled)
        pieces.append((cursor, samples, event))
        if event.slot_s is None:
            cursor += len(samples)
            continue
        slot = round(event.slot_s * rate)
        if len(samples) > slot:
            raise ScriptMarkupError(
                f"script line {event.line}: the spoken breath cue is longer than its "
                f"{event.slot_s:g} s phase; use longer phases or cue=tone"
            )
        cursor += slot
    total = cursor + pending_pause + round(settings.tail_s * rate)
    voice = np.zeros(total, dtype=np.float32)
    placements = []
    for start, samples, speech in pieces:
        voice[start : start + len(samples)] += samples
        if speech is not None:
            placements.append(Placement(speech, start / rate, len(samples) / rate))
    return voice, tuple(placements)


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


def _integrated_lufs(samples: npt.NDArray[np.float32], rate: int) -> float:
    meter = pyloudnorm.Meter(rate)
    with np.errstate(divide="ignore"):
        return float(meter.integrated_loudness(samples.astype(np.float64)))


def measure_stems(voice: Mono, bed: Stereo, sample_rate_hz: int) -> StemLevels:
    """Measure the integrated (gated) loudness of the voice, centred in stereo, and of the bed."""
    return StemLevels(
        voice_lufs=_integrated_lufs(np.stack([voice, voice], axis=1), sample_rate_hz),
        bed_lufs=_integrated_lufs(bed, sample_rate_hz),
    )


def mix_stems(
    voice: Mono,
    bed: Stereo,
    placements: Sequence[Placement],
    levels: StemLevels,
    settings: MixSettings,
) -> tuple[Stereo, float]:
    """Mix the voice (centred) over the ducked, faded bed.

    Returns the stereo mix and the static gain applied to the bed, in dB.
    """
    rate = settings.sample_rate_hz
    frames = len(voice)
    if len(bed) < frames:
        raise ValueError("the bed is shorter than the voice stem")
    bed_gain_db = levels.voice_lufs + settings.bed_level_db - levels.bed_lufs
    control = duck_gain_db(placements, frames / rate, settings) + bed_gain_db
    gain = 10.0 ** (
        np.interp(np.arange(frames) / rate, np.arange(len(control)) / _CONTROL_HZ, control) / 20.0
    )
    fade_in = min(round(settings.fade_in_s * rate), frames)
    fade_out = min(round(min(settings.fade_out_s, settings.tail_s) * rate), frames)
    gain[:fade_in] *= 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, fade_in))
    gain[frames - fade_out :] *= 0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, fade_out))
    out = bed[:frames] * gain[:, None].astype(np.float32)
    out += voice[:, None]
    return out.astype(np.float32, copy=False), float(bed_gain_db)
