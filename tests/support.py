"""Helpers shared by several test files (fixtures live in conftest.py)."""

from __future__ import annotations

import os
import shutil
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


def visible_files(root: Path) -> dict[str, bytes]:
    """Every non-hidden file under ``root`` (relative path -> bytes)."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    }
