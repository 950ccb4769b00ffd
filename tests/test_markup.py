"""The timeline: script markup turned into speech, pauses and sections, with line numbers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imr_audio.errors import ScriptMarkupError
from imr_audio.markup import parse_script
from imr_audio.timeline import Pacing, Pause, SectionStart, Speech, Timeline

SENTENCE = Pause(1.5, "sentence", 1)


def _kinds(timeline: Timeline) -> list[str]:
    return [e.kind if isinstance(e, Pause) else type(e).__name__ for e in timeline.events]


def test_paragraphs_and_sentences() -> None:
    timeline = parse_script("One here. Two there!\nStill two? Three…\n\nFour ends.\n")
    assert [s.text for s in timeline.speech] == [
        "One here.", "Two there!", "Still two?", "Three…", "Four ends."]
    assert _kinds(timeline) == ["Speech", "sentence", "Speech", "sentence", "Speech",
                                "sentence", "Speech", "paragraph", "Speech"]
    assert timeline.pause_s == 3 * 1.5 + 3.0
    assert timeline.word_count == 9


def test_pacing_sets_automatic_gaps() -> None:
    timeline = parse_script("A one. A two.\n\nB.", Pacing(sentence_gap_s=0.5, paragraph_gap_s=7))
    assert [e.duration_s for e in timeline.events if isinstance(e, Pause)] == [0.5, 7]


@pytest.mark.parametrize(("tag", "seconds"), [
    ("[pause 5s]", 5.0),
    ("[pause 1.5s]", 1.5),
    ("[pause 300ms]", 0.3),
    ("[pause 2.5ms]", 0.0025),
    ("[pause 4]", 4.0),
    ("[pause  3 s]", 3.0),
    ("[pause 600s]", 600.0),
])
def test_explicit_pause_replaces_automatic_gap(tag: str, seconds: float) -> None:
    for script in (f"First. {tag} Second.", f"First. {tag}\n\nSecond.", f"First.\n{tag}\nSecond."):
        timeline = parse_script(script)
        assert [s.text for s in timeline.speech] == ["First.", "Second."]
        pauses = [e for e in timeline.events if isinstance(e, Pause)]
        assert [p.kind for p in pauses] == ["explicit"], script
        assert pauses[0].duration_s == pytest.approx(seconds)


def test_consecutive_pauses_add_up() -> None:
    timeline = parse_script("Rest. [pause 2s][pause 500ms]\n[pause 1.5s]\n\n[pause 1s] Go.")
    assert timeline.events[1:] == (Pause(5.0, "explicit", 1), Speech("Go.", 4))


def test_pause_at_start_and_end_stand_alone() -> None:
    timeline = parse_script("[pause 2s] Hello. [pause 3s]")
    assert timeline.events == (Pause(2.0, "explicit", 1), Speech("Hello.", 1),
                               Pause(3.0, "explicit", 1))


def test_sections_attach_to_following_speech() -> None:
    timeline = parse_script("Before.\n\n[section Arriving]\nHere.\n[section The end]\n\nThere.")
    assert timeline.events == (
        Speech("Before.", 1),
        Pause(3.0, "paragraph", 4),
        SectionStart("Arriving", 3),
        Speech("Here.", 4, "Arriving"),
        Pause(3.0, "paragraph", 7),
        SectionStart("The end", 5),
        Speech("There.", 7, "The end"),
    )
    assert [s.title for s in timeline.sections] == ["Arriving", "The end"]


def test_speech_lines_across_multi_line_paragraph() -> None:
    script = "Title line\n\nA sentence\nthat wraps. Another\nthat also\nwraps. Last one."
    timeline = parse_script(script)
    assert [(s.text, s.line) for s in timeline.speech] == [
        ("Title line", 1),
        ("A sentence that wraps.", 3),
        ("Another that also wraps.", 4),
        ("Last one.", 6),
    ]


def test_escaped_brackets_and_backslash_are_text() -> None:
    timeline = parse_script(r"Say \[pause 3s\] and a\\b. Done.")
    assert [s.text for s in timeline.speech] == [r"Say [pause 3s] and a\b.", "Done."]
    assert _kinds(timeline) == ["Speech", "sentence", "Speech"]


def test_closing_quote_stays_with_its_sentence() -> None:
    # Regression: a closing quote or bracket after a sentence end was dropped from the text.
    timeline = parse_script('She said "rest." Then (slowly.) "Done?"\nNext.')
    assert [s.text for s in timeline.speech] == [
        'She said "rest."', "Then (slowly.)", '"Done?"', "Next."]


@pytest.mark.parametrize(("script", "line", "needle"), [
    ("Fine.\n\nThen [breathe 4] here.", 3, "unknown markup [breathe]"),
    ("Fine.\nStill [pause 3s", 2, "never closed"),
    ("Fine.\nA [pause [pause 3s]", 2, "never closed"),
    ("Fine.\nFine.\nStray ] here.", 3, "never opened"),
    ("Fine. [pause 0s]", 1, "pause must be longer than 0"),
    ("Fine.\n[pause 0ms]", 2, "pause must be longer than 0"),
    ("Fine.\n\n\n[pause 1000s]", 4, "pause must be longer than 0"),
    ("Fine. [pause 600001ms]", 1, "pause must be longer than 0"),
    ("Fine. [pause -2s]", 1, "pause must be longer than 0"),
    ("Fine. [section]", 1, "unknown markup [section]"),
    ("Fine. []", 1, "unknown markup []"),
])
def test_markup_errors_name_script_line(script: str, line: int, needle: str) -> None:
    with pytest.raises(ScriptMarkupError) as info:
        parse_script(script)
    message = str(info.value)
    assert message.startswith(f"script line {line}: ")
    assert needle in message


@pytest.mark.parametrize("script", ["", "\n\n  \n", "[pause 2s]", "[section Only]", "... — !"])
def test_script_without_words_is_an_error(script: str) -> None:
    with pytest.raises(ScriptMarkupError, match="no text to speak"):
        parse_script(script)


_MARKUP_ISH = st.lists(st.sampled_from([
    "[", "]", "\\", "[pause ", "[section ", "3s]", "500ms]", "0s]", " ", "\n", "\n\n",
    "word", "Zoë", "王芳", ".", "?", '"', "\u2028", "\r\n", "\t", "…",
])).map("".join)


@given(st.one_of(st.text(), _MARKUP_ISH))
def test_parse_never_fails_unexpectedly(script: str) -> None:
    try:
        timeline = parse_script(script)
    except ScriptMarkupError:
        return
    assert isinstance(timeline, Timeline)
    assert timeline.word_count >= 0
    assert timeline.speech
    assert all(s.line >= 1 for s in timeline.speech)


@pytest.mark.parametrize("name", ["Zoë", "José", "Łukasz", "王芳"])
def test_unicode_names_survive_into_speech(name: str) -> None:
    timeline = parse_script(f"Hello, {name}.\n\n{name}, you can rest now.")
    assert [s.text for s in timeline.speech] == [f"Hello, {name}.", f"{name}, you can rest now."]
    assert timeline.word_count == 2 + 5
