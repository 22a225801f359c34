"""A reproducible spoken evaluation set: held-out phrasings read by espeak-ng voices at several
speeds and pitches, noise beds (white, babble, wind, motor) and non-command speech.

Phrasings come from a seed the parser never trained on, and any phrasing whose text also
appears in the training corpus is skipped, so every evaluation text is held out.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from irondog.voice import audio, corpus, noise, tts
from irondog.voice.commands import Command

EVAL_SEED = 20261123
EVAL_RESERVED = 1000  # held-out phrasings that training-side data must avoid

# Non-command speech for false-accept tests: none of it is in the training corpus.
CHATTER = (
    "so then she told me the whole story about the wedding",
    "i was thinking we could try that new place on the corner",
    "honestly the best part of the holiday was the food",
    "did you hear what happened at the school on thursday",
    "we should really book the tickets before they sell out",
    "i have no idea what he meant by that comment",
    "let me know when you are free for a chat",
    "the children played in the sand for most of the afternoon",
    "my grandmother grew tomatoes in the back garden",
    "there is a long queue at the ice cream van",
    "he always parks his bike right outside the door",
    "the concert starts at eight so we should leave at seven",
    "look how big that oak tree has grown",
    "can you remember the name of that restaurant",
    "it was much colder yesterday than today",
    "my left shoe has a hole in it",
    "the bus goes straight to the city centre",
    "she turned twenty last week",
    "we sat by the lake and watched the boats",
    "i will come back for my jacket later",
)


@dataclasses.dataclass(frozen=True)
class Utterance:
    """One spoken evaluation item; command None for non-command speech."""

    text: str
    command: Command | None
    voice: str
    speed: int  # words per minute
    pitch: int  # 0..99


def _candidates(rng: random.Random) -> Iterator[tuple[str, Command]]:
    while True:
        command = corpus.sample_command(rng)
        yield corpus.phrase(command, rng, disfluency=0.3), command


def held_out_phrasings(count: int, training_texts: set[str] | None = None) -> list[Utterance]:
    """``count`` held-out phrasings with a voice, speed and pitch each."""
    rng = random.Random(EVAL_SEED)
    seen = set(training_texts or ())
    out: list[Utterance] = []
    for text, command in _candidates(rng):
        if len(out) >= count:
            break
        if text in seen:
            continue
        seen.add(text)
        out.append(_voiced(text, command, rng))
    return out


def reserved_texts(training_texts: set[str], count: int = EVAL_RESERVED) -> set[str]:
    """The texts of the first ``count`` held-out phrasings given today's training texts.

    Training-side data added later (Whisper transcripts for the parser, calibration sets)
    skips these, so it never contains an evaluation phrasing, and adding it leaves the
    evaluation set (which skips training texts) exactly as it was.
    """
    return {u.text for u in held_out_phrasings(count, training_texts)}


def chatter() -> list[Utterance]:
    """The non-command sentences, voiced."""
    rng = random.Random(EVAL_SEED + 1)
    return [_voiced(text, None, rng) for text in CHATTER]


def _voiced(text: str, command: Command | None, rng: random.Random) -> Utterance:
    return Utterance(
        text, command, rng.choice(tts.VOICES), rng.randint(130, 200), rng.randint(30, 70)
    )


def speak_cached(utt: Utterance, cache: Path | None) -> np.ndarray:
    """Synthesise an utterance (cached as wav under ``cache`` when given)."""
    if cache is None:
        return tts.speak(utt.text, utt.voice, utt.speed, utt.pitch)
    key = hashlib.sha1(f"{utt.text}|{utt.voice}|{utt.speed}|{utt.pitch}".encode()).hexdigest()
    path = cache / f"{key[:16]}.wav"
    if path.is_file():
        return audio.load_audio(path)
    samples = tts.speak(utt.text, utt.voice, utt.speed, utt.pitch)
    cache.mkdir(parents=True, exist_ok=True)
    audio.save_wav(path, samples)
    return audio.load_audio(path)


def noise_beds(seconds: float = 40.0, seed: int = EVAL_SEED) -> dict[str, np.ndarray]:
    """One bed per noise type, cut at random offsets by ``audio.mix_at_snr``."""
    rng = np.random.default_rng(seed)
    return {kind: noise.make_noise(kind, seconds, rng) for kind in noise.NOISE_TYPES}


def with_silence(samples: np.ndarray, lead_s: float = 0.4, tail_s: float = 0.4) -> np.ndarray:
    """Pad a clip with silence so noise surrounds the speech, as a microphone would hear it."""
    lead = np.zeros(int(lead_s * audio.SAMPLE_RATE), np.float32)
    tail = np.zeros(int(tail_s * audio.SAMPLE_RATE), np.float32)
    return np.concatenate([lead, samples, tail])
