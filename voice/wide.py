"""Wider wording for the parser's training corpus: the same commands said the many other ways
people say them.

``voice/corpus.py`` phrases each action with one verb list and a few fillers; a parser trained
on it alone got three quarters of hand-written paraphrases right. This module is a second,
independent phrasing process (its own lexicon and sentence frames): politeness and hedge
frames around the whole command or each action ("would you mind backing up", "be a good dog
and sit"), more verbs and idioms ("advance", "retreat", "hang a left", "stay put"), amounts said
first or alone ("sixty degrees left", "three metres back, go"), continuous forms ("keep turning
left for two seconds"), "a" and "one" for one, approximate amounts, and more connectors.
Non-commands come in the same frames ("could you pass me the salt", "keep going with the
story"), so a frame alone never makes a command.

It does not change ``corpus.phrase``: the evaluation sets drawn from that stay as they were.
``train_parser`` adds ``--wide N`` of these pairs (skipping the evaluation phrasings), and
records the count and seed in parser.json so ``training_texts`` regenerates them.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from irondog.voice import corpus
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

# Each direction: verbs that take the direction inside them, and bare verbs that take a
# direction phrase after them ("walk" + "to the left").
_DIRECTED = {
    "forward": ["advance", "proceed", "head forward", "go on ahead", "carry on forward",
                "keep going forward", "press on", "march forward", "move on forward",
                "step forward", "walk on", "go straight ahead", "head straight", "travel forward",
                "make your way forward", "walk forwards", "go forwards", "onwards", "onward",
                "straight on", "continue forward", "carry on straight", "keep going straight",
                "forwards", "walk straight", "head straight on", "move forwards"],
    "backward": ["retreat", "back off", "back away", "back up", "reverse", "go in reverse",
                 "walk back", "step backwards", "move backwards", "head back", "get back",
                 "backwards", "back", "go backward", "walk backwards", "step back",
                 "move in reverse", "reverse up", "back it up"],
    "left": ["sidestep left", "shuffle left", "slide left", "scoot left", "shift over left",
             "crab left", "strafe left", "step sideways to the left", "go sideways to the left",
             "move over to the left", "shuffle to your left", "slide over to the left",
             "step to your left", "move to your left", "side step left", "go left sideways",
             "sideways left", "edge left", "drift left"],
    "right": ["sidestep right", "shuffle right", "slide right", "scoot right",
              "shift over right", "crab right", "strafe right", "step sideways to the right",
              "go sideways to the right", "move over to the right", "shuffle to your right",
              "slide over to the right", "step to your right", "move to your right",
              "side step right", "go right sideways", "sideways right", "edge right",
              "drift right"],
}  # fmt: skip
_TURNS = {
    "left": ["turn left", "turn to your left", "rotate left", "pivot left", "spin left",
             "swing left", "twist left", "face left", "look left", "hang a left", "take a left",
             "turn anticlockwise", "turn counter clockwise", "rotate anticlockwise",
             "rotate counterclockwise", "spin to the left", "pivot to your left",
             "swing round to the left", "yaw left", "veer left", "turn towards the left"],
    "right": ["turn right", "turn to your right", "rotate right", "pivot right", "spin right",
              "swing right", "twist right", "face right", "look right", "hang a right",
              "take a right", "turn clockwise", "rotate clockwise", "spin to the right",
              "pivot to your right", "swing round to the right", "yaw right", "veer right",
              "turn towards the right"],
}  # fmt: skip
_AROUND = ["turn around", "turn round", "about turn", "about face", "face the other way",
           "face the opposite direction", "turn back the other way", "spin round",
           "u turn", "do a one eighty", "turn yourself around", "flip around",
           "reverse direction"]  # fmt: skip
_DIRECTION_WORD = {"forward": ["forward", "forwards", "ahead", "straight ahead", "on"],
                   "backward": ["back", "backward", "backwards", "in reverse"],
                   "left": ["left", "to the left", "to your left", "leftwards", "sideways left"],
                   "right": ["right", "to the right", "to your right", "rightwards",
                             "sideways right"]}  # fmt: skip
_KEEP = {"forward": ["keep walking forward", "keep going forward", "keep moving ahead",
                     "keep heading forward", "carry on walking forward", "keep on going"],
         "backward": ["keep backing up", "keep walking backwards", "keep reversing",
                      "keep moving back"],
         "left": ["keep stepping left", "keep sliding left", "keep moving to the left",
                  "keep shuffling left"],
         "right": ["keep stepping right", "keep sliding right", "keep moving to the right",
                   "keep shuffling right"],
         "turn left": ["keep turning left", "keep rotating left", "keep spinning left",
                       "keep turning to the left"],
         "turn right": ["keep turning right", "keep rotating right", "keep spinning right",
                        "keep turning to the right"]}  # fmt: skip
_GAITS = {
    "walk": ["walk", "walking", "a walk", "the walking gait", "walking mode", "the walk"],
    "trot": ["trot", "trotting", "a trot", "the trotting gait", "trot mode", "the trot"],
    "bound": ["bound", "bounding", "a bound", "the bounding gait", "bound mode", "the bound"],
}  # fmt: skip
_GAIT_FRAMES = ["switch to {g}", "switch over to {g}", "change to {g}", "go into {g}",
                "use {g}", "start {ing}", "start to {v}", "begin {ing}", "{ing} now",
                "let's {v}", "try {ing}", "move on to {g}", "{g} please", "{v} from now on",
                "change your gait to {g}", "{ing} mode", "get into {g}", "go to {g}",
                "i want {g}", "{v} like a dog", "{v} for me", "{ing} please"]  # fmt: skip
_SPEEDS = {
    "up": ["quicker", "go quicker", "speed it up", "step it up", "more quickly", "hurry",
           "get a move on", "go a little faster", "a little faster", "faster please",
           "increase your speed", "pick it up", "move faster", "walk faster", "a touch faster",
           "faster faster", "quicken up", "up the pace", "go faster now"],
    "down": ["not so fast", "slow it down", "ease off", "ease up", "take it easy", "gently",
             "less speed", "steady", "slower please", "walk slower", "go a little slower",
             "a little slower", "slow it down a bit", "easy does it", "lower your speed",
             "steady on", "calm down", "decelerate", "reduce your speed", "ease off a bit"],
}  # fmt: skip
_POSTURES = {
    "sit": ["sit", "sit down", "take a seat", "have a seat", "sit on the floor",
            "sit yourself down", "park yourself", "sit down there", "go sit", "sit now",
            "get sitting"],
    "stand": ["stand up", "get up", "up you get", "on your feet", "stand tall", "rise",
              "get on your feet", "stand back up", "get back up", "stand upright",
              "get up on your feet", "stand up straight"],
    "lie_down": ["lie down", "lay down", "go lie down", "lie flat", "lay flat",
                 "get down on the floor", "down on the ground", "lie on the floor",
                 "lay yourself down", "lie down flat", "flat on the ground"],
}  # fmt: skip
_STOPS = ["stop", "halt", "freeze", "hold it", "hold on", "stay", "stay put",
          "stay where you are", "don't move", "do not move", "stop there", "that's enough",
          "enough", "wait there", "pause", "hold your position", "stand still", "stop walking",
          "stop moving", "stay right there", "hold", "whoa", "stop here", "wait"]  # fmt: skip
_ESTOPS = ["emergency stop", "stop right now", "stop immediately", "abort", "abort abort",
           "kill it", "kill the motors", "e stop", "stop stop", "stop now", "emergency halt",
           "cut the power", "stop this instant", "halt immediately", "emergency"]  # fmt: skip
_COMES = ["come here", "come over", "come to me", "come back to me", "over here", "come on",
          "come closer", "come on over", "get over here", "here boy", "to me", "come",
          "come over here", "come here please", "come this way", "back to me", "here",
          "come back here", "walk over to me", "come towards me"]  # fmt: skip

# Frames around the whole command or one action; "{}" is the action.
_FRAMES = ["could you {}", "can you {}", "would you {}", "will you {}", "please {}",
           "{} please", "i want you to {}", "i'd like you to {}", "i need you to {}",
           "go ahead and {}", "now {}", "okay {}", "ok now {}", "alright {}", "right {}",
           "let's {}", "time to {}", "be a good dog and {}", "try to {}", "you can {}",
           "why don't you {}", "just {}", "{} for me", "{} thanks", "{} thank you", "{} now",
           "{} if you can", "{} when you're ready", "{} okay", "{} right away",
           "hey {}", "hey robot {}", "dog {}", "so {}", "and now {}", "next {}",
           "could you please {}", "can you please {}", "{} for me please", "{} would you",
           "robot {} please", "i'd like you to {} please", "how about you {}",
           "do me a favour and {}", "{} if you would", "{} buddy", "{} good dog",
           "i said {}", "{} ok", "um {}", "uh {}", "er {}", "so um {}", "{} um"]  # fmt: skip
_CONNECT = ["then", "and then", "and", "after that", "next", "followed by", "and after that",
            "afterwards", "once you've done that", "when that's done", "then after that",
            "and next", "", "then please", "and finally", "finally", "and also",
            "before you", "then you can"]  # fmt: skip
_APPROX = ["about", "around", "roughly", "approximately", "just", "exactly", "only",
           "some", "maybe", "like"]  # fmt: skip

# Non-command sentences in the same frames and with command words.
_OOD_ACTS = ["pass me the salt", "open the window", "close the door", "meet my friend",
             "turn the page", "turn on the tv", "turn off the radio", "keep going with the story",
             "back me up on this", "stand in line", "sit with us at dinner", "come to the party",
             "walk the dog later", "run to the shop", "stop by the bakery", "speed up the download",
             "slow down the video", "move the car", "move the meeting to monday",
             "turn the heating up", "stay for dinner", "come over on friday", "lie about it",
             "go left at the lights", "take the second right", "go straight to bed",
             "step on the scale", "back the car out", "hold the door", "wait for the bus",
             "call me back", "look left and right before crossing", "face the facts",
             "pick up the kids", "get up early tomorrow", "sit the exam", "stand your ground",
             "slide the box over", "turn it down a bit", "keep it quiet", "go to sleep",
             "bring me a coffee", "forward the email", "rewind the tape", "spin the wheel",
             "pace yourself at work", "walk me through the plan", "run the numbers",
             "stop worrying", "drop it", "hurry to the station", "come up with a name"]  # fmt: skip
_OOD_TELLS = ["the lift goes up to the tenth floor", "we walked ten metres to the car",
              "it turned left at the corner", "he backed out of the deal",
              "she sat down next to me", "the bus stopped twice", "they came here by train",
              "the dog ran forward and barked", "my watch is five minutes fast",
              "i stood still for a second", "the car reversed into a wall",
              "turn right after the bridge, the shop is there", "the kids were running around",
              "he spun around and left", "i need about three metres of rope",
              "the film lasts two hours", "set the oven to one eighty degrees",
              "the table is two metres long", "wait ten seconds and try again on your phone",
              "the queue moved forward slowly", "i was told to stay at home",
              "she told him to come here at noon", "the score was three two"]  # fmt: skip


def _amount(value: float, unit: str, rng: random.Random) -> str:
    """A spoken quantity, more loosely worded than corpus._amount."""
    if value == 1.0 and rng.random() < 0.5:
        words = rng.choice(["a", "one"])
    elif value == 2.0 and rng.random() < 0.15:
        words = "a couple of"
    else:
        words = rng.choice(corpus.number_phrasings(value))
        if words.startswith("one hundred") and rng.random() < 0.4:
            words = rng.choice(["a", ""]) + words[3:]  # "a hundred and twenty"
        if " and " in words and value >= 100 and rng.random() < 0.3:
            words = words.replace(" and ", " ")  # "one hundred thirty five"
    singular = value == 1.0 or words == "half a"
    names = {"m": (["metre", "meter"], ["metres", "meters", "m"]),
             "s": (["second", "sec"], ["seconds", "secs"]),
             "deg": (["degree"], ["degrees"])}[unit]  # fmt: skip
    phrase = f"{words} {rng.choice(names[0] if singular else names[1])}".strip()
    if unit == "m" and value == 0.5 and rng.random() < 0.3:
        phrase = "half a metre"
    if rng.random() < 0.15:
        phrase = f"{rng.choice(_APPROX)} {phrase}"
    return phrase


def _move(action: Move, rng: random.Random) -> str:
    kind, direction, amount, unit = corpus._move_parts(action)
    if kind == "turn" and amount == 180.0 and unit == "deg" and direction == "left":
        if rng.random() < 0.6:
            return rng.choice(_AROUND)
    amt = None if amount is None else _amount(amount, unit, rng)  # type: ignore[arg-type]
    key = direction if kind == "move" else f"turn {direction}"
    r = rng.random()
    if amt is not None and unit == "s" and r < 0.25:
        return f"{rng.choice(_KEEP[key])} for {amt}"  # "keep turning left for two seconds"
    if amt is not None and r < 0.45:
        # The amount first, or alone with a direction: "three metres back", "sixty degrees left".
        where = rng.choice(_DIRECTION_WORD[direction]) if kind == "move" else direction
        if kind == "turn" and rng.random() < 0.3:
            ways = {"right": ["clockwise", "to the right"],
                    "left": ["anticlockwise", "counterclockwise", "to the left"]}  # fmt: skip
            where = rng.choice(ways[direction])
        text = f"{amt} {where}"
        r2 = rng.random()
        if r2 < 0.25:
            text = f"{text} {rng.choice(['go', 'please', 'now', 'move'])}"
        elif r2 < 0.5:
            verb = "turn" if kind == "turn" else rng.choice(["go", "move", "walk", "step"])
            text = f"{verb} {text}"
        return text
    verb = rng.choice(_DIRECTED[direction] if kind == "move" else _TURNS[direction])
    if amt is None:
        if kind == "move" and rng.random() < 0.2:
            verb = f"{verb} {rng.choice(['a bit', 'a little', 'for a while', 'some more'])}"
        return verb
    if unit == "s":
        return f"{verb} for {amt}" if rng.random() < 0.8 else f"{verb} {amt}"
    if unit == "deg" and rng.random() < 0.3:
        return f"{verb} by {amt}"
    return f"{verb} {amt}"


def _gait(action: Gait, rng: random.Random) -> str:
    g = rng.choice(_GAITS[action.gait])
    v = action.gait
    ing = {"walk": "walking", "trot": "trotting", "bound": "bounding"}[v]
    return rng.choice(_GAIT_FRAMES).format(g=g, v=v, ing=ing)


def wide_action(action: Action, rng: random.Random) -> str:
    """One loosely worded phrasing of an action."""
    if isinstance(action, Move):
        return _move(action, rng)
    if isinstance(action, Gait):
        return _gait(action, rng)
    if isinstance(action, Speed):
        return rng.choice(_SPEEDS[action.change])
    if isinstance(action, Posture):
        return rng.choice(_POSTURES[action.posture])
    if isinstance(action, Stop):
        return rng.choice(_ESTOPS if action.emergency else _STOPS)
    if isinstance(action, ComeHere):
        return rng.choice(_COMES)
    raise TypeError(f"not an action: {action!r}")


# "stop now" is an emergency stop in the corpus; a plain stop is not framed with urgency.
_CALM_FRAMES = [f for f in _FRAMES if not any(w in f for w in ("now", "right away", "i said"))]


def _frame(text: str, calm: bool, rng: random.Random) -> str:
    return rng.choice(_CALM_FRAMES if calm else _FRAMES).format(text)


def wide_phrase(command: Command, rng: random.Random) -> str:
    """One loosely worded phrasing of a command (normalised like every parser input)."""
    parts = []
    calm = any(isinstance(a, Stop) for a in command.actions)
    for i, action in enumerate(command.actions):
        # A third of the actions keep the corpus' own wording, so the two mix in one sentence.
        text = corpus.phrase_action(action, rng) if rng.random() < 0.3 else wide_action(action, rng)
        if rng.random() < 0.2:
            text = _frame(text, isinstance(action, Stop), rng)
        if i > 0:
            text = f"{rng.choice(_CONNECT)} {text}".strip()
            if rng.random() < 0.3:
                text = "," + text if text else text
        parts.append(text)
    text = " ".join(parts)
    if rng.random() < 0.45:
        text = _frame(text, calm, rng)
    return corpus.normalise(text)


def wide_out_of_domain(rng: random.Random) -> str:
    """A non-command in the frames commands come in, or a sentence with command words."""
    if rng.random() < 0.4:
        return corpus.normalise(rng.choice(_OOD_TELLS))
    return corpus.normalise(rng.choice(_FRAMES).format(rng.choice(_OOD_ACTS)))


def generated_pairs(
    phrase: Callable[[Command, random.Random], str],
    out_of_domain: Callable[[random.Random], str],
    seed: int,
    count: int,
    confusions: dict[str, list],
    skip: set[str],
    ood_fraction: float = 0.15,
) -> list[tuple[str, str | None]]:
    """``count`` (input text, canonical target or None) pairs from one phrasing process, a
    third of them corrupted like ASR output; texts in ``skip`` (the evaluation phrasings) are
    never used. ``voice/loose.py`` draws its pairs through this too."""
    from irondog.voice.commands import to_text

    rng = random.Random(seed)
    data: list[tuple[str, str | None]] = []
    while len(data) < count:
        if rng.random() < ood_fraction:
            text, target = out_of_domain(rng), None
        else:
            command = corpus.sample_command(rng)
            text, target = phrase(command, rng), to_text(command)
        if len(text.split()) > 26:
            continue
        if rng.random() < 0.33:
            text = corpus.corrupt(text, rng, confusions, rate=rng.choice([0.05, 0.1]))
        if text in skip:
            continue
        data.append((text, target))
    return data


def phrasing_vocabulary(phrase: Callable[[Command, random.Random], str]) -> list[str]:
    """Every word a phrasing process uses for commands (for the parser's coverage test)."""
    rng = random.Random(0)
    words: set[str] = set()
    for _ in range(8000):
        words.update(phrase(corpus.sample_command(rng), rng).split())
    return sorted(words)


def wide_pairs(
    seed: int, count: int, confusions: dict[str, list], skip: set[str], ood_fraction: float = 0.15
) -> list[tuple[str, str | None]]:
    """``count`` wider-worded pairs (``generated_pairs``)."""
    return generated_pairs(
        wide_phrase, wide_out_of_domain, seed, count, confusions, skip, ood_fraction
    )


def wide_vocabulary() -> list[str]:
    """Every word the wide phrasings of commands use (for the parser's coverage test)."""
    return phrasing_vocabulary(wide_phrase)
