"""Text to speech for evaluation sets and babble noise.

Two engines, kept apart: espeak-ng (the training side: the parser's corpus, the Whisper
adapter and the development sets are voiced by it) and festival (held out: only the held-out
evaluation and its babble use it, see ``evalset.heldout_voiced``). Both are Debian packages.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from pathlib import Path

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


# festival voices (Debian festvox-kallpc16k, festvox-kdlpc16k, festvox-us-slt-hts): two male
# diphone voices and a female HTS voice, none used for training or for choosing settings.
FESTIVAL_VOICES = ("kal_diphone", "ked_diphone", "cmu_us_slt_arctic_hts")


def have_festival() -> bool:
    """Whether festival's text2wave is on PATH."""
    return shutil.which("text2wave") is not None


def speak_festival(text: str, voice: str = "kal_diphone", stretch: float = 1.0) -> np.ndarray:
    """Synthesize ``text`` with festival: (n,) float32 mono at 16 kHz.

    ``stretch`` scales every duration (festival's Duration_Stretch; > 1 is slower speech).
    """
    import soundfile

    if not have_festival():
        raise RuntimeError(
            "festival is not installed (Debian packages festival and its festvox voices; "
            "see install.sh)"
        )
    if voice not in FESTIVAL_VOICES:
        raise ValueError(f"festival voice must be one of {FESTIVAL_VOICES}, got {voice!r}")
    if not 0.5 <= stretch <= 2.0:
        raise ValueError(f"stretch must be 0.5..2.0, got {stretch}")
    with tempfile.TemporaryDirectory(prefix="irondog_tts_") as tmp:
        text_path, wav_path = Path(tmp) / "in.txt", Path(tmp) / "out.wav"
        text_path.write_text(text + "\n")
        # The parameter must be set inside one (begin ...) with the voice, after it is chosen.
        setup = f"(begin (voice_{voice}) (Parameter.set 'Duration_Stretch {stretch:.3f}))"
        result = subprocess.run(
            ["text2wave", "-o", str(wav_path), "-eval", setup, str(text_path)],
            capture_output=True,
            check=False,
            timeout=60,
        )
        if result.returncode != 0 or not wav_path.is_file() or wav_path.stat().st_size < 100:
            raise RuntimeError(
                f"festival failed for voice {voice!r}: {result.stderr.decode()[:200]}"
            )
        data, rate = soundfile.read(wav_path, dtype="float32")
    return to_mono_16k(data, rate, f"festival {voice}")
