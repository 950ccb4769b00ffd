"""Make eSpeak NG available to pyttsx3 from pip packages alone (no system package)."""

from __future__ import annotations

import ctypes
import os
import sys

__all__ = ["prepare_espeak"]

_prepared = False


def prepare_espeak() -> None:
    """Preload ``espeakng-loader``'s library and point ``ESPEAK_DATA_PATH`` at its data.

    Must run before pyttsx3 loads its eSpeak driver. On Linux pyttsx3 looks the library up by
    its soname, which the preloaded copy satisfies. Elsewhere (or when the loader package is
    absent) nothing is done and pyttsx3 uses the platform's own engine.
    """
    global _prepared
    if _prepared or not sys.platform.startswith("linux"):
        return
    try:
        import espeakng_loader
    except ImportError:
        return
    os.environ.setdefault("ESPEAK_DATA_PATH", espeakng_loader.get_data_path())
    ctypes.CDLL(espeakng_loader.get_library_path(), mode=ctypes.RTLD_GLOBAL)
    _prepared = True
