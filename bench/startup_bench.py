"""Benchmark: how long the quick commands take to start and answer (whole processes).

Run: ``.venv/bin/python bench/startup_bench.py [--runs 7] [--exe PATH]``. Each command runs
``--runs`` times after one warm-up; the figures are the median and the range of wall time, and
``python -X importtime`` names the heaviest imports of ``imr-audio --help``. Figures only.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLIENT = ROOT / "examples" / "clients" / "example-client.yaml"
COMMANDS = (
    ("--help",),
    ("templates", "list"),
    ("templates", "show", "safe-place"),
    ("lint", "safe-place", "--client", str(CLIENT)),
)


def _time(exe: str, args: tuple[str, ...], runs: int) -> list[float]:
    times = []
    for attempt in range(runs + 1):
        start = time.perf_counter()
        subprocess.run([exe, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=False)
        if attempt:  # the first run warms the disk cache
            times.append(time.perf_counter() - start)
    return times


def _heaviest_imports(python: str, count: int) -> list[tuple[int, str]]:
    out = subprocess.run([python, "-X", "importtime", "-c", "import imr_audio.cli"],
                         capture_output=True, text=True, check=True).stderr
    rows = []
    for line in out.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|(\s*)(\S+)", line)
        if match and len(match.group(2)) <= 3:  # top-level and their direct imports
            rows.append((int(match.group(1)), match.group(3)))
    return sorted(rows, reverse=True)[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--exe", default=shutil.which("imr-audio") or
                        str(Path(sys.executable).parent / "imr-audio"))
    args = parser.parse_args()
    print(f"{args.exe}: wall time over {args.runs} runs (median, min-max)")
    for command in COMMANDS:
        times = _time(args.exe, command, args.runs)
        label = " ".join(a if "/" not in a else Path(a).name for a in command)
        print(f"  imr-audio {label:<46} {statistics.median(times):5.2f} s "
              f"({min(times):.2f}-{max(times):.2f})")
    python = str(Path(args.exe).parent / "python")
    print("heaviest imports of 'import imr_audio.cli' (cumulative ms):")
    for micros, name in _heaviest_imports(python, 6):
        print(f"  {micros / 1000:7.1f}  {name}")


if __name__ == "__main__":
    main()
