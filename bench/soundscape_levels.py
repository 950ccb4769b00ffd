"""Measure every built-in bed's loudness to set (or check) its fixed level constant.

Run: ``.venv/bin/python bench/soundscape_levels.py [--seeds 6] [--duration 400] [NAME ...]``.
Each bed is rendered at 44.1 kHz for several seeds and measured with pyloudnorm (BS.1770). A
bed is on target when the mean is -30 LUFS; otherwise add the printed offset to the
``design_lufs`` constant of its design. Figures only; nothing here is asserted.
"""

from __future__ import annotations

import argparse

import numpy as np
import pyloudnorm as pyln

from imr_audio.soundscapes.base import TARGET_LUFS
from imr_audio.soundscapes.catalog import SoundscapeCatalog

CATALOG = SoundscapeCatalog.builtin()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*")
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--duration", type=float, default=400.0)
    parser.add_argument("--rate", type=int, default=44100)
    args = parser.parse_args()
    names = args.names or [n for n in CATALOG.names() if not CATALOG.get(n).info.layers]
    meter = pyln.Meter(args.rate)
    for name in names:
        values = [
            meter.integrated_loudness(
                CATALOG.render(name, args.duration, args.rate, seed).astype(np.float64)
            )
            for seed in range(args.seeds)
        ]
        mean = float(np.mean(values))
        print(f"{name:<14} mean {mean:7.2f} LUFS  spread {max(values) - min(values):4.2f} LU  "
              f"offset {mean - TARGET_LUFS:+6.2f}", flush=True)


if __name__ == "__main__":
    main()
