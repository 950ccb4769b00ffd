"""Benchmark: encode a 20-minute stereo signal through each available encoder path.

Run: ``.venv/bin/python bench/encode_bench.py [--minutes 20]``. For MP3 it compares libsndfile
(through soundfile), ffmpeg's LAME fed raw PCM on stdin, and pedalboard's LAME (if the
``pedalboard`` package is installed); for OGG Vorbis and Opus, soundfile against ffmpeg; for
M4A/AAC, ffmpeg alone. Each output is decoded back with ffmpeg and compared with the input:
length error (codec padding left in), loudness error (an encoder's own gain) and size.
Figures only; nothing here is asserted. The default encoder per format in
``imr_audio.export`` was chosen from these figures.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyloudnorm as pyln
import soundfile as sf

from imr_audio.export.ffmpeg import ffmpeg_exe

SR = 44100
KBPS = 160
Audio = npt.NDArray[np.float32]
Encoder = Callable[[Audio, int, Path], None]


def _signal(minutes: float, rate: int) -> Audio:
    """Speech-like bursts of shaped noise and a tone over a quiet noise bed, at -18 LUFS."""
    n = round(minutes * 60 * rate)
    rng = np.random.default_rng(1)
    t = np.arange(n) / rate
    bed = 0.02 * rng.standard_normal((n, 2))
    bursts = (np.sin(2 * np.pi * 0.25 * t) > 0).astype(np.float64)  # 2 s on, 2 s off
    voice = bursts * (0.2 * np.sin(2 * np.pi * 180 * t) + 0.05 * rng.standard_normal(n))
    audio = bed + voice[:, None] * np.array([0.9, 0.8])
    gain_db = -18.0 - pyln.Meter(rate).integrated_loudness(audio[: rate * 120])
    return (audio * 10 ** (gain_db / 20)).astype(np.float32)


def _soundfile(fmt: str, subtype: str, **kwargs: object) -> Encoder:
    def encode(audio: Audio, rate: int, path: Path) -> None:
        with sf.SoundFile(str(path), "w", rate, audio.shape[1], subtype, format=fmt,
                          **kwargs) as out:
            for start in range(0, len(audio), 1 << 16):  # one big write crashes OGG Vorbis
                out.write(audio[start : start + (1 << 16)])

    return encode


def _ffmpeg(*codec_args: str) -> Encoder:
    def encode(audio: Audio, rate: int, path: Path) -> None:
        cmd = [ffmpeg_exe(), "-v", "error", "-y", "-f", "f32le", "-ar", str(rate), "-ac",
               str(audio.shape[1]), "-i", "pipe:0", *codec_args, str(path)]
        subprocess.run(cmd, input=audio.tobytes(), check=True)

    return encode


def _pedalboard(quality: str | float) -> Encoder:
    def encode(audio: Audio, rate: int, path: Path) -> None:
        from pedalboard.io import AudioFile  # optional: pip install pedalboard

        with AudioFile(str(path), "w", rate, audio.shape[1], quality=quality) as out:
            for start in range(0, len(audio), 1 << 16):
                out.write(audio[start : start + (1 << 16)].T)

    return encode


def _candidates() -> dict[str, list[tuple[str, str, Encoder]]]:
    level = (320 - KBPS) / 320  # libsndfile: compression level 0..1 is 320..32 kbps CBR
    mp3 = [
        ("soundfile (libsndfile LAME) CBR", "mp3",
         _soundfile("MP3", "MPEG_LAYER_III", bitrate_mode="CONSTANT", compression_level=level)),
        ("ffmpeg libmp3lame CBR, stdin", "mp3", _ffmpeg("-c:a", "libmp3lame", "-b:a", f"{KBPS}k")),
        ("ffmpeg libmp3lame VBR -V4, stdin", "mp3", _ffmpeg("-c:a", "libmp3lame", "-q:a", "4")),
    ]
    try:
        import pedalboard  # noqa: F401
    except ImportError:
        print("(pedalboard not installed: its LAME path is left out)")
    else:
        mp3.append(("pedalboard LAME CBR", "mp3", _pedalboard(KBPS)))
    return {
        "mp3": mp3,
        "ogg": [
            ("soundfile (libsndfile Vorbis)", "ogg",
             _soundfile("OGG", "VORBIS", compression_level=0.6)),
            ("ffmpeg libvorbis -q 4, stdin", "ogg", _ffmpeg("-c:a", "libvorbis", "-q:a", "4")),
        ],
        "opus": [
            ("soundfile (libsndfile Opus)", "opus",
             _soundfile("OGG", "OPUS", compression_level=0.7)),
            ("ffmpeg libopus 96k, stdin", "opus", _ffmpeg("-c:a", "libopus", "-b:a", "96k")),
        ],
        "m4a": [
            ("ffmpeg aac 128k, stdin", "m4a", _ffmpeg("-c:a", "aac", "-b:a", "128k")),
        ],
    }


def _decode(path: Path, rate: int) -> npt.NDArray[np.float64]:
    out = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "f64le", "-ar", str(rate), "-ac",
         "2", "pipe:1"], capture_output=True, check=True,
    ).stdout
    return np.frombuffer(out, dtype=np.float64).reshape(-1, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=20.0)
    args = parser.parse_args()
    meter = pyln.Meter(SR)
    audio = _signal(args.minutes, SR)
    reference = meter.integrated_loudness(audio[: SR * 120])
    print(f"{args.minutes:g} min stereo at {SR} Hz; {KBPS} kbps for MP3; ffmpeg {ffmpeg_exe()}")
    with tempfile.TemporaryDirectory() as folder:
        for fmt, paths in _candidates().items():
            print(f"\n{fmt}:")
            for label, suffix, encode in paths:
                path = Path(folder) / f"bench.{suffix}"
                opus = suffix == "opus" and label.startswith("soundfile")
                rate = 48000 if opus else SR  # libsndfile's Opus takes 48 kHz only
                source = audio
                if opus:
                    import soxr

                    source = soxr.resample(audio, SR, rate).astype(np.float32)
                start = time.perf_counter()
                try:
                    encode(source, rate, path)
                except Exception as exc:  # a path this machine lacks: report, go on
                    print(f"  {label:<36} failed: {type(exc).__name__}: {exc}")
                    continue
                seconds = time.perf_counter() - start
                decoded = _decode(path, SR)
                length_ms = (len(decoded) - len(audio)) / SR * 1000
                loud = meter.integrated_loudness(decoded[: SR * 120]) - reference
                print(f"  {label:<36} {seconds:6.2f} s ({args.minutes * 60 / seconds:5.0f}x "
                      f"real time)  {path.stat().st_size / 1e6:5.1f} MB  "
                      f"length {length_ms:+6.1f} ms  loudness {loud:+.2f} LU")


if __name__ == "__main__":
    main()
