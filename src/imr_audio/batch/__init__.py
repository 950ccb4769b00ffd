"""Batch rendering of a script library.

A manifest of clients x templates x variants is rendered by a pool of worker processes with
progress, resume and failure isolation.

>>> from imr_audio.batch import BatchOptions, run_batch  # doctest: +SKIP
>>> report = run_batch(Path("library.yaml"), BatchOptions(workers=2))  # doctest: +SKIP
"""

from __future__ import annotations

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
from imr_audio.batch.runner import BatchOptions, BatchReport, JobOutcome, run_batch

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
