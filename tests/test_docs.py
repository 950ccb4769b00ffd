"""The README's quickstart and CI agree, and the docs the README points to exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[1]


def _readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```sh\n(.+?)\n```", readme)


def test_ci_runs_the_readme_test_command() -> None:
    commands = _readme_commands()
    test_command = next(c for c in commands if "pytest" in c)
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test_command in ci.splitlines()


def test_readme_demo_command_runs_the_demo() -> None:
    assert any(c.endswith("imr-audio demo") and "pip install ." in c for c in _readme_commands())


def test_linked_docs_exist() -> None:
    for doc in ("docs/authoring.md", "docs/cli.md", "examples/clients/example-client.yaml"):
        assert (ROOT / doc).is_file(), doc
