"""The loosely said training pairs (voice/loose.py): meaning what they say (valid, reproducible
and apart from evaluation: tests/test_voice_wide.py, for both phrasing processes)."""

import random

from irondog.voice import corpus, heldout, lm, loose
from irondog.voice.commands import (
    ComeHere,
    Command,
    Gait,
    Posture,
    Speed,
    Stop,
    move,
    to_json,
    to_text,
    turn,
)


def test_emphasis_only_doubles_actions_that_done_twice_are_done_once() -> None:
    assert loose._emphasis_key(Posture("lie_down")) == "lie_down"
    assert loose._emphasis_key(Stop(False)) == "stop"
    assert loose._emphasis_key(ComeHere()) == "come here"
    assert loose._emphasis_key(move("forward")) == "move forward"
    assert loose._emphasis_key(Speed("down")) == "down"
    assert loose._emphasis_key(move("forward", 2.0, "m")) is None  # twice is four metres
    assert loose._emphasis_key(turn("left", 90.0, "deg")) is None
    assert loose._emphasis_key(Stop(True)) is None  # "stop stop" is urgent, not emphasis
    assert loose._emphasis_key(Speed("set", 1.0)) is None
    postures = {"sit", "stand", "lie", "stop"}
    for key, shorts in loose._EMPHASIS.items():  # no short form asks for another action
        own = {"sit": {"sit"}, "stand": {"stand"}, "lie_down": {"lie"}, "stop": {"stop"}}
        for short in shorts:
            assert not (set(short.split()) & postures) - own.get(key, set()), (key, short)


def test_a_gait_folds_into_the_move_after_it_and_keeps_both_actions() -> None:
    command = Command((Gait("trot"), move("forward", 2.0, "m")))
    rng = random.Random(1)
    folded = [loose.loose_phrase(command, rng) for _ in range(200)]
    # some say it in one verb ("trot forward two metres"), with no word for the walk-on move
    assert any(t.split()[0] in ("trot", "trotting") and "forward" in t.split()[:3] for t in folded)
    assert not loose._folds(Gait("walk"), move("forward"))  # "walk forward" is a move alone
    assert not loose._folds(Gait("trot"), turn("left"))  # a turn is not a direction of travel


def test_forward_moves_may_drop_their_direction_but_other_moves_never_do() -> None:
    rng = random.Random(2)
    for direction in ("backward", "left", "right"):
        action = move(direction, 3.0, "m")
        words = {
            "backward": ("back", "backward", "backwards", "reverse"),
            "left": ("left", "leftwards"),
            "right": ("right", "rightwards"),
        }[direction]
        for _ in range(100):
            text = corpus.normalise(loose._move(action, rng))
            assert any(w in text.split() for w in words), (direction, text)


def test_the_loose_words_join_the_command_vocabulary() -> None:
    from irondog.voice.train_parser import command_vocabulary

    wider = set(command_vocabulary([], wide=True))
    looser = set(command_vocabulary([], wide=True, loose=True))
    assert wider < looser
    assert {"angle", "sixty"} <= looser


def test_a_negative_loose_count_is_refused_by_name(capsys) -> None:  # noqa: ANN001
    import pytest

    from irondog.voice import train_parser

    with pytest.raises(SystemExit):
        train_parser.main(["--loose", "-1"])
    assert "--loose must be >= 0" in capsys.readouterr().err


def test_the_second_handwritten_dev_set_reads_and_means_what_it_says() -> None:
    items = heldout.read(lm.DATA_DIR / "dev_handwritten2.tsv")
    assert len(items) >= 150
    assert len({p.spoken for p in items}) == len(items)
    assert all(to_json(p.command) for p in items)
    assert any(to_text(p.command) == "gait trot then move forward" for p in items)
