"""Spoken forms the trained parser's output language cannot name, read by rules first.

The trained decoder emits a fixed token set (``lm.OUT_TOKENS``: gaits walk, trot and bound;
"speed up" and "slow down"). The gait policy also knows pace and pronk, and people say speeds
("run", "at one metre per second"). A transcript is split into pieces at "then", "and", ...;
a piece that holds such a form becomes canonical text here, and the rest of that piece (the
motion it qualifies, "walk forward" in "walk forward at one metre per second") is left for the
parser. A transcript without any such piece is not touched, so everything the parser reads
well is read as before.

A few phrasings the trained parser was measured to get wrong are read here too:
"slow down a bit" (it said "slow down then slow down"), "spin around to your right" (it turned
left), "stop right there" (rejected: "there" is no command word) and a bare "stop" (read as
an emergency stop).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from irondog.voice.corpus import normalise

RUN_MPS = 1.5  # m/s: "run" (the top of the joystick's forward range, JoystickLimits.lin_vel_x)
JOG_MPS = 1.0  # m/s: "jog"

# Words the forms below are made of (counted as command words by the parsers' coverage test).
VOCABULARY = frozenset(
    "pace pacing pronk pronking pronks paces run running sprint sprinting jog jogging per "
    "second metre metres meter meters bit little slightly spin there promking prong pronging "
    "promk trots trotting bounds bounding far enough return".split()
)

_SPLIT = re.compile(r"\b(?:and then|after that|then|next|and)\b")
_NUMBER = {"zero": 0.0, "half a": 0.5, "a half": 0.5, "half": 0.5, "one": 1.0, "a": 1.0,
           "one point five": 1.5, "two": 2.0, "point five": 0.5,
           "zero point five": 0.5, "point three": 0.3, "zero point three": 0.3,
           "point eight": 0.8, "zero point eight": 0.8, "one point two": 1.2}  # fmt: skip
_NUM_RE = "|".join(sorted((re.escape(k) for k in _NUMBER), key=len, reverse=True))
_SET_SPEED = re.compile(
    rf"\b(?:at|with|to)?\s*(?:a speed of\s+)?({_NUM_RE})\s+(?:metres?|meters?|m)\s+"
    r"(?:per|a|an)\s+(?:second|sec|s)\b"
)
_A_BIT = re.compile(r"\b(?:a (?:little )?bit|a little|slightly|a touch|bit)\b")
_SLOWER = re.compile(r"\b(?:slow(?:er)?|slow down)\b")
_FASTER = re.compile(r"\b(?:faster|quicker|speed up)\b")
_SPIN_SIDE = re.compile(
    r"\b(?:spin|turn|swing|rotate)\s+(?:all the way\s+)?a?round\s+(?:to\s+)?(?:your|the|its)?\s*"
    r"(left|right)\b"
)
_STOP_THERE = re.compile(
    r"^(?:(?:ok|okay|please|hey dog|hey robot)\s+)?(?:stop|halt|(?:stay|hold it)(?=\s+\w))"
    r"(?:\s+right)?(?:\s+(?:there|here|where you are))?(?:\s+please)?$"
)
# Gait and run words count only where a command starts ("switch to pronking", "run back"),
# not inside a sentence ("i went for a run", "the pace of life").
_LEAD = (r"^(?:(?:ok|okay|please|now|hey dog|hey robot|iron dog|um|uh|lets|go|start|switch|"
         r"change|gait|over|to the|into the|to|into|a|do|use|begin|try|back|move)\s+)*")  # fmt: skip
# Whisper tiny.en spells the rare "pronk" as "promk" or "prong" (heard on espeak-ng speech).
_GAIT = re.compile(_LEAD + r"(pac(?:e|es|ing)|pro[nm]k(?:s|ing)?|prong(?:s|ing)?)\b")
# Trot and bound the parser names, but not as the verb of a bounded move ("trot five metres
# ahead" lost its gait) nor after "back to" ("go back to trotting" became a backward move).
_GAIT_VERB = re.compile(_LEAD + r"(trot(?:s|ting)?|bound(?:s|ing)?)\b")
_ANY_GAIT = re.compile(r"\b(?:walk|trot|pace|bound|pronk)")
# Whole pieces the parser has no words for.
_WHOLE = {"thats far enough": "stop", "far enough": "stop", "return to me": "come here",
          "come back to me": "come here"}  # fmt: skip
_PACE_AS_SPEED = re.compile(r"\b(slow|slower|gentle|easy|steady|fast|faster|quick|brisk)\s+pace\b")
_RUN = re.compile(_LEAD + r"(run(?:ning)?|sprint(?:ing)?|jog(?:ging)?)\b")
_DIRECTION = re.compile(r"\b(forward|ahead|straight|back|backward|backwards|left|right)\b")


class Piece(NamedTuple):
    """One piece of a transcript: canonical actions read here, and words left for the parser
    (empty when the rules read the whole piece)."""

    canonical: tuple[str, ...]
    rest: str


def _read_piece(text: str) -> Piece | None:
    """The rules' reading of one piece, or None when no rule applies."""
    if _STOP_THERE.match(text):
        return Piece(("stop",), "")
    side = _SPIN_SIDE.search(text)
    if side:
        return Piece((f"turn {side.group(1)} 180 deg",), "")
    if _A_BIT.search(text):
        if _SLOWER.search(text) and not _FASTER.search(text):
            return Piece(("slow down",), "")
        if _FASTER.search(text) and not _SLOWER.search(text):
            return Piece(("speed up",), "")
    pace = _PACE_AS_SPEED.search(text)
    if pace:
        slow = pace.group(1) in ("slow", "slower", "gentle", "easy", "steady")
        rest = (text[: pace.start()] + text[pace.end() :]).replace(" at a ", " ").strip()
        return Piece(("slow down" if slow else "speed up",), _motion_rest(rest))
    if text in _WHOLE:
        return Piece((_WHOLE[text],), "")
    # A trot or bound at a set speed is read with the speed below; one followed by another gait
    # ("switch to bounding switch to walking") or by words that are not a motion ("start
    # bounding the winter clockwise", as Whisper heard "... then turn clockwise") is the
    # parser's, as before.
    gait = _GAIT.search(text)
    if gait is None and not _SET_SPEED.search(text):
        gait = _GAIT_VERB.search(text)
        after = text[gait.end() :].strip() if gait else ""
        # Only where the rest is nothing or a motion; other words are the parser's, as before.
        if gait and (_ANY_GAIT.search(after) or (after and not _DIRECTION.search(after))):
            gait = None
    if gait:
        word = gait.group(1)
        # "pro": pronk and Whisper's "promk" and "prong"
        name = next(g for g in ("pace", "trot", "bound", "pronk") if word.startswith(g[:3]))
        rest = "walk" + text[gait.end() :]  # "pace forward two metres": the motion
        return Piece((f"gait {name}",), rest if _DIRECTION.search(rest) else "")
    speed = _SET_SPEED.search(text)
    if speed:
        mps = _NUMBER[speed.group(1)]
        if mps <= 0:
            return None
        rest = (text[: speed.start()] + text[speed.end() :]).strip()
        gait_word = re.search(r"\b(walk|trot|bound)(?:ing)?\b", rest)
        said = (f"gait {gait_word.group(1)}",) if gait_word and gait_word.group(1) != "walk" else ()
        return Piece((*said, f"speed {mps:g} mps"), _motion_rest(rest, default="move forward"))
    run = _RUN.search(text)
    if run:
        mps = JOG_MPS if run.group(1).startswith("jog") else RUN_MPS
        rest = "walk" + text[run.end() :]
        return Piece((f"speed {mps:g} mps",), _motion_rest(rest, default="move forward"))
    return None


def _motion_rest(rest: str, default: str = "") -> str:
    """The words left after a speed phrase: the motion they qualify, or ``default``."""
    return rest if _DIRECTION.search(rest) else default


def whole(transcript: str) -> bool:
    """Whether the transcript is one of the whole spoken forms read here ("that's far
    enough"): a set phrase, so the parsers' share-of-command-words gate does not apply."""
    return normalise(transcript) in _WHOLE


def read(transcript: str) -> list[Piece] | None:
    """The pieces of a transcript when the rules read at least one of them, else None
    (then the parser reads the transcript whole, as it always has)."""
    text = normalise(transcript)
    text = text.replace("hundred and", "hundred").replace("one and a half", "one point five")
    parts = [p.strip() for p in _SPLIT.split(text) if p.strip()]
    pieces = [_read_piece(p) for p in parts]
    if all(p is None for p in pieces):
        return None
    return [p if p is not None else Piece((), part) for p, part in zip(pieces, parts, strict=True)]
