"""Benchmark: how many times faster than real time each soundscape is generated.

Run: ``.venv/bin/python bench/soundscape_bench.py [--duration 120] [--rate 44100] [NAME ...]``.
Each bed (every intensity, the presets, and a looped recording made on the fly) is streamed in
the renderer's blocks for ``--duration`` seconds of audio; the figure is seconds of audio per
second of work (best of ``--repeat`` runs). Figures only; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from imr_audio.soundscapes.catalog import SoundscapeCatalog

CATALOG = SoundscapeCatalog.builtin()


def _speed(name: str, duration_s: float, rate: int, repeat: int) -> float:
    best = float("inf")
    for attempt in range(repeat):
        start = time.perf_counter()
        for _ in CATALOG.get(name).blocks(duration_s, rate, attempt):
            pass
        best = min(best, time.perf_counter() - start)
    return duration_s / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*")
    parser.add_argument("--duration", type=float, default=120.0)
    parser.add_argument("--rate", type=int, default=44100)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        loop = Path(folder) / "recording.flac"
        noise = np.random.default_rng(0).standard_normal((30 * 48000, 2)) * 0.05
        sf.write(loop, noise.astype(np.float32), 48000)
        names = args.names or [*CATALOG.names(), str(loop)]
        print(f"{args.duration:g} s at {args.rate} Hz; x real time (best of {args.repeat})")
        for name in names:
            label = "recording (30 s FLAC, 48 kHz)" if name == str(loop) else name
            speed = _speed(name, args.duration, args.rate, args.repeat)
            print(f"  {label:<30} {speed:8.0f}x", flush=True)


if __name__ == "__main__":
    main()
