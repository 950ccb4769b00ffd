"""Benchmark: how many times faster than real time each soundscape is generated, on one core.

Run: ``.venv/bin/python bench/soundscape_bench.py [--duration 120] [--rate 44100] [NAME ...]``.
Each bed (every intensity, the presets, and a looped recording made on the fly) is streamed in
the renderer's blocks for ``--duration`` seconds of audio; the figure is seconds of audio per
second of process CPU time (``time.process_time``; numpy's BLAS and OpenMP pools are held to one
thread, set before numpy is imported), best of ``--repeat`` runs. The last line counts the beds
that reach 300x real time. Figures only; nothing here is asserted.

Before and after the second round of speed-ups (x real time, 120 s at 44.1 kHz, process CPU
time on one thread, best of 3), measured on the two-core development machine while other work
ran on it (load about 1; a figure moves by 10-20 % from run to run): ``before`` is main, run
between the two runs of the final code. (The first round, from 35-200x to 20 or 21 of 25 beds at
300x, is in the history of this file and in docs/soundscapes.md.)

    bed or preset     before   after 1  after 2
    brown-noise          666x     712x     826x
    fire                 467x     575x     697x
    fire-heavy           442x     617x     642x
    fire-light           468x     702x     709x
    forest               383x     580x     610x
    forest-heavy         305x     434x     467x
    forest-light         509x     627x     681x
    forest-stream        242x     320x     354x
    night                594x     764x     774x
    night-heavy          485x     585x     592x
    night-light          685x     884x    1009x
    ocean                558x     676x     673x
    ocean-heavy          504x     586x     680x
    ocean-light          521x     597x     660x
    pink-noise           644x     790x     814x
    rain                 557x     797x     848x
    rain-heavy           452x     673x     743x
    rain-light           647x     795x     942x
    rain-on-fire         321x     419x     456x
    stream               486x     634x     711x
    stream-heavy         412x     537x     619x
    stream-light         578x     744x     848x
    wind                 626x     652x     720x
    wind-heavy           579x     584x     687x
    wind-light           640x     639x     721x
    recording (48 kHz)  1983x    1827x    1981x
    at 300x or more  24 of 25  25 of 25  25 of 25

With ``--repeat 5`` (one run each, same load): ``forest-heavy`` 313x before, 437x after;
``forest-stream`` 245x, 344x; ``rain-on-fire`` 305x, 471x; every other bed faster too (the
noises 805-835x, the rest 600-1040x). In single best-of-3 runs the wind beds, which gained
least, can fall within the noise of their figure before (``wind-light`` 639x against 640x).

What made the difference (see docs/soundscapes.md, "Speed"): steady filtered noise made in the
frequency domain, one inverse FFT per frame for all of a bed's layers (``spectral.py``), its
Gaussian values gathered from a table small enough to stay in the cache (256 KB); drops, ticks,
bubbles, crackles and chirps played from banks made once per render and overlap-added by one
sparse product per 65536 frames (``events.py``); a preset's layers played as one
(``beds.Assembly``); a bird's phrase made by one FFT convolution at one of four cheap sizes and
added straight into a buffer. Still the slowest: ``forest-stream`` (320-355x), the sum of two
beds less the shared FFT and sparse product (each layer still draws its own noise, so that a
preset stays the sum of its layers): the forest's birds (about 2 ms a phrase: song, FFT
convolution with the wood's reverberation) and the stream's three banks of events. Most of what
is left is in compiled kernels: the inverse FFTs, the sparse product (about 15 ns per 32-sample
row of an event), the table gather, and the banks made at the start (15-30 ms a bed).

The bed cache against synthesis, for a 20-minute bed at 48 kHz (seed 0, one thread, process
CPU seconds, measured once each on the same machine): before the second round of speed-ups,
``rain`` synthesised alone 2.37 s, synthesised and stored with its loudness cells cold 3.58 s,
read back from the cache 0.27 s; ``forest`` 3.93 s, 4.85 s and 0.24 s. After it (main,
2026-12-06 23:55 UTC): ``rain`` 1.87 s, 4.63 s and 0.29 s; ``forest`` 3.14 s, 5.48 s and 0.32 s.
A cached bed is read 6-10 times faster than it is synthesised; storing it (float16 segments)
with its K-weighted cells now costs more than synthesising it.

One full run on main after the merge (2026-12-06 23:20 UTC, load 0.6): 25 of 25 at 300x or
more; the lowest ``forest-stream`` 318x, ``rain-on-fire`` 349x, ``forest-heavy`` 379x; the
others 489-930x.

One run on main after this session's merges (2026-12-07 02:20 UTC, load 1.0, nothing else
running): 25 of 25 at 300x or more; the lowest ``forest-stream`` 348x, ``forest-heavy`` 429x,
``rain-on-fire`` 447x; the others 540-1011x.
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
