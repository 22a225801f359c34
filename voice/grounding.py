"""Whether every action of a parse rests on a word that was said.

A parser reads commands into chatter. On the DEV stream "seven three iron two" became ``move
forward 2 s``, "the lift goes up to the ten floors" ``move forward 10 m`` and "i need to lie
down after all that feed" ``slow down then lie down then stand``: each parse holds an action
no word of the transcript asks for (no forward, no slow, no stand). This reject gate
(``reject.grounded``) keeps a command only when every one of its actions has at least one of
its cue words in the transcript.

The cue words come from the training phrasings alone (``corpus.phrase_action`` and
``wide.wide_action``, the two generators the trained parser learns from), never from a set
that is scored: for each kind of action (``turn left``, ``move forward``, ``sit``, ...; the
amounts left out), a word is a cue when it is in at least ``MIN_SHARE`` of that kind's
phrasings and at least ``MIN_RATIO`` times as common there as in the phrasings of all other
kinds together, and as in the generators' non-commands (``corpus.sample_out_of_domain``,
``wide.wide_out_of_domain``: "please", "now", "and" ask for nothing). A word of a spoken
amount ("eight", "metres") must also be ``MIN_RATIO`` times as common as in any single other
kind: "ninety" belongs to both turns, the "eighty" of "one eighty" to the about-turn alone.
Kinds the generators never phrase (pace and pronk, a set speed: read by ``phrases``' rules,
which need their own words) are grounded by construction.

An amount is a claim of its own. "go somewhere and do something" became ``move forward 2 s``:
"go" asks for the move, but nothing said gives two seconds. So an action with a bound also
needs a word of a spoken amount: a digit, or a word at least ``MIN_RATIO`` times as common in
the generators' phrasings of bounded actions as in those of unbounded ones and in their
non-commands ("three", "metres", "quarter"; not "a" or "and"). An about-turn said as "turn
around" carries its 180 degrees in its own cue words.

    from irondog.voice.grounding import ungrounded
    ungrounded(parse.command, parse.transcript)   # [] when every action is asked for
"""

from __future__ import annotations

import collections
import functools
import random
from collections.abc import Iterator

from irondog.voice import corpus, phrases, wide, wording
from irondog.voice.commands import (
    ANGLES_DEG,
    DISTANCES_M,
    DURATIONS_S,
    Action,
    Command,
    action_text_safe,
)

SAMPLES = 30_000  # actions phrased (half by each generator) to count the cue words
MIN_SHARE = 0.03  # a cue word is in at least 3% of its kind's phrasings ...
MIN_RATIO = 3.0  # ... and three times as common there as in the other kinds'
MIN_PHRASINGS = 500  # of SAMPLES: a whole canonical text common enough to be a kind of its own
SEED = 0


def action_kind(action: Action) -> str:
    """The action's canonical text without its amount: "turn left 90 deg" -> "turn left"."""
    words = action_text_safe(action).split()
    return " ".join(w for w in words if not _is_amount(w) and w not in ("m", "s", "deg", "mps"))


def _is_amount(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


def _amount_words() -> set[str]:
    """Every word of a spoken number or unit ("one hundred and twenty", "metres", "secs")."""
    words = set("m metre metres meter meters s sec secs second seconds deg degree degrees".split())
    for value in {*DISTANCES_M, *DURATIONS_S, *ANGLES_DEG}:
        for said in corpus.number_phrasings(value):
            words.update(corpus.normalise(said).split())
    return words


def _phrasings(rng: random.Random) -> Iterator[tuple[Action, set[str]]]:
    """``SAMPLES`` random actions, each with the words of one training phrasing of it (the
    two generators in turn)."""
    for i in range(SAMPLES):
        action = corpus.sample_action(rng)
        phrase = corpus.phrase_action if i % 2 else wide.wide_action
        yield action, set(corpus.normalise(phrase(action, rng)).split())


def _chatter(rng: random.Random, n: int) -> collections.Counter[str]:
    """In how many of ``n`` generated non-commands each word is (the two generators in turn)."""
    chatter: collections.Counter[str] = collections.Counter()
    for i in range(n):
        say = corpus.sample_out_of_domain if i % 2 else wide.wide_out_of_domain
        chatter.update(set(say(rng).split()))
    return chatter


@functools.cache
def cue_words() -> dict[str, frozenset[str]]:
    """Kind of action -> the words that ask for it, counted over the training phrasings.

    Kinds are the actions without their amounts ("turn left"), and also the whole canonical
    text of an action phrased at least ``MIN_PHRASINGS`` times ("turn left 180 deg", which
    the generators also say as "turn around" or "do a one eighty")."""
    rng = random.Random(SEED)
    counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    totals: collections.Counter[str] = collections.Counter()
    generic: set[str] = set()  # the kinds without amounts
    for action, words in _phrasings(rng):
        generic.add(action_kind(action))
        for kind in {action_kind(action), action_text_safe(action)}:
            counts[kind].update(words)
            totals[kind] += 1
    for kind in [k for k in counts if k not in generic and totals[k] < MIN_PHRASINGS]:
        del counts[kind], totals[kind]
    n_chatter = SAMPLES // 4
    chatter = _chatter(rng, n_chatter)
    amounts = _amount_words()
    everything: collections.Counter[str] = collections.Counter()
    for kind in generic:
        everything.update(counts[kind])
    n_all = sum(totals[k] for k in generic)

    def share(kind: str, word: str) -> float:
        return counts[kind][word] / totals[kind]

    def is_cue(kind: str, word: str) -> bool:
        own = share(kind, word)
        others = (everything[word] - counts[kind][word]) / max(n_all - totals[kind], 1)
        if kind not in generic:  # a whole text against every phrasing, itself included
            others = everything[word] / n_all
        if own < MIN_SHARE or own < MIN_RATIO * max(others, chatter[word] / n_chatter):
            return False
        if word in amounts:
            rival = max((share(k, word) for k in generic if k != kind), default=0.0)
            return own >= MIN_RATIO * rival
        return True

    return {kind: frozenset(w for w in counts[kind] if is_cue(kind, w)) for kind in counts}


MIN_AMOUNT_COUNT = 5  # of SAMPLES: an amount word is seen at least this often


def _bounded(action: Action) -> bool:
    bounds = ("duration_s", "distance_m", "angle_deg")
    return any(getattr(action, b, None) is not None for b in bounds)


@functools.cache
def amount_cues() -> frozenset[str]:
    """Words that say an amount, counted over the training phrasings (module docstring).

    Each bounded phrasing is set against phrasings of the same kind of action without a
    bound ("turn left for three seconds" against "turn left"), so a direction or verb word is
    never an amount word; the words that join actions ("and", "then") are not either."""
    rng = random.Random(SEED + 1)
    bounded: collections.Counter[str] = collections.Counter()
    free: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    n_bounded: collections.Counter[str] = collections.Counter()
    n_free: collections.Counter[str] = collections.Counter()
    for action, words in _phrasings(rng):
        kind = action_kind(action)
        if _bounded(action):
            bounded.update(words)
            n_bounded[kind] += 1
        else:
            free[kind].update(words)
            n_free[kind] += 1
    n_chatter = SAMPLES // 4
    chatter = _chatter(rng, n_chatter)
    joiners = {w for c in (*corpus.CONNECTORS, *wide._CONNECT) for w in corpus.normalise(c).split()}
    total = sum(n_bounded.values())

    def expected(word: str) -> float:  # its count in the bounded phrasings were it no amount
        return sum(n * free[k][word] / n_free[k] for k, n in n_bounded.items() if n_free[k])

    return frozenset(
        w
        for w, n in bounded.items()
        if n >= MIN_AMOUNT_COUNT
        and w not in joiners
        and n >= MIN_RATIO * max(expected(w), total * chatter[w] / n_chatter)
    )


def _says_amount(said: set[str]) -> bool:
    return bool(said & amount_cues()) or any(c.isdigit() for w in said for c in w)


def ungrounded(command: Command, transcript: str) -> list[str]:
    """Canonical texts of the command's actions with no cue word in ``transcript`` (heard as
    is, or as ``wording.rewrite`` rewords it for the parser), or with a bound (metres,
    seconds, degrees) and no word of an amount. What ``phrases``' rules read counts as said,
    with the motion they imply ("start running": a forward move at 1.5 m/s): each rule needs
    its own words to fire."""
    said = set(corpus.normalise(transcript).split())
    reworded = wording.rewrite(transcript)
    said |= set(reworded.split())
    for piece in phrases.read(reworded) or ():
        said |= set(" ".join((*piece.canonical, piece.rest)).split())
    cues = cue_words()
    missing = []
    for action in command.actions:
        text = action_text_safe(action)
        kinds = [k for k in (action_kind(action), text) if k in cues]
        if kinds and not any(cues[k] & said for k in kinds):
            missing.append(text)
        elif _bounded(action) and not _says_amount(said):
            if not (text in cues and cues[text] & said):  # "turn around": 180 deg in its cues
                missing.append(text)
    return missing
