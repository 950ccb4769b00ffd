"""The built wheel carries the templates, voice profiles and example client, and works anywhere."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


@pytest.mark.slow
def test_wheel_ships_data_and_works_from_any_folder(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist),
                    str(ROOT)], check=True, capture_output=True)
    wheel = next(dist.glob("imr_audio-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "imr_audio/py.typed",
        "imr_audio/_data/scripts_templates/_base.j2",
        "imr_audio/_data/scripts_templates/safe-place.j2",
        "imr_audio/_data/scripts_templates/safe-place.yaml",
        "imr_audio/_data/voices/calm.yaml",
        "imr_audio/_data/examples/clients/example-client.yaml",
        "imr_audio/studio/templates/base.html",  # the studio's pages, script and style
        "imr_audio/studio/static/studio.js",
        "imr_audio/studio/static/studio.css",
    ):
        assert required in names, required
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                    str(site), str(wheel)], check=True, capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    probe = (
        "import imr_audio, sys\n"
        "from imr_audio.resources import data_dir\n"
        "workspace = imr_audio.Workspace()\n"
        "print(imr_audio.__file__)\n"
        "print(','.join(workspace.templates.ids()))\n"
        "print(workspace.voices.load('calm').id)\n"
        "print((data_dir('examples/clients') / 'example-client.yaml').is_file())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    out = subprocess.run([sys.executable, "-c", probe], cwd=elsewhere, env=env,
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[0].startswith(str(site))
    assert "safe-place" in out[1].split(",")
    assert out[2] == "calm"
    assert out[3] == "True"
