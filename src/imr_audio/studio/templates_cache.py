"""Template schemas read once and again only when their files change (the live preview's pace).

A preview reads the template's schema, and validating a profile reads every template's (the
fields they know): parsing those YAML files took most of a preview's time. The studio's
library keeps each parsed schema until a file of its search path changes (name, size or
modification time), so an edited template shows at the next preview.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from imr_audio.authoring.library import TemplateLibrary
from imr_audio.authoring.templates import TemplateSpec

__all__ = ["FreshTemplateLibrary"]

Signature = tuple[tuple[str, str, int, int], ...]


class FreshTemplateLibrary(TemplateLibrary):
    """A :class:`TemplateLibrary` that parses a schema only when its folder's files change."""

    def __init__(self, search_path: tuple[Path, ...]) -> None:
        """The templates in ``search_path``'s folders, the first folder winning."""
        super().__init__(search_path)
        self._specs: dict[str, tuple[Signature, TemplateSpec]] = {}
        self._lock = threading.Lock()

    def _signature(self) -> Signature:
        entries: list[tuple[str, str, int, int]] = []
        for folder in self.search_path:
            try:
                with os.scandir(folder) as scan:
                    for entry in scan:
                        if entry.name.endswith((".yaml", ".j2")):
                            info = entry.stat()
                            entries.append((str(folder), entry.name, info.st_mtime_ns,
                                            info.st_size))
            except OSError:
                continue
        return tuple(sorted(entries))

    def load(self, template_id: str) -> TemplateSpec:
        """A template's schema, parsed again only if a template file changed since."""
        signature = self._signature()
        with self._lock:
            cached = self._specs.get(template_id)
        if cached is not None and cached[0] == signature:
            return cached[1]
        spec = super().load(template_id)
        with self._lock:
            self._specs[template_id] = (signature, spec)
        return spec
