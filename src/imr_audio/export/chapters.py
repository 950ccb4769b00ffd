"""Chapters from a script's sections: where each section's first words fall in the track."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from imr_audio.export.settings import Chapter
from imr_audio.timeline import SectionStart, Speech

if TYPE_CHECKING:  # mix imports the voice package, which imports export: types only
    from imr_audio.mix import Placement
    from imr_audio.timeline import Timeline

__all__ = ["section_chapters"]


def section_chapters(
    timeline: Timeline, placements: Sequence[Placement], duration_s: float
) -> list[Chapter]:
    """One chapter per section of ``timeline``, in time order, covering the whole track.

    A section starts where the first speech after its :class:`SectionStart` is placed; the
    first chapter starts at 0 (the bed's lead-in belongs to it) and each ends where the next
    begins, the last at ``duration_s``. A section without speech of its own (nothing, or only
    breath tones, before the next section) gets no chapter: the next section's starts there.
    ``placements`` are those of the timeline's speech events, in order.
    """
    starts: list[tuple[str, float]] = []
    pending: list[str] = []
    placed = iter(placements)
    for event in timeline.events:
        if isinstance(event, SectionStart):
            pending.append(event.title)
        elif isinstance(event, Speech):
            placement = next(placed)
            if pending:
                starts.append((pending[-1], placement.start_s))
                pending = []
    if not starts:
        return []
    starts[0] = (starts[0][0], 0.0)
    ends = [start for _, start in starts[1:]] + [duration_s]
    return [
        Chapter(title, start, end)
        for (title, start), end in zip(starts, ends, strict=True)
        if end > start
    ]
