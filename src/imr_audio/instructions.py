"""What kind of instruction a spoken sentence gives: the pause rules depend on it.

An imagery instruction ("imagine ...", "picture ...", "see yourself ...", "let an image form")
asks the listener to turn inward and is followed by a long pause (clinical check 7); the length
fitter stretches the pauses after it first. An eyes-open grounding instruction ("notice five
things you can see", "look around the room") points at the real room: it is not imagery, and
needs only the time to look. "Notice" is imagery in a stabilisation script (the listener's eyes
are closed, turned inward) and grounding in a grounding script or when it names the room. It
sits low in the import graph so that the lint and the length fitter can both use it.
"""

from __future__ import annotations

import re

__all__ = ["instruction_kind", "is_imagery_instruction"]

_START = r"^(?!(?:whatever|if|as|when|while|because|even if)\b)(?:\S+\s+){0,3}?"
_IMAGINE = re.compile(
    _START + r"(imagine|picture|visuali[sz]e|envisage|envision|pretend|"
    r"see yourself|see the|bring to mind|call to mind|in your mind|in your imagination|"
    r"let (?:an?|the) (?:image|picture|scene|sense)|allow (?:an?|the) (?:image|picture)|"
    r"let yourself|allow yourself|"
    # thinking of, recalling or travelling to a place or a time in the mind; not "think of this
    # as", "remember that you can", "remember to breathe"
    r"think (?:of|about|back to) (?:an?|the|your|some|somewhere|someone|something|a time|how|"
    r"when)|recall|remember (?:an?|the|your|some|somewhere|someone|something|when|how)|"
    r"let your (?:mind|thoughts|imagination) (?:drift|wander|go|travel|float|take you|turn)|"
    r"take yourself|transport yourself)\b",
    re.IGNORECASE,
)
_ATTEND = re.compile(
    _START + r"(notice|become aware|be aware|sense|you might (?:see|hear|feel|sense|notice)|"
    r"see if you can|feel(?!\s+free\b))\b",  # "feel free to stop" is no instruction
    re.IGNORECASE,
)
_ROOM = re.compile(
    r"\b(?:the|this) room\b|\bwith your eyes open\b|\bthings? you can (?:see|touch|hear|smell|"
    r"taste)\b|\bin front of you\b|\blook around\b",
    re.IGNORECASE,
)


def instruction_kind(text: str, template_kind: str | None = None) -> str | None:
    """``imagery``, ``grounding`` or None for a sentence of a script of ``template_kind``.

    Imagining is imagery in every kind of script. Noticing is grounding in a grounding script
    (eyes open) and wherever it names the real room or things you can see; elsewhere it is
    imagery. Other sentences are no instruction.
    """
    if _IMAGINE.search(text):
        return "imagery"
    if _ATTEND.search(text) or _ROOM.search(text):
        if template_kind == "grounding" or _ROOM.search(text):
            return "grounding"
        return "imagery" if _ATTEND.search(text) else None
    return None


def is_imagery_instruction(text: str, template_kind: str | None = None) -> bool:
    """Whether a sentence asks the listener to imagine something (pacing rule 7)."""
    return instruction_kind(text, template_kind) == "imagery"
