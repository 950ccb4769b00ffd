"""Caught, missed and false-alarm counts of the clinical lint on the corpus, per rule.

Run: ``.venv/bin/python bench/lint_corpus_bench.py [--cases] [--time] [--lemmatisers]``. The
corpus is tests/lint_corpus/*.yaml (planted violations in therapists' wording and clean
near-misses); ``--cases`` lists every case that fails (a miss or a false alarm) with the rules
that fired; ``--time`` prints the time per case (filling and linting). ``--lemmatisers``
measures simplemma, LemmInflect and the Snowball stemmer on tests/lint_corpus/word_forms.tsv
(forms to relate, pairs to keep apart) and their speed (``pip install simplemma
snowballstemmer`` first; LemmInflect is a dependency). Figures only; tests assert.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from lint_corpus_runner import count, load_corpus, run_case

ROOT = Path(__file__).resolve().parent.parent


def _lemmatisers() -> dict[str, Callable[[str], set[str]]]:
    tools: dict[str, Callable[[str], set[str]]] = {}
    try:
        simplemma = importlib.import_module("simplemma")
        tools["simplemma"] = lambda w: {simplemma.lemmatize(w, lang="en").lower()}
    except ImportError:
        print("simplemma is not installed: pip install simplemma")
    lemminflect = importlib.import_module("lemminflect")

    def by_lemminflect(word: str) -> set[str]:
        found = {f.lower() for forms in lemminflect.getAllLemmas(word).values() for f in forms}
        return found or {word.lower()}

    tools["lemminflect"] = by_lemminflect
    try:
        stemmer = importlib.import_module("snowballstemmer").stemmer("english")
        tools["snowball"] = lambda w: {stemmer.stemWord(w.lower())}
    except ImportError:
        print("snowballstemmer is not installed: pip install snowballstemmer")
    return tools


def measure_lemmatisers() -> None:
    rows = [line.split("\t") for line in
            (ROOT / "tests" / "lint_corpus" / "word_forms.tsv").read_text().splitlines()
            if line and not line.startswith("#")]
    related = [(a, b) for a, b in rows if not b.startswith("!")]
    apart = [(a, b[1:]) for a, b in rows if b.startswith("!")]
    words = re.findall(r"[A-Za-z']+", " ".join(
        p.read_text() for p in (ROOT / "tests" / "lint_corpus").glob("*.yaml")))
    print(f"{'tool':<12} {'related':>9} {'false':>6} {'words/s':>9}  missed")
    for name, keys in _lemmatisers().items():
        hits = [a for a, b in related if keys(a) & keys(b)]
        false = [a for a, b in apart if keys(a) & keys(b)]
        for word in words[:50]:
            keys(word)  # load the data before timing
        started = time.perf_counter()
        for word in words:
            keys(word)
        rate = len(words) / (time.perf_counter() - started)
        missed = [a for a, _ in related if a not in hits]
        print(f"{name:<12} {len(hits):>4}/{len(related):<4} {len(false):>2}/{len(apart):<3} "
              f"{rate:>9.0f}  {' '.join(missed)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", action="store_true", help="list the failing cases")
    parser.add_argument("--time", action="store_true", help="print the time per case")
    parser.add_argument("--lemmatisers", action="store_true",
                        help="measure the lemmatisers on the corpus's word forms instead")
    args = parser.parse_args()
    if args.lemmatisers:
        measure_lemmatisers()
        return
    cases = load_corpus()
    results = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        for case in cases:
            results.append(run_case(case, Path(folder) / case.id))
    elapsed = time.perf_counter() - started
    counts = count(results)
    print(f"{'rule':<18} {'violations':>10} {'caught':>7} {'missed':>7} {'clean':>6} "
          f"{'false alarms':>13}")
    totals = [0, 0, 0, 0, 0]
    for rule in sorted(counts):
        c = counts[rule]
        print(f"{rule:<18} {c.violations:>10} {c.caught:>7} {c.missed:>7} {c.clean:>6} "
              f"{c.false_alarms:>13}")
        for i, value in enumerate((c.violations, c.caught, c.missed, c.clean, c.false_alarms)):
            totals[i] += value
    print(f"{'total':<18} {totals[0]:>10} {totals[1]:>7} {totals[2]:>7} {totals[3]:>6} "
          f"{totals[4]:>13}")
    if args.time:
        print(f"{len(cases)} cases filled and linted in {elapsed:.1f} s "
              f"({elapsed / len(cases) * 1000:.0f} ms a case)")
    if args.cases:
        for result in results:
            if not result.passed:
                what = "missed" if result.case.rule else "false alarm"
                fired = sorted({f"{f.rule}/{f.severity}" for f in result.findings})
                print(f"  {what:<11} {result.case.id}: {', '.join(fired) or '-'}")


if __name__ == "__main__":
    main()
