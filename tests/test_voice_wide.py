"""The wider-worded training pairs (voice/wide.py, and voice/loose.py's through it): valid,
reproducible, apart from evaluation."""

import random

import pytest

from irondog.voice import corpus, lm, loose, wide
from irondog.voice.commands import Stop, parse_canonical, to_json
from irondog.voice.train_parser import target_tokens

# Both extra phrasing processes draw their pairs through wide.generated_pairs.
GENERATORS = pytest.mark.parametrize("pairs", [wide.wide_pairs, loose.loose_pairs],
                                     ids=["wide", "loose"])  # fmt: skip


@GENERATORS
def test_pairs_are_reproducible_and_fit_the_network(pairs) -> None:  # noqa: ANN001
    cfg = lm.ParserNetConfig()
    drawn = pairs(3, 400, {}, skip=set())
    assert drawn == pairs(3, 400, {}, skip=set())
    assert drawn != pairs(4, 400, {}, skip=set())
    nones = 0
    for text, target in drawn:
        assert text == corpus.normalise(text)
        assert 0 < len(text.split()) <= cfg.max_in
        target_tokens(target, cfg.max_out)  # raises if the target does not fit
        if target is None:
            nones += 1
        else:
            parse_canonical(target)
    assert 20 < nones < 120  # about 15% non-commands


@GENERATORS
def test_skipped_texts_are_never_produced(pairs) -> None:  # noqa: ANN001
    first = pairs(5, 300, {}, skip=set())
    skip = {t for t, _ in first[:100]}
    again = pairs(5, 300, {}, skip=skip)
    assert not skip & {t for t, _ in again}
    assert len(again) == 300


def test_a_plain_stop_is_never_worded_as_urgent() -> None:
    # "stop now" means an emergency stop in the corpus; the wide frames must not teach otherwise.
    from irondog.voice.commands import Command

    rng = random.Random(0)
    for _ in range(400):
        text = wide.wide_phrase(Command((Stop(False),)), rng)
        assert "now" not in text.split() and "right away" not in text, text


def test_the_wide_words_join_the_command_vocabulary() -> None:
    from irondog.voice.train_parser import command_vocabulary

    plain = set(command_vocabulary([]))
    wider = set(command_vocabulary([], wide=True))
    assert {"retreat", "advance", "anticlockwise"} <= wider
    assert plain < wider


def test_wide_words_common_in_other_speech_stay_out_of_the_command_vocabulary() -> None:
    from irondog.voice.train_parser import command_vocabulary

    chatter = [{"transcript": "a lot of it is in the past", "target": None}] * 10
    chatter += [{"transcript": "what a nice day", "target": None}] * 190
    wider = set(command_vocabulary(chatter, wide=True))
    assert "retreat" in wider  # never said in other speech
    assert not {"of", "in"} & wider  # in 5% of the other-speech lines (0.5% allowed)
    assert {"of", "in"} <= set(command_vocabulary([], wide=True))  # only their rate keeps them out


@pytest.mark.parametrize("kind", ["wide", "loose"])
def test_training_texts_regenerate_the_extra_pairs(tmp_path, kind) -> None:  # noqa: ANN001
    import json

    from irondog.voice import train_parser

    meta = {"trained": {"seed": 0, "examples": 50, "sequences": 0, kind: 40, f"{kind}_seed": 9}}
    (tmp_path / "parser.json").write_text(json.dumps(meta))
    (tmp_path / "confusions.json").write_text("{}")
    texts = train_parser.training_texts(tmp_path)
    base = {t for t, _ in train_parser.make_corpus(0, 50, {})}
    pairs_for = getattr(train_parser, f"{kind}_pairs_for")
    assert {t for t, _ in pairs_for(base, 9, 40, {})} <= texts
    meta["trained"][kind] = 0
    (tmp_path / "parser.json").write_text(json.dumps(meta))
    assert len(train_parser.training_texts(tmp_path)) < len(texts)


def test_the_handwritten_dev_set_reads_and_means_what_it_says() -> None:
    from irondog.voice import heldout

    items = heldout.read(lm.DATA_DIR / "dev_handwritten.tsv")
    assert len(items) >= 140
    assert len({p.spoken for p in items}) == len(items)
    assert all(to_json(p.command) for p in items)
