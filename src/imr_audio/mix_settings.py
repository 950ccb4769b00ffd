"""How speech and bed are put together: the mix's settings, a plain value.

Kept apart from :mod:`imr_audio.mix` (numpy, the meter) so that preparing a script, which
needs the lead-in and tail, does not load the audio stack.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MixSettings"]


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
