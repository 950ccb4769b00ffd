"""The theme map: what words stand for each theme a client may avoid (water, heights ...).

The shipped map is ``themes.yaml`` beside this module; a therapist can add themes, cues and
words with a YAML file of their own in the same format (:func:`load_theme_map`). Every word is
matched by its dictionary forms (:mod:`imr_audio.lint.text`), so the map lists each word once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from imr_audio.errors import ImrAudioError
from imr_audio.lint.text import phrase_lemmas
from imr_audio.yamlfile import parse_yaml, read_text_file

__all__ = ["Term", "Theme", "ThemeMap", "ThemeMapError", "load_theme_map"]

Phrase = tuple[frozenset[str], ...]
"""A word or phrase as the dictionary forms of each of its words."""


class ThemeMapError(ImrAudioError):
    """A theme map file cannot be read or is not in the theme map format."""


@dataclass(frozen=True)
class Term:
    """A word or phrase to look for."""

    phrase: Phrase
    """Its words' dictionary forms."""
    noun_only: bool = False
    """Whether it counts only where it is used as a noun."""


@dataclass(frozen=True)
class Theme:
    """One theme of the map."""

    name: str
    """Its name, e.g. ``water``."""
    cues: tuple[Phrase, ...]
    """Words that make an avoid-list entry about this theme."""
    words: tuple[Term, ...]
    """Words that evoke it."""
    part_of: str | None = None
    """The broader theme it belongs to."""


@dataclass(frozen=True)
class ThemeMap:
    """Every theme by name."""

    themes: Mapping[str, Theme]
    """The themes."""

    def with_parts(self, name: str) -> set[str]:
        """``name`` and every theme that is part of it, at any depth."""
        found = {name}
        grew = True
        while grew:
            more = {t.name for t in self.themes.values() if t.part_of in found} - found
            found |= more
            grew = bool(more)
        return found

    def entry_themes(self, entry: str) -> set[str]:
        """The themes an avoid-list entry is about (empty when it names none)."""
        words = phrase_lemmas(entry)
        named = {t.name for t in self.themes.values() if any(_contains(words, c) for c in t.cues)}
        # "the sea" is about the sea, not all water: keep the narrowest themes named.
        return {n for n in named if not any(n in self._ancestors(o) for o in named if o != n)}

    def _ancestors(self, name: str) -> set[str]:
        found: set[str] = set()
        parent = self.themes[name].part_of if name in self.themes else None
        while parent and parent not in found:
            found.add(parent)
            parent = self.themes[parent].part_of if parent in self.themes else None
        return found

    def terms(self, names: Iterable[str]) -> tuple[Term, ...]:
        """The words of the named themes and of all their parts."""
        found: dict[Term, None] = {}
        for name in names:
            for part in sorted(self.with_parts(name)):
                found.update(dict.fromkeys(self.themes[part].words))
        return tuple(found)

    def themes_of_tags(self, tags: Iterable[str]) -> set[str]:
        """The themes a soundscape tagged with ``tags`` evokes, each with its parts.

        A tag names a theme, or is a word of one (``waves``: the sea). A broad tag (``water``)
        stands for all its parts unless the bed also has a narrower tag of it (an ocean bed is
        the sea, not rain).
        """
        narrow = self._narrowest(_tag_names(tags))
        return set().union(*(self.with_parts(n) for n in narrow)) if narrow else set()

    def evoked_by_tags(self, tags: Iterable[str]) -> tuple[Term, ...]:
        """The words a soundscape tagged with ``tags`` evokes (see :meth:`themes_of_tags`).

        Every tag is also a word of its own.
        """
        named = _tag_names(tags)
        found: dict[Term, None] = {Term(phrase_lemmas(t)): None for t in named}
        for name in self._narrowest(named):
            found.update(dict.fromkeys(self.terms([name])))
        return tuple(found)

    def _narrowest(self, named: list[str]) -> set[str]:
        """The themes the tags ``named`` stand for, leaving out those a narrower one covers."""
        themes = {t for t in named if t in self.themes}
        # A word tag such as "waves" stands for the theme it is a word of.
        for tag in named:
            lemma = phrase_lemmas(tag)
            themes.update(
                t.name for t in self.themes.values()
                if tag not in self.themes and any(w.phrase == lemma for w in t.words)
            )
        return {t for t in themes if not any(t in self._ancestors(o) for o in themes)}


def _tag_names(tags: Iterable[str]) -> list[str]:
    """The tags, trimmed and in lower case, empty ones left out."""
    return [t for t in (tag.strip().lower() for tag in tags) if t]


def _contains(words: tuple[frozenset[str], ...], cue: Phrase) -> bool:
    """Whether the cue's words stand in ``words`` one after another."""
    size = len(cue)
    return any(
        all(cue[k] & words[i + k] for k in range(size)) for i in range(len(words) - size + 1)
    )


def _phrases(source: Path, where: str, raw: Any) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(w, str) and w.strip() for w in raw):
        raise ThemeMapError(f"{source}: {where}: must be a list of words or phrases")
    return [w.strip() for w in raw]


def _read(source: Path, text: str) -> dict[str, dict[str, Any]]:
    data = parse_yaml(text, str(source), ThemeMapError)  # bounded, with the line of an error
    if not isinstance(data, dict) or not isinstance(data.get("themes"), dict):
        raise ThemeMapError(f"{source}: themes: the file must hold one mapping, 'themes'")
    themes: dict[str, dict[str, Any]] = {}
    for name, entry in data["themes"].items():
        where = f"themes.{name}"
        if not isinstance(entry, dict):
            raise ThemeMapError(f"{source}: {where}: must be a mapping with 'words'")
        unknown = sorted(set(entry) - {"cues", "words", "nouns", "part_of"})
        if unknown:
            raise ThemeMapError(
                f"{source}: {where}.{unknown[0]}: unknown field (use cues, words, nouns, part_of)"
            )
        part_of = entry.get("part_of")
        if part_of is not None and not isinstance(part_of, str):
            raise ThemeMapError(f"{source}: {where}.part_of: must name a theme")
        themes[str(name).strip().lower()] = {
            "cues": _phrases(source, f"{where}.cues", entry.get("cues")),
            "words": _phrases(source, f"{where}.words", entry.get("words")),
            "nouns": _phrases(source, f"{where}.nouns", entry.get("nouns")),
            "part_of": part_of.strip().lower() if part_of else None,
        }
    return themes


def _merge(into: dict[str, dict[str, Any]], more: Mapping[str, dict[str, Any]]) -> None:
    for name, entry in more.items():
        old = into.setdefault(name, {"cues": [], "words": [], "nouns": [], "part_of": None})
        for key in ("cues", "words", "nouns"):
            old[key] = [*old[key], *(w for w in entry[key] if w not in old[key])]
        old["part_of"] = entry["part_of"] or old["part_of"]


def _build(source: Path, raw: Mapping[str, dict[str, Any]]) -> ThemeMap:
    themes: dict[str, Theme] = {}
    for name, entry in raw.items():
        parent = entry["part_of"]
        if parent is not None and parent not in raw:
            raise ThemeMapError(f"{source}: themes.{name}.part_of: no theme '{parent}'")
        nouns = {phrase_lemmas(n) for n in entry["nouns"]}
        words = tuple(
            Term(phrase_lemmas(w), phrase_lemmas(w) in nouns) for w in [name, *entry["words"]]
        )
        cues = tuple(phrase_lemmas(c) for c in [name, *entry["cues"]])
        themes[name] = Theme(name, tuple(c for c in cues if c), tuple(w for w in words if w.phrase),
                             parent)
    return ThemeMap(themes)


@lru_cache(maxsize=8)
def load_theme_map(extra: Path | None = None) -> ThemeMap:
    """The shipped theme map, extended by the therapist's own file ``extra`` if given.

    ``extra`` has the shipped format (``themes: {name: {cues, words, nouns, part_of}}``); its
    themes are added, and words and cues of a theme the map already has are added to it.
    Raises :class:`ThemeMapError` naming the file and field of a problem.
    """
    shipped = files("imr_audio.lint").joinpath("themes.yaml")
    raw = _read(Path("themes.yaml"), shipped.read_text(encoding="utf-8"))
    source = Path("themes.yaml")
    if extra is not None:
        source = Path(extra)
        _merge(raw, _read(source, read_text_file(source, ThemeMapError)))
    return _build(source, raw)
