"""Batch manifests: validation of the whole file, job expansion, safe paths, dry run (no audio)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from imr_audio.batch import BatchOptions, load_manifest, run_batch
from imr_audio.batch.runner import LOCK_NAME
from imr_audio.cli import cli
from imr_audio.errors import BatchError, BatchManifestError
from imr_audio.resources import data_dir
from imr_audio.workspace import Workspace

EXAMPLES = Path(__file__).parent.parent / "examples"
TEST_TEMPLATES = Path(__file__).parent / "data" / "templates"


def write_manifest(folder: Path, jobs: list[Any], name: str = "library.yaml",
                   **defaults: Any) -> Path:
    path = folder / name
    defaults.setdefault("output", "tracks")
    defaults.setdefault("templates_dir", str(TEST_TEMPLATES))
    path.write_text(yaml.safe_dump({"defaults": defaults, "jobs": jobs}), encoding="utf-8")
    return path


def manifest_problems(path: Path, output_dir: Path | None = None) -> list[str]:
    with pytest.raises(BatchManifestError) as caught:
        load_manifest(Workspace(), path, output_dir)
    return [line.strip() for line in str(caught.value).splitlines()[1:]]


@pytest.mark.parametrize("name", ["library.yaml", "library.csv"])
def test_example_library_plans_every_shipped_template(name: str, workspace: Workspace) -> None:
    plan = load_manifest(workspace, EXAMPLES / name)
    assert {job.template_id for job in plan.jobs} == set(workspace.templates.ids())
    assert all(not job.problem for job in plan.jobs)
    assert plan.output_dir == (EXAMPLES.parent / "imr-library")
    # The two lengths of the safe place go to one variant folder each.
    variants = {job.subfolder for job in plan.jobs if job.template_id == "safe-place"}
    assert variants == {"10m", "12m"}


def test_yaml_and_csv_examples_plan_the_same_tracks(workspace: Workspace) -> None:
    def tracks(name: str) -> list[tuple[Path, float | None, str | None]]:
        return [(job.track_path, job.settings.length_s, job.settings.soundscape)
                for job in load_manifest(workspace, EXAMPLES / name).jobs]

    assert tracks("library.yaml") == tracks("library.csv")


def test_every_problem_is_reported_with_its_place(
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    client = write_client(tmp_path)
    path = write_manifest(tmp_path, [
        {"client": client.name, "templates": ["mini", "mnii"]},
        {"client": client.name, "templates": "mini", "lengths": ["10m", "soon"], "formt": "mp3"},
        {"client": "nobody.yaml", "templates": ["mini"], "soundscape": "rian"},
        {"client": client.name, "templates": ["mini"], "length": "5m", "lengths": ["6m"]},
        {"templates": ["mini"], "format": "aiff", "target_lufs": -3},
    ], voice="no-such-voice")
    problems = manifest_problems(path)
    expected = [
        ("job 1", "'templates'", "unknown template 'mnii'; did you mean 'mini'?"),
        ("job 2", "'lengths'", "length 'soon'"),
        ("job 2", "'formt'", "did you mean 'format'?"),
        ("job 3", "'client'", "nobody.yaml: file not found"),
        ("job 3", "'soundscape'", "unknown soundscape 'rian'; did you mean 'rain'?"),
        ("job 4", "either 'length' or 'lengths'", ""),
        ("job 5", "'client'", "required"),
        ("job 5", "'format'", "'aiff' is not one of"),
        ("job 5", "'target_lufs'", "from -30 to -10"),
        ("job 1", "'voice'", "no-such-voice"),
    ]
    for job, field_name, text in expected:
        assert any(
            f"library.yaml: {job}:" in p and field_name in p and text in p for p in problems
        ), (job, field_name, problems)
    # The voice profile is checked once, not once per job.
    assert sum("no-such-voice" in p for p in problems) == 1


def test_csv_problems_name_the_row(
    tmp_path: Path,
    test_templates: Path,
    write_client: Callable[..., Path],
) -> None:
    write_client(tmp_path)
    path = tmp_path / "library.csv"
    path.write_text(
        "client,templates,lengths,seed,templates_dir\n"
        f"defaults,,,,{test_templates}\n"
        "client.yaml,mini,10m;abc,1,\n"
        "client.yaml,mini,,minus one,\n",
        encoding="utf-8",
    )
    problems = manifest_problems(path, output_dir=tmp_path / "out")
    assert any(p.startswith("library.csv: row 3: field 'lengths'") for p in problems), problems
    assert any(p.startswith("library.csv: row 4: field 'seed'") for p in problems), problems
    assert len(problems) == 2


def test_variants_expand_into_their_own_folders(
    tmp_path: Path,
    write_client: Callable[..., Path], workspace: Workspace
) -> None:
    client = write_client(tmp_path)
    path = write_manifest(tmp_path, [
        {"client": client.name, "templates": ["mini", "breathe"], "lengths": ["10m", "90s"],
         "soundscapes": ["rain", "forest-stream"]},
        {"client": client.name, "templates": ["mini"], "length": "4m", "folder": "plain/one"},
    ], soundscape="ocean")
    plan = load_manifest(workspace, path)
    root = tmp_path / "tracks"
    assert plan.output_dir == root
    first = [job for job in plan.jobs if job.number == 1]
    assert len(first) == 2 * 2 * 2
    assert {job.subfolder for job in first} == {
        "10m_rain", "10m_forest-stream", "1m30s_rain", "1m30s_forest-stream"
    }
    for job in first:
        assert job.settings.soundscape == job.variant.split("_")[1]
        assert job.settings.length_s == {"10m": 600.0, "1m30s": 90.0}[job.variant.split("_")[0]]
        assert job.track_path == root / job.variant / f"t-017_{job.template_id}.mp3"
    (plain,) = [job for job in plan.jobs if job.number == 2]
    # A single length or soundscape is a setting, not a variant: no folder of its own.
    assert plain.variant == ""
    assert plain.track_path == root / "plain" / "one" / "t-017_mini.mp3"
    assert plain.settings.soundscape == "ocean"
    assert plain.settings.length_s == 240.0


def test_relative_paths_are_taken_from_the_manifest_and_o_overrides_the_root(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    write_client: Callable[..., Path],
    workspace: Workspace,
) -> None:
    folder = tmp_path / "clinic"
    folder.mkdir()
    client = write_client(folder)
    path = write_manifest(folder, [{"client": "client.yaml", "templates": ["mini"]}])
    monkeypatch.chdir(tmp_path)
    plan = load_manifest(workspace, Path("clinic/library.yaml"))
    assert plan.jobs[0].client_file == client
    assert plan.output_dir == folder / "tracks"
    assert load_manifest(workspace, path, Path("elsewhere")).output_dir == tmp_path / "elsewhere"


@pytest.mark.parametrize("folder", ["../outside", "a/../../b", "/etc", "..", ".hidden", "a\\..\\b"])
def test_folders_that_leave_the_output_root_are_refused(
    tmp_path: Path,
    folder: str,
    write_client: Callable[..., Path],
) -> None:
    write_client(tmp_path)
    path = write_manifest(tmp_path, [{"client": "client.yaml", "templates": ["mini"],
                                      "folder": folder}])
    (problem,) = manifest_problems(path)
    assert problem.startswith("library.yaml: job 1: field 'folder'")


def test_a_link_out_of_the_output_root_is_refused(
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    write_client(tmp_path)
    root = tmp_path / "tracks"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "linked").symlink_to(outside)
    path = write_manifest(tmp_path, [
        {"client": "client.yaml", "templates": ["mini"], "folder": "linked"},
        {"client": "client.yaml", "templates": ["mini"], "folder": "linked/deeper"},
    ])
    problems = manifest_problems(path)
    assert len(problems) == 2
    assert all("leaves the output root through a link" in p for p in problems)


def test_template_and_variant_names_cannot_hold_a_path(
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    write_client(tmp_path)
    path = write_manifest(tmp_path, [
        {"client": "client.yaml", "templates": ["mini"], "soundscapes": ["rain", "../x.wav"]},
    ])
    (problem,) = manifest_problems(path)
    assert "field 'soundscapes'" in problem and "'../x.wav'" in problem


def test_two_jobs_writing_one_file_are_refused(
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    write_client(tmp_path)
    path = write_manifest(tmp_path, [
        {"client": "client.yaml", "templates": ["mini"]},
        {"client": "client.yaml", "templates": ["breathe", "mini"], "seed": 4},
    ])
    (problem,) = manifest_problems(path)
    assert problem.startswith("library.yaml: job 2: writes t-017_mini to the same file as "
                              "library.yaml: job 1")


def test_an_unreadable_profile_fails_its_job_not_the_manifest(
    tmp_path: Path,
    write_client: Callable[..., Path], workspace: Workspace
) -> None:
    write_client(tmp_path)
    (tmp_path / "broken.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    path = write_manifest(tmp_path, [
        {"client": "client.yaml", "templates": ["mini"]},
        {"client": "broken.yaml", "templates": ["mini"]},
    ])
    good, broken = load_manifest(workspace, path).jobs
    assert good.problem == ""
    assert broken.client_id == "" and "broken.yaml" in broken.problem
    assert "malformed YAML" in broken.problem


def test_dry_run_lists_the_jobs_and_writes_nothing(
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    write_client(tmp_path)
    write_client(tmp_path, "other.yaml", id="t-018")
    path = write_manifest(tmp_path, [
        {"client": "client.yaml", "templates": ["mini", "breathe"]},
        {"client": "other.yaml", "templates": ["mini"], "lengths": ["4m"], "pack": True},
    ])
    before = sorted(tmp_path.rglob("*"))
    result = CliRunner().invoke(cli, ["batch", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    root = tmp_path / "tracks"
    for track in ("t-017_mini.mp3", "t-017_breathe.mp3", "4m/t-018_mini.mp3"):
        assert str(root / track) in result.output
    assert "3 track(s) planned" in result.output
    assert "home pack(s) planned for: t-018" in result.output
    assert sorted(tmp_path.rglob("*")) == before  # not even the output root
    as_json = CliRunner().invoke(cli, ["batch", str(path), "--dry-run", "--json"])
    summary = json.loads(as_json.output)
    assert summary["counts"]["planned"] == 3 and summary["dry_run"] is True
    assert [job["status"] for job in summary["jobs"]] == ["planned"] * 3


def test_a_manifest_error_is_one_message_and_exit_code_1(
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    write_client(tmp_path)
    path = write_manifest(tmp_path, [{"client": "client.yaml", "templates": ["nope"]}])
    result = CliRunner().invoke(cli, ["batch", str(path)])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and "Traceback" not in result.output
    assert "job 1: field 'templates': unknown template 'nope'" in result.output
    assert not (tmp_path / "tracks").exists()


def test_failed_jobs_are_summarised_without_client_values(
    tmp_path: Path,
    client_data: Callable[..., dict[str, Any]],
) -> None:
    # Jobs that fail before any speech: no worker needs to render anything.
    data = client_data(id="t-020", preferred_name="Zephyrine")
    del data["safe_place"]
    (tmp_path / "incomplete.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    (tmp_path / "broken.yaml").write_text("id: [Zephyrine\n", encoding="utf-8")
    path = write_manifest(tmp_path, [
        {"client": "broken.yaml", "templates": ["mini"]},
        {"client": "incomplete.yaml", "templates": ["mini"]},
    ])
    root = tmp_path / "tracks"
    root.mkdir(mode=0o700)
    stale = root / ".imr-abc123.mp3.part"  # what a killed render leaves
    stale.write_bytes(b"partial")
    result = CliRunner().invoke(cli, ["batch", str(path), "--jobs", "1", "--json"])
    assert result.exit_code == 1, result.output
    summary = json.loads(result.stdout)
    assert summary["counts"] == {"rendered": 0, "skipped": 0, "failed": 2, "planned": 0}
    broken, incomplete = summary["jobs"]
    assert "broken.yaml" in broken["reason"] and "malformed YAML" in broken["reason"]
    assert "incomplete.yaml" in incomplete["reason"] and "safe_place" in incomplete["reason"]
    assert "Zephyrine" not in result.output
    # Not a terminal: one plain line per track on stderr.
    assert "FAILED broken.yaml_mini: " in result.stderr
    assert "FAILED t-020_mini: " in result.stderr
    assert not stale.exists()
    assert sorted(p.name for p in root.iterdir()) == []  # the lock goes with the batch


def test_a_second_batch_on_the_same_root_is_refused(
    tmp_path: Path,
    write_client: Callable[..., Path], workspace: Workspace
) -> None:
    import fcntl

    write_client(tmp_path)
    path = write_manifest(tmp_path, [{"client": "client.yaml", "templates": ["mini"]}])
    root = tmp_path / "tracks"
    root.mkdir()
    fd = os.open(root / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(BatchError, match="another batch is writing"):
            run_batch(workspace, path, BatchOptions(workers=1))
    finally:
        os.close(fd)
    assert sorted(p.name for p in root.iterdir()) == [LOCK_NAME]


def test_the_shipped_example_clients_are_the_ones_the_example_uses(workspace: Workspace) -> None:
    shipped = {p.name for p in data_dir("examples/clients").glob("*.yaml")}
    plan = load_manifest(workspace, EXAMPLES / "library.yaml")
    used = {job.client_file.name for job in plan.jobs}
    assert used == shipped


def test_the_terminal_display_draws_overall_and_per_track_progress(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from imr_audio.batch import BatchCounts, JobFinished, JobProgress, JobStarted
    from imr_audio.commands.batch import BatchDisplay

    display = BatchDisplay(tty=True)
    counts = BatchCounts(total=3, rendered=1, skipped=0, failed=0, running=1, elapsed_s=75.0,
                         eta_s=130.0)
    display(JobStarted(index=1, label="t-018_mini", counts=counts))
    display(JobProgress(index=1, label="t-018_mini", counts=counts, stage="mix",
                        fraction=0.5))
    drawn = capsys.readouterr().err
    assert "1/3 done, 0 failed, 0 up to date, 1:15 elapsed, ETA 2:10" in drawn
    assert "t-018_mini" in drawn and "mix" in drawn and "[######------]" in drawn
    display(JobFinished(index=1, label="t-018_mini", counts=counts, path=Path("x.mp3"),
                        duration_s=180.0, integrated_lufs=-18.0))
    display.finish()
    drawn = capsys.readouterr().err
    assert "rendered t-018_mini" in drawn
    assert drawn.endswith("\x1b[J")  # the live lines are cleared at the end


@pytest.mark.parametrize("name", ["library.yaml", "library.csv"])
def test_the_examples_ask_for_one_home_pack(name: str, workspace: Workspace) -> None:
    plan = load_manifest(workspace, EXAMPLES / name)
    packed = {(job.client_id, job.pack_zip) for job in plan.jobs if job.pack}
    assert packed == {("demo-002", True)}


def test_pack_fields_are_checked_with_their_place(
    tmp_path: Path,
    write_client: Callable[..., Path], workspace: Workspace
) -> None:
    client = write_client(tmp_path)
    manifest = write_manifest(tmp_path, [
        {"client": client.name, "templates": ["safe-place"], "pack": "perhaps"},
        {"client": client.name, "templates": ["container"], "pack_note": "missing.txt"},
    ])
    with pytest.raises(BatchManifestError) as caught:
        load_manifest(workspace, manifest)
    message = str(caught.value)
    assert "job 1: field 'pack': must be true or false" in message
    assert "job 2: field 'pack_note':" in message and "missing.txt: file not found" in message


def test_the_longest_tracks_are_submitted_first(
    tmp_path: Path, write_client: Callable[..., Path], workspace: Workspace
) -> None:
    from imr_audio.batch.runner import longest_first

    write_client(tmp_path)
    manifest = write_manifest(tmp_path, [
        {"client": "client.yaml", "templates": ["mini"]},  # its template: 60-240 s, so 150
        {"client": "client.yaml", "templates": ["mini"], "lengths": ["2m", "4m"]},
        {"client": "client.yaml", "templates": ["breathe"]},  # 60-300 s, so 180
    ])
    plan = load_manifest(workspace, manifest)
    labels = [plan.jobs[i].label for i in longest_first(plan, list(range(len(plan.jobs))))]
    assert labels == ["4m/t-017_mini", "t-017_breathe", "t-017_mini", "2m/t-017_mini"]
