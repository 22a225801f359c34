"""Transcript rewriting (voice/wording.py) and the rejection of read-out numbers."""

import pytest

from irondog.voice import wording
from irondog.voice.commands import parse_canonical, to_text
from irondog.voice.lm import make_parser


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("um could you please proceed five m thank you", "go forward five metres"),
        ("i'd like you to pivot to your left", "turn left"),
        ("have a seat followed by get back up", "sit down then stand up"),
        ("eight meters forward", "go forward eight metres"),
        ("for ten secs go left", "step left ten seconds"),
        ("swivel right one eighty deg", "turn right one hundred and eighty degrees"),
        ("change your gait to pace for me", "switch to pacing"),
        ("back up a metre", "back up one metre"),
        ("one more metre forward", "one metre forward"),
        ("one metre to your right, sideways", "one metre to your right"),
        ("move away from me", "move back"),
        ("stand up and start walking forward", "stand up and go forward"),
        ("go sideways, turn left", "go sideways then turn left"),  # a turn names no side
        ("make a left turn of ninety degrees", "turn left ninety degrees"),
        ("back up a metre and a half", "back up one and a half metres"),
        ("two meters and a half forward", "go forward two and a half metres"),
        ("back up half a metre", "back up half a metres"),  # still half, not one and a half
        ("keep um going forward", "go forward"),
        ("right, sit down, turn left", "sit down then turn left"),
        ("nine metres forward, go", "go forward nine metres"),  # "go" only starts it
        ("go", "go"),
    ],
)
def test_rewrite_brings_wording_to_the_corpus(said: str, expected: str) -> None:
    assert wording.rewrite(said) == expected


def test_rewrite_leaves_corpus_wording_alone() -> None:
    assert wording.rewrite("walk forward two metres then turn left") == (
        "walk forward two metres then turn left"
    )


@pytest.mark.parametrize(
    "said", ["one two three four", "forty two", "my number is five five five one two", "0 0 7"]
)
def test_number_lists_are_number_lists(said: str) -> None:
    assert wording.is_number_list(said)


@pytest.mark.parametrize("said", ["walk forward two metres", "turn left ninety degrees", ""])
def test_commands_are_not_number_lists(said: str) -> None:
    assert not wording.is_number_list(said)


@pytest.mark.parametrize("name", ["rules", "trained"])
def test_parsers_reject_number_lists_and_read_reworded_commands(name: str) -> None:
    parser = make_parser(name)
    assert not parser.parse("nine eight seven six five four").accepted
    parse = parser.parse("could you please have a seat")
    assert parse.text == "sit"
    assert parse.transcript == "could you please have a seat"  # as heard, not as reworded


@pytest.mark.parametrize(
    ("heard", "parsed", "kept"),
    [
        ("easy, slower", "slow down then slow down", "slow down"),
        ("kill it, emergency stop", "emergency stop then emergency stop", "emergency stop"),
        ("sit, sit, turn left", "sit then sit then turn left", "sit then turn left"),
        # a word that asks for a sequence or a repeat keeps both
        ("turn left, then turn left again", "turn left then turn left", "turn left then turn left"),
        ("faster, and faster", "speed up then speed up", "speed up then speed up"),
        # no comma: said twice on purpose
        ("slow down slow down", "slow down then slow down", "slow down then slow down"),
        # different actions, or the same move with a bound, stay apart
        ("go forward, two metres", "move forward then move forward 2 m",
         "move forward then move forward 2 m"),
        ("sit, stand", "sit then stand", "sit then stand"),
    ],
)  # fmt: skip
def test_merge_restated_keeps_one_of_an_action_a_comma_restated(
    heard: str, parsed: str, kept: str
) -> None:
    command = parse_canonical(parsed)
    assert to_text(wording.merge_restated(heard, command)) == kept


@pytest.mark.parametrize("name", ["rules", "trained"])
def test_parsers_merge_restated_actions(name: str) -> None:
    parse = make_parser(name).parse("okay, go forward, go forward")
    assert parse.text == "move forward"
    assert parse.command is not None and len(parse.command.actions) == 1


@pytest.mark.parametrize(
    ("heard", "parsed", "kept"),
    [
        # the one bound takes the one unit said
        ("walk forward for two metres", "move forward 2 s", "move forward 2 m"),
        ("turn left for ninety degrees", "turn left 90 s", "turn left 90 deg"),
        ("go right for five seconds", "move right 5 m", "move right 5 s"),
        # anything less clear stays as parsed
        ("go forward ten seconds", "move forward 10 s", "move forward 10 s"),
        ("walk two metres then turn for five seconds", "move forward 2 m then turn left 5 s",
         "move forward 2 m then turn left 5 s"),
        ("turn three metres", "turn left 3 s", "turn left 3 s"),  # a turn takes no metres
        ("go forward twenty five degrees", "move forward 25 s", "move forward 25 s"),
        ("walk two metres", "move forward", "move forward"),
    ],
)  # fmt: skip
def test_units_as_said_gives_the_bound_the_unit_said(heard: str, parsed: str, kept: str) -> None:
    command = parse_canonical(parsed)
    assert to_text(wording.units_as_said(wording.rewrite(heard), command)) == kept
