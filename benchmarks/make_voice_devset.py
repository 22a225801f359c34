"""Write the voice DEV set: commands and non-commands for CHOOSING parser rules, never for the
final score (that is the held-out paraphrases, voice/data/heldout_paraphrases.tsv).

    python benchmarks/make_voice_devset.py [--seed 7] [--commands 400]

A third process, unlike both the training templates (voice/corpus.py) and the hand-written
held-out set: a seeded recombination of the word lists below (verb synonyms, hedges,
politeness, fillers, number words and digits, unit spellings, word order). Writes
``voice/data/dev_commands.tsv`` (CANONICAL<TAB>SPOKEN, as the held-out file) and
``voice/data/dev_noncommands.txt`` (one sentence a line: speech that shares words with
commands, read-out numbers, chatter; every parser must reject all of it).
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "voice" / "data"

HEDGES = ["", "", "", "i want you to", "i'd like you to", "would you", "could you please",
          "can you", "go ahead and", "i need you to", "try to", "you should", "let's",
          "maybe", "now", "okay so", "right,", "alright", "hey", "listen,", "buddy,"]  # fmt: skip
TAILS = ["", "", "", "please", "thank you", "thanks", "for me", "if you can", "now",
         "okay", "would you", "right away", "buddy"]  # fmt: skip
FILLERS = ["um", "uh", "er", "like", "erm", "hmm"]
JOIN = [" then ", " and then ", ", then ", " and after that ", " after that ", ", ", " next ",
        " and ", " followed by ", " once you've done that ", " and when you're done "]  # fmt: skip

NUMS = {0.5: ["half a", "zero point five", "0.5", "point five", "a half"],
        1: ["one", "a", "1", "a single"], 2: ["two", "2", "a couple of"], 3: ["three", "3"],
        4: ["four", "4"], 5: ["five", "5"], 6: ["six", "6"], 7: ["seven", "7"],
        8: ["eight", "8"], 9: ["nine", "9"], 10: ["ten", "10"], 15: ["fifteen", "15"],
        20: ["twenty", "20"], 30: ["thirty", "30"], 45: ["forty five", "forty-five", "45"],
        60: ["sixty", "60"], 90: ["ninety", "90"], 120: ["a hundred and twenty", "120",
        "one hundred twenty"], 135: ["a hundred and thirty five", "135"],
        180: ["a hundred and eighty", "one eighty", "180"], 270: ["two hundred and seventy",
        "two seventy", "270"], 360: ["three hundred and sixty", "three sixty", "360"],
        1.5: ["one and a half", "1.5", "one point five"],
        2.5: ["two and a half", "2.5"]}  # fmt: skip
UNITS = {"m": (["meters", "metres", "m", "meter"], ["meter", "metre"]),
         "s": (["seconds", "secs", "sec", "s"], ["second", "sec"]),
         "deg": (["degrees", "deg", "degree"], ["degree"])}  # fmt: skip

MOVE = {"forward": ["go forward", "move forward", "walk forward", "head forward", "proceed",
                    "advance", "go straight", "keep going forward", "walk on", "move ahead",
                    "carry on forward", "go on ahead", "step forward", "come forward"],
        "backward": ["go backwards", "back up", "move back", "walk back", "reverse",
                     "step back", "back off", "retreat", "go in reverse", "move backwards"],
        "left": ["step left", "move left", "shuffle left", "scoot left", "go left sideways",
                 "step to your left", "sidestep to the left", "slide over to the left"],
        "right": ["step right", "move right", "shuffle right", "scoot right",
                  "go right sideways", "step to your right", "sidestep to the right",
                  "slide over to the right"]}  # fmt: skip
TURN = {"left": ["turn left", "rotate left", "turn to your left", "pivot left",
                 "swivel left", "rotate anticlockwise", "rotate counter clockwise", "face left",
                 "turn to the left"],
        "right": ["turn right", "rotate right", "turn to your right", "pivot right",
                  "swivel right", "rotate clockwise", "face right",
                  "turn to the right"]}  # fmt: skip
FIXED = {"turn around": ["turn around", "turn round", "face the other way", "about turn",
                         "turn back the other way", "do a one eighty", "reverse direction"],
         "gait walk": ["walk mode please", "switch to walking", "go back to walking",
                       "use your walking gait", "change to a walk", "walking gait"],
         "gait trot": ["switch to a trot", "trot mode", "change to trotting",
                       "use the trot gait", "start trotting", "go to a trot"],
         "gait bound": ["switch to bounding", "bound mode", "change to a bound",
                        "use the bound gait", "start bounding"],
         "gait pace": ["switch to pacing", "pace mode", "use the pace gait",
                       "change your gait to pace", "start pacing"],
         "gait pronk": ["switch to pronking", "pronk mode", "use the pronk gait",
                        "start pronking", "change gait to pronk"],
         "speed up": ["speed up", "go faster", "faster", "quicker", "pick it up",
                      "increase your speed", "a little faster", "get a move on"],
         "slow down": ["slow down", "go slower", "slower", "ease off", "take it easy",
                       "reduce your speed", "not so fast", "a little slower"],
         "sit": ["sit", "sit down", "have a seat", "take a seat", "sit yourself down"],
         "stand": ["stand up", "stand", "get up", "up on your feet", "stand tall",
                   "get back up"],
         "lie down": ["lie down", "lay down", "get down on the floor", "lie flat",
                      "go lie down", "down on the ground"],
         "stop": ["stop", "halt", "stay there", "stop moving", "stand still", "hold still",
                  "don't move", "that's enough, stop", "stop right now please", "freeze"],
         "emergency stop": ["emergency stop", "stop immediately", "abort", "e stop",
                            "stop stop stop", "kill the motors", "emergency halt"],
         "come here": ["come here", "come to me", "come back to me", "come over here",
                       "over here", "get over here", "come"]}  # fmt: skip

NON_COMMANDS = [
    "i walked to the shop and back before lunch", "we turned left at the lights",
    "my brother can't stand the rain", "she sat down next to me on the bus",
    "the price went up by two dollars", "stop telling me what to do, mum said",
    "could you pass me the salt", "the train was running twenty minutes late",
    "he came here from spain in two thousand and ten", "the team is moving forward with the plan",
    "turn the music down a bit", "that movie was about a dog that runs away",
    "i need to lie down after all that food", "the kids ran around the garden",
    "we'll meet at half past three", "my phone number is five five five one two three four",
    "seven three nine two", "one two three four", "four eight fifteen sixteen twenty three",
    "two four six eight ten", "zero zero seven", "nine eight seven six five four",
    "one one two three five eight", "it costs nineteen ninety nine",
    "the score was three two after extra time", "page forty five, paragraph two",
    "the dog next door barks all night", "what time is it", "did you feed the cat",
    "i think it's going to rain later", "the meeting has been moved to friday",
    "back in my day we walked to school", "take the second right after the bridge",
    "the lift goes up to the tenth floor", "we should speed up the release",
    "can you hear me now", "the shop on the left is closed", "he ran ten kilometres yesterday",
    "the bus stops here every fifteen minutes", "sit tight, i'll be right back",
    "that's the right answer", "left the keys in the car again",
    "the stock turned around in the last quarter", "my knees hurt when i stand for too long",
    "the baby finally lay down for a nap", "and the winner is number six",
    "forty two", "hello, how are you", "thanks for coming", "let me think about it",
    "the temperature will drop to five degrees tonight", "i'll be there in ten minutes",
    "the recipe says bake for thirty minutes", "we drove three hundred miles",
    "the runner came second in the race", "look at that bird", "where did i put my glasses",
    "he turned twenty last week", "the film starts at nine", "we sat in the back row",
]  # fmt: skip


def _amount(rng: random.Random, value: float, unit: str) -> str:
    words = rng.choice(NUMS[value])
    plural, singular = UNITS[unit]
    one = value == 1 or words in ("half a", "a half")
    unit_word = rng.choice(singular if one else plural)
    if words == "a half":
        return f"a half {unit_word}"
    phrase = f"{words} {unit_word}"
    if unit == "s" and rng.random() < 0.5:
        phrase = "for " + phrase
    return phrase


def action(rng: random.Random) -> tuple[str, str]:
    """(canonical, spoken) of one random action."""
    r = rng.random()
    if r < 0.32:
        direction = rng.choice(["forward", "forward", "backward", "left", "right"])
        verb = rng.choice(MOVE[direction])
        kind = rng.random()
        if kind < 0.25:
            return f"move {direction}", verb
        unit = "m" if kind < 0.7 else "s"
        values = [0.5, 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10, 15, 20]
        if unit == "s":
            values = [1, 2, 3, 4, 5, 6, 7, 8, 10, 15, 20, 30]
        value = rng.choice(values)
        amount = _amount(rng, value, unit)
        canon = f"move {direction} {value:g} {unit}"
        if rng.random() < 0.3:
            return canon, f"{amount} {direction}" if not amount.startswith("for") else (
                f"{amount} go {direction}")  # fmt: skip
        return canon, f"{verb} {amount}"
    if r < 0.55:
        direction = rng.choice(["left", "right"])
        verb = rng.choice(TURN[direction])
        kind = rng.random()
        if kind < 0.25:
            return f"turn {direction}", verb
        if kind < 0.85:
            value = rng.choice([15, 30, 45, 60, 90, 120, 135, 180, 270, 360])
            amount = _amount(rng, value, "deg")
            canon = f"turn {direction} {value:g} deg"
            if rng.random() < 0.3 and verb.endswith(direction):
                return canon, f"{verb[: -len(direction)]}{amount} to the {direction}"
            return canon, f"{verb} {amount}"
        value = rng.choice([1, 2, 3, 4, 5, 10])
        return f"turn {direction} {value:g} s", f"{verb} {_amount(rng, value, 's')}"
    canon = rng.choice(sorted(FIXED))
    return canon, rng.choice(FIXED[canon])


def command(rng: random.Random) -> tuple[str, str]:
    """(canonical, spoken) of a random command of one to three actions."""
    n = rng.choices([1, 2, 3], [0.6, 0.3, 0.1])[0]
    parts = [action(rng) for _ in range(n)]
    canon = " then ".join(c for c, _ in parts)
    spoken = parts[0][1]
    for _, s in parts[1:]:
        spoken += rng.choice(JOIN) + s
    if rng.random() < 0.15:
        words = spoken.split()
        at = rng.randrange(len(words))
        words.insert(at, rng.choice(FILLERS))
        spoken = " ".join(words)
    spoken = " ".join(x for x in (rng.choice(HEDGES), spoken, rng.choice(TAILS)) if x)
    return canon, spoken


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--commands", type=int, default=400)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    seen: set[str] = set()
    rows = []
    while len(rows) < args.commands:
        canon, spoken = command(rng)
        if spoken not in seen:
            seen.add(spoken)
            rows.append(f"{canon}\t{spoken}")
    header = "# DEV set (benchmarks/make_voice_devset.py): for choosing rules, not for scores\n"
    (DATA / "dev_commands.tsv").write_text(header + "\n".join(rows) + "\n")
    (DATA / "dev_noncommands.txt").write_text(header + "\n".join(NON_COMMANDS) + "\n")
    print(f"wrote {len(rows)} commands, {len(NON_COMMANDS)} non-commands to {DATA}")


if __name__ == "__main__":
    main()
