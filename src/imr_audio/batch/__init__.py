"""Batch rendering of a script library.

A manifest of clients x templates x variants is rendered by a pool of worker processes with
progress, resume and failure isolation.

>>> from imr_audio.batch import BatchOptions, run_batch  # doctest: +SKIP
>>> report = run_batch(workspace, Path("library.yaml"), BatchOptions(workers=2))  # doctest: +SKIP

The names below are imported on first use (PEP 562): the command line imports the events to
draw them without importing the renderer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imr_audio.lazy import lazy_exports

if TYPE_CHECKING:
    from imr_audio.batch.events import (
        BatchCounts,
        BatchEvent,
        BatchProgressCallback,
        JobFailed,
        JobFinished,
        JobProgress,
        JobSkipped,
        JobStarted,
    )
    from imr_audio.batch.manifest import BatchJob, BatchPlan, load_manifest
    from imr_audio.batch.runner import BatchOptions, BatchReport, run_batch
    from imr_audio.batch.worker import JobOutcome

_EXPORTS = {
    "BatchCounts": "imr_audio.batch.events",
    "BatchEvent": "imr_audio.batch.events",
    "BatchJob": "imr_audio.batch.manifest",
    "BatchOptions": "imr_audio.batch.runner",
    "BatchPlan": "imr_audio.batch.manifest",
    "BatchProgressCallback": "imr_audio.batch.events",
    "BatchReport": "imr_audio.batch.runner",
    "JobFailed": "imr_audio.batch.events",
    "JobFinished": "imr_audio.batch.events",
    "JobOutcome": "imr_audio.batch.worker",
    "JobProgress": "imr_audio.batch.events",
    "JobSkipped": "imr_audio.batch.events",
    "JobStarted": "imr_audio.batch.events",
    "load_manifest": "imr_audio.batch.manifest",
    "run_batch": "imr_audio.batch.runner",
}

__all__ = [
    "BatchCounts",
    "BatchEvent",
    "BatchJob",
    "BatchOptions",
    "BatchPlan",
    "BatchProgressCallback",
    "BatchReport",
    "JobFailed",
    "JobFinished",
    "JobOutcome",
    "JobProgress",
    "JobSkipped",
    "JobStarted",
    "load_manifest",
    "run_batch",
]


__getattr__ = lazy_exports(__name__, _EXPORTS)
