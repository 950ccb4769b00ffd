"""Benchmark: cold speech synthesis speed of each speech engine available here.

Run: ``.venv/bin/python bench/voice_bench.py [--voice calm]``. Each engine available on this
machine (pyttsx3; piper with the ``neural`` extra) speaks the same 40 imagery sentences with
the voice profile's voice for that engine, from a fresh engine (no speech cache). Prints, per
engine, the start-up time, the synthesis time and the real-time factor (seconds of speech per
second of work). Figures only; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

from imr_audio.errors import ImrAudioError
from imr_audio.timeline import count_words
from imr_audio.voice import SpeechRequest
from imr_audio.voice.registry import EngineSet
from imr_audio.workspace import Workspace

SENTENCES = [
    "Find a position that is comfortable for you right now.",
    "You can close your eyes, or let your gaze rest softly on the floor.",
    "You can open your eyes and stop at any moment.",
    "Notice the ground beneath your feet.",
    "Notice where your body is supported by the chair.",
    "Let your breathing find its own easy rhythm.",
    "There is nothing you need to do right now.",
    "Breathe in slowly, and let the breath go.",
    "With every outbreath your shoulders soften a little more.",
    "Now imagine a place where you feel safe and calm.",
    "It may be a place you know, or a place you imagine.",
    "You are sitting on a wooden bench in a quiet garden.",
    "The afternoon is mild, and the light is warm and soft.",
    "Look around you and notice what you can see.",
    "Perhaps there is sunlight on the leaves.",
    "Perhaps there is a row of tulips by the path.",
    "Now notice what you can hear in this place.",
    "You might hear birdsong, near and far away.",
    "You might hear leaves moving gently in the breeze.",
    "Notice what you can smell here.",
    "Maybe the scent of lavender, or of cut grass.",
    "Notice what you can feel against your skin.",
    "The warm wood of the bench beneath your hands.",
    "A soft breeze moving across your arms.",
    "Notice where in your body you feel this calm.",
    "Perhaps it is in your chest, a quiet warmth.",
    "Let that feeling grow a little, in its own time.",
    "This place is yours, and you can return whenever you like.",
    "Your word for this place is garden.",
    "Say the word quietly to yourself, and notice the calm it brings.",
    "Stay here for a few more breaths.",
    "Whenever you are ready, we will slowly come back to the room.",
    "Notice the chair beneath you again.",
    "Notice the sounds of the room around you.",
    "Wiggle your fingers and your toes.",
    "Take a deeper breath, and stretch if you like.",
    "When you are ready, open your eyes.",
    "Look around the room and name three things you can see.",
    "Welcome back.",
    "Thank you for taking this time for yourself.",
]


def bench_engine(workspace: Workspace, name: str, profile_id: str) -> str:
    """One line of figures for engine ``name``, or why it was skipped."""
    profile = workspace.voices.load(profile_id)
    choices = tuple(c for c in profile.choices if c.engine == name)
    if not choices:
        return f"{name:<8} skipped: profile '{profile_id}' has no voice for it"
    requests = [SpeechRequest(text, line) for line, text in enumerate(SENTENCES, start=1)]
    words = sum(count_words(text) for text in SENTENCES)
    with EngineSet(workspace.engines) as engines:
        if engines.get(name) is None:
            return f"{name:<8} skipped: not available here"
        start = time.perf_counter()
        try:
            engine, voice = engines.resolve(dataclasses.replace(profile, choices=choices))
            # The first clip loads the voice (piper) or starts the worker (pyttsx3).
            first = engine.synthesize(requests[:1], voice)
            started = time.perf_counter()
            clips = first + engine.synthesize(requests[1:], voice)
        except ImrAudioError as exc:
            return f"{name:<8} failed: {exc}"
        done = time.perf_counter()
    speech_s = sum(clip.duration_s for clip in clips)
    total_s = done - start
    return (
        f"{name:<8} {voice.voice_id:<18} {voice.rate_wpm} wpm asked, "
        f"{words / speech_s * 60:.0f} spoken; {speech_s:6.1f} s of speech; "
        f"first clip {started - start:5.2f} s; all {total_s:6.1f} s; "
        f"real-time factor {speech_s / total_s:5.1f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--voice", default="calm", help="voice profile (default: calm)")
    args = parser.parse_args()
    words = sum(count_words(text) for text in SENTENCES)
    print(f"{len(SENTENCES)} sentences, {words} words, voice profile '{args.voice}', cold")
    workspace = Workspace.from_environment()
    for name in workspace.engines.names():
        print(bench_engine(workspace, name, args.voice))


if __name__ == "__main__":
    main()
