"""The lint corpus: every planted violation is caught and no clean near-miss raises a finding.

The cases are in tests/lint_corpus/*.yaml (see its README); bench/lint_corpus_bench.py prints the
counts per rule. ``KNOWN_FAILURES`` lists the cases the lint does not pass yet: they are strict
expected failures, so a case that starts passing must be taken off the list.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lint_corpus_runner import load_corpus, run_case

# The red-team cases (lint_corpus/redteam-*.yaml) the lint did not pass when they were written.
KNOWN_FAILURES: set[str] = {
    "rt-safe-place-hide-from-him-drinking",
    "rt-safe-place-sight-hospital-after-crash",
    "rt-figure-what-he-made-you-do",
    "rt-consolidation-hand-over-mouth",
    "rt-new-dream-car-follows",
    "rt-own-stabilisation-where-it-happened",
    "rt-container-belt-he-used",
    "rt-safe-place-before-soldiers-came",
    "rt-wrapper-negated-stop",
    "rt-avoid-being-underwater-dive",
    "rt-avoid-smell-of-smoke-woodsmoke",
    "rt-avoid-spiders-and-cobwebs",
    "rt-id-email-spelled-out",
    "rt-id-iso-date",
    "rt-id-name-with-particle",
    "rt-id-house-number-no-street-type",
    "rt-id-postcode-lower-case",
    "rt-pacing-think-of-a-place",
    "rt-pacing-let-your-mind-drift",
    "rt-clean-did-nothing-wrong",
    "rt-clean-wrapper-stop-it",
    "rt-clean-amalfi-coast",
    "rt-safe-place-nobody-could-find-me",
    "rt-safe-place-sounds-sirens-accident",
    "rt-figure-came-into-your-room",
    "rt-consolidation-left-in-cellar",
    "rt-new-dream-something-keeps-pace",
    "rt-own-grounding-that-night",
    "rt-container-garage-lock-me-in",
    "rt-safe-place-before-shelling",
    "rt-wrapper-no-need-to-open-eyes",
    "rt-wrapper-feet-negated",
    "rt-avoid-wasp-stings-wasp",
    "rt-avoid-seagulls-gulls",
    "rt-avoid-snakes-or-lizards",
    "rt-avoid-going-on-a-boat",
    "rt-id-email-at-dot-brackets",
    "rt-id-iso-date-slashes",
    "rt-id-name-with-de-la",
    "rt-id-postcode-lower-case-2",
    "rt-pacing-remember-a-time",
    "rt-pacing-go-in-your-thoughts",
    "rt-clean-you-were-so-brave",
    "rt-clean-wrapper-feet-resting",
    "rt-clean-sahara-desert",
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
