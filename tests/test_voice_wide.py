"""The wider-worded training pairs (voice/wide.py): valid, reproducible, apart from evaluation."""

import random

from irondog.voice import corpus, lm, wide
from irondog.voice.commands import Stop, parse_canonical, to_json
from irondog.voice.train_parser import target_tokens


def test_wide_pairs_are_reproducible_and_fit_the_network() -> None:
    cfg = lm.ParserNetConfig()
    pairs = wide.wide_pairs(3, 400, {}, skip=set())
    assert pairs == wide.wide_pairs(3, 400, {}, skip=set())
    assert pairs != wide.wide_pairs(4, 400, {}, skip=set())
    nones = 0
    for text, target in pairs:
        assert text == corpus.normalise(text)
        assert 0 < len(text.split()) <= cfg.max_in
        target_tokens(target, cfg.max_out)  # raises if the target does not fit
        if target is None:
            nones += 1
        else:
            parse_canonical(target)
    assert 20 < nones < 120  # about 15% non-commands


def test_skipped_texts_are_never_produced() -> None:
    first = wide.wide_pairs(5, 300, {}, skip=set())
    skip = {t for t, _ in first[:100]}
    again = wide.wide_pairs(5, 300, {}, skip=skip)
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


def test_training_texts_regenerate_the_wide_pairs(tmp_path) -> None:  # noqa: ANN001
    import json

    from irondog.voice import train_parser

    meta = {"trained": {"seed": 0, "examples": 50, "sequences": 0, "wide": 40, "wide_seed": 9}}
    (tmp_path / "parser.json").write_text(json.dumps(meta))
    (tmp_path / "confusions.json").write_text("{}")
    texts = train_parser.training_texts(tmp_path)
    base = {t for t, _ in train_parser.make_corpus(0, 50, {})}
    assert {t for t, _ in train_parser.wide_pairs_for(base, 9, 40, {})} <= texts
    meta["trained"]["wide"] = 0
    (tmp_path / "parser.json").write_text(json.dumps(meta))
    assert len(train_parser.training_texts(tmp_path)) < len(texts)


def test_the_handwritten_dev_set_reads_and_means_what_it_says() -> None:
    from irondog.voice import heldout

    items = heldout.read(lm.DATA_DIR / "dev_handwritten.tsv")
    assert len(items) >= 140
    assert len({p.spoken for p in items}) == len(items)
    assert all(to_json(p.command) for p in items)
