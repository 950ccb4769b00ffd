"""Spectrogram pictures of a bed: a log-frequency PNG with labelled axes, drawn with Pillow.

:class:`Spectrogram` takes the audio block by block (a long bed never sits in memory), averages
Hann-windowed power spectra into one column per pixel, and :meth:`Spectrogram.save` draws the
picture: time across, frequency up on a log scale from 20 Hz, level in dB as colour, with the
average spectrum beside it (a pink-noise slope, -3 dB per octave, is a straight falling line).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

__all__ = ["Spectrogram"]

_PLOT_W, _PLOT_H = 900, 420  # pixels of the spectrogram itself
_LEFT, _TOP, _BOTTOM, _GAP, _SIDE_W, _BAR_W, _RIGHT = 70, 34, 46, 14, 110, 14, 56
_LOW_HZ = 20.0
_RANGE_DB = 70.0
_FREQ_TICKS_HZ = (20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000)
# A dark-to-light perceptual ramp (after matplotlib's "magma"): black, purple, red, orange, cream
_RAMP = np.array(
    [
        (0, 0, 4),
        (40, 11, 84),
        (101, 21, 110),
        (159, 42, 99),
        (212, 72, 66),
        (245, 125, 21),
        (250, 193, 39),
        (252, 253, 191),
    ],
    dtype=float,
)


class Spectrogram:
    """Accumulates the power spectra of a stereo stream of known length, one column per pixel."""

    def __init__(self, total_frames: int, sample_rate_hz: int) -> None:
        """Prepare for ``total_frames`` frames at ``sample_rate_hz``."""
        self._sr = sample_rate_hz
        self._nfft = 2 ** round(math.log2(sample_rate_hz * 0.1))  # ~10 Hz bins, 0.1 s frames
        self._hop = self._nfft // 2
        frames = max(1, (total_frames - self._nfft) // self._hop + 1)
        self._columns = max(1, min(_PLOT_W, frames))
        self._total = max(total_frames, 1)
        self._window = np.hanning(self._nfft)
        self._power = np.zeros((self._columns, self._nfft // 2 + 1))
        self._count = np.zeros(self._columns)
        self._buffer = np.zeros(0)
        self._consumed = 0  # absolute frame index of self._buffer[0]

    def add(self, block: NDArray[np.floating]) -> None:
        """Add the next ``(n, 2)`` (or mono ``(n,)``) block of the stream."""
        mono = np.asarray(block, dtype=np.float64)
        if mono.ndim == 2:
            mono = mono.mean(axis=1)
        self._buffer = np.concatenate((self._buffer, mono))
        n = (len(self._buffer) - self._nfft) // self._hop + 1
        if n <= 0:
            return
        starts = np.arange(n) * self._hop
        frames = self._buffer[starts[:, None] + np.arange(self._nfft)] * self._window
        power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
        centre = self._consumed + starts + self._nfft // 2
        column = np.minimum(centre * self._columns // self._total, self._columns - 1)
        np.add.at(self._power, column, power)
        np.add.at(self._count, column, 1)
        self._buffer = self._buffer[n * self._hop :]
        self._consumed += n * self._hop

    def save(self, path: Path, title: str = "") -> Path:
        """Draw the spectrogram as a PNG at ``path`` and return the path."""
        columns = self._column_spectra()
        top_hz = min(20000.0, self._sr / 2)
        rows_hz = _LOW_HZ * (top_hz / _LOW_HZ) ** (np.arange(_PLOT_H)[::-1] / (_PLOT_H - 1))
        bin_hz = self._sr / self._nfft
        # rows: power density at each row's frequency, averaged over the bins its band covers
        edges = rows_hz[:, None] * (top_hz / _LOW_HZ) ** (np.array([-0.5, 0.5]) / (_PLOT_H - 1))
        cumulative = np.concatenate((np.zeros((len(columns), 1)), np.cumsum(columns, axis=1)), 1)
        lo = np.clip(np.floor(edges[:, 0] / bin_hz + 0.5).astype(int), 0, columns.shape[1] - 1)
        hi = np.maximum(np.clip(np.floor(edges[:, 1] / bin_hz + 0.5).astype(int), 0,
                                columns.shape[1] - 1), lo) + 1
        bands = (cumulative[:, hi] - cumulative[:, lo]) / (hi - lo)
        # rows narrower than two bins (the low end): interpolate between bins instead
        narrow = (edges[:, 1] - edges[:, 0]) < 2 * bin_hz
        position = np.clip(rows_hz[narrow] / bin_hz, 0, columns.shape[1] - 1)
        below = np.minimum(np.floor(position).astype(int), columns.shape[1] - 2)
        weight = position - below
        bands[:, narrow] = columns[:, below] * (1 - weight) + columns[:, below + 1] * weight
        density_db = 10 * np.log10(bands.T + 1e-30)  # (rows, columns)
        mean_db = 10 * np.log10(bands.mean(axis=0) + 1e-30)
        top_db = float(np.percentile(density_db, 99.5)) if density_db.size else 0.0
        image = Image.new("RGB", self._size(), "white")
        draw = ImageDraw.Draw(image)
        font = _font(13)
        plot = _colour((density_db - top_db) / _RANGE_DB + 1.0)
        plot_img = Image.fromarray(plot, "RGB").resize((_PLOT_W, _PLOT_H), Image.Resampling.NEAREST)
        image.paste(plot_img, (_LEFT, _TOP))
        self._draw_axes(draw, font, top_hz)
        self._draw_mean(draw, font, mean_db, top_db)
        self._draw_bar(image, draw, font, top_db)
        if title:
            draw.text((_LEFT, 8), title, fill="black", font=_font(15))
        path = Path(path)
        image.save(path, format="PNG")
        return path

    def _column_spectra(self) -> NDArray[np.float64]:
        count = self._count.copy()
        power = self._power.copy()
        filled = np.flatnonzero(count)
        if filled.size == 0:
            return np.full_like(power, 1e-30)
        for c in np.flatnonzero(count == 0):  # a very short stream: copy the nearest column
            power[c], count[c] = power[filled[np.argmin(np.abs(filled - c))]], 1
        scale = 2.0 / (self._sr * np.sum(self._window**2))  # one-sided density (1/Hz)
        return power / count[:, None] * scale

    def _size(self) -> tuple[int, int]:
        width = _LEFT + _PLOT_W + _GAP + _SIDE_W + _GAP + _BAR_W + _RIGHT
        return width, _TOP + _PLOT_H + _BOTTOM

    def _y(self, hz: float, top_hz: float) -> float:
        return _TOP + (_PLOT_H - 1) * (1.0 - math.log(hz / _LOW_HZ) / math.log(top_hz / _LOW_HZ))

    def _draw_axes(self, draw: ImageDraw.ImageDraw, font: _Font, top_hz: float) -> None:
        bottom = _TOP + _PLOT_H
        draw.rectangle((_LEFT - 1, _TOP - 1, _LEFT + _PLOT_W, bottom), outline="black")
        for hz in (f for f in _FREQ_TICKS_HZ if f <= top_hz):
            y = self._y(hz, top_hz)
            label = f"{hz // 1000}k" if hz >= 1000 else str(hz)
            draw.line((_LEFT - 5, y, _LEFT - 1, y), fill="black")
            draw.text((_LEFT - 8, y), label, fill="black", font=font, anchor="rm")
        draw.text((14, _TOP + _PLOT_H / 2), "Hz", fill="black", font=font, anchor="mm")
        seconds = self._total / self._sr
        step = _nice_step(seconds / 8)
        t = 0.0
        while t <= seconds + 1e-9:
            x = _LEFT + t / max(seconds, 1e-9) * (_PLOT_W - 1)
            draw.line((x, bottom, x, bottom + 4), fill="black")
            draw.text((x, bottom + 6), f"{t:g}", fill="black", font=font, anchor="mt")
            t += step
        draw.text((_LEFT + _PLOT_W / 2, bottom + 26), "time (s)", fill="black", font=font,
                  anchor="mt")

    def _draw_mean(self, draw: ImageDraw.ImageDraw, font: _Font, mean_db: NDArray[np.float64],
                   top_db: float) -> None:
        x0 = _LEFT + _PLOT_W + _GAP
        draw.rectangle((x0, _TOP - 1, x0 + _SIDE_W, _TOP + _PLOT_H), outline="black")
        level = np.clip((mean_db - top_db) / _RANGE_DB + 1.0, 0.0, 1.0)
        points = [(x0 + 1 + v * (_SIDE_W - 2), _TOP + i) for i, v in enumerate(level)]
        draw.line(points, fill=(40, 11, 84), width=2)
        draw.text((x0 + _SIDE_W / 2, _TOP + _PLOT_H + 6), "mean", fill="black", font=font,
                  anchor="mt")

    def _draw_bar(self, image: Image.Image, draw: ImageDraw.ImageDraw, font: _Font,
                  top_db: float) -> None:
        x0 = _LEFT + _PLOT_W + 2 * _GAP + _SIDE_W
        ramp = _colour(np.linspace(1.0, 0.0, _PLOT_H)[:, None].repeat(_BAR_W, axis=1))
        image.paste(Image.fromarray(ramp, "RGB"), (x0, _TOP))
        draw.rectangle((x0 - 1, _TOP - 1, x0 + _BAR_W, _TOP + _PLOT_H), outline="black")
        for i in range(0, int(_RANGE_DB) + 1, 10):
            y = _TOP + (_PLOT_H - 1) * i / _RANGE_DB
            draw.line((x0 + _BAR_W, y, x0 + _BAR_W + 3, y), fill="black")
            draw.text((x0 + _BAR_W + 5, y), f"{top_db - i:.0f}", fill="black", font=font,
                      anchor="lm")
        draw.text((x0 + _BAR_W / 2, _TOP + _PLOT_H + 6), "dB/Hz", fill="black", font=font,
                  anchor="mt")


_Font = ImageFont.ImageFont | ImageFont.FreeTypeFont


def _font(size: int) -> _Font:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _colour(level: NDArray[np.float64]) -> NDArray[np.uint8]:
    """Map levels in [0, 1] (clipped) to RGB along the ramp."""
    x = np.clip(level, 0.0, 1.0) * (len(_RAMP) - 1)
    i = np.minimum(np.floor(x).astype(int), len(_RAMP) - 2)
    w = (x - i)[..., None]
    return np.round(_RAMP[i] * (1 - w) + _RAMP[i + 1] * w).astype(np.uint8)


def _nice_step(raw: float) -> float:
    """Round a tick step up to 1, 2 or 5 times a power of ten."""
    if raw <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1.0, 2.0, 5.0, 10.0) if m * power >= raw)
