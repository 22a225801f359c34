"""Audio input: load and validate wav/flac (soundfile), resample to 16 kHz mono, voice-activity
detection (webrtcvad), and mixing noise at a given SNR.

Documented handling of awkward input:

- another sample rate: resampled to 16 kHz (scipy's polyphase resampler);
- stereo or more channels: averaged to mono;
- ``.raw`` files: headerless signed 16-bit little-endian mono at 16 kHz (pocketsphinx's form);
- empty, silent (peak below -60 dBFS), clipped (over 1% of samples at full scale), NaN or Inf
  samples, longer than 60 s, or a format soundfile cannot read: ``AudioError`` naming the file.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16_000  # Hz, what every engine here consumes
MAX_SECONDS = 60.0
SILENCE_PEAK = 1e-3  # -60 dBFS
CLIP_LEVEL = 0.999
CLIP_FRACTION = 0.01
SUPPORTED = (".wav", ".flac", ".raw")


class AudioError(ValueError):
    """Audio that cannot be used; the message names the file and the problem."""


def resample(samples: np.ndarray, rate: int, target: int = SAMPLE_RATE) -> np.ndarray:
    """Resample (n,) float audio from ``rate`` to ``target`` Hz."""
    if rate == target:
        return samples.astype(np.float32)
    from scipy.signal import resample_poly

    g = math.gcd(int(rate), int(target))
    return resample_poly(samples, target // g, int(rate) // g).astype(np.float32)


STRETCH_RANGE = (0.5, 2.0)  # stretch factors stretched() takes (asr.stretch is checked by it)


def stretched(samples: np.ndarray, factor: float) -> np.ndarray:
    """(n,) 16 kHz audio made ``factor`` times as long by resampling: 1.1 plays it 10% slower
    and 10% lower, as a slower, deeper voice would say it (the recogniser hears both)."""
    if factor == 1.0:
        return samples
    lo, hi = STRETCH_RANGE
    if not lo <= factor <= hi:
        raise ValueError(f"stretch factor must be in [{lo:g}, {hi:g}], got {factor}")
    from fractions import Fraction

    from scipy.signal import resample_poly

    ratio = Fraction(factor).limit_denominator(100)
    return resample_poly(samples, ratio.numerator, ratio.denominator).astype(np.float32)


def validate(
    samples: np.ndarray,
    source: str = "<audio>",
    max_seconds: float = MAX_SECONDS,
    allow_clipped: bool = False,
) -> np.ndarray:
    """Check (n,) float32 16 kHz audio; raise AudioError naming ``source`` and the problem."""
    samples = np.asarray(samples)
    if samples.ndim != 1:
        raise AudioError(f"{source}: expected mono (n,) samples, got shape {samples.shape}")
    if samples.size == 0:
        raise AudioError(f"{source}: the audio is empty (no samples)")
    if not np.all(np.isfinite(samples)):
        bad = int(np.sum(~np.isfinite(samples)))
        raise AudioError(f"{source}: {bad} samples are NaN or Inf")
    seconds = samples.size / SAMPLE_RATE
    if seconds > max_seconds:
        raise AudioError(f"{source}: {seconds:.1f} s is longer than the {max_seconds:g} s limit")
    peak = float(np.max(np.abs(samples)))
    if peak < SILENCE_PEAK:
        raise AudioError(f"{source}: the audio is silent (peak {peak:.2e}, below -60 dBFS)")
    clipped = float(np.mean(np.abs(samples) >= CLIP_LEVEL))
    if clipped > CLIP_FRACTION and not allow_clipped:
        raise AudioError(
            f"{source}: {100 * clipped:.1f}% of samples are at full scale (clipped audio; "
            "lower the recording gain)"
        )
    return samples.astype(np.float32)


def to_mono_16k(samples: np.ndarray, rate: int, source: str = "<audio>") -> np.ndarray:
    """(n,) or (n, channels) samples at ``rate`` -> (n,) float32 at 16 kHz."""
    samples = np.asarray(samples, dtype=np.float64)
    if samples.ndim == 2:
        samples = samples.mean(axis=1)  # stereo or more: average the channels
    elif samples.ndim != 1:
        raise AudioError(f"{source}: expected (n,) or (n, channels) samples, got {samples.shape}")
    if rate <= 0:
        raise AudioError(f"{source}: sample rate must be > 0, got {rate}")
    if rate < 8000:
        raise AudioError(f"{source}: sample rate {rate} Hz is too low for speech (need 8 kHz+)")
    return resample(samples, int(rate))


def load_audio(
    path: str | Path, max_seconds: float = MAX_SECONDS, allow_clipped: bool = False
) -> np.ndarray:
    """Read a wav, flac or raw file as validated (n,) float32 mono at 16 kHz."""
    import soundfile  # libsndfile bindings

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"audio file {path} does not exist")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise AudioError(f"{path}: unsupported format {suffix!r}; use one of {SUPPORTED}")
    if suffix == ".raw":
        data = np.fromfile(path, dtype="<i2").astype(np.float32) / 32768.0
        rate = SAMPLE_RATE
    else:
        try:
            data, rate = soundfile.read(str(path), dtype="float32", always_2d=False)
        except (soundfile.LibsndfileError, RuntimeError, TypeError) as err:
            raise AudioError(f"{path}: cannot read as {suffix[1:]} audio ({err})") from None
    if np.asarray(data).size == 0:
        raise AudioError(f"{path}: the audio is empty (no samples)")
    samples = to_mono_16k(data, int(rate), str(path))
    return validate(samples, str(path), max_seconds, allow_clipped)


def save_wav(path: str | Path, samples: np.ndarray, rate: int = SAMPLE_RATE) -> None:
    """Write (n,) float audio as 16-bit PCM wav."""
    import soundfile

    soundfile.write(str(path), np.clip(samples, -1.0, 1.0), rate, subtype="PCM_16")


def to_pcm16(samples: np.ndarray) -> bytes:
    """(n,) float audio in [-1, 1] -> little-endian int16 bytes."""
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


# ---------------------------------------------------------------------------------------------
# Voice activity (webrtcvad, from the webrtcvad-wheels package).

VAD_FRAME_S = 0.03  # s


def speech_frames(samples: np.ndarray, aggressiveness: int = 2) -> np.ndarray:
    """(n_frames,) bool: webrtcvad's speech decision per 30 ms frame of 16 kHz audio."""
    import webrtcvad

    if aggressiveness not in (0, 1, 2, 3):
        raise ValueError(f"vad aggressiveness must be 0..3, got {aggressiveness}")
    vad = webrtcvad.Vad(aggressiveness)
    frame = int(VAD_FRAME_S * SAMPLE_RATE)
    pcm = to_pcm16(samples)
    n = len(samples) // frame
    return np.array(
        [vad.is_speech(pcm[2 * i * frame : 2 * (i + 1) * frame], SAMPLE_RATE) for i in range(n)],
        dtype=bool,
    )


def speech_span(
    samples: np.ndarray, aggressiveness: int = 2, pad_s: float = 0.3, min_speech_s: float = 0.15
) -> tuple[int, int] | None:
    """(start, stop) sample indices around the detected speech, or None if there is none."""
    frames = speech_frames(samples, aggressiveness)
    frame = int(VAD_FRAME_S * SAMPLE_RATE)
    if frames.sum() * VAD_FRAME_S < min_speech_s:
        return None
    idx = np.flatnonzero(frames)
    pad = int(pad_s * SAMPLE_RATE)
    start = max(0, idx[0] * frame - pad)
    stop = min(len(samples), (idx[-1] + 1) * frame + pad)
    return int(start), int(stop)


# Audio that must not be guessed at: the pipeline reports it (``quality``) instead of parsing.
QUIET_DBFS = -50.0  # dB full scale: speech frames quieter than this (RMS) are too quiet to trust
MIN_SPEECH_S = 0.3  # s of speech frames in all: less is mostly silence, too little to be a command


def _dbfs(samples: np.ndarray) -> float:
    return 10.0 * float(np.log10(max(float(np.mean(np.square(samples, dtype=np.float64))), 1e-20)))


def quality(
    samples: np.ndarray, aggressiveness: int = 2, allow_clipped: bool = False
) -> tuple[str, str] | None:
    """(reason, detail) when validated (n,) 16 kHz audio is clipped, mostly silence or too
    quiet to be understood; None when it is fit to hear. "no speech" at all is left to the
    caller's VAD trim."""
    clipped = float(np.mean(np.abs(samples) >= CLIP_LEVEL))
    if clipped > CLIP_FRACTION and not allow_clipped:
        return "clipped", (f"{100 * clipped:.1f}% of samples are at full scale; lower the "
                           "recording gain")  # fmt: skip
    flags = speech_frames(samples, aggressiveness)
    if not flags.any():
        return None
    frame = int(VAD_FRAME_S * SAMPLE_RATE)
    speech_s = float(flags.sum()) * VAD_FRAME_S
    total_s = samples.size / SAMPLE_RATE
    if speech_s < MIN_SPEECH_S:
        return "mostly silence", f"{speech_s:.2f} s of speech in {total_s:.1f} s of audio"
    voiced = samples[: flags.size * frame].reshape(-1, frame)[flags]
    level = _dbfs(voiced)
    if level < QUIET_DBFS:
        return "too quiet", (f"speech at {level:.0f} dBFS, below {QUIET_DBFS:g} dBFS; speak "
                             "closer to the microphone or raise its gain")  # fmt: skip
    return None


# ---------------------------------------------------------------------------------------------
# Mixing.


def power(samples: np.ndarray) -> float:
    """Mean square of (n,) samples."""
    return float(np.mean(np.square(samples, dtype=np.float64)))


def mix_at_snr(
    speech: np.ndarray,
    noise: np.ndarray,
    snr_db: float,
    rng: np.random.Generator | None = None,
    peak: float = 0.9,
    speech_power: float | None = None,
) -> np.ndarray:
    """Add ``noise`` (tiled or cropped at a random offset) to ``speech`` at ``snr_db``.

    The SNR is measured over the whole clip, or against ``speech_power`` when given (the power
    of the speech alone, for a clip padded with silence); the result is scaled so its peak is at
    most ``peak``.
    """
    if not math.isfinite(snr_db):
        raise ValueError(f"snr_db must be finite, got {snr_db}")
    rng = rng if rng is not None else np.random.default_rng(0)
    if noise.size == 0 or power(noise) == 0.0:
        raise ValueError("noise must be non-empty and not all zeros")
    if noise.size < speech.size:
        noise = np.tile(noise, int(np.ceil(speech.size / noise.size)))
    start = int(rng.integers(0, noise.size - speech.size + 1))
    segment = noise[start : start + speech.size].astype(np.float64)
    reference = power(speech) if speech_power is None else speech_power
    scale = math.sqrt(reference / (power(segment) * 10.0 ** (snr_db / 10.0)))
    mixture = speech + scale * segment
    top = float(np.max(np.abs(mixture)))
    if top > peak:
        mixture = mixture * (peak / top)
    return mixture.astype(np.float32)
