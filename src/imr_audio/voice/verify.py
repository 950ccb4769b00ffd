"""Checks applied to every synthesised clip, and trimming of the engine's own silence."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from imr_audio.errors import SynthesisError

__all__ = ["MIN_WORDS_FOR_RATE_CHECK", "trim_silence", "verify_speech"]

MIN_WORDS_FOR_RATE_CHECK = 6
"""Below this many words a clip's duration says too little about the speaking rate."""

_FRAME_S = 0.01
_LEAD_PAD_S = 0.02
_TAIL_PAD_S = 0.06
_FADE_S = 0.005


def _frame_rms_db(samples: npt.NDArray[np.float32], frame: int) -> npt.NDArray[np.float64]:
    count = len(samples) // frame
    if count == 0:
        return np.full(1, -np.inf)
    frames = samples[: count * frame].astype(np.float64).reshape(count, frame)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    with np.errstate(divide="ignore"):
        return 20 * np.log10(rms)


def trim_silence(
    samples: npt.NDArray[np.float32], sample_rate_hz: int, threshold_dbfs: float | None = None
) -> npt.NDArray[np.float32]:
    """Cut the engine's leading and trailing silence so that pauses are exactly as marked.

    Speech is taken to start at the first 10 ms frame above ``threshold_dbfs`` (RMS, dBFS;
    default: 45 dB under the loudest frame, and at least -60 dBFS); a short pad and a 5 ms fade
    keep the word onsets and decays intact.
    """
    frame = max(1, int(_FRAME_S * sample_rate_hz))
    levels = _frame_rms_db(samples, frame)
    threshold = (
        max(float(np.max(levels)) - 45.0, -60.0) if threshold_dbfs is None else threshold_dbfs
    )
    active = np.flatnonzero(levels > threshold)
    if len(active) == 0:
        return samples[:0]
    # Refine the frame-level decision to the sample: the first and last samples above the
    # threshold near the active frames. Cutting on the 10 ms grid made the same speech come out
    # shifted by a frame whenever the engine's leading silence varied.
    level = 10.0 ** (threshold / 20.0)
    head = samples[max(0, (active[0] - 1) * frame) : (active[0] + 1) * frame]
    tail_from = max(0, active[-1] * frame)
    tail = samples[tail_from : (active[-1] + 2) * frame]
    loud_head = np.flatnonzero(np.abs(head) > level)
    loud_tail = np.flatnonzero(np.abs(tail) > level)
    onset = max(0, (active[0] - 1) * frame) + (int(loud_head[0]) if len(loud_head) else frame)
    offset = tail_from + (int(loud_tail[-1]) + 1 if len(loud_tail) else frame)
    lead = onset - int(_LEAD_PAD_S * sample_rate_hz)
    start = max(0, lead)
    end = min(len(samples), offset + int(_TAIL_PAD_S * sample_rate_hz))
    out = samples[start:end].astype(np.float32, copy=True)
    if lead < 0:  # speech from the first sample (eSpeak NG): pad, so the fade spares the onset
        out = np.concatenate([np.zeros(-lead, dtype=np.float32), out])
    fade = min(int(_FADE_S * sample_rate_hz), len(out) // 2)
    if fade > 0:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        out[:fade] *= ramp
        out[-fade:] *= ramp[::-1]
    return out


def verify_speech(
    samples: npt.NDArray[np.float32],
    sample_rate_hz: int,
    word_count: int,
    rate_wpm: int,
    line: int,
) -> None:
    """Raise :class:`SynthesisError` unless ``samples`` plausibly hold the requested speech.

    Checks: not empty or silent; a duration plausible for the word count at ``rate_wpm``
    (and, for clips of at least :data:`MIN_WORDS_FOR_RATE_CHECK` words, a measured rate within
    a factor of about 1.8 of the requested one, so an unapplied rate change is caught).
    """
    where = f"script line {line}"
    if len(samples) == 0:
        raise SynthesisError(f"{where}: the engine produced no audio")
    peak = float(np.max(np.abs(samples)))
    if not np.isfinite(peak):
        raise SynthesisError(f"{where}: the engine produced invalid samples")
    rms_db = 20 * np.log10(max(float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))), 1e-12))
    if rms_db < -50.0:
        raise SynthesisError(f"{where}: the engine produced silence instead of speech")
    duration_s = len(samples) / sample_rate_hz
    words = max(word_count, 1)
    expected_s = words / rate_wpm * 60.0
    low, high = (0.55, 1.8) if words >= MIN_WORDS_FOR_RATE_CHECK else (0.2, 4.0)
    if not expected_s * low - 0.15 <= duration_s <= expected_s * high + 0.6:
        measured = words / duration_s * 60.0
        raise SynthesisError(
            f"{where}: speech lasted {duration_s:.2f} s for {words} words "
            f"({measured:.0f} wpm; asked for {rate_wpm} wpm)"
        )
