"""Benchmark: long tracks, peak memory by length, and render time against encoding alone.

Run: ``.venv/bin/python bench/long_track_bench.py [--minutes 10 30 60] [--speed-minutes 20]
[--repeats 5] [--distinct] [--voice calm]``.

* Memory: renders a track of each length in a fresh process and prints that process's peak
  resident memory (RSS), and the most memory all its processes took at once: the render, its
  speech workers and ffmpeg, as proportional set size (PSS: shared libraries counted once),
  sampled every 50 ms from ``/proc`` (Linux). The script repeats a resting passage, so its
  speech is quick to synthesise; ``--distinct`` makes every sentence a new one, as in a real
  script, so every clip is synthesised and must be held somewhere. The issue asks for at most
  400 MB, roughly flat in length.
* Speed: renders a ``--speed-minutes`` MP3 once with cold caches, then ``--repeats`` times warm,
  each warm render followed by encoding the same audio with the same encoder alone (ffmpeg's
  LAME from float PCM on stdin, as export does), and prints every pair and the medians. The
  runs are interleaved because this virtual machine's speed drifts by 10 % within minutes.

Figures only; nothing is asserted. Each render uses a private temporary cache folder.

Measured on this project's 2-core machine (2026-11-27, fourth session, MP3, 160 kbps):

=======================  ==========  ================  ==============
script, voice            length      render process    all processes
=======================  ==========  ================  ==============
repeating, eSpeak NG     11.5 min    197 MB            251 MB
repeating, eSpeak NG     30.9 min    215 MB            269 MB
repeating, eSpeak NG     58.9 min    239 MB            294 MB
distinct, eSpeak NG      11.8 min    201-207 MB        256-260 MB
distinct, eSpeak NG      30.9 min    239 MB            294 MB
distinct, eSpeak NG      60.4 min    252 MB            307 MB
repeating, Piper         11.6 min    198 MB            388 MB
distinct, Piper          62.1 min    248 MB            351 MB
=======================  ==========  ================  ==============

* eSpeak NG is voice profile ``calm-female``, Piper (the ``neural`` extra) ``calm``.
* Before speech went to a temporary file while mixing (``imr_audio.clipstore``), the distinct
  script took 261 / 314 MB at 11.8 min, 321 / 375 MB at 30.9 min and 391 / 446 MB at 60.4 min.
  The repeating script had hidden that growth: it holds four clips whatever its length.
* Piper: its worker decodes each sentence in windows of 128 frames (``piper_worker``). Decoded
  whole, as onnxruntime runs the voice's graph, the worker took about 430 MB while it spoke
  (20-25 MB per second of the longest sentence: here the opening's 25-word sentences) and the
  machine about 550 MB in all (549 MB in the table's first Piper run, before windows). In
  windows the worker takes about 200 MB whatever the sentence. Each render here has a fresh
  cache, so each splits the voice first, in a short process of its own (about 250 MB, the
  388 MB moment above); with the split already in the cache, a 10-minute render peaked at
  314 MB in all (195 MB worker, 119 MB render; measured once outside this bench, sampling
  the same way). Piper ran in the render process before it had a worker: 535 MB for
  that process alone.
* An 11-minute track peaked at 1.8 GB before mixing went block by block.

Speed, a 20.8-minute MP3, warm render against encoding alone (medians of ``--repeats 5``):

* morning of the third session 21.7 s / 12.9 s (1.68x); end of it 17.5 s / 13.2 s (1.33x) and
  17.3 s / 13.6 s (1.27x), after lighter speech workers, float32 K-weighting and screened true
  peak; this session's start 16.7 s / 13.0 s (1.29x, ``--repeats 3``);
* then the encoder's tap to the decoder written 32 KiB at a time instead of a packet at a time,
  and a first pass that filters only the voice (the bed's K-weighted energies come from the bed
  cache): 15.5 s / 12.9 s (**1.21x**; single runs 1.13x-1.26x);
* then speech read back from the clip store already at the mix's rate (no resampling in each
  pass): 15.2 s / 12.9 s (**1.18x**; single runs 1.16x-1.20x). Cold caches: 27.9 s.
* 2026-12-06, main after the fast beds (issue #13; 300x real time or more), quiet machine (load
  0.9-1.5), ``--repeats 3``: runs 16.6 / 12.8 s (1.29x), 15.8 / 12.4 s (1.27x), 15.7 / 12.9 s
  (1.21x); median 15.8 s / 12.8 s (**1.23x**). Cold caches: 21.8 s (was 27.9 s: the bed).
* 2026-12-06 23:30-23:44 UTC, quiet machine (load 0.7-1.5), ``--repeats 3``, the machine
  slower than at 21:00 (encoding alone 12.7-14.6 s). With the bed made ahead stopping at the
  track's length, a warm render made its stored bed again in the background whenever the
  margin reached past it: 17.7 s / 13.1 s (1.35x); the same commit before it (88a2b9a) gave
  15.3 s / 12.9 s (1.19x) in the next minutes. After the fix (a warm render waits for the
  track's length and finds it stored): runs 17.6 / 14.1 s (1.25x), 16.9 / 13.4 s (1.26x),
  16.1 / 14.6 s (1.10x); median 16.9 s / 14.1 s (**1.20x**). Cold caches: 20.1 s.

Measured again 2026-12-07 02:21 UTC on main (after the cold-path changes of the bed made ahead
and the voice measured while it finishes; load 1.0-1.6, nothing else running), one run of 3
pairs: warm 16.9 / 13.4 s (1.26x), 16.5 / 12.9 s (1.28x), 16.9 / 13.6 s (1.24x); median 16.9 s
/ 13.4 s (**1.26x**, the goal of 1.2x not met in this run: the warm render took as long as on
12-06, the encoder alone 0.7 s less). Cold caches: 19.2 s.
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
You are resting in {{ safe_place.description }}MARK. [pause 6s]
Each breath is slow and easy, and you have all the time you needMARK. [pause 8s]
Notice the quiet around you, and how your body is supportedMARK. [pause 8s]
Your word for this place is {{ safe_place.cue_word }}MARK. [pause 6s]
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
DISTINCT = ", for breath {{ n + 1 }}"  # makes every sentence of the passage a new one


def _write_inputs(folder: Path, minutes: float, distinct: bool) -> tuple[Path, Path]:
    """The script and client; ``distinct``: no sentence repeats, so every one is synthesised
    and held as a clip of its own (as in a real script), else four sentences repeat."""
    templates = folder / "templates"
    templates.mkdir(exist_ok=True)
    per_repeat_s = SECONDS_PER_REPEAT * (1.15 if distinct else 1.0)
    repeats = max(1, round((minutes * 60 - 60) / per_repeat_s))
    text = TEMPLATE.replace("REPEATS", str(repeats)).replace("MARK", DISTINCT if distinct else "")
    (templates / "long-rest.j2").write_text(text)
    (templates / "long-rest.yaml").write_text(SCHEMA)
    client = folder / "client.yaml"
    client.write_text(CLIENT)
    return templates, client


def render_once(minutes: float, folder: Path, voice: str, distinct: bool = False) -> None:
    """Render one track in this process and print its length, time and peak memory."""
    from imr_audio.track import RenderSettings, render
    from imr_audio.workspace import Workspace

    templates, client = _write_inputs(folder, minutes, distinct)
    start = time.perf_counter()
    workspace = Workspace.from_environment(templates_dir=templates)
    result = render(workspace, "long-rest", workspace.load_profile(client), folder / "out",
                    RenderSettings(soundscape="rain", voice_profile=voice))
    elapsed = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{result.duration_s / 60:.1f} {elapsed:.1f} {peak_mb:.0f} "
          f"{result.loudness.integrated_lufs:.2f} {result.loudness.true_peak_dbtp:.2f}")


def _tree_pss_kb(root: int) -> int:
    """Proportional set size (kB) of process ``root`` and all its descendants, from /proc.

    PSS shares each shared page among the processes that map it, so the sum is what the
    processes take together (RSS would count the Python and numpy libraries once per process).
    """
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text(encoding="ascii", errors="replace")
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    total = 0
    for pid in tree:
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text(encoding="ascii").splitlines()
            total += next(int(line.split()[1]) for line in rollup if line.startswith("Pss:"))
        except (OSError, StopIteration, ValueError):
            continue
    return total


def _child(minutes: float, folder: Path, voice: str, sample_s: float = 0.0,
           distinct: bool = False) -> list[str]:
    """Render in a fresh process; with ``sample_s``, also sample its process tree's memory.

    Returns the render's printed figures, and with sampling the largest total PSS (MB) its
    processes had at once (speech workers, ffmpeg and the render) at any sample.
    """
    env = {**os.environ, "IMR_AUDIO_CACHE_DIR": str(folder / "cache")}
    proc = subprocess.Popen(
        [sys.executable, __file__, "--one", str(minutes), "--folder", str(folder),
         "--voice", voice, *(["--distinct"] if distinct else [])],
        env=env, stdout=subprocess.PIPE, text=True,
    )
    peak_kb = 0
    while sample_s and proc.poll() is None:
        peak_kb = max(peak_kb, _tree_pss_kb(proc.pid))
        time.sleep(sample_s)
    out, _ = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"the render failed (exit code {proc.returncode})")
    return out.split() + ([f"{peak_kb / 1024:.0f}"] if sample_s else [])


def memory(lengths: list[float], voice: str, distinct: bool) -> None:
    print(f"voice profile {voice}: peak resident memory of the rendering process (RSS), and the "
          "largest memory all its processes took at once (PSS of the render, its speech "
          "workers and ffmpeg, sampled every 50 ms)")
    print("length    render   rendering process   all processes   loudness")
    for minutes in lengths:
        with tempfile.TemporaryDirectory() as name:
            duration, elapsed, peak, lufs, tp, tree = _child(minutes, Path(name), voice, 0.05,
                                                              distinct)
        print(f"{duration:>5} min {elapsed:>7} s {peak:>13} MB {tree:>12} MB   "
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
    parser.add_argument("--distinct", action="store_true",
                        help="memory runs: a script in which no sentence repeats (every clip "
                             "synthesised and held), instead of four repeating sentences")
    parser.add_argument("--one", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        render_once(args.one, args.folder, args.voice, args.distinct)
        return
    if args.minutes:
        memory(args.minutes, args.voice, args.distinct)
    if args.speed_minutes:
        speed(args.speed_minutes, args.voice, args.repeats)


if __name__ == "__main__":
    main()
