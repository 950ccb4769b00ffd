"""The beds keep their sound: spectrum and level statistics against figures of the earlier code.

The speed-ups of the beds (issue #13) changed their samples (noise drawn and shaped otherwise,
drops and bubbles taken from banks made at the start), so the golden hashes could not hold; what
must hold is how each bed sounds. For every built-in bed and preset, ``SEEDS`` renders of
``DURATION_S`` at 44.1 kHz are measured, and the means over the seeds are compared with the same
figures of the code as it was before the speed-ups (``data/bed_sound_reference.json``, written by
``.venv/bin/python tests/test_bed_sound.py --write`` on that code, commit 57e5fed):

- the long-term average spectrum in third-octave bands (31.5 Hz to 16 kHz), in dB;
- integrated loudness (pyloudnorm, BS.1770), in LUFS;
- short-term loudness (3 s windows every 0.5 s, K-weighted) percentiles 10, 50 and 95, in LUFS;
- crest factor (sample peak over RMS, both channels), in dB;
- inter-channel correlation (Pearson, L against R).

Tolerances. A new engine draws other random numbers, so its figures differ from the old ones as a
new seed's would: by chance, by about the old code's own spread between seeds. Each comparison
allows three times that spread (the standard deviation across seeds, recorded with the figures;
a mean of three seeds against another differs by about 0.8 of it, so three times is about four
standard errors) but never less than a floor that no listener would notice: 0.5 dB per band
(the just-noticeable change of a band's level is about 1 dB), 0.3 LU integrated (a tenth of the
loudness range the beds may vary, test_soundscape's +/-1 LU), 0.5 LU for the short-term
percentiles, 1 dB of crest factor (a sample peak over 40 s is a maximum: it wanders) and 0.03 of
correlation.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import numpy as np
import pyloudnorm as pyln
import pytest
from numpy.typing import NDArray
from scipy import signal

from imr_audio.meter import KWeighting
from imr_audio.soundscapes.catalog import SoundscapeCatalog

render_soundscape = SoundscapeCatalog.builtin().render

REFERENCE = Path(__file__).parent / "data" / "bed_sound_reference.json"
SR = 44100
DURATION_S = 40.0
SEEDS = (0, 1, 2)
NAMES = (
    *(
        f"{bed}{suffix}"
        for bed in ("fire", "forest", "night", "ocean", "rain", "stream", "wind")
        for suffix in ("", "-light", "-heavy")
    ),
    "brown-noise",
    "pink-noise",
    "forest-stream",
    "rain-on-fire",
)
CENTRES_HZ = 1000.0 * 2.0 ** (np.arange(-15, 13) / 3.0)  # 31.5 Hz ... 16 kHz, 28 bands
FLOORS = {
    "bands_db": 0.5, "lufs": 0.3, "short_term_lufs": 0.5, "crest_db": 1.0, "correlation": 0.03
}

Figures = dict[str, list[float]]


def _bands_db(audio: NDArray[np.float64]) -> list[float]:
    f, p = signal.welch(audio, SR, nperseg=16384, axis=0)
    power = p.mean(axis=1) * (f[1] - f[0])
    edges = CENTRES_HZ[:, None] * 2.0 ** np.array([-1.0 / 6.0, 1.0 / 6.0])
    return [
        float(10 * np.log10(power[(f >= low) & (f < high)].sum() + 1e-30)) for low, high in edges
    ]


def _short_term_lufs(audio: NDArray[np.float64]) -> list[float]:
    weighted = KWeighting(SR, 2).rows(audio.T).astype(np.float64)
    power = (weighted**2).sum(axis=0)
    hop, window = SR // 2, 3 * SR
    cumulative = np.concatenate(([0.0], np.cumsum(power)))
    starts = np.arange(0, len(power) - window + 1, hop)
    mean_square = (cumulative[starts + window] - cumulative[starts]) / window
    lufs = -0.691 + 10 * np.log10(mean_square + 1e-30)
    return [float(np.percentile(lufs, q)) for q in (10, 50, 95)]


def _figures(name: str, seed: int) -> Figures:
    audio = render_soundscape(name, DURATION_S, SR, seed).astype(np.float64)
    rms = float(np.sqrt(np.mean(audio**2)))
    return {
        "bands_db": _bands_db(audio),
        "lufs": [float(pyln.Meter(SR).integrated_loudness(audio))],
        "short_term_lufs": _short_term_lufs(audio),
        "crest_db": [float(20 * np.log10(np.abs(audio).max() / rms))],
        "correlation": [float(np.corrcoef(audio[:, 0], audio[:, 1])[0, 1])],
    }


@functools.cache
def _summary(name: str) -> dict[str, dict[str, list[float]]]:
    """Mean and standard deviation over the seeds of each figure."""
    per_seed = [_figures(name, seed) for seed in SEEDS]
    return {
        key: {
            "mean": np.mean([f[key] for f in per_seed], axis=0).round(3).tolist(),
            "std": np.std([f[key] for f in per_seed], axis=0, ddof=1).round(3).tolist(),
        }
        for key in FLOORS
    }


@functools.cache
def _reference() -> dict[str, dict[str, dict[str, list[float]]]]:
    data: dict[str, dict[str, dict[str, list[float]]]] = json.loads(
        REFERENCE.read_text(encoding="utf-8")
    )
    return data


@pytest.mark.parametrize("key", list(FLOORS))
@pytest.mark.parametrize("name", NAMES)
def test_bed_sounds_as_before(name: str, key: str) -> None:
    old = _reference()[name][key]
    new = _summary(name)[key]["mean"]
    allowed = np.maximum(FLOORS[key], 3.0 * np.asarray(old["std"]))
    off = np.abs(np.asarray(new) - np.asarray(old["mean"]))
    worst = int(np.argmax(off - allowed))
    where = f" (band {CENTRES_HZ[worst]:.0f} Hz)" if key == "bands_db" else ""
    assert np.all(off <= allowed), (
        f"{name} {key}{where}: {new[worst]:.2f} against {old['mean'][worst]:.2f} "
        f"(allowed +/-{allowed[worst]:.2f})"
    )


def test_reference_covers_every_bed() -> None:
    assert sorted(_reference()) == sorted(NAMES)


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        figures = {}
        for bed in NAMES:
            figures[bed] = _summary(bed)
            sys.stdout.write(f"{bed}\n")
        REFERENCE.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    else:  # the figures of the code as it is, against the reference
        for bed in NAMES:
            ref, now = _reference()[bed], _summary(bed)
            bands = np.asarray(now["bands_db"]["mean"]) - np.asarray(ref["bands_db"]["mean"])
            line = " ".join(
                f"{key} {now[key]['mean'][0] - ref[key]['mean'][0]:+.2f}"
                for key in ("lufs", "crest_db", "correlation")
            )
            st = np.asarray(now["short_term_lufs"]["mean"]) - ref["short_term_lufs"]["mean"]
            sys.stdout.write(
                f"{bed:<14} bands max |d| {np.abs(bands).max():.2f} dB (mean {bands.mean():+.2f})"
                f"  short-term p10/50/95 {st[0]:+.2f}/{st[1]:+.2f}/{st[2]:+.2f}  {line}\n"
            )
