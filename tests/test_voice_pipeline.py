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
