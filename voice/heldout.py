"""Held-out paraphrases: commands worded by hand, by a different process than the training
corpus (voice/corpus.py's templates), for evaluating the parsers on wording they never saw.

``voice/data/heldout_paraphrases.tsv`` holds one ``CANONICAL<TAB>SPOKEN`` pair a line; nothing
trains on it or chooses a setting with it. ``load`` reads it strictly and drops (and counts)
any paraphrase whose normalised text also occurs among the parser's training texts.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from irondog.config import ConfigError
from irondog.voice.commands import Command, CommandError, parse_canonical
from irondog.voice.corpus import normalise

PARAPHRASES = Path(__file__).parent / "data" / "heldout_paraphrases.tsv"


class Paraphrase(NamedTuple):
    """One held-out item: what was said and the command it means."""

    spoken: str
    command: Command
    line: int


def read(path: str | Path = PARAPHRASES) -> list[Paraphrase]:
    """Every pair in a paraphrase file; a malformed line is a ConfigError naming file and line."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: paraphrase file does not exist")
    out = []
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        if not raw.strip() or raw.startswith("#"):
            continue
        parts = raw.split("\t")
        if len(parts) != 2 or not parts[1].strip():
            raise ConfigError(f"{path}:{number}: expected CANONICAL<TAB>SPOKEN, got {raw!r}")
        try:
            command = parse_canonical(parts[0])
        except CommandError as err:
            raise ConfigError(f"{path}:{number}: canonical command: {err}") from None
        out.append(Paraphrase(parts[1].strip(), command, number))
    return out


def load(training_texts: set[str], path: str | Path = PARAPHRASES) -> tuple[list[Paraphrase], int]:
    """The paraphrases whose wording is not among ``training_texts`` (compared normalised),
    and how many were dropped for being there."""
    seen = {normalise(t) for t in training_texts}
    items = read(path)
    kept = [p for p in items if normalise(p.spoken) not in seen]
    return kept, len(items) - len(kept)
