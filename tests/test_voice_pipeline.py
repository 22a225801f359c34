"""The voice pipeline end to end, its config, streaming and the `irondog voice` command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from irondog.cli import main
from irondog.config import ConfigError, load
from irondog.voice import audio, tts
from irondog.voice.config import VoiceConfig
from irondog.voice.pipeline import VoicePipeline

pytestmark = pytest.mark.skipif(not tts.have_espeak(), reason="espeak-ng not installed")


@pytest.fixture(scope="module")
def pipeline() -> VoicePipeline:
    return VoicePipeline(VoiceConfig())


@pytest.fixture(scope="module")
def command_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("voice") / "cmd.wav"
    audio.save_wav(path, tts.speak("walk forward two metres then sit down", "en-us", 160, 50))
    return path


def test_understands_a_spoken_command(pipeline: VoicePipeline, command_wav: Path) -> None:
    result = pipeline.understand_file(command_wav)
    assert result.accepted, result
    assert result.text == "move forward 2 m then sit"
    assert result.segments[0].duration_s == pytest.approx(4.0)
    assert result.to_dict()["command"]["actions"][1] == {"action": "posture", "posture": "sit"}


def test_noise_only_is_rejected(pipeline: VoicePipeline) -> None:
    rng = np.random.default_rng(0)
    quiet = (0.01 * rng.standard_normal(2 * audio.SAMPLE_RATE)).astype(np.float32)
    result = pipeline.understand(quiet)
    assert not result.accepted
    assert result.to_dict()["message"] == "I didn't catch that."


def test_stream_finds_two_utterances(pipeline: VoicePipeline) -> None:
    gap = np.zeros(audio.SAMPLE_RATE, np.float32)
    stream = np.concatenate([gap, tts.speak("turn left"), gap, tts.speak("stop immediately"), gap])
    chunks = np.array_split(stream, len(stream) // 8000)
    results = [r for _, r in pipeline.stream(chunks)]
    assert [r.text for r in results] == ["turn left", "emergency stop"]


def test_cli_json_one_object_per_file(
    command_wav: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "empty.wav"
    audio.save_wav(bad, np.zeros(0, np.float32))
    code = main(["voice", "--audio", str(command_wav), str(bad), "--json"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 2  # one file failed
    first, second = (json.loads(line) for line in lines)
    assert first["file"] == str(command_wav) and first["accepted"] is True
    assert first["command"]["actions"][0]["distance_m"] == 2.0
    assert first["stretch"] in VoiceConfig().asr.stretch  # the view whose reading was taken
    assert "empty" in second["error"]


def test_cli_render_with_a_missing_checkpoint_fails_before_listening(
    command_wav: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "o.mp4"
    code = main(["voice", "--audio", str(command_wav), "--checkpoint", "x", "--render", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert "checkpoint x does not exist" in err and "Traceback" not in err
    assert not out.exists()


def test_cli_names_an_adapter_it_cannot_use(
    command_wav: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not an adapter")
    for adapter, message in ((junk, "junk.npz: not a Whisper adapter"),
                             (tmp_path / "gone.npz", "gone.npz does not exist")):  # fmt: skip
        code = main(["voice", f"asr.adapter={adapter}", "--audio", str(command_wav)])
        err = capsys.readouterr().err
        assert code == 2 and message in err and "Traceback" not in err


class ViewsByLength:
    """A recogniser that hears each view by its length: the original clip one way, the
    stretched one another (an engine's mishearing that slowing the speech undoes)."""

    name = "fake"

    def __init__(self, heard: dict[int, list[tuple[str, float]]]) -> None:
        self.heard = heard
        self.batches: list[int] = []

    def recognize_batch(self, clips):  # noqa: ANN001, ANN201
        from irondog.voice.asr import Hypothesis, Recognition

        self.batches.append(len(clips))
        return [
            Recognition(tuple(Hypothesis(t, c, 0.0) for t, c in self.heard[c.size]), "fake", 0.0)
            for c in clips
        ]

    def recognize(self, clip):  # noqa: ANN001, ANN201
        return self.recognize_batch([clip])[0]


def test_the_most_confident_accepted_view_wins() -> None:
    # The speech as it is reads as chatter, stretched by 1.1 as a command: the command wins.
    # With both accepted, the more confident parse wins; with none, the first view's reading.
    pipe = VoicePipeline(load(VoiceConfig, None, ["asr.stretch=[1.0, 1.1]"]))
    n = audio.SAMPLE_RATE
    speech = np.zeros(n, np.float32)
    slow = audio.stretched(speech, 1.1).size
    assert slow == pytest.approx(1.1 * n, abs=1)
    cases = [
        ({n: [("what a lovely day", 0.9)], slow: [("sit down", 0.9)]}, "sit"),
        ({n: [("turn left", 0.9)], slow: [("turn right", 0.9)]}, None),
        ({n: [("what a lovely day", 0.9)], slow: [("i like tea", 0.9)]}, "none"),
    ]
    for heard, expect in cases:
        pipe.recognizer = ViewsByLength(heard)
        recognition, nbest, parse, stretch = pipe.hear(speech)
        assert pipe.recognizer.batches == [2]  # both views in one batch
        if expect is None:  # both are commands: the more confident one
            alone = [pipe.parser.parse(heard[k]) for k in (n, slow)]
            assert parse.text == max(alone, key=lambda p: p.confidence).text
        else:
            assert parse.text == expect
            assert stretch == (1.1 if expect == "sit" else 1.0)
            if expect == "none":
                assert recognition.best.text == "what a lovely day"  # the first view


def test_long_speech_is_not_stretched_past_whispers_window() -> None:
    # 26 s of speech fits Whisper's 30 s window as it is and 1.1x (28.6 s), not 1.2x (31.2 s).
    pipe = VoicePipeline(VoiceConfig())
    n = 26 * audio.SAMPLE_RATE
    heard = {n: [("sit down", 0.9)], audio.stretched(np.zeros(n, np.float32), 1.1).size: []}
    pipe.recognizer = ViewsByLength(heard)
    parse = pipe.hear(np.zeros(n, np.float32)).parse
    assert pipe.recognizer.batches == [2] and parse.text == "sit"
    pipe.recognizer = ViewsByLength({29 * audio.SAMPLE_RATE: [("sit down", 0.9)]})
    pipe.hear(np.zeros(29 * audio.SAMPLE_RATE, np.float32))
    assert pipe.recognizer.batches == [1]  # the speech as it is, alone


def test_stretched_audio_is_longer_and_refuses_odd_factors() -> None:
    x = np.sin(np.arange(16000) * 2 * np.pi * 200 / 16000).astype(np.float32)
    y = audio.stretched(x, 1.1)
    assert y.dtype == np.float32 and y.size == 17600
    spectrum = np.abs(np.fft.rfft(y))
    assert np.argmax(spectrum) * 16000 / y.size == pytest.approx(200 / 1.1, abs=1)  # lower
    assert audio.stretched(x, 1.0) is x
    with pytest.raises(ValueError, match="stretch factor"):
        audio.stretched(x, 3.0)


def test_config_is_strict(tmp_path: Path) -> None:
    path = tmp_path / "voice.yaml"
    path.write_text("asr:\n  engin: whisper\n")
    with pytest.raises(ConfigError, match=r"asr\.engin.*voice\.yaml"):
        load(VoiceConfig, path)
    with pytest.raises(ConfigError, match="kaldi"):
        load(VoiceConfig, None, ["asr.engine=kaldi"])
    for width in (0, 11):
        with pytest.raises(ConfigError, match=r"beam_size.*1\.\.10"):
            load(VoiceConfig, None, [f"asr.beam_size={width}"])
    for seconds in (0.5, 31):
        with pytest.raises(ConfigError, match=r"min_window_s.*\[1, 30\]"):
            load(VoiceConfig, None, [f"asr.min_window_s={seconds}"])
    with pytest.raises(ConfigError, match=r"stretch.*\[0\.5, 2\]"):
        load(VoiceConfig, None, ["asr.stretch=[1.0, 3.0]"])
    with pytest.raises(ConfigError, match=r"stretch.*1 to 4"):
        load(VoiceConfig, None, ["asr.stretch=[]"])
    with pytest.raises(ConfigError, match=r"adapter.*whisper engine only"):
        load(VoiceConfig, None, ["asr.engine=pocketsphinx", "asr.adapter=/tmp/mine.npz"])
    repo = Path(__file__).resolve().parents[1] / "configs" / "voice"
    for preset in sorted(repo.glob("*.yaml")):
        load(VoiceConfig, preset)


def test_cmu_recording_go_forward_ten_meters(pipeline: VoicePipeline) -> None:
    raw = Path(__file__).resolve().parents[1] / "voice" / "data" / "goforward.raw"
    result = pipeline.understand_file(raw)  # a human voice, from pocketsphinx's sdist
    assert result.text == "move forward 10 m"


def test_cli_overrides_after_audio_files_are_overrides(
    command_wav: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["voice", "--audio", str(command_wav), "lm.parser=rules", "--json"])
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 0 and len(out) == 1  # one file, not a second "file" named lm.parser=rules
    assert json.loads(out[0])["file"] == str(command_wav)
    code = main(["voice", "--audio", str(command_wav), "lm.parser=nonsense"])
    assert code == 2 and "lm.parser" in capsys.readouterr().err


def test_run_on_speech_is_rejected_however_confident_the_parse() -> None:
    from irondog.voice.commands import parse_canonical
    from irondog.voice.lm import Parse

    class Confident:  # a parser that reads every transcript as a quarter turn, sure of it
        name = "confident"

        def parse(self, nbest):  # noqa: ANN001, ANN201
            return Parse(parse_canonical("turn left 90 deg"), 0.94, "turn left 90 deg", nbest[0][0])

    # reject.grounded off: "so so so ..." asks for no turn, and this is the length gate's test
    overrides = ["asr.stretch=[1.0]", "audio.vad=false", "reject.grounded=false"]
    pipe = VoicePipeline(load(VoiceConfig, None, overrides))
    pipe.parser = Confident()
    n = 2 * audio.SAMPLE_RATE
    speech = (0.1 * np.sin(np.arange(n) * 0.05)).astype(np.float32)
    for words, accepted in ((30, True), (31, False)):
        pipe.recognizer = ViewsByLength({n: [(" ".join(["so"] * words), 0.9)]})
        result = pipe.understand(speech)
        assert result.accepted is accepted, words
    assert result.reason == "too long" and result.to_dict()["message"] == "I didn't catch that."
    pipe.recognizer = ViewsByLength({n: [("turn left", 0.9)]})
    assert pipe.understand(speech).accepted
    result = pipe.understand(speech, run_on=True)  # the stream cut it: no pause in 10 s
    assert not result.accepted and result.reason == "run-on speech"
