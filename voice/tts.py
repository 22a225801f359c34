"""Text to speech with Debian's espeak-ng, for evaluation sets and babble noise."""

from __future__ import annotations

import io
import shutil
import subprocess

import numpy as np

from irondog.voice.audio import to_mono_16k

# espeak-ng voices used for evaluation (all ship with Debian's espeak-ng-data).
VOICES = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-us-nyc", "en-029",
          "en-us+f3", "en-gb+f2", "en-us+m3", "en-gb-x-gbclan")  # fmt: skip


def have_espeak() -> bool:
    """Whether the espeak-ng program is on PATH."""
    return shutil.which("espeak-ng") is not None


def speak(text: str, voice: str = "en-us", speed: int = 160, pitch: int = 50) -> np.ndarray:
    """Synthesize ``text``: (n,) float32 mono at 16 kHz. speed in words/min, pitch 0..99."""
    import soundfile

    if not have_espeak():
        raise RuntimeError("espeak-ng is not installed (Debian package espeak-ng; see install.sh)")
    if not 80 <= speed <= 450 or not 0 <= pitch <= 99:
        raise ValueError(f"speed must be 80..450 and pitch 0..99, got {speed}, {pitch}")
    result = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", text],
        capture_output=True,
        check=False,
        timeout=60,
    )
    if result.returncode != 0 or not result.stdout:
        raise RuntimeError(f"espeak-ng failed for voice {voice!r}: {result.stderr.decode()[:200]}")
    data, rate = soundfile.read(io.BytesIO(result.stdout), dtype="float32")
    return to_mono_16k(data, rate, f"espeak-ng {voice}")
