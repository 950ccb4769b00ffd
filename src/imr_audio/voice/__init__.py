"""Voices: speech engines, voice profiles and clip verification."""

from imr_audio.voice.base import Clip, SpeechEngine, SpeechRequest, VoiceInfo, VoiceSettings
from imr_audio.voice.piper_engine import PiperEngine
from imr_audio.voice.profiles import (
    VoiceProfile,
    load_voice_profile,
    resolve_voice,
    voice_profile_names,
)
from imr_audio.voice.pyttsx3_engine import Pyttsx3Engine

__all__ = [
    "Clip",
    "PiperEngine",
    "Pyttsx3Engine",
    "SpeechEngine",
    "SpeechRequest",
    "VoiceInfo",
    "VoiceProfile",
    "VoiceSettings",
    "load_voice_profile",
    "resolve_voice",
    "voice_profile_names",
]
