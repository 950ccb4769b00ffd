"""A batch on a Dask cluster: the same files as a local run, resume, failures, missing extra."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from imr_audio.batch import BatchOptions, run_batch
from imr_audio.cli import cli
from imr_audio.errors import ClusterError
from imr_audio.workspace import Workspace

try:
    import distributed
except ImportError:  # pragma: no cover - the cluster extra is part of the test extra
    if os.environ.get("CI"):
        raise
    pytest.skip("the cluster extra (dask[distributed]) is not installed",
                allow_module_level=True)

from imr_audio.executors_dask import MISSING_EXTRA, DaskExecutor, cores_per_worker
from support import (
    interrupt_batch,
    two_clients_and_a_broken_one,
    visible_files,
    write_library,
)


class CountingExecutor:
    """A remote executor that counts what is submitted to it."""

    remote = True

    def __init__(self, inner: DaskExecutor) -> None:
        self.inner = inner
        self.submitted = 0

    @property
    def max_workers(self) -> int:
        return self.inner.max_workers

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Future[Any]:
        self.submitted += 1
        return self.inner.submit(fn, *args)

    def messages(self, wait_s: float = 0.0) -> list[tuple[Any, ...]]:
        return self.inner.messages(wait_s)

    def stop(self) -> None:
        self.inner.stop()

    def shutdown(self) -> None:
        self.inner.shutdown()


@pytest.fixture
def scheduler() -> Iterator[str]:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        yield cluster.scheduler_address


@pytest.mark.slow
def test_a_cluster_batch_writes_the_files_of_a_local_run(
    tmp_path: Path, scheduler: str, client_data: Callable[..., dict[str, Any]],
    write_client: Callable[..., Path], workspace: Workspace,
) -> None:
    # c.yaml lacks a variable the template needs: that job fails alone.
    manifest = write_library(tmp_path, two_clients_and_a_broken_one(
        tmp_path, write_client, client_data, preferred_name="Sam"))
    local_root, cluster_root = tmp_path / "local", tmp_path / "cluster"
    local = run_batch(workspace, manifest, BatchOptions(output_dir=local_root, workers=2))
    events: list[Any] = []
    remote = run_batch(workspace, manifest,
                       BatchOptions(output_dir=cluster_root, scheduler=scheduler),
                       progress=events.append)

    assert [o.status for o in remote.outcomes] == ["rendered", "rendered", "failed"]
    assert [o.reason for o in remote.outcomes] == [o.reason for o in local.outcomes]
    assert "c.yaml" in remote.outcomes[2].reason
    assert "safe_place.cue_word" in remote.outcomes[2].reason
    assert "Zephyrine" not in remote.outcomes[2].reason
    files = visible_files(cluster_root)
    assert len(files) == 2 * 4  # audio, transcript, captions and sidecar of each track
    assert files == visible_files(local_root)
    for path in cluster_root.iterdir():
        assert (path.stat().st_mode & 0o777) == (0o700 if path.is_dir() else 0o600), path.name
    assert (cluster_root.stat().st_mode & 0o777) == 0o700
    assert {type(e).__name__ for e in events} >= {"JobStarted", "JobProgress", "JobFinished"}
    assert not list(cluster_root.glob(".imr-*"))

    # Run again: everything is up to date; nothing is sent to the cluster.
    before = {p: p.stat().st_mtime_ns for p in cluster_root.iterdir()}
    with DaskExecutor(scheduler) as dask:
        counting = CountingExecutor(dask)
        again = run_batch(workspace, manifest, BatchOptions(output_dir=cluster_root),
                          executor=counting)
    assert [o.status for o in again.outcomes] == ["skipped", "skipped", "failed"]
    assert counting.submitted == 0
    assert {p: p.stat().st_mtime_ns for p in cluster_root.iterdir()} == before

    # Forced: the profile is checked on a worker; its failure names this machine's file.
    with DaskExecutor(scheduler) as dask:
        counting = CountingExecutor(dask)
        forced = run_batch(workspace, manifest,
                           BatchOptions(output_dir=cluster_root, force=True), executor=counting)
    assert counting.submitted == 3
    assert [o.status for o in forced.outcomes] == ["rendered", "rendered", "failed"]
    assert forced.outcomes[2].reason == local.outcomes[2].reason
    assert visible_files(cluster_root) == visible_files(local_root)

    # Each of the two workers renders with its share of the machine's cores.
    with distributed.Client(scheduler) as client:
        shares = client.submit(cores_per_worker, pure=False).result()
    assert shares == max(1, (os.cpu_count() or 1) // 2)


def test_a_job_with_its_own_bed_file_is_not_sent(
    tmp_path: Path, write_client: Callable[..., Path], workspace: Workspace,
) -> None:
    from imr_audio.batch import load_manifest
    from imr_audio.batch.remote import RemoteJobs

    write_client(tmp_path, "a.yaml", id="t-017")
    manifest = write_library(tmp_path, [
        {"client": "a.yaml", "templates": ["mini"], "soundscape": "beds/own.wav"},
    ])
    plan = load_manifest(workspace, manifest)
    with RemoteJobs(plan, force=False) as jobs:
        outcome = jobs.task(0, plan.config)
    assert outcome.status == "failed"
    assert outcome.reason == ("library.yaml: job 1: a soundscape or recordings file is not sent "
                              "to a cluster; render this job without --scheduler")


def test_without_the_extra_the_error_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ClusterError) as caught:
        DaskExecutor("tcp://127.0.0.1:9")
    assert str(caught.value) == MISSING_EXTRA
    assert MISSING_EXTRA == "the cluster extra is not installed: pip install 'imr-audio[cluster]'"


def test_an_unreachable_scheduler_is_a_one_line_error(
    tmp_path: Path, write_client: Callable[..., Path], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("imr_audio.executors_dask._CONNECT_TIMEOUT_S", 2.0)
    write_client(tmp_path, "a.yaml", id="t-017")
    manifest = write_library(tmp_path, [{"client": "a.yaml", "templates": ["mini"]}])
    result = CliRunner().invoke(cli, ["batch", str(manifest), "--scheduler",
                                      "tcp://127.0.0.1:9"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        "Error: tcp://127.0.0.1:9: cannot reach the Dask scheduler (OSError)")
    assert not (tmp_path / "tracks").exists()


def test_a_local_batch_imports_no_dask() -> None:
    import subprocess

    code = ("import sys, imr_audio.batch.runner, imr_audio.commands.batch\n"
            "print('\\n'.join(sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert "imr_audio.batch.runner" in out
    assert not {"dask", "distributed", "imr_audio.executors_dask"} & set(out)


@pytest.mark.slow
def test_ctrl_c_stops_a_cluster_batch_with_one_line(
    tmp_path: Path, scheduler: str, write_client: Callable[..., Path],
) -> None:
    import subprocess

    for letter, number in (("a", 17), ("b", 18), ("c", 19)):
        write_client(tmp_path, f"{letter}.yaml", id=f"t-0{number}")
    manifest = write_library(tmp_path, [
        {"client": name, "templates": ["mini"]} for name in ("a.yaml", "b.yaml", "c.yaml")])
    root = tmp_path / "tracks"
    interrupt_batch([str(manifest), "--scheduler", scheduler], 1.0)
    assert not (root / ".imr-batch.lock").exists()
    # The cluster is free again: the same command resumes and finishes the batch.
    resumed = subprocess.run(
        [sys.executable, "-m", "imr_audio", "batch", str(manifest), "--scheduler", scheduler,
         "--json"], capture_output=True, text=True, check=False, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert len(visible_files(root)) == 3 * 4
