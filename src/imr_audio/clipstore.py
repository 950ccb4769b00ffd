"""Speech clips kept on disk while a track is mixed, so that its speech is not held in memory.

An hour-long script has half an hour of speech or more: 160 MB of float samples at the
engines' 22.05 kHz, 320 MB at 44.1 kHz. Held as clips, that grew a render's memory with the
track's length (391 MB for 60 minutes against 261 MB for 10, with every sentence distinct).
A :class:`ClipStore` takes each clip as soon as it is synthesised, resamples it to the mix's
rate once, and appends it to a temporary file; the mix reads each clip back when a block needs
it (:class:`StoredClip`).

The file is the client's speech, so it has no name: :func:`tempfile.TemporaryFile` unlinks it
on POSIX as soon as it is made (0600), and it is gone when the store closes or the process ends,
even if killed. Reads go through the operating system's page cache, which the system can reclaim.
It takes 10.6 MB of the temporary folder (``TMPDIR``) per minute of speech at 44.1 kHz, so about
350 MB for an hour-long script; a full disk is an :class:`~imr_audio.errors.ExportError`.
"""

from __future__ import annotations

import tempfile
import threading
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import soxr

from imr_audio.audio import Clip
from imr_audio.errors import ExportError

__all__ = ["ClipStore", "StoredClip", "resample_clip"]

Mono = npt.NDArray[np.float32]


def resample_clip(clip: Clip, sample_rate_hz: int) -> Mono:
    """``clip``'s samples at ``sample_rate_hz`` (soxr HQ, in one piece)."""
    if clip.sample_rate_hz == sample_rate_hz:
        return clip.samples
    out = soxr.resample(clip.samples, clip.sample_rate_hz, sample_rate_hz, quality="HQ")
    return np.asarray(out, dtype=np.float32)


@dataclass(frozen=True)
class StoredClip:
    """A clip in a :class:`ClipStore`, already at the store's rate."""

    store: ClipStore = field(repr=False, compare=False)
    """Where it is."""
    offset: int
    """Its first frame in the store's file."""
    frames: int
    """Its length in frames, at ``sample_rate_hz``."""
    sample_rate_hz: int
    """The store's rate (the mix's)."""
    duration_s: float
    """Its length in seconds as synthesised (before resampling; what lengths are fitted to)."""

    def load(self) -> Clip:
        """The clip's samples, read back."""
        return Clip(self.store.read(self.offset, self.frames), self.sample_rate_hz)


class ClipStore:
    """An anonymous temporary file of clips at one sample rate; close it (or use ``with``)."""

    def __init__(self, sample_rate_hz: int) -> None:
        """An empty store whose clips are kept at ``sample_rate_hz``."""
        self.sample_rate_hz = sample_rate_hz
        try:
            self._file = tempfile.TemporaryFile(prefix="imr-clips-")  # noqa: SIM115 - close()
        except OSError as exc:
            raise _failed(exc) from None
        self._frames = 0
        self._lock = threading.Lock()  # one seek-and-read or write at a time

    def __enter__(self) -> ClipStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, clip: Clip) -> StoredClip:
        """Resample ``clip`` to the store's rate, append it, and return where it is."""
        samples = np.ascontiguousarray(resample_clip(clip, self.sample_rate_hz),
                                       dtype="<f4")
        with self._lock:
            offset = self._frames
            try:
                self._file.seek(offset * 4)
                self._file.write(samples.tobytes())
                self._file.flush()  # a full disk shows here, not at a later read
            except OSError as exc:
                raise _failed(exc) from None
            self._frames += len(samples)
        return StoredClip(self, offset, len(samples), self.sample_rate_hz, clip.duration_s)

    def read(self, offset: int, frames: int) -> Mono:
        """``frames`` samples from frame ``offset`` (float32)."""
        with self._lock:
            try:
                self._file.seek(offset * 4)
                data = self._file.read(frames * 4)
            except OSError as exc:
                raise _failed(exc) from None
        if len(data) != frames * 4:
            raise ExportError(f"the speech's temporary file ended {frames - len(data) // 4} "
                              "frames early")
        return np.frombuffer(data, dtype="<f4").astype(np.float32, copy=False)

    @property
    def size_bytes(self) -> int:
        """Bytes written so far."""
        return self._frames * 4

    def close(self) -> None:
        """Close (and so delete) the file."""
        self._file.close()


def _failed(exc: OSError) -> ExportError:
    """A one-line error for a temporary file that cannot be made, written or read."""
    return ExportError(
        f"cannot keep the speech in a temporary file in {tempfile.gettempdir()} "
        f"({exc.strerror or type(exc).__name__}); free space there or set TMPDIR"
    )
