"""The demo: the fictional example client's safe-place track, rendered for real."""

from __future__ import annotations

from pathlib import Path

from imr_audio.progress import ProgressCallback
from imr_audio.resources import data_dir
from imr_audio.track import RenderResult, render
from imr_audio.workspace import Workspace

__all__ = ["DEMO_CLIENT", "DEMO_DIR", "DEMO_TEMPLATE", "render_demo"]

DEMO_DIR = "imr-demo"
DEMO_TEMPLATE = "safe-place"
DEMO_CLIENT = "example-client.yaml"


def render_demo(
    workspace: Workspace, output_dir: Path, progress: ProgressCallback | None = None
) -> RenderResult:
    """Render the example client's safe-place track into ``output_dir``."""
    profile = workspace.load_profile(data_dir("examples/clients") / DEMO_CLIENT)
    return render(workspace, DEMO_TEMPLATE, profile, output_dir, progress=progress)
