"""Audio that is clipped, too quiet or mostly silence is reported with its reason, not parsed."""

import json

import numpy as np
import pytest

from irondog.voice import audio, tts
from irondog.voice.pipeline import VoicePipeline

PAD = np.zeros(3 * audio.SAMPLE_RATE, np.float32)


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return tts.speak("walk forward two metres")


def test_quality_names_what_is_wrong(speech: np.ndarray) -> None:
    assert audio.quality(np.concatenate([PAD, speech, PAD]), 1) is None
    reason, detail = audio.quality(np.concatenate([PAD, 0.01 * speech, PAD]), 1)
    assert reason == "too quiet" and "dBFS" in detail
    reason, detail = audio.quality(np.clip(20 * speech, -1, 1), 1)
    assert reason == "clipped" and "full scale" in detail
    assert audio.quality(np.clip(20 * speech, -1, 1), 1, allow_clipped=True) is None
    blip = np.concatenate([PAD, speech[4000:6400], PAD, PAD])  # 0.15 s of speech in 9 s
    reason, detail = audio.quality(blip, 1)
    assert reason == "mostly silence" and "of speech in 9.2 s" in detail


class NeverCalled:
    """A recogniser that fails the test if bad input reaches it."""

    def recognize_batch(self, clips):  # noqa: ANN001, ANN201
        raise AssertionError("bad input was sent to the recogniser")

    recognize = recognize_batch


def test_pipeline_reports_bad_input_in_its_json(speech, tmp_path, monkeypatch) -> None:
    from irondog.voice import asr

    monkeypatch.setattr(asr, "make_recognizer", lambda *a, **k: NeverCalled())
    pipeline = VoicePipeline()
    path = tmp_path / "clipped.wav"
    audio.save_wav(path, np.concatenate([PAD, np.clip(20 * speech, -1, 1), PAD]))
    out = json.loads(json.dumps(pipeline.understand_file(path).to_dict(str(path))))
    assert out["accepted"] is False and out["command"] is None and out["reason"] == "clipped"
    assert "full scale" in out["detail"] and out["message"] == "I didn't catch that."
    quiet = pipeline.understand(np.concatenate([PAD, 0.01 * speech, PAD])).to_dict()
    assert quiet["reason"] == "too quiet" and quiet["transcript"] == ""
