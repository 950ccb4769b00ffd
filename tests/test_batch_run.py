"""Batch runs with the real engine: several tracks, failures, resume, kill, a shared cache."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
import yaml

from imr_audio.audio import Clip
from imr_audio.batch import (
    BatchEvent,
    BatchOptions,
    JobFailed,
    JobFinished,
    JobProgress,
    JobSkipped,
    JobStarted,
    load_manifest,
    run_batch,
)
from imr_audio.mixplan import bed_choice
from imr_audio.progress import ProgressCallback
from imr_audio.provenance import TrackInputs
from imr_audio.script import ScriptChoices, prepare
from imr_audio.secret import InstallationKey
from imr_audio.track import RenderResult, RenderSettings, current_result
from imr_audio.trackset import companion_paths
from imr_audio.voice import Pyttsx3Engine, SpeechRequest, VoiceInfo, VoiceSettings
from imr_audio.voice.cache import CachedEngine, SpeechCache
from imr_audio.workspace import KEY_FILE_ENV, Workspace
from measure import ffmpeg_ebur128
from support import (
    interrupt_batch,
    two_clients_and_a_broken_one,
    visible_files,
    write_library,
)

VOICE = VoiceSettings(engine="pyttsx3", voice_id="gmw/en", rate_wpm=130, pitch=40)




@pytest.mark.slow
def test_a_library_renders_and_one_broken_job_does_not_stop_the_others(
    tmp_path: Path,
    client_data: Callable[..., dict[str, Any]],
    write_client: Callable[..., Path], workspace: Workspace, test_workspace: Workspace
) -> None:
    manifest = write_library(tmp_path, [
        # c.yaml lacks a variable the template needs: that job fails alone.
        *two_clients_and_a_broken_one(tmp_path, write_client, client_data),
        {"client": "a.yaml", "templates": ["mini"], "soundscape": "beds/gone.wav",
         "folder": "own-bed"},  # an unreadable bed
    ])
    events: list[BatchEvent] = []
    report = run_batch(workspace, manifest, BatchOptions(workers=2), progress=events.append)

    assert [o.status for o in report.outcomes] == ["rendered", "rendered", "failed", "failed"]
    assert "c.yaml" in report.outcomes[2].reason
    assert "safe_place.cue_word" in report.outcomes[2].reason
    assert "gone.wav" in report.outcomes[3].reason
    assert all("Zephyrine" not in o.reason for o in report.outcomes)
    root = tmp_path / "tracks"
    for outcome in report.outcomes[:2]:
        track = outcome.job.track_path
        assert track.parent == root and track.name == f"{outcome.job.client_id}_mini.mp3"
        audio, rate = sf.read(track)
        assert outcome.duration_s is not None
        assert outcome.duration_s == pytest.approx(len(audio) / rate, abs=0.05)
        assert 60 < outcome.duration_s < 240
        integrated, peak = ffmpeg_ebur128(track)
        assert integrated == pytest.approx(-18.0, abs=0.5)
        assert peak <= -0.9
        for companion in companion_paths(track):
            assert (companion.stat().st_mode & 0o777) == 0o600
        assert (track.stat().st_mode & 0o777) == 0o600
    assert (root.stat().st_mode & 0o777) == 0o700
    assert not (root / "own-bed").exists()

    # Events: each track started and ended once; counts add up; an ETA was given on the way.
    started = [e.index for e in events if isinstance(e, JobStarted)]
    assert sorted(started) == [0, 1, 2, 3]
    ended = [e for e in events if isinstance(e, (JobFinished, JobFailed))]
    assert sorted(e.index for e in ended) == [0, 1, 2, 3]
    assert ended[-1].counts.finished == 4 and ended[-1].counts.failed == 2
    progress = [e for e in events if isinstance(e, JobProgress)]
    assert {e.stage for e in progress} >= {"synthesis", "export"}
    assert any(e.counts.eta_s is not None for e in progress)

    # The two clients' scripts say the same words: rendered at the same time by two workers,
    # they got the same clips, so the two tracks hold the same audio (the files differ only in
    # the metadata that proves whose each is).
    first, second = (sf.read(o.job.track_path)[0] for o in report.outcomes[:2])
    assert np.array_equal(first, second)
    assert (report.outcomes[0].job.track_path.read_bytes()
            != report.outcomes[1].job.track_path.read_bytes())

    # Run again: both tracks are up to date and left as they are; the failures are reported.
    before = {p: p.stat().st_mtime_ns for p in root.iterdir()}
    events.clear()
    again = run_batch(workspace, manifest, BatchOptions(workers=2), progress=events.append)
    assert [o.status for o in again.outcomes] == ["skipped", "skipped", "failed", "failed"]
    assert {p: p.stat().st_mtime_ns for p in root.iterdir()} == before
    assert sum(isinstance(e, JobSkipped) for e in events) == 2
    assert again.outcomes[0].duration_s == pytest.approx(report.outcomes[0].duration_s, abs=0.01)

    # What makes a track current: same inputs, all four files, the sidecar written last.
    job = again.outcomes[0].job
    ws = test_workspace
    prepared = prepare(ws, "mini", ws.load_profile(job.client_file),
                       ScriptChoices(voice_profile="neutral"))
    sidecar = json.loads(Path(f"{job.track_path}.json").read_text())
    version = sidecar["voice"]["engine_version"]
    voice = VoiceSettings(**{key: sidecar["voice"][key]
                             for key in ("engine", "voice_id", "rate_wpm", "volume", "pitch")})

    def current(settings: RenderSettings, voice: VoiceSettings) -> RenderResult | None:
        bed = bed_choice(ws, prepared.soundscape.name, settings.seed)
        inputs = TrackInputs(prepared, voice, version, bed, settings.mix, settings.master,
                             settings.export)
        return current_result(ws, inputs, root)

    settings = job.settings
    assert current(settings, voice) is not None
    assert current(replace(settings, seed=1), voice) is None
    assert current(settings, replace(voice, rate_wpm=121)) is None
    transcript = Path(f"{job.track_path}.txt")
    later = Path(f"{job.track_path}.json").stat().st_mtime_ns + 1_000_000
    os.utime(transcript, ns=(later, later))  # as if a later render stopped before its sidecar
    assert current(settings, voice) is None


def _wait_for_track(root: Path, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if root.is_dir() and any(not p.name.startswith(".") for p in root.glob("*.mp3")):
            return
        if process.poll() is not None:
            pytest.fail("the batch ended before it could be killed")
        time.sleep(0.05)
    pytest.fail("no track was published in time")


@pytest.mark.slow
def test_a_killed_batch_resumed_gives_exactly_the_files_of_a_clean_run(
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    for letter, number in (("a", 17), ("b", 18), ("c", 19)):
        write_client(tmp_path, f"{letter}.yaml", id=f"t-0{number}")
    manifest = write_library(tmp_path, [
        {"client": name, "templates": ["mini"]} for name in ("a.yaml", "b.yaml", "c.yaml")
    ])
    command = [sys.executable, "-m", "imr_audio", "batch", str(manifest), "--jobs", "2"]
    # The clean run fills the speech cache that the killed run and the resume share with it.
    clean_root = tmp_path / "clean"
    clean = subprocess.run([*command, "-o", str(clean_root)], capture_output=True, check=False)
    assert clean.returncode == 0, clean.stderr.decode()
    clean_files = visible_files(clean_root)
    assert len(clean_files) == 3 * 4

    root = tmp_path / "resumed"
    process = subprocess.Popen([*command, "-o", str(root)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    _wait_for_track(root, process, timeout_s=240)
    process.send_signal(signal.SIGKILL)
    process.wait()
    # Whatever is visible is complete: each file is byte for byte the clean run's.
    partial = visible_files(root)
    assert len(partial) < len(clean_files)
    time.sleep(2.0)  # the workers notice that their parent is gone and stop
    partial = visible_files(root)
    for name, data in partial.items():
        assert data == clean_files[name], name

    resumed = subprocess.run([*command, "-o", str(root), "--json"], capture_output=True,
                             check=False)
    assert resumed.returncode == 0, resumed.stderr.decode()
    statuses = [job["status"] for job in json.loads(resumed.stdout)["jobs"]]
    assert "rendered" in statuses and len(statuses) == 3
    assert statuses.count("skipped") == sum(name.endswith(".json") for name in partial)
    assert visible_files(root) == clean_files
    assert not list(root.rglob(".imr-*.part"))


class CountingEngine:
    """A real engine that records what it is asked to synthesise."""

    def __init__(self, inner: Pyttsx3Engine) -> None:
        self.inner = inner
        self.name = inner.name
        self.version = inner.version
        self.texts: list[str] = []

    def voices(self) -> list[VoiceInfo]:
        return self.inner.voices()

    def synthesize(self, requests: Sequence[SpeechRequest], settings: VoiceSettings,
                   progress: ProgressCallback | None = None) -> list[Clip]:
        self.texts.extend(r.text for r in requests)
        return self.inner.synthesize(requests, settings, progress)

    def close(self) -> None:
        self.inner.close()


def synthesise_in_child(cache_dir: str, texts: list[str], ready: Any, go: Any,
                        out: str) -> None:
    """Runs in a spawned process: synthesise ``texts`` through the shared cache."""
    with Pyttsx3Engine(workers=1) as engine:
        counting = CountingEngine(engine)
        counting.voices()  # start the engine before the race begins
        key = InstallationKey(Path(os.environ[KEY_FILE_ENV]))
        cached = CachedEngine(counting, SpeechCache(Path(cache_dir), key), owner="t-017")
        ready.set()
        go.wait()
        clips = cached.synthesize([SpeechRequest(t, n) for n, t in enumerate(texts)], VOICE)
        assert all(clip.duration_s > 0.2 for clip in clips)
        Path(out).write_text(json.dumps(counting.texts), encoding="utf-8")


def test_two_processes_sharing_the_cache_synthesise_each_clip_once(
    tmp_path: Path,
    workspace: Workspace,
) -> None:
    texts = [f"Notice sound number {n}, and let it pass." for n in range(10)]
    halves = [texts[:7], texts[3:]]  # four texts are wanted by both
    context = multiprocessing.get_context("spawn")
    go = context.Event()
    readies = [context.Event() for _ in halves]
    outs = [tmp_path / f"made-{n}.json" for n in range(2)]
    processes = [
        context.Process(target=synthesise_in_child,
                        args=(str(tmp_path / "speech"), half, ready, go, str(out)))
        for half, ready, out in zip(halves, readies, outs)
    ]
    for process in processes:
        process.start()
    for ready in readies:
        assert ready.wait(60)
    go.set()
    for process in processes:
        process.join(120)
        assert process.exitcode == 0
    made = [json.loads(out.read_text()) for out in outs]
    everything = made[0] + made[1]
    assert sorted(everything) == sorted(texts)  # each text made once, by one of them
    assert workspace.derive(cache_dir=tmp_path).speech_cache.info().entries == len(texts)
    assert not list((tmp_path / "speech").glob(".lock-*"))


def test_a_batch_plans_variants_that_render_in_their_own_folders(
    tmp_path: Path,
    write_client: Callable[..., Path], workspace: Workspace
) -> None:
    # Planning only (cheap); the render of a variant is the same render_track call.
    write_client(tmp_path)
    manifest = write_library(tmp_path, [
        {"client": "client.yaml", "templates": ["mini"], "lengths": ["3m", "3m30s"]},
    ])
    plan = load_manifest(workspace, manifest)
    assert [job.track_path.relative_to(tmp_path / "tracks").as_posix() for job in plan.jobs] == [
        "3m/t-017_mini.mp3", "3m30s/t-017_mini.mp3"
    ]


@pytest.mark.slow
def test_a_batch_builds_the_home_packs_its_jobs_ask_for(
    tmp_path: Path,
    client_data: Callable[..., dict[str, Any]],
    write_client: Callable[..., Path], workspace: Workspace
) -> None:
    write_client(tmp_path, "a.yaml", id="t-017")
    broken = client_data(id="t-019")
    del broken["safe_place"]["cue_word"]
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(broken), encoding="utf-8")
    (tmp_path / "note.txt").write_text("Listen once a day this week.\n", encoding="utf-8")
    manifest = write_library(tmp_path, [
        {"client": "a.yaml", "templates": ["mini", "breathe"], "pack": True, "pack_zip": True,
         "pack_note": "note.txt"},
        {"client": "c.yaml", "templates": ["mini"], "pack": True},  # its track fails
    ])
    report = run_batch(workspace, manifest, BatchOptions(workers=2))
    assert [o.status for o in report.outcomes] == ["rendered", "rendered", "failed"]
    built, failed = report.packs
    root = tmp_path / "tracks" / "home-packs"
    assert built.client_id == "t-017" and not built.reason and built.tracks == 2
    assert built.folder == root / "t-017" and built.zip_path == root / "t-017.zip"
    page = (built.folder / "index.html").read_text(encoding="utf-8")
    assert "Listen once a day this week." in page and "Short breathing" in page
    playlist = (built.folder / "playlist.m3u8").read_text(encoding="utf-8").splitlines()
    assert [line for line in playlist if not line.startswith("#")] == [
        "t-017_mini.mp3", "t-017_breathe.mp3"]
    assert (built.folder / "t-017_breathe.mp3").read_bytes() == (
        report.outcomes[1].job.track_path.read_bytes())
    assert failed.client_id == "t-019" and "1 of its 1 track(s) failed" in failed.reason
    assert not (root / "t-019").exists()
    assert report.as_dict()["packs"][0]["tracks"] == 2


def test_the_batch_lock_is_held_while_a_batch_runs_and_removed_after(tmp_path: Path) -> None:
    from imr_audio.batch.runner import LOCK_NAME, _root_lock
    from imr_audio.errors import BatchError

    root = tmp_path / "tracks"
    with _root_lock(root):
        assert (root / LOCK_NAME).is_file()
        with pytest.raises(BatchError, match="another batch is writing to this folder"), \
                _root_lock(root):
            pass
        assert (root / LOCK_NAME).is_file()  # the refused one took nothing away
    assert not (root / LOCK_NAME).exists()
    with _root_lock(root):  # and the next batch locks again
        assert (root / LOCK_NAME).is_file()
    assert list(root.iterdir()) == []


@pytest.mark.slow
def test_ctrl_c_stops_a_batch_with_one_line_and_leaves_it_resumable(tmp_path: Path) -> None:
    root = tmp_path / "tracks"
    examples = Path(__file__).parents[1] / "examples"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["IMR_AUDIO_CACHE_DIR"] = str(tmp_path / "cache")
    process = interrupt_batch([str(examples / "library.yaml"), "-o", str(root)], 2.0, env)
    assert not (root / ".imr-batch.lock").exists()
    for _ in range(40):  # speech engines notice that their worker is gone within a second
        left = subprocess.run(["pgrep", "-a", "-g", str(process.pid)], capture_output=True,
                              text=True, check=False).stdout.strip()
        if not left:
            break
        time.sleep(0.5)
    assert left == ""  # no worker or speech engine left running
