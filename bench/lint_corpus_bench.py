"""Caught, missed and false-alarm counts of the clinical lint on the corpus, per rule.

Run: ``.venv/bin/python bench/lint_corpus_bench.py [--cases] [--time]``. The corpus is
tests/lint_corpus/*.yaml (planted violations in therapists' wording and clean near-misses);
``--cases`` lists every case that fails (a miss or a false alarm) with the rules that fired;
``--time`` prints the lint's own time per case. Figures only; tests/test_lint_corpus.py asserts.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from lint_corpus_runner import count, load_corpus, run_case


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", action="store_true", help="list the failing cases")
    parser.add_argument("--time", action="store_true", help="print the time per case")
    args = parser.parse_args()
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
