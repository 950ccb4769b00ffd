"""Home packs at the end of a batch: one per client whose tracks ask for one (``pack: true``).

A client's pack holds the tracks of this batch that were rendered or found up to date, in
manifest order, and goes to ``<output folder>/home-packs/<client id>/`` (and ``.zip`` beside it
with ``pack_zip``). A pack that cannot be built is reported with its reason; it never undoes
the tracks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from imr_audio.batch.manifest import BatchJob, BatchPlan
from imr_audio.errors import ImrAudioError
from imr_audio.pack import build_home_pack
from imr_audio.profile import load_client_profile

__all__ = ["PACKS_FOLDER", "PackOutcome", "build_packs"]

PACKS_FOLDER = "home-packs"
"""Folder of the home packs, inside the output folder."""


@dataclass(frozen=True)
class PackOutcome:
    """What became of one client's home pack."""

    client_id: str
    """The client's pseudonymous id."""
    folder: Path
    """The pack's folder."""
    tracks: int
    """Tracks in the pack (0 when it failed)."""
    zip_path: Path | None = None
    """The zip beside it, if one was asked for and made."""
    reason: str = ""
    """Why it failed, on one line; empty when it was built."""


def _wanted(plan: BatchPlan) -> dict[str, list[BatchJob]]:
    """Per client id, the jobs whose tracks go into its pack, in manifest order."""
    clients: dict[str, list[BatchJob]] = {}
    for job in plan.jobs:
        if job.pack and job.client_id:
            clients.setdefault(job.client_id, []).append(job)
    return clients


def build_packs(plan: BatchPlan, done: Sequence[BatchJob]) -> tuple[PackOutcome, ...]:
    """Build the home pack of every client that asks for one, from its ``done`` tracks."""
    finished = set(done)  # jobs are values: a worker sends back a copy
    outcomes = []
    for client_id, jobs in _wanted(plan).items():
        folder = plan.output_dir / PACKS_FOLDER / client_id
        ready = [job for job in jobs if job in finished]
        missing = len(jobs) - len(ready)
        if missing:
            outcomes.append(PackOutcome(client_id, folder, 0, reason=(
                f"{missing} of its {len(jobs)} track(s) failed; fix them and run the batch again"
            )))
            continue
        first = jobs[0]
        try:
            workspace = plan.workspace(first)
            pack = build_home_pack(
                workspace,
                load_client_profile(first.client_file),
                [job.track_path for job in ready],
                folder,
                make_zip=any(job.pack_zip for job in jobs),
                note_file=next((job.pack_note for job in jobs if job.pack_note), None),
            )
        except ImrAudioError as exc:
            outcomes.append(PackOutcome(client_id, folder, 0, reason=" ".join(str(exc).split())))
            continue
        outcomes.append(PackOutcome(client_id, pack.folder, len(pack.tracks), pack.zip_path))
    return tuple(outcomes)
