"""The reject gates for speech not meant for the robot: each gate, its config checks, and the
pipeline's JSON result when one refuses (a fake recogniser and parser: no model, no network)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from irondog.config import ConfigError, load
from irondog.voice.asr import Hypothesis, Recognition, compression_ratio
from irondog.voice.commands import JoystickState, parse_canonical
from irondog.voice.config import AsrConfig, AudioConfig, RejectConfig, VoiceConfig
from irondog.voice.lm import Parse
from irondog.voice.pipeline import VoicePipeline, gate

CLEAN = {"no_speech_prob": 0.01, "logprob": -0.05, "compression_ratio": 0.8, "speech_s": 1.5,
         "words_per_s": 2.0, "parse_confidence": 0.99, "verified": True}  # fmt: skip
OFF = RejectConfig(min_logprob=None, min_parse_confidence=None)  # every gate off


@pytest.mark.parametrize(
    ("field", "limit", "value"),
    [
        ("max_no_speech_prob", 0.5, {"no_speech_prob": 0.6}),
        ("min_logprob", -0.5, {"logprob": -0.7}),
        ("min_parse_confidence", 0.9, {"parse_confidence": 0.8}),
        ("max_compression_ratio", 2.0, {"compression_ratio": 2.5}),
        ("max_speech_s", 4.0, {"speech_s": 5.0}),
        ("max_words_per_s", 4.0, {"words_per_s": 4.5}),
    ],
)
def test_each_gate_refuses_past_its_limit_only(field: str, limit: float, value: dict) -> None:
    cfg = dataclasses.replace(OFF, **{field: limit})
    assert gate(CLEAN, cfg) == ""
    refused = gate({**CLEAN, **value}, cfg)
    name = next(iter(value))
    assert refused.startswith(name), refused
    assert gate({**CLEAN, **value}, OFF) == ""  # that gate off


def test_gates_name_every_failure_and_the_verify_reading() -> None:
    cfg = RejectConfig(max_no_speech_prob=0.5, max_speech_s=3.0, verify="unprompted")
    signals = {**CLEAN, "no_speech_prob": 0.9, "speech_s": 8.0, "verified": False,
               "verify_transcript": "and the oven"}  # fmt: skip
    refused = gate(signals, cfg)
    assert "no_speech_prob 0.9 > 0.5" in refused and "speech_s 8 > 3" in refused
    assert "'and the oven'" in refused
    assert gate(CLEAN, cfg) == ""


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"max_no_speech_prob": 1.5}, "max_no_speech_prob"),
        ({"min_logprob": 0.5}, "min_logprob"),
        ({"min_parse_confidence": 1.5}, "min_parse_confidence"),
        ({"max_compression_ratio": 0.0}, "max_compression_ratio"),
        ({"max_speech_s": -1.0}, "max_speech_s"),
        ({"max_words_per_s": 0.0}, "max_words_per_s"),
    ],
)
def test_bad_reject_settings_name_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        RejectConfig(**kwargs)


def test_reject_yaml_unknown_key_names_key_and_file(tmp_path: Path) -> None:
    path = tmp_path / "v.yaml"
    path.write_text("reject:\n  max_no_speech: 0.5\n")
    with pytest.raises(ConfigError, match="max_no_speech") as err:
        load(VoiceConfig, path)
    assert "v.yaml" in str(err.value)
    path.write_text(
        "asr:\n  prompt: commands\nreject:\n  max_speech_s: 6.5\n  verify: unprompted\n"
    )
    cfg = load(VoiceConfig, path)
    assert cfg.reject.max_speech_s == 6.5 and cfg.reject.verify == "unprompted"
    # Unprompted after no prompt would hear the same thing twice: refused, naming the key.
    path.write_text("asr:\n  prompt: none\nreject:\n  verify: unprompted\n")
    with pytest.raises(ConfigError, match="reject.verify.*asr.prompt") as err:
        load(VoiceConfig, path)
    assert "v.yaml" in str(err.value)


def test_default_gates_keep_a_clean_command_and_refuse_a_doubtful_one() -> None:
    assert gate(CLEAN, RejectConfig()) == ""
    assert gate({**CLEAN, "logprob": -0.6}, RejectConfig()).startswith("logprob")
    assert gate({**CLEAN, "parse_confidence": 0.8}, RejectConfig()).startswith("parse_conf")


def test_verify_needs_whisper() -> None:
    with pytest.raises(ConfigError, match="reject.verify"):
        VoiceConfig(asr=AsrConfig(engine="pocketsphinx"), reject=RejectConfig(verify="vocabulary"))


def test_prompt_setting_names_the_field_and_file(tmp_path: Path) -> None:
    path = tmp_path / "v.yaml"
    path.write_text("asr:\n  prompt: examples\n")
    with pytest.raises(ConfigError, match="prompt") as err:
        load(VoiceConfig, path)
    assert "v.yaml" in str(err.value)
    assert AsrConfig().prompt == "commands"
    VoiceConfig(asr=AsrConfig(engine="pocketsphinx"))  # the default prompt: ignored, not refused


def test_pipeline_hands_the_recogniser_its_prompt(monkeypatch: pytest.MonkeyPatch) -> None:
    from irondog.voice import asr, lm

    seen: list[str] = []
    monkeypatch.setattr(asr, "make_recognizer", lambda *a, **kw: seen.append(kw["prompt"]))
    monkeypatch.setattr(lm, "make_parser", lambda *a, **kw: FakeParser())
    for name in ("none", "commands", "vocabulary"):
        VoicePipeline(VoiceConfig(asr=AsrConfig(prompt=name)))
    assert seen == ["", asr.WHISPER_PROMPT, asr.VOCABULARY_PROMPT]


def test_compression_ratio_flags_repetition_loops() -> None:
    assert compression_ratio("") == 0.0
    assert compression_ratio("turn left ninety degrees") < 1.5
    assert compression_ratio("go forward " * 20) > 2.4


class FakeRecognizer:
    """Hears ``text`` with the given no-speech probability; with another prompt, ``again``."""

    name = "whisper"

    def __init__(self, text: str, no_speech: float, again: str) -> None:
        self.text, self.no_speech, self.again = text, no_speech, again
        self.prompts: list[str | None] = []

    def recognize_batch(self, clips, prompt=None):  # noqa: ANN001, ANN201
        self.prompts.append(prompt)
        text = self.text if prompt is None else self.again
        hyp = (Hypothesis(text, 0.95, -0.05),)
        return [Recognition(hyp, self.name, 0.01, self.no_speech) for _ in clips]

    def recognize(self, samples):  # noqa: ANN001, ANN201
        return self.recognize_batch([samples])[0]


class FakeParser:
    """Knows one command, "turn left"."""

    def parse(self, nbest):  # noqa: ANN001, ANN201
        text = nbest[0][0]
        if text == "turn left":
            return Parse(parse_canonical("turn left"), 0.99, "turn left", text)
        return Parse(None, 0.1, "none", text)


def fake_pipeline(reject: RejectConfig, text: str, no_speech: float, again: str) -> VoicePipeline:
    pipeline = object.__new__(VoicePipeline)  # no model is loaded
    pipeline.config = VoiceConfig(
        audio=AudioConfig(vad=False),
        asr=AsrConfig(stretch=(1.0,), prompt="commands"),
        reject=reject,
    )
    pipeline.recognizer = FakeRecognizer(text, no_speech, again)
    pipeline.parser = FakeParser()
    pipeline.state = JoystickState()
    return pipeline


def speech(seconds: float = 1.5) -> np.ndarray:
    t = np.arange(int(seconds * 16000)) / 16000
    return (0.3 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 3 * t))).astype(np.float32)


def test_pipeline_refuses_with_the_reason_in_its_json() -> None:
    cfg = RejectConfig(max_no_speech_prob=0.5)
    ok = fake_pipeline(cfg, "turn left", 0.1, "turn left").understand(speech())
    assert ok.accepted and ok.reason == "ok"
    assert ok.to_dict()["signals"]["no_speech_prob"] == 0.1
    refused = fake_pipeline(cfg, "turn left", 0.8, "turn left").understand(speech())
    out = refused.to_dict()
    assert not refused.accepted and out["command"] is None
    assert out["reason"] == "not for the robot" and "no_speech_prob 0.8 > 0.5" in out["detail"]
    assert out["signals"]["command"] == "turn left"  # what it would have been
    assert out["transcript"] == "turn left"


def test_pipeline_verify_reads_again_without_the_prompt() -> None:
    cfg = RejectConfig(verify="unprompted")
    same = fake_pipeline(cfg, "turn left", 0.0, "turn left")
    assert same.understand(speech()).accepted
    assert same.recognizer.prompts == [None, ""]  # prompted, then unprompted
    other = fake_pipeline(cfg, "turn left", 0.0, "turn the oven down")
    result = other.understand(speech())
    assert result.reason == "not for the robot" and "turn the oven down" in result.detail
    assert result.signals["verified"] is False
    off = fake_pipeline(dataclasses.replace(cfg, verify="none"), "turn left", 0.0, "x")
    assert off.understand(speech()).accepted and off.recognizer.prompts == [None]


def test_speech_length_gate_in_the_pipeline() -> None:
    cfg = RejectConfig(max_speech_s=2.0)
    assert fake_pipeline(cfg, "turn left", 0.0, "").understand(speech(1.5)).accepted
    long = fake_pipeline(cfg, "turn left", 0.0, "").understand(speech(3.0))
    assert long.reason == "not for the robot" and long.detail.startswith("speech_s 3 > 2")


def test_without_gates_lets_the_refused_command_through() -> None:
    from irondog.voice.evalset import without_gates

    cfg = RejectConfig(max_no_speech_prob=0.5)
    refused = fake_pipeline(cfg, "turn left", 0.8, "").understand(speech())
    ok = fake_pipeline(cfg, "turn left", 0.1, "").understand(speech())
    (_, again), (_, same) = without_gates([(1.0, refused), (2.0, ok)])
    assert not refused.accepted and again.accepted and again.text == "turn left"
    assert again.command == parse_canonical("turn left") and again.reason == "ok"
    assert same is ok


def test_a_faint_stream_utterance_is_reported_not_raised() -> None:
    pipeline = fake_pipeline(RejectConfig(), "turn left", 0.0, "")
    faint = 1e-4 * speech()
    result = pipeline.understand_utterance(faint)
    assert result.reason == "too quiet" and "below -60 dBFS" in result.detail
    assert pipeline.understand_utterance(speech()).accepted


class EveryTranscriptTurnsLeft:
    """Reads any transcript as "turn left", sure of it: chatter taken for a command."""

    def parse(self, nbest):  # noqa: ANN001, ANN201
        return Parse(parse_canonical("turn left"), 0.99, "turn left", nbest[0][0])


def test_grounded_refuses_a_turn_nobody_asked_for_and_without_grounding_undoes_it() -> None:
    from irondog.voice.evalset import without_gates, without_grounding

    def heard(cfg: RejectConfig, text: str, no_speech: float = 0.1):  # noqa: ANN202
        pipeline = fake_pipeline(cfg, text, no_speech, "")
        pipeline.parser = EveryTranscriptTurnsLeft()
        return pipeline.understand(speech())

    on = RejectConfig(max_no_speech_prob=0.5)
    asked = heard(on, "please turn left")
    chatter = heard(on, "what a lovely day")
    both = heard(on, "what a lovely day", no_speech=0.8)  # grounding and no_speech_prob
    assert asked.accepted
    assert not chatter.accepted and chatter.detail == "nothing said asks for turn left"
    assert chatter.to_dict()["signals"]["ungrounded"] == ["turn left"]
    assert heard(dataclasses.replace(on, grounded=False), "what a lovely day").accepted
    results = [(1.0, asked), (2.0, chatter), (3.0, both)]
    (_, a), (_, c), (_, b) = without_grounding(results)
    assert a is asked and c.accepted and c.text == "turn left"
    assert not b.accepted  # no_speech_prob refuses it too: only the grounding is undone
    assert all(r.accepted for _, r in without_gates(results))
