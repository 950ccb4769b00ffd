"""Benchmark: how many times faster than real time each soundscape is generated, on one core.

Run: ``.venv/bin/python bench/soundscape_bench.py [--duration 120] [--rate 44100] [NAME ...]``.
Each bed (every intensity, the presets, and a looped recording made on the fly) is streamed in
the renderer's blocks for ``--duration`` seconds of audio; the figure is seconds of audio per
second of process CPU time (``time.process_time``; numpy's BLAS and OpenMP pools are held to one
thread, set before numpy is imported), best of ``--repeat`` runs. The last line counts the beds
that reach 300x real time. Figures only; nothing here is asserted.

Before and after the speed-ups (x real time, 120 s at 44.1 kHz, process CPU time on one
thread, best of 3; measured on the two-core development machine while other work ran on it,
so a figure moves by up to about 10 % from run to run: two runs of the final code are shown):

    bed or preset     before   after 1  after 2
    brown-noise         440x     571x     574x
    fire                100x     335x     311x
    fire-heavy           98x     308x     317x
    fire-light          107x     331x     342x
    forest               68x     295x     303x
    forest-heavy         52x     227x     239x
    forest-light         84x     337x     344x
    forest-stream        35x     181x     184x
    night               114x     396x     418x
    night-heavy          95x     337x     364x
    night-light         134x     456x     461x
    ocean               151x     434x     423x
    ocean-heavy         159x     415x     452x
    ocean-light         152x     409x     488x
    pink-noise          438x     546x     569x
    rain                120x     426x     428x
    rain-heavy           56x     369x     391x
    rain-light          197x     441x     488x
    rain-on-fire         66x     220x     213x
    stream               71x     331x     323x
    stream-heavy         44x     293x     297x
    stream-light        104x     373x     370x
    wind                 90x     449x     438x
    wind-heavy           88x     423x     435x
    wind-light           87x     453x     447x
    recording (48 kHz)  2014x    1902x    1812x
    at 300x or more  2 of 25  20 of 25 21 of 25

What made the difference (see docs/soundscapes.md, "Speed"): steady filtered noise made in the
frequency domain, one inverse FFT per frame for all of a bed's layers (``spectral.py``); drops,
ticks, bubbles, crackles and chirps played from banks made once per render and overlap-added
by one sparse product per chunk (``events.py``); a preset's layers played as one
(``beds.Assembly``). Below 300x: ``forest-heavy`` (its birds: a phrase every 2 s, each a song
and its stereo reverberation by FFT, about 2.5 ms a phrase) and the two presets, whose cost is
that of their two beds less the shared FFT and sparse product (each layer still draws its own
noise, so that a preset stays the sum of its layers). At the line, by run: ``stream-heavy``
(three banks of events: many bubbles), ``forest`` (birds) and ``fire-heavy`` (two noise groups:
the flame flickers in the time domain, the hiss does not).

The bed cache against synthesis, for a 20-minute bed at 48 kHz (seed 0, one thread, process
CPU seconds, measured once each on the same machine; the cache's design unchanged): ``rain``
synthesised alone 2.37 s, synthesised and stored cold 3.58 s, read back from the cache 0.27 s;
``forest`` 3.93 s, 4.85 s and 0.24 s. A cached bed is read about 10-20 times faster than it is
synthesised; storing it costs about a third more than synthesising it once.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402

from imr_audio.soundscapes.catalog import SoundscapeCatalog  # noqa: E402

CATALOG = SoundscapeCatalog.builtin()
TARGET = 300.0


def _speed(name: str, duration_s: float, rate: int, repeat: int) -> float:
    best = float("inf")
    for attempt in range(repeat):
        start = time.process_time()
        for _ in CATALOG.get(name).blocks(duration_s, rate, attempt):
            pass
        best = min(best, time.process_time() - start)
    return duration_s / max(best, 1e-9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*")
    parser.add_argument("--duration", type=float, default=120.0)
    parser.add_argument("--rate", type=int, default=44100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        loop = Path(folder) / "recording.flac"
        noise = np.random.default_rng(0).standard_normal((30 * 48000, 2)) * 0.05
        sf.write(loop, noise.astype(np.float32), 48000)
        names = args.names or [*CATALOG.names(), str(loop)]
        print(
            f"{args.duration:g} s at {args.rate} Hz; x real time per CPU second, one thread "
            f"(best of {args.repeat})"
        )
        fast = beds = 0
        for name in names:
            label = "recording (30 s FLAC, 48 kHz)" if name == str(loop) else name
            speed = _speed(name, args.duration, args.rate, args.repeat)
            if name != str(loop):
                beds += 1
                fast += speed >= TARGET
            print(f"  {label:<30} {speed:8.0f}x", flush=True)
        print(f"{fast} of {beds} beds and presets at {TARGET:g}x real time or more")


if __name__ == "__main__":
    main()
