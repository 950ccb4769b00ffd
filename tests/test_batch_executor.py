"""The batch runner on the Executor interface: a worker that dies, an executor given."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from imr_audio.batch import BatchOptions, BatchPlan, JobOutcome, load_manifest
from imr_audio.batch.manifest import BatchJob
from imr_audio.batch.runner import _run_pool, _Tracker
from imr_audio.executors import LocalExecutor
from imr_audio.workspace import Workspace, WorkspaceConfig

TEST_TEMPLATES = Path(__file__).parent / "data" / "templates"


def _dies(channel: Any, index: int, job: BatchJob, marker: str, always: bool) -> JobOutcome:
    """Report the start, then die the first time (or every time) as a crashed render would."""
    channel.put(("started", index))
    if always or not Path(marker).exists():
        Path(marker).touch()
        os._exit(1)
    return JobOutcome(job, "rendered")


@dataclass(frozen=True)
class Dying:
    plan: BatchPlan
    folder: Path
    always: bool = False

    def task(self, index: int, config: WorkspaceConfig) -> Any:
        marker = str(self.folder / f"{index}.died")
        return _dies, (index, self.plan.jobs[index], marker, self.always)

    def outcome(self, index: int, result: Any) -> JobOutcome:
        assert isinstance(result, JobOutcome)
        return result


def _plan(tmp_path: Path, write_client: Callable[..., Path], workspace: Workspace) -> BatchPlan:
    write_client(tmp_path, "a.yaml", id="t-017")
    write_client(tmp_path, "b.yaml", id="t-018")
    manifest = tmp_path / "library.yaml"
    manifest.write_text(yaml.safe_dump({
        "defaults": {"output": "tracks", "templates_dir": str(TEST_TEMPLATES)},
        "jobs": [{"client": "a.yaml", "templates": ["mini"]},
                 {"client": "b.yaml", "templates": ["mini"]}],
    }), encoding="utf-8")
    return load_manifest(workspace, manifest)


def test_a_track_whose_worker_died_is_tried_again_in_a_new_pool(
    tmp_path: Path, write_client: Callable[..., Path], workspace: Workspace,
) -> None:
    plan = _plan(tmp_path, write_client, workspace)
    (tmp_path / "1.died").touch()  # only the first track's worker dies, once
    tracker = _Tracker(plan, None)
    _run_pool(plan, BatchOptions(workers=1), tracker, None, Dying(plan, tmp_path))
    assert [tracker.outcomes[i].status for i in range(2)] == ["rendered", "rendered"]
    assert (tmp_path / "0.died").exists()


def test_a_track_whose_worker_dies_twice_fails_alone_with_its_reason(
    tmp_path: Path, write_client: Callable[..., Path], workspace: Workspace,
) -> None:
    plan = _plan(tmp_path, write_client, workspace)
    tracker = _Tracker(plan, None)
    _run_pool(plan, BatchOptions(workers=2), tracker, None, Dying(plan, tmp_path, always=True))
    for index in range(2):
        assert tracker.outcomes[index].status == "failed"
        assert tracker.outcomes[index].reason == (
            "the worker process rendering it stopped unexpectedly")


def test_an_executor_given_is_used_and_left_to_its_owner(
    tmp_path: Path, write_client: Callable[..., Path], workspace: Workspace,
) -> None:
    plan = _plan(tmp_path, write_client, workspace)
    (tmp_path / "0.died").touch()
    (tmp_path / "1.died").touch()  # nobody dies
    tracker = _Tracker(plan, None)
    with LocalExecutor(1) as executor:
        _run_pool(plan, BatchOptions(), tracker, executor, Dying(plan, tmp_path))
        assert executor.submit(_dies, 0, plan.jobs[0], str(tmp_path / "0.died"),
                               False).result(60).status == "rendered"  # still usable
    assert [tracker.outcomes[i].status for i in range(2)] == ["rendered", "rendered"]
