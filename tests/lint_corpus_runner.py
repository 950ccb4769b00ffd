"""Builds and lints the cases of the lint corpus (tests/lint_corpus/*.yaml).

Each case is filled and linted the way ``imr-audio lint`` does it (``prepare``): a shipped
template for a fictional example client, a therapist's renamed copy of one, or a small template
of the case's own. Used by tests/test_lint_corpus.py and bench/lint_corpus_bench.py.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from imr_audio.lint import LintFinding, lint_script
from imr_audio.markup import parse_script
from imr_audio.resources import data_dir
from imr_audio.script import ScriptChoices, prepare
from imr_audio.workspace import Workspace

CORPUS_DIR = Path(__file__).parent / "lint_corpus"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "clients"

# The fictional example client that renders each shipped template.
EXAMPLE_FOR = {
    "safe-place": "example-client.yaml",
    "container": "example-client-2.yaml",
    "grounding-54321": "example-client-2.yaml",
    "paced-breathing": "example-client-2.yaml",
    "compassionate-figure": "example-client-2.yaml",
    "light-stream": "example-client-3.yaml",
    "rescript-consolidation": "example-client-3.yaml",
    "new-dream-rehearsal": "example-client-3.yaml",
    "body-scan": "example-client-3.yaml",
}
_CORE = {"id", "preferred_name", "avoid", "eligibility", "preferences", "pronunciations"}
BASE_CLIENT: dict[str, Any] = {
    "id": "corpus-01",
    "preferred_name": "Robin",
    "avoid": ["heights"],
    "eligibility": {"psychosis": False, "acute_crisis": False},
    "preferences": {"voice": "calm", "soundscape": "rain"},
}


@dataclass(frozen=True)
class CorpusCase:
    """One planted violation or clean near-miss."""

    id: str
    """Unique name."""
    file: str
    """The corpus file it comes from (its stem)."""
    rule: str | None
    """The rule it must trigger; None for a clean near-miss."""
    raw: Mapping[str, Any] = field(repr=False)
    """The case as written."""

    @property
    def severity(self) -> str | None:
        """The severity the finding must have, if the case says."""
        value = self.raw.get("severity")
        return None if value is None else str(value)


@dataclass(frozen=True)
class CaseResult:
    """What the lint found for one case."""

    case: CorpusCase
    """The case."""
    findings: tuple[LintFinding, ...]
    """Every finding."""

    @property
    def caught(self) -> bool:
        """A violation case: its rule fired (at its severity, when the case names one)."""
        want = self.case.severity
        return any(
            f.rule == self.case.rule and (want is None or f.severity == want)
            for f in self.findings
        )

    @property
    def false_alarm(self) -> bool:
        """A clean case: anything at all was found."""
        return self.case.rule is None and bool(self.findings)

    @property
    def passed(self) -> bool:
        """Caught (a violation) or silent (a clean case)."""
        return not self.false_alarm if self.case.rule is None else self.caught


def load_corpus(folder: Path = CORPUS_DIR) -> list[CorpusCase]:
    """Every case of every corpus file, in file order; ids must be unique."""
    cases: list[CorpusCase] = []
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for raw in data["cases"]:
            cases.append(CorpusCase(str(raw["id"]), path.stem, raw.get("rule"), raw))
    ids = [c.id for c in cases]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"duplicate corpus ids: {duplicates}")
    return cases


def _set_path(data: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
    if value is None:
        node.pop(leaf, None)
    else:
        node[leaf] = value


def _own_template(case: CorpusCase, folder: Path) -> str:
    raw = case.raw
    template_id = "corpus-case"
    sections = [str(s) for s in raw.get("sections") or []]
    section = str(raw.get("section") or (sections[0] if sections else "Middle"))
    body = f"[section {section}]\n{raw['text']}"
    leave = raw.get("leave_scene")
    source = '{% extends "_base.j2" %}\n{% block body %}\n' + body + "\n{% endblock %}\n"
    if leave is not None:
        source += "{% block leave_scene %}\n" + str(leave) + "\n{% endblock %}\n"
    variables = {}
    for dotted, value in (raw.get("set") or {}).items():
        if dotted.split(".")[0] in _CORE:
            continue
        kind = "list" if isinstance(value, list) else "text"
        variables[dotted] = {"type": kind, "required": True, "description": "corpus value"}
    schema = {
        "id": template_id,
        "title": "Corpus case",
        "kind": raw.get("kind", "stabilisation"),
        "description": "A corpus case.",
        "duration_s": [1, 100000],
        "sections": sections or [section],
        "variables": variables,
    }
    (folder / f"{template_id}.j2").write_text(source, encoding="utf-8")
    (folder / f"{template_id}.yaml").write_text(yaml.safe_dump(schema), encoding="utf-8")
    return template_id


def _copied_template(case: CorpusCase, folder: Path) -> str:
    raw = case.raw
    shipped = data_dir("scripts_templates")
    source = (shipped / f"{raw['copy_of']}.j2").read_text(encoding="utf-8")
    for old, new in raw.get("edits") or []:
        if old not in source:
            raise ValueError(f"{case.id}: edit text not in {raw['copy_of']}.j2: {old[:40]!r}")
        source = source.replace(old, new)
    schema = yaml.safe_load((shipped / f"{raw['copy_of']}.yaml").read_text(encoding="utf-8"))
    template_id = str(raw["as"])
    schema["id"] = template_id
    if "kind" in raw:
        schema["kind"] = raw["kind"]
    (folder / f"{template_id}.j2").write_text(source, encoding="utf-8")
    (folder / f"{template_id}.yaml").write_text(yaml.safe_dump(schema), encoding="utf-8")
    return template_id


def _client(case: CorpusCase) -> dict[str, Any]:
    shipped = case.raw.get("template") or case.raw.get("copy_of")
    if shipped:
        path = EXAMPLES / EXAMPLE_FOR[str(shipped)]
        data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    else:
        data = yaml.safe_load(yaml.safe_dump(BASE_CLIENT))  # a deep copy
    for dotted, value in (case.raw.get("set") or {}).items():
        _set_path(data, str(dotted), value)
    return data


def _presets_file(folder: Path, layers: list[str]) -> Path:
    """A presets file with one preset, ``corpus-preset``, of ``layers``."""
    path = folder / "presets.yaml"
    preset = {"description": "A corpus preset.", "layers": [{"soundscape": n} for n in layers]}
    path.write_text(yaml.safe_dump({"presets": {"corpus-preset": preset}}), encoding="utf-8")
    return path


def run_case(case: CorpusCase, workdir: Path) -> CaseResult:
    """Fill and lint one case in ``workdir`` (a fresh folder); return its findings."""
    if workdir.exists():
        shutil.rmtree(workdir)
    templates = workdir / "templates"
    templates.mkdir(parents=True)
    raw = case.raw
    if "template" in raw:
        template_id, templates_dir = str(raw["template"]), None
    elif "copy_of" in raw:
        template_id, templates_dir = _copied_template(case, templates), templates
    else:
        template_id, templates_dir = _own_template(case, templates), templates
    client = workdir / "client.yaml"
    client.write_text(yaml.safe_dump(_client(case), allow_unicode=True), encoding="utf-8")
    soundscape = raw.get("soundscape")
    presets = None
    if raw.get("preset"):
        presets = _presets_file(workdir, [str(layer) for layer in raw["preset"]])
        soundscape = "corpus-preset"
    workspace = Workspace.from_environment(templates_dir=templates_dir, presets_file=presets)
    prepared = prepare(workspace, template_id, workspace.load_profile(client),
                       ScriptChoices(soundscape=soundscape))
    findings = prepared.findings
    if raw.get("filled_edits"):
        text = prepared.script.text
        for old, new in raw["filled_edits"]:
            if old not in text:
                raise ValueError(f"{case.id}: filled edit text not found: {old!r}")
            text = text.replace(old, new)
        timeline = parse_script(text, prepared.voice_profile.pacing)
        findings = tuple(
            lint_script(prepared.spec, prepared.profile, prepared.script, timeline,
                        prepared.voice_profile.spoken_wpm, prepared.soundscape,
                        prepared.soundscape_origin)
        )
    return CaseResult(case, tuple(findings))


def run_corpus(workdir: Path, cases: list[CorpusCase] | None = None) -> Iterator[CaseResult]:
    """Run every case (or ``cases``), each in a folder of its own under ``workdir``."""
    for case in cases if cases is not None else load_corpus():
        yield run_case(case, workdir / case.id)


@dataclass
class RuleCounts:
    """Caught, missed and false-alarm counts for one rule (or one corpus file)."""

    violations: int = 0
    caught: int = 0
    clean: int = 0
    false_alarms: int = 0

    @property
    def missed(self) -> int:
        """Violations the lint did not catch."""
        return self.violations - self.caught


def count(results: list[CaseResult]) -> dict[str, RuleCounts]:
    """Counts per rule; clean cases are counted under their corpus file's rule."""
    counts: dict[str, RuleCounts] = {}
    for result in results:
        key = result.case.rule or result.case.file
        entry = counts.setdefault(key, RuleCounts())
        if result.case.rule is None:
            entry.clean += 1
            entry.false_alarms += result.false_alarm
        else:
            entry.violations += 1
            entry.caught += result.caught
    return counts
