"""The progress line (issue #14 item 2): what it draws, and the progress a real render reports."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from imr_audio import cli as cli_module
from imr_audio.cli import cli
from imr_audio.commands.progress_line import ProgressLine, format_clock
from imr_audio.progress import Progress, Together


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _screen(written: str) -> str:
    """What a terminal shows after ``written``: ``\\r`` returns to the line's start and later
    characters overwrite earlier ones (the last line only)."""
    line: list[str] = []
    column = 0
    for char in written.split("\n")[-1]:
        if char == "\r":
            column = 0
            continue
        if column < len(line):
            line[column] = char
        else:
            line.append(char)
        column += 1
    return "".join(line)


def _terminal(width: int = 100) -> tuple[ProgressLine, io.StringIO, Clock]:
    stream, clock = io.StringIO(), Clock()
    return ProgressLine(stream, clock=clock, terminal=True, width=width), stream, clock


def test_format_clock() -> None:
    assert [format_clock(s) for s in (0, 0.2, 59.0, 61.5, 3599, 3600, 7322)] == \
        ["0:00", "0:00", "0:59", "1:02", "59:59", "1:00:00", "2:02:02"]


def test_a_shorter_line_leaves_no_stray_characters() -> None:
    # Issue #14: "synthesis 74/74" then "synthesis 1/1" left "4 " on the line for the rest
    # of the render.
    line, stream, clock = _terminal()
    line(Progress("synthesis", 74, 74))
    clock.now += 1
    long_line = _screen(stream.getvalue())
    line(Progress("export", 1, 40))
    clock.now += 30
    line(Progress("export", 20, 40))  # an estimate appears: the line grows
    grown = _screen(stream.getvalue())
    clock.now += 1
    line(Progress("mix", 0, 1))  # a new stage, no estimate: the line shrinks
    shown = _screen(stream.getvalue())
    assert shown.rstrip() == "mix       [------------------------]   0%"
    assert len(shown) == len(grown) > len(long_line.rstrip())  # padded over, not left behind
    line.finish()
    assert _screen(stream.getvalue()).strip() == ""


def test_as_a_context_manager_it_clears_its_line_even_when_the_work_fails() -> None:
    line, stream, _ = _terminal()
    with pytest.raises(RuntimeError), line as bar:
        bar(Progress("synthesis", 3, 74))
        assert _screen(stream.getvalue()).strip().startswith("synthesis")
        raise RuntimeError("synthesis failed")
    assert _screen(stream.getvalue()).strip() == ""


def test_the_terminal_line_moves_within_a_stage_with_an_estimate() -> None:
    line, stream, clock = _terminal()
    line(Progress("mix", 0, 1000))
    assert _screen(stream.getvalue()) == "mix       [------------------------]   0%"
    clock.now += 0.5
    line(Progress("mix", 100, 1000))  # 10 % in 0.5 s: too soon to estimate
    assert _screen(stream.getvalue()) == "mix       [##----------------------]  10%"
    clock.now += 7.5
    line(Progress("mix", 400, 1000))  # 40 % in 8 s: 12 s left
    assert _screen(stream.getvalue()) == \
        "mix       [#########---------------]  40%  eta 0:12"
    clock.now += 0.05
    line(Progress("mix", 410, 1000))  # within 0.1 s of the last redraw: not redrawn
    assert _screen(stream.getvalue()).startswith("mix       [#########---------------]  40%")
    clock.now += 0.1
    line(Progress("mix", 1000, 1000))
    assert _screen(stream.getvalue()).rstrip() == "mix       [########################] 100%"
    assert "\n" not in stream.getvalue()  # one line, redrawn in place


def test_a_stage_that_starts_again_starts_its_estimate_again() -> None:
    line, stream, clock = _terminal()
    line(Progress("export", 0, 10))
    clock.now += 10
    line(Progress("export", 5, 10))
    assert _screen(stream.getvalue()).endswith("eta 0:10")
    clock.now += 1
    line(Progress("export", 0, 10))  # encoded again: the clock starts again
    clock.now += 2
    line(Progress("export", 5, 10))
    assert _screen(stream.getvalue()).endswith("eta 0:02")


def test_the_terminal_line_never_wraps() -> None:
    line, stream, _ = _terminal(width=30)
    line(Progress("synthesis", 3, 74))
    assert len(_screen(stream.getvalue())) == 29


def test_piped_output_is_plain_lines_at_stage_changes_and_every_few_seconds() -> None:
    stream, clock = io.StringIO(), Clock()
    line = ProgressLine(stream, clock=clock, terminal=False)
    line(Progress("synthesis", 1, 74))
    for done in range(2, 75):  # a clip a second
        clock.now += 1
        line(Progress("synthesis", done, 74))
    line(Progress("synthesis", 1, 1))  # a second pass with every clip cached
    clock.now += 1
    line(Progress("mix", 0, 1))
    clock.now += 2
    line(Progress("mix", 200, 1000))
    clock.now += 4
    line(Progress("mix", 600, 1000))
    line.finish()
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue()
    assert lines[0] == "synthesis 1%"
    assert lines[1] == "synthesis 8% (eta 0:57)"  # 6 of 74 in 5 s: 68 more in 57 s
    assert len([x for x in lines if x.startswith("synthesis")]) == 15  # one every 5 s
    assert lines[-2:] == ["mix 0%", "mix 60% (eta 0:04)"]  # 60 % in 6 s: 4 s left
    assert all(re.fullmatch(r"[a-z]+ \d{1,3}%( \(eta \d+:\d\d\))?", x) for x in lines)


def test_piped_finish_prints_the_last_state_once() -> None:
    stream, clock = io.StringIO(), Clock()
    line = ProgressLine(stream, clock=clock, terminal=False)
    line(Progress("export", 0, 40))
    clock.now += 1
    line(Progress("export", 40, 40))
    line.finish()
    line.finish()
    assert stream.getvalue() == "export 0%\nexport 100%\n"


def test_together_reports_the_slowest_part_once_it_rises() -> None:
    seen: list[Progress] = []
    stage = Together(seen.append, "mix", ("voice", "bed"))
    stage(Progress("voice", 10, 10))  # the bed has not started: nothing yet
    stage(Progress("bed", 1, 4))
    stage(Progress("bed", 1, 4))  # no rise, no report
    stage(Progress("bed", 4, 4))
    assert seen == [Progress("mix", 0, 1000), Progress("mix", 250, 1000),
                    Progress("mix", 1000, 1000)]
    with pytest.raises(ValueError, match="unknown part"):
        stage(Progress("export", 1, 1))


def test_together_takes_reports_from_two_threads() -> None:
    seen: list[int] = []
    stage = Together(lambda step: seen.append(step.done), "mix", ("voice", "bed"))

    def part(name: str) -> None:
        for done in range(1, 501):
            stage(Progress(name, done, 500))

    threads = [threading.Thread(target=part, args=(name,)) for name in ("voice", "bed")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == sorted(set(seen)) and seen[-1] == 1000


# --- a real render, through the command line ---------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    """A ``render`` command run with stderr piped, and every progress report it drew."""

    reports: list[Progress]
    output: str
    exit_code: int


@pytest.fixture(scope="module")
def rendered(
    tmp_path_factory: pytest.TempPathFactory,
    test_templates: Path,
    write_client: Callable[..., Path],
) -> Iterator[Rendered]:
    folder = tmp_path_factory.mktemp("progress")
    reports: list[Progress] = []

    class Recording(ProgressLine):
        def __call__(self, progress: Progress) -> None:
            reports.append(progress)
            super().__call__(progress)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cli_module, "ProgressLine", Recording)
        result = CliRunner().invoke(cli, [
            "render", "mini", "--client", str(write_client(folder)), "--templates-dir",
            str(test_templates), "--format", "mp3", "--soundscape", "rain", "-o",
            str(folder / "out")])
    yield Rendered(reports, result.output, result.exit_code)


def _fractions(reports: list[Progress], stage: str) -> list[float]:
    return [step.fraction for step in reports if step.stage == stage]


def test_a_render_reports_its_stages_in_order_and_encodes_block_by_block(
    rendered: Rendered,
) -> None:
    assert rendered.exit_code == 0, rendered.output
    stages = [step.stage for step in rendered.reports]
    order = [stage for i, stage in enumerate(stages) if i == 0 or stages[i - 1] != stage]
    # A bed still being made once the speech is done reports itself between the two.
    assert order in (["synthesis", "mix", "master", "export"],
                     ["synthesis", "soundscape", "mix", "master", "export"])
    bed = _fractions(rendered.reports, "soundscape")
    assert bed == sorted(bed)
    for stage in ("mix", "export"):
        fractions = _fractions(rendered.reports, stage)
        last = max(i for i, f in enumerate(fractions) if f == 0.0)  # an encoding done again
        fractions = fractions[last:]  # starts from 0 (the codec moved the loudness)
        assert fractions[-1] == 1.0
        assert fractions == sorted(fractions), stage  # never backwards within one pass
    # The 3.4-minute track is encoded in 137 blocks of 1.5 s. (Its mix stage has little left to
    # report: the voice is measured, and the bed's cells are made, while the bed is made ahead.)
    between = {f for f in _fractions(rendered.reports, "export") if 0.0 < f < 1.0}
    assert len(between) >= 20, sorted(between)


def test_a_piped_render_prints_plain_progress_lines(rendered: Rendered) -> None:
    lines = rendered.output.splitlines()
    progress = [line for line in lines if re.fullmatch(r"[a-z]+ \d{1,3}%( \(eta .*\))?", line)]
    assert [line.split()[0] for line in progress][:1] == ["synthesis"]
    assert "mix 0%" in progress and "export 0%" in progress
    assert progress[-1] == "export 100%"
    assert "\r" not in rendered.output
    assert lines[-1].endswith("dBTP)") and Path(lines[-1].split()[0]).name == "t-017_mini.mp3"
