"""The voice a profile resolves to is said when it falls back or changes (issue #14 item 3)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from imr_audio.cli import cli
from imr_audio.export import ExportSettings
from imr_audio.track import RenderSettings, render
from imr_audio.voice import piper_engine
from imr_audio.workspace import Workspace

SETTINGS = RenderSettings(soundscape="rain", seed=3, export=ExportSettings(format="wav"))


def _without_piper(workspace: Workspace) -> Workspace:
    """The workspace as on a machine without the neural extra."""
    return Workspace(workspace.config, engines=workspace.engines.with_engine("piper",
                                                                             lambda: None))


@pytest.mark.slow
def test_a_fallback_and_a_changed_voice_are_said(
    tmp_path: Path, test_workspace: Workspace, write_client: Callable[..., Path]
) -> None:
    profile = test_workspace.load_profile(write_client(tmp_path))  # prefers the calm voice
    out = tmp_path / "out"
    plain = render(_without_piper(test_workspace), "mini", profile, out, SETTINGS)
    assert plain.voice.engine == "pyttsx3"
    assert plain.notices == (
        "voice profile 'calm': piper is not available here, so it speaks with pyttsx3 "
        f"({plain.voice.voice_id}); tracks sound different from those made with piper",)
    neural = render(test_workspace, "mini", profile, out, SETTINGS)
    assert neural.voice.engine == "piper"
    assert neural.notices == (
        f"t-017_mini.wav was spoken by pyttsx3 ({plain.voice.voice_id}); it is now spoken by "
        f"piper ({neural.voice.voice_id}) and sounds different",)
    again = render(test_workspace, "mini", profile, out, SETTINGS)
    assert again.notices == ()  # the same voice as last time, and the profile's first


def test_the_command_line_says_it_once(
    tmp_path: Path,
    test_templates: Path,
    write_client: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(piper_engine, "piper_available", lambda: False)
    client = write_client(tmp_path, preferences={"voice": "calm", "soundscape": "rain"})
    result = CliRunner().invoke(cli, ["render", "mini", "--client", str(client), "--format",
                                      "wav", "--templates-dir", str(test_templates), "-o",
                                      str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert result.stderr.count("Note: voice profile 'calm': piper is not available here") == 1


def test_a_batch_says_each_notice_once_however_many_tracks_it_concerns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses

    from imr_audio.batch import runner
    from imr_audio.batch.runner import BatchOptions, run_batch

    examples = Path(__file__).parents[1] / "examples"
    planned = run_batch(Workspace.from_environment(), examples / "library.yaml",
                        BatchOptions(output_dir=tmp_path / "out", dry_run=True))
    fallback = "voice profile 'calm': piper is not available here, so it speaks with pyttsx3"
    changed = "tracks in this folder were spoken by another voice"
    outcomes = tuple(dataclasses.replace(o, status="rendered",
                                         notices=(fallback, changed) if i % 2 else (fallback,))
                     for i, o in enumerate(planned.outcomes))
    report = dataclasses.replace(planned, outcomes=outcomes, dry_run=False)
    assert report.notices == (fallback, changed)
    assert report.as_dict()["notices"] == [fallback, changed]
    monkeypatch.setattr(runner, "run_batch", lambda *args, **kwargs: report)
    result = CliRunner().invoke(cli, ["batch", str(examples / "library.yaml"), "-o",
                                      str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stderr.splitlines() if line.startswith("Note: ")]
    assert notes == [f"Note: {fallback}", f"Note: {changed}"]
