"""Transcript rewriting before any parser reads it: the many ways people word a command
brought to the few the parsers were built on.

``rewrite`` drops fillers ("um", "er"), hedges and politeness ("i'd like you to", "could you
please", "thank you", "if you can") around each action, maps verb synonyms onto the verbs of
the training corpus ("proceed" -> "go forward", "pivot left" -> "turn left", "have a seat" ->
"sit down"), number words onto the corpus' number words ("a couple of" -> "two", "one eighty"
-> "one hundred and eighty"), unit spellings onto whole words ("m" -> "metres", "secs" ->
"seconds"), a few word orders ("eight metres forward" -> "go forward eight metres") and
connectors ("followed by", "once you've done that") onto "then". ``is_number_list`` tells a
read-out digit string or number list ("five five five one two", "forty two"), which no
command is, so every parser rejects it instead of guessing a move or a stop.
``merge_restated`` takes a parse back to one action where a comma only restated it ("off you
go, straight ahead", "easy, slower"); a bare "go" beside another action only starts it, and a
bare "sideways" after a comma beside a move that names its side only restates it.
``units_as_said`` gives a parse's one bound the unit that was said ("walk forward for two
metres" is two metres, not two seconds).

The rules were chosen on the DEV set (benchmarks/make_voice_devset.py), never on the held-out
paraphrases.
"""

from __future__ import annotations

import dataclasses
import re

from irondog.voice import corpus
from irondog.voice.commands import ANGLES_DEG, DISTANCES_M, DURATIONS_S, Action, Command, Move
from irondog.voice.corpus import normalise

_FILLERS = re.compile(r"\b(?:um+|uh+|er+|erm|hmm+|ah+)\b")
_LIKE = re.compile(r"\blike\b")  # a filler once "i'd like you to" is gone
# A comma parts actions ("sit down, turn left"); a lone word before it is a hedge ("right,").
_COMMA_HEDGE = re.compile(r"^\s*(?:right|okay|ok|so|well|alright|listen|hey|buddy)\s*,", re.I)
_CONNECTORS = re.compile(
    r"\b(?:followed by|once youve done that|once you have done that|when youre done|"
    r"when you are done|and when youre done|after which|and afterwards|afterwards|"
    r"and after that|after that|and then|then|next)\b"
)
_HEDGE = (
    r"(?:i want you to|id like you to|i would like you to|i need you to|would you|could you|"
    r"can you|will you|go ahead and|try to|you should|lets|maybe|okay so|ok so|okay|ok|"
    r"alright|all right|hey|listen|buddy|please|kindly|just|now|so|thats enough)"
)
_LEADING = re.compile(rf"^(?:{_HEDGE}(?:\s+|$))+")
_TRAILING = re.compile(
    r"(?:\s+(?:please|thank you|thanks|for me|if you can|if you could|would you|could you|"
    r"right away|buddy|okay|ok))+$"
)

_NUM = (
    r"(?:(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|"
    r"twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|and|a|half|point)\s*)+"
)

# (pattern, replacement), applied in order to each action's words.
_SYNONYMS: tuple[tuple[str, str], ...] = (
    # numbers and units
    (r"\ba couple of\b", "two"),
    (r"\ba single\b", "one"),
    # "one more metre forward", "walk two more metres": the amount of this action
    (r"\b(one|two|three|four|five|six|seven|eight|nine|ten|a)\s+more\s+(metres?|meters?|seconds?)\b",
     r"\1 \2"),  # fmt: skip
    # "make a left turn of ninety degrees", "take a right turn"
    (r"\b(?:make|do|take)\s+a\s+(left|right)\s+turn(?:\s+of)?\b", r"turn \1"),
    (r"\ba hundred\b", "one hundred"),
    (
        r"\b(one|two|three) (twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)\b",
        r"\1 hundred and \2",
    ),  # fmt: skip
    (r"\bhundred (twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)\b", r"hundred and \1"),
    (r"\b(metres?|meters?|m)\b", "metres"),
    (r"(?<!per )\b(seconds?|secs?|s)\b", "seconds"),
    (r"\b(degrees?|deg)\b", "degrees"),
    (r"(?<!half )\ba (metres|seconds|degrees)\b", r"one \1"),
    (r"\bone metres\b", "one metre"),  # the corpus says one in the singular
    (r"\bone seconds\b", "one second"),
    (r"\bone degrees\b", "one degree"),
    # "a metre and a half": the corpus says "one and a half metres"
    (
        r"\b(one|two|three|four|five|six|seven|eight|nine) metres? and a half\b",
        r"\1 and a half metres",
    ),
    # turning round
    (
        r"\b(?:about turn|do a one hundred and eighty|turn back the other way|reverse direction|"
        r"turn the other way)\b",
        "turn around",
    ),  # fmt: skip
    # sideways
    (
        r"\b(?:shuffle|scoot|slide over|slide|sidestep|side step|go|move|step)\s+"
        r"(?:over\s+)?(?:to\s+)?(?:the|your)?\s*(left|right)(?:\s+sideways)?\b",
        r"step \1",
    ),  # fmt: skip
    # turning
    (r"\b(?:pivot|swivel|face|rotate|turn)\s+(?:to\s+)?(?:the|your)\s+(left|right)\b", r"turn \1"),
    (r"\b(?:pivot|swivel|face)\s+(left|right)\b", r"turn \1"),
    (
        r"\b(?:rotate|turn|pivot|swivel)\s+(?:counter clockwise|anti clockwise)\b",
        "turn counterclockwise",
    ),  # fmt: skip
    # forward and back
    (
        r"\b(?:proceed|advance|keep going forward|keep going|carry on forward|carry on|"
        r"go on ahead|walk on|come forward|head forward|step forward|move ahead)\b",
        "go forward",
    ),  # fmt: skip
    (r"\b(?:back off|retreat|go in reverse|step backward|step backwards|go back)\b", "move back"),
    (r"\b(?:move|go|walk|step|get) away from me\b", "move back"),
    (r"\bstart (?:walking|moving) (?:forward|forwards|ahead)\b", "go forward"),
    (r"\bgo backwards\b", "go backward"),
    # gaits: "change to a trot", "use the pace gait", "go back to walking"
    (
        r"\b(?:switch|change|go|move|get)\s+(?:your gait\s+|gait\s+)?(?:back\s+)?(?:in)?to\s+"
        r"(?:a\s+|the\s+)?(walk|trot|pace|bound|pronk)(?:ing|s)?(?:\s+gait)?\b",
        r"switch to \1",
    ),  # fmt: skip
    (
        r"\b(?:use|start|begin|do)\s+(?:the|your|a)\s+(walk|trot|pace|bound|pronk)(?:ing)?"
        r"\s+gait\b",
        r"switch to \1",
    ),  # fmt: skip
    (r"\b(walk|trot|pace|bound|pronk)(?:ing)?\s+(?:gait|mode)(?:\s+please)?\b", r"switch to \1"),
    (r"\bswitch to walk\b", "switch to walking"),
    (r"\bswitch to trot\b", "switch to trotting"),
    (r"\bswitch to bound\b", "switch to bounding"),
    (r"\bswitch to pace\b", "switch to pacing"),
    (r"\bswitch to pronk\b", "switch to pronking"),
    # speed
    (r"\bquicker\b", "faster"),
    (r"\b(?:pick it up|get a move on|increase your speed|step it up|speed it up)\b", "speed up"),
    (
        r"\b(?:ease off|ease up|not so fast|reduce your speed|take it easy|slow it down)\b",
        "slow down",
    ),  # fmt: skip
    # postures
    (r"\b(?:have a seat|sit yourself down|sit back down)\b", "sit down"),
    (r"\b(?:get back up|up on your feet|stand tall|stand back up)\b", "stand up"),
    (
        r"\b(?:go lie down|get down on the (?:floor|ground)|down on the (?:floor|ground)|"
        r"lie on the (?:floor|ground)|lie down on the (?:floor|ground))\b",
        "lie down",
    ),  # fmt: skip
    # stopping and coming
    (r"\b(?:dont move|stay there|stay put)\b", "stop"),
    (r"\b(?:come back to me|get over here|come back over here)\b", "come here"),
)
_SYNONYMS_RE = tuple((re.compile(p), r) for p, r in _SYNONYMS)
# "eight metres forward", "for seven seconds go right": the amount before the direction.
_AMOUNT_FIRST = re.compile(
    rf"^(?:for\s+)?({_NUM}(?:metres|seconds))\s+(?:go\s+|step\s+|to the\s+)?"
    r"(forward|ahead|backward|back|left|right)$"
)
# "turn to your fifteen degrees to the left", "turn fifteen degrees to the right"
_TURN_AMOUNT = re.compile(
    rf"^(?:turn|face|pivot|swivel|rotate)\s+(?:to your\s+|to the\s+)?({_NUM}degrees)\s+"
    r"(?:to the\s+)?(left|right)$"
)

# Words that only read numbers out ("oh" for zero in digit strings).
_DIGITS = corpus.NUMBER_WORDS | {"oh", "hundred", "thousand"}
_SINGLE = corpus.DIGIT_WORDS | {"oh"}


# Said beside an action, these only start it.
_START_CUES = frozenset({"go", "go go"})
# A bare "sideways" beside an action that names its side only restates it.
_SIDEWAYS = frozenset({"sideways", "go sideways", "step sideways", "move sideways"})
_SIDE = re.compile(r"\b(?:left|right)\b")
_TURN_START = re.compile(r"^(?:turn|rotate|spin|swivel|pivot|face)\b")


def _action(words: str) -> str:
    """One action's words, hedges stripped and synonyms mapped."""
    words = _LEADING.sub("", words).strip()
    words = _TRAILING.sub("", " " + words).strip()
    words = _LIKE.sub(" ", words)
    for pattern, replacement in _SYNONYMS_RE:
        words = pattern.sub(replacement, words)
    words = " ".join(words.split())
    amount = _AMOUNT_FIRST.match(words)
    if amount:
        verb = "step" if amount.group(2) in ("left", "right") else "go"
        words = f"{verb} {amount.group(2)} {amount.group(1).strip()}"
    turn = _TURN_AMOUNT.match(words)
    if turn:
        words = f"turn {turn.group(2)} {turn.group(1).strip()}"
    return words


def rewrite(transcript: str) -> str:
    """The transcript normalised and brought to the corpus' wording (see the module doc)."""
    text = _COMMA_HEDGE.sub(" ", transcript).replace(",", " then ")
    text = normalise(text)
    text = " ".join(_FILLERS.sub(" ", text).split())
    text = _CONNECTORS.sub(" then ", text)
    actions = [a for a in (_action(p.strip()) for p in text.split(" then ")) if a]
    if len(actions) > 1:  # "nine metres forward, go": "go" starts the other action
        actions = [a for a in actions if a not in _START_CUES] or actions
    if "," in transcript and any(_SIDE.search(a) and not _TURN_START.match(a) for a in actions):
        # "one metre to your right, sideways": the comma restates the side
        actions = [a for a in actions if a not in _SIDEWAYS] or actions
    return " then ".join(actions)


def is_number_list(transcript: str) -> bool:
    """Whether a transcript is only numbers read out: a digit string ("five five five one"),
    a number list ("two four six eight") or a bare number ("forty two"). No command is."""
    words = [w for w in normalise(transcript).split() if w not in ("and", "um", "uh", "er")]
    if not words:
        return False
    if all(w in _DIGITS for w in words):
        return True
    # three single digits in a row inside a sentence ("my number is five five five one")
    run = 0
    for w in words:
        run = run + 1 if w in _SINGLE else 0
        if run >= 3:
            return True
    return False


# Words that ask for a second action or the same one again: with one of them, two like actions
# across a comma are a sequence ("turn left, then turn left again"), not a restatement.
_SEQUENCE_WORDS = re.compile(r"\b(?:then|after|next|and|again|more|twice|also|another)\b")


def merge_restated(transcript: str, command: Command) -> Command:
    """``command`` with the same action said twice in a row kept once, when the transcript has a
    comma and no word that asks for a sequence or a repeat: "easy, slower" is one slow-down,
    "off you go, straight ahead" one move forward. Chosen on the DEV sets, where a move and the
    same move with a bound ("turn a little to the right, about thirty degrees") merged too but
    cost a labelled two-turn command, so they stay two actions."""
    if "," not in transcript or _SEQUENCE_WORDS.search(normalise(transcript)):
        return command
    actions: list[Action] = []
    for action in command.actions:
        if not actions or action != actions[-1]:
            actions.append(action)
    return command if len(actions) == len(command.actions) else Command(tuple(actions))


_UNIT_WORDS = {
    "distance_m": frozenset({"metre", "metres", "meter", "meters"}),
    "duration_s": frozenset({"second", "seconds"}),
    "angle_deg": frozenset({"degree", "degrees"}),
}
_UNIT_VALUES = {"distance_m": DISTANCES_M, "duration_s": DURATIONS_S, "angle_deg": ANGLES_DEG}


def units_as_said(reworded: str, command: Command) -> Command:
    """``command`` with its bound in the unit the transcript names, when exactly one action has
    a bound and the transcript names exactly one kind of unit, another than the parse's, that
    such a move can take ("for two metres" read as two seconds: the number kept, the unit said).
    Anything less clear is left as parsed. ``reworded``: the transcript as ``rewrite`` gives it
    (units spelled as whole words), which the parsers already hold."""
    bounded = [i for i, a in enumerate(command.actions)
               if isinstance(a, Move) and (a.duration_s, a.distance_m, a.angle_deg) != (None,) * 3]  # fmt: skip
    words = set(reworded.split())
    said = [name for name, unit in _UNIT_WORDS.items() if words & unit]
    if len(bounded) != 1 or len(said) != 1:
        return command
    i, want = bounded[0], said[0]
    move = command.actions[i]
    assert isinstance(move, Move)
    have = next(n for n in _UNIT_WORDS if getattr(move, n) is not None)
    planar = (move.vx, move.vy) != (0.0, 0.0)
    fits = {"distance_m": planar, "angle_deg": not planar, "duration_s": True}[want]
    value = getattr(move, have)
    if want == have or not fits or value not in _UNIT_VALUES[want]:
        return command
    fixed = dataclasses.replace(move, **{have: None, want: value})
    return Command(command.actions[:i] + (fixed,) + command.actions[i + 1 :])
