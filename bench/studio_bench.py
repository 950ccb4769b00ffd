"""Benchmark: the studio's live preview, server side, per shipped template.

Run: ``.venv/bin/python bench/studio_bench.py [--repeat 20]``.
Builds the studio's app in-process over a temporary folder holding the fictional example
clients, and for each shipped template posts the preview form (the template's variables as the
client has them, as the page sends them while the therapist types) ``--repeat`` times through
Starlette's test client, after one warm-up request. Prints the median and the slowest time
per template, in milliseconds: the server's part of a refresh (fill, time and lint the script,
render the fragment), without the browser's debounce (400 ms) or drawing. Figures only.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import yaml
from starlette.testclient import TestClient

from imr_audio.errors import ImrAudioError
from imr_audio.resources import data_dir
from imr_audio.studio.app import create_app
from imr_audio.studio.config import StudioConfig
from imr_audio.studio.forms import form_values, variable_field
from imr_audio.workspace import Workspace

PORT = 8765


def _client_for(workspace: Workspace, template_id: str, clients: Path) -> str | None:
    """The first example client whose profile serves ``template_id``."""
    for path in sorted(clients.glob("*.yaml")):
        try:
            workspace.load_profile(path, template_id)
        except ImrAudioError:
            continue
        return path.stem
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "clients").mkdir()
        for path in sorted(data_dir("examples/clients").glob("*.yaml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            shutil.copy(path, folder / "clients" / f"{data['id']}.yaml")
        app = create_app(StudioConfig(folder=folder, token="bench", port=PORT))
        workspace = Workspace()
        with TestClient(app, base_url=f"http://127.0.0.1:{PORT}") as client:
            client.cookies.set(f"imr-studio-{PORT}", "bench")
            print(f"{'template':<24} {'client':<10} {'median ms':>10} {'max ms':>8}")
            for template_id in workspace.templates.ids():
                client_id = _client_for(workspace, template_id, folder / "clients")
                if client_id is None:
                    print(f"{template_id:<24} (no example client serves it)")
                    continue
                saved = yaml.safe_load((folder / "clients" / f"{client_id}.yaml").read_text())
                fields = [variable_field(v)
                          for v in workspace.templates.load(template_id).variables]
                form: dict[str, object] = {"template": template_id, "client": client_id}
                form.update({k: v for k, v in form_values(saved, fields).items() if v})
                headers = {"Origin": f"http://127.0.0.1:{PORT}"}
                client.post("/preview", data=form, headers=headers)  # warm-up
                times_ms = []
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    response = client.post("/preview", data=form, headers=headers)
                    times_ms.append((time.perf_counter() - start) * 1000)
                    assert response.status_code == 200 and "words per minute" in response.text
                print(f"{template_id:<24} {client_id:<10} {statistics.median(times_ms):>10.1f} "
                      f"{max(times_ms):>8.1f}")


if __name__ == "__main__":
    main()
