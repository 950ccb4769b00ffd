"""The studio's job queue with a real LocalExecutor: a short real render, its progress,
cancelling (queued and running), a failure's one-line message; and the same through the pages
(server-sent events, the listen page, the home pack)."""

from __future__ import annotations

import json
import shutil
import time
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from imr_audio.executors import LocalExecutor
from imr_audio.export import ExportSettings
from imr_audio.studio.app import create_app
from imr_audio.studio.config import StudioConfig
from imr_audio.studio.jobs import INTERRUPTED, KEPT_RECORDS, JobQueue, JobRequest, JobStatus
from imr_audio.track import RenderSettings
from imr_audio.workspace import Workspace

TEMPLATES = Path(__file__).parent / "data" / "templates"
WAV = RenderSettings(soundscape="rain", export=ExportSettings(format="wav"))


class RecordingExecutor(LocalExecutor):
    """A LocalExecutor that keeps every message it hands on."""

    seen: list[tuple[Any, ...]]

    def __init__(self, max_workers: int) -> None:
        super().__init__(max_workers)
        self.seen = []

    def messages(self, wait_s: float = 0.0) -> list[tuple[Any, ...]]:
        found = super().messages(wait_s)
        self.seen.extend(found)
        return found


@pytest.fixture
def made() -> list[RecordingExecutor]:
    return []


@pytest.fixture
def queue(workspace: Workspace, tmp_path: Path,
          made: list[RecordingExecutor]) -> Iterator[JobQueue]:
    def executor(max_workers: int) -> RecordingExecutor:
        made.append(RecordingExecutor(max_workers))
        return made[-1]

    jobs = JobQueue(workspace.config.replace(templates_dir=TEMPLATES), tmp_path / "scratch", 1,
                    executor)
    (tmp_path / "scratch").mkdir()
    yield jobs
    jobs.close()


def test_a_job_renders_a_real_track_and_reports_progress(
    queue: JobQueue, write_client, tmp_path: Path, made: list[RecordingExecutor]
) -> None:
    client = write_client(tmp_path)
    job = queue.submit(JobRequest("mini", "t-017", client, tmp_path / "out", WAV))
    assert job.state == "queued"
    done = queue.wait(job.id, 300)
    assert done is not None and done.state == "done", done
    assert done.track == "t-017_mini.wav" and done.fraction == 1.0
    assert (tmp_path / "out" / "t-017_mini.wav").stat().st_size > 10_000
    assert done.duration_s > 10 and done.chapters and done.chapters[0][1] == 0.0
    kinds = [m[0] for m in made[0].seen]
    assert kinds[0] == "started"
    progress = [m for m in made[0].seen if m[0] == "progress"]
    assert {m[2] for m in progress} >= {"synthesis", "export"}
    assert all(m[1] == job.id for m in made[0].seen)


def test_cancelling_a_queued_and_a_running_job(
    queue: JobQueue, example_client: Path, tmp_path: Path, made: list[RecordingExecutor]
) -> None:
    long = queue.submit(JobRequest("safe-place", "demo-001", example_client, tmp_path / "out",
                                   WAV))
    waiting = queue.submit(JobRequest("safe-place", "demo-001", example_client,
                                      tmp_path / "out2", WAV))
    assert queue.cancel(waiting.id).state == "cancelled"  # type: ignore[union-attr]
    end = time.monotonic() + 120
    while (queue.get(long.id).stage != "synthesis"  # type: ignore[union-attr]
           and time.monotonic() < end):
        time.sleep(0.05)
    assert queue.get(long.id).state == "running"  # type: ignore[union-attr]
    assert queue.cancel(long.id).state == "cancelling"  # type: ignore[union-attr]
    ended = queue.wait(long.id, 60)
    assert ended is not None and ended.state == "cancelled", ended
    assert not list((tmp_path / "out").glob("*.wav"))
    assert not list((tmp_path / "scratch").iterdir())  # the cancel mark is gone
    assert queue.get(waiting.id).state == "cancelled"  # type: ignore[union-attr]


def test_a_failed_job_gives_a_one_line_message(queue: JobQueue, write_client,
                                               tmp_path: Path) -> None:
    client = write_client(tmp_path, eligibility={"acute_crisis": True})
    job = queue.submit(JobRequest("mini", "t-017", client, tmp_path / "out", WAV))
    failed = queue.wait(job.id, 120)
    assert failed is not None and failed.state == "failed"
    assert failed.message and "\n" not in failed.message
    assert "acute_crisis" in failed.message and "Robin" not in failed.message
    assert not list((tmp_path / "out").glob("*")) if (tmp_path / "out").exists() else True


# --- the same through the pages --------------------------------------------------------------

def test_render_from_the_page_streams_progress_then_listen_and_pack(
    workspace: Workspace, write_client, tmp_path: Path
) -> None:
    folder = tmp_path / "studio"
    (folder / "clients").mkdir(parents=True)
    write_client(folder / "clients", "t-017.yaml")
    shutil.copytree(TEMPLATES, folder / "templates")
    app = create_app(StudioConfig(folder=folder, token="tok", port=8765), workspace.config)
    origin = {"Origin": "http://127.0.0.1:8765"}
    with TestClient(app, base_url="http://127.0.0.1:8765", follow_redirects=False) as client:
        client.cookies.set("imr-studio-8765", "tok")
        response = client.post("/jobs", headers=origin, data={
            "template": "mini", "client": "t-017", "soundscape": "rain", "format": "wav",
            "safe_place.description": "You rest on a bench in a quiet garden. It is warm.",
            "safe_place.cue_word": "garden"})
        assert response.status_code == 303
        job_url = response.headers["location"]
        assert job_url.startswith("/jobs/")
        states = []
        with client.stream("GET", f"{job_url}/events") as events:
            assert events.headers["content-type"].startswith("text/event-stream")
            assert events.headers["cache-control"] == "no-store"
            for line in events.iter_lines():
                if line.startswith("data: "):
                    states.append(json.loads(line[6:]))
        assert states[-1]["state"] == "done", states
        assert len(states) > 2 and any(0 < s["fraction"] < 1 for s in states)
        listing = client.get("/jobs").text
        assert job_url in listing and "done" in listing
        page = client.get(job_url).text
        assert 'src="/files/tracks/t-017_mini.wav"' in page
        assert '<track kind="captions"' in page and "t-017_mini.wav.vtt" in page
        assert "data-seek=" in page
        assert client.get("/files/tracks/t-017_mini.wav").content[:4] == b"RIFF"
        response = client.post(f"{job_url}/pack", headers=origin,
                               data={"note": "Listen once a day, somewhere quiet."})
        assert response.status_code == 303
        page = client.get(response.headers["location"]).text
        assert 'href="/files/home-packs/t-017.zip?download=1"' in page
        zipped = client.get("/files/home-packs/t-017.zip?download=1")
        assert zipped.status_code == 200
        assert "attachment" in zipped.headers["content-disposition"]
        names = zipfile.ZipFile(folder / "home-packs" / "t-017.zip").namelist()
        assert any(name.endswith("index.html") for name in names)
        assert not list((folder / ".studio").glob("*.txt"))  # the note's file is gone


def test_a_library_renders_from_the_page_with_each_tracks_state(
    workspace: Workspace, write_client, tmp_path: Path
) -> None:
    folder = tmp_path / "studio"
    (folder / "clients").mkdir(parents=True)
    write_client(folder / "clients", "t-017.yaml")
    write_client(folder / "clients", "t-018.yaml", id="t-018",
                 safe_place={"description": "You rest in a quiet garden. It is warm."})
    shutil.copytree(TEMPLATES, folder / "templates")
    (folder / "library.yaml").write_text(json.dumps({
        "defaults": {"templates_dir": "templates", "format": "wav", "soundscape": "rain"},
        "jobs": [{"client": "clients/t-017.yaml", "templates": ["mini"]},
                 {"client": "clients/t-018.yaml", "templates": ["mini"]}]}))
    (folder / "broken.yaml").write_text("jobs: [{client: clients/nobody.yaml}]\n")
    app = create_app(StudioConfig(folder=folder, token="tok", port=8765), workspace.config)
    origin = {"Origin": "http://127.0.0.1:8765"}
    with TestClient(app, base_url="http://127.0.0.1:8765", follow_redirects=False) as client:
        client.cookies.set("imr-studio-8765", "tok")
        page = client.get("/library").text
        assert '<option value="library.yaml">' in page and ">Render the library<" in page
        refused = client.post("/library", data={"manifest": "broken.yaml"}, headers=origin)
        assert refused.status_code == 422 and "broken.yaml" in refused.text
        assert client.post("/library", data={"manifest": "../x.yaml"},
                           headers=origin).status_code == 404
        response = client.post("/library", data={"manifest": "library.yaml"}, headers=origin)
        assert response.status_code == 303
        run_url = response.headers["location"]
        page = client.get(run_url).text
        assert "t-017_mini" in page and "t-018_mini" in page
        updates = []
        with client.stream("GET", f"{run_url}/events") as events:
            for line in events.iter_lines():
                if line.startswith("data: "):
                    updates.append(json.loads(line[6:]))
        final = updates[-1]
        assert final["state"] == "done", final
        assert [t["state"] for t in final["tracks"]] == ["rendered", "failed"]
        reason = final["tracks"][1]["reason"]
        assert "safe_place.cue_word" in reason and "\n" not in reason
        assert any(t["state"] == "running" for u in updates for t in u["tracks"])
        assert (folder / "tracks" / "t-017_mini.wav").is_file()


def test_ctrl_c_while_a_page_follows_a_render_stops_with_one_line(
    write_client, tmp_path: Path
) -> None:
    # Regression: an open event stream held the shutdown until uvicorn cancelled it, with a
    # traceback on stderr.
    import re
    import signal
    import subprocess
    import sys
    import threading

    import httpx

    folder = tmp_path / "studio"
    (folder / "clients").mkdir(parents=True)
    write_client(folder / "clients", "t-017.yaml")
    shutil.copytree(TEMPLATES, folder / "templates")
    process = subprocess.Popen([sys.executable, "-m", "imr_audio", "studio", "--folder",
                                str(folder), "--port", "0", "--no-browser"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().strip()  # type: ignore[union-attr]
        match = re.fullmatch(r"(http://127\.0\.0\.1:(\d+))/\?token=(.+)", url)
        assert match, url
        base, port, token = match[1], match[2], match[3]
        client = httpx.Client(base_url=base, cookies={f"imr-studio-{port}": token},
                              headers={"Origin": base}, timeout=120)
        response = client.post("/jobs", data={
            "template": "mini", "client": "t-017", "format": "wav",
            "safe_place.description": "You rest in a quiet garden. It is warm.",
            "safe_place.cue_word": "garden"})
        assert response.status_code == 303
        first = threading.Event()

        def follow() -> None:
            try:
                with client.stream("GET", response.headers["location"] + "/events") as events:
                    for line in events.iter_lines():
                        if line.startswith("data: "):
                            first.set()
            except httpx.HTTPError:  # the server went away
                pass

        threading.Thread(target=follow, daemon=True).start()
        assert first.wait(60)
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    assert err.strip().splitlines() == ["imr-audio: studio stopped"], err


def test_a_job_after_a_dead_worker_gets_a_fresh_pool(
    queue: JobQueue, write_client, tmp_path: Path, made: list[RecordingExecutor]
) -> None:
    client = write_client(tmp_path)
    first = queue.submit(JobRequest("mini", "t-017", client, tmp_path / "out", WAV))
    end = time.monotonic() + 120
    while queue.get(first.id).state == "queued" and time.monotonic() < end:  # type: ignore[union-attr]
        time.sleep(0.05)
    made[0].stop()  # the worker dies mid-render
    failed = queue.wait(first.id, 60)
    assert failed is not None and failed.state == "failed"
    assert "worker stopped" in failed.message
    again = queue.submit(JobRequest("mini", "t-017", client, tmp_path / "out", WAV))
    done = queue.wait(again.id, 300)
    assert done is not None and done.state == "done", done
    assert len(made) == 2


def test_with_two_places_two_renders_run_at_once(
    workspace: Workspace, write_client, tmp_path: Path
) -> None:
    # `imr-audio studio --jobs 2`: two renders run side by side, a third waits its turn.
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    made: list[RecordingExecutor] = []

    def executor(max_workers: int) -> RecordingExecutor:
        made.append(RecordingExecutor(max_workers))
        return made[-1]

    queue = JobQueue(workspace.config.replace(templates_dir=TEMPLATES), scratch, 2, executor)
    try:
        (tmp_path / "clients").mkdir()
        jobs = [queue.submit(JobRequest("mini", f"t-01{n}", write_client(
            tmp_path / "clients", f"t-01{n}.yaml", id=f"t-01{n}"), tmp_path / "out", WAV))
            for n in range(3)]
        most = 0
        end = time.monotonic() + 300
        while time.monotonic() < end:
            states = [queue.get(job.id).state for job in jobs]  # type: ignore[union-attr]
            most = max(most, states.count("running"))
            if all(state in ("done", "failed", "cancelled") for state in states):
                break
            time.sleep(0.02)
        assert states == ["done", "done", "done"], states
        assert most == 2
        assert made[0].max_workers == 2
        assert sorted(p.name for p in (tmp_path / "out").glob("*.wav")) == [
            "t-010_mini.wav", "t-011_mini.wav", "t-012_mini.wav"]
    finally:
        queue.close()


def test_the_studio_command_takes_a_number_of_renders_at_once() -> None:
    from click.testing import CliRunner

    from imr_audio.cli import cli

    result = CliRunner().invoke(cli, ["studio", "--jobs", "0", "--no-browser"])
    assert result.exit_code == 2 and "--jobs" in result.output
    assert "Renders run at once" in CliRunner().invoke(cli, ["studio", "--help"]).output


# --- the jobs outlive the server -------------------------------------------------------------


def test_the_jobs_outlive_the_server_and_an_unfinished_one_says_it_was_interrupted(
    workspace: Workspace, write_client, example_client: Path, tmp_path: Path
) -> None:
    config = workspace.config.replace(templates_dir=TEMPLATES)
    records, scratch = tmp_path / "records", tmp_path / "scratch"
    scratch.mkdir()
    first = JobQueue(config, scratch, 1, records=records)
    try:
        done = first.wait(first.submit(JobRequest(
            "mini", "t-017", write_client(tmp_path), tmp_path / "out", WAV)).id, 300)
        assert done is not None and done.state == "done", done
        long = first.submit(JobRequest("safe-place", "demo-001", example_client,
                                       tmp_path / "out", WAV))
        end = time.monotonic() + 120
        while first.get(long.id).state != "running" and time.monotonic() < end:  # type: ignore[union-attr]
            time.sleep(0.05)
        assert first.get(long.id).state == "running"  # type: ignore[union-attr]
    finally:
        first.close()  # the studio stops with a render running

    assert sorted(p.name for p in records.iterdir()) == sorted([f"{done.id}.json",
                                                                 f"{long.id}.json"])
    assert records.stat().st_mode & 0o777 == 0o700
    assert {p.stat().st_mode & 0o777 for p in records.iterdir()} == {0o600}
    for path in records.iterdir():  # ids, the track's name and the state; no profile value
        text = path.read_text(encoding="utf-8")
        assert "Robin" not in text and "bench" not in text

    again = JobQueue(config, scratch, 1, records=records)
    try:
        assert again.get(done.id) == done
        interrupted = again.get(long.id)
        assert interrupted is not None and interrupted.state == "failed"
        assert interrupted.message == INTERRUPTED and interrupted.final
        assert json.loads((records / f"{long.id}.json").read_text())["state"] == "failed"
        assert [job.id for job in again.jobs()] == [long.id, done.id]
        newer = again.submit(JobRequest("mini", "t-017", write_client(tmp_path), tmp_path / "o2",
                                        WAV))
        assert newer.id not in (done.id, long.id)
        assert int(newer.id.split("-")[0]) > int(long.id.split("-")[0])
        assert again.jobs()[0].id == newer.id
        assert again.wait(newer.id, 300).state == "done"  # type: ignore[union-attr]
    finally:
        again.close()


def test_damaged_and_surplus_job_records_are_left_out(workspace: Workspace,
                                                      tmp_path: Path) -> None:
    records = tmp_path / "records"
    records.mkdir()
    for number in range(KEPT_RECORDS + 5):
        status = JobStatus(f"{number + 1}-abcdef", "mini", "t-017", state="done",
                           track="t-017_mini.wav", created_s=1_000_000.0 + number)
        (records / f"{status.id}.json").write_text(json.dumps(status.record()))
    (records / "x-1.json").write_text("{not json")
    (records / "y-1.json").write_text(json.dumps({"kind": "imr-audio studio job", "id": 3}))
    (records / "z-1.json").write_text(json.dumps(  # another job's record under this name
        JobStatus("9-abcdef", "mini", "t-017", created_s=2e6).record()))
    killed = JobStatus("300-abcdef", "mini", "t-017", state="running", stage="export",
                       fraction=0.4, created_s=3e6)  # the server was killed during its render
    (records / f"{killed.id}.json").write_text(json.dumps(killed.record()))
    queue = JobQueue(workspace.config, tmp_path, 1, records=records)
    listed = queue.jobs()
    assert len(listed) == KEPT_RECORDS
    assert listed[0] == replace(killed, state="failed", stage="", message=INTERRUPTED)
    assert listed[1].id == f"{KEPT_RECORDS + 5}-abcdef" and listed[-1].id == "7-abcdef"
    assert json.loads((records / "300-abcdef.json").read_text())["message"] == INTERRUPTED
    assert len(list(records.iterdir())) == KEPT_RECORDS  # the oldest and the damaged removed
    assert queue.get("1-abcdef") is None and queue.get("9-abcdef") is not None
