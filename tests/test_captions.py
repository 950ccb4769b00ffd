"""Captions (.vtt): where cues are cut, how they are laid out and timed (issue #14, item 1).

The rules are checked by a reader of our own (below), not by the splitter's word lists: on
tricky sentences, on every shipped template filled with every example client that fits it,
on a real render's file, and against the pauses of the real speech engine.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from imr_audio.authoring import validate_profile
from imr_audio.errors import ClientProfileError
from imr_audio.mix import Placement
from imr_audio.profile import load_client_profile
from imr_audio.resources import data_dir
from imr_audio.script import prepare
from imr_audio.timeline import Pause, Speech, Tone
from imr_audio.track import RenderResult
from imr_audio.transcript import webvtt_captions
from imr_audio.voice.registry import EngineSet
from imr_audio.workspace import Workspace

LINE_CHARS = 42
MIN_S = 1.0
MAX_S = 7.0
READING_CPS = 17.0
# Words after which a caption must not be cut: the phrase goes on in the next cue or line.
ARTICLES = {"a", "an", "the", "this", "these", "those", "your", "my", "his", "her", "its",
            "our", "their", "each", "every", "some", "any", "no"}
PREPOSITIONS = {"about", "across", "along", "around", "at", "by", "for", "from", "in", "into",
                "of", "on", "onto", "over", "through", "to", "towards", "under", "with",
                "within", "without"}
CONJUNCTIONS = {"and", "but", "or", "so", "because", "while", "when", "if", "that", "which",
                "who", "until", "as"}
LEANING = {"never", "not", "can", "will", "is", "are", "you", "let", "very"}
DANGLING = ARTICLES | PREPOSITIONS | CONJUNCTIONS | LEANING


# --- a reader of our own ----------------------------------------------------------------------


def _seconds(stamp: str) -> float:
    hours, minutes, rest = stamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(rest)


def read_vtt(text: str) -> list[tuple[float, float, list[str]]]:
    """(start, end, lines) of every cue, checking the file's layout on the way."""
    blocks = text.strip("\n").split("\n\n")
    assert blocks[0] == "WEBVTT"
    cues = []
    stamp = r"(\d\d:\d\d:\d\d\.\d\d\d)"
    for number, block in enumerate(blocks[1:], start=1):
        lines = block.split("\n")
        assert lines[0] == str(number)
        match = re.fullmatch(f"{stamp} --> {stamp}", lines[1])
        assert match, lines[1]
        body = [line.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
                for line in lines[2:]]
        cues.append((_seconds(match.group(1)), _seconds(match.group(2)), body))
    return cues


def _bare(word: str) -> str:
    return word.strip("\"'“”‘’()").lower()


def _ends_clause(word: str) -> bool:
    return word.rstrip("\"'”’)")[-1:] in {",", ";", ":", ".", "!", "?", "—", "…"}


def _clause_around(words: Sequence[str], cut: int) -> tuple[int, int]:
    """Words of the clause before and after a cut (before word ``cut``): to punctuation."""
    first = cut - 1
    while first > 0 and not _ends_clause(words[first - 1]):
        first -= 1
    stop = cut
    while stop < len(words) and not _ends_clause(words[stop]):
        stop += 1
    return cut - first, min(stop + 1, len(words)) - cut


def cut_problems(words: Sequence[str], cut: int, between_cues: bool) -> list[str]:
    """What is wrong with cutting ``words`` before word ``cut`` (a cue or a line break)."""
    last = words[cut - 1]
    if _ends_clause(last):
        return []
    problems = []
    if _bare(last) in DANGLING and not (  # a particle: "in | and out", "carry on | in the"
        _bare(last) in PREPOSITIONS and _bare(words[cut]) in CONJUNCTIONS | PREPOSITIONS - {"of"}
    ):
        problems.append(f"ends on {last!r}")
    if between_cues:
        before, after = _clause_around(words, cut)
        clause = " ".join(words[cut - before : cut + after])
        if len(clause) <= LINE_CHARS:
            problems.append(f"cuts the short phrase {clause!r}")
        if min(before, after) < 3:
            problems.append(f"leaves a fragment of {clause!r}")
    return problems


def check_captions(vtt: str, placements: Sequence[Placement]) -> list[tuple[float, float, str]]:
    """Check every rule on ``vtt``, made from ``placements``; return (start, end, text)."""
    cues = read_vtt(vtt)
    # The text, in order, is each event's text: no word lost, moved or respelled.
    assert [word for _, _, lines in cues for line in lines for word in line.split()] == \
        [word for p in placements for word in p.speech.text.split()]
    by_cue = iter(cues)
    for placement in placements:  # group the cues by event
        words = placement.speech.text.split()
        mine, count = [], 0
        while count < len(words):
            cue = next(by_cue)
            mine.append(cue)
            count += sum(len(line.split()) for line in cue[2])
        assert count == len(words), "a cue spans two events"
        assert mine[0][0] == pytest.approx(placement.start_s, abs=0.001)
        spoken_end = placement.start_s + placement.duration_s
        assert mine[-1][1] >= min(spoken_end, _next_start(placements, placement)) - 0.001
        position = 0
        for index, (start, end, lines) in enumerate(mine):
            assert 1 <= len(lines) <= 2, lines
            assert all(0 < len(line) <= LINE_CHARS or " " not in line for line in lines), lines
            if len(lines) == 2:
                assert len(" ".join(lines)) > LINE_CHARS, f"two lines where one holds: {lines}"
                top = position + len(lines[0].split())
                assert not cut_problems(words, top, between_cues=False), lines
            position += sum(len(line.split()) for line in lines)
            if index < len(mine) - 1:
                problems = cut_problems(words, position, between_cues=True)
                assert not problems, (problems, lines)
            if placement.speech.slot_s is None:
                assert end - start <= MAX_S + 0.001, lines
    flat = [(start, end, " ".join(lines)) for start, end, lines in cues]
    for (start, end, text), following in zip(flat, [*flat[1:], None]):
        assert start < end, text
        if following is not None:
            assert end <= following[0] + 0.0005, (text, following[2])  # in order, no overlap
            assert start < following[0]
        room = following[0] - start if following is not None else np.inf
        assert end - start >= min(MIN_S, room) - 0.001, text
    return flat


def _next_start(placements: Sequence[Placement], placement: Placement) -> float:
    later = [p.start_s for p in placements if p.start_s > placement.start_s]
    return min(later, default=np.inf)


# --- tricky sentences ---------------------------------------------------------------------------


def _one(text: str, duration_s: float, slot_s: float | None = None) -> list[str]:
    """The cues (lines joined by " / ") of one event alone, checked."""
    placement = Placement(Speech(text, 1, slot_s=slot_s), 10.0, duration_s)
    return [" / ".join(read_vtt(webvtt_captions([placement]))[i][2])
            for i in range(len(check_captions(webvtt_captions([placement]), [placement])))]


def _cue_ends(cues: list[str]) -> list[str]:
    return [cue.split()[-1] for cue in cues]


def test_the_issue_sentence_is_cut_at_its_commas_never_after_and_never() -> None:
    # Issue #14: a cue ended "...safe to rest, and never" and the next began "while driving".
    cues = _one("Please listen only when you are somewhere safe to rest, and never while "
                "driving, or while doing anything that needs your full attention.", 11.5)
    assert len(cues) >= 2
    assert set(_cue_ends(cues)) <= {"rest,", "driving,", "attention."}
    assert not any(cue.endswith("never") for cue in cues)


def test_a_sentence_that_fits_is_one_cue_on_as_few_lines_as_it_needs() -> None:
    assert _one("Hello, Sam.", 0.6) == ["Hello, Sam."]
    assert _one("You are in charge of this recording.", 2.9) == \
        ["You are in charge of this recording."]
    two = _one("You might notice the places where your body is supported.", 4.0)
    assert two == ["You might notice the places / where your body is supported."]


def test_clauses_become_cues_and_lines_break_at_commas() -> None:
    cues = _one("For the next few minutes, there is nothing you need to do, and nowhere else "
                "you need to be.", 7.8)
    assert len(cues) == 2
    assert set(_cue_ends(cues)) <= {"minutes,", "do,", "be."}
    for cue in cues:
        if " / " in cue:
            assert cue.split(" / ")[0][-1] == ","


def test_sentence_ends_come_first() -> None:
    cues = _one("This is your time to rest, and to let the day go. Nothing else needs your "
                "attention now.", 7.5)
    assert cues == ["This is your time to rest, / and to let the day go.",
                    "Nothing else needs your attention now."]
    # Two sentences too short to be read apart stay together.
    assert _one("Breathe in. Let go.", 1.4) == ["Breathe in. Let go."]


def test_a_long_clause_is_cut_before_a_conjunction_or_preposition_not_after() -> None:
    text = ("Let the warm light move slowly down through your shoulders and your arms and into "
            "the tips of your fingers until they feel soft and heavy and completely at rest.")
    cues = _one(text, 14.0)
    assert len(cues) >= 2
    for cue in cues[1:]:
        assert _bare(cue.split()[0]) in CONJUNCTIONS | PREPOSITIONS, cues


def test_a_list_is_cut_between_its_items() -> None:
    cues = _one("Let your body settle into whatever is holding it, the chair, the bed, or the "
                "floor.", 8.0)
    assert all(cue[-1] in ",." for cue in cues)


def test_closing_quotes_particles_and_long_words() -> None:
    quoted = _one('"You are doing the best you can, and you deserve kindness." You can say it '
                  "to yourself whenever you need to.", 9.0)
    assert quoted[0].endswith('kindness."')
    assert _one("Breathe in and out slowly.", 2.0) == ["Breathe in and out slowly."]
    word = "a" * 50
    long = _one(f"Now say this word, {word}, softly to yourself.", 6.0)
    assert f"{word}," in long  # a word longer than a line stands alone


def test_a_breath_cue_stays_up_for_its_phase_and_short_speech_for_the_minimum() -> None:
    placements = [Placement(Speech("Hi & <you>.", 1), 8.0, 0.4),
                  Placement(Speech("Breathe in", 2, slot_s=4.0), 9.0, 0.6),
                  Placement(Speech("And out", 2, slot_s=6.0), 13.0, 0.5)]
    vtt = webvtt_captions(placements)
    assert "Hi &amp; &lt;you&gt;." in vtt
    cues = check_captions(vtt, placements)
    assert cues == [(8.0, 9.0, "Hi & <you>."), (9.0, 13.0, "Breathe in"),
                    (13.0, 19.0, "And out")]


def test_long_speech_is_split_into_cues_of_at_most_seven_seconds() -> None:
    long = Speech("Notice the gentle rise and fall of your chest, " * 4 + "and rest.", 1)
    placements = (Placement(long, 9.0, 18.0), Placement(Speech("Good.", 2), 28.5, 0.5))
    cues = check_captions(webvtt_captions(placements), placements)
    assert len(cues) >= 4
    assert cues[0][0] == 9.0
    assert cues[-2][1] == pytest.approx(28.0)  # 1 s after the speech, the next cue allowing
    assert all(end - start <= MAX_S for start, end, _ in cues)


def test_captions_are_the_same_bytes_for_the_same_placements() -> None:
    placements = [Placement(Speech("When you are ready, let a calm place of your own begin to "
                                   "appear in your imagination.", 1), 8.0, 7.5)]
    assert webvtt_captions(placements) == webvtt_captions(list(placements))


# --- every shipped template -------------------------------------------------------------------


def _template_clients() -> Iterator[tuple[str, Path]]:
    """Each shipped template with each example client that holds what it needs."""
    templates = Workspace.from_environment().templates
    known = templates.known_fields()
    for template_id in templates.ids():
        spec = templates.load(template_id)
        for path in sorted(data_dir("examples/clients").glob("*.yaml")):
            try:
                validate_profile(spec, load_client_profile(path, known))
            except ClientProfileError:
                continue
            yield template_id, path


def estimated_placements(template_id: str, client: Path) -> list[Placement]:
    """Where the speech would sit, timed by the voice's measured speaking rate (no audio)."""
    workspace = Workspace.from_environment()
    prepared = prepare(workspace, template_id, workspace.load_profile(client))
    wpm = prepared.voice_profile.spoken_wpm
    clock, placements = prepared.lead_in_s, []
    for event in prepared.timeline.events:
        if isinstance(event, Speech):
            spoken_s = event.word_count / (wpm * event.rate_factor) * 60.0
            if event.slot_s is not None:
                spoken_s = min(spoken_s, event.slot_s)
            placements.append(Placement(event, clock, spoken_s))
            clock += event.slot_s or spoken_s
        elif isinstance(event, (Pause, Tone)):
            clock += event.duration_s
    return placements


PAIRS = list(_template_clients())


def test_every_shipped_template_has_an_example_client() -> None:
    assert {template for template, _ in PAIRS} == set(Workspace.from_environment().templates.ids())


@pytest.mark.parametrize(("template_id", "client"), PAIRS,
                         ids=[f"{t}-{c.stem}" for t, c in PAIRS])
def test_every_cue_boundary_of_a_shipped_template_is_natural(template_id: str,
                                                             client: Path) -> None:
    placements = estimated_placements(template_id, client)
    cues = check_captions(webvtt_captions(placements), placements)
    for start, end, text in cues:
        assert len(text) / (end - start) <= READING_CPS + 0.1, text
    assert len(cues) >= len(placements)


# --- real audio ---------------------------------------------------------------------------------


def test_a_real_renders_captions_read_back(mini_render: RenderResult) -> None:
    vtt = Path(f"{mini_render.path}.vtt").read_text(encoding="utf-8")
    cues = check_captions(vtt, mini_render.placements)
    assert cues[-1][1] <= mini_render.duration_s
    # The opening's safety sentence (issue #14) is cut, but never between "never" and "while".
    first = next(i for i, (_, _, text) in enumerate(cues) if text.startswith("Please listen"))
    assert not cues[first][2].endswith("attention.")
    assert any("never while driving" in text for _, _, text in cues[first : first + 3])


def _pauses(samples: np.ndarray, rate: int) -> list[tuple[float, float]]:
    """Silences of 80 ms or more inside a clip: 30 ms windows 35 dB under its loudest."""
    hop, size = int(0.01 * rate), int(0.03 * rate)
    level = np.array([np.sqrt(np.mean(samples[i : i + size] ** 2) + 1e-18)
                      for i in range(0, len(samples) - size, hop)])
    quiet = 20 * np.log10(level) < 20 * np.log10(level.max()) - 35
    found, start = [], None
    for index, still in enumerate([*quiet, False]):
        if still and start is None:
            start = index
        elif not still and start is not None:
            if index - start >= 8:
                found.append((start * 0.01, index * 0.01 + 0.03))
            start = None
    return found


def test_a_cue_inside_a_sentence_starts_where_the_real_voice_pauses() -> None:
    from imr_audio.voice import SpeechRequest

    workspace = Workspace.from_environment()

    texts = [
        "Please listen only when you are somewhere safe to rest, and never while driving, "
        "or while doing anything that needs your full attention.",
        "For the next few minutes, there is nothing you need to do, and nowhere else you "
        "need to be.",
        "Take your time to arrive, and perhaps find a spot where you would like to be, "
        "sitting, standing, or lying down, whatever feels right.",
    ]
    with EngineSet(workspace.engines) as engines:
        engine, voice = engines.resolve(workspace.voices.load("calm"))
        clips = engine.synthesize([SpeechRequest(t, 1, rate_wpm=voice.rate_wpm) for t in texts],
                                  voice)
    checked = 0
    for text, clip in zip(texts, clips, strict=True):
        samples = np.asarray(clip.samples, dtype=np.float64)
        duration_s = len(samples) / clip.sample_rate_hz
        placement = Placement(Speech(text, 1), 0.0, duration_s)
        cues = check_captions(webvtt_captions([placement]), [placement])
        pauses = _pauses(samples, clip.sample_rate_hz)
        for start, _, _ in cues[1:]:
            nearest = min(max(a - start, start - b, 0.0) for a, b in pauses)
            assert nearest <= 0.3, (engine.name, start, pauses)
            checked += 1
    assert checked >= 3
