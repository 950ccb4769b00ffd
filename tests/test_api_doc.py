"""docs/api.md: its examples run as written (a real render, a home pack)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from measure import ffprobe

DOC = Path(__file__).parents[1] / "docs" / "api.md"


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_every_example_compiles() -> None:
    blocks = _blocks()
    assert len(blocks) == 3
    for number, block in enumerate(blocks):
        compile(block, f"{DOC.name} example {number + 1}", "exec")


@pytest.mark.slow
def test_the_therapists_script_runs_as_written(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    write_client: Callable[..., Path],
) -> None:
    (tmp_path / "clients").mkdir()
    write_client(tmp_path / "clients", "c-017.yaml", id="c-017",
                 preferences={"voice": "neutral"})
    monkeypatch.chdir(tmp_path)
    script, _config, stages = _blocks()
    namespace: dict[str, object] = {}
    exec(compile(script, "api.md", "exec"), namespace)
    out = capsys.readouterr().out
    track = tmp_path / "tracks" / "c-017_safe-place.mp3"
    assert f"{Path('tracks') / track.name} {Path('home-packs/c-017.zip').resolve()}" in out
    assert "Hello, Robin." in out  # the preview's lines
    assert 7 * 60 < float(ffprobe(track)["format"]["duration"]) < 14 * 60
    assert (tmp_path / "home-packs" / "c-017" / "index.html").is_file()
    first = track.read_bytes()
    # The stages spelled out make the same track, byte for byte.
    exec(compile(stages, "api.md", "exec"), namespace)
    assert track.read_bytes() == first
