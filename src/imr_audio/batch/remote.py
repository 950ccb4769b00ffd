"""A batch on cluster workers that do not share this machine's files (``--scheduler``).

The submitting machine (where ``imr-audio batch`` runs) keeps the manifest, the client files
and the output root. For each track it first checks, with its own engines, whether the track is
up to date (:func:`~imr_audio.track.current_track`): such a track is skipped and never sent.
Every other track goes to a worker as a :class:`RemoteJob`, which carries:

* the client profile's content (the mapping read from its file here; never the file's path),
* the template id and the job's render settings (a cover image's bytes instead of its path),
* the workspace's content a render depends on: the installation key's bytes (the key hashes
  the client id and the inputs in the sidecar and the audio's tags, so the files are byte for
  byte those of a local run), the files of the job's own templates folder (none: the shipped
  templates), the soundscape presets file and the theme map, and the engines' names.

The worker needs only imr-audio installed (with the ``cluster`` extra, and ``neural`` for
Piper). It builds its workspace in a private temporary folder (0700) holding the key, the
templates and the presets, with its own cache folder (``$IMR_AUDIO_CACHE_DIR`` there, else its
user cache folder: its speech cache then holds clips of the clients' speech), renders the track
into that folder and returns the finished set as bytes (:class:`RemoteResult`): audio,
transcript, captions and sidecar. The temporary folder is removed when the task ends. The
submitting machine publishes the set into the output root with the same atomic publish as a
local render (:func:`~imr_audio.trackset.write_track_set`).

A job that names an audio file as its soundscape, or own recordings, cannot be sent (the file
stays here): it fails with a one-line reason saying to render it locally. Error messages from a
worker name this machine's files, as a local run's do (the worker's folders are replaced).
"""

from __future__ import annotations

import contextlib
import signal
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from imr_audio.batch.manifest import BatchJob, BatchPlan
from imr_audio.batch.worker import JobOutcome, job_progress, one_line
from imr_audio.errors import BatchError, ImrAudioError
from imr_audio.files import private_dir, write_private
from imr_audio.soundscapes.audio_file import is_audio_path
from imr_audio.track import RenderSettings, current_track, render, voice_change_notice
from imr_audio.trackset import COMPANION_SUFFIXES, write_track_set
from imr_audio.voice.base import VoiceSettings
from imr_audio.voice.registry import EngineSet
from imr_audio.workspace import Workspace, WorkspaceConfig
from imr_audio.yamlfile import read_yaml

__all__ = ["RemoteJob", "RemoteJobs", "RemoteResult", "WorkspaceContent", "render_remote"]

MAX_TEMPLATES_BYTES = 20 << 20
"""Most a job's own templates folder may hold to be sent to a worker."""

_PROFILE = "<client profile>"
_TEMPLATES = "<templates folder>"
_OUTPUT = "<output folder>"


@dataclass(frozen=True)
class WorkspaceContent:
    """What a worker's workspace is built from: contents, never this machine's paths."""

    key: bytes
    """The installation key of the submitting machine."""
    templates: tuple[tuple[str, bytes], ...] = ()
    """The job's own templates folder: (relative path, content); empty: shipped ones only."""
    presets: bytes | None = None
    """The soundscape presets file's content; None: none."""
    themes: bytes | None = None
    """The therapist's theme map's content; None: none."""
    engines: tuple[tuple[str, str], ...] = ()
    """The speech engines' factories (``WorkspaceConfig.engines``)."""
    engine_workers: int | None = None
    """pyttsx3 processes per render set in the workspace; None: the worker's cores shared
    out among its host's worker processes."""


@dataclass(frozen=True)
class RemoteJob:
    """One track to render on a worker."""

    index: int
    """The track's place in the plan."""
    template_id: str
    """Template to render."""
    profile: Mapping[str, Any]
    """The client profile's content."""
    settings: RenderSettings
    """The job's render settings (``export.cover`` replaced by :attr:`cover`)."""
    workspace: WorkspaceContent
    """What the worker's workspace is built from."""
    cover: tuple[str, bytes] | None = None
    """The cover image: (suffix, content); None: none."""


@dataclass(frozen=True)
class RemoteResult:
    """What a worker sends back: the finished track set, or why it failed."""

    status: str
    """``rendered`` or ``failed``."""
    reason: str = ""
    """Why it failed, one line (the worker's folders replaced by placeholders)."""
    files: tuple[tuple[str, bytes], ...] = ()
    """``("", audio)`` and each companion suffix with its content."""
    duration_s: float | None = None
    """Length of the track, in seconds."""
    integrated_lufs: float | None = None
    """Its measured loudness, LUFS."""
    true_peak_dbtp: float | None = None
    """Its measured true peak, dBTP."""
    voice: VoiceSettings | None = None
    """The voice that spoke it."""
    notices: tuple[str, ...] = ()
    """The render's notices."""
    elapsed_s: float = 0.0
    """Time the worker spent, in seconds."""


def _worker_workspace(folder: Path, content: WorkspaceContent) -> Workspace:
    """The workspace a task renders in, built in its private ``folder``."""
    key_file = write_private(folder / "installation.key", content.key)
    templates_dir = None
    if content.templates:
        templates_dir = private_dir(folder / "templates")
        for relative, data in content.templates:
            write_private(templates_dir / relative, data)
    presets = None if content.presets is None else write_private(folder / "presets.yaml",
                                                                  content.presets)
    themes = None if content.themes is None else write_private(folder / "themes.yaml",
                                                                content.themes)
    from imr_audio.executors_dask import cores_per_worker

    config = WorkspaceConfig.from_environment().replace(
        key_file=key_file, templates_dir=templates_dir, presets_file=presets,
        themes_file=themes, engines=content.engines,
        engine_workers=content.engine_workers or cores_per_worker())
    return Workspace(config)


def _placeholders(reason: str, folder: Path) -> str:
    """``reason`` with the worker's folders replaced by names the submitting side restores."""
    for path, name in ((folder / "templates", _TEMPLATES), (folder / "out", _OUTPUT),
                       (folder, "<worker folder>")):
        reason = reason.replace(str(path), name)
    return reason


def render_remote(channel: Any, job: RemoteJob) -> RemoteResult:
    """Render one track in a cluster worker and return its files; never raises for a bad job."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="imr-cluster-") as name:  # 0700
        folder = Path(name)
        try:
            channel.put(("started", job.index))
            workspace = _worker_workspace(folder, job.workspace)
            profile = workspace.profile(job.profile, _PROFILE, job.template_id)
            settings = replace(job.settings, skip_if_current=False)
            if job.cover is not None:
                cover = write_private(folder / f"cover{job.cover[0]}", job.cover[1])
                settings = replace(settings, export=replace(settings.export, cover=cover))
            out = private_dir(folder / "out")
            result = render(workspace, job.template_id, profile, out, settings,
                            job_progress(channel, job.index))
            files = tuple((suffix, Path(f"{result.path}{suffix}").read_bytes())
                          for suffix in ("", *COMPANION_SUFFIXES))
        except ImrAudioError as exc:
            return RemoteResult("failed", _placeholders(one_line(str(exc)), folder),
                                elapsed_s=time.monotonic() - started)
        except Exception as exc:  # a bug (or a stopped task): only its type is kept
            return RemoteResult("failed", f"unexpected error ({type(exc).__name__}); render it "
                                f"alone with 'imr-audio -vv render {job.template_id}' to see more",
                                elapsed_s=time.monotonic() - started)
    return RemoteResult(
        "rendered", files=files, duration_s=result.duration_s,
        integrated_lufs=result.loudness.integrated_lufs,
        true_peak_dbtp=result.loudness.true_peak_dbtp, voice=result.voice,
        notices=result.notices, elapsed_s=time.monotonic() - started)


def _folder_files(folder: Path) -> tuple[tuple[str, bytes], ...]:
    """Every visible file under a templates folder (relative path, content)."""
    files: list[tuple[str, bytes]] = []
    total = 0
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        data = path.read_bytes()
        total += len(data)
        if total > MAX_TEMPLATES_BYTES:
            raise BatchError(f"{folder}: too large to send to a cluster (more than "
                             f"{MAX_TEMPLATES_BYTES >> 20} MB)")
        files.append((relative.as_posix(), data))
    return tuple(files)


@contextlib.contextmanager
def _ctrl_c_held() -> Iterator[None]:
    """Hold Ctrl-C back from this (main) thread while the block runs; it arrives afterwards.

    The up-to-date checks start speech engine processes here, which inherit the blocked signal:
    a Ctrl-C then reaches only this process, which stops them (as a local batch's workers,
    which ignore it), and no traceback comes from them.
    """
    if (not hasattr(signal, "pthread_sigmask")
            or threading.current_thread() is not threading.main_thread()):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _optional_bytes(path: Path | None) -> bytes | None:
    return path.read_bytes() if path is not None and path.is_file() else None


class RemoteJobs:
    """Turns a plan's tracks into :func:`render_remote` tasks and their results into files.

    A context manager: it holds this machine's speech engines open for the up-to-date checks.
    """

    def __init__(self, plan: BatchPlan, force: bool) -> None:
        """Tasks for ``plan``'s tracks; ``force`` renders up-to-date ones too (no checks)."""
        if plan.config.voices_dir is not None:
            raise BatchError("a cluster batch renders with the shipped voice profiles only; "
                             "run this batch without --scheduler")
        self.plan = plan
        self.force = force
        self._stack = ExitStack()
        self._engines: EngineSet | None = None
        self._content: dict[Path | None, WorkspaceContent] = {}

    def __enter__(self) -> RemoteJobs:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _engine_set(self) -> EngineSet:
        if self._engines is None:
            workspace = Workspace(self.plan.config.replace(engine_workers=1))
            self._engines = self._stack.enter_context(EngineSet(workspace.engines))
        return self._engines

    def _workspace_content(self, job: BatchJob) -> WorkspaceContent:
        if job.templates_dir not in self._content:
            config = self.plan.config
            try:
                self._content[job.templates_dir] = WorkspaceContent(
                    key=Workspace(config).key.secret(),
                    templates=() if job.templates_dir is None else _folder_files(job.templates_dir),
                    presets=_optional_bytes(config.presets_file),
                    themes=_optional_bytes(config.themes_file),
                    engines=config.engines,
                    engine_workers=config.engine_workers,
                )
            except OSError as exc:
                raise BatchError(f"{job.templates_dir}: cannot read it to send it to the "
                                 f"cluster ({type(exc).__name__})") from None
        return self._content[job.templates_dir]

    def task(self, index: int, config: WorkspaceConfig) -> Any:
        """:func:`render_remote` and its job, or the outcome already (up to date, unsendable)."""
        job = self.plan.jobs[index]
        started = time.monotonic()
        settings = job.settings
        if settings.recordings_dir is not None or (
                settings.soundscape is not None and is_audio_path(settings.soundscape)):
            return JobOutcome(job, "failed", f"{job.place}: a soundscape or recordings file is "
                              "not sent to a cluster; render this job without --scheduler")
        try:
            data = read_yaml(job.client_file)
            if not self.force:
                workspace = self.plan.workspace(job)
                profile = workspace.profile(data, str(job.client_file), job.template_id)
                with _ctrl_c_held():
                    current = current_track(workspace, job.template_id, profile,
                                            job.output_dir, settings, self._engine_set())
                if current is not None:
                    return JobOutcome(
                        job, "skipped", duration_s=current.duration_s,
                        integrated_lufs=current.loudness.integrated_lufs,
                        true_peak_dbtp=current.loudness.true_peak_dbtp,
                        elapsed_s=time.monotonic() - started, notices=current.notices)
            cover = settings.export.cover
            sent_cover = None if cover is None else (Path(cover).suffix, Path(cover).read_bytes())
            remote = RemoteJob(index, job.template_id, data,
                               replace(settings, export=replace(settings.export, cover=None)),
                               self._workspace_content(job), sent_cover)
        except ImrAudioError as exc:
            return JobOutcome(job, "failed", one_line(str(exc)))
        except OSError as exc:
            return JobOutcome(job, "failed", f"{job.place}: field 'cover': cannot read it "
                              f"({type(exc).__name__})")
        return render_remote, (remote,)

    def outcome(self, index: int, result: Any) -> JobOutcome:
        """Publish the set a worker sent into the output root; the track's outcome."""
        job = self.plan.jobs[index]
        assert isinstance(result, RemoteResult)
        if result.status != "rendered":
            reason = result.reason.replace(_PROFILE, str(job.client_file))
            reason = reason.replace(_TEMPLATES, str(job.templates_dir))
            reason = reason.replace(_OUTPUT, str(job.output_dir))
            return JobOutcome(job, "failed", reason, elapsed_s=result.elapsed_s)
        files = dict(result.files)
        if not job.output_dir.resolve().is_relative_to(self.plan.output_dir.resolve()):
            return JobOutcome(job, "failed", f"{job.place}: its folder now leaves the output "
                              "folder through a link", elapsed_s=result.elapsed_s)
        notice = "" if result.voice is None else voice_change_notice(job.track_path,
                                                                     result.voice)
        try:
            write_track_set(job.track_path, files)
        except ImrAudioError as exc:
            return JobOutcome(job, "failed", one_line(str(exc)), elapsed_s=result.elapsed_s)
        except KeyError:
            return JobOutcome(job, "failed", f"{job.place}: the worker sent an incomplete "
                              "track set", elapsed_s=result.elapsed_s)
        return JobOutcome(
            job, "rendered", duration_s=result.duration_s,
            integrated_lufs=result.integrated_lufs, true_peak_dbtp=result.true_peak_dbtp,
            elapsed_s=result.elapsed_s,
            notices=tuple(n for n in (*result.notices, notice) if n))
