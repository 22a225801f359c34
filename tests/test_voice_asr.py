"""Offline recognisers: models from registry packages, nothing downloaded, n-best/confidence."""

from __future__ import annotations

import io

import numpy as np
import pytest

from irondog.voice import asr, tts

needs_espeak = pytest.mark.skipif(not tts.have_espeak(), reason="espeak-ng not installed")


@pytest.fixture(scope="module")
def whisper() -> asr.WhisperRecognizer:
    return asr.WhisperRecognizer()


@needs_espeak
def test_whisper_hears_a_command_with_nbest(whisper: asr.WhisperRecognizer) -> None:
    rec = whisper.recognize(tts.speak("walk forward two metres", "en-us", 160, 50))
    assert rec.best is not None
    assert "forward" in rec.best.text.lower()
    assert 1 <= len(rec.hypotheses) <= whisper.beam_size
    assert all(0.0 <= h.confidence <= 1.0 for h in rec.hypotheses)
    assert rec.hypotheses[0].score >= rec.hypotheses[-1].score  # best first


@needs_espeak
def test_whisper_batch_hears_each_clip_as_alone(whisper: asr.WhisperRecognizer) -> None:
    # Two clips of one batch (one shares the longer one's window) read as each does alone.
    short = tts.speak("sit down", "en-us", 160, 50)
    long = tts.speak("walk forward two metres then turn left", "en-us", 160, 50)
    batch = whisper.recognize_batch([short, long])
    assert [r.best.text for r in batch] == [whisper.recognize(c).best.text for c in (short, long)]
    assert "sit" in batch[0].best.text.lower() and "left" in batch[1].best.text.lower()
    assert batch[0].seconds == batch[1].seconds  # the time of the whole batch
    assert asr.recognize_all(whisper, [short])[0].best.text == batch[0].best.text


class EncoderSpy:
    """A CTranslate2 Whisper model whose encoder inputs are recorded (their shapes)."""

    def __init__(self, model: object) -> None:
        self.model = model
        self.seen: list[tuple[int, ...]] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self.model, name)

    def encode(self, features, *args):  # noqa: ANN001, ANN202
        self.seen.append(tuple(features.shape))
        return self.model.encode(features, *args)


@needs_espeak
def test_whisper_window_is_a_setting() -> None:
    # The encoder sees the speech plus 2 s, and at least min_window_s (10 s by default) of
    # Whisper's 30 s window; a window outside it is refused.
    speech = tts.speak("turn left ninety degrees", "en-us", 160, 50)  # about 1.5 s
    frames = {}
    for seconds in (asr.MIN_WINDOW_S, 5.0, 1.0):
        whisper = asr.WhisperRecognizer(min_window_s=seconds, beam_size=1)
        spy = EncoderSpy(whisper._model.model)
        whisper._model.model = spy
        assert "left" in whisper.recognize(speech).best.text.lower()
        frames[seconds] = spy.seen[0][-1]
    assert frames[10.0] == 1000 and frames[5.0] == 500
    assert frames[1.0] == pytest.approx(len(speech) / 160 + 200, abs=2)  # speech + 2 s
    with pytest.raises(ValueError, match="min_window_s"):
        asr.WhisperRecognizer(min_window_s=40.0)


@needs_espeak
def test_whisper_base_loads_from_its_two_packages_and_hears() -> None:
    base = asr.make_recognizer("whisper", "base", beam_size=2)
    assert base.model_ref == "base"  # streamed from the packages, no directory of its own
    rec = base.recognize(tts.speak("turn left ninety degrees", "en-us", 160, 50))
    assert rec.best is not None and "left" in rec.best.text.lower()


def test_whisper_never_downloads_by_default(tmp_path) -> None:  # noqa: ANN001
    with pytest.raises(FileNotFoundError, match="allow_download"):
        asr.WhisperRecognizer("small.en")  # a hub id: refused, nothing fetched
    with pytest.raises(FileNotFoundError, match="does not exist"):
        asr.make_recognizer("whisper", tmp_path / "no_model")


def test_default_models_come_from_packages() -> None:
    assert (asr.whisper_model_dir("tiny.en") / "model.bin").is_file()
    assert (asr.pocketsphinx_model_dir() / "mdef").is_file()
    assert 30 < asr.model_footprint_mb("whisper") < 120  # tiny.en, the default
    # Whisper base ships its model.bin in two parts, streamed together when it loads.
    parts = [f.name for f in asr.whisper_model_files("base") if f.name.startswith("model.bin")]
    assert parts == ["model.bin.part1", "model.bin.part2"]
    assert 120 < asr.model_footprint_mb("whisper", "base") < 200
    with pytest.raises(ValueError, match="split across packages"):
        asr.whisper_model_dir("base")
    with pytest.raises(ValueError, match="packaged Whisper models"):
        asr.whisper_model_files("large")


def test_joined_parts_read_as_one_file(tmp_path) -> None:  # noqa: ANN001
    paths = []
    for i, chunk in enumerate((b"abc" * 1000, b"", b"xyz" * 7)):
        paths.append(tmp_path / f"model.bin.part{i}")
        paths[-1].write_bytes(chunk)
    joined = asr._JoinedFiles(paths)
    assert io.BufferedReader(joined).read() == b"abc" * 1000 + b"xyz" * 7


def test_drop_repeats() -> None:
    assert asr.drop_repeats("sit down, sit down, sit down, sit") == "sit down"
    assert asr.drop_repeats("walk forward two metres") == "walk forward two metres"
    cut = "side left 1.5 metres, side left 1.5 metres, side left 1."
    assert asr.drop_repeats(cut) == "side left 1.5 metres"
    assert asr.drop_repeats("Stop, stop, stop.") == "Stop, stop, stop."  # emergency stop
    assert asr.drop_repeats("stop stop stop stop stop") == "stop"
    assert asr.drop_repeats("turn left then turn left") == "turn left then turn left"
    assert asr.drop_repeats("turn left turn left") == "turn left turn left"
    assert asr.drop_repeats("Go ahead 20 meters. Go ahead 20 meters.") == "Go ahead 20 meters"


def test_command_grammar_uses_known_words() -> None:
    import pocketsphinx  # noqa: F401

    dict_path = asr.pocketsphinx_model_dir().parent / "cmudict-en-us.dict"
    known = {line.split()[0].split("(")[0] for line in dict_path.open() if line.strip()}
    grammar = asr.command_jsgf(known)
    assert grammar.startswith("#JSGF V1.0;")
    words = set(grammar.replace("(", " ").replace(")", " ").replace("|", " ").split())
    spoken = {w for w in words if w.isalpha() and w.islower() and w != "grammar"}
    assert spoken <= known | {"irondog", "public"}


@needs_espeak
def test_pocketsphinx_decodes_within_the_grammar() -> None:
    ps = asr.PocketSphinxRecognizer()
    speech = tts.speak("turn left", "en-us", 150, 50)
    rec = ps.recognize(speech)
    assert rec.best is not None and "left" in rec.best.text
    assert 0.0 <= rec.best.confidence <= 1.0
    silence = np.zeros(8000, np.float32)
    assert ps.recognize(silence).engine == "pocketsphinx"


def test_unknown_engine() -> None:
    with pytest.raises(ValueError, match="asr engine must be one of"):
        asr.make_recognizer("kaldi")
