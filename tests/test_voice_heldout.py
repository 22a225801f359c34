"""The held-out paraphrase file: well formed, large enough, apart from the training texts."""

import pytest

from irondog.config import ConfigError
from irondog.voice import heldout


def test_shipped_paraphrases_hold_300_unseen_wordings() -> None:
    from irondog.voice.train_parser import training_texts

    kept, dropped = heldout.load(training_texts())
    assert len(kept) >= 300, (len(kept), dropped)
    assert len({p.spoken for p in kept}) == len(kept)  # no wording twice


def test_a_bad_line_names_the_file_and_line(tmp_path) -> None:
    path = tmp_path / "p.tsv"
    path.write_text("# comment\nmove forward\tgo on\nmove sideways\tslide\n")
    with pytest.raises(ConfigError, match=r"p\.tsv:3: canonical command"):
        heldout.read(path)
    path.write_text("move forward go on\n")
    with pytest.raises(ConfigError, match=r"p\.tsv:1: expected CANONICAL<TAB>SPOKEN"):
        heldout.read(path)
