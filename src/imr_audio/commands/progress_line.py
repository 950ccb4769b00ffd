"""The progress line the commands draw on stderr while the library works.

On a terminal it is one line redrawn in place: the stage, a bar and percentage of that stage,
and an estimate of the stage's time left::

    mix       [##########--------------]  41%  eta 0:12

Each redraw returns to the start of the line and pads over whatever the last one left (no
stray characters), at most every :data:`REDRAW_S` seconds unless the stage changed; the line
never grows past the terminal's width. When stderr is not a terminal (piped, a log file, a
CI job) it prints a plain line instead, at each stage change and then every
:data:`PLAIN_EVERY_S` seconds while the stage moves::

    mix 41% (eta 0:12)

The estimate is the stage's own: the time spent in it so far, scaled by what is left, shown
once the stage is :data:`ETA_AFTER` done and has run :data:`ETA_AFTER_S` seconds. A stage
whose fraction falls (a second synthesis pass, an encoding done again) starts its clock
again. The clock and the stream are parameters, so the output is known exactly in tests.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from typing import TextIO

from imr_audio.progress import Progress

__all__ = ["ETA_AFTER", "ETA_AFTER_S", "PLAIN_EVERY_S", "REDRAW_S", "ProgressLine",
           "format_clock"]

REDRAW_S = 0.1
"""Shortest time between two redraws of the terminal line within a stage, in seconds."""
PLAIN_EVERY_S = 5.0
"""Time between two plain lines within a stage, in seconds."""
ETA_AFTER = 0.02
"""Fraction of a stage done before its time left is estimated."""
ETA_AFTER_S = 1.0
"""Time spent in a stage before its time left is estimated, in seconds."""
_BAR = 24
_LABEL = 9


def format_clock(seconds: float) -> str:
    """``m:ss``, or ``h:mm:ss`` from an hour (to the nearest second)."""
    whole = max(0, int(seconds + 0.5))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class ProgressLine:
    """Draws library :class:`Progress` on a stream: a redrawn line, or plain lines when piped.

    Call it with each report; call :meth:`finish` once the work is over (or failed), or use it
    as a context manager (``with ProgressLine() as bar:``), which finishes it on the way out.
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        terminal: bool | None = None,
        width: int | None = None,
    ) -> None:
        """Draw on ``stream`` (stderr), timing with ``clock`` (seconds).

        ``terminal`` (default: whether the stream is one) chooses the redrawn line;
        ``width`` is the terminal's width in characters (default: asked at each redraw).
        """
        self._stream = stream if stream is not None else sys.stderr
        self._terminal = self._stream.isatty() if terminal is None else terminal
        self._clock = clock
        self._width = width
        self._stage: str | None = None
        self._started = 0.0
        self._fraction = 0.0
        self._shown = 0  # characters on the terminal line now
        self._drawn_at = -float("inf")
        self._printed: tuple[str, int] | None = None  # last plain line: stage and percent
        self._printed_at = -float("inf")

    def __call__(self, progress: Progress) -> None:
        """Take one report; redraw or print if it is time to."""
        now = self._clock()
        fraction = progress.fraction
        new_stage = progress.stage != self._stage
        if new_stage or fraction < self._fraction:
            self._stage, self._started = progress.stage, now
        self._fraction = fraction
        if self._terminal:
            if new_stage or fraction >= 1.0 or now - self._drawn_at >= REDRAW_S:
                self._draw(self._terminal_text(now))
                self._drawn_at = now
        elif new_stage or now - self._printed_at >= PLAIN_EVERY_S:
            self._print_plain(now)

    def __enter__(self) -> ProgressLine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.finish()

    def finish(self) -> None:
        """Clear the terminal line; when piped, print the last state if it was not printed."""
        if self._terminal:
            if self._shown:
                self._write("\r" + " " * self._shown + "\r")
                self._shown = 0
        elif self._stage is not None:
            self._print_plain(self._clock())

    # --- drawing --------------------------------------------------------------------------

    def _eta(self, now: float) -> str | None:
        """The stage's time left as ``m:ss``, or None before it can be estimated."""
        spent = now - self._started
        if self._fraction >= 1.0 or self._fraction < ETA_AFTER or spent < ETA_AFTER_S:
            return None
        return format_clock(spent * (1.0 - self._fraction) / self._fraction)

    def _percent(self) -> int:
        return int(self._fraction * 100)

    def _terminal_text(self, now: float) -> str:
        filled = int(_BAR * self._fraction)
        text = f"{self._stage or '':<{_LABEL}} [{'#' * filled}{'-' * (_BAR - filled)}] " \
               f"{self._percent():3d}%"
        eta = self._eta(now)
        if eta is not None:
            text += f"  eta {eta}"
        width = self._width or shutil.get_terminal_size(fallback=(80, 24)).columns
        return text[: max(width - 1, 1)]  # a line as wide as the terminal would wrap

    def _draw(self, text: str) -> None:
        """Replace the terminal line by ``text``, padding over a longer one."""
        self._write("\r" + text + " " * max(self._shown - len(text), 0))
        self._shown = len(text)

    def _print_plain(self, now: float) -> None:
        state = (self._stage or "", self._percent())
        if state == self._printed:
            return
        eta = self._eta(now)
        self._write(f"{state[0]} {state[1]}%" + (f" (eta {eta})" if eta else "") + "\n")
        self._printed, self._printed_at = state, now

    def _write(self, text: str) -> None:
        self._stream.write(text)
        self._stream.flush()
