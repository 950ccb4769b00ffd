"""Privacy guarantees: no network, no client values in outputs or logs, owner-only files, no
temporary files left behind, and keyed hashes of client data.

One real render (eSpeak NG, rain bed, MP3 through ffmpeg) runs in a subprocess whose Python
cannot open an internet socket, at maximum verbosity, with a fresh TMPDIR and umask 0; most
tests below examine what it left.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mutagen
import pytest
import soundfile as sf
import yaml

from imr_audio.errors import ImrAudioError
from imr_audio.export import ExportSettings
from imr_audio.export import tags as tags_module
from imr_audio.mixplan import bed_choice
from imr_audio.provenance import TrackInputs, inputs_sha256
from imr_audio.script import ScriptChoices, prepare
from imr_audio.secret import KEY_BYTES, InstallationKey, InstallationKeyError
from imr_audio.track import RenderSettings, render
from imr_audio.voice.base import VoiceSettings
from imr_audio.workspace import CACHE_DIR_ENV, Workspace
from measure import ffprobe

# A fictional client whose every value holds a word found nowhere else, so a leak of any value
# is a leak of its word. The test template 'mini' speaks the name, the description and the cue
# word; nothing else is spoken.
SPOKEN = {"preferred_name": "Zéphyrine", "description": "Marrowgate", "cue_word": "Thistledown"}
UNSPOKEN = {
    "pronunciation": "Zeffreeen",
    "avoid": "Vantablack",
    "sights": "Quorndon",
    "sounds": "Pellwether",
    "smells": "Sarsgrove",
    "touch": "Tindlemoss",
    "body_location": "Wrenlow",
    "companion": "Bartholomew",
    "figure_form": "Glimmerwick",
    "figure_quality": "Brambleford",
    "figure_words": "Quennisard",
}
CLIENT_ID = "zq-101"


def distinctive_profile(**overrides: Any) -> dict[str, Any]:
    """The fictional client above as a profile dict; keyword arguments replace fields."""
    data: dict[str, Any] = {
        "id": CLIENT_ID,
        "preferred_name": "Zéphyrine",
        "pronunciations": {"Zéphyrine": "Zeffreeen"},
        "avoid": ["Vantablack cellars"],
        "eligibility": {"psychosis": False, "acute_crisis": False},
        "preferences": {"voice": "calm-female", "soundscape": "rain"},
        "safe_place": {
            "description": "You rest in the Marrowgate glasshouse, among quiet orchids.",
            "sights": ["the Quorndon lighthouse"],
            "sounds": ["the Pellwether chimes"],
            "smells": ["Sarsgrove honeysuckle"],
            "touch": ["the Tindlemoss blanket"],
            "body_location": "in your Wrenlow chest",
            "cue_word": "Thistledown",
            "companion": "your ferret Bartholomew",
        },
        "compassionate_figure": {
            "form": "a silver Glimmerwick owl",
            "qualities": ["Brambleford patience", "gentle warmth"],
            "words": "Quennisard, you are welcome here.",
        },
    }
    data.update(overrides)
    return data


def write_profile(folder: Path, name: str = "client.yaml", **overrides: Any) -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(distinctive_profile(**overrides), allow_unicode=True),
                    encoding="utf-8")
    return path


def _variants(word: str) -> set[bytes]:
    found = set()
    for text in (word, word.lower()):
        for encoding in ("utf-8", "utf-16-le", "utf-16-be", "latin-1"):
            found.add(text.encode(encoding))
    return found


def leaks(data: bytes | str, words: dict[str, str]) -> list[str]:
    """The fields whose word occurs in ``data`` (any case; UTF-8, UTF-16 or Latin-1)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    lowered = raw.lower()
    return [field for field, word in words.items()
            if any(v in raw or v in lowered for v in _variants(word))]


ALL_WORDS = {**SPOKEN, **UNSPOKEN}

# --- a render with the network blocked -------------------------------------------------------

SITECUSTOMIZE = '''
"""Test harness: this Python (and every process it spawns) cannot use an internet socket."""
import os
import socket

_LOG = os.environ["IMR_TEST_NET_LOG"]
_INTERNET = (socket.AF_INET, socket.AF_INET6)


def _refuse(what):
    with open(_LOG, "a", encoding="utf-8") as log:
        log.write(f"{os.getpid()} {what}\\n")
    raise PermissionError("network blocked by the privacy test")


class _GuardedSocket(socket.socket):
    def __init__(self, family=-1, type=-1, proto=-1, fileno=None):
        if fileno is None and (family == -1 or family in _INTERNET):
            _refuse(f"socket({family})")
        super().__init__(family, type, proto, fileno)

    def connect(self, address):
        if self.family in _INTERNET:
            _refuse(f"connect({address!r})")
        return super().connect(address)

    def connect_ex(self, address):
        if self.family in _INTERNET:
            _refuse(f"connect_ex({address!r})")
        return super().connect_ex(address)


def _no_lookup(*args, **kwargs):
    _refuse(f"getaddrinfo{args!r}")


socket.socket = _GuardedSocket
socket.SocketType = _GuardedSocket
socket.getaddrinfo = _no_lookup
'''


@dataclass(frozen=True)
class BlockedRender:
    """What the render in the network-blocked subprocess left."""

    returncode: int
    stdout: str
    stderr: str
    out_dir: Path
    tmp_dir: Path
    cache_dir: Path
    net_log: Path
    env: dict[str, str]


def blocked_env(folder: Path) -> dict[str, str]:
    """Environment of a Python that cannot use internet sockets, with its own TMPDIR."""
    site = folder / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(textwrap.dedent(SITECUSTOMIZE), encoding="utf-8")
    tmp = folder / "tmp"
    tmp.mkdir()
    env = dict(os.environ)
    env.update(PYTHONPATH=str(site), IMR_TEST_NET_LOG=str(folder / "net.log"), TMPDIR=str(tmp))
    return env


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A speech cache folder shared by this module's renders of the distinctive client."""
    return tmp_path_factory.mktemp("privacy-cache")


@pytest.fixture(scope="module")
def blocked(
    tmp_path_factory: pytest.TempPathFactory,
    shared_cache: Path,
    test_templates: Path,
) -> BlockedRender:
    folder = tmp_path_factory.mktemp("blocked")
    env = blocked_env(folder)
    env[CACHE_DIR_ENV] = str(shared_cache)
    client = write_profile(folder)
    out = folder / "new" / "tracks"  # two folders that do not exist yet
    done = subprocess.run(
        [sys.executable, "-m", "imr_audio", "-vv", "render", "mini", "--client", str(client),
         "--templates-dir", str(test_templates), "--format", "mp3", "-o", str(out)],
        env=env, capture_output=True, text=True, timeout=600, umask=0, check=False,
    )
    return BlockedRender(done.returncode, done.stdout, done.stderr, out, Path(env["TMPDIR"]),
                         shared_cache, Path(env["IMR_TEST_NET_LOG"]), env)


CONTROL = textwrap.dedent('''
    import multiprocessing, socket, sys

    def attempt(port):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        except OSError as exc:
            return f"blocked: {exc}"
        return "connected"

    if __name__ == "__main__":
        port = int(sys.argv[1])
        a, b = socket.socketpair()  # AF_UNIX, as multiprocessing uses: still allowed
        a.sendall(b"x"); assert b.recv(1) == b"x"
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            child = pool.apply(attempt, (port,))
        print(attempt(port)); print(child)
''')


@pytest.fixture
def listener() -> Iterator[int]:
    """A local TCP server's port: a connection attempt fails only if something blocks it."""
    server = socket.create_server(("127.0.0.1", 0))
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


def test_the_network_block_works_in_the_process_and_its_children(tmp_path: Path,
                                                                   listener: int) -> None:
    script = tmp_path / "control.py"
    script.write_text(CONTROL, encoding="utf-8")
    command = [sys.executable, str(script), str(listener)]
    free = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    assert free.stdout.split() == ["connected", "connected"]  # without the block: connects
    env = blocked_env(tmp_path)
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120,
                          check=True)
    lines = done.stdout.splitlines()
    assert lines == ["blocked: network blocked by the privacy test"] * 2, done.stdout
    assert len(Path(env["IMR_TEST_NET_LOG"]).read_text().splitlines()) == 2  # parent and child


@pytest.mark.slow
def test_a_full_render_needs_no_network(blocked: BlockedRender) -> None:
    assert blocked.returncode == 0, blocked.stderr
    assert not blocked.net_log.exists()  # no attempt at all, not even one that was caught
    track = blocked.out_dir / f"{CLIENT_ID}_mini.mp3"
    assert str(track) in blocked.stdout
    info = sf.info(track)
    assert info.duration > 60 and info.channels == 2
    sidecar = json.loads(Path(f"{track}.json").read_text(encoding="utf-8"))
    assert sidecar["voice"]["engine"] == "pyttsx3"  # eSpeak NG, the profile's calm-female


# --- no client values in outputs -------------------------------------------------------------


def _tag_texts(path: Path) -> str:
    """Every tag as mutagen and (where installed) ffprobe read them."""
    audio = mutagen.File(path)
    assert audio is not None and audio.tags is not None
    texts = [audio.pprint(), repr(dict(audio.tags)) if hasattr(audio.tags, "keys") else ""]
    if shutil.which("ffprobe"):
        info = ffprobe(path)
        info["format"].pop("filename")  # the path we gave it, not something in the file
        texts.append(json.dumps(info, ensure_ascii=False))
    return "\n".join(texts)


def assert_outputs_hold_no_client_values(out_dir: Path, fmt: str) -> None:
    names = sorted(p.name for p in out_dir.iterdir())
    stem = f"{CLIENT_ID}_mini"
    audio = f"{stem}.{fmt}"
    assert names == sorted([audio, *(f"{audio}{s}" for s in (".json", ".txt", ".vtt"))])
    track = out_dir / f"{stem}.{fmt}"
    assert leaks(track.read_bytes(), ALL_WORDS) == []
    assert leaks(_tag_texts(track), {**ALL_WORDS, "id": CLIENT_ID}) == []
    assert leaks(Path(f"{track}.json").read_bytes(), ALL_WORDS) == []
    for suffix in (".txt", ".vtt"):
        text = track.with_name(track.name + suffix).read_bytes()
        # The transcript and captions are the spoken words: they hold the spoken values ...
        assert leaks(text, SPOKEN) == list(SPOKEN), suffix
        # ... and nothing the script does not say (the respelling goes to the engine only).
        assert leaks(text, UNSPOKEN) == [], suffix
    assert leaks(" ".join(names), ALL_WORDS) == []


@pytest.mark.slow
def test_mp3_outputs_hold_no_client_values(blocked: BlockedRender) -> None:
    assert blocked.returncode == 0, blocked.stderr
    assert_outputs_hold_no_client_values(blocked.out_dir, "mp3")


@pytest.mark.slow
def test_ogg_outputs_hold_no_client_values(
    tmp_path: Path,
    shared_cache: Path,
    monkeypatch: pytest.MonkeyPatch,
    test_templates: Path,
) -> None:
    monkeypatch.setenv(CACHE_DIR_ENV, str(shared_cache))
    ws = Workspace.from_environment(templates_dir=test_templates)
    settings = RenderSettings(export=ExportSettings(format="ogg"))
    render(ws, "mini", ws.load_profile(write_profile(tmp_path)), tmp_path / "out", settings)
    assert_outputs_hold_no_client_values(tmp_path / "out", "ogg")


def test_the_scan_finds_a_value_in_every_encoding() -> None:
    for encoding in ("utf-8", "utf-16-le", "utf-16-be", "latin-1"):
        data = b"\x00\xff" + "TITLE=zéphyrine".encode(encoding) + b"\x00"
        assert leaks(data, ALL_WORDS) == ["preferred_name"], encoding


# --- logs -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_most_verbose_log_holds_no_client_value(blocked: BlockedRender) -> None:
    assert blocked.returncode == 0, blocked.stderr
    assert "DEBUG" in blocked.stderr or "INFO" in blocked.stderr  # it did log
    assert "template=mini" in blocked.stderr
    assert leaks(blocked.stderr + blocked.stdout, ALL_WORDS) == []


SAFE_PLACE: dict[str, Any] = distinctive_profile()["safe_place"]
FAILURES: dict[str, tuple[dict[str, Any], str]] = {
    # a spoken value on the avoid-list: a lint error
    "lint": ({"avoid": ["Marrowgate glasshouse"]}, "avoid-list"),
    "too-long": ({"safe_place": {**SAFE_PLACE, "cue_word": "Thistledown " * 4}},
                 "safe_place.cue_word"),
    "typo": ({"safe_place": {"description": SAFE_PLACE["description"],
                             "cue_wrod": "Thistledown"}}, "safe_place.cue_wrod"),
    "not-text": ({"preferred_name": ["Zéphyrine"]}, "preferred_name"),
    "bad-flag": ({"eligibility": {"psychosis": "Zéphyrine Marrowgate"}}, "eligibility.psychosis"),
    "bad-pronunciation": ({"pronunciations": {"Zéphyrine": ""}}, "pronunciations (entry 1)"),
}


@pytest.mark.parametrize("case", FAILURES, ids=list(FAILURES))
def test_a_failing_render_names_fields_not_values(
    case: str,
    tmp_path: Path,
    test_templates: Path,
) -> None:
    overrides, field = FAILURES[case]
    client = write_profile(tmp_path, **overrides)
    done = subprocess.run(
        [sys.executable, "-m", "imr_audio", "-vv", "render", "mini", "--client", str(client),
         "--templates-dir", str(test_templates), "-o", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert field in done.stderr
    assert "Traceback" not in done.stderr
    assert leaks(done.stdout + done.stderr, ALL_WORDS) == []
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


# --- modes and temporary files ----------------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.slow
def test_outputs_and_cache_are_owner_only_whatever_the_umask(blocked: BlockedRender) -> None:
    assert blocked.returncode == 0, blocked.stderr
    assert _mode(blocked.out_dir) == 0o700 and _mode(blocked.out_dir.parent) == 0o700
    files = list(blocked.out_dir.iterdir())
    assert len(files) == 4
    assert {p.name: _mode(p) for p in files} == {p.name: 0o600 for p in files}
    assert _mode(blocked.cache_dir / "speech") == 0o700
    cached = list(blocked.cache_dir.rglob("*"))  # speech clips and whatever else is cached
    assert {p.name: _mode(p) for p in cached} == {
        p.name: 0o700 if p.is_dir() else 0o600 for p in cached
    }
    assert not [p for p in cached if p.name.startswith(".")]  # no temporary file left


@pytest.mark.slow
def test_no_temporary_file_is_left_after_a_render(blocked: BlockedRender) -> None:
    assert blocked.returncode == 0, blocked.stderr
    assert list(blocked.tmp_dir.iterdir()) == []
    assert not [p for p in blocked.out_dir.iterdir() if p.name.startswith(".")]


@pytest.mark.slow
def test_no_temporary_file_is_left_after_a_late_failure(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    test_templates: Path,
) -> None:
    temp_root = tmp_path / "tmp"
    temp_root.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp_root))
    monkeypatch.setattr(tempfile, "tempdir", str(temp_root))
    made: list[str] = []
    real_mkdtemp = tempfile.mkdtemp

    def watched_mkdtemp(*args: Any, **kwargs: Any) -> str:
        made.append(real_mkdtemp(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(tempfile, "mkdtemp", watched_mkdtemp)
    calls: list[Path] = []

    def failing_tags(path: Path, *args: Any) -> None:
        # Fail at the end of the export step, the audio encoded, as a full disk would.
        calls.append(path)
        assert path.stat().st_size > 0
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tags_module, "write_tags", failing_tags)
    out = tmp_path / "out"
    settings = RenderSettings(export=ExportSettings(format="mp3"))
    ws = Workspace.from_environment(templates_dir=test_templates)
    with pytest.raises(ImrAudioError) as error:
        render(ws, "mini", ws.load_profile(write_profile(tmp_path)), out, settings)
    assert calls, "the render did not reach the export step"
    assert leaks(str(error.value), ALL_WORDS) == []
    # Temporary folders were made in TMPDIR (the speech engine's at least) and are gone.
    assert [Path(m).parent for m in made if Path(m).parent == temp_root]
    assert list(temp_root.iterdir()) == []
    assert not out.exists()  # no partial track, nor the output folder the render made


# --- keyed hashes -----------------------------------------------------------------------------


def test_the_installation_key_is_made_once_owner_only(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "new" / "folder" / "installation.key"
    previous = os.umask(0)
    try:
        key = InstallationKey(path).secret()
    finally:
        os.umask(previous)
    assert len(key) == KEY_BYTES and path.read_bytes() == key
    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700 and _mode(path.parent.parent) == 0o700
    assert InstallationKey(path).secret() == key
    assert [p.name for p in path.parent.iterdir()] == ["installation.key"]  # no temp file left
    other = tmp_path / "other.key"
    assert InstallationKey(other).secret() != key  # another installation, another key


def test_a_damaged_key_is_an_error_naming_the_file(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "installation.key"
    path.write_bytes(b"short")
    with pytest.raises(InstallationKeyError, match=r"installation\.key: .* damaged"):
        InstallationKey(path).client_hash(CLIENT_ID)


def test_owner_hashes_are_keyed(tmp_path: Path, workspace: Workspace) -> None:
    mine = workspace.key.client_hash(CLIENT_ID)
    assert mine == workspace.key.client_hash(CLIENT_ID)
    # A guess of the id, hashed without the key, confirms nothing.
    assert mine != hashlib.sha256(CLIENT_ID.encode()).hexdigest()
    assert InstallationKey(tmp_path / "other.key").client_hash(CLIENT_ID) != mine


def test_the_inputs_hash_is_keyed(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    test_templates: Path, test_workspace: Workspace
) -> None:
    ws = test_workspace
    prepared = prepare(ws, "mini", ws.load_profile(write_profile(tmp_path)),
                       ScriptChoices(soundscape="rain"))
    voice = VoiceSettings(engine="pyttsx3", voice_id="gmw/en+f3", rate_wpm=108, pitch=45)
    settings = RenderSettings()
    inputs = TrackInputs(prepared, voice, "v1", bed_choice(ws, "rain", 0), settings.mix,
                         settings.master, settings.export)
    here = inputs_sha256(ws, inputs)
    assert inputs_sha256(ws, inputs) == here
    elsewhere = ws.derive(key_file=tmp_path / "elsewhere.key")
    assert inputs_sha256(elsewhere, inputs) != here


@pytest.mark.slow
def test_the_sidecar_records_keyed_hashes(blocked: BlockedRender) -> None:
    assert blocked.returncode == 0, blocked.stderr
    sidecar_path, = blocked.out_dir.glob(f"{CLIENT_ID}_mini.*.json")
    sidecar = json.loads(sidecar_path.read_text("utf-8"))
    assert sidecar["sidecar_version"] == 2
    key = Workspace.from_environment().key  # the same key (subprocess env)
    assert sidecar["client_hash"] == key.client_hash(CLIENT_ID)
    owners = {o for p in (blocked.cache_dir / "speech").glob("*.json")
              for o in json.loads(p.read_text("utf-8"))["owners"]}
    assert owners == {key.client_hash(CLIENT_ID)}
    assert len(list((blocked.cache_dir / "speech").glob("*.npy"))) > 0


@pytest.mark.slow
def test_every_folder_a_first_render_creates_under_home_is_owner_only(
    tmp_path: Path, test_templates: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    client = tmp_path / "client.yaml"
    client.write_text("id: t-017\npreferred_name: Robin\nsafe_place:\n  description: You rest "
                      "in a small quiet garden under an old apple tree.\n  cue_word: garden\n",
                      encoding="utf-8")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("XDG_", "IMR_AUDIO_")) and k not in ("HOME", "PYTHONPATH")}
    env["HOME"] = str(home)
    result = subprocess.run(
        [sys.executable, "-m", "imr_audio", "render", "mini", "--client", str(client),
         "--templates-dir", str(test_templates), "--format", "wav", "-o", str(home / "out")],
        capture_output=True, text=True, env=env, timeout=600, check=False)
    assert result.returncode == 0, result.stderr
    folders = [p for p in home.rglob("*") if p.is_dir()]
    assert any(p.name == "imr-audio" for p in folders)  # the cache and the key's folder
    assert {p: oct(p.stat().st_mode & 0o777) for p in folders
            if p.stat().st_mode & 0o777 != 0o700} == {}
