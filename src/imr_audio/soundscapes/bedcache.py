"""A disk cache of rendered beds, so a bed is synthesised once and not for every track.

Synthesising a procedural bed costs about as much as encoding it (``bench/soundscape_bench.py``),
so a batch of tracks over the same bed and seed would spend most of its time making the same
noise again. A bed is a pure function of its definition, seed and sample rate, and its first N
frames do not depend on the length asked for; so it is stored in whole one-minute segments
(``beds/<key>/<n>.npy``) and any length is read back from them.

Samples are stored, and always used, rounded to float16: a bed rendered afresh and one read
from the cache are the same to the bit, so a track does not depend on what the cache held.
float16 keeps about 11 significant bits at every level (error 66 dB under the bed itself, which
the mix then puts 10 LU or more under the voice). The cache holds no client data.

Beside each segment its K-weighted energy per 10 ms cell is stored (``<n>.kw1.npy``), so that
a track's loudness can be worked out without filtering its bed again (see :meth:`BedCache.cells`).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from imr_audio.files import held_lock, private_dir
from imr_audio.meter import CELL_HZ, KWeighting, cell_edges
from imr_audio.progress import ProgressCallback, report
from imr_audio.soundscapes.base import Soundscape

__all__ = [
    "BED_FORMAT",
    "CELLS_FORMAT",
    "SEGMENT_S",
    "BedCache",
    "BedCacheInfo",
    "quantise",
    "segments_for",
]

BED_FORMAT = 1
"""Version of the stored layout; part of every key."""
SEGMENT_S = 60
"""Length of one stored segment, in seconds."""
CELLS_FORMAT = 1
"""Version of the stored cell energies (the K-weighting); part of their file names."""
_CELLS_PER_SEGMENT = SEGMENT_S * CELL_HZ
_CELLS_PER_STEP = 150  # cells K-weighted at a time (1.5 s)
_LOCK_PREFIX = ".lock-"  # a bed being made by one process (in the cache's folder)

Stereo = npt.NDArray[np.float32]


def quantise(block: Stereo) -> Stereo:
    """``block`` rounded to float16 and back: the precision every bed is used at."""
    return block.astype(np.float16).astype(np.float32)


DEFAULT_MAX_BYTES = 512 * 2**20
"""The user's bed cache holds at most this much (512 MiB: two 20-minute beds at 48 kHz, at
about 11 MB a minute); the beds used least recently go first."""


@dataclass(frozen=True)
class BedCacheInfo:
    """What the bed cache holds."""

    folder: Path
    """Where it is."""
    beds: int
    """Beds (soundscape, seed and rate) with at least one stored file."""
    size_bytes: int
    """Total size of what is stored, in bytes."""
    samples_bytes: int = 0
    """Of which the beds' samples (float16 segments), in bytes."""
    cells_bytes: int = 0
    """Of which their loudness cells, in bytes."""
    max_bytes: int | None = None
    """The cap (None: none)."""


class BedCache:
    """Rendered beds on disk in one-minute float16 segments; ``folder=None`` stores nothing.

    With ``max_bytes``, whole beds are removed, least recently used first, whenever what is
    stored grows past it (each use of a bed marks its folder); a bed that alone is over the cap
    keeps only its small loudness cells and is made again when it is next needed.
    """

    def __init__(self, folder: Path | None, max_bytes: int | None = None) -> None:
        """A cache in ``folder`` (created 0700 on first write), or none; at most ``max_bytes``."""
        self.folder = folder
        self.max_bytes = max_bytes

    def _mark_used(self, key: str) -> None:
        """Mark the bed ``key`` as just used (its folder's time), for least-recently-used."""
        if self.folder is not None:
            with contextlib.suppress(OSError):
                os.utime(self.folder / key)

    def _bound(self, keep: str) -> None:
        """Remove beds, least recently used first, until the cache is within its cap."""
        if self.max_bytes is None or self.folder is None or not self.folder.is_dir():
            return
        beds = []
        for bed in self.folder.iterdir():
            with contextlib.suppress(OSError):
                if bed.is_dir():
                    files = [f for f in bed.iterdir() if f.is_file()]
                    beds.append((bed.stat().st_mtime_ns, bed, files,
                                 sum(f.stat().st_size for f in files)))
        total = sum(size for *_, size in beds)
        for _, bed, files, _size in sorted(beds, key=lambda b: (b[1].name == keep, b[0])):
            if total <= self.max_bytes:
                return
            doomed = files if bed.name != keep else [
                f for f in files if not f.name.endswith(f".kw{CELLS_FORMAT}.npy")]
            for stored in doomed:
                with contextlib.suppress(OSError):
                    total -= stored.stat().st_size
                    stored.unlink()
            with contextlib.suppress(OSError):
                bed.rmdir()  # only when nothing is left in it

    def _segment(self, key: str, index: int, kind: str = "") -> Path | None:
        """Where segment ``index`` (or with ``kind`` ``.kw1``, its cell energies) is stored."""
        return None if self.folder is None else self.folder / key / f"{index:05d}{kind}.npy"

    def _load(self, path: Path | None, dtype: type, shape: tuple[int, int]) -> Any:
        """The array stored at ``path``; None when it is missing, damaged or not as expected."""
        if path is None or not path.is_file():
            return None
        try:
            data = np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            return None  # damaged: made again and stored over
        if data.dtype != dtype or data.shape != shape:
            return None
        return data

    def _store(self, path: Path | None, segment: npt.NDArray[Any]) -> None:
        if path is None:
            return
        try:  # a full or read-only disk costs speed, never the render
            private_dir(path.parent)
            fd, name = tempfile.mkstemp(prefix=".imr-", suffix=".part", dir=path.parent)
        except OSError:
            return
        try:
            with os.fdopen(fd, "wb") as stream:
                np.save(stream, segment, allow_pickle=False)
            Path(name).replace(path)  # a segment is there complete or not at all
        except OSError:  # a full or read-only disk costs speed, never the render
            with contextlib.suppress(OSError):
                Path(name).unlink()

    def blocks(
        self,
        key: str,
        soundscape: Soundscape,
        duration_s: float,
        sample_rate_hz: int,
        seed: int,
        block_frames: int = 65536,
    ) -> Iterator[Stereo]:
        """Yield the bed as float32 ``(n, 2)`` blocks, ``round(duration_s * rate)`` frames in all.

        Every block has ``block_frames`` frames but the last. ``key`` names the bed's definition
        (the caller hashes it); the seed and rate are added here. Stored segments are read; if
        one is missing or damaged the bed is rendered from its start (a bed cannot start midway)
        and the missing segments are stored.
        """
        total, count, full_key = _extent(key, duration_s, sample_rate_hz, seed)
        self._mark_used(full_key)
        segments = self._segments(full_key, soundscape, count, sample_rate_hz, seed)
        for block in _rechunk(segments, block_frames, total):
            yield block.astype(np.float32)

    def _segments(
        self, key: str, soundscape: Soundscape, count: int, sample_rate_hz: int, seed: int
    ) -> Generator[npt.NDArray[np.float16], None, None]:
        """The bed's first ``count`` segments (float16): stored ones read, else rendered.

        A bed is made by one process at a time (a lock per bed in the cache's folder): in a
        batch, a second worker that needs the same missing bed waits for the first to store it
        and reads it, rather than making it again on a core the first one needs.
        """
        index = yield from self._stored(key, 0, count, sample_rate_hz)
        if index == count:
            return
        with self._making(key):
            # Made meanwhile by the process that held the lock? Then read on from where we are.
            index = yield from self._stored(key, index, count, sample_rate_hz)
            if index < count:
                yield from self._render(key, soundscape, count, sample_rate_hz, seed, index)

    @contextlib.contextmanager
    def _making(self, key: str) -> Iterator[None]:
        """Hold the lock of bed ``key`` while it is made; unlocked where none can be taken."""
        with contextlib.ExitStack() as stack:
            if self.folder is not None:
                with contextlib.suppress(OSError):  # a read-only disk costs speed, not the render
                    private_dir(self.folder)
                    stack.enter_context(held_lock(self.folder / f"{_LOCK_PREFIX}{key}"))
            yield

    def _stored(
        self, key: str, start: int, count: int, sample_rate_hz: int
    ) -> Generator[npt.NDArray[np.float16], None, int]:
        """Yield the stored segments from ``start`` on; return the index of the first missing."""
        for index in range(start, count):
            segment = self._load(self._segment(key, index), np.float16,
                                 (SEGMENT_S * sample_rate_hz, 2))
            if segment is None:
                return index
            yield segment
        return count

    def _render(
        self,
        key: str,
        soundscape: Soundscape,
        count: int,
        sample_rate_hz: int,
        seed: int,
        replace_from: int,
    ) -> Iterator[npt.NDArray[np.float16]]:
        """Yield segments ``replace_from`` to ``count`` (rendering the bed from its start).

        Stores those missing and those from ``replace_from`` on (a damaged one is replaced).
        """
        segment_frames = SEGMENT_S * sample_rate_hz
        total = count * segment_frames
        rendered = soundscape.blocks(count * SEGMENT_S, sample_rate_hz, seed)
        small = (block.astype(np.float16) for block in rendered)
        for index, segment in enumerate(_rechunk(small, segment_frames, total)):
            path = self._segment(key, index)
            if path is not None and (index >= replace_from or not path.is_file()):
                self._store(path, segment)
            if index >= replace_from:
                yield segment
        self._bound(keep=key)

    def cells(
        self,
        key: str,
        soundscape: Soundscape,
        duration_s: float,
        sample_rate_hz: int,
        seed: int,
        progress: ProgressCallback | None = None,
    ) -> npt.NDArray[np.float64]:
        """The bed's K-weighted energies summed over 10 ms cells, from its first frame.

        Columns: left squared, right squared, left times right (a mono mix hears
        ``(L + R) / 2``), per cell of :func:`imr_audio.meter.cell_edges`, for whole segments
        covering ``duration_s``. Stored beside the segments: read when every segment has them,
        else worked out from the bed (read or rendered) with the filter running from its start,
        and stored. Each gating block's energy follows with :func:`imr_audio.meter.gate_cells`.
        ``progress`` hears of each segment done (stage ``bed``).
        """
        _, count, full_key = _extent(key, duration_s, sample_rate_hz, seed)
        self._mark_used(full_key)
        kind = f".kw{CELLS_FORMAT}"
        stored = [self._load(self._segment(full_key, index, kind), np.float64,
                             (_CELLS_PER_SEGMENT, 3)) for index in range(count)]
        if all(cells is not None for cells in stored):
            report(progress, "bed", count, count)
            return np.concatenate(stored) if stored else np.zeros((0, 3))
        weighting = KWeighting(sample_rate_hz, 2)
        found = []
        segments = self._segments(full_key, soundscape, count, sample_rate_hz, seed)
        try:  # ``progress`` may stop it after any segment (stored with its cells by then)
            for index, segment in enumerate(segments):
                cells = _cell_energies(weighting, segment, index * _CELLS_PER_SEGMENT,
                                       sample_rate_hz)
                if stored[index] is None:
                    self._store(self._segment(full_key, index, kind), cells)
                found.append(cells)
                report(progress, "bed", index + 1, count)
        finally:
            segments.close()  # lets another process make the rest of this bed
            self._bound(keep=full_key)
        return np.concatenate(found) if found else np.zeros((0, 3))

    def stored_s(self, key: str, sample_rate_hz: int, seed: int) -> float:
        """How much of the bed is stored from its start, with its cells, in whole seconds.

        The files are looked for, not read.
        """
        full_key = _extent(key, 0.0, sample_rate_hz, seed)[2]
        index = 0
        while all(path is not None and path.is_file() for path in (
                self._segment(full_key, index), self._segment(full_key, index,
                                                              f".kw{CELLS_FORMAT}"))):
            index += 1
        return float(index * SEGMENT_S)

    def info(self) -> BedCacheInfo:
        """Where the cache is, how many beds it holds and their size."""
        if self.folder is None or not self.folder.is_dir():
            return BedCacheInfo(self.folder or Path(), 0, 0, max_bytes=self.max_bytes)
        beds = [p for p in self.folder.iterdir() if p.is_dir()]
        files = [f for bed in beds for f in bed.iterdir() if f.is_file()]
        cells = sum(f.stat().st_size for f in files if f.name.endswith(f".kw{CELLS_FORMAT}.npy"))
        size = sum(f.stat().st_size for f in files)
        return BedCacheInfo(self.folder, sum(any(b.iterdir()) for b in beds), size,
                            size - cells, cells, self.max_bytes)

    def clear(self) -> int:
        """Remove every stored bed; return how many there were."""
        if self.folder is None or not self.folder.is_dir():
            return 0
        count = 0
        for bed in [p for p in self.folder.iterdir() if p.is_dir()]:
            for stored in bed.iterdir():
                stored.unlink()
            bed.rmdir()
            count += 1
        with contextlib.suppress(OSError):
            self.folder.rmdir()
        return count


def segments_for(duration_s: float, sample_rate_hz: int) -> int:
    """How many stored segments hold a bed of ``duration_s`` at ``sample_rate_hz``."""
    return -(-round(duration_s * sample_rate_hz) // (SEGMENT_S * sample_rate_hz))


def _extent(key: str, duration_s: float, sample_rate_hz: int, seed: int) -> tuple[int, int, str]:
    """A bed's frames, its whole segments, and its full key (seed, rate and format added)."""
    total = round(duration_s * sample_rate_hz)
    return total, segments_for(duration_s, sample_rate_hz), (
        f"{key}-s{seed}-r{sample_rate_hz}-v{BED_FORMAT}")


def _cell_energies(
    weighting: KWeighting, segment: npt.NDArray[np.float16], first_cell: int, sample_rate_hz: int
) -> npt.NDArray[np.float64]:
    """Cell energies (L², R², L·R; cells x 3) of one segment, K-weighted ``weighting``'s way.

    The segment is filtered 1.5 s at a time (``weighting`` carries its state on to the next).
    Each step's channels and products go into arrays made once (the same values as converting
    the transposed slice and stacking the products, which copied each step twice more: 15-20 %
    of this function's time).
    """
    out = np.empty((_CELLS_PER_SEGMENT, 3))
    base = first_cell * sample_rate_hz // CELL_HZ
    rows = np.empty((2, 0), dtype=np.float32)  # the step's channels as rows
    products = np.empty((3, 0), dtype=np.float32)
    for step in range(0, _CELLS_PER_SEGMENT, _CELLS_PER_STEP):
        edges = cell_edges(first_cell + step, _CELLS_PER_STEP, sample_rate_hz) - base
        part = segment[edges[0] : edges[-1]]
        if rows.shape[1] != len(part):
            rows = np.empty((2, len(part)), dtype=np.float32)
            products = np.empty((3, len(part)), dtype=np.float32)
        rows[0], rows[1] = part[:, 0], part[:, 1]
        left, right = weighting.rows(rows)
        np.multiply(left, left, out=products[0])
        np.multiply(right, right, out=products[1])
        np.multiply(left, right, out=products[2])
        out[step : step + _CELLS_PER_STEP] = np.add.reduceat(
            products, edges[:-1] - edges[0], axis=1, dtype=np.float64).T
    return out


_Block = TypeVar("_Block", npt.NDArray[np.float16], npt.NDArray[np.float32])


def _rechunk(blocks: Iterable[_Block], size: int, total: int) -> Iterator[_Block]:
    """``blocks`` joined and cut again into ``size`` frames each (the last shorter).

    ``total`` frames in all; an array is copied only where a piece spans two incoming blocks.
    """
    pending: list[_Block] = []
    have = done = 0
    for block in blocks:
        pending.append(block)
        have += len(block)
        while pending and (have >= size or done + have >= total):
            want = min(size, total - done)
            if len(pending[0]) >= want:
                out, rest = pending[0][:want], pending[0][want:]
                pending = ([rest] if len(rest) else []) + pending[1:]
            else:
                joined = np.concatenate(pending)
                out, rest = joined[:want], joined[want:]
                pending = [rest] if len(rest) else []
            have -= want
            done += want
            yield out
            if done >= total:
                return
