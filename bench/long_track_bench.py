"""Benchmark: long tracks, peak memory by length, and render time against encoding alone.

Run: ``.venv/bin/python bench/long_track_bench.py [--minutes 10 30 60] [--speed-minutes 20]
[--repeats 5]``.

* Memory: renders a track of each length (a script that repeats a resting passage, so its
  speech is quick to synthesise) in a fresh process and prints that process's peak resident
  memory (it must stay under 400 MB and roughly flat in length: mixing, mastering and encoding
  run block by block), and beside it the largest peak of its child processes after the render
  (``RUSAGE_CHILDREN``): the speech workers, which have ended before mixing, and ffmpeg.
* Speed: renders a ``--speed-minutes`` MP3 once with cold caches, then ``--repeats`` times warm,
  each warm render followed by encoding the same audio with the same encoder alone (ffmpeg's
  LAME from float PCM on stdin, as export does), and prints every pair and the medians. The
  runs are interleaved because this virtual machine's speed drifts by 10 % within minutes.

Figures only; nothing is asserted. Each render uses a private temporary cache folder.

Measured on this project's 2-core machine (2026-11-27, eSpeak NG voice ``calm-female``, MP3):

* peak memory of the rendering process: 11.5 min 251 MB, 58.9 min 258 MB (with the encoder
  feeder and bed prefetch threads; before them 224 MB, 220 MB at 30.9 min and 240 MB). An
  11-minute track peaked at 1.8 GB before mixing went block by block. Piper (the neural extra)
  added about 350 MB while it spoke in the rendering process, whatever the length.
* speed, 20.8 min, earlier code: warm render 21.9 s against encoding alone 14.1 s (1.55x);
  20.7 s against 13.8 s (1.50x); 21.7 s against 12.9 s (1.68x) on the morning of the third
  session. Then: speech workers that import only what they need (setup 1.35 s -> 0.2 s),
  float32 K-weighting and the bed filtered in a thread of its own (first pass 2.6-2.9 s ->
  1.4 s), no loudness meter on the mastered mix during encoding, and true peak oversampled only
  where it could matter. Two runs of ``--repeats 5`` on the final code: medians 17.5 s against
  13.2 s (1.33x) and 17.3 s against 13.6 s (1.27x); single runs 1.19x to 1.40x. The issue asks
  for 1.3x: this is at the line, not clear of it. Cold caches: 26.7 s.
* memory on the final code: 11.5 min 246 MB, 58.9 min 238 MB.
* Piper in a worker process of its own (one run, ``--minutes 10 --speed-minutes 0 --voice
  calm``): 11.6 min, rendering process 219 MB, largest child process 449 MB, render 46.0 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATE = """{% extends "_base.j2" %}
{% block body %}
[section Resting]
{% for n in range(REPEATS) %}
You are resting in {{ safe_place.description }} [pause 6s]
Each breath is slow and easy, and you have all the time you need. [pause 8s]
Notice the quiet around you, and how your body is supported. [pause 8s]
Your word for this place is {{ safe_place.cue_word }}. [pause 6s]
{% endfor %}
{% endblock %}
"""

SCHEMA = """id: long-rest
title: Long rest
version: 1
description: A long benchmark script.
duration_s: [60, 7200]
variables:
  safe_place.description: {type: text, required: true, description: "the place"}
  safe_place.cue_word: {type: text, required: true, max_length: 30, description: "the word"}
"""

CLIENT = """id: bench-001
preferred_name: Sam
eligibility: {psychosis: false, acute_crisis: false}
safe_place:
  description: a quiet garden on a mild afternoon
  cue_word: garden
"""

SECONDS_PER_REPEAT = 49.0  # measured: the passage above with its pauses, in calm-female


def _write_inputs(folder: Path, minutes: float) -> tuple[Path, Path]:
    templates = folder / "templates"
    templates.mkdir(exist_ok=True)
    repeats = max(1, round((minutes * 60 - 60) / SECONDS_PER_REPEAT))
    (templates / "long-rest.j2").write_text(TEMPLATE.replace("REPEATS", str(repeats)))
    (templates / "long-rest.yaml").write_text(SCHEMA)
    client = folder / "client.yaml"
    client.write_text(CLIENT)
    return templates, client


def render_once(minutes: float, folder: Path, voice: str) -> None:
    """Render one track in this process and print its length, time and peak memory."""
    from imr_audio.render import RenderSettings, render_track

    templates, client = _write_inputs(folder, minutes)
    start = time.perf_counter()
    result = render_track("long-rest", client, folder / "out",
                          RenderSettings(templates_dir=templates, soundscape="rain",
                                         voice_profile=voice))
    elapsed = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # The largest peak of any child process ended so far: the speech workers (stopped before
    # mixing) and ffmpeg (encoding, decoding what was written).
    children_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"{result.duration_s / 60:.1f} {elapsed:.1f} {peak_mb:.0f} {children_mb:.0f} "
          f"{result.loudness.integrated_lufs:.2f} {result.loudness.true_peak_dbtp:.2f}")


def _child(minutes: float, folder: Path, voice: str) -> list[str]:
    env = {**os.environ, "IMR_AUDIO_CACHE_DIR": str(folder / "cache")}
    out = subprocess.run(
        [sys.executable, __file__, "--one", str(minutes), "--folder", str(folder),
         "--voice", voice],
        env=env, capture_output=True, text=True, check=True,
    )
    return out.stdout.split()


def memory(lengths: list[float], voice: str) -> None:
    print(f"voice profile {voice}; peak resident memory of the rendering process, and the "
          "largest peak of its child processes (speech workers: eSpeak NG or Piper; ffmpeg)")
    print("length    render   rendering process   largest child   loudness")
    for minutes in lengths:
        with tempfile.TemporaryDirectory() as name:
            duration, elapsed, peak, children, lufs, tp = _child(minutes, Path(name), voice)
        print(f"{duration:>5} min {elapsed:>7} s {peak:>13} MB {children:>12} MB   "
              f"{lufs} LUFS, {tp} dBTP")


def speed(minutes: float, voice: str, repeats: int) -> None:
    import statistics

    from imr_audio.export import ExportSettings, decode_audio
    from imr_audio.export.encode import encode

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        cold = _child(minutes, folder, voice)
        track = folder / "out" / "bench-001_long-rest.mp3"
        audio, rate = decode_audio(track)
        renders, encodes = [], []
        print(f"{cold[0]} min MP3 (160 kbps CBR, stereo, 44.1 kHz); "
              f"cold render {float(cold[1]):.1f} s")
        print("run   warm render   encoding alone   ratio")
        for run in range(1, repeats + 1):  # interleaved, so that a slow spell hits both
            renders.append(float(_child(minutes, folder, voice)[1]))
            start = time.perf_counter()
            encode(audio, rate, folder / "encode-only.mp3", ExportSettings(format="mp3"))
            encodes.append(time.perf_counter() - start)
            ratio = renders[-1] / encodes[-1]
            print(f"{run:>3} {renders[-1]:>11.1f} s {encodes[-1]:>14.1f} s {ratio:>7.2f}x")
    render_s, encode_s = statistics.median(renders), statistics.median(encodes)
    print(f"median {render_s:>8.1f} s {encode_s:>14.1f} s {render_s / encode_s:>7.2f}x "
          "(warm render / encoding alone)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, nargs="*", default=[10, 30, 60])
    parser.add_argument("--speed-minutes", type=float, default=20)
    parser.add_argument("--repeats", type=int, default=3,
                        help="warm renders and encodings, interleaved (default 3)")
    parser.add_argument("--voice", default="calm-female",
                        help="voice profile (default: calm-female, eSpeak NG)")
    parser.add_argument("--one", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        render_once(args.one, args.folder, args.voice)
        return
    if args.minutes:
        memory(args.minutes, args.voice)
    if args.speed_minutes:
        speed(args.speed_minutes, args.voice, args.repeats)


if __name__ == "__main__":
    main()
