"""Measurements the tests make on decoded audio, independent of the library's own code."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
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


def ffmpeg_exe() -> str:
    """The system's ffmpeg, else the one the imageio-ffmpeg package ships."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def ffmpeg_ebur128(path: Path) -> tuple[float, float]:
    """Integrated loudness (LUFS) and true peak (dBTP) of a file, measured by ffmpeg."""
    result = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostats", "-i", str(path), "-af",
         "ebur128=peak=true:framelog=verbose", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )
    summary = result.stderr[result.stderr.rindex("Summary:"):]
    integrated = float(summary.split("I:")[1].split("LUFS")[0])
    peak = float(summary.split("Peak:")[1].split("dBFS")[0])
    return integrated, peak


def ffprobe(path: Path) -> dict:
    """ffprobe's view of a file's format, streams and chapters (skips where ffprobe is not
    installed: `.ci/run` installs it, a bare machine may not have it)."""
    exe = shutil.which("ffprobe")
    if exe is None:
        pytest.skip("ffprobe is not installed")
    out = subprocess.run(
        [exe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
         "-show_chapters", str(path)], capture_output=True, text=True, check=True,
    ).stdout
    return json.loads(out)
