"""Audio loading and validation, VAD, mixing, noise generators, denoising."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from irondog.voice import audio, denoise, noise, tts
from irondog.voice.audio import SAMPLE_RATE, AudioError

needs_espeak = pytest.mark.skipif(not tts.have_espeak(), reason="espeak-ng not installed")


def _tone(seconds: float, rate: int = SAMPLE_RATE, freq: float = 440.0, amp: float = 0.3):
    t = np.arange(int(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_resample_and_mix_down(tmp_path: Path) -> None:
    stereo = np.stack([_tone(1.0, 44100), _tone(1.0, 44100)], axis=1)
    path = tmp_path / "stereo.wav"
    soundfile.write(path, stereo, 44100)
    out = audio.load_audio(path)
    assert out.shape == (SAMPLE_RATE,) and out.dtype == np.float32
    # Still a 440 Hz tone after resampling.
    spectrum = np.abs(np.fft.rfft(out))
    assert abs(np.argmax(spectrum) * SAMPLE_RATE / out.size - 440.0) < 2.0


def test_flac_and_raw(tmp_path: Path) -> None:
    soundfile.write(tmp_path / "a.flac", _tone(0.5), SAMPLE_RATE)
    assert audio.load_audio(tmp_path / "a.flac").size == SAMPLE_RATE // 2
    (tmp_path / "a.raw").write_bytes(audio.to_pcm16(_tone(0.25)))
    assert audio.load_audio(tmp_path / "a.raw").size == SAMPLE_RATE // 4


@pytest.mark.parametrize(
    "name, samples, fragment",
    [
        ("empty.wav", np.zeros(0, np.float32), "empty"),
        ("silent.wav", np.zeros(16000, np.float32), "silent"),
        ("clipped.wav", np.sign(_tone(1.0)), "clipped"),
        ("nan.wav", np.full(16000, np.nan, np.float32), "NaN or Inf"),
        ("long.wav", _tone(61.0), "longer than"),
    ],
)
def test_bad_audio_is_named(tmp_path: Path, name: str, samples: np.ndarray, fragment: str) -> None:
    path = tmp_path / name
    soundfile.write(path, samples, SAMPLE_RATE, subtype="FLOAT")
    with pytest.raises(AudioError, match=fragment) as err:
        audio.load_audio(path)
    assert name in str(err.value)


def test_unsupported_and_missing(tmp_path: Path) -> None:
    (tmp_path / "a.mp3").write_bytes(b"ID3")
    with pytest.raises(AudioError, match="unsupported format '.mp3'"):
        audio.load_audio(tmp_path / "a.mp3")
    (tmp_path / "junk.wav").write_bytes(b"not a wav file at all")
    with pytest.raises(AudioError, match="junk.wav: cannot read"):
        audio.load_audio(tmp_path / "junk.wav")
    with pytest.raises(FileNotFoundError, match="missing.wav"):
        audio.load_audio(tmp_path / "missing.wav")


def test_too_low_rate(tmp_path: Path) -> None:
    soundfile.write(tmp_path / "low.wav", _tone(1.0, 4000, 300.0), 4000)
    with pytest.raises(AudioError, match="too low"):
        audio.load_audio(tmp_path / "low.wav")


@pytest.mark.parametrize("snr_db", [20.0, 5.0, 0.0, -5.0])
def test_mix_at_snr(snr_db: float) -> None:
    rng = np.random.default_rng(1)
    speech = _tone(2.0, amp=0.1)
    noise_bed = noise.white(3.0, rng)
    mixed = audio.mix_at_snr(speech, noise_bed, snr_db, rng, peak=10.0)  # no rescaling
    residual = mixed - speech
    measured = 10 * np.log10(audio.power(speech) / audio.power(residual))
    assert measured == pytest.approx(snr_db, abs=0.05)


def test_noise_generators() -> None:
    rng = np.random.default_rng(0)
    for kind in ("white", "wind", "motor"):
        x = noise.make_noise(kind, 2.0, rng)
        assert x.shape == (2 * SAMPLE_RATE,)
        assert np.sqrt(np.mean(x**2)) == pytest.approx(1.0, rel=1e-3)
    spectrum = np.abs(np.fft.rfft(noise.wind(4.0, rng))) ** 2
    freqs = np.fft.rfftfreq(4 * SAMPLE_RATE, 1 / SAMPLE_RATE)
    assert spectrum[freqs < 500].sum() > 0.8 * spectrum.sum()  # wind is low-frequency
    with pytest.raises(ValueError, match="noise type"):
        noise.make_noise("rain", 1.0, rng)


def test_motor_tones_follow_the_gear_ratio() -> None:
    rng = np.random.default_rng(0)
    slow = noise.motor(4.0, rng, noise.MotorNoiseParams(gear_ratio=3.0, impact_level=0.0))
    fast = noise.motor(4.0, rng, noise.MotorNoiseParams(gear_ratio=7.75, impact_level=0.0))
    freqs = np.fft.rfftfreq(slow.size, 1 / SAMPLE_RATE)

    def centroid(x: np.ndarray) -> float:
        p = np.abs(np.fft.rfft(x)) ** 2
        return float((freqs * p).sum() / p.sum())

    # Rotor speed, hence the electrical and mesh tones, scales with the gear ratio.
    assert centroid(fast) > 1.8 * centroid(slow)


@needs_espeak
def test_vad_finds_speech_and_not_silence() -> None:
    speech = tts.speak("walk forward two metres")
    pad = np.zeros(SAMPLE_RATE, np.float32)
    clip = np.concatenate([pad, speech, pad])
    span = audio.speech_span(clip)
    assert span is not None
    assert span[0] < SAMPLE_RATE + 0.1 * SAMPLE_RATE and span[0] > 0.5 * SAMPLE_RATE
    quiet = 1e-3 * np.random.default_rng(0).standard_normal(2 * SAMPLE_RATE).astype(np.float32)
    assert audio.speech_span(quiet) is None


def test_highpass_removes_rumble() -> None:
    rumble = _tone(1.0, freq=30.0)
    voice_band = _tone(1.0, freq=1000.0)
    out = denoise.highpass(rumble + voice_band, 100.0)
    assert audio.power(out - voice_band) < 0.01 * audio.power(rumble)
    with pytest.raises(ValueError, match="cutoff_hz"):
        denoise.highpass(rumble, 9000.0)
