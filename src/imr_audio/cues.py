"""Soft cue sounds synthesised in code, at levels that sit under the voice.

:func:`breath_tone` fills one phase of paced breathing; :func:`chime` is a soft bell for a
change of section. Both are mono float32, start and end at exactly zero and never peak above
:data:`TONE_PEAK`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["CHIME_PEAK", "TONE_PEAK", "breath_tone", "chime"]

TONE_PEAK = 0.12
"""Peak amplitude of a breath tone (about -18 dBFS): well under eSpeak NG's speech peaks."""

CHIME_PEAK = 0.1
"""Peak amplitude of a chime (-20 dBFS): a little under a breath tone, as it is brighter."""

_PITCH_HZ = {"in": (196.0, 293.7), "hold": (293.7, 293.7), "out": (293.7, 196.0)}
_ATTACK_S = 0.25
_RELEASE_S = 0.4


def breath_tone(phase: str, duration_s: float, sample_rate_hz: int) -> npt.NDArray[np.float32]:
    """Return a soft tone that fills one breathing phase exactly.

    Rising for ``in``, steady (and softer) for ``hold``, falling for ``out``, silence for
    ``rest``.
    The pitch glides between G3 and D4 along a raised cosine; a faint octave adds warmth;
    raised-cosine attack and release keep it free of clicks.
    """
    frames = round(duration_s * sample_rate_hz)
    if phase == "rest" or frames == 0:
        return np.zeros(frames, dtype=np.float32)
    start_hz, end_hz = _PITCH_HZ[phase]
    progress = np.arange(frames) / frames
    glide = 0.5 - 0.5 * np.cos(np.pi * progress)
    freq = start_hz + (end_hz - start_hz) * glide
    angle = 2 * np.pi * np.cumsum(freq) / sample_rate_hz
    wave = np.sin(angle) + 0.2 * np.sin(2 * angle)
    envelope = np.ones(frames)
    attack = min(frames // 2, round(_ATTACK_S * sample_rate_hz))
    release = min(frames // 2, round(_RELEASE_S * sample_rate_hz))
    envelope[:attack] = 0.5 - 0.5 * np.cos(np.pi * np.arange(attack) / attack)
    envelope[frames - release :] = 0.5 + 0.5 * np.cos(np.pi * np.arange(release) / release)
    level = TONE_PEAK * (0.7 if phase == "hold" else 1.0) / 1.2
    return (wave * envelope * level).astype(np.float32)


# A small struck bowl: its partials (ratios to the fundamental), their levels and how long each
# rings (time constants as fractions of the chime's length); the fundamental is doubled 0.8 Hz
# apart for a slow shimmer. Our own design.
_CHIME_PARTIALS = ((1.0, 1.0, 0.3), (2.71, 0.3, 0.14), (5.02, 0.1, 0.07), (8.1, 0.03, 0.04))
_CHIME_BEAT_HZ = 0.8
_CHIME_ATTACK_S = 0.008  # a soft mallet: no click
_CHIME_RELEASE = 0.15  # the last 15 % fades to exactly zero


def chime(
    duration_s: float = 3.0, sample_rate_hz: int = 44100, pitch_hz: float = 523.25
) -> npt.NDArray[np.float32]:
    """Return a soft bell for a change of section, ringing out over ``duration_s`` seconds.

    A small struck bowl (default C5): a warm fundamental with a slow shimmer and three faint,
    quickly fading upper partials, an 8 ms attack and a raised-cosine release to exactly zero.
    The peak is :data:`CHIME_PEAK`. The sound is the same on every call.

    Raises
    ------
    ValueError
        If ``duration_s`` is negative or ``pitch_hz`` is not below a quarter of the rate.

    """
    if not duration_s >= 0:
        raise ValueError(f"duration_s must be non-negative, got {duration_s}")
    if not 0 < pitch_hz < sample_rate_hz / 4:
        raise ValueError(f"pitch_hz must be between 0 and {sample_rate_hz / 4:g}, got {pitch_hz}")
    frames = round(duration_s * sample_rate_hz)
    if frames == 0:
        return np.zeros(0, dtype=np.float32)
    t = np.arange(frames) / sample_rate_hz
    wave = np.zeros(frames)
    for ratio, level, ring in _CHIME_PARTIALS:
        hz = pitch_hz * ratio
        if hz >= 0.45 * sample_rate_hz:
            continue
        tone = np.sin(2 * np.pi * hz * t)
        if ratio == 1.0:
            tone = 0.5 * (tone + np.sin(2 * np.pi * (hz + _CHIME_BEAT_HZ) * t))
        wave += level * tone * np.exp(-t / (ring * duration_s))
    attack = min(frames, max(1, round(_CHIME_ATTACK_S * sample_rate_hz)))
    wave[:attack] *= 0.5 - 0.5 * np.cos(np.pi * np.arange(attack) / attack)
    release = max(1, round(_CHIME_RELEASE * frames))
    wave[frames - release :] *= 0.5 + 0.5 * np.cos(np.pi * (np.arange(release) + 1) / release)
    peak = float(np.max(np.abs(wave)))
    return (wave * (CHIME_PEAK / peak if peak > 0 else 0.0)).astype(np.float32)
