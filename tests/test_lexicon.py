"""Pronunciations: the lexicon's matching rules, its files, and where it is (not) applied."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
import yaml

from imr_audio.audio import Clip
from imr_audio.clipstore import ClipStore, StoredClip
from imr_audio.errors import ClientProfileError, VoiceProfileError
from imr_audio.markup import parse_script
from imr_audio.mix import MixSettings, place_speech
from imr_audio.profile import load_client_profile
from imr_audio.progress import ProgressCallback
from imr_audio.resources import data_dir
from imr_audio.speech import Speaker, _synthesize
from imr_audio.voice import Pyttsx3Engine, SpeechRequest, VoiceSettings
from imr_audio.voice.lexicon import (
    Lexicon,
    load_lexicon,
)
from imr_audio.voice.profiles import VoiceLibrary

VOICE = VoiceSettings(engine="pyttsx3", voice_id="gmw/en", rate_wpm=130)


def lex(**entries: str) -> Lexicon:
    return Lexicon.from_mapping(entries)


def test_whole_words_only() -> None:
    lexicon = Lexicon.from_mapping({"Zoë": "Zoh-ee"})
    assert lexicon.apply("Zoë looks at the Zoëtrope.") == "Zoh-ee looks at the Zoëtrope."
    assert lexicon.apply("Zoë's garden, (Zoë)") == "Zoh-ee's garden, (Zoh-ee)"
    assert lexicon.apply("AZoë") == "AZoë"


def test_lower_case_entry_matches_any_capitalisation_and_keeps_the_respelling() -> None:
    lexicon = Lexicon.from_mapping({"niamh": "Neeve"})
    assert lexicon.apply("niamh Niamh NIAMH nIaMh") == "Neeve Neeve Neeve Neeve"


def test_entry_with_capitals_matches_only_that_spelling() -> None:
    lexicon = Lexicon.from_mapping({"Rose": "Roze"})
    assert lexicon.apply("Rose smells a rose, ROSE.") == "Roze smells a rose, ROSE."


def test_exact_case_entry_before_lower_case_one() -> None:
    lexicon = Lexicon.from_mapping({"rose": "flower", "Rose": "Roze"})
    assert lexicon.apply("Rose and rose and ROSE") == "Roze and flower and flower"


@pytest.mark.parametrize("reverse", [False, True])
def test_longest_entry_first_whatever_the_order(reverse: bool) -> None:
    entries = [("close", "klohss"), ("close your", "cloze your")]
    lexicon = Lexicon(tuple(reversed(entries)) if reverse else tuple(entries))
    assert lexicon.apply("Close your eyes; stay close.") == "cloze your eyes; stay klohss."


def test_multi_word_entry_spans_any_whitespace_but_not_punctuation() -> None:
    lexicon = Lexicon.from_mapping({"close  your": "cloze your"})  # spaces normalised
    assert lexicon.apply("close   your\teyes") == "cloze your\teyes"
    assert lexicon.apply("stay close, your friend") == "stay close, your friend"


def test_empty_lexicon_changes_nothing() -> None:
    assert Lexicon().apply("Hello, Zoë.") == "Hello, Zoë."


def test_client_entries_win_over_global_ones() -> None:
    shipped = Lexicon.from_mapping({"niamh": "Neeve", "siân": "Shahn"})
    client = Lexicon.from_mapping({"Niamh": "Nee-av"})
    merged = shipped.merged(client)
    # The client's exact spelling replaces the shipped any-case entry for the same word.
    assert merged.apply("Niamh, NIAMH and Siân") == "Nee-av, NIAMH and Shahn"


VOICES = VoiceLibrary(data_dir("voices"))
speech_lexicon = VOICES.speech_lexicon


def test_speech_lexicon_merges_the_shipped_one_with_the_clients() -> None:
    assert speech_lexicon({}).apply("Hello, Niamh.") == "Hello, Neeve."
    assert speech_lexicon({"niamh": "Nee-av"}).apply("Hello, Niamh.") == "Hello, Nee-av."
    assert speech_lexicon({"Robin": "Robbin"}).apply("Robin and Niamh") == "Robbin and Neeve"


# --- files ---------------------------------------------------------------------------------


def test_shipped_lexicon_is_small_and_valid() -> None:
    lexicon = VOICES.lexicon
    assert 0 < len(lexicon) <= 20
    assert lexicon.apply("When you are ready, close your container.") == (
        "When you are ready, cloze your container."
    )


def test_lexicon_file_is_not_a_voice_profile() -> None:
    assert (data_dir("voices") / "lexicon.yaml").is_file()
    assert "lexicon" not in VOICES.names()
    assert "calm" in VOICES.names()


def test_bad_lexicon_file_names_file_and_every_entry(tmp_path: Path) -> None:
    path = tmp_path / "lexicon.yaml"
    path.write_text(
        "pronunciations:\n  good: fine\n  ' spaced': x\n  empty: ''\n  '-dash': y\n",
        encoding="utf-8",
    )
    with pytest.raises(VoiceProfileError) as info:
        load_lexicon(path)
    lines = str(info.value).splitlines()
    assert len(lines) == 3
    assert all(line.startswith(f"{path}: pronunciations.") for line in lines)
    assert "pronunciations. spaced:" in lines[0]
    assert "pronunciations.empty:" in lines[1]
    assert "pronunciations.-dash:" in lines[2]


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("pronunciations: [a, b]\n", "must map words"),
        ("words: {a: b}\n", "one mapping"),
        ("pronunciations: {a: [b]\n", "malformed YAML"),
    ],
)
def test_malformed_lexicon_file_is_an_error(tmp_path: Path, content: str, needle: str) -> None:
    path = tmp_path / "lexicon.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(VoiceProfileError, match=needle) as info:
        load_lexicon(path)
    assert str(path) in str(info.value)


def test_loaded_lexicon_applies(tmp_path: Path) -> None:
    path = tmp_path / "lexicon.yaml"
    path.write_text(yaml.safe_dump({"pronunciations": {"Zoë": "Zoh-ee"}}, allow_unicode=True),
                    encoding="utf-8")
    assert load_lexicon(path).apply("Zoë") == "Zoh-ee"


def test_bad_client_pronunciation_names_the_entry_number_not_the_word(
    tmp_path: Path,
    write_client: Callable[..., Path],
) -> None:
    client = write_client(tmp_path, pronunciations={"Robin": "Robbin", "Zara ": "x"})
    with pytest.raises(ClientProfileError, match=r"pronunciations \(entry 2\)") as info:
        load_client_profile(client)
    assert "Zara" not in str(info.value)


# --- where it is applied -------------------------------------------------------------------


class RecordingEngine:
    """A stand-in engine that records the requests and returns a short tone per request."""

    name = "recording"
    version = "1"

    def __init__(self) -> None:
        self.requests: list[SpeechRequest] = []

    def voices(self) -> list:
        return []

    def synthesize(self, requests: Sequence[SpeechRequest], settings: VoiceSettings,
                   progress: ProgressCallback | None = None) -> list[Clip]:
        self.requests.extend(requests)
        return [Clip(np.full(2205, 0.1, np.float32), 22050) for _ in requests]

    def close(self) -> None:
        pass


SCRIPT = "Hello, Zoë. Zoë is here.\n\nRest now, Zoë. Hello, Zoë.\n"


def test_lexicon_applies_to_requests_not_to_the_timeline() -> None:
    timeline = parse_script(SCRIPT)
    engine = RecordingEngine()
    known: dict[tuple[str, int], StoredClip] = {}
    lexicon = Lexicon.from_mapping({"Zoë": "Zoh-ee"})
    with ClipStore(44100) as store:
        clips = _synthesize(Speaker(engine, VOICE, "v1"), timeline, known, store, None, lexicon)
    assert len(clips) == len(timeline.speech) == 4
    sent = [r.text for r in engine.requests]
    assert sent == ["Hello, Zoh-ee.", "Zoh-ee is here.", "Rest now, Zoh-ee."]  # repeat reused
    assert [s.text for s in timeline.speech] == [
        "Hello, Zoë.", "Zoë is here.", "Rest now, Zoë.", "Hello, Zoë."
    ]
    assert set(known) == {(text, 130) for text in sent}


@pytest.fixture(scope="module")
def engine() -> Iterator[Pyttsx3Engine]:
    with Pyttsx3Engine() as engine:
        yield engine


def test_respelling_changes_the_spoken_clip_but_not_the_placed_text(
    engine: Pyttsx3Engine,
) -> None:
    timeline = parse_script("Hello there, Jo. You can rest now.\n")
    with ClipStore(MixSettings().sample_rate_hz) as store:
        plain = _synthesize(Speaker(engine, VOICE, "v1"), timeline, {}, store, None, None)
        respelt = _synthesize(Speaker(engine, VOICE, "v1"), timeline, {}, store, None,
                              Lexicon.from_mapping({"Jo": "Joanna Josephine Jones"}))
        # Four more syllables at 130 wpm: clearly longer; the untouched sentence is the same.
        assert respelt[0].duration_s > plain[0].duration_s + 0.4, (
            respelt[0].duration_s, plain[0].duration_s)
        assert respelt[1].duration_s == pytest.approx(plain[1].duration_s, abs=0.01)
        _, placements = place_speech(timeline, respelt, MixSettings())
        assert placements[0].speech.text == "Hello there, Jo."
        assert placements[0].duration_s == pytest.approx(respelt[0].duration_s, abs=0.01)
