"""reject.grounded: every action of a parse needs a word of the transcript that asks for it."""

from __future__ import annotations

import dataclasses

import pytest

from irondog.config import ConfigError
from irondog.voice import grounding
from irondog.voice.commands import parse_canonical
from irondog.voice.config import RejectConfig
from irondog.voice.pipeline import gate


def test_cue_words_are_the_actions_own_words_not_amounts_or_chatter() -> None:
    cues = grounding.cue_words()
    assert {"forward", "ahead"} <= cues["move forward"]
    assert {"turn", "anticlockwise"} <= cues["turn left"]
    assert "lie" in cues["lie down"] and "sit" in cues["sit"]
    for kind, words in cues.items():  # frames and amounts ask for nothing ("stop now" does)
        assert not {"please", "and", "eight", "metres", "seconds"} & words, kind
    assert "eighty" in cues["turn left 180 deg"]  # "do a one eighty": the about-turn alone
    assert "eighty" not in cues["turn left"] and "ninety" not in cues["turn right"]


@pytest.mark.parametrize(
    ("command", "transcript", "missing"),
    [
        ("move forward 2 s", "walk forward for two seconds", []),
        ("move forward 2 s", "seven three iron two", ["move forward 2 s"]),
        ("sit then lie down", "sit down and then lie on the floor", []),
        ("sit then lie down", "sit how about that", ["lie down"]),
        ("turn left 180 deg", "lets do a 180 buddy", []),  # "180" is said as "one eighty"
        ("turn left 180 deg", "i need you to turn back the other way", []),
        ("gait pace", "switch to pacing", []),  # kinds the rules read are not checked
        # a bound needs a word of an amount: "go" asks for the move, nothing for two seconds
        ("move forward 2 s", "go somewhere and do something", ["move forward 2 s"]),
        ("move forward", "go somewhere and do something", []),
        ("move forward 1 m", "take a metre forward", []),
        ("turn left 1 s", "turn left for a second", []),
        ("move backward 2 m", "back up a couple of metres", []),
        ("turn left 90 deg", "a quarter turn left", []),
        ("turn right 2.5 s", "turn right for 2.5", []),  # digits are amounts
        ("turn left 180 deg", "turn around", []),  # the about-turn's own cues say its 180
        ("turn left 90 deg then sit", "turn left and sit", ["turn left 90 deg"]),
    ],
)
def test_ungrounded_names_the_actions_nothing_asks_for(
    command: str, transcript: str, missing: list[str]
) -> None:
    assert grounding.ungrounded(parse_canonical(command), transcript) == missing


def test_amount_words_are_numbers_units_and_idioms_not_directions_or_joiners() -> None:
    words = grounding.amount_cues()
    assert {"two", "ninety", "metres", "seconds", "degrees", "half", "quarter"} <= words
    assert not {"and", "then", "left", "forward", "turn", "please", "a"} & words


def test_a_move_the_rules_imply_counts_as_said() -> None:
    # "start running": phrases' run rule reads a 1.5 m/s forward move, no "forward" said
    assert (
        grounding.ungrounded(parse_canonical("speed 1.5 mps then move forward"), "start running")
        == []
    )
    assert (
        grounding.ungrounded(parse_canonical("speed 1.5 mps then move forward"), "the kids") != []
    )


def test_the_gate_refuses_an_ungrounded_parse_and_turns_off() -> None:
    signals = {"no_speech_prob": 0.0, "logprob": -0.1, "compression_ratio": 1.0, "speech_s": 1.0,
               "words_per_s": 2.0, "parse_confidence": 0.99}  # fmt: skip
    on = RejectConfig()
    assert gate({**signals, "ungrounded": []}, on) == ""
    refused = gate({**signals, "ungrounded": ["move forward 2 s"]}, on)
    assert refused == "nothing said asks for move forward 2 s"
    assert (
        gate(
            {**signals, "ungrounded": ["move forward 2 s"]}, dataclasses.replace(on, grounded=False)
        )
        == ""
    )


def test_a_non_boolean_grounded_names_the_key_and_the_file(tmp_path) -> None:
    from irondog.config import load
    from irondog.voice.config import VoiceConfig

    path = tmp_path / "voice.yaml"
    path.write_text("reject:\n  grounded: maybe\n")
    with pytest.raises(ConfigError, match="grounded") as err:
        load(VoiceConfig, path)
    assert str(path) in str(err.value)
