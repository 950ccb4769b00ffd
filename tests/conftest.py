"""Shared fixtures: client profiles, workspaces, the test templates folder, one real render.

Tests take what they need from here as fixtures (never by importing this module): a
``workspace`` (the shipped templates) or ``test_workspace`` (the test templates first), and the
``client_data`` / ``write_client`` factories for fictional profiles.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from imr_audio.export import ExportSettings
from imr_audio.resources import data_dir
from imr_audio.track import RenderResult, RenderSettings, render
from imr_audio.workspace import CACHE_DIR_ENV, KEY_FILE_ENV, Workspace, WorkspaceConfig

_DATA = Path(__file__).parent / "data"
_TEST_TEMPLATES = _DATA / "templates"


@pytest.fixture(scope="session", autouse=True)
def _hermetic_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """No test reads the user's own configuration (their presets file)."""
    folder = tmp_path_factory.mktemp("xdg-config")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CONFIG_HOME", str(folder))
        patch.delenv("IMR_AUDIO_PRESETS", raising=False)
        yield folder


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
    """Each test has its own empty cache folder (``$IMR_AUDIO_CACHE_DIR``): none sees another's
    clips, so a test of synthesis itself is never answered from the cache."""
    folder = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv(CACHE_DIR_ENV, str(folder))
    return folder


@pytest.fixture(scope="session")
def test_templates() -> Path:
    """The test templates folder (``mini``, ``breathe``, ``leaky``, ``undeclared``)."""
    return _TEST_TEMPLATES


@pytest.fixture
def workspace(speech_cache_dir: Path, installation_key_file: Path) -> Workspace:
    """A workspace with the shipped templates, this test's cache and the session's key."""
    return Workspace(WorkspaceConfig(cache_dir=speech_cache_dir, key_file=installation_key_file))


@pytest.fixture
def test_workspace(workspace: Workspace) -> Workspace:
    """``workspace`` with the test templates searched first."""
    return workspace.derive(templates_dir=_TEST_TEMPLATES)


def _client_data(**overrides: Any) -> dict[str, Any]:
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


def _write_client(folder: Path, name: str = "client.yaml", **overrides: Any) -> Path:
    """Write a client profile YAML file and return its path."""
    path = folder / name
    path.write_text(yaml.safe_dump(_client_data(**overrides), allow_unicode=True),
                    encoding="utf-8")
    return path


ClientData = Callable[..., dict[str, Any]]
WriteClient = Callable[..., Path]


@pytest.fixture(scope="session")
def client_data() -> ClientData:
    """``client_data(**overrides)``: a fictional client profile as a dict."""
    return _client_data


@pytest.fixture(scope="session")
def write_client() -> WriteClient:
    """``write_client(folder, name="client.yaml", **overrides)``: a profile file's path."""
    return _write_client


@pytest.fixture
def client_file(tmp_path: Path) -> Path:
    return _write_client(tmp_path)


@pytest.fixture(scope="session")
def example_client() -> Path:
    return data_dir("examples/clients") / "example-client.yaml"


@pytest.fixture(scope="session")
def mini_render(tmp_path_factory: pytest.TempPathFactory, _session_speech_cache: Path,
                installation_key_file: Path) -> RenderResult:
    """One real render (calm voice: Piper with the neural extra, else eSpeak NG; rain bed;
    WAV) of the short test template, shared by tests."""
    folder = tmp_path_factory.mktemp("mini")
    workspace = Workspace(WorkspaceConfig(cache_dir=_session_speech_cache,
                                          key_file=installation_key_file,
                                          templates_dir=_TEST_TEMPLATES))
    settings = RenderSettings(soundscape="rain", seed=3, export=ExportSettings(format="wav"))
    return render(workspace, "mini", workspace.load_profile(_write_client(folder)),
                  folder / "out", settings)


RenderFile = Callable[..., RenderResult]


@pytest.fixture(scope="session")
def render_file() -> RenderFile:
    """``render_file(template, client_file, output_dir, settings=None, **options)``: render with
    the test templates first, the profile read from ``client_file`` (``options`` go to
    :func:`~imr_audio.track.render`: ``progress``, ``engine``)."""

    def render_it(template_id: str, client_file: Path, output_dir: Path,
                  settings: RenderSettings | None = None, **options: Any) -> RenderResult:
        # The environment as it is now (a test may point the cache elsewhere first).
        workspace = Workspace.from_environment(templates_dir=_TEST_TEMPLATES)
        profile = workspace.load_profile(client_file)
        return render(workspace, template_id, profile, output_dir, settings, **options)

    return render_it


@pytest.fixture
def render_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, RenderSettings]]:
    """Stops every render the command line starts: each call's template id and settings are
    recorded and it raises ``ImrAudioError("stopped here")``."""
    from imr_audio.errors import ImrAudioError

    calls: list[tuple[str, RenderSettings]] = []

    def stopped(workspace: Workspace, template_id: str, profile: object, output_dir: Path,
                settings: RenderSettings | None = None, **options: Any) -> RenderResult:
        calls.append((template_id, settings or RenderSettings()))
        raise ImrAudioError("stopped here")

    monkeypatch.setattr("imr_audio.track.render", stopped)
    return calls
