"""The held-out acoustic evaluation: festival voices, held-out noise beds, and their apartness
from every training and development set."""

import numpy as np
import pytest

from irondog.voice import audio, evalset, noise, tts

needs_festival = pytest.mark.skipif(not tts.have_festival(), reason="festival not installed")


@needs_festival
def test_festival_speaks_every_voice_and_stretch_slows_diphone_speech() -> None:
    for voice in tts.FESTIVAL_VOICES:
        clip = tts.speak_festival("walk forward two metres", voice)
        assert clip.dtype == np.float32 and clip.ndim == 1
        assert 0.8 < clip.size / audio.SAMPLE_RATE < 4.0  # 16 kHz after resampling
        assert audio.power(clip) > 1e-4
    fast = tts.speak_festival("walk forward two metres", "kal_diphone", 0.9)
    slow = tts.speak_festival("walk forward two metres", "kal_diphone", 1.3)
    assert slow.size > 1.3 * fast.size


def test_festival_rejects_bad_voice_and_stretch() -> None:
    with pytest.raises(ValueError, match="festival voice must be one of"):
        tts.speak_festival("stop", "en-us")
    with pytest.raises(ValueError, match="stretch must be"):
        tts.speak_festival("stop", "kal_diphone", 5.0)


def test_street_noise_is_unit_rms_reproducible_and_has_pass_bys() -> None:
    a = noise.make_noise("street", 12.0, np.random.default_rng(1))
    b = noise.make_noise("street", 12.0, np.random.default_rng(1))
    c = noise.make_noise("street", 12.0, np.random.default_rng(2))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert abs(float(np.sqrt(np.mean(a.astype(np.float64) ** 2))) - 1.0) < 1e-3
    # Loudness varies as cars pass: the 0.5 s RMS envelope spans more than 2:1.
    frames = a[: a.size // 8000 * 8000].reshape(-1, 8000)
    env = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
    assert env.max() / env.min() > 2.0
    with pytest.raises(ValueError, match="street"):
        noise.make_noise("rain", 1.0, np.random.default_rng(0))


def test_heldout_voices_are_festival_round_robin_and_reproducible() -> None:
    items = [("walk forward", None), ("stop", None), ("sit down", None), ("turn left", None)]
    a, b = evalset.heldout_voiced(items), evalset.heldout_voiced(items)
    assert a == b
    assert {u.engine for u in a} == {"festival"}
    assert [u.voice for u in a[:3]] == list(tts.FESTIVAL_VOICES)
    assert all(u.stretch == 1.0 for u in a if u.voice in evalset.HTS_VOICES)
    assert not set(tts.FESTIVAL_VOICES) & set(tts.VOICES)


def test_heldout_babble_and_noise_kinds_are_apart_from_training() -> None:
    from irondog.voice.train_parser import training_texts

    held = set(evalset.HELDOUT_BABBLE_SENTENCES)
    assert not held & set(noise.BABBLE_SENTENCES)
    assert not held & set(evalset.CHATTER)
    assert not held & training_texts()
    assert "street" in evalset.HELDOUT_NOISE_TYPES and "street" not in noise.NOISE_TYPES


@needs_festival
def test_heldout_beds_are_cached_exactly_and_differ_from_development_beds(tmp_path) -> None:
    beds = evalset.heldout_noise_beds(seconds=2.0, cache=tmp_path)
    again = evalset.heldout_noise_beds(seconds=2.0, cache=tmp_path)
    assert sorted(beds) == sorted(evalset.HELDOUT_NOISE_TYPES)
    for kind, bed in beds.items():
        assert bed.size == 2 * audio.SAMPLE_RATE
        assert np.array_equal(bed, again[kind])  # cached as float, not clipped to 16 bits
        assert np.abs(bed).max() > 1.0  # unit-RMS noise has peaks past full scale
    dev = evalset.noise_beds(seconds=2.0)
    for kind in ("wind", "motor"):
        corr = np.corrcoef(dev[kind], beds[kind])[0, 1]
        assert abs(corr) < 0.2, (kind, corr)


def test_stream_with_pauses_places_each_clip_where_its_span_says() -> None:
    rate = audio.SAMPLE_RATE
    clips = [np.full(rate // 2, 0.25, np.float32), np.full(rate, -0.5, np.float64)]
    stream, spans = evalset.stream_with_pauses(clips, pause_s=1.0)
    assert stream.dtype == np.float32 and stream.size == 3 * rate + rate // 2 + rate
    assert spans == [(1.0, 1.5), (2.5, 3.5)]
    for clip, (start, end) in zip(clips, spans, strict=True):
        piece = stream[int(start * rate) : int(end * rate)]
        assert np.array_equal(piece, clip.astype(np.float32))
    assert not stream[:rate].any() and not stream[int(3.5 * rate) :].any()
    heard = [(0.6, "lead-in"), (1.2, "first"), (2.1, "second"), (3.5, "after")]
    assert evalset.heard_within(heard, spans[0]) == ["lead-in", "first"]
    assert evalset.heard_within(heard, spans[1]) == ["second"]


def test_judge_stream_finds_commands_and_flags_prompt_words_in_other_speech() -> None:
    from types import SimpleNamespace

    from irondog.voice.commands import parse_canonical

    stop = parse_canonical("stop")

    def result(transcript: str, command=None) -> SimpleNamespace:  # noqa: ANN001
        return SimpleNamespace(transcript=transcript, command=command,
                               accepted=command is not None, text="x")  # fmt: skip

    heard = [(1.1, result("the news at six secs")), (3.0, result("halt", stop)),
             (5.0, result("we sat by the lake", stop))]  # fmt: skip
    spans = [(1.0, 2.0), (2.8, 3.6), (4.9, 6.0)]
    said = [("the news at six o clock", None), ("halt", stop), ("we sat by the lake", None)]
    news, command, lake = evalset.judge_stream(heard, spans, said)
    assert news.leaked == [("the news at six secs", ["secs"])] and not news.accepted
    assert command.found and command.leaked == []
    assert not lake.found and len(lake.accepted) == 1 and lake.leaked == []


def test_kokoro_voices_are_named_strictly_and_training_draws_never_the_dev_voice() -> None:
    import random

    assert tts.kokoro_voice("en-gb:jf_alpha+jm_kumo@0.25") == ("en-gb", "jf_alpha", "jm_kumo", 0.25)
    assert tts.kokoro_voice("en-us:jf_nezumi") == ("en-us", "jf_nezumi", "jf_nezumi", 0.0)
    mixes = ("en-us:jf_alpha+jm_kumo", "en-us:jf_alpha+jm_kumo@1.5", "en-us:jf_alpha+jm_kumo@x")
    for bad in ("jf_alpha", "fr-fr:jf_alpha", "en-us:af_heart", "en-us:jf_alpha+x@0.5", *mixes):
        with pytest.raises(ValueError, match="Kokoro voice must be ACCENT:STYLE"):
            tts.kokoro_voice(bad)
    rng = random.Random(0)
    drawn = [evalset.kokoro_voiced("sit", None, rng) for _ in range(300)]
    assert all(u.engine == "kokoro" and 0.8 <= u.stretch <= 1.25 for u in drawn)
    assert not any(dev in u.voice for u in drawn for dev in tts.KOKORO_DEV_VOICES)
    assert any("+" in u.voice for u in drawn) and any("+" not in u.voice for u in drawn)
    dev = evalset.kokoro_voiced("sit", None, rng, tts.KOKORO_DEV_VOICES)
    assert dev.voice.split(":")[1] in tts.KOKORO_DEV_VOICES


@pytest.mark.skipif(not tts.have_kokoro() or not tts.have_espeak(), reason="Kokoro not installed")
def test_kokoro_speaks_english_mixes_voices_and_speed_changes_the_length() -> None:
    slow = tts.speak_kokoro("walk forward two metres", "en-us:jf_alpha", 0.8)
    fast = tts.speak_kokoro("walk forward two metres", "en-us:jf_alpha", 1.25)
    assert slow.dtype == np.float32 and 1.0 < fast.size / 16000 < slow.size / 16000 < 5.0
    mixed = tts.speak_kokoro("walk forward two metres", "en-gb:jf_alpha+jm_kumo@0.5")
    assert np.sqrt(np.mean(mixed**2)) > 0.01  # sound, not silence
    with pytest.raises(ValueError, match="speed must be 0.5..2.0"):
        tts.speak_kokoro("sit", "en-us:jf_alpha", 3.0)
