"""The demo: the fictional example client's safe-place track, rendered for real."""

from __future__ import annotations

from pathlib import Path

from imr_audio.progress import ProgressCallback
from imr_audio.render import RenderResult, RenderSettings, render_track
from imr_audio.resources import data_dir

__all__ = ["DEMO_CLIENT", "DEMO_DIR", "DEMO_TEMPLATE", "render_demo"]

DEMO_DIR = "imr-demo"
DEMO_TEMPLATE = "safe-place"
DEMO_CLIENT = "example-client.yaml"


def render_demo(out_dir: Path, progress: ProgressCallback | None = None) -> RenderResult:
    """Render the example client's safe-place track into ``out_dir``."""
    client = data_dir("examples/clients") / DEMO_CLIENT
    return render_track(DEMO_TEMPLATE, client, out_dir, RenderSettings(), progress=progress)
