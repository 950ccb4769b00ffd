"""Helpers shared by several test files (fixtures live in conftest.py)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

TEST_TEMPLATES = Path(__file__).parent / "data" / "templates"


def chromium_path() -> str:
    """Debian's chromium; skipped where it is missing, except in CI, where it must run."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (.ci/run installs it)")
        pytest.skip("chromium is not installed")
    return found


def write_library(folder: Path, jobs: list[dict[str, Any]]) -> Path:
    """A manifest over the short test templates with the eSpeak NG voice (``neutral``)."""
    path = folder / "library.yaml"
    defaults = {"output": "tracks", "templates_dir": str(TEST_TEMPLATES), "voice": "neutral"}
    path.write_text(yaml.safe_dump({"defaults": defaults, "jobs": jobs}), encoding="utf-8")
    return path


def two_clients_and_a_broken_one(
    folder: Path, write_client: Callable[..., Path], client_data: Callable[..., dict[str, Any]],
    **second: Any,
) -> list[dict[str, Any]]:
    """Write ``a.yaml`` (t-017), ``b.yaml`` (t-018, with ``second``) and ``c.yaml`` (t-019,
    missing a variable ``mini`` needs); return a manifest's jobs rendering ``mini`` for each."""
    write_client(folder, "a.yaml", id="t-017")
    write_client(folder, "b.yaml", id="t-018", **second)
    broken = client_data(id="t-019", preferred_name="Zephyrine")
    del broken["safe_place"]["cue_word"]
    (folder / "c.yaml").write_text(yaml.safe_dump(broken), encoding="utf-8")
    return [{"client": name, "templates": ["mini"]} for name in ("a.yaml", "b.yaml", "c.yaml")]


def visible_files(root: Path) -> dict[str, bytes]:
    """Every non-hidden file under ``root`` (relative path -> bytes)."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    }


BATCH_STOPPED = "imr-audio: batch stopped: run the same command again to resume"


def interrupt_batch(args: list[str], wait_s: float, env: dict[str, str] | None = None,
                    ) -> subprocess.Popen[str]:
    """Run ``imr-audio batch ARGS``, press Ctrl-C ``wait_s`` after a track has started, and
    check that it stopped as a batch should: exit 130, one line, no traceback.

    The batch runs in its own process group, as a terminal's Ctrl-C reaches it; the process is
    returned (ended) so that the caller can look for what it left running.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "imr_audio", "batch", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        start_new_session=True)
    assert process.stderr is not None
    first = process.stderr.readline()  # a track has started
    assert "started" in first, first
    time.sleep(wait_s)
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130
    assert stderr.splitlines()[-1] == BATCH_STOPPED
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    return process
