"""Whisper adapters: the model file read and written exactly, the torch model equal to
CTranslate2's, low-rank corrections merged as W + scale * B @ A, bad adapter files refused."""

from __future__ import annotations

import dataclasses
import io
import json

import numpy as np
import pytest

from irondog.voice import asr, tts
from irondog.voice import tune_whisper as tw

needs_espeak = pytest.mark.skipif(not tts.have_espeak(), reason="espeak-ng not installed")


def small_model() -> tw.Ct2Model:
    rng = np.random.default_rng(0)
    return tw.Ct2Model(
        6,
        "WhisperSpec",
        3,
        {
            "encoder/num_heads": np.array(2, np.int16),
            "encoder/layer_0/ffn/linear_0/weight": rng.normal(size=(6, 4)).astype(np.float16),
            "encoder/layer_0/ffn/linear_0/bias": np.zeros(6, np.float16),
            "decoder/embeddings/weight": rng.normal(size=(10, 4)).astype(np.float16),
        },
        {"decoder/projection/weight": "decoder/embeddings/weight"},
    )


def adapter_file(path, tensors: dict, meta: dict | None = None) -> None:  # noqa: ANN001
    meta = {"scale": 2.0, "rank": 2, "base": "tiny.en"} if meta is None else meta
    np.savez(path, meta=np.frombuffer(json.dumps(meta).encode(), np.uint8), **tensors)


def test_model_file_round_trips() -> None:
    model = small_model()
    again = tw.read_ct2(io.BytesIO(tw.ct2_bytes(model)))
    assert (again.version, again.spec, again.revision, again.aliases) == (
        6, "WhisperSpec", 3, model.aliases)  # fmt: skip
    assert list(again.variables) == list(model.variables)
    for k, v in model.variables.items():
        assert again.variables[k].dtype == v.dtype and np.array_equal(again.variables[k], v)


def test_packaged_model_file_round_trips_byte_for_byte() -> None:
    raw = (asr.whisper_model_dir("tiny.en") / "model.bin").read_bytes()
    model = tw.read_ct2(io.BytesIO(raw))
    assert model.spec == "WhisperSpec"
    assert tw.ct2_bytes(model) == raw
    targets = tw.lora_targets(model.variables)
    assert len(targets) == 4 * 4 + 4 * 7  # encoder: 4 per layer, decoder: 7 per layer
    assert "decoder/embeddings/weight" not in targets


def test_unknown_format_version_is_refused() -> None:
    raw = bytearray(tw.ct2_bytes(small_model()))
    raw[:4] = (99).to_bytes(4, "little")
    with pytest.raises(ValueError, match="format version 99"):
        tw.read_ct2(io.BytesIO(bytes(raw)))


def test_merge_adds_the_low_rank_product(tmp_path) -> None:  # noqa: ANN001
    model = small_model()
    name = "encoder/layer_0/ffn/linear_0/weight"
    rng = np.random.default_rng(1)
    a = rng.normal(size=(2, 4)).astype(np.float16)
    b = rng.normal(size=(6, 2)).astype(np.float16)
    adapter_file(tmp_path / "a.npz", {f"{name}.A": a, f"{name}.B": b})
    merged = tw.merge_adapter(model, tw.load_adapter(tmp_path / "a.npz"))
    want = model.variables[name].astype(np.float32) + 2.0 * (
        b.astype(np.float32) @ a.astype(np.float32)
    )
    assert merged.variables[name].dtype == np.float16
    np.testing.assert_allclose(merged.variables[name], want, rtol=2e-3, atol=2e-3)
    other = "decoder/embeddings/weight"
    assert merged.variables[other] is model.variables[other]  # untouched
    assert not np.array_equal(merged.variables[name], model.variables[name])


def test_bad_adapters_are_refused(tmp_path) -> None:  # noqa: ANN001
    model = small_model()
    (tmp_path / "junk.npz").write_bytes(b"not an npz")
    with pytest.raises(ValueError, match="junk.npz"):
        tw.load_adapter(tmp_path / "junk.npz")
    np.savez(tmp_path / "nometa.npz", x=np.zeros(2))
    with pytest.raises(ValueError, match="no 'meta'"):
        tw.load_adapter(tmp_path / "nometa.npz")
    adapter_file(tmp_path / "noscale.npz", {}, meta={"rank": 2, "base": "tiny.en"})
    with pytest.raises(ValueError, match="'scale'"):
        tw.load_adapter(tmp_path / "noscale.npz")
    name = "encoder/layer_0/ffn/linear_0/weight"
    adapter_file(
        tmp_path / "shape.npz", {f"{name}.A": np.zeros((2, 5)), f"{name}.B": np.zeros((6, 2))}
    )
    with pytest.raises(ValueError, match="shape.npz: adapter for .* has shapes"):
        tw.merge_adapter(model, tw.load_adapter(tmp_path / "shape.npz"), "shape.npz")
    adapter_file(
        tmp_path / "name.npz",
        {"nope/weight.A": np.zeros((2, 4)), "nope/weight.B": np.zeros((6, 2))},
    )
    with pytest.raises(ValueError, match="does not have"):
        tw.merge_adapter(model, tw.load_adapter(tmp_path / "name.npz"))
    adapter_file(tmp_path / "half.npz", {f"{name}.A": np.zeros((2, 4))})
    with pytest.raises(ValueError, match="half.npz: adapter for .* needs both"):
        tw.merge_adapter(model, tw.load_adapter(tmp_path / "half.npz"), "half.npz")


def test_recogniser_refuses_a_missing_or_misplaced_adapter(tmp_path) -> None:  # noqa: ANN001
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        asr.WhisperRecognizer(adapter=tmp_path / "missing.npz")
    with pytest.raises(ValueError, match="whole model.bin"):
        asr.WhisperRecognizer(model="base", adapter=tw.ADAPTER)


@needs_espeak
def test_torch_whisper_reads_as_ctranslate2_does() -> None:
    import torch
    from faster_whisper.tokenizer import Tokenizer
    from tokenizers import Tokenizer as HfTokenizer

    model_dir = asr.whisper_model_dir("tiny.en")
    with (model_dir / "model.bin").open("rb") as f:
        model = tw.read_ct2(f)
    tok = Tokenizer(HfTokenizer.from_file(str(model_dir / "tokenizer.json")), False,
                    task="transcribe", language="en")  # fmt: skip
    prompt = asr.prompt_tokens(tok, "go forward")
    clip = tts.speak("walk forward two metres then turn left", "en-us", 160, 50)
    net = tw._torch_whisper(model.variables, rank=2, alpha=4.0)  # B = 0: the model as it is
    emb = net.w["decoder/embeddings/weight"]
    seq = list(prompt)
    with torch.no_grad():
        enc = net.encode(torch.from_numpy(tw._features([clip], tw.WINDOW_FRAMES)))
        for _ in range(20):
            nxt = int((net.decode(torch.tensor([seq]), enc)[0, -1] @ emb.T).argmax())
            if nxt == tok.eot:
                break
            seq.append(nxt)
    ours = tok.decode(seq[len(prompt) :]).strip()
    theirs = asr.WhisperRecognizer(beam_size=1, compute_type="float32", prompt="go forward")
    assert ours == theirs.recognize(clip).best.text
    assert "forward" in ours.lower()


@needs_espeak
def test_packaged_adapter_is_merged_and_hears() -> None:
    plain = asr.WhisperRecognizer(beam_size=1)
    adapted = asr.WhisperRecognizer(beam_size=1, adapter=tw.ADAPTER)
    clip = tts.speak("step to the left for three seconds", "en-gb", 170, 40)
    heard = adapted.recognize(clip).best.text.lower()
    assert "left" in heard and "three" in heard
    scores = [r.recognize(clip).hypotheses[0].score for r in (plain, adapted)]
    assert scores[0] != scores[1]  # the weights did change


@pytest.mark.slow  # trains a LoRA adapter: 44 s on the 2-core machine
@needs_espeak
def test_training_writes_an_adapter_the_recogniser_loads(tmp_path) -> None:  # noqa: ANN001
    from irondog.voice import audio

    audio.save_wav(tmp_path / "mine.wav", tts.speak("trot forward three metres", "en-us+m3"))
    (tmp_path / "mine.tsv").write_text("# my voice\nmine.wav\ttrot forward three metres\n")
    out = tmp_path / "lora.npz"
    args = ["--clips", "4", "--epochs", "1", "--batch", "2", "--rank", "2", "--out", str(out),
            "--recordings", str(tmp_path / "mine.tsv")]  # fmt: skip
    assert tw.main(args) == 0
    adapter = tw.load_adapter(out)
    assert adapter["meta"]["rank"] == 2 and adapter["meta"]["clips"] == 5  # 4 spoken + 1 own
    b = [v for k, v in adapter["tensors"].items() if k.endswith(".B")]
    assert len(b) == 4 * 4 + 4 * 7 and any(np.abs(x).max() > 0 for x in b)  # it learned
    assert not (tmp_path / "lora.tmp.npz").exists()
    heard = asr.WhisperRecognizer(adapter=out).recognize(tts.speak("sit down")).best
    assert heard is not None and heard.text


@needs_espeak
def test_bad_recording_lists_are_refused(tmp_path) -> None:  # noqa: ANN001
    from irondog.voice import audio

    audio.save_wav(tmp_path / "ok.wav", tts.speak("sit down"))
    cases = {
        "ok.wav sit down\n": r"line 1: expected 'audio path<TAB>words spoken'",
        "ok.wav\t  \n": "line 1: expected",
        "# nothing\n": "no recordings listed",
        "gone.wav\tsit down\n": "gone.wav",
    }
    for text, message in cases.items():
        (tmp_path / "list.tsv").write_text(text)
        with pytest.raises((ValueError, FileNotFoundError), match=message):
            tw.recorded_clips(tmp_path / "list.tsv")
    with pytest.raises(FileNotFoundError, match="missing.tsv"):
        tw.recorded_clips(tmp_path / "missing.tsv")
    (tmp_path / "list.tsv").write_text("ok.wav\tSit Down\n")
    [(clip, words)] = tw.recorded_clips(tmp_path / "list.tsv")
    assert words == "sit down" and 0 < clip.size < 3 * 16000


def test_adapter_setting_names_a_file() -> None:
    assert asr.whisper_adapter(None) is None
    assert asr.whisper_adapter("packaged") == tw.ADAPTER
    assert asr.whisper_adapter("packaged", "tiny.en") == tw.ADAPTER
    assert asr.whisper_adapter("packaged", "base") is None  # trained for tiny.en only
    assert str(asr.whisper_adapter("/x/mine.npz", "base")) == "/x/mine.npz"


@needs_espeak
def test_non_command_share_is_the_share_of_everyday_sentences(monkeypatch, capsys) -> None:  # noqa: ANN001
    from irondog.voice import corpus

    monkeypatch.setattr(corpus, "sample_out_of_domain", lambda rng: "the kettle is on")

    def everyday(share: float) -> int:
        clips = tw.training_clips(30, 6007, set(), non_command=share)
        return sum(text == "the kettle is on" for _, text in clips)

    assert everyday(0.0) == 0 and everyday(0.15) < everyday(0.6)
    with pytest.raises(SystemExit):
        tw.main(["--non-command", "1.5"])
    assert "--non-command: 1.5 is not a share in [0, 1)" in capsys.readouterr().err


@needs_espeak
def test_neural_share_is_the_share_read_by_kokoro(monkeypatch, capsys) -> None:  # noqa: ANN001
    from irondog.voice import evalset

    engines: list[str] = []
    speak = evalset.speak_cached

    def spy(utt, cache):  # noqa: ANN001, ANN202
        engines.append(utt.engine)
        return speak(dataclasses.replace(utt, engine="espeak-ng", voice="en-us", speed=160), cache)

    monkeypatch.setattr(evalset, "speak_cached", spy)
    plain = [text for _, text in tw.training_clips(20, 6007, set())]
    assert set(engines) == {"espeak-ng"}
    engines.clear()
    # at 0 no draw is added: the espeak-ng-only recipe draws the same phrasings as before
    assert [text for _, text in tw.training_clips(20, 6007, set(), neural=0.0)] == plain
    list(tw.training_clips(40, 6007, set(), neural=0.5))
    assert 10 <= engines.count("kokoro") <= 30 and "espeak-ng" in engines
    with pytest.raises(SystemExit):
        tw.main(["--neural", "1.5"])
    assert "--neural: 1.5 is not a share in [0, 1]" in capsys.readouterr().err
