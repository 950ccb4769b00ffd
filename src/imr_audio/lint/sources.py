"""Where each line of a filled script comes from: a template file and line, and the profile fields.

No command prints the filled script's own line numbers, so a finding names the line of the
``.j2`` template (the therapist's, or the shipped ``_base.j2``) instead. Each template line's
literal text, with ``(.*?)`` in place of its ``{{ ... }}`` placeholders, is matched against the
filled lines in order (a loop's line may match several times; a value with line breaks runs on
over several), and the placeholders' text is traced back to the profile fields they print.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imr_audio.authoring.environment import escape_markup
from imr_audio.authoring.templates import TemplateSpec
from imr_audio.resources import data_dir

__all__ = ["Origin", "SourceMap", "build_source_map"]

_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
_SET = re.compile(r"\{%-?\s*set\s+(\w+)\s*=\s*(.*?)-?%\}", re.S)
_FOR = re.compile(r"\{%-?\s*for\s+(\w+)\s+in\s+(.*?)-?%\}", re.S)
_BLOCK = re.compile(r"\{%-?\s*block\s+(\w+)\s*-?%\}")
_ENDBLOCK = re.compile(r"\{%-?\s*endblock\b[^%]*%\}")
_STRING = re.compile(r"\"[^\"]*\"|'[^']*'")
_FILTER = re.compile(r"\|\s*\w+")
_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
_NOT_FIELDS = {"if", "else", "not", "and", "or", "in", "is", "loop", "true", "false", "none"}
_CORE_FIELDS = ("preferred_name",)


@dataclass(frozen=True)
class Origin:
    """Where some text of the filled script comes from."""

    template_file: Path | None
    """The ``.j2`` file of the line, or None when the line could not be traced."""
    template_line: int | None
    """Its line in that file (1-based)."""
    field: str | None = None
    """The profile field the text was filled from (``safe_place.sights[1]``); None for the
    template's own words."""

    def describe(self) -> str:
        """``safe-place.j2 line 40``, or ``the filled script`` when it is not known."""
        if self.template_file is None or self.template_line is None:
            return "the filled script"
        return f"{self.template_file.name} line {self.template_line}"


@dataclass(frozen=True)
class _Part:
    literal: str | None
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class _TemplateLine:
    path: Path
    number: int
    parts: tuple[_Part, ...]
    pattern: re.Pattern[str]
    weight: int

    @property
    def has_value(self) -> bool:
        return any(p.literal is None and p.fields for p in self.parts)


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    field: str


@dataclass(frozen=True)
class SourceMap:
    """Filled-script line -> template line and the spans of profile values in it."""

    lines: Mapping[int, tuple[Path, int, tuple[_Span, ...]]]
    """For each traced filled line: template file, template line, value spans."""

    def origin(self, line: int, start: int = 0, end: int | None = None) -> Origin:
        """Where the text at ``start:end`` of filled line ``line`` comes from."""
        found = self.lines.get(line)
        if found is None:
            return Origin(None, None)
        path, number, spans = found
        stop = start + 1 if end is None else end
        for span in spans:
            if span.start < stop and start < span.end:
                return Origin(path, number, span.field)
        return Origin(path, number)

    def template_line(self, line: int) -> Origin:
        """The template line of filled line ``line`` (no field)."""
        found = self.lines.get(line)
        return Origin(found[0], found[1]) if found else Origin(None, None)


def _aliases(source: str, declared: set[str]) -> dict[str, tuple[str, ...]]:
    aliases: dict[str, tuple[str, ...]] = {}
    for match in [*_SET.finditer(source), *_FOR.finditer(source)]:
        found = _fields(match.group(2), aliases, declared, keep_prefix=True)
        earlier = aliases.get(match.group(1), ())
        aliases[match.group(1)] = (*earlier, *(f for f in found if f not in earlier))
    return aliases


def _fields(
    expression: str,
    aliases: Mapping[str, tuple[str, ...]],
    declared: set[str],
    keep_prefix: bool = False,
) -> tuple[str, ...]:
    """The profile fields an expression reads (its names resolved through ``aliases``)."""
    text = _FILTER.sub(" ", _STRING.sub(" ", expression))
    found: list[str] = []
    for name in _NAME.findall(text):
        head, *rest = name.split(".")
        if head.lower() in _NOT_FIELDS:
            continue
        targets = aliases.get(head, (head,))
        for target in targets:
            dotted = ".".join([target, *rest]) if len(targets) == 1 else target
            known = dotted in declared or dotted in _CORE_FIELDS
            prefix = keep_prefix and any(d.startswith(dotted + ".") for d in declared)
            if (known or prefix) and dotted not in found:
                found.append(dotted)
    return tuple(found)


def _parts_by_line(
    source: str, aliases: Mapping[str, tuple[str, ...]], declared: set[str]
) -> dict[int, list[_Part]]:
    lines: dict[int, list[_Part]] = {}
    cursor, line = 0, 1

    def add_data(text: str, first_line: int) -> None:
        for offset, piece in enumerate(text.split("\n")):
            if piece:
                lines.setdefault(first_line + offset, []).append(_Part(piece))

    for tag in _TAG.finditer(source):
        add_data(source[cursor : tag.start()], line)
        line += source.count("\n", cursor, tag.start())
        body = tag.group(0)
        if body.startswith("{{"):
            lines.setdefault(line, []).append(_Part(None, _fields(body[2:-2], aliases, declared)))
        line += body.count("\n")
        cursor = tag.end()
    add_data(source[cursor:], line)
    return lines


def _compile(path: Path, number: int, parts: list[_Part]) -> _TemplateLine | None:
    if not any((p.literal or "").strip() or p.literal is None for p in parts):
        return None
    pattern = ""
    weight = 0
    for part in parts:
        if part.literal is None:
            pattern += "(.*?)"
        else:
            words = part.literal.split()
            weight += sum(len(w) for w in words)
            escaped = r"\s+".join(re.escape(w) for w in words)
            lead = r"\s*" if part.literal[:1].isspace() else ""
            trail = r"\s*" if part.literal[-1:].isspace() else ""
            pattern += lead + escaped + trail
    return _TemplateLine(path, number, tuple(parts), re.compile(pattern, re.S), weight)


def _blocks(source: str) -> dict[str, tuple[int, int]]:
    """Block name -> (line of its opening tag, line of its closing tag)."""
    found: dict[str, tuple[int, int]] = {}
    stack: list[tuple[str, int]] = []
    for number, text in enumerate(source.splitlines(), start=1):
        for tag in re.finditer(r"\{%-?\s*(block\s+\w+|endblock)\b[^%]*%\}", text):
            if tag.group(1).startswith("block"):
                stack.append((tag.group(1).split()[1], number))
            elif stack:
                name, opened = stack.pop()
                found[name] = (opened, number)
    return found


def _linear(spec: TemplateSpec, declared: set[str]) -> list[_TemplateLine]:
    """The template lines in the order they are filled: the base with the script's blocks."""
    base_path = data_dir("scripts_templates") / "_base.j2"
    base = base_path.read_text(encoding="utf-8")
    own = spec.path.read_text(encoding="utf-8")
    own_aliases = _aliases(own, declared)
    base_parts = _parts_by_line(base, _aliases(base, declared), declared)
    own_parts = _parts_by_line(own, own_aliases, declared)
    base_blocks, own_blocks = _blocks(base), _blocks(own)
    order: list[tuple[Path, int, list[_Part]]] = []
    skip_until = 0
    for number in range(1, base.count("\n") + 2):
        if number <= skip_until:
            continue
        block = next((n for n, (o, _) in base_blocks.items() if o == number), None)
        if block in own_blocks:
            opened, closed = own_blocks[block]
            order.extend((spec.path, n, own_parts[n]) for n in range(opened, closed + 1)
                         if n in own_parts)
            skip_until = base_blocks[block][1]
            continue
        if number in base_parts:
            order.append((base_path, number, base_parts[number]))
    compiled = (_compile(path, number, parts) for path, number, parts in order)
    return [line for line in compiled if line is not None]


def _spans(
    line: _TemplateLine, match: re.Match[str], offset: int, values: Mapping[str, Any]
) -> list[_Span]:
    spans: list[_Span] = []
    group = 0
    for part in line.parts:
        if part.literal is not None:
            continue
        group += 1
        if not part.fields:
            continue
        start, end = match.start(group) + offset, match.end(group) + offset
        spans.extend(_item_spans(part.fields[0], match.group(group), start, values))
        if not spans or spans[-1].end <= start:
            spans.append(_Span(start, end, part.fields[0]))
    return spans


def _item_spans(field: str, text: str, start: int, values: Mapping[str, Any]) -> list[_Span]:
    """Spans of a list field's items inside the text one placeholder printed."""
    value = values.get(field)
    if not isinstance(value, list):
        return []
    spans: list[_Span] = []
    for index, item in enumerate(value):
        found = text.find(escape_markup(item).strip())
        if item is not None and str(item).strip() and found >= 0:
            size = len(escape_markup(item).strip())
            spans.append(_Span(start + found, start + found + size, f"{field}[{index}]"))
    if spans:
        spans.append(_Span(start, start + len(text), field))
    return spans


def build_source_map(
    spec: TemplateSpec, text: str, values: Mapping[str, Any], declared: Sequence[str]
) -> SourceMap:
    """Trace every line of the filled ``text`` of ``spec`` back to its template line.

    ``values`` maps each declared dotted field to the profile's value (for list items).
    Lines that match no template line are left out (their origin is unknown).
    """
    try:
        template = _linear(spec, set(declared))
    except OSError:
        return SourceMap({})
    filled = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not template or not filled:
        return SourceMap({})
    none = float("-inf")
    size = len(template)
    # best[j]: the best score of the lines so far with the last one traced to template line j.
    best = [none] * size
    back: list[list[tuple[int, bool]]] = []
    matches: list[dict[int, re.Match[str]]] = []
    for index, (_, raw) in enumerate(filled):
        stripped = raw.strip()
        found = {j: m for j, t in enumerate(template) if (m := t.pattern.fullmatch(stripped))}
        matches.append(found)
        prefix, arg, running, where = [], [], none, -1
        for j in range(size):
            if best[j] > running:
                running, where = best[j], j
            prefix.append(running)
            arg.append(where)
        new = [none] * size
        links: list[tuple[int, bool]] = [(-1, False)] * size
        for j in range(size):
            earlier = 0.0 if index == 0 else prefix[j]
            if j in found and earlier > none:
                new[j] = earlier + 1.0 + template[j].weight
                links[j] = (arg[j] if index else -1, True)
            if index and best[j] > none:
                penalty = 0.5 if template[j].has_value else 5.0  # a value runs on, or unknown
                if best[j] - penalty > new[j]:
                    new[j] = best[j] - penalty
                    links[j] = (j, False)
        best = new
        back.append(links)
    end = max(range(size), key=lambda j: best[j])
    if best[end] == none:
        return SourceMap({})
    traced: dict[int, tuple[Path, int, tuple[_Span, ...]]] = {}
    j = end
    for index in range(len(filled) - 1, -1, -1):
        number, raw = filled[index]
        previous, matched = back[index][j]
        line = template[j]
        if matched:
            offset = len(raw) - len(raw.lstrip())
            spans = tuple(_spans(line, matches[index][j], offset, values))
            traced[number] = (line.path, line.number, spans)
        elif line.has_value:
            field = next(p.fields[0] for p in line.parts if p.literal is None and p.fields)
            traced[number] = (line.path, line.number, (_Span(0, len(raw), field),))
        j = previous if previous >= 0 else j
    return SourceMap(traced)
