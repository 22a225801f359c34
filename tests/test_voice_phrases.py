"""Spoken forms outside the trained decoder's tokens: gaits, speeds and the phrasings it got
wrong, read the same way by the trained and the rule parser."""

import pytest

from irondog.voice.commands import Gait, JoystickState, Speed, parse_canonical, plan, to_dict
from irondog.voice.lm import make_parser

CASES = {
    "slow down a bit": "slow down",
    "spin around to your right": "turn right 180 deg",
    "stop right there": "stop",
    "stop": "stop",
    "stop now": "emergency stop",
    "switch to pacing": "gait pace",
    "start promking then walk forward": "gait pronk then move forward",  # as Whisper hears it
    "pronk": "gait pronk",
    "pace forward two metres": "gait pace then move forward 2 m",
    "switch to pronking then go back three metres": "gait pronk then move backward 3 m",
    "run": "speed 1.5 mps then move forward",
    "run back": "speed 1.5 mps then move backward",
    "a bit faster": "speed up",
    "walk forward at one metre per second": "speed 1 mps then move forward",
    "trot at half a metre per second": "gait trot then speed 0.5 mps then move forward",
    "go forward two metres then turn right": "move forward 2 m then turn right",  # untouched
    "switch to bounding": "gait bound",
    "change to the pacing gait": "gait pace",
    "switch over to pronking": "gait pronk",
    "trot five metres ahead": "gait trot then move forward 5 m",
    "go back to trotting": "gait trot",
    "bounding please": "gait bound",
    "that's far enough": "stop",
    "return to me": "come here",
    "go forward at one and a half metres per second": "speed 1.5 mps then move forward",
}
CHATTER = ("i went for a run in the park yesterday", "the pace of life here is slow",
           "we walked to the pace of the music")  # fmt: skip


@pytest.fixture(scope="module")
def parsers():
    return {"trained": make_parser("trained", threshold=0.7, min_coverage=0.7),
            "rules": make_parser("rules")}  # fmt: skip


@pytest.mark.parametrize("name", ["trained", "rules"])
def test_gaits_speeds_and_the_quoted_failures(parsers, name) -> None:
    wrong = {}
    for said, meant in CASES.items():
        if name == "rules" and said == "switch to bounding":
            continue  # the keyword rules know "bound" and "bounding" only
        got = parsers[name].parse(said)
        if not got.accepted or got.command != parse_canonical(meant):
            wrong[said] = got.text
    assert wrong == {}


def test_gait_and_run_words_inside_a_sentence_are_not_commands(parsers) -> None:
    for text in CHATTER:
        assert not parsers["trained"].parse(text).accepted, text


def test_a_spoken_speed_sets_the_joystick_speed() -> None:
    command = parse_canonical("gait pronk then speed 1 mps then move forward 2 m then move left")
    segments, state = plan(command, JoystickState())
    assert command.actions[0] == Gait("pronk") and command.actions[1] == Speed("set", 1.0)
    assert segments[2].vx == pytest.approx(1.0) and segments[2].duration_s == pytest.approx(2.0)
    assert segments[3].vy == pytest.approx(0.6)  # lateral keeps its proportion (0.3 at 0.5 m/s)
    assert segments[3].extra["gait"] == "pronk" and state.gait == "pronk"
    assert to_dict(command)["actions"][1] == {"action": "speed", "change": "set", "mps": 1.0}
    run = plan(parse_canonical("speed 9 mps then move forward"))[0][1]
    assert run.vx == pytest.approx(1.5)  # clipped to the joystick's forward range


def test_a_set_speed_needs_a_positive_number() -> None:
    from irondog.voice.commands import CommandError, from_dict

    with pytest.raises(CommandError, match="mps"):
        from_dict({"actions": [{"action": "speed", "change": "set"}]})
    with pytest.raises(CommandError, match="mps"):
        from_dict({"actions": [{"action": "speed", "change": "up", "mps": 1.0}]})
    with pytest.raises(CommandError, match="-1"):
        parse_canonical("speed -1 mps")


def test_the_llm_parser_reads_the_same_forms_first() -> None:
    from irondog.voice.lm import LlamaParser

    llm = object.__new__(LlamaParser)  # no model: the completion is stubbed
    llm.prefix, llm.grammar, llm.threshold, llm.grammar_mode = "", None, 0.0, "fallback"
    asked = []
    llm._complete = lambda prompt, grammar: (asked.append(prompt) or "move forward 2 m", 0.9)
    got = llm.parse("switch to pronking then go forward two metres")
    assert got.text == "gait pronk then move forward 2 m" and got.confidence == 0.9
    assert asked == ["Speech: go forward two metres\nCommand:"]  # only the rest reaches it


def test_every_spoken_gait_maps_onto_the_gait_policys_presets() -> None:
    import numpy as np

    from irondog.config import load
    from irondog.envs import gaits
    from irondog.envs.config import EnvConfig
    from irondog.voice.locomotion import plan_gaits, schedule_of

    parser = make_parser("rules")
    said = "switch to pacing then go forward two metres then pronk then walk forward"
    segments, _ = plan(parser.parse(said).command)
    schedule, pieces = schedule_of(segments, "trot")
    assert [name for name, _ in pieces] == ["pace", "pronk"]
    env = load(EnvConfig, overrides=["task=gaits", "num_envs=2", "num_threads=1"])
    s = plan_gaits(pieces, env, asked=True)
    assert s.names == ("pace", "pronk")
    np.testing.assert_allclose(s.vectors[1], gaits.preset("pronk").vector())
