"""The lint corpus: every planted violation is caught and no clean near-miss raises a finding.

The cases are in tests/lint_corpus/*.yaml (see its README); bench/lint_corpus_bench.py prints the
counts per rule. ``KNOWN_FAILURES`` lists the cases the lint does not pass yet: they are strict
expected failures, so a case that starts passing must be taken off the list.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lint_corpus_runner import load_corpus, run_case

# Held-out red-team cases (lint_corpus/redteam-heldout.yaml) the lint still misses after the
# fixes made on the development half; they stay strict expected failures rather than being
# tuned away (see tests/lint_corpus/README.md).
KNOWN_FAILURES: set[str] = {
    "rt-consolidation-left-in-cellar",
    "rt-avoid-wasp-stings-wasp",
    "rt-avoid-seagulls-gulls",
    "rt-avoid-going-on-a-boat",
    "rt-pacing-go-in-your-thoughts",
    # Round 2 (lint_corpus/redteam2-heldout.yaml): held-out cases still failing after the fixes
    # chosen on redteam2-dev.yaml. (The clean "Feel free to press pause", a false alarm, was
    # fixed in review after it had been seen: lint_corpus/review-round2.yaml.)
    "rt2h-family-my-old-man",
    "rt2h-pacing-imagine-no-pause",
    "rt2h-pacing-conjure-up",
    "rt2h-container-throw-away-key",
    # Round 3 (lint_corpus/redteam3-heldout.yaml): held-out cases still failing after the fixes
    # chosen on redteam3-dev.yaml, counted once after them.
    "rt3h-euphemism-shed-that-summer",
    "rt3h-euphemism-visits-at-night",
    "rt3h-field-body-location-scars",
    "rt3h-reassure-that-man-never",
    "rt3h-avoid-bees-honeycomb",
    "rt3h-avoid-dark-dusk",
    "rt3h-avoid-needles-injection",
    "rt3h-container-key-to-figure",
    # The lead's review of round 3 (lint_corpus/review-round3.yaml): a euphemism for what
    # happened at night in a safe-place value is only a warning ("another person's actions").
    "rv3-spare-room-where-he-came-in",
}

CASES = load_corpus()


@pytest.mark.parametrize("case", [
    pytest.param(c, id=c.id, marks=pytest.mark.xfail(strict=True, reason="not caught yet"))
    if c.id in KNOWN_FAILURES else pytest.param(c, id=c.id)
    for c in CASES
])
def test_corpus_case(case, tmp_path: Path) -> None:
    result = run_case(case, tmp_path / "case")
    fired = [str(f) for f in result.findings]
    if case.rule is None:
        assert not result.findings, fired
    else:
        assert result.caught, fired


def test_corpus_has_four_violations_per_rule_and_thirty_near_misses() -> None:
    rules = {c.rule for c in CASES if c.rule}
    for rule in rules:
        assert sum(c.rule == rule for c in CASES) >= 4, rule
    assert sum(c.rule is None for c in CASES) >= 30
    assert {c.id for c in CASES} >= KNOWN_FAILURES
