"""Names a package imports on first use (PEP 562), so that importing it stays cheap.

The command line's ``--help`` and a speech worker import parts of packages whose other parts
need numpy, scipy or the audio code; a package lists its public names with the module that
defines each, and :func:`lazy_exports` makes its ``__getattr__``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``exports[name]`` (a module) when ``name`` is used."""

    def getattr_(name: str) -> Any:
        if name in exports:
            return getattr(importlib.import_module(exports[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return getattr_
