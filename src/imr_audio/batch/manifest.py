"""Batch manifests: read a library's YAML or CSV manifest, check all of it, expand its jobs.

A manifest has ``defaults`` (voice, soundscape, format, loudness, output root ...) and ``jobs``
(a client file x templates x variants). :func:`load_manifest` validates the whole manifest and
raises one :class:`~imr_audio.errors.BatchManifestError` listing every problem with its place
(``library.yaml: job 3: field 'lengths': ...``), or returns the planned tracks.

Each track's path is derived, never written by the user: ``<root>/[<folder>/][<variant>/]
<client id>_<template id>.<format>``. A variant folder (``10m``, ``ocean``, ``10m-ocean``) is
used only when a job lists ``lengths`` or ``soundscapes``. Every part of a path is checked (no
``..``, no absolute folder, no separators in names) and no path may leave the root, symlinks
included. A client file that cannot be read as a profile does not stop the batch: its job is
planned as failed (the batch reports it and renders the rest).
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from imr_audio.batch.fields import (
    JOB_FIELDS,
    LIST_FIELDS,
    ROOT_FIELDS,
    SETTING_FIELDS,
    clean_value,
    safe_name,
    variant_name,
)
from imr_audio.errors import BatchManifestError, ImrAudioError
from imr_audio.export import ExportSettings, check_export_settings
from imr_audio.master import MasterSettings
from imr_audio.profile import CLIENT_ID_PATTERN
from imr_audio.soundscapes.audio_file import is_audio_path
from imr_audio.track import RenderSettings, output_path
from imr_audio.workspace import Workspace, WorkspaceConfig
from imr_audio.yamlfile import did_you_mean, read_text_file, read_yaml

__all__ = ["BatchJob", "BatchPlan", "load_manifest"]

_CSV_LIST = re.compile(r"[;,]")


@dataclass(frozen=True)
class BatchJob:
    """One track to render: a client, a template and one variant of the settings."""

    number: int
    """Job number in the manifest (1-based; for a CSV manifest, the row's number)."""
    place: str
    """Where the job is written, for messages: ``library.yaml: job 2``."""
    client_file: Path
    """The client profile."""
    client_id: str
    """The profile's pseudonymous id; empty when the profile could not be read."""
    template_id: str
    """Template to render."""
    variant: str
    """Variant folder (``10m``, ``ocean``, ``10m-ocean``); empty for a plain job."""
    output_dir: Path
    """Folder of the track (inside the batch's output folder)."""
    subfolder: str
    """``output_dir`` relative to the batch's output folder (``/``-separated; empty for the
    output folder itself)."""
    settings: RenderSettings
    """Everything about the render but workspace, client and template."""
    templates_dir: Path | None = None
    """The therapist's own templates folder for this job (``templates_dir``); None: none."""
    problem: str = ""
    """Why the job cannot run at all (its client file is not a readable profile); else empty."""
    pack: bool = False
    """Whether the track goes into the client's home pack (``pack``)."""
    pack_zip: bool = False
    """Whether the client's home pack is also zipped (``pack_zip``)."""
    pack_note: Path | None = None
    """The therapist's note for the client's home pack (``pack_note``); None: no note."""

    @property
    def label(self) -> str:
        """A short name for progress lines and the summary: ``10m/demo-001_safe-place``."""
        name = f"{self.client_id or self.client_file.name}_{self.template_id}"
        return f"{self.subfolder}/{name}" if self.subfolder else name

    @property
    def track_path(self) -> Path:
        """Where the track is published."""
        return output_path(
            self.output_dir, self.client_id, self.template_id, self.settings.export.format
        )


@dataclass(frozen=True)
class BatchPlan:
    """A validated manifest: where its tracks go and every job."""

    manifest: Path
    """The manifest file."""
    output_dir: Path
    """Folder every track is written under (absolute)."""
    config: WorkspaceConfig
    """The workspace the tracks are rendered in (the manifest's presets file, if it names
    one); each job's own templates folder replaces its ``templates_dir``."""
    jobs: tuple[BatchJob, ...]
    """Every track, in manifest order."""

    def workspace(self, job: BatchJob) -> Workspace:
        """The workspace ``job`` is rendered in."""
        return Workspace(self.config.replace(templates_dir=job.templates_dir))


# --- reading ---------------------------------------------------------------------------------


def _read_yaml(path: Path) -> tuple[dict[str, Any], list[tuple[str, Any]], list[str]]:
    """Defaults, jobs (each with its place) and problems of a YAML manifest."""
    data = read_yaml(path, BatchManifestError)
    problems: list[str] = []
    if not isinstance(data, dict):
        raise BatchManifestError(f"{path}: a manifest must be a mapping with 'defaults' and 'jobs'")
    for key in data:
        if key not in ("defaults", "jobs"):
            hint = did_you_mean(str(key), ["defaults", "jobs"])
            problems.append(f"{path}: unknown top-level field '{key}'{hint}")
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        problems.append(f"{path}: defaults: must be a mapping of fields")
        defaults = {}
    jobs = data.get("jobs")
    if not isinstance(jobs, list) or not jobs:
        problems.append(f"{path}: jobs: must be a list of at least one job")
        jobs = []
    return defaults, [(f"{path.name}: job {n}", job) for n, job in enumerate(jobs, 1)], problems


def _csv_cell(name: str, text: str) -> Any:
    """A CSV cell as the YAML value it stands for (lists split on ``;`` or ``,``)."""
    text = text.strip()
    if name in LIST_FIELDS:
        return [part.strip() for part in _CSV_LIST.split(text) if part.strip()]
    return text


def _read_csv(path: Path) -> tuple[dict[str, Any], list[tuple[str, Any]], list[str]]:
    """Defaults, jobs and problems of a CSV manifest (one job a row; a ``defaults`` row)."""
    # bounded as a YAML manifest is: a larger file is refused before any of it is read
    text = read_text_file(path, BatchManifestError, "a manifest", encoding="utf-8-sig")
    rows = list(csv.reader(text.splitlines()))
    if not rows or "client" not in [h.strip() for h in rows[0]]:
        raise BatchManifestError(
            f"{path}: the first row must name the columns, 'client' among them"
        )
    header = [h.strip() for h in rows[0]]
    problems: list[str] = []
    defaults: dict[str, Any] = {}
    jobs: list[tuple[str, Any]] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            problems.append(f"{path.name}: row {number}: more cells than columns")
        cells = {
            name: _csv_cell(name, cell)
            for name, cell in zip(header, row, strict=False)
            if name and cell.strip()
        }
        if cells.get("client") == "defaults":
            if defaults:
                problems.append(f"{path.name}: row {number}: a second 'defaults' row")
            cells.pop("client")
            defaults = cells
        else:
            jobs.append((f"{path.name}: row {number}", cells))
    if not jobs:
        problems.append(f"{path.name}: no job rows")
    return defaults, jobs, problems


# --- checking --------------------------------------------------------------------------------


@dataclass
class _Checker:
    """Collects every problem of one manifest."""

    manifest: Path
    problems: list[str]

    @property
    def base(self) -> Path:
        return self.manifest.parent

    def fields(
        self, place: str, data: Any, allowed: tuple[str, ...]
    ) -> dict[str, Any]:
        """The cleaned known fields of ``data``; every unknown or invalid field is a problem."""
        if not isinstance(data, dict):
            self.problems.append(f"{place}: must be a mapping of fields")
            return {}
        cleaned: dict[str, Any] = {}
        for key, value in data.items():
            name = str(key)
            if name not in allowed:
                hint = did_you_mean(name, list(allowed))
                self.problems.append(f"{place}: unknown field '{name}'{hint}")
                continue
            try:
                cleaned[name] = clean_value(name, value, self.base)
            except ValueError as exc:
                self.problems.append(f"{place}: field '{name}': {exc}")
        return cleaned


def _settings(values: Mapping[str, Any]) -> RenderSettings:
    """Render settings from cleaned manifest values (defaults merged with a job's own)."""
    export = ExportSettings(
        format=values.get("format", "mp3"),
        bitrate_kbps=values.get("bitrate"),
        vbr=values.get("vbr", False),
        sample_rate_hz=values.get("sample_rate"),
        channels=1 if values.get("mono") else 2,
        album=values.get("album", "imr-audio"),
        artist=values.get("artist", "imr-audio"),
        cover=values.get("cover"),
    )
    return RenderSettings(
        soundscape=values.get("soundscape"),
        voice_profile=values.get("voice"),
        seed=values.get("seed", 0),
        master=MasterSettings(target_lufs=values.get("target_lufs", -18.0)),
        export=export,
        length_s=values.get("length"),
        skip_if_current=True,
    )


def _inside(root: Path, folder: Path) -> bool:
    """Whether ``folder`` stays inside ``root`` once every existing symlink is followed."""
    return folder.resolve().is_relative_to(root.resolve())


def _client_id(client_file: Path) -> tuple[str, str]:
    """The profile's id, or an empty id and why it cannot be read (a job failure, not fatal)."""
    try:
        data = read_yaml(client_file)
    except ImrAudioError as exc:
        return "", str(exc)
    client_id = data.get("id") if isinstance(data, dict) else None
    if not isinstance(client_id, str) or not CLIENT_ID_PATTERN.match(client_id):
        return "", f"{client_file}: id: must be a pseudonymous id of 2-40 lower-case letters, " \
            "digits, '-' or '_'"
    return client_id, ""


class _Resources:
    """What the checks look up once per manifest: templates per folder, voices, covers."""

    def __init__(self, problems: list[str], workspace: Workspace) -> None:
        self.problems = problems
        self.workspace = workspace
        self._templates: dict[Path | None, set[str] | None] = {}
        self._checked: set[tuple[str, Any]] = set()

    def templates(self, place: str, folder: Path | None) -> set[str] | None:
        if folder not in self._templates:
            try:
                library = self.workspace.derive(templates_dir=folder).templates
                self._templates[folder] = {spec.id for spec in library.specs()}
            except ImrAudioError as exc:
                self.problems.append(f"{place}: field 'templates_dir': {exc}")
                self._templates[folder] = None
        return self._templates[folder]

    def once(self, place: str, kind: str, value: Any, check: Callable[[], object]) -> None:
        """Run ``check`` the first time ``(kind, value)`` is seen; its error is a problem."""
        if (kind, value) in self._checked:
            return
        self._checked.add((kind, value))
        try:
            check()
        except ImrAudioError as exc:
            self.problems.append(f"{place}: field '{kind}': {exc}")


def _check_soundscape(workspace: Workspace, name: str) -> str:
    """A soundscape name: a known one, or an audio file (checked when its job renders)."""
    names = workspace.soundscapes.names()
    if name in names or is_audio_path(name):
        return name
    raise BatchManifestError(f"unknown soundscape '{name}'{did_you_mean(name, names)}")


def _expand(
    place: str,
    number: int,
    values: dict[str, Any],
    root: Path,
    resources: _Resources,
) -> list[BatchJob]:
    """The jobs of one manifest job: its templates x lengths x soundscapes, checked."""
    problems = resources.problems
    count = len(problems)
    for missing in ("client", "templates"):
        if missing not in values:
            problems.append(f"{place}: field '{missing}': required")
    if "length" in values and "lengths" in values:
        problems.append(f"{place}: give either 'length' or 'lengths', not both")
    if "soundscape" in values and "soundscapes" in values:
        problems.append(f"{place}: give either 'soundscape' or 'soundscapes', not both")
    settings = _settings(values)
    resources.once(place, "export", settings.export,
                   lambda: check_export_settings(settings.export))
    if "voice" in values:
        resources.once(place, "voice", values["voice"],
                       lambda: resources.workspace.voices.load(values["voice"]))
    scape_names = values.get("soundscapes", [])
    if "soundscape" in values:
        scape_names = [values["soundscape"]]
    for name in scape_names:
        try:
            _check_soundscape(resources.workspace, name)
        except BatchManifestError as exc:
            problems.append(f"{place}: field 'soundscape': {exc}")
    known = resources.templates(place, values.get("templates_dir"))
    for template in values.get("templates", []):
        if known is not None and template not in known:
            hint = did_you_mean(template, sorted(known))
            problems.append(f"{place}: field 'templates': unknown template '{template}'{hint}")
        elif not safe_name(template):
            problems.append(f"{place}: field 'templates': '{template}' cannot name a file")
    folder = root / values["folder"] if "folder" in values else root
    if "folder" in values and not _inside(root, folder):
        problems.append(f"{place}: field 'folder': leaves the output root through a link")
    client_file = values.get("client")
    if client_file is not None and not client_file.is_file():
        problems.append(f"{place}: field 'client': {client_file}: file not found")
    note = values.get("pack_note")
    if note is not None and not note.is_file():
        problems.append(f"{place}: field 'pack_note': {note}: file not found")
    if len(problems) > count:
        return []
    assert client_file is not None
    client_id, problem = _client_id(client_file)
    lengths: list[tuple[str, float | None]] = values.get("lengths") or [("", settings.length_s)]
    scapes: list[str | None] = values.get("soundscapes") or [settings.soundscape]
    jobs = []
    for template in values["templates"]:
        for length_name, length_s in lengths:
            for scape in scapes:
                variant = variant_name(
                    length_name, scape if "soundscapes" in values else None
                )
                job_dir = folder / variant if variant else folder
                if not _inside(root, job_dir):
                    problems.append(f"{place}: variant '{variant}': leaves the output root "
                                    "through a link")
                    continue
                jobs.append(BatchJob(
                    number=number,
                    place=place,
                    client_file=client_file,
                    client_id=client_id,
                    template_id=template,
                    variant=variant,
                    output_dir=job_dir,
                    subfolder="" if job_dir == root else job_dir.relative_to(root).as_posix(),
                    settings=replace(settings, length_s=length_s, soundscape=scape),
                    templates_dir=values.get("templates_dir"),
                    problem=problem,
                    pack=values.get("pack", False),
                    pack_zip=values.get("pack_zip", False),
                    pack_note=note,
                ))
    return jobs


def _check_unique(jobs: list[BatchJob], problems: list[str]) -> None:
    """Two jobs must never write the same track."""
    seen: dict[Path, BatchJob] = {}
    for job in jobs:
        if not job.client_id:
            continue
        earlier = seen.setdefault(job.track_path, job)
        if earlier is not job:
            problems.append(
                f"{job.place}: writes {job.label} to the same file as {earlier.place}; "
                "give one of them another 'folder'"
            )


def load_manifest(
    workspace: Workspace, manifest: Path, output_dir: Path | None = None
) -> BatchPlan:
    """Read and check a whole manifest (``.yaml``/``.yml`` or ``.csv``) and plan its tracks.

    ``output_dir`` (``-o``) replaces the manifest's ``output``; relative paths in the manifest
    are relative to the manifest's folder. The tracks are rendered in ``workspace``, with the
    manifest's presets file if it names one. Raises :class:`BatchManifestError` naming every
    problem with its place; nothing is written.
    """
    manifest = Path(manifest)
    reader = _read_csv if manifest.suffix.lower() == ".csv" else _read_yaml
    raw_defaults, raw_jobs, problems = reader(manifest)
    checker = _Checker(manifest, problems)
    defaults = checker.fields(f"{manifest.name}: defaults", raw_defaults,
                              ROOT_FIELDS + SETTING_FIELDS)
    root_value = output_dir if output_dir is not None else defaults.pop("output", None)
    defaults.pop("output", None)
    presets = defaults.pop("presets", None)
    if root_value is None:
        problems.append(f"{manifest.name}: defaults: field 'output': required (or give -o DIR)")
    if presets is not None:
        workspace = workspace.derive(presets_file=presets)
    try:  # the manifest's presets file, else the workspace's (as the workers will)
        workspace.soundscapes.names()
    except ImrAudioError as exc:
        problems.append(f"{manifest.name}: defaults: field 'presets': {exc}")
        workspace = workspace.derive(presets_file=None)
    root = Path(os.path.abspath(root_value or manifest.parent))  # noqa: PTH100 - lexical
    resources = _Resources(problems, workspace)
    jobs: list[BatchJob] = []
    for number, (place, data) in enumerate(raw_jobs, start=1):
        before = len(problems)
        values = checker.fields(place, data, JOB_FIELDS + SETTING_FIELDS)
        merged = dict(defaults)
        for single, several in (("length", "lengths"), ("soundscape", "soundscapes")):
            if single in values or several in values:  # a job's own choice replaces both
                merged.pop(single, None)
                merged.pop(several, None)
        merged.update(values)
        row = re.search(r"\d+$", place)
        planned = _expand(place, int(row.group()) if row else number, merged, root, resources)
        if len(problems) == before:  # a job with a bad field plans nothing (no false duplicates)
            jobs += planned
    _check_unique(jobs, problems)
    if problems:
        raise BatchManifestError(
            f"{manifest}: {len(problems)} problem(s):\n  " + "\n  ".join(problems)
        )
    return BatchPlan(manifest=manifest, output_dir=root, config=workspace.config, jobs=tuple(jobs))
