"""Benchmark: render the ~10-minute demo track and print speed and peak memory.

Run: ``.venv/bin/python bench/render_bench.py [--format mp3|m4a|ogg|opus|flac|wav]``.
Prints the real-time factor (seconds of audio per second of work), time per stage and peak
resident memory of this process and of the synthesis worker. Figures only; nothing here is
asserted.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from imr_audio.demo import DEMO_CLIENT, DEMO_TEMPLATE
from imr_audio.export import FORMATS, ExportSettings
from imr_audio.progress import Progress
from imr_audio.resources import data_dir
from imr_audio.track import RenderSettings, render
from imr_audio.workspace import Workspace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--format", default="mp3", choices=FORMATS)
    args = parser.parse_args()
    stages: dict[str, float] = {}
    current = ["setup"]
    since = [time.perf_counter()]

    def switch(stage: str) -> None:
        now = time.perf_counter()
        stages[current[0]] = stages.get(current[0], 0.0) + now - since[0]
        current[0], since[0] = stage, now

    def progress(p: Progress) -> None:
        if p.stage != current[0]:
            switch(p.stage)

    client = data_dir("examples/clients") / DEMO_CLIENT
    settings = RenderSettings(export=ExportSettings(format=args.format))
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        workspace = Workspace.from_environment()
        profile = workspace.load_profile(client)
        result = render(workspace, DEMO_TEMPLATE, profile, Path(folder), settings,
                        progress=progress)
        elapsed = time.perf_counter() - start
        switch("done")
        size = result.path.stat().st_size
    self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"track: {DEMO_TEMPLATE}, {result.duration_s / 60:.2f} min, {args.format}, "
          f"{size / 1e6:.1f} MB, {result.loudness.integrated_lufs:.2f} LUFS, "
          f"{result.loudness.true_peak_dbtp:.2f} dBTP")
    print(f"render time: {elapsed:.1f} s; real-time factor: {result.duration_s / elapsed:.1f}x")
    for stage, seconds in stages.items():
        print(f"  {stage:<10} {seconds:6.1f} s")
    print(f"peak memory: main process {self_mb:.0f} MB, synthesis worker {child_mb:.0f} MB")


if __name__ == "__main__":
    main()
