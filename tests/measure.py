"""Measurements the tests make on decoded audio, independent of the library's own code."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy.signal import butter, sosfilt

Audio = npt.NDArray[np.float64]


def rms_db(x: npt.NDArray[np.floating]) -> float:
    """RMS level in dBFS over all samples and channels."""
    return float(10 * np.log10(np.mean(np.asarray(x, dtype=np.float64) ** 2) + 1e-20))


def segment(audio: npt.NDArray[np.floating], rate: int, start_s: float, end_s: float) -> Audio:
    """The part of ``audio`` between two times."""
    return np.asarray(audio[int(start_s * rate) : int(end_s * rate)], dtype=np.float64)


def highpass(audio: npt.NDArray[np.floating], rate: int, cutoff_hz: float) -> Audio:
    """A steep high-pass (8th-order Butterworth) along the first axis."""
    sos = butter(8, cutoff_hz, "highpass", fs=rate, output="sos")
    return np.asarray(sosfilt(sos, np.asarray(audio, dtype=np.float64), axis=0))


def ffmpeg_ebur128(path: Path) -> tuple[float, float]:
    """Integrated loudness (LUFS) and true peak (dBTP) of a file, measured by ffmpeg."""
    result = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-af",
         "ebur128=peak=true", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )
    summary = result.stderr[result.stderr.rindex("Summary:"):]
    integrated = float(summary.split("I:")[1].split("LUFS")[0])
    peak = float(summary.split("Peak:")[1].split("dBFS")[0])
    return integrated, peak


def ffprobe(path: Path) -> dict:
    """ffprobe's view of a file's format and streams."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
         str(path)], capture_output=True, text=True, check=True,
    ).stdout
    return json.loads(out)
