"""Soft cue sounds synthesised in code: breath tones that sit under the voice."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["TONE_PEAK", "breath_tone"]

TONE_PEAK = 0.12
"""Peak amplitude of a breath tone (about -18 dBFS): well under eSpeak NG's speech peaks."""

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
