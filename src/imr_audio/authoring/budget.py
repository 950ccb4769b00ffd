"""A budget for filling one template: time and text, checked as it goes, so a runaway loop stops.

A template is code a therapist may write. Jinja's sandbox keeps it away from Python's
internals but not from a loop of ten billion steps (``range`` nested in ``range``), a string
multiplied a billion times or ``"x".ljust(10**9)``. The environment of
:mod:`imr_audio.authoring.environment` checks this budget at every ``range`` step, every call,
every ``*`` and ``**``, and every filter's numbers, and the text is collected chunk by chunk
against its size. The budget travels in the render's own context (``_imr_budget``), one per
fill; nothing is kept between fills.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from typing import Any

import jinja2

from imr_audio.errors import TemplateBudgetError

__all__ = ["BUDGET_KEY", "MAX_FILL_S", "MAX_SCRIPT_CHARS", "Budget", "budgeted_filter"]

MAX_FILL_S = 5.0
"""Longest a template may take to fill, in seconds (a shipped one takes a few milliseconds)."""
MAX_SCRIPT_CHARS = 1_000_000
"""Most characters a filled script may hold (a 3-hour script is about 150,000)."""
BUDGET_KEY = "_imr_budget"
"""Where the budget stands in a render's context."""


class Budget:
    """What one fill may still spend; raises :class:`TemplateBudgetError` when it is spent."""

    def __init__(self, where: str, max_s: float = MAX_FILL_S,
                 max_chars: int = MAX_SCRIPT_CHARS) -> None:
        """A budget for the fill of ``where`` (a template id, for messages)."""
        self.where = where
        self.max_s = max_s
        self.max_chars = max_chars
        self._deadline = time.monotonic() + max_s
        self._steps = 0

    def tick(self) -> None:
        """One more step: refuse once the time is spent (checked every 256 steps)."""
        self._steps += 1
        if self._steps & 0xFF == 0 and time.monotonic() > self._deadline:
            raise TemplateBudgetError(
                f"{self.where}: filling it took longer than {self.max_s:g} s "
                "(a loop that runs too long?)"
            )

    def size(self, chars: int) -> None:
        """Refuse a text (or a value about to be made) of more than ``max_chars``."""
        if chars > self.max_chars:
            raise TemplateBudgetError(
                f"{self.where}: filling it makes more than {self.max_chars} characters of text "
                "(a loop or a repeated string too large?)"
            )

    def numbers(self, values: tuple[Any, ...]) -> None:
        """Refuse a size argument (``ljust(10**9)``, ``|center(10**9)``) over the text budget."""
        self.tick()
        for value in values:
            if isinstance(value, int) and not isinstance(value, bool) and abs(value) > (
                    self.max_chars):
                self.size(abs(value))

    def range(self, *args: int) -> Iterator[int]:
        """``range`` that spends a step for each number it gives."""
        for number in range(*args):
            self.tick()
            yield number

    def collect(self, chunks: Iterator[str]) -> str:
        """The template's text from its chunks, within the size and the time."""
        parts: list[str] = []
        total = 0
        for chunk in chunks:
            total += len(chunk)
            self.size(total)
            self.tick()
            parts.append(chunk)
        return "".join(parts)

    def binop(self, operator: str, left: Any, right: Any) -> None:
        """Refuse ``*`` and ``**`` whose result would be over the budget."""
        self.tick()
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(times, int):
                    self.size(len(seq) * max(times, 0))
        elif (operator == "**" and isinstance(left, int) and isinstance(right, int)
              and abs(left) > 1 and right > 64):
            self.size(self.max_chars + 1)  # a number of thousands of digits


def budget_of(context: jinja2.runtime.Context) -> Budget | None:
    """The budget of the fill that ``context`` belongs to (None outside a budgeted fill)."""
    budget = context.get(BUDGET_KEY)
    return budget if isinstance(budget, Budget) else None


def budgeted_filter(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` (a Jinja filter) refusing a size argument over the text budget.

    The budget is the one of the fill in progress; filters get no context, so the check is
    against the largest text any fill may make.
    """
    @functools.wraps(function)
    def checked(*args: Any, **kwargs: Any) -> Any:
        Budget("a template filter").numbers((*args[1:], *kwargs.values()))
        return function(*args, **kwargs)

    return checked
