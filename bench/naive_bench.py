"""Benchmark: a hand-written pipeline against imr-audio, on the same script.

Run: ``.venv/bin/python bench/naive_bench.py [--template safe-place] [--voice neutral]``.

The naive pipeline is what a user might write by hand: one ``pyttsx3`` call per sentence
(``save_to_file`` + ``runAndWait``, in this process), then pydub: each clip ``overlay``-ed onto
the bed at its place, and ``export`` to MP3. It speaks the same filled script (the same
sentences and pauses, from :func:`imr_audio.script.prepare`) over the same procedural
bed, but has no verification, ducking, loudness mastering, captions or cache. imr-audio renders
the same template for the same client with an empty speech cache (and again with a warm one).
Both use eSpeak NG through pyttsx3 (``--voice neutral``). Prints both times and the ratio.

Measured 2026-12-06 on main after the fast beds (issue #13), quiet 2-core machine (load 0.9)::

    naive (pyttsx3 per sentence, pydub overlay, export)   22.8 s for 10.8 min of audio
    imr-audio render, empty caches (speech and beds)      11.9 s for 10.3 min of audio
    imr-audio render, warm caches                          9.3 s
    naive / imr-audio: 1.92x (cold), 2.46x (warm); cold / warm 1.28x

Measured again 2026-12-06 23:21-23:46 UTC on main (quiet machine, load 0.6-1.3; the virtual
machine ran slower than at 21:00: the warm render took 8.1-10.9 s), ten runs: two before a bed
made ahead stopped at the track's length, five after it, three (*) after the fix that a warm
render does not make its stored bed again:

    run                 1     2  |   3     4     5     6     7  |   8*    9*   10*
    naive s          30.0  22.9  | 28.1  28.4  27.6  29.9  28.8  | 30.0  29.9  30.3
    cold s           11.9  10.7  | 10.5  10.9  10.9  13.1  11.0  | 12.4  13.2  10.8
    warm s            8.4   8.1  |  9.7  10.9  10.2  10.6   9.9  | 10.2  10.2   9.5
    naive / cold     2.53  2.14  | 2.67  2.61  2.54  2.28  2.62  | 2.43  2.26  2.80
    cold / warm      1.42  1.32  | 1.08  1.00  1.07  1.24  1.11  | 1.22  1.29  1.14

Runs 3-10: cold / warm 1.00-1.29, median 1.13 (goal 1.3 met); naive / cold 2.26-2.80, median
2.57 (goal 3x not met, for the reason below).

Before (2026-12-01): naive 33.5 s, cold 24.8 s, warm 11.5 s (1.35x, 2.91x; cold/warm 2.16x).
The naive pipeline got faster too: it mixes over the same procedural bed, now made at 300x real
time or more. What is left of a cold render is mostly the warm work (mixing, mastering and the
160 kbps MP3 encoding with its measuring decode, about 8 s for 10 minutes); 3x faster than the
naive pipeline cold would need the whole render in 7.6 s, less than encoding and measuring alone.

Measured 2026-12-07 on branch coldpath (the machine shared with two other helpers' test runs;
load 1.1-1.5 when each run started), six runs: 1-3 (01:42-01:45) before the faster K-weighting
of the bed's cells, 4-6 (01:53-01:56) with it (and every change below)::

    run                 1     2     3  |   4     5     6
    naive s          31.6  31.9  28.7  | 30.0  27.5  30.0
    cold s           12.8  11.2  10.4  | 11.2  13.4  12.0
    warm s           10.2   9.5   8.3  |  9.8  12.0   9.2
    naive / cold     2.46  2.86  2.76  | 2.67  2.05  2.51
    naive / warm     3.08  3.35  3.44  | 3.06  2.30  3.28

Naive / cold 2.05-2.86, median 2.59 (goal 3x not met, for the reason below); run 5's warm
render (12.0 s) shows how loaded the machine was at times.

Where a cold render's time went (in-process progress marks and a 4-10 ms stack sampler, same
day): about 0.3 s preparing (template, lint, the engine's first worker), the cold phase (speech
in the worker processes and the bed made ahead in a thread, both on the same two cores) until
about 2.0-2.5 s, the mix's measuring pass, then the export: ffmpeg's LAME at 160 kbps took
7.15-7.28 s of user CPU on this track alone (three runs; 7.72-7.79 s with the tee and the
measuring decoder); the export stage took 7.7-10.4 s in the paired runs below, with other work
on the cores; after the last block is fed, only the encoder's queued backlog (0.2 s) and tags,
sync and companions (about 0.05 s) are left. The bed made ahead, not the speech, was the last to
finish in the cold phase: it is one thread of 1.8-2.5 s of CPU (rendering, float16, storing,
K-weighting) sharing the cores with the speech's two workers. What changed: the bed made ahead
starts before the speech engine's first worker (whose start-up left this process idle), the
engine's workers stop before the bed is waited for, the speech cache stores a batch's clips four
at a time (each file is synced; the gaps between synthesis batches were 0.29 s before and 0.12 s
after, one sampled run each, at different loads), and the voice stem is measured
(``mixdown.measure_voice``, 0.2-0.3 s) while the bed is being finished instead of after it. The
bed's cells are also K-weighted with fewer copies (0.57-0.65 s of CPU against 0.70-0.74 s for 11
minutes, the same values to the bit). In six paired cold renders before that last change
(01:38-01:41, load 1.5-2.0) the export began 0.18 s earlier (median of the pairs' differences;
-0.52 to +0.02 s); in six paired cold renders with every change (01:56-01:59, load 1.2-2.3) it
began 0.29 s earlier (-1.07 to -0.09 s, earlier in all six pairs), at 2.36-3.35 s (median 2.87)
against 2.52-4.10 s (3.29) before; whole renders 10.1-13.8 s (median 12.4) against 10.5-14.8 s
(12.7), whole-process wall A/B 0.83-1.11 (median 0.98) and CPU A/B 0.87-1.12 (median 1.00): a
difference in the whole render the machine's noise does not let one state. The MP3 and the
decoded audio are the same bytes as before (eSpeak ``neutral`` and ``calm``, MP3, WAV and FLAC,
cold and warm).

3x is not reached: with the naive pipeline at 27.5-31.9 s here, 3x needs a cold render of
9.2-10.6 s. In the paired runs the export began 2.3-3.4 s into the render and itself took
7.7-10.4 s; its floor is the encoder's 7.2-7.4 s of CPU, which nothing can overlap (its first
sample waits for the mastering gain, which waits for every clip and the whole bed). So even with
the encoder at its floor, everything before it would have to fit in 1.9-3.3 s, about what it
takes now; 3x is met only when the encoder gets a core to itself and the naive run is slow.

One run of three on main after the merge (2026-12-07 02:23-02:25 UTC, load 1.5-1.8, nothing
else running)::

    run                 1     2     3
    naive s          29.1  28.0  28.3
    cold s           11.2  11.5  10.6
    warm s            8.8  10.4   8.6
    naive / cold     2.60  2.43  2.67
    cold / warm      1.27  1.11  1.23

Naive / cold median 2.60 (goal 3x not met); cold / warm median 1.23 (goal 1.3 met).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import tempfile
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np
from pydub import AudioSegment

from imr_audio.export import ExportSettings
from imr_audio.resources import data_dir
from imr_audio.script import ScriptChoices, prepare
from imr_audio.soundscapes.catalog import SoundscapeCatalog
from imr_audio.timeline import Pause, Speech, Tone
from imr_audio.track import RenderSettings, render
from imr_audio.voice.espeak_runtime import prepare_espeak
from imr_audio.workspace import CACHE_DIR_ENV, Workspace

LEAD_IN_MS = 8000
TAIL_MS = 12000


def _say(engine: Any, text: str, path: Path) -> AudioSegment:
    engine.save_to_file(text, str(path))
    with contextlib.redirect_stdout(io.StringIO()):  # pyttsx3 prints every file it saves
        engine.runAndWait()
    for _ in range(500):  # pyttsx3 2.99 may return before the file is complete
        try:
            with wave.open(str(path), "rb") as wav:
                if wav.getnframes() > 0:
                    break
        except (OSError, EOFError, wave.Error):
            pass
        time.sleep(0.01)
    return AudioSegment.from_wav(str(path))


def naive(template: str, client: Path, voice: str, folder: Path) -> tuple[float, float]:
    """Render by hand; return (seconds taken, length of the track in seconds)."""
    workspace = Workspace.from_environment()
    prepared = prepare(workspace, template, workspace.load_profile(client),
                       ScriptChoices(voice_profile=voice))
    start = time.perf_counter()
    prepare_espeak()  # eSpeak NG from its pip package, as a system install would provide it
    import pyttsx3

    engine = pyttsx3.init()
    engine.setProperty("rate", prepared.voice_profile.rate_wpm)
    placed: list[tuple[int, AudioSegment]] = []
    clock_ms = LEAD_IN_MS
    for number, event in enumerate(prepared.timeline.events):
        if isinstance(event, Speech):
            clip = _say(engine, event.text, folder / f"s{number}.wav")
            placed.append((clock_ms, clip))
            clock_ms += int(event.slot_s * 1000) if event.slot_s else len(clip)
        elif isinstance(event, (Pause, Tone)):
            clock_ms += int(event.duration_s * 1000)
    total_ms = clock_ms + TAIL_MS
    bed_samples = SoundscapeCatalog.builtin().render("rain", total_ms / 1000, 44100, seed=0)
    pcm = (np.clip(bed_samples, -1, 1) * 32767).astype("<i2").tobytes()
    track = AudioSegment(pcm, frame_rate=44100, sample_width=2, channels=2)
    for position_ms, clip in placed:
        track = track.overlay(clip.set_channels(2).set_frame_rate(44100), position=position_ms)
    track.export(str(folder / "naive.mp3"), format="mp3", bitrate="160k")
    return time.perf_counter() - start, len(track) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--template", default="safe-place")
    parser.add_argument("--voice", default="neutral", help="a voice profile spoken by pyttsx3")
    args = parser.parse_args()
    client = data_dir("examples/clients") / "example-client.yaml"
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        os.environ[CACHE_DIR_ENV] = str(folder / "cache")
        naive_s, naive_len = naive(args.template, client, args.voice, folder)
        settings = RenderSettings(voice_profile=args.voice, export=ExportSettings(format="mp3"))
        times = []
        for _ in ("cold", "warm"):
            start = time.perf_counter()
            workspace = Workspace.from_environment()
            result = render(workspace, args.template, workspace.load_profile(client),
                            folder / "imr", settings)
            times.append(time.perf_counter() - start)
    print(f"script: {args.template} for the example client, voice {args.voice} "
          f"({os.cpu_count()} cores)")
    print(f"naive (pyttsx3 per sentence, pydub overlay, export): {naive_s:6.1f} s "
          f"for {naive_len / 60:.1f} min of audio")
    print(f"imr-audio render, empty speech cache:                 {times[0]:6.1f} s "
          f"for {result.duration_s / 60:.1f} min of audio")
    print(f"imr-audio render, warm speech cache:                  {times[1]:6.1f} s")
    print(f"ratio naive / imr-audio: {naive_s / times[0]:.2f} (cold), "
          f"{naive_s / times[1]:.2f} (warm)")


if __name__ == "__main__":
    main()
