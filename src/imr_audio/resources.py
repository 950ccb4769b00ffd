"""Where the shipped templates, voice profiles and example clients live.

In a built wheel they are packaged under ``imr_audio/_data``; in a source checkout (an editable
install or running from ``src/``) they are the top-level folders of the repository.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["data_dir"]

_PACKAGED = Path(__file__).resolve().parent / "_data"
_CHECKOUT = Path(__file__).resolve().parents[2]
_CHECKOUT_NAMES = {
    "scripts_templates": _CHECKOUT / "scripts_templates",
    "voices": _CHECKOUT / "voices",
    "examples/clients": _CHECKOUT / "examples" / "clients",
}


def data_dir(name: str) -> Path:
    """Return the folder of shipped data called ``name``.

    ``name`` is one of ``scripts_templates``, ``voices`` or ``examples/clients``.
    """
    packaged = _PACKAGED / name
    if packaged.is_dir():
        return packaged
    return _CHECKOUT_NAMES[name]
