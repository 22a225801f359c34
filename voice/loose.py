"""Looser wording for the parser's training corpus: how speech bends a command's structure.

``voice/corpus.py`` and ``voice/wide.py`` phrase each action in its own words and join the
actions with connectors. Said aloud, commands also lose and fold their parts, and a parser that
never saw that reads them wrong. This third phrasing process (its own forms, chosen on the
second hand-written DEV set, ``voice/data/dev_handwritten2.tsv``) adds:
- an action said twice for emphasis, with no connector, meaning it once ("down, lie down",
  "easy, slower", "off you go, straight ahead"); only for actions that done twice are done once
  (postures, stops, gaits, come here, unbounded moves; "easy, slower" one slow-down);
- a forward move with its amount and no direction ("turn around and go five metres",
  "walk ten seconds"), or along a way ("fifteen metres down the path");
- turn amounts as people say them: with no unit ("turn left ninety"), "one eighty", "three
  sixty", "a right angle", and "by" before a distance or an angle;
- a gait folded into the move after it ("trot forward two metres": the trot, then the move);
- frames that ask together ("could we try bounding", "shall we trot", "back to a walk").
Non-commands come in the same frames ("shall we go to the park", "five metres of cable").

Like ``wide``, it leaves the other generators' draws as they were: ``train_parser --loose N``
adds N pairs, and parser.json records the count and seed so ``training_texts`` regenerates them.
"""

from __future__ import annotations

import random

from irondog.voice import corpus, wide
from irondog.voice.commands import (
    Action,
    ComeHere,
    Command,
    Gait,
    Move,
    Posture,
    Speed,
    Stop,
)

# Short forms said before an action's own phrasing, for emphasis ("down, lie down").
_EMPHASIS = {
    "move forward": ["go on", "off you go", "forward", "go", "come on", "onwards"],
    "move backward": ["back", "back back", "go back", "backwards"],
    "move left": ["left", "to the left", "left a bit"],
    "move right": ["right", "to the right", "right a bit"],
    "turn left": ["left", "turn", "left turn"],
    "turn right": ["right", "turn", "right turn"],
    "sit": ["sit", "sit sit", "sit now"],
    "stand": ["up", "up up", "stand"],
    "lie_down": ["down", "down down", "lie"],
    "stop": ["stop", "whoa", "wait", "hey"],
    "come here": ["here", "come on", "come", "hey"],
    "up": ["quick", "quicker", "go", "come on"],
    "down": ["easy", "slowly", "gently", "whoa", "steady"],
}  # fmt: skip
# Ways along which a forward move goes ("ten metres down the path").
_WAYS = ["down the path", "down the road", "along the path", "down the hall", "up the path",
         "down the corridor", "along the wall", "up the road", "along the track",
         "down the track", "across the room", "down there", "up ahead"]  # fmt: skip
# A forward move with no direction word: the verb alone says it.
_BARE_FORWARD = ["go", "walk", "move", "head", "travel", "go on", "walk on", "carry on",
                 "keep going", "keep walking", "continue", "proceed", "go another",
                 "walk another", "do", "cover"]  # fmt: skip
# Turn amounts as said: "one eighty", "three sixty", "a right angle".
_SAID_ANGLES = {90.0: ["a right angle", "right angle", "a quarter turn", "a quarter"],
                120.0: ["one twenty"], 135.0: ["one thirty five"],
                180.0: ["one eighty", "a one eighty", "half a turn", "a half turn"],
                270.0: ["two seventy", "three quarters of a turn"],
                360.0: ["three sixty", "a three sixty", "a full turn", "a full circle",
                        "all the way round", "a whole turn"]}  # fmt: skip
# "a metre and a half" is left to ``wording`` (-> "one and a half metres"): the parser never
# reads it, and trained on it, it read "half a metre" as 1.5 m on DEV.
_SAID_METRES = {0.5: ["half a metre", "half a meter"], 1.0: ["a metre", "one metre", "a meter"]}
_TOGETHER = ["could we {}", "shall we {}", "can we {}", "let's {}", "how about we {}",
             "we're going to {}", "we'll {}", "why don't we {}", "time for us to {}",
             "let's have you {}", "okay let's {}", "right let's {}"]  # fmt: skip
_GAIT_LOOSE = ["back to {g}", "{ing} would be good", "how about {ing}", "could we try {ing}",
               "shall we {v}", "can we {v} now", "let's go {ing}", "{ing} is fine",
               "i'd like to see you {v}", "show me your {ing}", "do some {ing}",
               "give me a {v}", "{g} again", "go {ing}", "{ing} from here"]  # fmt: skip
_GAIT_WORDS = {"walk": ("a walk", "walk", "walking"), "trot": ("a trot", "trot", "trotting"),
               "bound": ("a bound", "bound", "bounding")}  # fmt: skip
# Gaits that fold into a move ("trot forward"); "walk forward" is a move alone.
_FOLDING = {"trot": ["trot", "trotting", "trot on"], "bound": ["bound", "bounding", "bound on"]}

_OOD = ["shall we go to the park", "could we try the new place on friday",
        "back to work tomorrow", "five metres of cable should do", "down the road there's a shop",
        "ninety percent of the time it works", "let's go home", "how about we order pizza",
        "can we talk about it later", "it's a right angle in the corner",
        "we walked another two miles", "one eighty on the motorway is too fast",
        "the path goes down to the river", "keep going with the story, it's good",
        "a metre and a half of rope", "he did a three sixty on his bike",
        "walk ten minutes to the station", "we're going to the beach", "go on then, tell me",
        "easy, it's only a game", "down the hall on the left", "turn the page, then read it",
        "back then we had no phones", "come on, you can do it", "up ahead there's a bridge",
        "quick, close the window", "sit sit sit, everyone sit at the table"]  # fmt: skip


def _amount(value: float, unit: str, rng: random.Random) -> str:
    """A spoken amount with its unit, or the special forms people use."""
    if unit == "deg" and value in _SAID_ANGLES and rng.random() < 0.5:
        return rng.choice(_SAID_ANGLES[value])
    if unit == "m" and value in _SAID_METRES and rng.random() < 0.5:
        return rng.choice(_SAID_METRES[value])
    return wide._amount(value, unit, rng)


def _turn(direction: str, amount: float, unit: str, rng: random.Random) -> str:
    side = rng.choice([direction, f"to the {direction}", f"to your {direction}"])
    verb = rng.choice(["turn", "rotate", "spin", "swing", "pivot"])
    if unit == "deg" and rng.random() < 0.35:
        number = rng.choice(corpus.number_phrasings(amount)[:1] + _SAID_ANGLES.get(amount, [])[:1])
        if number.startswith("a "):  # "a right angle", "a one eighty": not unit-less
            return f"{verb} {side} {rng.choice(['by ', 'through ', ''])}{number}".strip()
        return f"{verb} {direction} {number}"  # "turn left ninety": no unit
    amt = _amount(amount, unit, rng)
    r = rng.random()
    if unit == "deg" and r < 0.3:
        return f"{verb} {side} by {amt}"
    if unit == "deg" and amt.startswith("a ") and r < 0.5:
        return f"make {amt} turn {side}"  # "make a right angle turn to the left"
    if unit == "deg" and r < 0.6:
        return f"{amt} {side}"  # "sixty degrees to the left" (seconds need the verb)
    if unit == "s":
        return f"{verb} {side} for {amt}"
    return f"{verb} {side} {amt}"


def _move(action: Move, rng: random.Random) -> str:
    kind, direction, amount, unit = corpus._move_parts(action)
    if amount is None or unit is None:
        return wide.wide_action(action, rng)
    if kind == "turn":
        return _turn(direction, amount, unit, rng)
    amt = _amount(amount, unit, rng)
    r = rng.random()
    if direction == "forward" and r < 0.4:
        return f"{rng.choice(_BARE_FORWARD)} {amt}"  # "go five metres": forward by default
    if direction == "forward" and unit == "m" and r < 0.55:
        return f"{rng.choice(['', 'go ', 'walk ', 'head '])}{amt} {rng.choice(_WAYS)}".strip()
    words = rng.choice(wide._DIRECTION_WORD[direction])
    verb = rng.choice(["go", "move", "walk", "step", "head", "shift", "come"])
    if r < 0.75:
        return f"{verb} {words} {'by' if unit == 'm' else 'for'} {amt}"
    return f"{verb} {amt} {words}"


def _emphasis_key(action: Action) -> str | None:
    """The key of ``_EMPHASIS`` for an action that done twice is done once, else None."""
    if isinstance(action, Move):
        kind, direction, amount, _ = corpus._move_parts(action)
        return None if amount is not None else f"{kind} {direction}"
    if isinstance(action, Posture):
        return action.posture
    if isinstance(action, Stop):
        return None if action.emergency else "stop"
    if isinstance(action, ComeHere):
        return "come here"
    if isinstance(action, Speed) and action.change in ("up", "down"):
        return action.change
    return None


def loose_action(action: Action, rng: random.Random) -> str:
    """One loosely said phrasing of an action."""
    own = wide.wide_action(action, rng) if rng.random() < 0.5 else corpus.phrase_action(action, rng)
    if isinstance(action, Move):
        own = _move(action, rng) if rng.random() < 0.7 else own
    elif isinstance(action, Gait) and action.gait in _GAIT_WORDS and rng.random() < 0.6:
        g, v, ing = _GAIT_WORDS[action.gait]
        own = rng.choice(_GAIT_LOOSE).format(g=g, v=v, ing=ing)
    key = _emphasis_key(action)
    if key is not None and rng.random() < 0.3:
        own = f"{rng.choice(_EMPHASIS[key])}{rng.choice([', ', ' '])}{own}"
    return own


def _folds(first: Action, then: Action) -> bool:
    return (
        isinstance(first, Gait)
        and first.gait in _FOLDING
        and isinstance(then, Move)
        and corpus._move_parts(then)[0] == "move"
    )


def loose_phrase(command: Command, rng: random.Random) -> str:
    """One loosely said phrasing of a command (normalised like every parser input)."""
    parts: list[str] = []
    actions = command.actions
    i = 0
    while i < len(actions):
        action = actions[i]
        if i + 1 < len(actions) and _folds(action, actions[i + 1]) and rng.random() < 0.6:
            # "trot forward two metres": the gait's verb carries the move after it
            _, direction, amount, unit = corpus._move_parts(actions[i + 1])  # type: ignore[arg-type]
            verb = rng.choice(_FOLDING[action.gait])  # type: ignore[union-attr]
            where = rng.choice(wide._DIRECTION_WORD[direction])
            if amount is None or unit is None:
                text = f"{verb} {where}"
            else:
                said = _amount(amount, unit, rng)
                text = rng.choice([f"{verb} {where} {said}", f"{verb} {said} {where}"])
            i += 2
        else:
            text = loose_action(action, rng)
            i += 1
        if parts:
            text = f"{rng.choice(wide._CONNECT)} {text}".strip()
            if rng.random() < 0.3:
                text = "," + text
        parts.append(text)
    text = " ".join(parts)
    r = rng.random()
    if r < 0.15:
        text = rng.choice(_TOGETHER).format(text)
    elif r < 0.4:
        calm = any(isinstance(a, Stop) for a in actions)
        text = wide._frame(text, calm, rng)
    return corpus.normalise(text)


def loose_out_of_domain(rng: random.Random) -> str:
    """A non-command in the forms and frames commands come in here."""
    if rng.random() < 0.5:
        return corpus.normalise(rng.choice(_OOD))
    if rng.random() < 0.5:
        return corpus.normalise(rng.choice(_TOGETHER).format(rng.choice(wide._OOD_ACTS)))
    return wide.wide_out_of_domain(rng)


def loose_pairs(
    seed: int, count: int, confusions: dict[str, list], skip: set[str], ood_fraction: float = 0.15
) -> list[tuple[str, str | None]]:
    """``count`` loosely said pairs (``wide.generated_pairs``: a third corrupted like ASR
    output, the evaluation phrasings in ``skip`` never used)."""
    return wide.generated_pairs(
        loose_phrase, loose_out_of_domain, seed, count, confusions, skip, ood_fraction
    )


def loose_vocabulary() -> list[str]:
    """Every word the loose phrasings of commands use (for the parser's coverage test)."""
    return wide.phrasing_vocabulary(loose_phrase)
