"""Library runs: a manifest (batch) rendered from the page, with each track's state.

:meth:`LibraryRuns.start` plans the manifest (every problem of it is reported before anything
runs), then runs :func:`~imr_audio.batch.run_batch` in a thread of the server; the batch's
events become each track's state (``planned``, ``running`` with its stage and fraction,
``rendered``, ``up to date`` or ``failed`` with its one-line reason), which the page reads.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from imr_audio.errors import ImrAudioError
from imr_audio.workspace import Workspace

__all__ = ["LibraryRun", "LibraryRuns", "TrackState"]


@dataclass(frozen=True)
class TrackState:
    """One planned track of a library run."""

    label: str
    """The track's short name (``10m/c-017_safe-place``)."""
    state: str = "planned"
    """``planned``, ``running``, ``rendered``, ``up to date`` or ``failed``."""
    stage: str = ""
    """The render's stage while running."""
    fraction: float = 0.0
    """How much of the track is done, 0.0-1.0."""
    reason: str = ""
    """A failure's one-line reason."""


@dataclass(frozen=True)
class LibraryRun:
    """A manifest being rendered, or done."""

    id: str
    """The run's id (in its URL)."""
    manifest: str
    """The manifest's file name."""
    state: str = "running"
    """``running``, ``done`` or ``failed`` (the manifest itself, not a track)."""
    message: str = ""
    """Why the run failed as a whole, on one line."""
    tracks: tuple[TrackState, ...] = ()
    """Every planned track."""

    @property
    def final(self) -> bool:
        """Whether the run has ended."""
        return self.state != "running"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values (what the page's event stream sends)."""
        return {"id": self.id, "state": self.state, "message": self.message,
                "final": self.final,
                "tracks": [{"state": t.state, "stage": t.stage,
                            "fraction": round(t.fraction, 3), "reason": t.reason}
                           for t in self.tracks]}


class LibraryRuns:
    """The library runs of a studio; one at a time."""

    def __init__(self, workspace: Workspace, output_dir: Path, workers: int = 1) -> None:
        """Runs rendering into ``output_dir`` with ``workers`` processes."""
        self._workspace = workspace
        self._output_dir = output_dir
        self._workers = workers
        self._runs: dict[str, LibraryRun] = {}
        self._lock = threading.Lock()
        self._serial = itertools.count(1)

    def get(self, run_id: str) -> LibraryRun | None:
        """A run, or None."""
        with self._lock:
            return self._runs.get(run_id)

    def runs(self) -> list[LibraryRun]:
        """Every run, newest first."""
        with self._lock:
            return list(reversed(self._runs.values()))

    def start(self, manifest: Path) -> LibraryRun:
        """Plan ``manifest`` and start rendering it; raises for an invalid manifest."""
        from imr_audio.batch.manifest import load_manifest

        with self._lock:
            if any(not run.final for run in self._runs.values()):
                raise ImrAudioError("a library is being rendered already: wait for it to end")
        plan = load_manifest(self._workspace, manifest, self._output_dir)
        run = LibraryRun(f"{next(self._serial)}", manifest.name,
                         tracks=tuple(TrackState(job.label) for job in plan.jobs))
        with self._lock:
            self._runs[run.id] = run
        threading.Thread(target=self._run, args=(run.id, manifest), daemon=True,
                         name=f"studio-library-{run.id}").start()
        return run

    def _update(self, run_id: str, index: int, **changes: Any) -> None:
        with self._lock:
            run = self._runs[run_id]
            tracks = list(run.tracks)
            if 0 <= index < len(tracks):
                tracks[index] = replace(tracks[index], **changes)
                self._runs[run_id] = replace(run, tracks=tuple(tracks))

    def _run(self, run_id: str, manifest: Path) -> None:
        from imr_audio.batch.events import (
            BatchEvent,
            JobFailed,
            JobFinished,
            JobProgress,
            JobSkipped,
            JobStarted,
        )
        from imr_audio.batch.runner import BatchOptions, run_batch

        def progress(event: BatchEvent) -> None:
            if isinstance(event, JobStarted):
                self._update(run_id, event.index, state="running")
            elif isinstance(event, JobProgress):
                self._update(run_id, event.index, state="running", stage=event.stage,
                             fraction=event.fraction)
            elif isinstance(event, JobFinished):
                self._update(run_id, event.index, state="rendered", fraction=1.0)
            elif isinstance(event, JobSkipped):
                self._update(run_id, event.index, state="up to date", fraction=1.0)
            elif isinstance(event, JobFailed):
                self._update(run_id, event.index, state="failed", reason=event.reason)

        state, message = "done", ""
        try:
            run_batch(self._workspace, manifest,
                      BatchOptions(output_dir=self._output_dir, workers=self._workers),
                      progress)
        except ImrAudioError as exc:
            state, message = "failed", str(exc).splitlines()[0]
        except Exception as exc:  # a bug: its message might quote a value, so only its type
            state, message = "failed", f"unexpected error ({type(exc).__name__})"
        with self._lock:
            self._runs[run_id] = replace(self._runs[run_id], state=state, message=message)
