"""Noise suppression before recognition: a high-pass filter against wind and motor rumble, then
spectral gating with the noisereduce package. The benchmark measures whether it helps each
engine; the pipeline's config turns each stage on or off."""

from __future__ import annotations

import numpy as np

from irondog.voice.audio import SAMPLE_RATE


def highpass(samples: np.ndarray, cutoff_hz: float = 100.0) -> np.ndarray:
    """4th-order Butterworth high-pass of (n,) 16 kHz audio (speech energy is above 100 Hz)."""
    from scipy.signal import butter, sosfiltfilt

    if not 0 < cutoff_hz < SAMPLE_RATE / 2:
        raise ValueError(f"cutoff_hz must be in (0, {SAMPLE_RATE // 2}), got {cutoff_hz}")
    sos = butter(4, cutoff_hz, "high", fs=SAMPLE_RATE, output="sos")
    return sosfiltfilt(sos, samples).astype(np.float32)


def spectral_gate(
    samples: np.ndarray, stationary: bool = False, strength: float = 0.8
) -> np.ndarray:
    """noisereduce's spectral gating of (n,) 16 kHz audio; ``strength`` is prop_decrease."""
    import noisereduce

    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength must be in [0, 1], got {strength}")
    out = noisereduce.reduce_noise(
        y=samples, sr=SAMPLE_RATE, stationary=stationary, prop_decrease=strength, n_jobs=1
    )
    return np.asarray(out, dtype=np.float32)


def enhance(
    samples: np.ndarray,
    highpass_hz: float | None = 100.0,
    gate: bool = True,
    strength: float = 0.8,
) -> np.ndarray:
    """High-pass then spectral gating (each optional); output has the input's peak level."""
    out = samples.astype(np.float32)
    if highpass_hz:
        out = highpass(out, highpass_hz)
    if gate:
        out = spectral_gate(out, strength=strength)
    peak_in = float(np.max(np.abs(samples)))
    peak_out = float(np.max(np.abs(out)))
    if peak_out > 0:
        out = out * (peak_in / peak_out)
    return out.astype(np.float32)
