"""Shared fixtures: client profiles, the test templates folder, one real short render."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from imr_audio.export import ExportSettings
from imr_audio.render import RenderResult, RenderSettings, render_track
from imr_audio.resources import data_dir
from imr_audio.secret import KEY_FILE_ENV
from imr_audio.voice.cache import CACHE_DIR_ENV

DATA = Path(__file__).parent / "data"
TEST_TEMPLATES = DATA / "templates"


@pytest.fixture(scope="session", autouse=True)
def _session_speech_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Session fixtures cache speech in a temporary folder, never in the user's cache."""
    folder = tmp_path_factory.mktemp("session-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_DIR_ENV, str(folder))
        yield folder


@pytest.fixture(scope="session", autouse=True)
def installation_key_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One installation key for the whole session (``$IMR_AUDIO_KEY_FILE``), never the user's:
    hashes made by session fixtures and by tests (and their subprocesses) agree."""
    path = tmp_path_factory.mktemp("key") / "installation.key"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(KEY_FILE_ENV, str(path))
        yield path


@pytest.fixture(autouse=True)
def speech_cache_dir(tmp_path_factory: pytest.TempPathFactory,
                     monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test has its own empty speech cache (``$IMR_AUDIO_CACHE_DIR``): none sees another's
    clips, so a test of synthesis itself is never answered from the cache."""
    folder = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv(CACHE_DIR_ENV, str(folder))
    return folder


def client_data(**overrides: Any) -> dict[str, Any]:
    """A fictional client profile as a dict; keyword arguments replace top-level fields."""
    data: dict[str, Any] = {
        "id": "t-017",
        "preferred_name": "Robin",
        "avoid": ["heights"],
        "eligibility": {"psychosis": False, "acute_crisis": False},
        "preferences": {"voice": "calm", "soundscape": "rain"},
        "safe_place": {
            "description": "You are sitting on a wooden bench in a quiet garden. "
            "The afternoon is mild.",
            "sights": ["sunlight on the leaves", "a row of tulips"],
            "sounds": ["birdsong", "leaves moving in the breeze"],
            "smells": ["lavender", "cut grass"],
            "touch": ["the warm wood of the bench", "a soft breeze on your arms"],
            "body_location": "in your chest",
            "cue_word": "garden",
        },
    }
    data.update(overrides)
    return data


def write_client(folder: Path, name: str = "client.yaml", **overrides: Any) -> Path:
    """Write a client profile YAML file and return its path."""
    path = folder / name
    path.write_text(yaml.safe_dump(client_data(**overrides), allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def client_file(tmp_path: Path) -> Path:
    return write_client(tmp_path)


@pytest.fixture(scope="session")
def example_client() -> Path:
    return data_dir("examples/clients") / "example-client.yaml"


@pytest.fixture(scope="session")
def mini_render(tmp_path_factory: pytest.TempPathFactory) -> RenderResult:
    """One real render (calm voice: Piper with the neural extra, else eSpeak NG; rain bed;
    WAV) of the short test template, shared by tests."""
    folder = tmp_path_factory.mktemp("mini")
    client = write_client(folder)
    settings = RenderSettings(soundscape="rain", templates_dir=TEST_TEMPLATES, seed=3,
                              export=ExportSettings(format="wav"))
    return render_track("mini", client, folder / "out", settings)
