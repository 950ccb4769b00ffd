"""Voices: speech engines, voice profiles and clip verification.

The names below are imported on first use (PEP 562), so that a speech worker, which imports
only :mod:`imr_audio.voice.pyttsx3_worker` or :mod:`imr_audio.voice.piper_worker`, does not
import the engines (nor, for pyttsx3, numpy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imr_audio.lazy import lazy_exports

if TYPE_CHECKING:
    from imr_audio.voice.base import SpeechEngine, SpeechRequest, VoiceInfo, VoiceSettings
    from imr_audio.voice.piper_engine import PiperEngine
    from imr_audio.voice.profiles import VoiceLibrary, VoiceProfile, resolve_voice
    from imr_audio.voice.pyttsx3_engine import Pyttsx3Engine

_EXPORTS = {
    "PiperEngine": "imr_audio.voice.piper_engine",
    "Pyttsx3Engine": "imr_audio.voice.pyttsx3_engine",
    "SpeechEngine": "imr_audio.voice.base",
    "SpeechRequest": "imr_audio.voice.base",
    "VoiceInfo": "imr_audio.voice.base",
    "VoiceProfile": "imr_audio.voice.profiles",
    "VoiceSettings": "imr_audio.voice.base",
    "VoiceLibrary": "imr_audio.voice.profiles",
    "resolve_voice": "imr_audio.voice.profiles",
}

__all__ = [
    "PiperEngine",
    "Pyttsx3Engine",
    "SpeechEngine",
    "SpeechRequest",
    "VoiceInfo",
    "VoiceLibrary",
    "VoiceProfile",
    "VoiceSettings",
    "resolve_voice",
]


__getattr__ = lazy_exports(__name__, _EXPORTS)
