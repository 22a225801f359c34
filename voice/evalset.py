"""Reproducible spoken evaluation sets.

- The development set (``held_out_phrasings``, ``chatter``, ``noise_beds``): phrasings from a
  seed the parser never trained on, read by espeak-ng voices at several speeds and pitches,
  noise beds of the training kinds (white, babble, wind, motor). Settings were chosen on it,
  so it is a development figure.
- The held-out set (``heldout_voiced``, ``heldout_noise_beds``): voices of another engine
  (festival), noise beds of other recordings and of a kind no training set has (street),
  babble of other voices and sentences. Nothing trains on it or chooses a setting with it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np

from irondog.voice import audio, corpus, noise, tts
from irondog.voice.commands import Command
from irondog.voice.pipeline import refused_by_grounding_alone

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
    speed: int  # words per minute (espeak-ng)
    pitch: int  # 0..99 (espeak-ng)
    engine: str = "espeak-ng"  # "kokoro" (training speech) or "festival" (held out)
    stretch: float = 1.0  # festival's and Kokoro's duration scale (> 1 is slower)


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


def kokoro_voiced(
    text: str,
    command: Command | None,
    rng: random.Random,
    styles: tuple[str, ...] = tts.KOKORO_VOICES,
) -> Utterance:
    """``text`` read by Kokoro: one of ``styles`` or, half the time, a mix of two of them (a
    speaker between the two), espeak-ng's US or British phonemes, duration scale 0.8-1.25."""
    accent = rng.choice(tts.KOKORO_ACCENTS)
    if len(styles) > 1 and rng.random() < 0.5:
        a, b = rng.sample(styles, 2)
        voice = f"{accent}:{a}+{b}@{rng.uniform(0.2, 0.8):.2f}"
    else:
        voice = f"{accent}:{rng.choice(styles)}"
    return Utterance(text, command, voice, 0, 0, engine="kokoro", stretch=rng.uniform(0.8, 1.25))


def _speak(utt: Utterance) -> np.ndarray:
    if utt.engine == "festival":
        return tts.speak_festival(utt.text, utt.voice, utt.stretch)
    if utt.engine == "kokoro":
        return tts.speak_kokoro(utt.text, utt.voice, 1.0 / utt.stretch)
    return tts.speak(utt.text, utt.voice, utt.speed, utt.pitch)


def speak_cached(utt: Utterance, cache: Path | None) -> np.ndarray:
    """Synthesise an utterance (cached as wav under ``cache`` when given)."""
    if cache is None:
        return _speak(utt)
    fields = f"{utt.text}|{utt.voice}|{utt.speed}|{utt.pitch}"
    if utt.engine != "espeak-ng":  # the espeak-ng keys stay as they were (existing caches)
        fields += f"|{utt.engine}|{utt.stretch:.3f}"
    key = hashlib.sha1(fields.encode()).hexdigest()
    path = cache / f"{key[:16]}.wav"
    if path.is_file():
        return audio.load_audio(path)
    samples = _speak(utt)
    cache.mkdir(parents=True, exist_ok=True)
    audio.save_wav(path, samples)
    return audio.load_audio(path)


def noise_beds(seconds: float = 40.0, seed: int = EVAL_SEED) -> dict[str, np.ndarray]:
    """One bed per noise type, cut at random offsets by ``audio.mix_at_snr``."""
    rng = np.random.default_rng(seed)
    return {kind: noise.make_noise(kind, seconds, rng) for kind in noise.NOISE_TYPES}


def stream_with_pauses(
    clips: list[np.ndarray], pause_s: float = 1.0
) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Clips laid end to end with ``pause_s`` of silence before, between and after them, as
    one stream for the streaming path: (stream, [(start s, end s) of each clip])."""
    gap = np.zeros(int(pause_s * audio.SAMPLE_RATE), np.float32)
    pieces, spans, at = [gap], [], gap.size
    for clip in clips:
        spans.append((at / audio.SAMPLE_RATE, (at + clip.size) / audio.SAMPLE_RATE))
        pieces += [clip.astype(np.float32), gap]
        at += clip.size + gap.size
    return np.concatenate(pieces), spans


def heard_within(heard: list, span: tuple[float, float], lead_s: float = 0.5) -> list:
    """The results of ``heard`` ((start s, Result) pairs from ``VoicePipeline.stream``) whose
    utterance starts inside ``span``, or up to ``lead_s`` before it (the VAD's lead-in)."""
    start, end = span
    return [result for at, result in heard if start - lead_s <= at < end]


def without_gates(heard: list) -> list:
    """``heard`` as it would be with every reject gate off: a refused command accepted (for a
    before/after figure from one run: the gates act after recognition and parsing)."""
    return [(at, dataclasses.replace(r, command=r.refused, text=r.signals["command"],
                                     reason="ok", detail="", refused=None))
            if r.refused is not None else (at, r) for at, r in heard]  # fmt: skip


def without_grounding(heard: list) -> list:
    """``heard`` as it would be with ``reject.grounded`` off and the other gates on: a command
    refused by that gate alone accepted."""
    let_through = without_gates(heard)
    return [
        again if refused_by_grounding_alone(kept[1]) else kept
        for kept, again in zip(heard, let_through, strict=True)
    ]


class StreamItem(NamedTuple):
    """What the streaming path made of one item of a stream."""

    inside: list  # every Result whose utterance starts in the item's span
    accepted: list  # those understood as a command
    found: bool  # a command item: one accepted Result is exactly its command
    leaked: list  # a non-command item: (transcript, Whisper-prompt words not said) pairs


def judge_stream(
    heard: list, spans: list[tuple[float, float]], expected: list[tuple[str, Command | None]]
) -> list[StreamItem]:
    """Each item of a stream judged: ``heard`` from ``VoicePipeline.stream``, ``spans`` from
    ``stream_with_pauses``, ``expected`` (what was said, its command or None) per item."""
    from irondog.voice.asr import prompt_words_not_said
    from irondog.voice.commands import to_json

    out = []
    for span, (said, command) in zip(spans, expected, strict=True):
        inside = heard_within(heard, span)
        accepted = [r for r in inside if r.accepted]
        if command is None:
            leaked = [(r.transcript, sorted(extra)) for r in inside
                      if (extra := prompt_words_not_said(r.transcript, said))]  # fmt: skip
            out.append(StreamItem(inside, accepted, False, leaked))
        else:
            found = any(to_json(r.command) == to_json(command) for r in accepted)
            out.append(StreamItem(inside, accepted, found, []))
    return out


def with_silence(samples: np.ndarray, lead_s: float = 0.4, tail_s: float = 0.4) -> np.ndarray:
    """Pad a clip with silence so noise surrounds the speech, as a microphone would hear it."""
    lead = np.zeros(int(lead_s * audio.SAMPLE_RATE), np.float32)
    tail = np.zeros(int(tail_s * audio.SAMPLE_RATE), np.float32)
    return np.concatenate([lead, samples, tail])


def in_noise(
    speech: np.ndarray, bed: np.ndarray, snr_db: float, rng: np.random.Generator
) -> np.ndarray:
    """``speech`` padded with silence (``with_silence``) in ``bed`` at ``snr_db``, the SNR
    measured against the speech alone (``audio.mix_at_snr``)."""
    clip = with_silence(speech)
    return audio.mix_at_snr(clip, bed, snr_db, rng, speech_power=audio.power(speech))


# --- The held-out set -------------------------------------------------------------------------

HELDOUT_SEED = 20261203  # a seed no training or development set uses
HELDOUT_NOISE_TYPES = ("babble", "wind", "motor", "street")
# Babble sentences for the held-out beds: none is a training, development or chatter sentence.
HELDOUT_BABBLE_SENTENCES = (
    "the bakery on the high street closes early on sundays",
    "we lost the first match but won the second one easily",
    "have you seen the new exhibition at the museum yet",
    "the plumber said he would come round on tuesday morning",
    "my phone battery never lasts more than a day",
    "they painted the kitchen a very bright shade of yellow",
    "the library has moved to the building next to the station",
    "i still have to finish reading that book for the club",
    "the neighbours are having a party again this weekend",
    "it took us three hours to find a parking space",
    "she has been learning the piano since she was six",
    "the market sells the best cheese in the whole town",
)
STRETCHES = (0.9, 1.0, 1.15, 1.3)  # festival's duration scales: fast to slow speech
HTS_VOICES = ("cmu_us_slt_arctic_hts",)  # festival's HTS engine ignores Duration_Stretch


def heldout_voiced(
    items: list[tuple[str, Command | None]], seed: int = HELDOUT_SEED
) -> list[Utterance]:
    """Each (text, command) read by a festival voice (round robin, so every voice has a
    share) at a duration scale drawn from ``STRETCHES``."""
    rng = random.Random(seed)
    out = []
    for i, (text, command) in enumerate(items):
        voice = tts.FESTIVAL_VOICES[i % len(tts.FESTIVAL_VOICES)]
        stretch = 1.0 if voice in HTS_VOICES else rng.choice(STRETCHES)
        out.append(Utterance(text, command, voice, 0, 0, engine="festival", stretch=stretch))
    return out


def espeak_voiced(
    items: list[tuple[str, Command | None]], seed: int = HELDOUT_SEED
) -> list[Utterance]:
    """The same items read by the development espeak-ng voices, for a side-by-side figure."""
    rng = random.Random(seed)
    return [_voiced(text, command, rng) for text, command in items]


def _festival_talker(text: str, rng: np.random.Generator) -> np.ndarray:
    voice = tts.FESTIVAL_VOICES[int(rng.integers(len(tts.FESTIVAL_VOICES)))]
    return tts.speak_festival(text, voice, float(rng.choice(STRETCHES)))


def heldout_noise_beds(
    seconds: float = 40.0, seed: int = HELDOUT_SEED, cache: Path | None = None
) -> dict[str, np.ndarray]:
    """One bed per held-out kind: babble of festival voices reading HELDOUT_BABBLE_SENTENCES,
    wind and street from a held-out seed, and motor noise of a faster gait (0.4 s period
    against the development beds' 0.5 s), so no bed is a recording training has heard.
    Beds are cached as .npy under ``cache`` (babble takes a minute to synthesise)."""
    makers = {
        "babble": lambda s, r: noise.babble(
            s, r, sentences=HELDOUT_BABBLE_SENTENCES, talker=_festival_talker
        ),
        "wind": noise.wind,
        "motor": lambda s, r: noise.motor(s, r, noise.MotorNoiseParams(gait_period_s=0.4)),
        "street": noise.street,
    }
    beds = {}
    for kind in HELDOUT_NOISE_TYPES:
        kind_rng = np.random.default_rng([seed, HELDOUT_NOISE_TYPES.index(kind)])
        path = None if cache is None else cache / f"heldout_bed_{kind}_{seed}_{seconds:g}s.npy"
        if path is not None and path.is_file():
            beds[kind] = np.load(path)
            continue
        beds[kind] = makers[kind](seconds, kind_rng)
        if path is not None:  # float32 as it is: a 16-bit wav would clip unit-RMS noise
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, beds[kind])
    return beds
