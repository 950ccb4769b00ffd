"""The ``imr-audio`` command line: each command parses, calls one library function, prints.

Starting the command line (``--help`` included) imports only click and the commands' option
declarations; each command imports the library's modules (numpy, scipy, the audio code) when
it runs, so that ``--help`` and the quick commands start at once.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from imr_audio import __version__
from imr_audio.commands import register_commands
from imr_audio.commands.export_options import export_options
from imr_audio.commands.options import (
    REVIEW_REMINDER,
    ProgressLine,
    client_option,
    output_dir_option,
    seed_option,
    soundscape_option,
    voice_option,
    workspace_options,
)
from imr_audio.errors import ImrAudioError, TrackLengthError
from imr_audio.length import parse_length
from imr_audio.workspace import Workspace

if TYPE_CHECKING:
    from imr_audio.export.settings import ExportSettings
    from imr_audio.track import RenderResult

__all__ = ["cli", "main"]


class _Group(click.Group):
    """Turns the library's own errors into one-line messages and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ImrAudioError as exc:
            raise click.ClickException(str(exc)) from None


def _report(result: RenderResult) -> None:
    click.echo(
        f"{result.path}  ({result.duration_s / 60:.1f} min, "
        f"{result.loudness.integrated_lufs:.1f} LUFS, {result.loudness.true_peak_dbtp:.1f} dBTP)"
    )
    for notice in result.notices:
        click.echo(f"Note: {notice}", err=True)


def _length_option(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    """Parse ``--length`` into seconds; a malformed length is a usage error."""
    if value is None:
        return None
    try:
        return parse_length(value)
    except TrackLengthError as exc:
        raise click.BadParameter(str(exc)) from None


# --- commands ------------------------------------------------------------------------------


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="imr-audio")
@click.option("-v", "--verbose", count=True, help="Log progress (-v) or details (-vv) to stderr.")
def cli(verbose: int) -> None:
    """Turn guided-imagery scripts into personalised, mastered audio tracks, offline."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="imr-audio: %(levelname)s: %(message)s")


@cli.command()
@workspace_options(templates=False, presets=False)
def demo(workspace: Workspace) -> None:
    """Render the fictional example client's safe-place track into ./imr-demo/."""
    from imr_audio.demo import DEMO_DIR, render_demo

    with ProgressLine() as bar:
        result = render_demo(workspace, Path.cwd() / DEMO_DIR, progress=bar)
    _report(result)


@cli.command()
@click.argument("template")
@client_option
@soundscape_option
@export_options
@click.option(
    "--target-lufs",
    type=click.FloatRange(-30, -10),
    default=-18.0,
    show_default=True,
    help="Integrated loudness of the track.",
)
@voice_option
@seed_option("Seed of the bed")
@workspace_options()
@output_dir_option("Folder for the track (created 0700).")
@click.option(
    "--recordings",
    "recordings_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of your own recordings of the lines (see record-sheet), used instead of --voice.",
)
@click.option(
    "--no-cache",
    is_flag=True,
    help="Synthesise all speech afresh and store none of it in the speech cache.",
)
@click.option(
    "--length",
    "length_s",
    callback=_length_option,
    default=None,
    metavar="LENGTH",
    help="Target length (10m, 600s or 12:30), reached by lengthening or shortening the pauses; "
    "default: the profile's preferences.length, else the script's own pacing.",
)
def render(
    template: str,
    client_file: Path,
    soundscape: str | None,
    export: ExportSettings,
    target_lufs: float,
    voice_profile: str | None,
    seed: int,
    workspace: Workspace,
    output_dir: Path,
    recordings_dir: Path | None,
    no_cache: bool,
    length_s: float | None,
) -> None:
    """Render TEMPLATE for one client into a mastered track named by the client's id.

    The filled script must pass the clinical lint first.
    """
    from imr_audio.master import MasterSettings
    from imr_audio.track import RenderSettings, render

    settings = RenderSettings(
        soundscape=soundscape,
        voice_profile=voice_profile,
        seed=seed,
        master=MasterSettings(target_lufs=target_lufs),
        export=export,
        recordings_dir=recordings_dir,
        use_cache=not no_cache,
        length_s=length_s,
    )
    profile = workspace.load_profile(client_file, template)
    with ProgressLine() as bar:
        result = render(workspace, template, profile, output_dir, settings, progress=bar)
    _report(result)


@cli.group()
def templates() -> None:
    """Discover the script templates and what each needs from a client profile."""


@templates.command("list")
@workspace_options(presets=False)
def templates_list(workspace: Workspace) -> None:
    """List every template with its kind, length and title."""
    for spec in workspace.templates.specs():
        minutes = f"{spec.duration_min_s / 60:.0f}-{spec.duration_max_s / 60:.0f} min"
        click.echo(f"{spec.id:<24} {spec.kind:<14} {minutes:<10} {spec.title}")


@templates.command("show")
@click.argument("name")
@click.option("--skeleton", is_flag=True,
              help="Print a complete, commented client profile for this template, with blanks "
                   "to fill (save it as a .yaml file).")
@workspace_options(presets=False)
def templates_show(name: str, skeleton: bool, workspace: Workspace) -> None:
    """Show a template's description, sections, variables and an example profile snippet."""
    from imr_audio.authoring.templates import example_profile_snippet

    spec = workspace.templates.load(name)
    if skeleton:
        from imr_audio.authoring.skeleton import profile_skeleton

        click.echo(profile_skeleton(spec), nl=False)
        return
    click.echo(
        f"{spec.id}: {spec.title} ({spec.kind}, "
        f"{spec.duration_min_s / 60:.0f}-{spec.duration_max_s / 60:.0f} min)"
    )
    click.echo(f"\n{spec.description}\n")
    if spec.sections:
        click.echo("Sections: " + ", ".join(spec.sections))
    click.echo("\nVariables:")
    for var in spec.variables:
        need = "required" if var.required else f"optional, default {var.default!r}"
        limits = [
            f"choices: {', '.join(var.choices)}" if var.choices else "",
            f"at least {var.min_length}" if var.min_length is not None else "",
            f"at most {var.max_length}" if var.max_length is not None else "",
        ]
        detail = ", ".join([var.type, need, *[part for part in limits if part]])
        click.echo(f"  {var.name} ({detail})")
        click.echo(f"      {' '.join(var.description.split())}")
    click.echo("\nExample profile snippet:\n")
    click.echo(example_profile_snippet(spec))


@cli.command()
@click.argument("template")
@client_option
@workspace_options()
@voice_option
def preview(
    template: str, client_file: Path, workspace: Workspace, voice_profile: str | None
) -> None:
    """Show TEMPLATE filled for a client, with a timestamp per line; no audio."""
    from imr_audio.script import ScriptChoices, preview_track

    profile = workspace.load_profile(client_file, template)
    result = preview_track(workspace, template, profile, ScriptChoices(voice_profile=voice_profile))
    findings = result.prepared.findings
    marked: dict[int, list[str]] = {}
    for finding in findings:
        if finding.script_line is not None:
            marked.setdefault(finding.script_line, []).append(f"{finding.severity} {finding.rule}")
    when: dict[int, str] = {}
    for line in result.lines:
        minutes, seconds = divmod(int(line.start_s), 60)
        when.setdefault(line.script_line, f"{minutes:02d}:{seconds:02d}")
        notes = marked.pop(line.script_line, None)
        mark = f"  <- {'; '.join(notes)}" if notes else ""
        click.echo(f"{minutes:02d}:{seconds:02d}  {line.text}{mark}")
    click.echo(
        f"\nestimated length {result.duration_s / 60:.1f} min; {result.word_count} words; "
        f"delivered at about {result.delivery_wpm:.0f} words per minute"
    )
    for finding in findings:  # at the time of the line it concerns, as marked above
        at = when.get(finding.script_line or 0)
        click.echo(f"{at}  {finding}" if at else str(finding), err=True)
    click.echo(REVIEW_REMINDER, err=True)


@cli.command()
@click.argument("template")
@client_option
@soundscape_option
@workspace_options()
@voice_option
@click.pass_context
def lint(
    ctx: click.Context,
    template: str,
    client_file: Path,
    soundscape: str | None,
    workspace: Workspace,
    voice_profile: str | None,
) -> None:
    """Check TEMPLATE filled for a client against the clinical rules; errors exit 1."""
    from imr_audio.script import ScriptChoices, prepare

    profile = workspace.load_profile(client_file, template)
    prepared = prepare(workspace, template, profile,
                       ScriptChoices(soundscape=soundscape, voice_profile=voice_profile))
    for finding in prepared.findings:
        click.echo(str(finding))
    errors = sum(f.severity == "error" for f in prepared.findings)
    warnings = len(prepared.findings) - errors
    click.echo(f"{errors} error(s), {warnings} warning(s). {REVIEW_REMINDER}")
    if errors:
        ctx.exit(1)


register_commands(cli)


def main() -> None:
    """Entry point of the ``imr-audio`` console script."""
    cli(prog_name="imr-audio")
