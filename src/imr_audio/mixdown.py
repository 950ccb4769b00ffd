"""Mix, master and encode a track block by block, in memory that does not grow with its length.

An hour of stereo at 44.1 kHz is 1.3 GB of float samples, so nothing here holds a whole track.
The voice stem is a :class:`~imr_audio.mix.SpeechLayout` (clips placed, rendered per block); the
bed comes in blocks from the bed cache. Two passes over the track, each a stream of blocks:

1. measuring: the voice's and the bed's loudness (so the bed sits ``bed_level_db`` under the
   voice), and from them the mix's loudness (see :func:`_measure`; the bed's energies come
   from the bed cache, so on a warm cache this pass filters only the voice);
2. applying: the mix, with the mastering gain and the true-peak limiter, into the encoder. What
   the encoder writes is decoded again while it is written and measured; if a lossy codec moved
   the loudness or the true peak past the targets, this pass runs again corrected.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import shutil
import tempfile
import threading
from collections.abc import Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import soxr

from imr_audio.errors import MasteringError
from imr_audio.export import ExportedTrack, ExportSettings, TrackTags, export_blocks
from imr_audio.master import LoudnessMeasurement, MasterSettings, StreamLimiter, gain_slope
from imr_audio.meter import (
    GateSums,
    KWeighting,
    LoudnessMeter,
    gate_cells,
    gated_lufs,
    track_weights,
)
from imr_audio.mix import (
    MixSettings,
    SpeechLayout,
    StemLevels,
    bed_gain,
    bed_level_db,
    bed_power,
    duck_gain_db,
    mix_block,
)
from imr_audio.mixplan import BedChoice, MixPlan
from imr_audio.progress import ProgressCallback, Together, report
from imr_audio.soundscapes.bedcache import BedCache

__all__ = ["BLOCK_FRAMES", "Mixdown", "VoiceLoudness", "measure_voice", "mixdown"]

log = logging.getLogger(__name__)

BLOCK_FRAMES = 1 << 16
"""Frames per block (1.5 s at 44.1 kHz)."""
_ATTEMPTS = 3

Audio = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Mixdown:
    """What :func:`mixdown` made and measured."""

    exported: ExportedTrack
    """The published file, measured on its decoded audio."""
    bed_gain_db: float
    """Static gain applied to the bed before ducking, in dB."""
    levels: StemLevels
    """Loudness of the voice and the bed before mixing."""
    mix_lufs: float
    """Loudness of the mix before mastering, LUFS (from the stems; see :func:`_measure`)."""
    master_gain_db: float
    """Gain the mastering applied before the limiter (last attempt), in dB."""
    attempts: int
    """Encodings it took (more than 1 when a codec moved loudness or peaks)."""


@dataclass(frozen=True)
class VoiceLoudness:
    """The voice stem's half of pass 1 (see :func:`measure_voice`)."""

    frames: int
    """Frames of the layout it was measured on."""
    block_energies: npt.NDArray[np.float64]
    """K-weighted mean energy of every BS.1770 gating block (blocks x 1)."""


def measure_voice(layout: SpeechLayout, progress: ProgressCallback | None = None
                  ) -> VoiceLoudness:
    """K-weight the voice stem of ``layout`` block by block and sum it per gating block.

    :func:`mixdown` does this itself when it is not given the result; a render does it while a
    bed made ahead is still being finished, so that the two overlap. ``progress`` hears of each
    block (stage ``voice``).
    """
    rate, frames = layout.sample_rate_hz, layout.frames
    voice_filter, sums = KWeighting(rate, 1), GateSums(rate, 1)
    count = -(-frames // BLOCK_FRAMES)
    for done, start in enumerate(range(0, frames, BLOCK_FRAMES), start=1):
        voice = layout.render(start, min(start + BLOCK_FRAMES, frames))
        k_voice = voice_filter.rows(voice[None, :])
        sums.add_rows(np.square(k_voice, out=k_voice))
        report(progress, "voice", done, count)
    return VoiceLoudness(frames, sums.block_energies())


class _Conformer:
    """Brings mix blocks to the export's channels and rate (mono: the channels' mean)."""

    def __init__(self, sample_rate_hz: int, settings: ExportSettings) -> None:
        self.channels = settings.channels or 2
        self.rate = settings.output_rate_hz(sample_rate_hz)
        self._stream = (
            soxr.ResampleStream(sample_rate_hz, self.rate, self.channels, dtype="float32",
                                quality="VHQ")
            if self.rate != sample_rate_hz
            else None
        )

    def __call__(self, block: Audio, last: bool) -> Audio:
        if self.channels == 1:
            block = block.mean(axis=1, keepdims=True, dtype=np.float32)
        if self._stream is None:
            return block
        out = self._stream.resample_chunk(np.ascontiguousarray(block), last=last)
        return np.asarray(out, dtype=np.float32).reshape(-1, self.channels)


@dataclass(frozen=True)
class _Sources:
    """Where a pass takes the voice and the bed from."""

    layout: SpeechLayout
    bed: BedChoice
    bed_key: str
    beds: BedCache
    progress: ProgressCallback | None = None
    """Hears how far pass 1 has got: voice blocks (``voice``) and bed segments (``bed``)."""

    def bed_cells(self) -> npt.NDArray[np.float64]:
        """The bed's K-weighted energies per 10 ms cell (see :meth:`BedCache.cells`)."""
        layout = self.layout
        return self.beds.cells(
            self.bed_key, self.bed.soundscape,
            layout.frames / layout.sample_rate_hz, layout.sample_rate_hz, self.bed.seed,
            progress=self.progress,
        )

    def bed_blocks(self) -> Iterator[Audio]:
        """The bed's blocks, read ahead by a thread of their own."""
        layout = self.layout
        return _prefetched(self.beds.blocks(
            self.bed_key, self.bed.soundscape,
            layout.frames / layout.sample_rate_hz, layout.sample_rate_hz, self.bed.seed,
            BLOCK_FRAMES,
        ))

    def voice_blocks(self) -> Iterator[tuple[int, Audio]]:
        for start in range(0, self.layout.frames, BLOCK_FRAMES):
            yield start, self.layout.render(start, min(start + BLOCK_FRAMES, self.layout.frames))


_DONE = object()


def _prefetched(blocks: Iterator[Audio], depth: int = 6) -> Generator[Audio, None, None]:
    """``blocks``, produced by a thread of their own a few blocks ahead of the consumer.

    Reading and converting the bed (about 2.5 s for 20 minutes) then overlaps the filtering
    and mixing of the blocks before it instead of adding to it (numpy lets go of the GIL).
    An error in the producer is raised here, in the consumer.
    """
    ahead: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item: Any) -> bool:
        """Queue ``item``; False when the consumer has stopped."""
        while not stop.is_set():
            try:
                ahead.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for block in blocks:
                if not offer(block):
                    return
            offer(_DONE)
        except BaseException as exc:  # handed to the consumer
            offer(exc)

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    try:
        while (item := ahead.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()  # a consumer that stops early lets the producer end
        thread.join()


def _measure(
    sources: _Sources, envelope_db: npt.NDArray[np.float64], mix: MixSettings, channels: int,
    voice: VoiceLoudness | None = None,
) -> tuple[StemLevels, float, float]:
    """Pass 1: the voice's and the bed's loudness, and from them the mix's.

    The mix is ``voice + G * e(t) * bed`` (per output channel; mono takes the bed's mean), with
    ``e`` the ducking and fades and ``G`` the bed's static gain, known only once the stems are
    measured. The K-weighting is linear, so the mix's K-weighted energy in each gating block is
    ``sum(v^2) + G^2 sum(e^2 b^2) + 2G sum(e v b)``:

    * ``sum(v^2)``: the voice is K-weighted here, block by block;
    * ``sum(e^2 b^2)``: the bed's K-weighted energy per 10 ms cell comes from the bed cache
      (worked out once per bed, in a thread of its own while the voice is filtered) and is
      weighted by the mean square of ``e`` over each cell (:func:`bed_power`);
    * ``sum(e v b)`` is left out: speech and a nature bed are independent noises, so it
      averages out (on the 20-minute benchmark track it moved the mix's loudness by 0.0002 LU).

    The encoded track is measured all the same; a deviation is corrected by a second encoding.
    ``voice`` is the voice's part if it was measured already (:func:`measure_voice`).
    Returns the stem levels, the bed's static gain (dB) and the mix's loudness (LUFS).
    """
    rate = sources.layout.sample_rate_hz
    frames = sources.layout.frames
    with ThreadPoolExecutor(1, thread_name_prefix="imr-bed-cells") as pool:
        bed_cells = pool.submit(sources.bed_cells)
        if voice is None:
            voice = measure_voice(sources.layout, sources.progress)
        else:
            report(sources.progress, "voice", 1, 1)
        cells = bed_cells.result()
    voice_energy = voice.block_energies
    levels = StemLevels(voice_lufs=gated_lufs(voice_energy, (2.0,)),  # centred: 2 channels
                        bed_lufs=gated_lufs(gate_cells(cells[:, :2], rate, frames), (1.0, 1.0)))
    gain_db = bed_level_db(levels, mix)
    heard = (cells[:, :2] if channels == 2
             else (cells[:, :1] + cells[:, 1:2] + 2.0 * cells[:, 2:3]) / 4.0)
    ducked = gate_cells(heard * bed_power(envelope_db, len(cells), frames, mix)[:, None],
                        rate, frames)
    mixed = voice_energy + 10.0 ** (gain_db / 10.0) * ducked
    return levels, gain_db, gated_lufs(mixed, track_weights(channels))


@dataclass(frozen=True)
class _Job:
    """What the passes after the first share: the sources, the bed's gain and the settings."""

    sources: _Sources
    control_db: npt.NDArray[np.float64]
    """The bed's gain at each control point, in dB (ducking, fades and static gain)."""
    mix: MixSettings
    master: MasterSettings
    export: ExportSettings


def _mix_blocks(job: _Job, conform: _Conformer) -> Iterator[Audio]:
    """The mix, conformed to the export, block by block (passes 2 and 3)."""
    sources = job.sources
    frames = sources.layout.frames
    for (start, voice), bed in zip(sources.voice_blocks(), sources.bed_blocks(), strict=True):
        stop = start + len(voice)
        gain = bed_gain(job.control_db, start, stop, frames, job.mix)
        out = conform(mix_block(voice, bed, gain), last=stop >= frames)
        if len(out):
            yield out


def _counted(blocks: Iterator[Audio], progress: ProgressCallback | None, stage: str,
             count: int) -> Iterator[Audio]:
    """``blocks``, reporting ``stage`` as each is taken (``count`` of them expected)."""
    for done, block in enumerate(blocks, start=1):
        yield block
        report(progress, stage, min(done, count), count)


def _limited(blocks: Iterator[Audio], limiter: StreamLimiter) -> Iterator[Audio]:
    """The mastered mix: ``blocks`` through the limiter."""
    for block in blocks:
        out = limiter.add(block)
        if len(out):
            yield out
    out = limiter.finish()
    if len(out):
        yield out


_DRY_PASSES = 6


def _dry_lufs(job: _Job, gain_db: float, ceiling_dbtp: float) -> float:
    """Loudness (LUFS) of the mix mastered with ``gain_db`` and the limiter, without encoding."""
    conform = _Conformer(job.sources.layout.sample_rate_hz, job.export)
    limiter = StreamLimiter(conform.rate, conform.channels, gain_db, ceiling_dbtp,
                            job.master.limiter_window_s)
    meter = LoudnessMeter(conform.rate, track_weights(conform.channels))
    for block in _limited(_mix_blocks(job, conform), limiter):
        meter.add(block)
    return meter.integrated_lufs()


def _converge(job: _Job, ceiling_dbtp: float, goal_lufs: float, last: tuple[float, float]
              ) -> float:
    """The mastering gain (dB) at which the limited mix measures ``goal_lufs``, before encoding.

    Used only when an encoding missed: the limiter takes back part of any gain (much of it
    when it works hard, e.g. for a loud target), so each step is the shortfall divided by the
    slope :func:`imr_audio.master.gain_slope` learns, as :func:`imr_audio.master.master` does,
    measured on the limited mix without encoding it (within 0.05 LU, at most six passes).
    ``last`` is the last (gain, loudness before encoding).
    """
    gain_db, lufs = last
    slope = 1.0
    for _ in range(_DRY_PASSES):
        step = (goal_lufs - lufs) / slope
        reached = _dry_lufs(job, gain_db + step, ceiling_dbtp)
        slope = gain_slope(step, reached - lufs, slope)
        gain_db, lufs = gain_db + step, reached
        if abs(lufs - goal_lufs) <= 0.05:
            break
    return gain_db


def mixdown(
    plan: MixPlan,
    master: MasterSettings,
    export: ExportSettings,
    path: Path,
    tags: TrackTags,
    beds: BedCache | None = None,
    progress: ProgressCallback | None = None,
    voice: VoiceLoudness | None = None,
) -> Mixdown:
    """Mix the planned voice over its bed, master it and publish it at ``path``, block by block.

    ``beds`` is the bed cache; None keeps the rendered bed in a private temporary folder,
    removed at the end (also after an error). ``voice`` is the plan's voice measured already
    (:func:`measure_voice`), else it is measured here. Raises :class:`MasteringError` when the
    targets cannot be met, and the export's errors; nothing is left at ``path`` then.
    """
    mix, layout, chapters = plan.mix, plan.layout, plan.chapters
    if voice is not None and voice.frames != layout.frames:
        raise ValueError("the voice was measured on another layout")
    rate = layout.sample_rate_hz
    scratch = None if beds is not None else Path(tempfile.mkdtemp(prefix="imr-stems-"))
    try:
        sources = _Sources(layout, plan.bed, plan.bed_cache_key,
                           beds if beds is not None else BedCache(scratch),
                           Together(progress, "mix", ("voice", "bed")) if progress else None)
        blocks_count = -(-layout.frames // BLOCK_FRAMES)
        report(progress, "mix", 0, 1)
        envelope = duck_gain_db(plan.placements, layout.frames / rate, mix)
        conform = _Conformer(rate, export)
        levels, gain_db, mix_lufs = _measure(sources, envelope, mix, conform.channels, voice)
        job = _Job(sources, envelope + gain_db, mix, master, export)
        report(progress, "mix", 1, 1)
        if not np.isfinite(mix_lufs):
            raise MasteringError("the mix is silent; there is nothing to master")
        ceiling_offset_db = 0.0
        master_gain_db = master.target_lufs - mix_lufs
        goal_lufs = master.target_lufs  # loudness aimed at before encoding
        last_pre: tuple[float, float] | None = None  # (gain, loudness) of the last encoding
        for attempt in range(1, _ATTEMPTS + 1):
            report(progress, "master", attempt - 1, _ATTEMPTS)
            ceiling = master.true_peak_dbtp - master.limiter_margin_db - ceiling_offset_db
            if last_pre is not None:  # converge before encoding again, the limiter included
                master_gain_db = _converge(job, ceiling, goal_lufs, last_pre)
            limiter = StreamLimiter(conform.rate, conform.channels, master_gain_db, ceiling,
                                    master.limiter_window_s)
            conform = _Conformer(rate, export)
            report(progress, "export", 0, blocks_count)  # mixed, limited and encoded by block
            mixed = _counted(_mix_blocks(job, conform), progress, "export", blocks_count)
            blocks = _limited(mixed, limiter)
            exported = export_blocks(blocks, conform.rate, conform.channels, path, export, tags,
                                     chapters, layout.frames / rate)
            measured = exported.loudness
            overshoot_db = measured.true_peak_dbtp - master.true_peak_dbtp
            loudness_error_db = master.target_lufs - measured.integrated_lufs
            if overshoot_db <= 0 and abs(loudness_error_db) <= 0.2:
                report(progress, "export", blocks_count, blocks_count)
                return Mixdown(exported, float(gain_db), levels, mix_lufs, master_gain_db,
                               attempts=attempt)
            # The mastered loudness before encoding is measured only now, in a pass of its own:
            # most tracks never need it, and measuring it during the encoding slowed every one.
            pre_lufs = _dry_lufs(job, master_gain_db, ceiling)
            log.info(
                "re-mastering: encoded loudness off by %.2f LU (%.2f LU of it the limiter's), "
                "true peak over by %.2f dB",
                loudness_error_db, master.target_lufs - pre_lufs, max(overshoot_db, 0.0),
            )
            # Aim the next encoding so that the codec's own loudness change lands on target.
            goal_lufs = master.target_lufs - (measured.integrated_lufs - pre_lufs)
            last_pre = (master_gain_db, pre_lufs)
            if overshoot_db > 0:
                ceiling_offset_db += overshoot_db + 0.2
        path.unlink(missing_ok=True)
        raise MasteringError(_missed(path, measured, master))
    finally:
        if scratch is not None:
            with contextlib.suppress(OSError):
                shutil.rmtree(scratch)


def _missed(path: Path, measured: LoudnessMeasurement, master: MasterSettings) -> str:
    return (
        f"{path.name}: the encoded track measured {measured.integrated_lufs:.1f} LUFS and "
        f"{measured.true_peak_dbtp:.1f} dBTP; targets {master.target_lufs:g} LUFS and "
        f"at most {master.true_peak_dbtp:g} dBTP"
    )
