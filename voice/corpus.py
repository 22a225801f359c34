"""Spoken phrasings of commands (paraphrases, number words, fillers, false starts), out-of-domain
sentences, ASR-style corruption, and the text normaliser every parser shares.

Everything here is generated from a seed, so training corpora and evaluation sets are
reproducible. ``phrase(command, rng)`` turns a schema command into one spoken phrasing;
``sample_command(rng)`` draws commands; ``corrupt(text, rng, confusions)`` imitates ASR errors.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Mapping, Sequence

from irondog.voice.commands import (
    ANGLES_DEG,
    DISTANCES_M,
    DURATIONS_S,
    Action,
    ComeHere,
    Command,
    Gait,
    Move,
    Posture,
    Speed,
    Stop,
    move,
    turn,
)

# ---------------------------------------------------------------------------------------------
# Numbers in words.

_ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen \
fifteen sixteen seventeen eighteen nineteen".split()
_TENS = {20: "twenty", 30: "thirty", 40: "forty", 50: "fifty", 60: "sixty", 70: "seventy",
         80: "eighty", 90: "ninety"}  # fmt: skip
DIGIT_WORDS = frozenset(_ONES[:10])  # "zero" .. "nine"
NUMBER_WORDS = frozenset(_ONES) | frozenset(_TENS.values())  # the words below one hundred


def int_words(n: int) -> str:
    """English words for 0 <= n < 1000."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens * 10] + ("" if ones == 0 else " " + _ONES[ones])
    hundreds, rest = divmod(n, 100)
    head = _ONES[hundreds] + " hundred"
    return head if rest == 0 else head + " and " + int_words(rest)


def number_phrasings(x: float) -> list[str]:
    """Ways to say a quantity (words and digits)."""
    whole = int(x)
    frac = x - whole
    out = []
    if frac == 0:
        out += [int_words(whole), str(whole)]
    elif frac == 0.5:
        if whole == 0:
            out += ["half a", "zero point five", "point five", "0.5"]
        else:
            out += [f"{int_words(whole)} and a half", f"{int_words(whole)} point five", f"{x:g}"]
    else:
        out.append(f"{x:g}")
    return out


_WORD_VALUES: dict[str, int] = {w: i for i, w in enumerate(_ONES)} | {
    v: k for k, v in _TENS.items()
}


def normalise(text: str) -> str:
    """Lower-case words, digits spelled out, punctuation dropped (shared by every parser)."""
    text = text.lower().replace("-", " ").replace("°", " degrees ")
    text = re.sub(r"(\d+(?:\.\d+)?)", r" \1 ", text)
    words = []
    for raw in re.findall(r"[a-z']+|\d+(?:\.\d+)?", text):
        if re.fullmatch(r"\d+(?:\.\d+)?", raw):
            value = float(raw)
            if value >= 1000:
                words.append(raw)
                continue
            whole = int(value)
            frac = round(value - whole, 3)
            words.append(int_words(whole))
            if frac:
                words.append("point")
                words.extend(_ONES[int(d)] for d in f"{frac:g}".split(".")[1])
        else:
            words.append(raw.replace("'", ""))
    return " ".join(" ".join(words).split())


# ---------------------------------------------------------------------------------------------
# Phrasings.

FILLERS_BEFORE = ["please", "okay", "ok", "hey dog", "hey robot", "iron dog", "um", "uh",
                  "now", "could you", "can you", "alright", "dog"]  # fmt: skip
FILLERS_AFTER = ["please", "now", "okay", "thanks", "right now", "for me"]
# "" stands for a pause that a recogniser writes as a comma, or nothing.
CONNECTORS = ["then", "and then", "then", "after that", "and after that", "next", "and", ""]

_MOVE_VERBS = {
    "forward": ["walk forward", "go forward", "move forward", "go ahead", "walk ahead",
                "move ahead", "go straight", "walk straight ahead", "forward", "head forward",
                "run forward", "trot forward"],
    "backward": ["walk backward", "walk backwards", "go back", "back up", "move back",
                 "move backward", "go backwards", "reverse", "step back", "backward"],
    "left": ["step left", "move left", "sidestep left", "strafe left", "shift left",
             "move to the left", "step to the left", "slide left"],
    "right": ["step right", "move right", "sidestep right", "strafe right", "shift right",
              "move to the right", "step to the right", "slide right"],
}  # fmt: skip
_TURN_VERBS = {
    "left": ["turn left", "rotate left", "turn to the left", "spin left", "turn anticlockwise",
             "turn counterclockwise"],
    "right": ["turn right", "rotate right", "turn to the right", "spin right", "turn clockwise"],
}  # fmt: skip
_TURN_AROUND = ["turn around", "turn round", "spin around", "about face", "do a u turn",
                "face the other way"]  # fmt: skip
_GAIT = {
    "walk": ["walk mode", "switch to walking", "change gait to walk", "use the walking gait",
             "start walking slowly", "walking gait", "switch to walk"],
    "trot": ["trot", "start trotting", "switch to trot", "change gait to trot", "trot mode",
             "use the trotting gait", "switch to trotting"],
    "bound": ["bound", "start bounding", "switch to bound", "change gait to bound",
              "bound mode", "use the bounding gait", "switch to bounding"],
}  # fmt: skip
_SPEED = {
    "up": ["speed up", "go faster", "faster", "increase speed", "a bit faster", "hurry up",
           "pick up the pace", "more speed"],
    "down": ["slow down", "go slower", "slower", "decrease speed", "reduce speed",
             "a bit slower", "easy", "take it slow"],
}  # fmt: skip
_POSTURE = {
    "sit": ["sit", "sit down", "take a seat", "sit please"],
    "stand": ["stand", "stand up", "get up", "on your feet", "rise"],
    "lie_down": ["lie down", "lay down", "down", "get down", "lie flat"],
}  # fmt: skip
_STOP = ["stop", "halt", "hold on", "stay", "freeze", "wait", "stand still", "stop moving",
         "hold still"]  # fmt: skip
_ESTOP = ["emergency stop", "stop now", "stop immediately", "e stop", "abort", "stop stop stop",
          "emergency halt", "kill the motors"]  # fmt: skip
_COME = ["come here", "come to me", "come back here", "come", "over here", "here boy",
         "come over here"]  # fmt: skip

_UNIT_WORDS = {  # (plural forms, singular forms)
    "m": (["metres", "meters"], ["metre", "meter"]),
    "s": (["seconds", "secs"], ["second"]),
    "deg": (["degrees"], ["degree"]),
}


def _amount(value: float, unit: str, rng: random.Random) -> str:
    if unit == "deg":
        special = {90.0: ["a quarter turn", "a quarter"], 180.0: ["half a turn", "a half turn"],
                   360.0: ["a full turn", "a full circle", "all the way around"]}  # fmt: skip
        if value in special and rng.random() < 0.3:
            return rng.choice(special[value])
    words = rng.choice(number_phrasings(value))
    plural, singular = _UNIT_WORDS[unit]
    unit_word = rng.choice(singular if value == 1.0 or words == "half a" else plural)
    phrase = f"{words} {unit_word}"
    if unit == "s" and rng.random() < 0.6:
        phrase = "for " + phrase
    elif unit == "deg" and rng.random() < 0.3:
        phrase = "by " + phrase
    elif unit == "m" and rng.random() < 0.15:
        phrase = "about " + phrase
    return phrase


def _move_parts(action: Move) -> tuple[str, str, float | None, str | None]:
    """(kind, direction, amount, unit) of a Move at nominal speed."""
    if action.vx == 0.0 and action.vy == 0.0:
        direction = "left" if action.yaw_rate > 0 else "right"
        if action.angle_deg is not None:
            return "turn", direction, action.angle_deg, "deg"
        return "turn", direction, action.duration_s, "s" if action.duration_s else None
    if action.vx > 0:
        direction = "forward"
    elif action.vx < 0:
        direction = "backward"
    else:
        direction = "left" if action.vy > 0 else "right"
    if action.distance_m is not None:
        return "move", direction, action.distance_m, "m"
    return "move", direction, action.duration_s, "s" if action.duration_s else None


def phrase_action(action: Action, rng: random.Random) -> str:
    """One spoken phrasing of an action."""
    if isinstance(action, Move):
        kind, direction, amount, unit = _move_parts(action)
        if kind == "turn" and direction == "left" and amount == 180.0 and unit == "deg":
            if rng.random() < 0.5:
                return rng.choice(_TURN_AROUND)
        verbs = _MOVE_VERBS if kind == "move" else _TURN_VERBS
        verb = rng.choice(verbs[direction])
        if amount is None:
            return verb
        amt = _amount(amount, unit, rng)  # type: ignore[arg-type]
        if kind == "turn" and unit == "deg" and rng.random() < 0.2 and verb.endswith(direction):
            return f"{verb[: -len(direction)]}{amt} {direction}"  # "turn ninety degrees left"
        if kind == "move" and rng.random() < 0.2 and not amt.startswith(("for", "about")):
            words = verb.split()
            if words[0] in ("walk", "go", "move", "run", "trot", "step") and len(words) == 2:
                return f"{words[0]} {amt} {words[1]}"  # "walk two metres forward"
        return f"{verb} {amt}"
    if isinstance(action, Gait):
        return rng.choice(_GAIT[action.gait])
    if isinstance(action, Speed):
        return rng.choice(_SPEED[action.change])
    if isinstance(action, Posture):
        return rng.choice(_POSTURE[action.posture])
    if isinstance(action, Stop):
        return rng.choice(_ESTOP if action.emergency else _STOP)
    if isinstance(action, ComeHere):
        return rng.choice(_COME)
    raise TypeError(f"not an action: {action!r}")


def phrase(command: Command, rng: random.Random, disfluency: float = 0.3) -> str:
    """One spoken phrasing of a command, with fillers and false starts at rate ``disfluency``."""
    parts = []
    for i, action in enumerate(command.actions):
        text = phrase_action(action, rng)
        if rng.random() < disfluency * 0.25:  # false start: a wrong word, then a correction
            wrong = phrase_action(sample_action(rng), rng).split()[0]
            text = f"{wrong} {rng.choice(['uh', 'um', 'no', 'i mean', 'sorry'])} {text}"
        if i > 0:
            text = f"{rng.choice(CONNECTORS)} {text}".strip()
        parts.append(text)
    text = " ".join(parts)
    if rng.random() < disfluency:
        text = f"{rng.choice(FILLERS_BEFORE)} {text}"
    if rng.random() < disfluency * 0.5:
        text = f"{text} {rng.choice(FILLERS_AFTER)}"
    return normalise(text)


def sample_action(rng: random.Random) -> Action:
    """Draw one action, moves and turns most often."""
    r = rng.random()
    if r < 0.35:
        direction = rng.choice(["forward", "forward", "backward", "left", "right"])
        bound = rng.random()
        if bound < 0.45:
            return move(direction, rng.choice(DISTANCES_M), "m")
        if bound < 0.7:
            return move(direction, rng.choice(DURATIONS_S), "s")
        return move(direction)
    if r < 0.6:
        direction = rng.choice(["left", "right"])
        bound = rng.random()
        if bound < 0.5:
            return turn(direction, rng.choice(ANGLES_DEG), "deg")
        if bound < 0.65:
            return turn(direction, rng.choice(DURATIONS_S), "s")
        if bound < 0.8:
            return turn("left", 180.0, "deg")
        return turn(direction)
    if r < 0.68:
        return Gait(rng.choice(["walk", "trot", "bound"]))
    if r < 0.76:
        return Speed(rng.choice(["up", "down"]))
    if r < 0.86:
        return Posture(rng.choice(["sit", "stand", "lie_down"]))
    if r < 0.95:
        return Stop(rng.random() < 0.4)
    return ComeHere()


def sample_command(rng: random.Random, max_actions: int = 3) -> Command:
    """Draw a command of 1..max_actions actions (mostly one)."""
    r = rng.random()
    n = 1 if r < 0.6 else 2 if r < 0.9 else 3
    return Command(tuple(sample_action(rng) for _ in range(min(n, max_actions))))


# ---------------------------------------------------------------------------------------------
# Out-of-domain speech (some of it sharing words with commands).

_OOD_SUBJECTS = ["i", "we", "my sister", "the kids", "our neighbour", "you", "they", "tom"]
_OOD_VERBS = ["went to", "walked to", "left", "came back from", "looked at", "talked about",
              "forgot", "liked", "visited", "ran past", "turned up at", "stood near"]  # fmt: skip
_OOD_OBJECTS = ["the park", "the shop", "the station", "the meeting", "lunch", "the river",
                "the old bridge", "the garden", "the dentist", "a concert", "the bakery",
                "the game", "the office", "the beach"]  # fmt: skip
_OOD_TAILS = ["yesterday", "last week", "this morning", "on sunday", "after work", "again",
              "with the dog", "in the rain", "for an hour", "twice", ""]  # fmt: skip
_OOD_FIXED = [
    "what a lovely day", "did you see the match last night", "i need to buy some milk",
    "the weather is nice today", "where did i put my keys", "let's get coffee",
    "look at those ducks", "is it going to rain", "how much was the ticket",
    "that's a really nice dog", "can you believe it", "i think the bus is late",
    "we should have a picnic", "my phone is almost dead", "what time is it",
    "he said he would call", "the trees are turning yellow", "are you hungry",
    "this bench is wet", "i love this song", "the kids are playing football",
    "turn on the lights", "the left lane is closed", "my back hurts", "see you tomorrow",
    "the meeting was moved to friday", "that was a good run", "i can't hear you",
    "it's too windy here", "pass me the water", "she walked home after the party",
    "we left the car near the station", "the film was two hours long",
    "i ran five kilometres this morning", "turn the music down a bit",
    "he came here last summer", "the dog next door barks all night",
    "i need to stand in the queue", "sit wherever you like", "the right answer was three",
    "go and ask your father", "it stopped raining at noon", "back in ten minutes",
    "my knee is better now", "they went forward with the plan", "speed cameras everywhere",
]  # fmt: skip


_OOD_BANK = {
    "subject": ["my mother", "the teacher", "his friend", "everyone", "the man", "our team",
                "the baby", "my boss", "the doctor", "her cousin", "nobody", "the waiter"],
    "verb": ["is moving to", "was talking about", "wants to visit", "just bought", "hates",
             "keeps forgetting", "is cooking", "painted", "will call", "is waiting for",
             "asked about", "read about", "fixed", "lost", "found", "ordered"],
    "object": ["a new car", "the kitchen", "some flowers", "the tickets", "a big cake",
               "the library", "her phone", "the holiday", "a funny film", "the football",
               "the birthday party", "a little house", "the news", "dinner", "the homework"],
    "time": ["next month", "tonight", "on friday", "last year", "soon", "every day",
             "at the weekend", "before lunch", "in the summer", "later", "", ""],
}  # fmt: skip
_OOD_QUESTIONS = ["did you", "have you ever", "why did you", "when will you", "could we",
                  "shall we", "do you want to"]  # fmt: skip
_OOD_ACTS = ["see the news", "try the new cafe", "call your sister", "finish the book",
             "watch the film", "eat the cake", "visit the museum", "meet the new neighbours",
             "book a table", "fix the bike", "pay the bill"]  # fmt: skip


def sample_out_of_domain(rng: random.Random) -> str:
    """One non-command sentence (everyday chatter, some sharing words with commands)."""
    r = rng.random()
    if r < 0.25:
        return normalise(rng.choice(_OOD_FIXED))
    if r < 0.5:
        parts = [rng.choice(_OOD_SUBJECTS), rng.choice(_OOD_VERBS), rng.choice(_OOD_OBJECTS),
                 rng.choice(_OOD_TAILS)]  # fmt: skip
    elif r < 0.8:
        parts = [rng.choice(_OOD_BANK[k]) for k in ("subject", "verb", "object", "time")]
        if rng.random() < 0.3:
            parts = ["i think", *parts] if rng.random() < 0.5 else ["so", *parts]
    else:
        parts = [rng.choice(_OOD_QUESTIONS), rng.choice(_OOD_ACTS), rng.choice(_OOD_TAILS)]
    return normalise(" ".join(parts))


# ---------------------------------------------------------------------------------------------
# ASR-style corruption.


def corrupt(
    text: str,
    rng: random.Random,
    confusions: Mapping[str, Sequence[str]] | None = None,
    rate: float = 0.12,
) -> str:
    """Substitute phonetically close words, delete and insert words, each at about ``rate``."""
    confusions = confusions or {}
    out: list[str] = []
    for word in text.split():
        r = rng.random()
        if r < rate * 0.5 and confusions.get(word):
            out.append(rng.choice(list(confusions[word])))
        elif r < rate * 0.8:
            continue  # deletion
        else:
            out.append(word)
        if rng.random() < rate * 0.25:
            out.append(rng.choice(["the", "a", "and", "uh", "to", "it", "in", "oh"]))
    return " ".join(out) if out else text.split()[0]


def spoken_vocabulary() -> list[str]:
    """Every word the phrasings can use (for grammars, prompts and hotwords)."""
    rng = random.Random(0)
    words: set[str] = set()
    for _ in range(6000):
        words.update(phrase(sample_command(rng), rng, disfluency=0.6).split())
    return sorted(words)


def pairs(seed: int, count: int, disfluency: float = 0.3) -> Iterator[tuple[str, Command]]:
    """``count`` (phrasing, command) pairs from ``seed``."""
    rng = random.Random(seed)
    for _ in range(count):
        command = sample_command(rng)
        yield phrase(command, rng, disfluency), command


def phrase_inventory() -> dict[str, list[str]]:
    """The phrase lists behind the phrasings, by category (for grammars and keyword rules)."""
    quantities = sorted(set(DISTANCES_M) | set(DURATIONS_S) | set(ANGLES_DEG))
    numbers = sorted({p for q in quantities for p in number_phrasings(q) if not p[0].isdigit()})
    return {
        "pre": list(FILLERS_BEFORE),
        "post": list(FILLERS_AFTER),
        "connector": sorted(set(CONNECTORS)),
        "move_forward": list(_MOVE_VERBS["forward"]),
        "move_backward": list(_MOVE_VERBS["backward"]),
        "move_left": list(_MOVE_VERBS["left"]),
        "move_right": list(_MOVE_VERBS["right"]),
        "turn_left": list(_TURN_VERBS["left"]),
        "turn_right": list(_TURN_VERBS["right"]),
        "turn_around": list(_TURN_AROUND),
        "gait_walk": list(_GAIT["walk"]),
        "gait_trot": list(_GAIT["trot"]),
        "gait_bound": list(_GAIT["bound"]),
        "speed_up": list(_SPEED["up"]),
        "speed_down": list(_SPEED["down"]),
        "sit": list(_POSTURE["sit"]),
        "stand": list(_POSTURE["stand"]),
        "lie_down": list(_POSTURE["lie_down"]),
        "stop": list(_STOP),
        "emergency_stop": list(_ESTOP),
        "come_here": list(_COME),
        "number": numbers,
        "unit_m": [*_UNIT_WORDS["m"][0], *_UNIT_WORDS["m"][1]],
        "unit_s": [*_UNIT_WORDS["s"][0], *_UNIT_WORDS["s"][1]],
        "unit_deg": [*_UNIT_WORDS["deg"][0], *_UNIT_WORDS["deg"][1]],
        "turn_special": [
            "a quarter turn",
            "a quarter",
            "half a turn",
            "a half turn",
            "a full turn",
            "a full circle",
            "all the way around",
        ],  # fmt: skip
    }
